/*
 * reset.c: password reset (SPEC §2, §3).
 *
 * A request takes the new password, checks the policy (all but the
 * history, which is encrypted under the account's keys), and keeps a
 * fresh transfer key pair whose secret half is wrapped under a key
 * from Argon2id(new password).  Activation takes the token and the new
 * password again: opening the transfer key is the proof that it is the
 * requested one.  Then the account's keys come back through the
 * recovery key and are wrapped under the new password; they are the
 * same keys, so every message stays readable.
 *
 * Without the recovery key the activated request waits: the skeleton
 * of the new password is sealed to the recovery key, and
 * "smail-admin approve" checks it against the history and seals the
 * account's keys to the transfer key; the next login finishes.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "smail.h"

#define MAX_MISMATCH 3
#define MAILS_PER_DAY 3

static void
tsk_ad(sm_buf *ad, const char *canon, const unsigned char tpk[32])
{
	sm_buf_puts(ad, "smail-reset-v1");
	sm_buf_putc(ad, 0);
	sm_buf_puts(ad, canon);
	sm_buf_putc(ad, 0);
	sm_buf_put(ad, tpk, 32);
}

void
sm_reset_clear(struct sm_account *a)
{
	a->reset = SM_RESET_NONE;
	sodium_memzero(a->rs_hash, sizeof a->rs_hash);
	sodium_memzero(a->rs_tpk, sizeof a->rs_tpk);
	memset(&a->rs_pw, 0, sizeof a->rs_pw);
	a->rs_expires = 0;
	a->rs_mismatch = 0;
	sm_buf_free(&a->rs_tsk);
	sm_buf_free(&a->rs_skel);
	sm_buf_free(&a->rs_xfer);
}

/* Opens the transfer secret key with the password: 0, or 77 when the
 * password is not the requested one. */
static int
open_tsk(const struct sm_account *a, const char *pw, unsigned char *w,
    unsigned char tsk[32])
{
	sm_buf ad = { 0 }, out = { 0 };
	int rc;

	if ((rc = sm_pwhash_key(w, pw, &a->rs_pw)) != 0)
		return rc;
	tsk_ad(&ad, a->canon, a->rs_tpk);
	rc = sm_aead_open(&out, w, ad.p, ad.len, a->rs_tsk.p, a->rs_tsk.len);
	sm_buf_free(&ad);
	if (rc < 0 || out.len != 32) {
		sm_buf_free(&out);
		return EX_NOPERM;
	}
	memcpy(tsk, out.p, 32);
	sm_buf_free(&out);
	return 0;
}

static int
load(sm_portal *p, const char *addr, char **canon, struct sm_account *a, int write)
{
	int rc;

	memset(a, 0, sizeof *a);
	if (!*canon && (rc = sm_addr_canon(addr, canon)) != 0)
		return rc;
	if ((rc = sm_store_begin(p, write)) != 0)
		return rc;
	rc = sm_account_get(p, *canon, a);
	if (rc == EX_NOUSER)
		rc = sm_err(EX_NOUSER, "%s: no such account", addr);
	if (rc)
		sm_store_end(p);
	return rc;
}

static void
reset_mail(sm_portal *p, struct sm_mail *m, const char *addr,
    const char *token, int64_t expires)
{
	char when[32], *cmd;

	sm_fmt_time(expires, when);
	m->to = addr;
	m->subject = "Activate your new secure mail password";
	sm_buf_printf(&m->body, "A new password was requested for %s\non the "
	    "secure mail portal.  To activate it, run this and enter\nthe new "
	    "password again:\n\n", addr);
	cmd = sm_command_line(p, "smail-reset", "-t", token, addr, (char *)NULL);
	sm_buf_printf(&m->body, "    %s\n\n", cmd);
	sm_freestr(cmd);
	cmd = sm_command_line(p, "smail-reset", addr, (char *)NULL);
	sm_buf_printf(&m->body, "or pipe this whole mail into:\n\n    %s\n\n", cmd);
	free(cmd);
	sm_buf_printf(&m->body, "Your reset token, on its own:\n\n    %s\n\n", token);
	sm_buf_printf(&m->body, "The request expires on %s.  If you did not make "
	    "it,\nignore this mail: your password stays as it is.\n", when);
	sm_buf_puts(&m->body, "This notice holds no message content.\n");
}

