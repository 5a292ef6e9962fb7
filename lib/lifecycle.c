/*
 * lifecycle.c: what happens to a message after it is sent (SPEC §7):
 * expiry, recall, the sender's content-free delivery record, and the
 * purge that removes what is over.
 *
 * The delivery record "d:ID" is metadata only (the date, the expiry,
 * the sender, and per recipient a state and when it was reached); the
 * sender's list of them is "S:ADDR".  A recall is "R:ID" (when); the
 * message's content is wiped at once.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "smail.h"

/* The expiry time of a message sent now with TTL (0: message_ttl),
 * capped by max_ttl. */
int64_t
sm_expiry(const sm_portal *p, int64_t ttl)
{
	if (ttl <= 0)
		ttl = p->cfg.message_ttl;
	if (p->cfg.max_ttl > 0 && ttl > p->cfg.max_ttl)
		ttl = p->cfg.max_ttl;
	return sm_now() + ttl;
}

/* ---- the delivery record ---- */

void
sm_dlv_free(struct sm_dlv *d)
{
	size_t i;

	free(d->sender);
	for (i = 0; i < d->n; i++)
		free(d->rcpt[i].addr);
	free(d->rcpt);
	memset(d, 0, sizeof *d);
}

int
sm_dlv_decode(struct sm_dlv *d, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	long long date, expires;
	char sender[300];
	int first = 1;

	memset(d, 0, sizeof *d);
	if (memchr(text, 0, len))
		return -1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char *line = sm_xstrndup(p, nl ? (size_t)(nl - p) : (size_t)(end - p));
		p = nl ? nl + 1 : end;
		if (first) {
			if (sscanf(line, "%lld %lld %299s", &date, &expires, sender) != 3) {
				free(line);
				goto bad;
			}
			d->date = date;
			d->expires = expires;
			d->sender = sm_xstrdup(sender);
			first = 0;
		} else {
			char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
			struct sm_dlv_rcpt *r;
			if (!t2 || strchr(t2 + 1, '\t')) {
				free(line);
				goto bad;
			}
			*t1 = *t2 = 0;
			d->rcpt = sm_xrealloc(d->rcpt, (d->n + 1) * sizeof *d->rcpt);
			r = &d->rcpt[d->n++];
			r->addr = sm_xstrdup(line);
			snprintf(r->state, sizeof r->state, "%s", t1 + 1);
			r->when = strtoll(t2 + 1, NULL, 10);
		}
		free(line);
	}
	if (first)
		goto bad;
	return 0;
bad:
	sm_dlv_free(d);
	return -1;
}

static void
dlv_encode(sm_buf *b, const struct sm_dlv *d)
{
	size_t i;

	sm_buf_printf(b, "%lld %lld %s\n", (long long)d->date,
	    (long long)d->expires, d->sender);
	for (i = 0; i < d->n; i++)
		sm_buf_printf(b, "%s\t%s\t%lld\n", d->rcpt[i].addr, d->rcpt[i].state,
		    (long long)d->rcpt[i].when);
}

int
sm_dlv_get(sm_portal *p, const char *id, struct sm_dlv *d)
{
	char *key = sm_xasprintf("d:%s", id);
	unsigned char *v;
	size_t n;
	int rc;

	memset(d, 0, sizeof *d);
	rc = sm_store_get(p, key, &v, &n);
	free(key);
	if (rc)
		return rc;
	rc = sm_dlv_decode(d, (const char *)v, n);
	free(v);
	return rc < 0 ? sm_err(EX_DATAERR, "%s: the delivery record is damaged",
	    id) : 0;
}

int
sm_dlv_put(sm_portal *p, const char *id, const struct sm_dlv *d)
{
	char *key = sm_xasprintf("d:%s", id);
	sm_buf b = { 0 };
	int rc;

	dlv_encode(&b, d);
	rc = sm_store_put(p, key, b.p, b.len);
	sm_buf_free(&b);
	free(key);
	return rc;
}

/* Sets CANON's state (all recipients' when CANON is NULL).  Only moves
 * forward: a read message is not "notified" again, a deleted one stays
 * deleted. */
