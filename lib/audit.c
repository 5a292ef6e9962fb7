/*
 * audit.c: the security log (SPEC §7): one record per event, "a:SEQ"
 * (sixteen hex digits), holding the time, the event, the account, the
 * message id and the hash of the entry before; "a:head" holds the last
 * sequence number and its hash.  Never content.  The chain lets
 * smail-admin check find a removed or altered entry.  Entries are
 * written in the transaction of the event they record.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "smail.h"

#define AUDIT_MAGIC "SML1"
enum { L_TIME = 1, L_EVENT, L_ACCOUNT, L_ID, L_PREV };

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

static int
head_get(sm_portal *p, uint64_t *seq, unsigned char hash[32])
{
	unsigned char *v;
	size_t n;
	int rc;

	*seq = 0;
	memset(hash, 0, 32);
	rc = sm_store_get(p, "a:head", &v, &n);
	if (rc == 1)
		return 0;
	if (rc)
		return rc;
	if (n != 40 || sm_rd_u64(v, 8, seq) < 0) {
		free(v);
		return sm_err(EX_DATAERR, "the audit log's head record is damaged");
	}
	memcpy(hash, v + 8, 32);
	free(v);
	return 0;
}

int
sm_audit(sm_portal *p, const char *event, const char *account, const char *id)
{
	unsigned char prev[32], h[32], head[40];
	uint64_t seq, s;
	sm_buf rec = { 0 };
	char key[32];
	int rc, i;

	if ((rc = head_get(p, &seq, prev)) != 0)
		return rc;
	seq++;
	sm_rec_begin(&rec, AUDIT_MAGIC);
	sm_rec_u64(&rec, L_TIME, (uint64_t)sm_now());
	sm_rec_str(&rec, L_EVENT, event);
	sm_rec_str(&rec, L_ACCOUNT, account ? account : "");
	sm_rec_str(&rec, L_ID, id ? id : "");
	sm_rec_bytes(&rec, L_PREV, prev, 32);
	entry_hash(h, rec.p, rec.len);
	snprintf(key, sizeof key, "a:%016llx", (unsigned long long)seq);
	if ((rc = sm_store_put(p, key, rec.p, rec.len)) == 0) {
		for (s = seq, i = 7; i >= 0; i--, s >>= 8)
			head[i] = (unsigned char)s;
		memcpy(head + 8, h, 32);
		rc = sm_store_put(p, "a:head", head, sizeof head);
	}
	sm_buf_free(&rec);
	return rc;
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
 * Walks the log in order: the entries the store holds, whatever the
 * head says, so that a damaged head neither hides entries nor sends the
 * walk through numbers that were never written.  With OUT, prints TIME
 * EVENT ACCOUNT ID (only ACCOUNT's, when given).  With PROBLEM, reports
 * each break: missing entries, a changed one, a head that does not
 * name the last entry.
 */
int
sm_audit_walk(sm_portal *p, FILE *out, const char *account, int json,
    void (*problem)(void *, const char *, const char *), void *arg)
{
	unsigned char prev[32], hash[32], h[32];
	uint64_t seq, expect = 1;
	struct seqs q = { 0 };
	char *canon = NULL;
	size_t k;
	int rc, broken = 0, have_head;

	if (account && (rc = sm_addr_canon(account, &canon)) != 0)
		return rc;
	{
		unsigned char *hv;
		size_t hn;
		rc = sm_store_get(p, "a:head", &hv, &hn);
		if (rc == 0)
			free(hv);
		have_head = rc == 0;
	}
	if ((rc = head_get(p, &seq, hash)) != 0 ||
	    (rc = sm_store_each(p, "a:", collect_seq, &q)) != 0) {
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
			} else {
				fprintf(out, "%s\t", when);
				sm_put_field(out, e.event);
				fputc('\t', out);
				sm_put_field(out, e.account);
				fputc('\t', out);
				sm_put_field(out, e.id);
				fputc('\n', out);
			}
		}
		entry_free(&e);
	}
	if (q.n && !have_head) {
		report(problem, arg, "the head is missing (%llu entries)",
		    (unsigned long long)q.n, 0);
		broken = 1;
	} else if (have_head && (seq != (q.n ? q.v[q.n - 1] : 0) ||
	    (q.n && sodium_memcmp(prev, hash, 32) != 0))) {
		char msg[160];
		snprintf(msg, sizeof msg, "the head names entry %llu, the last is "
		    "%llu", (unsigned long long)seq,
		    (unsigned long long)(q.n ? q.v[q.n - 1] : 0));
		if (problem)
			problem(arg, "audit", msg);
		broken = 1;
	}
	free(canon);
	free(q.v);
	return broken ? EX_DATAERR : 0;
}