static int
mails_today(const struct sm_account *a, int64_t now, int64_t *next)
{
	int i, n = 0;
	int64_t oldest = INT64_MAX;

	for (i = 0; i < 3; i++)
		if (a->rs_mails[i] > now - 86400) {
			n++;
			if (a->rs_mails[i] < oldest)
				oldest = a->rs_mails[i];
		}
	*next = n ? oldest + 86400 : now;
	return n;
}

/* A reset that waits for approve, or is approved and waits for the next
 * sign-in, has had its token and the new password already: a request,
 * which anyone may make, does not replace it. */
static int
reset_pending(const struct sm_account *a)
{
	if (a->reset == SM_RESET_WAITING)
		return sm_err(EX_TEMPFAIL, "%s: a reset waits for the operator's "
		    "approval (smail-admin approve); a new request cannot replace "
		    "it", a->addr);
	if (a->reset == SM_RESET_APPROVED)
		return sm_err(EX_TEMPFAIL, "%s: a reset was approved: sign in with "
		    "its new password to complete it; a new request cannot "
		    "replace it (the operator can end it: smail-admin "
		    "cancel-reset)", a->addr);
	return 0;
}

/*
 * smail-admin cancel-reset: the operator ends a reset that is pending,
 * waiting or approved, so that the user may request another (a user who
 * lost the new password of an approved reset has no other way out).
 * An approved reset has disabled the old password already: the account
 * then has none until its next reset is activated, which needs the
 * recovery key or approve.
 */
int
sm_reset_cancel(sm_portal *p, const char *addr)
{
	struct sm_account a;
	char *canon = NULL;
	int rc, nopw;

	if ((rc = load(p, addr, &canon, &a, 1)) != 0) {
		free(canon);
		return rc;
	}
	if (a.reset == SM_RESET_NONE) {
		sm_store_end(p);
		rc = sm_err(EX_NOINPUT, "%s: no reset is pending", addr);
		goto out;
	}
	nopw = !a.has_pw;
	sm_reset_clear(&a);
	if ((rc = sm_account_put(p, &a)) != 0 ||
	    (rc = sm_audit(p, "reset-cancel", a.canon, "")) != 0) {
		sm_store_end(p);
		goto out;
	}
	if ((rc = sm_store_commit(p)) != 0)
		goto out;
	if (nopw)
		sm_note("%s: reset cancelled; the approval had disabled the old "
		    "password, so the account has none until a new reset is "
		    "activated (smail-reset)", a.addr);
	else
		sm_note("%s: reset cancelled; the password stays as it was",
		    a.addr);
out:
	sm_account_free(&a);
	free(canon);
	return rc;
}

/* Checks the access code of A under its own lockout: 0 when right. */
static int
code_ok(sm_portal *p, const struct sm_account *a, const char *code_file)
{
	struct sm_account counted;
	struct sm_code *code = NULL;
	char *text = NULL;
	int rc;

	if ((rc = sm_attempt_locked(p, a, SM_ATTEMPT_CODE)) != 0 ||
	    (rc = sm_code_get(code_file, &text)) != 0)
		return rc;
	if ((rc = sm_attempt_count(p, a->canon, SM_ATTEMPT_CODE, &counted)) != 0)
		goto out;
	code = sm_secret_alloc(sizeof *code);
	if ((rc = sm_code_key(p, text, code, &counted.code_pw)) == 0)
		rc = sm_code_check_open(&counted, code->A) != 0 ?
		    sm_attempt_failed(p, a->canon, SM_ATTEMPT_CODE) :
		    sm_attempt_passed(p, a->canon, SM_ATTEMPT_CODE);
	sm_account_free(&counted);
out:
	if (code)
		sm_secret_free(code);
	sm_secret_free(text);
	return rc;
}

