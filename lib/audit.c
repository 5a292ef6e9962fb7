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
 *
 * The head is also written outside the store, as an anchor line
 * (audit_anchor: syslog, a file, or none), when the portal closes after
 * entries were appended; smail-admin check --anchors holds the log
 * against those lines, which shows a log cut back or rewritten even by
 * someone who holds portal.key.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "smail.h"

#define AUDIT_MAGIC "SML1"
enum { L_TIME = 1, L_EVENT, L_ACCOUNT, L_ID, L_PREV };

#define HEAD_LABEL "smail-audit-head-v1"
#define HEAD_OLD 40                /* seq, hash: written before signing */
#define HEAD_BYTES 104             /* seq, hash, signature */
#define ANCHOR_TAG "smail-audit-anchor "
#define SYSLOG_IDENT "smail-audit"

struct sm_audit_state {
	unsigned char *sk;             /* portal.key once loaded (secret memory) */
	int unsigned_head;             /* entries of this transaction: the head
	                                * is signed when it commits */
	int signed_now;                /* ... and was, in its commit */
	int pending;                   /* a head committed and not anchored yet */
	uint64_t seq;
	unsigned char hash[32], sig[64];
};

static const char *const events[] = {
	"login", "login-failed", "lock", "unlock", "register", "reset",
	"recovery", "send", "read", "delete", "recall", "purge",
	"reset-cancel", NULL
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

/* The head naming entry SEQ, signed with SK (SIG gets the signature);
 * without SK, with zeros in the signature's place, for the commit to
 * sign. */
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
	memset(head + 40, 0, 64);
	if (sk) {
		head_sign(sig, sk, p->id, seq, hash);
		memcpy(head + 40, sig, 64);
	}
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

/* The head just written: anchored when the portal closes. */
static void
to_anchor(sm_portal *p, uint64_t seq, const unsigned char hash[32],
    const unsigned char sig[64])
{
	struct sm_audit_state *st = state(p);

	st->pending = 1;
	st->seq = seq;
	memcpy(st->hash, hash, 32);
	memcpy(st->sig, sig, 64);
}

/* The store's commit hook: the head that entries of this transaction
 * left unsigned is signed before the commit, and anchored once the
 * transaction is durable. */
static int
head_commit(sm_portal *p, int done)
{
	struct sm_audit_state *st = state(p);
	const unsigned char *sk;
	unsigned char sig[64];
	struct head hd;
	int rc;

	if (done) {
		if (st->signed_now)
			st->pending = 1;
		st->signed_now = 0;
		return 0;
	}
	st->signed_now = 0;
	if (!st->unsigned_head)
		return 0;
	st->unsigned_head = 0;
	if ((rc = signkey(p, &sk)) != 0)
		return rc;
	if ((rc = head_get(p, &hd)) != 0 || !hd.have)
		return rc < 0 || !hd.have ? sm_err(EX_DATAERR, "the audit log's "
		    "head record is damaged") : rc;
	if ((rc = head_put(p, sk, hd.seq, hd.hash, sig)) != 0)
		return rc;
	st->seq = hd.seq;
	memcpy(st->hash, hd.hash, 32);
	memcpy(st->sig, sig, 64);
	st->signed_now = 1;
	return 0;
}

int
sm_audit(sm_portal *p, const char *event, const char *account, const char *id)
{
	const unsigned char *sk;
	unsigned char h[32];
	struct head hd;
	uint64_t seq;
	sm_buf rec = { 0 };
	char key[32];
	int rc;

	/* The key now, inside the write transaction (made if missing). */
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
	/* The head names the entry now; its signature, one per transaction
	 * however many entries it holds, comes at the commit (a head of the
	 * signed size, so that the signing rewrites it in place). */
	if ((rc = sm_store_put(p, key, rec.p, rec.len)) == 0 &&
	    (rc = head_put(p, NULL, seq, h, NULL)) == 0) {
		state(p)->unsigned_head = 1;
		p->on_commit = head_commit;
	}
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
	if (rc == 0 && hd.have &&
	    (rc = head_put(p, sk, hd.seq, hd.hash, sig)) == 0)
		to_anchor(p, hd.seq, hd.hash, sig);
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
	if (!damaged && head_check(p, &hd, q.n, q.n ? q.v[q.n - 1] : 0, prev,
	    problem, arg))
		broken = 1;
	free(canon);
	free(q.v);
	return broken ? EX_DATAERR : 0;
}

/* ---- anchors: the head outside the store ---- */

static char *
anchor_text(const sm_portal *p, const struct sm_audit_state *st)
{
	char hash[65], *sig = sm_b64(st->sig, 64), *t;

	sm_hex(hash, st->hash, 32);
	t = sm_xasprintf("%sportal=%s seq=%llu hash=%s sig=%s", ANCHOR_TAG,
	    p->idhex, (unsigned long long)st->seq, hash, sig);
	free(sig);
	return t;
}

/*
 * One message to the local syslog socket, in the form syslog(3) sends
 * (facility authpriv, level info), but never waiting: the socket is
 * non-blocking, so a daemon that is stuck or absent costs nothing and
 * the anchor is lost, not the command.  (syslog(3) itself may block on
 * a full socket, and would print to the console with LOG_CONS.)
 */
static void
anchor_syslog(const char *msg)
{
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	struct sockaddr_un sa;
	char when[32], buf[512];
	struct tm tm;
	time_t t = time(NULL);
	size_t i;
	int n, fd, err;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, "/dev/log", sizeof "/dev/log");
	if (!localtime_r(&t, &tm) ||
	    strftime(when, sizeof when, "%b %e %H:%M:%S", &tm) == 0)
		return;
	n = snprintf(buf, sizeof buf, "<%d>%s %s[%ld]: %s",
	    LOG_AUTHPRIV | LOG_INFO, when, SYSLOG_IDENT, (long)getpid(), msg);
	if (n < 0 || (size_t)n >= sizeof buf)
		return;
	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		fd = socket(AF_UNIX, types[i] | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return;
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
			/* A stream socket takes the NUL as the end of the message. */
			(void)send(fd, buf, (size_t)n + (types[i] == SOCK_STREAM),
			    MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			return;
		}
		err = errno;
		close(fd);
		if (err != EPROTOTYPE)
			return;
	}
}