int
sm_dlv_mark(sm_portal *p, const char *id, const char *canon, const char *state)
{
	struct sm_dlv d;
	size_t i;
	int rc, changed = 0;

	rc = sm_dlv_get(p, id, &d);
	if (rc == 1)
		return 0;          /* sent before delivery records, or purged */
	if (rc)
		return rc;
	for (i = 0; i < d.n; i++) {
		struct sm_dlv_rcpt *r = &d.rcpt[i];
		if (canon && strcmp(r->addr, canon) != 0)
			continue;
		if (strcmp(r->state, "deleted") == 0 || strcmp(r->state, "recalled") == 0)
			continue;
		/* A recall cannot take back what was read: that stays. */
		if (strcmp(state, "recalled") == 0 && strcmp(r->state, "read") == 0)
			continue;
		if (strcmp(state, "read") == 0 && strcmp(r->state, "read") == 0)
			continue;
		snprintf(r->state, sizeof r->state, "%s", state);
		r->when = sm_now();
		changed = 1;
	}
	if (changed)
		rc = sm_dlv_put(p, id, &d);
	sm_dlv_free(&d);
	return rc;
}

/* In the send's transaction: the record and the sender's list. */
int
sm_dlv_start(sm_portal *p, const struct sm_env *e, char *const *canon,
    const char *const *state, size_t n)
{
	struct sm_dlv d;
	char *key;
	size_t i;
	int rc;

	memset(&d, 0, sizeof d);
	d.date = e->date;
	d.expires = e->expires;
	d.sender = e->from;
	d.rcpt = sm_xcalloc(n ? n : 1, sizeof *d.rcpt);
	for (i = 0; i < n; i++) {
		d.rcpt[i].addr = canon[i];
		snprintf(d.rcpt[i].state, sizeof d.rcpt[i].state, "%s", state[i]);
		d.rcpt[i].when = e->date;
	}
	d.n = n;
	rc = sm_dlv_put(p, e->id, &d);
	free(d.rcpt);
	if (rc == 0) {
		key = sm_xasprintf("S:%s", e->from);
		rc = sm_seglist_append(p, key, e->id);
		free(key);
	}
	return rc;
}

/* smail-inbox --sent: ID DATE RCPT STATE WHEN, newest first. */
int
sm_sent_list(sm_portal *p, const struct sm_ident *id, FILE *out, int json,
    long limit)
{
	sm_buf b = { 0 };
	char *key = sm_xasprintf("S:%s", id->canon);
	unsigned char *v;
	size_t n, i, shown = 0;
	char **ids = NULL;
	size_t nid = 0;
	int rc;

	rc = sm_seglist_get(p, key, &b);
	free(key);
	if (rc) {
		sm_buf_free(&b);
		return rc;
	}
	v = b.p;
	n = b.len;
	for (i = 0; i < n; ) {
		const unsigned char *nl = memchr(v + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (v + i)) : n - i;
		ids = sm_xrealloc(ids, (nid + 1) * sizeof *ids);
		ids[nid++] = sm_xstrndup((const char *)v + i, len);
		i += len + 1;
	}
	sm_buf_free(&b);
	/* The list is in sending order: newest last. */
	for (i = nid; i-- > 0 && rc == 0 && (limit < 0 || shown < (size_t)limit); ) {
		struct sm_dlv d;
		size_t j;
		char date[32], when[32];
		if (sm_dlv_get(p, ids[i], &d) != 0)
			continue;
		sm_fmt_time(d.date, date);
		for (j = 0; j < d.n; j++) {
			const char *state = d.rcpt[j].state;
			int64_t t = d.rcpt[j].when;
			/* Over before it was read or deleted: expired. */
			if (d.expires && d.expires <= sm_now() &&
			    (strcmp(state, "invited") == 0 || strcmp(state, "notified") == 0)) {
				state = "expired";
				t = d.expires;
			}
			sm_fmt_time(t, when);
			if (json) {
				sm_buf j2 = { 0 };
				sm_json_begin(&j2);
				sm_json_str(&j2, "id", ids[i]);
				sm_json_str(&j2, "date", date);
				sm_json_str(&j2, "rcpt", d.rcpt[j].addr);
				sm_json_str(&j2, "state", state);
				sm_json_str(&j2, "when", when);
				sm_json_end(&j2);
				fwrite(j2.p, 1, j2.len, out);
				sm_buf_free(&j2);
			} else {
				fprintf(out, "%s\t%s\t", ids[i], date);
				sm_put_field(out, d.rcpt[j].addr);
				fprintf(out, "\t%s\t%s\n", state, when);
			}
		}
		shown++;
		sm_dlv_free(&d);
	}
	for (i = 0; i < nid; i++)
		free(ids[i]);
	free(ids);
	return rc;
}