int
sm_reset_request(sm_portal *p, const struct sm_opts *o, const char *addr,
    const char *code_file)
{
	struct sm_account a, cur;
	unsigned char *w = NULL, tpk[32], *tsk = NULL, raw[32];
	char *canon = NULL, *pw = NULL, token[SM_TOKEN_CHARS + 1], *mailname = NULL;
	struct sm_mail m = { 0 };
	sm_buf ad = { 0 };
	struct sm_pwparams pp;
	int64_t next, now = sm_now();
	char when[32];
	int rc, i;

	memset(&cur, 0, sizeof cur);
	if ((rc = load(p, addr, &canon, &a, 0)) != 0)
		goto out;
	sm_store_end(p);
	if (a.state != SM_ACTIVE) {
		rc = sm_err(EX_NOPERM, "%s: not registered yet: claim the "
		    "invitation with smail-register", addr);
		goto out;
	}
	if ((rc = reset_pending(&a)) != 0)
		goto out;
	if (mails_today(&a, now, &next) >= MAILS_PER_DAY) {
		sm_fmt_time(next, when);
		rc = sm_err(EX_TEMPFAIL, "%s: at most %d reset mails a day; try "
		    "again after %s", addr, MAILS_PER_DAY, when);
		goto out;
	}
	/* Registered with an access code: a reset needs it too.  Wrong
	 * codes are counted on their own (a locked password does not stop
	 * the owner who knows the code), before the code's Argon2id. */
	if (a.has_code && (rc = code_ok(p, &a, code_file)) != 0)
		goto out;
	if ((rc = sm_read_password(o, "New password: ", 1, &pw)) != 0)
		goto out;
	if ((rc = sm_policy_check(p, pw, a.addr, a.first, a.last)) != 0)
		goto out;

	w = sm_secret_alloc(32);
	tsk = sm_secret_alloc(32);
	sm_pwparams_new(&pp, p->cfg.pwhash);
	if ((rc = sm_pwhash_key(w, pw, &pp)) != 0)
		goto out;
	crypto_box_keypair(tpk, tsk);

	if ((rc = load(p, addr, &canon, &cur, 1)) != 0)
		goto out;
	if ((rc = reset_pending(&cur)) != 0)
		goto abort;
	if (mails_today(&cur, now, &next) >= MAILS_PER_DAY) {
		sm_fmt_time(next, when);
		rc = sm_err(EX_TEMPFAIL, "%s: at most %d reset mails a day; try "
		    "again after %s", addr, MAILS_PER_DAY, when);
		goto abort;
	}
	sm_reset_clear(&cur);
	cur.reset = SM_RESET_REQUESTED;
	sm_token_new(SM_TOKEN_RESET, raw, token);
	sm_token_hash(cur.rs_hash, SM_TOKEN_RESET, canon, raw);
	cur.rs_expires = now + p->cfg.reset_ttl;
	cur.rs_pw = pp;
	memcpy(cur.rs_tpk, tpk, 32);
	tsk_ad(&ad, canon, tpk);
	sm_aead_seal(&cur.rs_tsk, w, ad.p, ad.len, tsk, 32);
	/* Remember this mail in place of the oldest. */
	for (i = 1; i < 3; i++)
		if (cur.rs_mails[i] < cur.rs_mails[0]) {
			int64_t t = cur.rs_mails[0];
			cur.rs_mails[0] = cur.rs_mails[i];
			cur.rs_mails[i] = t;
		}
	cur.rs_mails[0] = now;

	reset_mail(p, &m, cur.addr, token, cur.rs_expires);
	if ((rc = sm_mail_stage(p, &m, &mailname)) != 0)
		goto abort;
	if ((rc = sm_account_put(p, &cur)) != 0) {
		sm_mail_discard(p, mailname);
		goto abort;
	}
	if ((rc = sm_store_commit(p)) != 0) {
		sm_mail_discard(p, mailname);
		goto out;
	}
	if ((rc = sm_mail_post(p, mailname)) == 0)
		sm_note("%s: an activation token was mailed; follow it to set "
		    "the new password", cur.addr);
	goto out;
abort:
	sm_store_end(p);
out:
	sodium_memzero(raw, sizeof raw);
	sodium_memzero(token, sizeof token);
	sm_buf_free(&ad);
	sm_buf_free(&m.body);
	free(mailname);
	if (pw)
		sm_secret_free(pw);
	if (w)
		sm_secret_free(w);
	if (tsk)
		sm_secret_free(tsk);
	sm_account_free(&a);
	sm_account_free(&cur);
	free(canon);
	return rc;
}