/* A line appended to FILE: a warning when it cannot be, never a failure. */
static void
anchor_file(const char *file, const char *msg, uint64_t seq)
{
	char when[32], *line;
	struct stat st;
	ssize_t w;
	size_t len;
	int fd, err = 0;

	sm_fmt_time(sm_now(), when);
	line = sm_xasprintf("%s %s[%ld]: %s\n", when, sm_progname, (long)getpid(),
	    msg);
	len = strlen(line);
	/* O_NONBLOCK: a FIFO with no reader is refused, not waited for. */
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NOCTTY |
	    O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0)
		err = errno;
	else if (fstat(fd, &st) < 0)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = -1;
	else if ((w = write(fd, line, len)) < 0)
		err = errno;
	else if ((size_t)w != len)
		err = ENOSPC;
	else if (fsync(fd) < 0 && errno != EINVAL)
		err = errno;
	if (fd >= 0)
		close(fd);
	if (err)
		sm_warn("%s: %s (audit_anchor): entry %llu of the audit log is not "
		    "anchored", file, err < 0 ? "not a regular file" :
		    strerror(err), (unsigned long long)seq);
	free(line);
}

void
sm_audit_close(sm_portal *p)
{
	struct sm_audit_state *st = p->audit;
	const char *to = p->cfg.audit_anchor;

	if (!st)
		return;
	if (st->pending && !(to && strcmp(to, "none") == 0)) {
		char *msg = anchor_text(p, st);
		if (to)
			anchor_file(to, msg, st->seq);
		else
			anchor_syslog(msg);
		free(msg);
	}
	if (st->sk)
		sm_secret_free(st->sk);
	free(st);
	p->audit = NULL;
}

static int
hex_field(const char **s, const char *end, const char *name,
    unsigned char *out, size_t n)
{
	size_t l = strlen(name), i;
	const char *v = *s + l;

	if ((size_t)(end - *s) < l + 2 * n || memcmp(*s, name, l) != 0)
		return -1;
	for (i = 0; i < 2 * n; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
			return -1;
	if (sodium_hex2bin(out, n, v, 2 * n, NULL, NULL, NULL) != 0)
		return -1;
	*s = v + 2 * n;
	return 0;
}

int
sm_anchor_parse(const char *line, size_t len, struct sm_anchor *a)
{
	const char *s = memmem(line, len, ANCHOR_TAG, sizeof ANCHOR_TAG - 1);
	const char *end = line + len;
	uint64_t seq = 0;

	if (!s)
		return 0;
	s += sizeof ANCHOR_TAG - 1;
	while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' ||
	    end[-1] == '\t'))
		end--;
	memset(a, 0, sizeof *a);
	if (hex_field(&s, end, "portal=", a->portal, 16) < 0)
		return -1;
	if (end - s < 5 || memcmp(s, " seq=", 5) != 0)
		return -1;
	s += 5;
	if (s == end || *s < '1' || *s > '9')
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (seq > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		seq = seq * 10 + (uint64_t)(*s - '0');
	}
	a->seq = seq;
	if (end - s < 1 || *s++ != ' ' ||
	    hex_field(&s, end, "hash=", a->hash, 32) < 0)
		return -1;
	if (end - s != 5 + 86 || memcmp(s, " sig=", 5) != 0 ||
	    sm_unb64(a->sig, 64, s + 5, 86) != 0)
		return -1;
	return 1;
}

struct anchor_at {
	uint64_t seq;
	unsigned char hash[32], sig[64];
	unsigned long line;
};

