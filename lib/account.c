/*
 * account.c: account records and provisioning (add, invite, unlock,
 * list).  An account is stored under "acct:" + its canonical address.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "smail.h"

#define ACCT_MAGIC "SMA1"

enum {
	A_ADDR = 1, A_FIRST, A_LAST, A_STATE, A_CREATED, A_FAILED, A_LOCK_UNTIL,
	A_SIGN_PK, A_BOX_PK, A_PK_SIG, A_PW_SALT, A_PW_OPS, A_PW_MEM, A_PW_WRAP,
	A_REC_SEAL, A_INV_HASH, A_INV_EXPIRES, A_INV_WRAP, A_INV_RENEW, A_HIST,
	A_RESET = 30, A_RS_HASH, A_RS_EXPIRES, A_RS_SALT, A_RS_OPS, A_RS_MEM,
	A_RS_TPK, A_RS_TSK, A_RS_MISMATCH, A_RS_SKEL, A_RS_XFER, A_RS_MAILS,
	A_SESSIONS = 50, A_CODE_SALT, A_CODE_OPS, A_CODE_MEM, A_CODE_CHECK,
	A_CODE_FAILED, A_CODE_LOCK_UNTIL, A_CODE_LOCKS,
};

void
sm_account_free(struct sm_account *a)
{
	free(a->addr);
	free(a->canon);
	free(a->first);
	free(a->last);
	sm_buf_free(&a->hist);
	sm_buf_free(&a->rs_tsk);
	sm_buf_free(&a->rs_skel);
	sm_buf_free(&a->rs_xfer);
	sm_buf_free(&a->sessions);
	sm_buf_free(&a->code_check);
	sodium_memzero(a, sizeof *a);
}

static char *
acct_key(const char *canon)
{
	return sm_xasprintf("acct:%s", canon);
}

void
sm_account_encode(sm_buf *b, const struct sm_account *a)
{
	unsigned char mails[24];
	int i;

	sm_rec_begin(b, ACCT_MAGIC);
	sm_rec_str(b, A_ADDR, a->addr);
	sm_rec_str(b, A_FIRST, a->first);
	sm_rec_str(b, A_LAST, a->last);
	sm_rec_u64(b, A_STATE, (uint64_t)a->state);
	sm_rec_u64(b, A_CREATED, (uint64_t)a->created);
	sm_rec_u64(b, A_FAILED, a->failed);
	sm_rec_u64(b, A_LOCK_UNTIL, (uint64_t)a->lock_until);
	sm_rec_bytes(b, A_SIGN_PK, a->pub.sign_pk, 32);
	sm_rec_bytes(b, A_BOX_PK, a->pub.box_pk, 32);
	sm_rec_bytes(b, A_PK_SIG, a->pub.sig, 64);
	sm_rec_bytes(b, A_REC_SEAL, a->rec_seal, SM_SEAL_BYTES);
	if (a->has_pw) {
		sm_rec_bytes(b, A_PW_SALT, a->pw.salt, 16);
		sm_rec_u64(b, A_PW_OPS, a->pw.ops);
		sm_rec_u64(b, A_PW_MEM, a->pw.mem);
		sm_rec_bytes(b, A_PW_WRAP, a->pw_wrap, SM_WRAP_BYTES);
	}
	if (a->has_inv) {
		sm_rec_bytes(b, A_INV_HASH, a->inv_hash, 32);
		sm_rec_u64(b, A_INV_EXPIRES, (uint64_t)a->inv_expires);
		sm_rec_bytes(b, A_INV_WRAP, a->inv_wrap, SM_WRAP_BYTES);
	}
	if (a->inv_renew)
		sm_rec_u64(b, A_INV_RENEW, 1);
	if (a->hist.len)
		sm_rec_bytes(b, A_HIST, a->hist.p, a->hist.len);
	if (a->reset != SM_RESET_NONE) {
		sm_rec_u64(b, A_RESET, (uint64_t)a->reset);
		sm_rec_bytes(b, A_RS_HASH, a->rs_hash, 32);
		sm_rec_u64(b, A_RS_EXPIRES, (uint64_t)a->rs_expires);
		sm_rec_bytes(b, A_RS_SALT, a->rs_pw.salt, 16);
		sm_rec_u64(b, A_RS_OPS, a->rs_pw.ops);
		sm_rec_u64(b, A_RS_MEM, a->rs_pw.mem);
		sm_rec_bytes(b, A_RS_TPK, a->rs_tpk, 32);
		sm_rec_bytes(b, A_RS_TSK, a->rs_tsk.p, a->rs_tsk.len);
		sm_rec_u64(b, A_RS_MISMATCH, a->rs_mismatch);
		if (a->rs_skel.len)
			sm_rec_bytes(b, A_RS_SKEL, a->rs_skel.p, a->rs_skel.len);
		if (a->rs_xfer.len)
			sm_rec_bytes(b, A_RS_XFER, a->rs_xfer.p, a->rs_xfer.len);
	}
	for (i = 0; i < 3; i++) {
		uint64_t v = (uint64_t)a->rs_mails[i];
		int j;
		for (j = 7; j >= 0; j--, v >>= 8)
			mails[i * 8 + j] = (unsigned char)v;
	}
	sm_rec_bytes(b, A_RS_MAILS, mails, sizeof mails);
	if (a->sessions.len)
		sm_rec_bytes(b, A_SESSIONS, a->sessions.p, a->sessions.len);
	if (a->has_code) {
		sm_rec_bytes(b, A_CODE_SALT, a->code_pw.salt, 16);
		sm_rec_u64(b, A_CODE_OPS, a->code_pw.ops);
		sm_rec_u64(b, A_CODE_MEM, a->code_pw.mem);
		if (a->code_check.len)
			sm_rec_bytes(b, A_CODE_CHECK, a->code_check.p, a->code_check.len);
	}
	/* Written only when set: a record without them reads as before. */
	if (a->code_failed)
		sm_rec_u64(b, A_CODE_FAILED, a->code_failed);
	if (a->code_lock_until)
		sm_rec_u64(b, A_CODE_LOCK_UNTIL, (uint64_t)a->code_lock_until);
	if (a->code_locks)
		sm_rec_u64(b, A_CODE_LOCKS, a->code_locks);
}

