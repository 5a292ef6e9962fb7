/*
 * register.c: claiming an invitation, and changing a password.
 *
 * Registration checks the token, then the password policy, then makes
 * fresh key pairs, so that a spent token and an old backup open
 * nothing.  The token is checked again and consumed in the transaction
 * that installs the new keys.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "smail.h"

/* Is the invitation TOKEN pending for A?  77 with the reason if not. */
static int
invitation_ok(const sm_portal *p, const struct sm_account *a,
    const unsigned char raw[32])
{
	unsigned char h[32];
	char when[32];
	int ok;

	(void)p;
	if (a->state != SM_INVITED || !a->has_inv)
		return sm_err(EX_NOPERM, "%s: wrong token (no invitation is "
		    "pending)", a->addr);
	sm_token_hash(h, SM_TOKEN_INVITE, a->canon, raw);
	ok = crypto_verify_32(h, a->inv_hash) == 0;
	sodium_memzero(h, sizeof h);
	if (!ok)
		return sm_err(EX_NOPERM, "%s: wrong invitation token", a->addr);
	if (a->inv_expires <= sm_now()) {
		sm_fmt_time(a->inv_expires, when);
		return sm_err(EX_NOPERM, "%s: the invitation expired on %s; ask "
		    "the sender for a new one", a->addr, when);
	}
	return 0;
}