/* Is the reset TOKEN pending for A?  77 with the reason if not. */
static int
token_ok(const struct sm_account *a, const unsigned char raw[32])
{
	unsigned char h[32];
	char when[32];
	int ok;

	if (a->reset != SM_RESET_REQUESTED)
		return sm_err(EX_NOPERM, "%s: wrong token (no reset is pending)",
		    a->addr);
	sm_token_hash(h, SM_TOKEN_RESET, a->canon, raw);
	ok = crypto_verify_32(h, a->rs_hash) == 0;
	sodium_memzero(h, sizeof h);
	if (!ok)
		return sm_err(EX_NOPERM, "%s: wrong reset token", a->addr);
	if (a->rs_expires <= sm_now()) {
		sm_fmt_time(a->rs_expires, when);
		return sm_err(EX_NOPERM, "%s: the reset request expired on %s; "
		    "request a new one", a->addr, when);
	}
	return 0;
}

/* Changes the pending request under the write lock, if it is still the
 * one with token hash HASH.  HOW: 1 count a try before Argon2id runs
 * (at the limit, cancel instead), -1 take one back, 2 after a mismatch
 * (cancel at the limit).  Tries under way count, so that activations
 * run at once cannot check more passwords than the limit. */
static int
mismatch(sm_portal *p, const char *addr, const unsigned char hash[32], int how,
    int *cancelled)
{
	struct sm_account a;
	char *canon = NULL;
	int rc;

	rc = load(p, addr, &canon, &a, 1);
	free(canon);
	if (rc)
		return rc;
	if (a.reset != SM_RESET_REQUESTED || sodium_memcmp(a.rs_hash, hash, 32) != 0) {
		sm_store_end(p);
		sm_account_free(&a);
		return sm_err(EX_NOPERM, "%s: the reset request changed meanwhile",
		    addr);
	}
	if (how == 1 && a.rs_mismatch >= MAX_MISMATCH) {
		/* As many tries as a request allows are counted already (under
		 * way, wrong, or killed): this one does not run, it cancels. */
		sm_reset_clear(&a);
		*cancelled = 1;
		if ((rc = sm_account_put(p, &a)) == 0 &&
		    (rc = sm_store_commit(p)) == 0)
			rc = sm_err(EX_NOPERM, "%s: %d tries of the new password "
			    "were made already: the request is cancelled; request "
			    "a new one", a.addr, MAX_MISMATCH);
		else
			sm_store_end(p);
		sm_account_free(&a);
		return rc;
	}
	if (how == 2)
		sm_audit(p, "login-failed", a.canon, "");
	if (how == 1)
		a.rs_mismatch++;
	else if (how == -1 && a.rs_mismatch > 0)
		a.rs_mismatch--;
	else if (how == 2 && a.rs_mismatch >= MAX_MISMATCH) {
		sm_reset_clear(&a);
		*cancelled = 1;
	}
	if ((rc = sm_account_put(p, &a)) == 0)
		rc = sm_store_commit(p);
	else
		sm_store_end(p);
	sm_account_free(&a);
	return rc;
}

