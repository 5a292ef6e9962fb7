/*
 * audit.c: the security log (SPEC §7): one record per event, "a:SEQ"
 * (sixteen hex digits), holding the time, the event, the account, the
 * message id and the hash of the entry before; "a:head" holds the last
 * sequence number, its hash, and the portal's Ed25519 signature
 * (portal.key) over the portal id, the number and the hash.  Never
 * content.  The chain lets smail-admin check find a removed or altered
 * entry, the signature a log cut back and its head rewritten by someone
 * who has the store but not portal.key.  Entries are written in the
 * transaction of the event they record.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "smail.h"

#define AUDIT_MAGIC "SML1"
enum { L_TIME = 1, L_EVENT, L_ACCOUNT, L_ID, L_PREV };

#define HEAD_LABEL "smail-audit-head-v1"
#define HEAD_OLD 40                /* seq, hash: written before signing */
#define HEAD_BYTES 104             /* seq, hash, signature */

struct sm_audit_state {
	unsigned char *sk;             /* portal.key once loaded (secret memory) */
};

static const char *const events[] = {
	"login", "login-failed", "lock", "unlock", "register", "reset",
	"recovery", "send", "read", "delete", "recall", "purge", NULL
};

int
sm_audit_event_ok(const char *e)
{
	size_t i;

	for (i = 0; events[i]; i++)
		if (strcmp(events[i], e) == 0)
			return 1;
	return 0;
}

static void
entry_hash(unsigned char out[32], const unsigned char *rec, size_t n)
{
	static const char label[] = "smail-audit-v1";

	crypto_generichash(out, 32, rec, n, (const unsigned char *)label,
	    sizeof label - 1);
}

/* What the head's signature covers: the label, the portal id, the
 * number (8 bytes, big-endian) and the hash of the last entry. */
static void
head_message(unsigned char m[sizeof HEAD_LABEL - 1 + 16 + 8 + 32],
    const unsigned char id[16], uint64_t seq, const unsigned char hash[32])
{
	size_t o = sizeof HEAD_LABEL - 1;
	int i;

	memcpy(m, HEAD_LABEL, o);
	memcpy(m + o, id, 16);
	for (i = 7; i >= 0; i--, seq >>= 8)
		m[o + 16 + i] = (unsigned char)seq;
	memcpy(m + o + 24, hash, 32);
}

static void
head_sign(unsigned char sig[64], const unsigned char sk[64],
    const unsigned char id[16], uint64_t seq, const unsigned char hash[32])
{
	unsigned char m[sizeof HEAD_LABEL - 1 + 56];

	head_message(m, id, seq, hash);
	crypto_sign_detached(sig, NULL, m, sizeof m, sk);
}

static int
head_verify(const unsigned char sig[64], const unsigned char pk[32],
    const unsigned char id[16], uint64_t seq, const unsigned char hash[32])
{
	unsigned char m[sizeof HEAD_LABEL - 1 + 56];

	head_message(m, id, seq, hash);
	return crypto_sign_verify_detached(sig, m, sizeof m, pk);
}

struct head {
	int have, is_signed;
	uint64_t seq;
	unsigned char hash[32], sig[64];
};

/* 0 (H->have says whether there is one), -1 damaged (quietly), or 74. */
static int
head_get(sm_portal *p, struct head *h)
{
	unsigned char *v;
	size_t n;
	int rc;

	memset(h, 0, sizeof *h);
	rc = sm_store_get(p, "a:head", &v, &n);
	if (rc == 1)
		return 0;
	if (rc)
		return rc;
	if ((n != HEAD_OLD && n != HEAD_BYTES) || sm_rd_u64(v, 8, &h->seq) < 0) {
		free(v);
		return -1;
	}
	memcpy(h->hash, v + 8, 32);
	if (n == HEAD_BYTES) {
		memcpy(h->sig, v + 40, 64);
		h->is_signed = 1;
	}
	h->have = 1;
	free(v);
	return 0;
}

static int
head_put(sm_portal *p, const unsigned char sk[64], uint64_t seq,
    const unsigned char hash[32], unsigned char sig[64])
{
	unsigned char head[HEAD_BYTES];
	uint64_t s;
	int i;

	for (s = seq, i = 7; i >= 0; i--, s >>= 8)
		head[i] = (unsigned char)s;
	memcpy(head + 8, hash, 32);
	head_sign(sig, sk, p->id, seq, hash);
	memcpy(head + 40, sig, 64);
	return sm_store_put(p, "a:head", head, sizeof head);
}

