/*
 * auth.c: authentication with a password, under the lockout rules
 * (SPEC §2, §3), and the same rules for access codes: the attempt is
 * counted and synced under the write lock before Argon2id runs, so that
 * killing the process does not give an attacker a free guess, and the
 * count includes the attempts under way, so that running many at once
 * does not either; a locked account never has its password checked.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "smail.h"

/* The answer while KIND is locked: the same for every attempt, right or
 * wrong. */
static int
locked_msg(const struct sm_account *a, int kind)
{
	char when[32];

	if (kind == SM_ATTEMPT_CODE) {
		sm_fmt_time(a->code_lock_until, when);
		return sm_err(EX_NOPERM, "%s: access codes locked until %s (too "
		    "many wrong access codes); wait, or ask the operator "
		    "(smail-admin unlock)", a->addr, when);
	}
	sm_fmt_time(a->lock_until, when);
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

int64_t
sm_code_lock_time(int64_t lock_time, uint64_t n)
{
	int64_t t = lock_time, cap = lock_time > 86400 ? lock_time : 86400;

	while (n-- > 0 && t > 0 && t < cap)
		t *= 2;
	return t < cap ? t : cap;
}

static int
is_locked(const sm_portal *p, const struct sm_account *a, int kind)
{
	return kind == SM_ATTEMPT_CODE ? sm_account_code_locked(p, a) :
	    sm_account_locked(p, a);
}

static uint64_t *
counter(struct sm_account *a, int kind)
{
	return kind == SM_ATTEMPT_CODE ? &a->code_failed : &a->failed;
}

/* Locks KIND now, the count starting over for when the lock ends; a
 * code lock lasts twice as long as the one before it. */
static void
lock(const sm_portal *p, struct sm_account *a, int kind)
{
	if (kind == SM_ATTEMPT_CODE) {
		a->code_lock_until = sm_now() +
		    sm_code_lock_time(p->cfg.lock_time, a->code_locks);
		a->code_locks++;
		a->code_failed = 0;
	} else {
		a->lock_until = sm_now() + p->cfg.lock_time;
		a->failed = 0;
	}
}

int
sm_attempt_locked(const sm_portal *p, const struct sm_account *a, int kind)
{
	return is_locked(p, a, kind) ? locked_msg(a, kind) : 0;
}

/*
 * Counts one attempt before the password (or access code) is checked.
 * The count holds every attempt since the last success: under way,
 * wrong, or killed before it came back.  When it has reached
 * lock_attempts this attempt does not run: it locks.
 */
int
sm_attempt_count(sm_portal *p, const char *canon, int kind,
    struct sm_account *a)
{
	uint64_t *n;
	int rc;

	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	if ((rc = sm_account_get(p, canon, a)) != 0) {
		sm_store_end(p);
		return rc;
	}
	if (kind == SM_ATTEMPT_PASSWORD && a->state != SM_ACTIVE) {
		sm_store_end(p);
		rc = not_registered(a);
		sm_account_free(a);
		return rc;
	}
	if (is_locked(p, a, kind)) {
		sm_store_end(p);
		rc = locked_msg(a, kind);
		sm_account_free(a);
		return rc;
	}
	n = counter(a, kind);
	if (*n >= (uint64_t)p->cfg.lock_attempts) {
		lock(p, a, kind);
		if ((rc = sm_account_put(p, a)) == 0 &&
		    (rc = sm_audit(p, "lock", a->canon, "")) == 0)
			rc = sm_store_commit(p);
		else
			sm_store_end(p);
		if (rc == 0)
			rc = locked_msg(a, kind);
		sm_account_free(a);
		return rc;
	}
	(*n)++;
	if ((rc = sm_account_put(p, a)) != 0) {
		sm_store_end(p);
		sm_account_free(a);
		return rc;
	}
	if ((rc = sm_store_commit(p)) != 0)
		sm_account_free(a);
	return rc;
}

/* Records a wrong password or access code (counted already): locks at
 * lock_attempts.  A lock set meanwhile answers for it. */
int
sm_attempt_failed(sm_portal *p, const char *canon, int kind)
{
	const char *what = kind == SM_ATTEMPT_CODE ? "access code" : "password";
	struct sm_account a;
	int rc, was_locked;
	char when[32];

	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	if ((rc = sm_account_get(p, canon, &a)) != 0) {
		sm_store_end(p);
		return rc == EX_NOUSER ? EX_NOPERM : rc;
	}
	if ((rc = sm_audit(p, "login-failed", a.canon, "")) != 0) {
		sm_store_end(p);
		sm_account_free(&a);
		return rc;
	}
	was_locked = is_locked(p, &a, kind);
	if (!was_locked && *counter(&a, kind) >= (uint64_t)p->cfg.lock_attempts) {
		lock(p, &a, kind);
		if ((rc = sm_account_put(p, &a)) == 0 &&
		    (rc = sm_audit(p, "lock", a.canon, "")) == 0)
			rc = sm_store_commit(p);
		else
			sm_store_end(p);
		sm_fmt_time(kind == SM_ATTEMPT_CODE ? a.code_lock_until :
		    a.lock_until, when);
		if (rc == 0)
			rc = sm_err(EX_NOPERM, "%s: wrong %s; %s locked until %s",
			    a.addr, what, kind == SM_ATTEMPT_CODE ? "access codes "
			    "are" : "the account is", when);
	} else {
		if ((rc = sm_store_commit(p)) == 0)
			rc = was_locked ? locked_msg(&a, kind) :
			    sm_err(EX_NOPERM, "%s: wrong %s", a.addr, what);
	}
	sm_account_free(&a);
	return rc;
}

/* The password or code was right: the count starts over (and a code's
 * escalation), unless a lock was set while it was being checked. */
int
sm_attempt_passed(sm_portal *p, const char *canon, int kind)
{
	struct sm_account a;
	int rc;

	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	if ((rc = sm_account_get(p, canon, &a)) != 0) {
		sm_store_end(p);
		return rc;
	}
	if (is_locked(p, &a, kind)) {
		sm_store_end(p);
		rc = locked_msg(&a, kind);
		sm_account_free(&a);
		return rc;
	}
	if (kind == SM_ATTEMPT_CODE) {
		a.code_failed = 0;
		a.code_locks = 0;
	} else
		a.failed = 0;
	if ((rc = sm_account_put(p, &a)) == 0 && (kind == SM_ATTEMPT_CODE ||
	    (rc = sm_audit(p, "login", canon, "")) == 0))
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
	else
		rc = sm_attempt_locked(p, a, SM_ATTEMPT_PASSWORD);
	sm_account_free(a);
	if (rc)
		return rc;

	if ((rc = sm_read_password(o, prompt, 0, &pw)) != 0)
		return rc;
	if ((rc = sm_attempt_count(p, canon, SM_ATTEMPT_PASSWORD, a)) != 0)
		goto out;
	if (a->reset == SM_RESET_APPROVED) {
		/* An approved reset: the new password is the only one. */
		rc = sm_reset_finish(p, a, pw, k);
	} else {
		/* No password (an approved reset cancelled): none opens. */
		w = sm_secret_alloc(32);
		if (!a->has_pw)
			rc = EX_NOPERM;
		else if ((rc = sm_pwhash_key(w, pw, &a->pw)) == 0 &&
		    sm_unwrap(k, a->pw_wrap, w, "smail-pw-v1", canon, &a->pub) != 0)
			rc = EX_NOPERM;
	}
	if (rc == EX_NOPERM) {
		sm_account_free(a);
		rc = sm_attempt_failed(p, canon, SM_ATTEMPT_PASSWORD);
	} else if (rc)
		sm_account_free(a);
	else if ((rc = sm_attempt_passed(p, canon, SM_ATTEMPT_PASSWORD)) != 0)
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

	/* Success: open a session. */
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
	/* The count was cleared when the password proved right; attempts
	 * counted since then stay counted. */
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