/* ---- recall and expiry ---- */

/* When message ID was recalled, or 0. */
int64_t
sm_recalled(sm_portal *p, const char *id)
{
	char *key = sm_xasprintf("R:%s", id);
	unsigned char *v;
	size_t n;
	int64_t t = 0;

	if (sm_store_exists(p, key) && sm_store_get(p, key, &v, &n) == 0) {
		uint64_t u;
		if (sm_rd_u64(v, n, &u) == 0)
			t = (int64_t)u;
		free(v);
	}
	free(key);
	return t;
}

/*
 * The recalled messages' ids, sorted, in one record ("recalls", SM_ID_CHARS
 * bytes each) beside the R:ID marks, so that a listing checks
 * thousands of entries with one read rather than a lookup each.
 */
static int
idcmp(const void *a, const void *b)
{
	return memcmp(a, b, SM_ID_CHARS);
}

void
sm_recalls_load(sm_portal *p, struct sm_recalls *r)
{
	unsigned char *v;
	size_t n;
	int rc;

	memset(r, 0, sizeof *r);
	rc = sm_store_get(p, "recalls", &v, &n);
	if (rc == 1) {
		r->valid = 1;
		return;
	}
	if (rc != 0)
		return;
	if (n % SM_ID_CHARS == 0) {
		size_t i;
		r->ids = (char *)v;
		r->n = n / SM_ID_CHARS;
		r->valid = 1;
		for (i = 1; i < r->n && r->valid; i++)
			if (idcmp(r->ids + (i - 1) * SM_ID_CHARS,
			    r->ids + i * SM_ID_CHARS) >= 0)
				r->valid = 0;
		if (r->valid)
			return;
	}
	/* Damaged: every entry is looked up on its own instead. */
	free(v);
	memset(r, 0, sizeof *r);
}

void
sm_recalls_free(struct sm_recalls *r)
{
	free(r->ids);
	memset(r, 0, sizeof *r);
}

/* In a write transaction: ID joins the recalled set. */
static int
recalls_add(sm_portal *p, const char *id)
{
	struct sm_recalls r;
	char *v;
	size_t at = 0;
	int rc;

	sm_recalls_load(p, &r);
	while (at < r.n && idcmp(r.ids + at * SM_ID_CHARS, id) < 0)
		at++;
	if (at < r.n && idcmp(r.ids + at * SM_ID_CHARS, id) == 0) {
		sm_recalls_free(&r);
		return 0;
	}
	v = sm_xmalloc((r.n + 1) * SM_ID_CHARS);
	if (at)
		memcpy(v, r.ids, at * SM_ID_CHARS);
	memcpy(v + at * SM_ID_CHARS, id, SM_ID_CHARS);
	if (r.n > at)
		memcpy(v + (at + 1) * SM_ID_CHARS, r.ids + at * SM_ID_CHARS,
		    (r.n - at) * SM_ID_CHARS);
	rc = sm_store_put(p, "recalls", v, (r.n + 1) * SM_ID_CHARS);
	free(v);
	sm_recalls_free(&r);
	return rc;
}

/* Is the message of index entry E still there to read?  Expired or
 * recalled: not (a recall or a purge took its content).  R is the
 * recalled set, or NULL to look the entry up on its own. */
int
sm_entry_live(sm_portal *p, const struct sm_entry *e, const struct sm_recalls *r)
{
	char *key;
	int live;

	if (e->expires && e->expires <= sm_now())
		return 0;
	if (r && r->valid)
		return !r->n || !bsearch(e->id, r->ids, r->n, SM_ID_CHARS, idcmp);
	key = sm_xasprintf("R:%s", e->id);
	live = !sm_store_exists(p, key);
	free(key);
	if (live) {
		key = sm_xasprintf("m:%s", e->id);
		live = sm_store_exists(p, key);
		free(key);
	}
	return live;
}