static struct sm_audit_state *
state(sm_portal *p)
{
	if (!p->audit)
		p->audit = sm_xcalloc(1, sizeof *p->audit);
	return p->audit;
}

/*
 * The portal's signing key, for a writer: loaded once, or made when the
 * portal has none (a portal from before heads were signed that never
 * exported a zip, or one restored without it).  The caller holds the
 * store's write lock, under which sm_portal_signkey makes it too, so
 * two commands cannot make two keys.
 */
static int
signkey(sm_portal *p, const unsigned char **out)
{
	struct sm_audit_state *st = state(p);
	unsigned char pk[32], *sk;
	int rc;

	if (!st->sk) {
		sk = sm_secret_alloc(64);
		rc = sm_portal_signkey(p, sk, 0);
		if (rc == EX_NOINPUT) {
			crypto_sign_keypair(pk, sk);
			if ((rc = sm_portal_signkey_write(p, sk)) == 0)
				rc = sm_fsync_dir(p->dir);
		}
		if (rc) {
			sm_secret_free(sk);
			return rc;
		}
		st->sk = sk;
	}
	*out = st->sk;
	return 0;
}

/* The public half of portal.key, for a reader: 0, EX_NOINPUT when there
 * is none, or the error (printed). */
static int
portal_pk(sm_portal *p, unsigned char pk[32])
{
	unsigned char *sk;
	int rc;

	if (p->audit && p->audit->sk) {
		memcpy(pk, p->audit->sk + 32, 32);
		return 0;
	}
	sk = sm_secret_alloc(64);
	if ((rc = sm_portal_signkey(p, sk, 0)) == 0)
		crypto_sign_ed25519_sk_to_pk(pk, sk);
	sm_secret_free(sk);
	return rc;
}

int
sm_audit(sm_portal *p, const char *event, const char *account, const char *id)
{
	const unsigned char *sk;
	unsigned char h[32], sig[64];
	struct head hd;
	uint64_t seq;
	sm_buf rec = { 0 };
	char key[32];
	int rc;

	if ((rc = signkey(p, &sk)) != 0)
		return rc;
	if ((rc = head_get(p, &hd)) != 0)
		return rc < 0 ? sm_err(EX_DATAERR, "the audit log's head record is "
		    "damaged") : rc;
	seq = hd.seq + 1;
	sm_rec_begin(&rec, AUDIT_MAGIC);
	sm_rec_u64(&rec, L_TIME, (uint64_t)sm_now());
	sm_rec_str(&rec, L_EVENT, event);
	sm_rec_str(&rec, L_ACCOUNT, account ? account : "");
	sm_rec_str(&rec, L_ID, id ? id : "");
	sm_rec_bytes(&rec, L_PREV, hd.hash, 32);
	entry_hash(h, rec.p, rec.len);
	snprintf(key, sizeof key, "a:%016llx", (unsigned long long)seq);
	if ((rc = sm_store_put(p, key, rec.p, rec.len)) == 0)
		rc = head_put(p, sk, seq, h, sig);
	sm_buf_free(&rec);
	return rc;
}

int
sm_audit_rekey(sm_portal *p)
{
	const unsigned char *sk;
	unsigned char sig[64];
	struct head hd;
	char *path = sm_portal_path(p, "portal.key");
	int rc, have = access(path, F_OK) == 0;

	free(path);
	if (have)
		return 0;
	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	if ((rc = signkey(p, &sk)) == 0 && (rc = head_get(p, &hd)) < 0)
		rc = sm_err(EX_DATAERR, "the audit log's head record is damaged");
	if (rc == 0 && hd.have)
		rc = head_put(p, sk, hd.seq, hd.hash, sig);
	if (rc) {
		sm_store_end(p);
		return rc;
	}
	return sm_store_commit(p);
}

/* Opens a write transaction just to log an event (for commands whose
 * event has no transaction of its own). */
int
sm_audit_now(sm_portal *p, const char *event, const char *account,
    const char *id)
{
	int rc;

	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	if ((rc = sm_audit(p, event, account, id)) != 0) {
		sm_store_end(p);
		return rc;
	}
	return sm_store_commit(p);
}

struct entry {
	int64_t time;
	char *event, *account, *id;
	unsigned char prev[32];
};