int
sm_reset_activate(sm_portal *p, const struct sm_opts *o, const char *addr,
    const unsigned char raw[32])
{
	struct sm_account a, cur;
	struct sm_keys *k = NULL;
	unsigned char *w = NULL, *tsk = NULL, *rsk = NULL, hash[32];
	char *canon = NULL, *pw = NULL, *skel = NULL, entry[128];
	int rc, cancelled = 0, have_rk;

	memset(&cur, 0, sizeof cur);
	memset(entry, 0, sizeof entry);
	if ((rc = load(p, addr, &canon, &a, 0)) != 0)
		goto out;
	sm_store_end(p);
	if ((rc = token_ok(&a, raw)) != 0)
		goto out;
	memcpy(hash, a.rs_hash, 32);
	if ((rc = sm_read_password(o, "New password, again: ", 0, &pw)) != 0)
		goto out;

	/* Count the attempt before Argon2id runs. */
	if ((rc = mismatch(p, addr, hash, 1, &cancelled)) != 0)
		goto out;
	w = sm_secret_alloc(32);
	tsk = sm_secret_alloc(32);
	rc = open_tsk(&a, pw, w, tsk);
	if (rc == EX_NOPERM) {
		if ((rc = mismatch(p, addr, hash, 2, &cancelled)) != 0)
			goto out;
		if (cancelled)
			rc = sm_err(EX_NOPERM, "%s: not the password that was "
			    "requested; after %d tries the request is cancelled",
			    a.addr, MAX_MISMATCH);
		else
			rc = sm_err(EX_NOPERM, "%s: not the password that was "
			    "requested", a.addr);
		goto out;
	}
	if (rc)
		goto out;
	sm_skeleton(pw, &skel);

	rsk = sm_secret_alloc(32);
	if ((have_rk = sm_recovery_key_load(p, NULL, rsk)) < 0 || have_rk > 1) {
		rc = have_rk;
		goto out;
	}
	if (have_rk) {
		k = sm_secret_alloc(sizeof *k);
		if (sm_unseal(k, a.rec_seal, p->recovery_pk, rsk, a.canon, &a.pub) != 0) {
			rc = sm_err(EX_DATAERR, "%s: the recovery seal does not open",
			    a.addr);
			goto out;
		}
		if ((rc = sm_history_check(&a, k, skel)) != 0) {
			mismatch(p, addr, hash, -1, &cancelled);
			goto out;
		}
		if ((rc = sm_history_entry(skel, entry)) != 0)
			goto out;
	}

	if ((rc = load(p, addr, &canon, &cur, 1)) != 0)
		goto out;
	/* Cancelled or replaced while the password was checked: the same
	 * answer as a mismatch that comes back too late. */
	if (cur.reset != SM_RESET_REQUESTED ||
	    sodium_memcmp(cur.rs_hash, hash, 32) != 0) {
		rc = sm_err(EX_NOPERM, "%s: the reset request changed meanwhile",
		    addr);
		goto abort;
	}
	if ((rc = token_ok(&cur, raw)) != 0)
		goto abort;
	if (have_rk) {
		cur.pw = cur.rs_pw;
		cur.has_pw = 1;
		sm_wrap(cur.pw_wrap, w, "smail-pw-v1", cur.canon, &cur.pub, k);
		if ((rc = sm_history_add(&cur, k, entry)) != 0)
			goto abort;
		sm_reset_clear(&cur);
		cur.failed = 0;
		cur.lock_until = 0;
		if ((rc = sm_sessions_wipe(p, &cur)) != 0)
			goto abort;
	} else {
		unsigned char *sealed = sm_xmalloc(crypto_box_SEALBYTES + strlen(skel));
		crypto_box_seal(sealed, (const unsigned char *)skel, strlen(skel),
		    p->recovery_pk);
		sm_buf_free(&cur.rs_skel);
		sm_buf_put(&cur.rs_skel, sealed, crypto_box_SEALBYTES + strlen(skel));
		free(sealed);
		cur.reset = SM_RESET_WAITING;
		sodium_memzero(cur.rs_hash, sizeof cur.rs_hash);
		cur.rs_mismatch = 0;
	}
	if ((rc = sm_account_put(p, &cur)) != 0 ||
	    (have_rk && ((rc = sm_audit(p, "recovery", cur.canon, "")) != 0 ||
	    (rc = sm_audit(p, "reset", cur.canon, "")) != 0)))
		goto abort;
	if ((rc = sm_store_commit(p)) != 0)
		goto out;
	if (have_rk) {
		sm_note("%s: the new password is active; sign in with it",
		    cur.addr);
		rc = sm_password_changed_mail(p, cur.addr, "reset");
	} else {
		char *cmd = sm_command_line(p, "smail-admin approve", cur.addr,
		    "--recovery-key-file", "FILE", (char *)NULL);
		rc = sm_err(EX_TEMPFAIL, "%s: the recovery key is not in the "
		    "portal: the reset waits for the operator to run: %s",
		    cur.addr, cmd);
		free(cmd);
	}
	goto out;
abort:
	sm_store_end(p);
out:
	sodium_memzero(entry, sizeof entry);
	sm_freestr(skel);
	if (pw)
		sm_secret_free(pw);
	if (w)
		sm_secret_free(w);
	if (tsk)
		sm_secret_free(tsk);
	if (rsk)
		sm_secret_free(rsk);
	if (k)
		sm_secret_free(k);
	sm_account_free(&a);
	sm_account_free(&cur);
	free(canon);
	return rc;
}