/* 66 with the reason when message ID is over (expired, recalled). */
int
sm_msg_over(sm_portal *p, const char *id, int64_t expires)
{
	int64_t t;
	char when[32];

	if ((t = sm_recalled(p, id))) {
		sm_fmt_time(t, when);
		return sm_err(EX_NOINPUT, "%s: recalled by the sender on %s", id, when);
	}
	if (expires && expires <= sm_now()) {
		sm_fmt_time(expires, when);
		return sm_err(EX_NOINPUT, "%s: expired on %s", id, when);
	}
	return 0;
}

/* For a message that was addressed to CANON but is not in its index:
 * 66 with the reason when it was recalled or has expired, else 0. */
int
sm_dlv_over(sm_portal *p, const char *id, const char *canon)
{
	struct sm_dlv d;
	size_t i;
	int rc = 0, mine = 0;

	if (sm_dlv_get(p, id, &d) != 0)
		return 0;
	for (i = 0; i < d.n; i++)
		if (strcmp(d.rcpt[i].addr, canon) == 0)
			mine = 1;
	if (mine)
		rc = sm_msg_over(p, id, d.expires);
	sm_dlv_free(&d);
	return rc;
}

/* smail-send --recall: the sender withdraws a message.  Its content is
 * wiped now; recipients are told it was recalled. */
int
sm_recall(sm_portal *p, const struct sm_ident *id, const char *mid)
{
	struct sm_dlv d;
	struct sm_env e;
	unsigned char t[8];
	uint64_t now = (uint64_t)sm_now(), u = now;
	char *key;
	int rc, i, have_env;

	if (!sm_id_valid(mid))
		return sm_err(EX_DATAERR, "'%.40s' is not a message id", mid);
	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	rc = sm_dlv_get(p, mid, &d);
	if (rc == 1)
		rc = sm_err(EX_NOINPUT, "%s: no such message", mid);
	if (rc)
		goto abort;
	if (strcmp(d.sender, id->canon) != 0) {
		sm_dlv_free(&d);
		rc = sm_err(EX_NOPERM, "%s: only its sender can recall it", mid);
		goto abort;
	}
	sm_dlv_free(&d);
	if (sm_recalled(p, mid)) {
		sm_store_end(p);
		sm_note("%s: already recalled", mid);
		return 0;
	}
	for (i = 7; i >= 0; i--, u >>= 8)
		t[i] = (unsigned char)u;
	key = sm_xasprintf("R:%s", mid);
	rc = sm_store_put(p, key, t, sizeof t);
	free(key);
	if (rc == 0)
		rc = recalls_add(p, mid);
	if (rc)
		goto abort;
	have_env = sm_env_get(p, mid, &e);
	if (have_env == 0) {
		rc = sm_msg_wipe(p, &e);
		sm_env_free(&e);
	} else if (have_env != EX_NOINPUT && have_env != EX_DATAERR)
		rc = have_env;
	if (rc == 0)
		rc = sm_dlv_mark(p, mid, NULL, "recalled");
	if (rc == 0)
		rc = sm_audit(p, "recall", id->canon, mid);
	if (rc)
		goto abort;
	if ((rc = sm_store_commit(p)) == 0)
		sm_note("%s: recalled", mid);
	return rc;
abort:
	sm_store_end(p);
	return rc;
}

/* ---- purge ---- */

struct keys {
	char **v;
	size_t n, cap;
};

static int
collect(sm_portal *p, const char *key, void *arg)
{
	struct keys *k = arg;

	(void)p;
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 256;
		k->v = sm_xrealloc(k->v, k->cap * sizeof *k->v);
	}
	k->v[k->n++] = sm_xstrdup(key);
	return 0;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
has(const struct keys *k, const char *key)
{
	return bsearch(&key, k->v, k->n, sizeof *k->v, cmp) != NULL;
}