static int
decode(struct entry *e, const unsigned char *v, size_t n)
{
	const unsigned char *f;
	size_t fn;
	unsigned tag;
	uint64_t u;
	sm_rd r;
	int rc, seen = 0, bad = 0;

	memset(e, 0, sizeof *e);
	if (sm_rd_begin(&r, v, n, AUDIT_MAGIC) < 0)
		return -1;
	while (!bad && (rc = sm_rd_next(&r, &tag, &f, &fn)) == 1)
		switch (tag) {
		case L_TIME:
			bad = sm_rd_u64(f, fn, &u) < 0;
			e->time = (int64_t)u;
			seen |= 1;
			break;
		case L_EVENT:
			free(e->event);
			bad = !(e->event = sm_rd_str(f, fn));
			seen |= 2;
			break;
		case L_ACCOUNT:
			free(e->account);
			bad = !(e->account = sm_rd_str(f, fn));
			seen |= 4;
			break;
		case L_ID:
			free(e->id);
			bad = !(e->id = sm_rd_str(f, fn));
			seen |= 8;
			break;
		case L_PREV:
			if (fn != 32)
				bad = 1;
			else
				memcpy(e->prev, f, 32);
			seen |= 16;
			break;
		}
	if (bad || rc < 0 || seen != 31) {
		free(e->event);
		free(e->account);
		free(e->id);
		return -1;
	}
	return 0;
}

static void
entry_free(struct entry *e)
{
	free(e->event);
	free(e->account);
	free(e->id);
}

struct seqs {
	uint64_t *v;
	size_t n;
};

static int
collect_seq(sm_portal *p, const char *key, void *arg)
{
	struct seqs *q = arg;
	char *end;
	unsigned long long u;

	(void)p;
	if (strlen(key) != 2 + 16)
		return 0;                  /* a:head */
	u = strtoull(key + 2, &end, 16);
	if (*end || u == 0)
		return 0;
	q->v = sm_xrealloc(q->v, (q->n + 1) * sizeof *q->v);
	q->v[q->n++] = u;
	return 0;
}