static int
fixed(unsigned char *dst, size_t want, const unsigned char *p, size_t n)
{
	if (n != want)
		return -1;
	memcpy(dst, p, n);
	return 0;
}

static int
i64(int64_t *dst, const unsigned char *p, size_t n)
{
	uint64_t v;

	if (sm_rd_u64(p, n, &v) < 0)
		return -1;
	*dst = (int64_t)v;
	return 0;
}

int
sm_account_decode(struct sm_account *a, const unsigned char *v, size_t n)
{
	const unsigned char *f;
	size_t fn;
	unsigned tag;
	uint64_t u;
	sm_rd r;
	int rc, bad = 0, seen = 0;
	int64_t t;

	memset(a, 0, sizeof *a);
	if (sm_rd_begin(&r, v, n, ACCT_MAGIC) < 0)
		return -1;
	while (!bad && (rc = sm_rd_next(&r, &tag, &f, &fn)) == 1) {
		switch (tag) {
		case A_ADDR:
			free(a->addr);
			bad = !(a->addr = sm_rd_str(f, fn));
			seen |= 1;
			break;
		case A_FIRST:
			free(a->first);
			bad = !(a->first = sm_rd_str(f, fn));
			break;
		case A_LAST:
			free(a->last);
			bad = !(a->last = sm_rd_str(f, fn));
			break;
		case A_STATE:
			bad = sm_rd_u64(f, fn, &u) < 0 || (u != SM_INVITED && u != SM_ACTIVE);
			a->state = (int)u;
			seen |= 2;
			break;
		case A_CREATED: bad = i64(&a->created, f, fn); break;
		case A_FAILED: bad = sm_rd_u64(f, fn, &a->failed); break;
		case A_LOCK_UNTIL: bad = i64(&a->lock_until, f, fn); break;
		case A_SIGN_PK: bad = fixed(a->pub.sign_pk, 32, f, fn); seen |= 4; break;
		case A_BOX_PK: bad = fixed(a->pub.box_pk, 32, f, fn); seen |= 8; break;
		case A_PK_SIG: bad = fixed(a->pub.sig, 64, f, fn); seen |= 16; break;
		case A_REC_SEAL: bad = fixed(a->rec_seal, SM_SEAL_BYTES, f, fn); seen |= 32; break;
		case A_PW_SALT: bad = fixed(a->pw.salt, 16, f, fn); a->has_pw |= 1; break;
		case A_PW_OPS: bad = sm_rd_u64(f, fn, &a->pw.ops); a->has_pw |= 2; break;
		case A_PW_MEM: bad = sm_rd_u64(f, fn, &a->pw.mem); a->has_pw |= 4; break;
		case A_PW_WRAP: bad = fixed(a->pw_wrap, SM_WRAP_BYTES, f, fn); a->has_pw |= 8; break;
		case A_INV_HASH: bad = fixed(a->inv_hash, 32, f, fn); a->has_inv |= 1; break;
		case A_INV_EXPIRES: bad = i64(&a->inv_expires, f, fn); a->has_inv |= 2; break;
		case A_INV_WRAP: bad = fixed(a->inv_wrap, SM_WRAP_BYTES, f, fn); a->has_inv |= 4; break;
		case A_INV_RENEW: a->inv_renew = 1; break;
		case A_HIST: a->hist.len = 0; sm_buf_put(&a->hist, f, fn); break;
		case A_RESET:
			bad = sm_rd_u64(f, fn, &u) < 0 || u < SM_RESET_REQUESTED ||
			    u > SM_RESET_APPROVED;
			a->reset = (int)u;
			break;
		case A_RS_HASH: bad = fixed(a->rs_hash, 32, f, fn); break;
		case A_RS_EXPIRES: bad = i64(&a->rs_expires, f, fn); break;
		case A_RS_SALT: bad = fixed(a->rs_pw.salt, 16, f, fn); break;
		case A_RS_OPS: bad = sm_rd_u64(f, fn, &a->rs_pw.ops); break;
		case A_RS_MEM: bad = sm_rd_u64(f, fn, &a->rs_pw.mem); break;
		case A_RS_TPK: bad = fixed(a->rs_tpk, 32, f, fn); break;
		case A_RS_TSK: a->rs_tsk.len = 0; sm_buf_put(&a->rs_tsk, f, fn); break;
		case A_RS_MISMATCH: bad = sm_rd_u64(f, fn, &a->rs_mismatch); break;
		case A_RS_SKEL: a->rs_skel.len = 0; sm_buf_put(&a->rs_skel, f, fn); break;
		case A_RS_XFER: a->rs_xfer.len = 0; sm_buf_put(&a->rs_xfer, f, fn); break;
		case A_CODE_SALT: bad = fixed(a->code_pw.salt, 16, f, fn); a->has_code |= 1; break;
		case A_CODE_OPS: bad = sm_rd_u64(f, fn, &a->code_pw.ops); a->has_code |= 2; break;
		case A_CODE_MEM: bad = sm_rd_u64(f, fn, &a->code_pw.mem); a->has_code |= 4; break;
		case A_CODE_CHECK: a->code_check.len = 0; sm_buf_put(&a->code_check, f, fn); break;
		case A_CODE_FAILED: bad = sm_rd_u64(f, fn, &a->code_failed); break;
		case A_CODE_LOCK_UNTIL: bad = i64(&a->code_lock_until, f, fn); break;
		case A_CODE_LOCKS: bad = sm_rd_u64(f, fn, &a->code_locks); break;
		case A_SESSIONS:
			bad = fn % 32 != 0;
			a->sessions.len = 0;
			sm_buf_put(&a->sessions, f, fn);
			break;
		case A_RS_MAILS:
			if (fn != 24) {
				bad = 1;
				break;
			}
			for (int i = 0; i < 3; i++)
				if (i64(&t, f + 8 * i, 8) == 0)
					a->rs_mails[i] = t;
			break;
		default:
			break;
		}
	}
	if (bad || rc < 0 || seen != 63 || (a->has_pw && a->has_pw != 15) ||
	    (a->has_inv && a->has_inv != 7) || (a->has_code && a->has_code != 7) ||
	    (a->reset && a->rs_tsk.len != 32 + 24 + 16)) {
		sm_account_free(a);
		return -1;
	}
	a->has_pw = a->has_pw == 15;
	a->has_inv = a->has_inv == 7;
	a->has_code = a->has_code == 7;
	return 0;
}

