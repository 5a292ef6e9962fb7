/*
 * auth.c: authentication with a password, under the lockout rules
 * (SPEC §2, §3): the attempt is counted and synced under the write
 * lock before Argon2id runs, so that killing the process does not
 * give an attacker a free guess; a locked account never has its
 * password checked.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "smail.h"

static int
locked_msg(const struct sm_account *a)
{
	char when[32];

	sm_fmt_time(a->lock_until, when);
	if (a->state == SM_INVITED)
		return sm_err(EX_NOPERM, "%s: locked until %s (too many wrong "
		    "access codes); wait, or ask the operator (smail-admin unlock)",
		    a->addr, when);
	return sm_err(EX_NOPERM, "%s: account locked until %s (too many wrong "
	    "passwords); wait, or reset the password with smail-reset",
	    a->addr, when);
}

static int
not_registered(const struct sm_account *a)
{
	return sm_err(EX_NOPERM, "%s: not registered yet: claim the invitation "
	    "with smail-register", a->addr);
}

/* Counts one attempt before the password (or access code) is checked;
 * INVITED lets an invited account through (its access code). */
int
sm_attempt_count(sm_portal *p, const char *canon, int flags,
    struct sm_account *a)
{
	int invited = flags & SM_ATTEMPT_INVITED;
	int rc;

	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	if ((rc = sm_account_get(p, canon, a)) != 0) {
		sm_store_end(p);
		return rc;
	}
	if (a->state != SM_ACTIVE && !invited) {
		sm_store_end(p);
		rc = not_registered(a);
		sm_account_free(a);
		return rc;
	}
	if (sm_account_locked(p, a) && !(flags & SM_ATTEMPT_LOCKED)) {
		sm_store_end(p);
		rc = locked_msg(a);
		sm_account_free(a);
		return rc;
	}
	a->failed++;
	if ((rc = sm_account_put(p, a)) != 0) {
		sm_store_end(p);
		sm_account_free(a);
		return rc;
	}
	if ((rc = sm_store_commit(p)) != 0)
		sm_account_free(a);
	return rc;
}

/* Records a wrong password or access code (WHAT): locks the account
 * at lock_attempts. */
int
sm_attempt_failed(sm_portal *p, const char *canon, const char *what)
{
	struct sm_account a;
	int rc;
	char when[32];

	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	if ((rc = sm_account_get(p, canon, &a)) != 0) {
		sm_store_end(p);
		return rc == EX_NOUSER ? EX_NOPERM : rc;
	}
	if (!sm_account_locked(p, &a) && a.failed >= (uint64_t)p->cfg.lock_attempts) {
		a.lock_until = sm_now() + p->cfg.lock_time;
		a.failed = 0;
		if ((rc = sm_account_put(p, &a)) == 0 &&
		    (rc = sm_audit(p, "login-failed", a.canon, "")) == 0 &&
		    (rc = sm_audit(p, "lock", a.canon, "")) == 0)
			rc = sm_store_commit(p);
		else
			sm_store_end(p);
		sm_fmt_time(a.lock_until, when);
		if (rc == 0)
			rc = sm_err(EX_NOPERM, "%s: wrong %s; the account is "
			    "locked until %s", a.addr, what, when);
	} else {
		if (sm_audit(p, "login-failed", a.canon, "") == 0)
			sm_store_commit(p);
		else
			sm_store_end(p);
		rc = sm_err(EX_NOPERM, "%s: wrong %s", a.addr, what);
	}
	sm_account_free(&a);
	return rc;
}

/* The access code was right: the attempt no longer counts. */
int
sm_attempt_clear(sm_portal *p, const char *canon)
{
	struct sm_account a;
	int rc;

	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	if ((rc = sm_account_get(p, canon, &a)) != 0) {
		sm_store_end(p);
		return rc;
	}
	a.failed = 0;
	if ((rc = sm_account_put(p, &a)) == 0)
		rc = sm_store_commit(p);
	else
		sm_store_end(p);
	sm_account_free(&a);
	return rc;
}

/* The password was right: the attempt no longer counts, and the log
 * records the sign-in. */
static int
clear_count(sm_portal *p, const char *canon)
{
	struct sm_account a;
	int rc;

	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	if ((rc = sm_account_get(p, canon, &a)) != 0) {
		sm_store_end(p);
		return rc;
	}
	a.failed = 0;
	if ((rc = sm_account_put(p, &a)) == 0 &&
	    (rc = sm_audit(p, "login", canon, "")) == 0)
		rc = sm_store_commit(p);
	else
		sm_store_end(p);
	sm_account_free(&a);
	return rc;
}

/*
 * Reads the password (PROMPT) and checks it under the lockout rules.
 * On success A holds the account, K its keys, and *PW the password.
 */