static int
cmp_seq(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
report(void (*problem)(void *, const char *, const char *), void *arg,
    const char *what, unsigned long long a, unsigned long long b)
{
	char msg[160];

	if (b)
		snprintf(msg, sizeof msg, what, a, b);
	else
		snprintf(msg, sizeof msg, what, a);
	if (problem)
		problem(arg, "audit", msg);
}

/*
 * The head against the last entry (number LAST, hash H, none when N is
 * 0) and against portal.key.  Where portal.key is, every head is signed:
 * init makes the key, and the first entry a portal from before signed
 * heads writes makes it when there is none.  So an unsigned head passes
 * only in a portal without the key, which someone who has the store but
 * not the portal's directory cannot bring about.
 */
static int
head_check(sm_portal *p, const struct head *hd, size_t n, uint64_t last,
    const unsigned char h[32],
    void (*problem)(void *, const char *, const char *), void *arg)
{
	unsigned char pk[32];
	char msg[200];
	int broken = 0, rc;

	msg[0] = 0;
	if (n && !hd->have)
		snprintf(msg, sizeof msg, "the head is missing (%llu entries)",
		    (unsigned long long)n);
	else if (hd->have && hd->seq != last)
		snprintf(msg, sizeof msg, "the head names entry %llu, the last is "
		    "%llu", (unsigned long long)hd->seq, (unsigned long long)last);
	else if (hd->have && n && sodium_memcmp(hd->hash, h, 32) != 0)
		snprintf(msg, sizeof msg, "the head's hash is not that of entry "
		    "%llu, the last", (unsigned long long)last);
	if (msg[0]) {
		if (problem)
			problem(arg, "audit", msg);
		broken = 1;
	}
	if (!hd->have)
		return broken;
	msg[0] = 0;
	rc = portal_pk(p, pk);
	if (rc && rc != EX_NOINPUT)
		snprintf(msg, sizeof msg, "the head's signature cannot be checked: "
		    "portal.key cannot be read");
	else if (hd->is_signed && rc == EX_NOINPUT)
		snprintf(msg, sizeof msg, "the head is signed, but the portal has "
		    "no signing key (portal.key) to check it with");
	else if (hd->is_signed &&
	    head_verify(hd->sig, pk, p->id, hd->seq, hd->hash) != 0)
		snprintf(msg, sizeof msg, "the head's signature does not verify "
		    "under the portal's key (portal.key)");
	else if (!hd->is_signed && rc == 0)
		snprintf(msg, sizeof msg, "the head is not signed, though portal.key "
		    "is there to sign it (a head from before heads were signed: "
		    "the next entry signs it)");
	else if (!hd->is_signed && problem && n)
		sm_note("the audit log's head is not signed: it was written before "
		    "heads were signed, and the next entry signs it (and makes "
		    "portal.key)");
	if (msg[0]) {
		if (problem)
			problem(arg, "audit", msg);
		broken = 1;
	}
	return broken;
}

/*
 * Walks the log in order: the entries the store holds, whatever the
 * head says, so that a damaged head neither hides entries nor sends the
 * walk through numbers that were never written.  With OUT, prints TIME
 * EVENT ACCOUNT ID (only ACCOUNT's, when given).  With PROBLEM, reports
 * each break: missing entries, a changed one, a head that does not
 * name the last entry or that portal.key did not sign.
 */
int
sm_audit_walk(sm_portal *p, FILE *out, const char *account, int json,
    void (*problem)(void *, const char *, const char *), void *arg)
{
	unsigned char prev[32], h[32];
	uint64_t expect = 1;
	struct seqs q = { 0 };
	struct head hd;
	char *canon = NULL;
	size_t k;
	int rc, broken = 0, damaged = 0;

	if (account && (rc = sm_addr_canon(account, &canon)) != 0)
		return rc;
	if ((rc = head_get(p, &hd)) < 0) {
		if (problem)
			problem(arg, "audit", "the head record is damaged");
		broken = damaged = 1;
		rc = 0;
	}
	if (rc == 0)
		rc = sm_store_each(p, "a:", collect_seq, &q);
	if (rc) {
		free(canon);
		free(q.v);
		return rc;
	}
	if (q.n > 1)
		qsort(q.v, q.n, sizeof *q.v, cmp_seq);
	memset(prev, 0, 32);
	for (k = 0; k < q.n; k++) {
		char key[32];
		unsigned char *v;
		size_t n;
		struct entry e;
		if (q.v[k] != expect) {
			if (q.v[k] - expect == 1)
				report(problem, arg, "entry %llu is missing",
				    (unsigned long long)expect, 0);
			else
				report(problem, arg, "entries %llu to %llu are missing",
				    (unsigned long long)expect,
				    (unsigned long long)q.v[k] - 1);
			broken = 1;
			memset(prev, 0xff, 32);   /* the next cannot link to it */
		}
		expect = q.v[k] + 1;
		snprintf(key, sizeof key, "a:%016llx", (unsigned long long)q.v[k]);
		if ((rc = sm_store_get(p, key, &v, &n)) != 0) {
			free(canon);
			free(q.v);
			return rc == 1 ? EX_IOERR : rc;
		}
		entry_hash(h, v, n);
		if (decode(&e, v, n) < 0) {
			report(problem, arg, "entry %llu does not decode",
			    (unsigned long long)q.v[k], 0);
			broken = 1;
			free(v);
			memcpy(prev, h, 32);
			continue;
		}
		free(v);
		if (sodium_memcmp(e.prev, prev, 32) != 0 &&
		    !(prev[0] == 0xff && prev[31] == 0xff)) {
			report(problem, arg, "entry %llu does not follow the one before "
			    "(removed or changed)", (unsigned long long)q.v[k], 0);
			broken = 1;
		}
		memcpy(prev, h, 32);
		if (out && (!canon || strcmp(e.account, canon) == 0)) {
			char when[32];
			sm_fmt_time(e.time, when);
			if (json) {
				sm_buf j = { 0 };
				sm_json_begin(&j);
				sm_json_str(&j, "time", when);
				sm_json_str(&j, "event", e.event);
				sm_json_str(&j, "account", e.account);
				sm_json_str(&j, "id", e.id);
				sm_json_end(&j);
				fwrite(j.p, 1, j.len, out);
				sm_buf_free(&j);
			} else
				fprintf(out, "%s\t%s\t%s\t%s\n", when, e.event,
				    e.account, e.id);
		}
		entry_free(&e);
	}
	if (!damaged && head_check(p, &hd, q.n, q.n ? q.v[q.n - 1] : 0, prev,
	    problem, arg))
		broken = 1;
	free(canon);
	free(q.v);
	return broken ? EX_DATAERR : 0;
}

void
sm_audit_close(sm_portal *p)
{
	struct sm_audit_state *st = p->audit;

	if (!st)
		return;
	if (st->sk)
		sm_secret_free(st->sk);
	free(st);
	p->audit = NULL;
}