int
sm_account_get(sm_portal *p, const char *canon, struct sm_account *a)
{
	char *key = acct_key(canon);
	unsigned char *v;
	size_t n;
	int rc;

	rc = sm_store_get(p, key, &v, &n);
	free(key);
	if (rc == 1)
		return EX_NOUSER;
	if (rc)
		return rc;
	rc = sm_account_decode(a, v, n);
	sodium_memzero(v, n);
	free(v);
	if (rc < 0)
		return sm_err(EX_DATAERR, "%s: the account record is damaged", canon);
	if (sm_addr_canon_quiet(a->addr, &a->canon) != 0 ||
	    strcmp(a->canon, canon) != 0) {
		sm_account_free(a);
		return sm_err(EX_DATAERR, "%s: the account record is damaged", canon);
	}
	if (sm_pubkeys_verify(a->canon, &a->pub) != 0) {
		sm_account_free(a);
		return sm_err(EX_DATAERR, "%s: the account's keys do not verify", canon);
	}
	return 0;
}

int
sm_account_put(sm_portal *p, const struct sm_account *a)
{
	sm_buf b = { 0 };
	char *key = acct_key(a->canon);
	int rc;

	sm_account_encode(&b, a);
	rc = sm_store_put(p, key, b.p, b.len);
	sm_buf_free(&b);
	free(key);
	return rc;
}