int
sm_password_verify(sm_portal *p, const struct sm_opts *o, const char *canon,
    const char *prompt, struct sm_account *a, struct sm_keys *k, char **pwout)
{
	unsigned char *w = NULL;
	char *pw = NULL;
	int rc;

	memset(a, 0, sizeof *a);
	/* Refuse a locked or unregistered account before asking. */
	if ((rc = sm_store_begin(p, 0)) != 0)
		return rc;
	rc = sm_account_get(p, canon, a);
	sm_store_end(p);
	if (rc == EX_NOUSER)
		return sm_err(EX_NOUSER, "%s: no such account", canon);
	if (rc)
		return rc;
	if (a->state != SM_ACTIVE)
		rc = not_registered(a);
	else if (sm_account_locked(p, a))
		rc = locked_msg(a);
	sm_account_free(a);
	if (rc)
		return rc;

	if ((rc = sm_read_password(o, prompt, 0, &pw)) != 0)
		return rc;
	if ((rc = sm_attempt_count(p, canon, 0, a)) != 0)
		goto out;
	if (a->reset == SM_RESET_APPROVED) {
		/* An approved reset: the new password is the only one. */
		rc = sm_reset_finish(p, a, pw, k);
	} else {
		w = sm_secret_alloc(32);
		if ((rc = sm_pwhash_key(w, pw, &a->pw)) == 0 && (!a->has_pw ||
		    sm_unwrap(k, a->pw_wrap, w, "smail-pw-v1", canon, &a->pub) != 0))
			rc = EX_NOPERM;
	}
	if (rc == EX_NOPERM) {
		sm_account_free(a);
		rc = sm_attempt_failed(p, canon, "password");
	} else if (rc)
		sm_account_free(a);
	else if ((rc = clear_count(p, canon)) != 0)
		sm_account_free(a);
	else
		a->failed = 0;
out:
	if (w)
		sm_secret_free(w);
	if (rc == 0 && pwout)
		*pwout = pw;
	else if (pw)
		sm_secret_free(pw);
	return rc;
}

int
sm_login(sm_portal *p, const struct sm_opts *o, const char *addr,
    struct sm_ident *id)
{
	struct sm_account a;
	struct sm_keys *k;
	unsigned char *w = NULL, nonce[24], S[32];
	char *canon = NULL, *pw = NULL, *prompt;
	struct sm_pwparams fresh;
	int rc, rewrap = 0;
	uint64_t ops;
	size_t mem;

	memset(&a, 0, sizeof a);
	if ((rc = sm_addr_canon(addr, &canon)) != 0)
		return rc;
	k = sm_secret_alloc(sizeof *k);
	prompt = sm_xasprintf("Password for %s: ", addr);
	rc = sm_password_verify(p, o, canon, prompt, &a, k, &pw);
	free(prompt);
	if (rc)
		goto out;
	memcpy(nonce, a.pw_wrap, 24);

	/* The configured cost changed: wrap again at the new one. */
	sm_pwhash_limits(p->cfg.pwhash, &ops, &mem);
	if (a.pw.ops != ops || a.pw.mem != mem) {
		w = sm_secret_alloc(32);
		sm_pwparams_new(&fresh, p->cfg.pwhash);
		if (sm_pwhash_key(w, pw, &fresh) == 0)
			rewrap = 1;
	}

	/* Success: clear the count, open a session. */
	sm_account_free(&a);
	if ((rc = sm_store_begin(p, 1)) != 0)
		goto out;
	if ((rc = sm_account_get(p, canon, &a)) != 0) {
		sm_store_end(p);
		goto out;
	}
	if (sodium_memcmp(nonce, a.pw_wrap, 24) != 0) {
		sm_store_end(p);
		rc = sm_err(EX_NOPERM, "%s: the password changed meanwhile; try "
		    "again", addr);
		goto out;
	}
	a.failed = 0;
	if (rewrap) {
		a.pw = fresh;
		sm_wrap(a.pw_wrap, w, "smail-pw-v1", canon, &a.pub, k);
	}
	if ((rc = sm_session_create(p, &a, k, S)) != 0 ||
	    (rc = sm_account_put(p, &a)) != 0) {
		sm_store_end(p);
		goto out;
	}
	if ((rc = sm_store_commit(p)) != 0)
		goto out;
	if ((rc = sm_session_file_write(p, canon, S)) != 0)
		goto out;
	id->addr = sm_xstrdup(a.addr);
	id->canon = sm_xstrdup(canon);
	id->pub = a.pub;
	id->keys = k;
	k = NULL;
out:
	sodium_memzero(S, sizeof S);
	if (pw)
		sm_secret_free(pw);
	if (w)
		sm_secret_free(w);
	if (k)
		sm_secret_free(k);
	sm_account_free(&a);
	free(canon);
	return rc;
}

int
sm_auth(sm_portal *p, const struct sm_opts *o, struct sm_ident *id)
{
	char *canon = NULL;
	int rc;

	if (o->user && (rc = sm_addr_canon(o->user, &canon)) != 0)
		return rc;
	rc = sm_session_use(p, canon, id);
	free(canon);
	if (rc == 0)
		return 0;
	if (rc != 1 && rc != EX_NOPERM)
		return rc;
	/* No live session: sign in with the password, if there is a way to
	 * get one; an expired session's message is already out. */
	if (!o->user)
		return rc == EX_NOPERM ? rc : sm_err(EX_NOPERM, "not signed in: "
		    "give --user ADDR (or set SMAIL_USER) and a password");
	if (!sm_have_password_source(o))
		return rc == EX_NOPERM ? rc : sm_err(EX_NOPERM, "%s: not signed "
		    "in, and no terminal or --password-file to sign in with",
		    o->user);
	return sm_login(p, o, o->user, id);
}