int
sm_register(sm_portal *p, const struct sm_opts *o, const char *addr,
    const char *name, const unsigned char raw[32], const char *code_file)
{
	struct sm_account a, cur;
	struct sm_keys *old = NULL, *k = NULL;
	struct sm_pubkeys pub;
	struct sm_code *code = NULL;
	unsigned char key[32], *w = NULL, S[32];
	char *canon, *pw = NULL, *skel = NULL, entry[128], *first = NULL, *last = NULL;
	int rc;

	memset(&a, 0, sizeof a);
	memset(&cur, 0, sizeof cur);
	memset(entry, 0, sizeof entry);
	if ((rc = sm_addr_canon(addr, &canon)) != 0)
		return rc;
	if ((rc = sm_store_begin(p, 0)) != 0)
		goto out;
	rc = sm_account_get(p, canon, &a);
	sm_store_end(p);
	if (rc == EX_NOUSER)
		rc = sm_err(EX_NOUSER, "%s: no such account", addr);
	if (rc || (rc = invitation_ok(p, &a, raw)) != 0)
		goto out;

	/* The keys waiting under the token (and the access code, if the
	 * sender set one: a wrong one counts toward the code's lockout and
	 * does not spend the token; its Argon2id runs once it is counted). */
	old = sm_secret_alloc(sizeof *old);
	sm_token_key(key, SM_TOKEN_INVITE, canon, raw);
	if (a.has_code) {
		struct sm_account counted;
		char *text = NULL;
		if ((rc = sm_attempt_locked(p, &a, SM_ATTEMPT_CODE)) != 0 ||
		    (rc = sm_code_get(code_file, &text)) != 0)
			goto out;
		if ((rc = sm_attempt_count(p, canon, SM_ATTEMPT_CODE,
		    &counted)) != 0) {
			sm_secret_free(text);
			goto out;
		}
		sm_account_free(&counted);
		code = sm_secret_alloc(sizeof *code);
		rc = sm_code_key(p, text, code, &a.code_pw);
		sm_secret_free(text);
		if (rc)
			goto out;
		sm_code_mix(key, code->A);
	}
	if (sm_unwrap(old, a.inv_wrap, key, "smail-invite-v1", canon, &a.pub) != 0) {
		rc = a.has_code ? sm_attempt_failed(p, canon, SM_ATTEMPT_CODE) :
		    sm_err(EX_NOPERM, "%s: the invitation does not open", addr);
		goto out;
	}
	if (a.has_code &&
	    (rc = sm_attempt_passed(p, canon, SM_ATTEMPT_CODE)) != 0)
		goto out;

	if (name) {
		if ((rc = sm_name_check(name)) != 0)
			goto out;
		sm_name_split(name, &first, &last);
	} else {
		first = a.first ? sm_xstrdup(a.first) : NULL;
		last = a.last ? sm_xstrdup(a.last) : NULL;
	}
	if ((rc = sm_read_password(o, "New password: ", 1, &pw)) != 0)
		goto out;
	if ((rc = sm_policy_check(p, pw, a.addr, first, last)) != 0)
		goto out;

	/* Fresh keys, wrapped under the password and sealed for recovery. */
	k = sm_secret_alloc(sizeof *k);
	w = sm_secret_alloc(32);
	sm_keys_generate(canon, &pub, k);
	sm_pwparams_new(&a.pw, p->cfg.pwhash);
	if ((rc = sm_pwhash_key(w, pw, &a.pw)) != 0)
		goto out;
	sm_skeleton(pw, &skel);
	if ((rc = sm_history_entry(skel, entry)) != 0)
		goto out;

	if ((rc = sm_store_begin(p, 1)) != 0)
		goto out;
	rc = sm_account_get(p, canon, &cur);
	if (rc == 0)
		rc = invitation_ok(p, &cur, raw);
	if (rc == 0 && memcmp(cur.pub.box_pk, a.pub.box_pk, 32) != 0)
		rc = sm_err(EX_NOPERM, "%s: the invitation changed meanwhile", addr);
	/* The messages waiting under the old key move to the new one. */
	if (rc == 0)
		rc = sm_inbox_rekey(p, canon, old, pub.box_pk);
	if (rc) {
		sm_store_end(p);
		goto out;
	}
	cur.state = SM_ACTIVE;
	cur.pub = pub;
	cur.has_pw = 1;
	cur.pw = a.pw;
	sm_wrap(cur.pw_wrap, w, "smail-pw-v1", canon, &pub, k);
	sm_seal(cur.rec_seal, p->recovery_pk, canon, &pub, k);
	cur.has_inv = 0;
	sodium_memzero(cur.inv_hash, sizeof cur.inv_hash);
	sodium_memzero(cur.inv_wrap, sizeof cur.inv_wrap);
	cur.inv_expires = 0;
	cur.inv_renew = 0;
	cur.failed = 0;
	cur.lock_until = 0;
	cur.code_failed = 0;
	cur.code_lock_until = 0;
	cur.code_locks = 0;
	if (code)
		sm_code_check_make(&cur, code->A);
	sm_buf_free(&cur.hist);
	if ((rc = sm_history_add(&cur, k, entry)) != 0) {
		sm_store_end(p);
		goto out;
	}
	if (name) {
		free(cur.first);
		free(cur.last);
		cur.first = first;
		cur.last = last;
		first = last = NULL;
	}
	if ((rc = sm_session_create(p, &cur, k, S)) != 0 ||
	    (rc = sm_account_put(p, &cur)) != 0 ||
	    (rc = sm_audit(p, "register", canon, "")) != 0) {
		sm_store_end(p);
		goto out;
	}
	if ((rc = sm_store_commit(p)) != 0)
		goto out;
	rc = sm_session_file_write(p, canon, S);
	if (rc == 0)
		sm_note("%s: registered and signed in", cur.addr);
out:
	sodium_memzero(key, sizeof key);
	sodium_memzero(S, sizeof S);
	sodium_memzero(entry, sizeof entry);
	sm_freestr(skel);
	if (pw)
		sm_secret_free(pw);
	if (w)
		sm_secret_free(w);
	if (k)
		sm_secret_free(k);
	if (old)
		sm_secret_free(old);
	if (code)
		sm_secret_free(code);
	free(first);
	free(last);
	sm_account_free(&a);
	sm_account_free(&cur);
	free(canon);
	return rc;
}

static void
changed_mail(struct sm_mail *m, const char *addr, const char *how)
{
	char when[32];

	sm_fmt_time(sm_now(), when);
	m->to = addr;
	m->subject = "Your secure mail password was changed";
	sm_buf_printf(&m->body, "The password of %s on the secure mail portal "
	    "was %s on %s.\nSessions open at the time were signed out.\n\n", addr, how, when);
	sm_buf_puts(&m->body, "If you did not do this, contact the portal's "
	    "operator at once.\nThis notice holds no message content.\n");
}