/* The message id in "c:ID:P:N" or "k:ID:ADDR". */
static char *
id_of(const char *key)
{
	const char *s = key + 2, *colon = strchr(s, ':');

	return colon ? sm_xstrndup(s, (size_t)(colon - s)) : NULL;
}

/* Does the head of index segment SEG ("X:ADDR:N") name it? */
static int
index_names(sm_portal *p, const char *seg)
{
	const char *c = strrchr(seg, ':');
	char *head = sm_xstrndup(seg, (size_t)(c - seg));
	unsigned long no = strtoul(c + 1, NULL, 10);
	struct sm_index ix;
	unsigned char *v;
	size_t n, i;
	int named = 0;

	memset(&ix, 0, sizeof ix);
	if (sm_store_get(p, head, &v, &n) == 0) {
		if (sm_index_head_decode(&ix, v, n) == 0)
			for (i = 0; i < ix.nseg; i++)
				named |= ix.seg[i].no == no;
		free(v);
	}
	sm_index_free(&ix);
	free(head);
	return named;
}

static int
zero_remove(sm_portal *p, const char *key)
{
	int rc = sm_store_zero(p, key);

	return rc ? rc : sm_store_remove(p, key);
}

/* A queue without the ids of messages that are gone. */
static int
prune_queue(sm_portal *p, const char *key, const struct keys *all)
{
	unsigned char *v;
	size_t n, i = 0;
	sm_buf keep = { 0 }, l = { 0 };
	int rc;

	if ((rc = sm_seglist_get(p, key, &l)) != 0) {
		sm_buf_free(&l);
		return rc;
	}
	v = l.p;
	n = l.len;
	while (i < n) {
		const unsigned char *nl = memchr(v + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (v + i)) : n - i;
		char *m = sm_xasprintf("m:%.*s", (int)len, (const char *)v + i);
		if (has(all, m)) {
			sm_buf_put(&keep, v + i, len);
			sm_buf_putc(&keep, '\n');
		}
		free(m);
		i += len + 1;
	}
	if (keep.len != n)
		rc = sm_seglist_put(p, key, keep.p, keep.len);
	sm_buf_free(&l);
	sm_buf_free(&keep);
	return rc;
}

/*
 * smail-admin purge: removes expired and recalled messages, records
 * left by interrupted sends, dead sessions, expired invitation and reset
 * tokens; then gives the space back (gdbm_reorganize).
 */