int
sm_approve(sm_portal *p, const char *addr, const unsigned char rsk[32])
{
	struct sm_account a;
	struct sm_keys *k = NULL;
	unsigned char *m = NULL;
	char *canon = NULL, *skel = NULL;
	size_t n;
	int rc;

	if ((rc = load(p, addr, &canon, &a, 1)) != 0)
		goto out;
	if (a.state == SM_INVITED && a.inv_renew) {
		sm_store_end(p);
		rc = sm_account_invite(p, addr, NULL, rsk, "The portal's operator");
		goto out;
	}
	if (a.reset != SM_RESET_WAITING) {
		sm_store_end(p);
		rc = sm_err(EX_NOINPUT, "%s: nothing waits for approval", addr);
		goto out;
	}
	k = sm_secret_alloc(sizeof *k);
	if (sm_unseal(k, a.rec_seal, p->recovery_pk, rsk, a.canon, &a.pub) != 0) {
		sm_store_end(p);
		rc = sm_err(EX_DATAERR, "%s: the recovery seal does not open", addr);
		goto out;
	}
	n = a.rs_skel.len > crypto_box_SEALBYTES ? a.rs_skel.len -
	    crypto_box_SEALBYTES : 0;
	m = sm_secret_alloc(n + 1);
	if (n == 0 || crypto_box_seal_open(m, a.rs_skel.p, a.rs_skel.len,
	    p->recovery_pk, rsk) != 0) {
		sm_store_end(p);
		rc = sm_err(EX_DATAERR, "%s: the waiting request is damaged", addr);
		goto out;
	}
	m[n] = 0;
	skel = (char *)m;
	if (sm_history_check(&a, k, skel) != 0) {
		sm_reset_clear(&a);
		if ((rc = sm_account_put(p, &a)) == 0 && (rc = sm_store_commit(p)) == 0)
			rc = sm_err(EX_DATAERR, "%s: the new password repeats an "
			    "earlier one: the reset is cancelled; the user must "
			    "request another", addr);
		else
			sm_store_end(p);
		goto out;
	}
	sm_buf_free(&a.rs_xfer);
	a.rs_xfer.len = 0;
	{
		unsigned char sealed[SM_SEAL_BYTES];
		sm_seal(sealed, a.rs_tpk, a.canon, &a.pub, k);
		sm_buf_put(&a.rs_xfer, sealed, sizeof sealed);
	}
	sm_buf_free(&a.rs_skel);
	a.reset = SM_RESET_APPROVED;
	a.has_pw = 0;                  /* the old password no longer opens */
	sodium_memzero(a.pw_wrap, sizeof a.pw_wrap);
	a.failed = 0;
	a.lock_until = 0;
	if ((rc = sm_sessions_wipe(p, &a)) != 0 || (rc = sm_account_put(p, &a)) != 0 ||
	    (rc = sm_audit(p, "recovery", a.canon, "")) != 0) {
		sm_store_end(p);
		goto out;
	}
	if ((rc = sm_store_commit(p)) != 0)
		goto out;
	sm_note("%s: reset approved; the next sign-in with the new password "
	    "completes it", a.addr);
	rc = sm_password_changed_mail(p, a.addr, "reset");
out:
	if (m)
		sm_secret_free(m);
	if (k)
		sm_secret_free(k);
	sm_account_free(&a);
	free(canon);
	return rc;
}