int
sm_account_locked(const sm_portal *p, const struct sm_account *a)
{
	(void)p;
	return a->lock_until > sm_now();
}

int
sm_account_code_locked(const sm_portal *p, const struct sm_account *a)
{
	(void)p;
	return a->code_lock_until > sm_now();
}

/* An invited account has no password: its access code lock is the one
 * that keeps it out.  An active one is locked by its password's. */
const char *
sm_account_state(const sm_portal *p, const struct sm_account *a)
{
	if (sm_account_locked(p, a) ||
	    (a->state == SM_INVITED && sm_account_code_locked(p, a)))
		return "locked";
	return a->state == SM_INVITED ? "invited" : "active";
}

static int
bad_name(const char *s)
{
	return sm_has_ctrl(s);         /* C0, DEL and C1 (show.c) */
}

void
sm_name_split(const char *name, char **first, char **last)
{
	const char *s, *e, *sp;

	*first = *last = NULL;
	if (!name)
		return;
	for (s = name; *s == ' ' || *s == '\t'; s++)
		;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e == s)
		return;
	for (sp = e; sp > s && sp[-1] != ' ' && sp[-1] != '\t'; sp--)
		;
	if (sp == s) {
		*first = sm_xstrndup(s, (size_t)(e - s));
		return;
	}
	*last = sm_xstrndup(sp, (size_t)(e - sp));
	while (sp > s && (sp[-1] == ' ' || sp[-1] == '\t'))
		sp--;
	*first = sm_xstrndup(s, (size_t)(sp - s));
}

int
sm_name_check(const char *name)
{
	if (name && (bad_name(name) || strlen(name) > 200))
		return sm_err(EX_DATAERR, "name: control characters or too long");
	return 0;
}

/* A new active account: fresh keys wrapped under PW and sealed to the
 * recovery key.  The policy has been checked by the caller. */