int
sm_password_changed_mail(sm_portal *p, const char *addr, const char *how)
{
	struct sm_mail m = { 0 };
	char *name = NULL;
	int rc;

	changed_mail(&m, addr, how);
	rc = sm_mail_stage(p, &m, &name);
	if (rc == 0)
		rc = sm_mail_post(p, name);
	sm_buf_free(&m.body);
	free(name);
	return rc;
}

int
sm_change_password(sm_portal *p, const struct sm_opts *o, const char *addr,
    const char *newfile, int newfd)
{
	struct sm_account a, cur;
	struct sm_keys *k;
	struct sm_pwparams pp;
	unsigned char *w = NULL, nonce[24], S[32];
	char *canon = NULL, *old = NULL, *pw = NULL, *skel = NULL, *prompt;
	char entry[128];
	int rc;

	memset(&a, 0, sizeof a);
	memset(&cur, 0, sizeof cur);
	memset(entry, 0, sizeof entry);
	if ((rc = sm_addr_canon(addr, &canon)) != 0)
		return rc;
	k = sm_secret_alloc(sizeof *k);
	prompt = sm_xasprintf("Current password for %s: ", addr);
	rc = sm_password_verify(p, o, canon, prompt, &a, k, &old);
	free(prompt);
	if (rc)
		goto out;
	memcpy(nonce, a.pw_wrap, 24);
	if ((rc = sm_read_password_from(newfile, newfd, "New password: ", 1,
	    "--new-password-file or --new-password-fd", &pw)) != 0)
		goto out;
	/* Every broken rule is reported, the history's too. */
	rc = sm_policy_check(p, pw, a.addr, a.first, a.last);
	if (rc && rc != EX_DATAERR)
		goto out;
	sm_skeleton(pw, &skel);
	{
		int h = sm_history_check(&a, k, skel);
		if (h && (!rc || h != EX_DATAERR))
			rc = h;
	}
	if (rc)
		goto out;
	w = sm_secret_alloc(32);
	sm_pwparams_new(&pp, p->cfg.pwhash);
	if ((rc = sm_pwhash_key(w, pw, &pp)) != 0 ||
	    (rc = sm_history_entry(skel, entry)) != 0)
		goto out;

	if ((rc = sm_store_begin(p, 1)) != 0)
		goto out;
	if ((rc = sm_account_get(p, canon, &cur)) != 0)
		goto abort;
	if (sodium_memcmp(nonce, cur.pw_wrap, 24) != 0) {
		rc = sm_err(EX_NOPERM, "%s: the password changed meanwhile; try "
		    "again", addr);
		goto abort;
	}
	cur.pw = pp;
	sm_wrap(cur.pw_wrap, w, "smail-pw-v1", canon, &cur.pub, k);
	if ((rc = sm_history_add(&cur, k, entry)) != 0 ||
	    (rc = sm_sessions_wipe(p, &cur)) != 0 ||
	    (rc = sm_session_create(p, &cur, k, S)) != 0 ||
	    (rc = sm_account_put(p, &cur)) != 0)
		goto abort;
	if ((rc = sm_store_commit(p)) != 0)
		goto out;
	if ((rc = sm_session_file_write(p, canon, S)) != 0)
		goto out;
	sm_note("%s: password changed; other sessions were signed out", cur.addr);
	rc = sm_password_changed_mail(p, cur.addr, "changed");
	goto out;
abort:
	sm_store_end(p);
out:
	sodium_memzero(S, sizeof S);
	sodium_memzero(entry, sizeof entry);
	sm_freestr(skel);
	if (old)
		sm_secret_free(old);
	if (pw)
		sm_secret_free(pw);
	if (w)
		sm_secret_free(w);
	sm_secret_free(k);
	sm_account_free(&a);
	sm_account_free(&cur);
	free(canon);
	return rc;
}