struct sm_anchors {
	char *name;
	struct anchor_at *v;
	size_t n, cap;
	unsigned long others, malformed;
};

void
sm_anchors_free(struct sm_anchors *a)
{
	if (!a)
		return;
	free(a->name);
	free(a->v);
	free(a);
}

int
sm_anchors_read(sm_portal *p, const char *file, struct sm_anchors **out)
{
	struct sm_anchors *a;
	struct sm_anchor an;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	FILE *f;
	int rc = 0;

	*out = NULL;
	if (strcmp(file, "-") == 0)
		f = stdin;
	else if (!(f = fopen(file, "re")))
		return sm_err(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s: %s",
		    file, strerror(errno));
	a = sm_xcalloc(1, sizeof *a);
	a->name = sm_xstrdup(strcmp(file, "-") == 0 ? "standard input" : file);
	while ((len = getline(&line, &cap, f)) >= 0) {
		int r = sm_anchor_parse(line, (size_t)len, &an);
		lineno++;
		if (r < 0)
			a->malformed++;
		else if (r == 0)
			;              /* not an anchor: another program's line */
		else if (sodium_memcmp(an.portal, p->id, 16) != 0)
			a->others++;
		else {
			if (a->n == a->cap) {
				a->cap = a->cap ? 2 * a->cap : 64;
				a->v = sm_xrealloc(a->v, a->cap * sizeof *a->v);
			}
			a->v[a->n].seq = an.seq;
			memcpy(a->v[a->n].hash, an.hash, 32);
			memcpy(a->v[a->n].sig, an.sig, 64);
			a->v[a->n++].line = lineno;
		}
	}
	if (ferror(f))
		rc = sm_err(EX_IOERR, "%s: %s", a->name, strerror(errno));
	free(line);
	if (f != stdin)
		fclose(f);
	if (rc) {
		sm_anchors_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

static int
cmp_anchor(const void *x, const void *y)
{
	const struct anchor_at *a = x, *b = y;
	int c;

	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	if ((c = memcmp(a->hash, b->hash, 32)) != 0)
		return c;
	return a->line < b->line ? -1 : a->line > b->line;
}

/*
 * Each anchored entry must be in the log with the anchored hash; since
 * every entry holds the hash of the one before, an anchor that matches
 * vouches for the log up to it too (the chain itself is walked by
 * sm_audit_walk).  An anchor that disagrees is reported whatever its
 * signature; the report says when portal.key did not sign it, for a line
 * anyone could have sent to syslog, or a key that was replaced.
 */
void
sm_anchors_check(sm_portal *p, struct sm_anchors *a,
    void (*problem)(void *, const char *, const char *), void *arg)
{
	unsigned char pk[32], h[32];
	size_t i, kept = 0;
	int have_pk = -1;

	if (a->n > 1)
		qsort(a->v, a->n, sizeof *a->v, cmp_anchor);
	for (i = 0; i < a->n; i++) {
		const struct anchor_at *x = &a->v[i];
		unsigned char *v;
		size_t n;
		char key[32], msg[300];
		int rc;
		if (i && x->seq == a->v[i - 1].seq &&
		    memcmp(x->hash, a->v[i - 1].hash, 32) == 0)
			continue;      /* the same anchor again */
		kept++;
		snprintf(key, sizeof key, "a:%016llx", (unsigned long long)x->seq);
		rc = sm_store_get(p, key, &v, &n);
		if (rc == 0) {
			entry_hash(h, v, n);
			free(v);
			if (sodium_memcmp(h, x->hash, 32) == 0)
				continue;
			snprintf(msg, sizeof msg, "entry %llu is not the one anchored "
			    "(line %lu): the log was rewritten",
			    (unsigned long long)x->seq, x->line);
		} else if (rc == 1)
			snprintf(msg, sizeof msg, "entry %llu is anchored (line %lu) but "
			    "not in the log: the log was cut back, or the entry removed",
			    (unsigned long long)x->seq, x->line);
		else {
			if (problem)
				problem(arg, "audit", "an anchored entry cannot be read");
			continue;
		}
		if (have_pk < 0)
			have_pk = portal_pk(p, pk) == 0;
		if (!have_pk || head_verify(x->sig, pk, p->id, x->seq, x->hash) != 0)
			snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "; the "
			    "anchor is not signed by portal.key (a line from elsewhere, "
			    "or the key was replaced)");
		if (problem)
			problem(arg, "audit", msg);
	}
	if (a->malformed)
		sm_warn("%s: %lu line%s that look like audit anchors do not parse; "
		    "left out", a->name, a->malformed, a->malformed == 1 ? "" : "s");
	if (!kept)
		sm_warn("%s: no audit anchor of this portal (%s)", a->name, p->idhex);
	else
		sm_note("%zu audit anchor%s checked, up to entry %llu%s", kept,
		    kept == 1 ? "" : "s", (unsigned long long)a->v[a->n - 1].seq,
		    a->others ? "; other portals' left out" : "");
}