int
sm_reset_finish(sm_portal *p, struct sm_account *a, const char *pw,
    struct sm_keys *k)
{
	struct sm_account cur;
	unsigned char *w, *tsk;
	char *skel = NULL, *canon = NULL, entry[128];
	int rc;

	memset(&cur, 0, sizeof cur);
	memset(entry, 0, sizeof entry);
	w = sm_secret_alloc(32);
	tsk = sm_secret_alloc(32);
	if ((rc = open_tsk(a, pw, w, tsk)) != 0)
		goto out;
	{
		unsigned char tpk[32];
		crypto_scalarmult_base(tpk, tsk);
		if (a->rs_xfer.len != SM_SEAL_BYTES ||
		    sm_unseal(k, a->rs_xfer.p, tpk, tsk, a->canon, &a->pub) != 0) {
			rc = sm_err(EX_DATAERR, "%s: the approved reset is damaged",
			    a->addr);
			goto out;
		}
	}
	sm_skeleton(pw, &skel);
	if ((rc = sm_history_entry(skel, entry)) != 0)
		goto out;
	if ((rc = load(p, a->addr, &canon, &cur, 1)) != 0)
		goto out;
	if (cur.reset != SM_RESET_APPROVED ||
	    sodium_memcmp(cur.rs_tpk, a->rs_tpk, 32) != 0) {
		sm_store_end(p);
		rc = sm_err(EX_NOPERM, "%s: the reset changed meanwhile; try again",
		    a->addr);
		goto out;
	}
	cur.pw = cur.rs_pw;
	cur.has_pw = 1;
	sm_wrap(cur.pw_wrap, w, "smail-pw-v1", cur.canon, &cur.pub, k);
	if ((rc = sm_history_add(&cur, k, entry)) != 0) {
		sm_store_end(p);
		goto out;
	}
	sm_reset_clear(&cur);
	if ((rc = sm_account_put(p, &cur)) != 0 ||
	    (rc = sm_audit(p, "reset", cur.canon, "")) != 0) {
		sm_store_end(p);
		goto out;
	}
	if ((rc = sm_store_commit(p)) != 0)
		goto out;
	sm_account_free(a);
	*a = cur;
	memset(&cur, 0, sizeof cur);
out:
	sodium_memzero(entry, sizeof entry);
	sm_freestr(skel);
	sm_secret_free(w);
	sm_secret_free(tsk);
	sm_account_free(&cur);
	free(canon);
	if (rc && rc != EX_NOPERM)
		sodium_memzero(k, sizeof *k);
	return rc;
}