int
sm_account_add(sm_portal *p, const char *addr, const char *name, const char *pw)
{
	struct sm_account a, old;
	struct sm_keys *k;
	unsigned char *w;
	char *canon, *entry_skel;
	char entry[128];
	int rc;

	if ((rc = sm_addr_canon(addr, &canon)) != 0)
		return rc;
	memset(&a, 0, sizeof a);
	a.addr = sm_xstrdup(addr);
	a.canon = canon;
	sm_name_split(name, &a.first, &a.last);
	a.state = SM_ACTIVE;
	a.created = sm_now();

	/* Slow work first, outside the lock. */
	k = sm_secret_alloc(sizeof *k);
	w = sm_secret_alloc(32);
	sm_keys_generate(canon, &a.pub, k);
	sm_pwparams_new(&a.pw, p->cfg.pwhash);
	if ((rc = sm_pwhash_key(w, pw, &a.pw)) != 0)
		goto out;
	a.has_pw = 1;
	sm_wrap(a.pw_wrap, w, "smail-pw-v1", canon, &a.pub, k);
	sm_seal(a.rec_seal, p->recovery_pk, canon, &a.pub, k);
	sm_skeleton(pw, &entry_skel);
	rc = sm_history_entry(entry_skel, entry);
	sm_freestr(entry_skel);
	if (rc || (rc = sm_history_add(&a, k, entry)) != 0)
		goto out;

	if ((rc = sm_store_begin(p, 1)) != 0)
		goto out;
	rc = sm_account_get(p, canon, &old);
	if (rc == 0) {
		sm_account_free(&old);
		sm_store_end(p);
		rc = sm_err(EX_CANTCREAT, "%s: the account already exists", addr);
		goto out;
	}
	if (rc != EX_NOUSER) {
		sm_store_end(p);
		goto out;
	}
	if ((rc = sm_account_put(p, &a)) != 0) {
		sm_store_end(p);
		goto out;
	}
	rc = sm_store_commit(p);
out:
	sodium_memzero(entry, sizeof entry);
	sm_secret_free(w);
	sm_secret_free(k);
	sm_account_free(&a);
	return rc;
}

/* The invitation mail: who invites, the command to run, when it expires. */
static void
invite_mail(sm_portal *p, struct sm_mail *m, const char *addr, const char *by,
    const char *why, const char *token, int64_t expires, int code)
{
	char when[32], *cmd;

	sm_fmt_time(expires, when);
	m->to = addr;
	m->subject = "Invitation to the secure mail portal";
	sm_buf_printf(&m->body, "%s invites you to exchange confidential "
	    "messages\nthrough the secure mail portal.\n\n", by);
	if (why)
		sm_buf_printf(&m->body, "%s\n\n", why);
	if (code)
		sm_buf_puts(&m->body, "The sender also set an access code, which "
		    "they give you by phone\nor in person, not by mail; "
		    "registration asks for it.\n\n");
	sm_buf_puts(&m->body, "To register, choose a password and run:\n\n");
	cmd = sm_command_line(p, "smail-register", "-t", token, addr, (char *)NULL);
	sm_buf_printf(&m->body, "    %s\n\n", cmd);
	sm_freestr(cmd);
	sm_buf_puts(&m->body, "or pipe this whole mail into:\n\n");
	cmd = sm_command_line(p, "smail-register", addr, (char *)NULL);
	sm_buf_printf(&m->body, "    %s\n\n", cmd);
	free(cmd);
	sm_buf_printf(&m->body, "Your invitation token, on its own:\n\n    %s\n\n",
	    token);
	sm_buf_printf(&m->body, "The invitation expires on %s.\n", when);
	sm_buf_puts(&m->body, "This notice holds no message content.\n");
}

/*
 * In a write transaction: gives A a fresh invitation token and stages
 * the invitation mail.  When A is NEW it is made here, invited, with
 * fresh keys for ADDR; an invited account keeps its keys, which come
 * back through the recovery key RSK.  Without RSK an existing account
 * is marked to wait for approve and 1 is returned.  The caller puts A.
 */