int
sm_purge(sm_portal *p, struct sm_purged *st)
{
	struct keys all = { 0 };
	struct sm_progress pr;
	size_t i;
	int64_t now = sm_now();
	int rc;

	memset(&pr, 0, sizeof pr);
	memset(st, 0, sizeof *st);
	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	if ((rc = sm_store_each(p, "", collect, &all)) != 0)
		goto out;
	qsort(all.v, all.n, sizeof *all.v, cmp);
	{
		uint64_t nm = 0;
		for (i = 0; i < all.n; i++)
			nm += strncmp(all.v[i], "m:", 2) == 0;
		sm_progress_begin(&pr, "purge", "messages", nm);
	}
	/* Messages over: expired, or recalled (their content went at recall). */
	for (i = 0; i < all.n && rc == 0; i++) {
		const char *k = all.v[i];
		if (strncmp(k, "m:", 2) == 0) {
			sm_progress_add(&pr, 1);
			struct sm_env e;
			int r = sm_env_get(p, k + 2, &e);
			if (r == 0) {
				if ((e.expires && e.expires <= now) || sm_recalled(p, e.id)) {
					char *h = sm_xasprintf("r:%s", e.id);
					if ((rc = sm_msg_wipe(p, &e)) == 0 &&
					    (rc = zero_remove(p, h)) == 0 &&
					    (rc = sm_audit(p, "purge", "", e.id)) == 0)
						st->messages++;
					free(h);
				}
				sm_env_free(&e);
			} else if (r == EX_NOINPUT) {
				/* A header zeroed by an interrupted wipe: its chunks go
				 * with the leftovers below. */
				if ((rc = sm_store_remove(p, k)) == 0)
					st->leftovers++;
			} else if (r != EX_DATAERR)
				rc = r;
		}
	}
	/* Messages nobody holds any more (a delete that stopped half-way). */
	for (i = 0; i < all.n && rc == 0; i++)
		if (strncmp(all.v[i], "r:", 2) == 0) {
			unsigned char *v;
			size_t n;
			if (sm_store_get(p, all.v[i], &v, &n) == 0) {
				free(v);
				if (n == 0 && (rc = sm_wipe_unheld(p, all.v[i] + 2)) == 0)
					st->leftovers++;
			}
		}
	/* Then the recalls: the content went at the recall; the holders go
	 * now.  The mark stays, so that a recipient who still has the id is
	 * told it was recalled. */
	for (i = 0; i < all.n && rc == 0; i++) {
		const char *k = all.v[i];
		if (strncmp(k, "R:", 2) == 0) {
			char *m = sm_xasprintf("m:%s", k + 2), *h = sm_xasprintf("r:%s", k + 2);
			int counted = !has(&all, m) && has(&all, h);
			if ((rc = zero_remove(p, h)) == 0 && counted &&
			    (rc = sm_audit(p, "purge", "", k + 2)) == 0)
				st->messages++;
			free(m);
			free(h);
		}
	}
	if (rc)
		goto out;
	/* The key list again: what is left. */
	for (i = 0; i < all.n; i++)
		free(all.v[i]);
	all.n = 0;
	if ((rc = sm_store_each(p, "", collect, &all)) != 0)
		goto out;
	qsort(all.v, all.n, sizeof *all.v, cmp);
	for (i = 0; i < all.n && rc == 0; i++) {
		const char *k = all.v[i];
		if (strncmp(k, "c:", 2) == 0 || strncmp(k, "k:", 2) == 0 ||
		    strncmp(k, "r:", 2) == 0) {
			char *id = k[0] == 'r' ? sm_xstrdup(k + 2) : id_of(k), *m;
			if (!id)
				continue;
			m = sm_xasprintf("m:%s", id);
			if (!has(&all, m) && (rc = zero_remove(p, k)) == 0)
				st->leftovers++;
			free(m);
			free(id);
		} else if (strncmp(k, "q:", 2) == 0 && !sm_seglist_is_segment(k))
			rc = prune_queue(p, k, &all);
		else if ((strncmp(k, "q:", 2) == 0 || strncmp(k, "S:", 2) == 0) &&
		    sm_seglist_is_segment(k) && sm_store_exists(p, k) == 1 &&
		    !sm_seglist_named(p, k)) {
			if ((rc = sm_store_remove(p, k)) == 0)
				st->leftovers++;
		} else if ((strncmp(k, "X:", 2) == 0 || strncmp(k, "Y:", 2) == 0) &&
		    strchr(k + 2, ':') && !index_names(p, k)) {
			if ((rc = sm_store_remove(p, k)) == 0)
				st->leftovers++;
		}
	}
	if (rc == 0)
		rc = sm_sessions_purge(p, &st->sessions);
	/* Tokens that can no longer be used. */
	for (i = 0; i < all.n && rc == 0; i++) {
		struct sm_account a;
		int changed = 0;
		if (strncmp(all.v[i], "acct:", 5) != 0 ||
		    sm_account_get(p, all.v[i] + 5, &a) != 0)
			continue;
		if (a.has_inv && a.inv_expires <= now) {
			a.has_inv = 0;
			sodium_memzero(a.inv_hash, sizeof a.inv_hash);
			sodium_memzero(a.inv_wrap, sizeof a.inv_wrap);
			changed = 1;
		}
		if (a.reset == SM_RESET_REQUESTED && a.rs_expires <= now) {
			sm_reset_clear(&a);
			changed = 1;
		}
		if (changed) {
			st->tokens++;
			rc = sm_account_put(p, &a);
		}
		sm_account_free(&a);
	}
	sm_progress_end(&pr);
	if (rc == 0)
		rc = sm_store_commit(p);
	else
		sm_store_end(p);
	for (i = 0; i < all.n; i++)
		free(all.v[i]);
	free(all.v);
	if (rc == 0)
		rc = sm_store_reorganize(p);
	return rc;
out:
	sm_progress_end(&pr);
	sm_store_end(p);
	for (i = 0; i < all.n; i++)
		free(all.v[i]);
	free(all.v);
	return rc;
}