int
sm_invite_prepare(sm_portal *p, struct sm_account *a, int new, const char *addr,
    const char *name, const unsigned char *rsk, const char *by, const char *why,
    const struct sm_code *code, char **mailname)
{
	struct sm_keys *k = sm_secret_alloc(sizeof *k);
	unsigned char raw[32], key[32];
	char token[SM_TOKEN_CHARS + 1];
	struct sm_mail m = { 0 };
	int rc = 0;

	if (new) {
		memset(a, 0, sizeof *a);
		if ((rc = sm_addr_canon(addr, &a->canon)) != 0)
			goto out;
		a->addr = sm_xstrdup(addr);
		sm_name_split(name, &a->first, &a->last);
		a->state = SM_INVITED;
		a->created = sm_now();
		sm_keys_generate(a->canon, &a->pub, k);
		sm_seal(a->rec_seal, p->recovery_pk, a->canon, &a->pub, k);
	} else if (!rsk) {
		a->inv_renew = 1;
		rc = 1;
		goto out;
	} else if (sm_unseal(k, a->rec_seal, p->recovery_pk, rsk, a->canon,
	    &a->pub) != 0) {
		rc = sm_err(EX_DATAERR, "%s: the recovery seal does not open",
		    a->addr);
		goto out;
	}
	sm_token_new(SM_TOKEN_INVITE, raw, token);
	sm_token_hash(a->inv_hash, SM_TOKEN_INVITE, a->canon, raw);
	sm_token_key(key, SM_TOKEN_INVITE, a->canon, raw);
	/* An access code (agreed out of band) goes into the key too. */
	if (code) {
		sm_code_mix(key, code->A);
		a->has_code = 1;
		a->code_pw = code->pw;
		sm_buf_free(&a->code_check);
	} else if (new)
		a->has_code = 0;
	else if (a->has_code) {
		/* A renewal keeps the code, but cannot know it: it is asked
		 * for again at registration through the same salt. */
		sm_err(EX_DATAERR, "%s: was invited with an access code: only a "
		    "new message whose sender gives the code (smail-send "
		    "--access-code-file) renews the invitation", a->addr);
		rc = EX_DATAERR;
		goto out;
	}
	sm_wrap(a->inv_wrap, key, "smail-invite-v1", a->canon, &a->pub, k);
	a->has_inv = 1;
	a->inv_expires = sm_now() + p->cfg.invite_ttl;
	a->inv_renew = 0;
	if (!new && (rc = sm_audit(p, "recovery", a->canon, "")) != 0)
		goto out;
	invite_mail(p, &m, a->addr, by, why, token, a->inv_expires, a->has_code);
	rc = sm_mail_stage(p, &m, mailname);
out:
	sodium_memzero(raw, sizeof raw);
	sodium_memzero(key, sizeof key);
	sodium_memzero(token, sizeof token);
	sm_buf_free(&m.body);
	sm_secret_free(k);
	return rc;
}

/*
 * smail-admin invite: a new invited account, or a new token for an
 * invited one (which needs the recovery key: without RECOVERY_SK the
 * renewal waits for approve, 75).
 */
int
sm_account_invite(sm_portal *p, const char *addr, const char *name,
    const unsigned char *recovery_sk, const char *by)
{
	struct sm_account a;
	char *canon, *mailname = NULL;
	int rc, exists = 0;

	if ((rc = sm_addr_canon(addr, &canon)) != 0)
		return rc;
	memset(&a, 0, sizeof a);
	if ((rc = sm_store_begin(p, 1)) != 0)
		goto out;
	rc = sm_account_get(p, canon, &a);
	if (rc == 0) {
		exists = 1;
		if (a.state != SM_INVITED) {
			rc = sm_err(EX_CANTCREAT, "%s: already registered", addr);
			goto abort;
		}
	} else if (rc != EX_NOUSER)
		goto abort;
	rc = sm_invite_prepare(p, &a, !exists, addr, name, recovery_sk, by,
	    NULL, NULL, &mailname);
	if (rc == 1) {
		if ((rc = sm_account_put(p, &a)) != 0 || (rc = sm_store_commit(p)) != 0)
			goto out;
		char *cmd = sm_command_line(p, "smail-admin approve", addr,
		    "--recovery-key-file", "FILE", (char *)NULL);
		rc = sm_err(EX_TEMPFAIL, "%s: a new invitation needs the recovery "
		    "key: it waits for the operator to run: %s", addr, cmd);
		free(cmd);
		goto out;
	}
	if (rc)
		goto abort;
	if ((rc = sm_account_put(p, &a)) != 0) {
		sm_mail_discard(p, mailname);
		goto abort;
	}
	if ((rc = sm_store_commit(p)) != 0) {
		sm_mail_discard(p, mailname);
		goto out;
	}
	rc = sm_mail_post(p, mailname);
	sm_note(exists ? "%s: sent a new invitation" : "%s: invited", addr);
	goto out;
abort:
	sm_store_end(p);
out:
	free(mailname);
	sm_account_free(&a);
	free(canon);
	return rc;
}

int
sm_account_unlock(sm_portal *p, const char *addr)
{
	struct sm_account a;
	char *canon;
	int rc;

	if ((rc = sm_addr_canon(addr, &canon)) != 0)
		return rc;
	if ((rc = sm_store_begin(p, 1)) != 0) {
		free(canon);
		return rc;
	}
	rc = sm_account_get(p, canon, &a);
	if (rc == EX_NOUSER)
		rc = sm_err(EX_NOUSER, "%s: no such account", addr);
	if (rc) {
		sm_store_end(p);
		free(canon);
		return rc;
	}
	a.lock_until = 0;
	a.failed = 0;
	a.code_lock_until = 0;
	a.code_failed = 0;
	a.code_locks = 0;
	if ((rc = sm_account_put(p, &a)) == 0 &&
	    (rc = sm_audit(p, "unlock", canon, "")) == 0)
		rc = sm_store_commit(p);
	else
		sm_store_end(p);
	sm_account_free(&a);
	free(canon);
	return rc;
}

struct list {
	struct sm_account *v;
	size_t n, cap;
};

static int
collect(sm_portal *p, const char *key, void *arg)
{
	struct list *l = arg;
	int rc;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 32;
		l->v = sm_xrealloc(l->v, l->cap * sizeof *l->v);
	}
	rc = sm_account_get(p, key + 5, &l->v[l->n]);
	if (rc == 0)
		l->n++;
	return rc == EX_NOUSER ? 0 : rc;
}

static int
by_addr(const void *a, const void *b)
{
	return strcmp(((const struct sm_account *)a)->canon,
	    ((const struct sm_account *)b)->canon);
}

int
sm_account_list(sm_portal *p, FILE *out, int json)
{
	struct list l = { 0 };
	size_t i;
	int rc;

	if ((rc = sm_store_begin(p, 0)) != 0)
		return rc;
	rc = sm_store_each(p, "acct:", collect, &l);
	sm_store_end(p);
	qsort(l.v, l.n, sizeof *l.v, by_addr);
	for (i = 0; i < l.n; i++) {
		char when[32];
		sm_fmt_time(l.v[i].created, when);
		if (rc == 0 && json) {
			sm_buf j = { 0 };
			sm_json_begin(&j);
			sm_json_str(&j, "addr", l.v[i].addr);
			sm_json_str(&j, "state", sm_account_state(p, &l.v[i]));
			sm_json_str(&j, "created", when);
			sm_json_end(&j);
			fwrite(j.p, 1, j.len, out);
			sm_buf_free(&j);
		} else if (rc == 0) {
			sm_put_field(out, l.v[i].addr);
			fprintf(out, "\t%s\t%s\n", sm_account_state(p, &l.v[i]), when);
		}
		sm_account_free(&l.v[i]);
	}
	free(l.v);
	if (rc == 0 && (fflush(out) != 0 || ferror(out)))
		rc = sm_err(EX_IOERR, "standard output: write error");
	return rc;
}
