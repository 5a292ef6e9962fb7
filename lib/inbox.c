/*
 * inbox.c: what each account holds.
 *
 * A sender cannot write into a recipient's encrypted index (it has
 * only the recipient's public key), so delivery appends the message id
 * to the recipient's queue "q:ADDR" (ids only, no content).  The
 * recipient's next command folds the queue into its index (drafts:
 * their own index): one sealed box opened per message, once, after
 * which the entry, with the message's content key, date, sender and
 * subject, lives encrypted under a subkey of the account's keys.
 * Listing a large inbox is then one decryption per segment of 128
 * entries, not one per message.  The index is the head record "X:ADDR"
 * ("Y:ADDR" for drafts), which names its segments, and the segments
 * "X:ADDR:N", each sealed on its own: a new message, a read mark or a
 * delete rewrites the segments it touches, never the whole index.  (An
 * index written before segments is one record, "x:ADDR"; the first save
 * turns it into segments.)
 * "r:ID" lists the accounts that still hold message ID; when the last
 * one lets go, the message's records are wiped.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "smail.h"

#define INDEX_MAGIC "SMX2"       /* SMX1 had no expiry time */

void
sm_index_free(struct sm_index *ix)
{
	size_t i;

	for (i = 0; i < ix->n; i++) {
		free(ix->v[i].from);
		free(ix->v[i].subject);
		free(ix->v[i].to);
	}
	if (ix->v)
		sodium_memzero(ix->v, ix->cap * sizeof *ix->v);
	free(ix->v);
	free(ix->seg);
	memset(ix, 0, sizeof *ix);
}

struct sm_entry *
sm_index_add(struct sm_index *ix)
{
	if (ix->n == ix->cap) {
		size_t cap = ix->cap ? 2 * ix->cap : 16;
		struct sm_entry *v = sm_xcalloc(cap, sizeof *v);
		if (ix->n)
			memcpy(v, ix->v, ix->n * sizeof *v);
		if (ix->v) {
			sodium_memzero(ix->v, ix->cap * sizeof *ix->v);
			free(ix->v);
		}
		ix->v = v;
		ix->cap = cap;
	}
	memset(&ix->v[ix->n], 0, sizeof ix->v[0]);
	ix->v[ix->n].seg = -1;
	return &ix->v[ix->n++];
}

void
sm_index_touch(struct sm_index *ix, struct sm_entry *e)
{
	if (e->seg >= 0 && (size_t)e->seg < ix->nseg)
		ix->seg[e->seg].dirty = 1;
}

struct sm_entry *
sm_index_find(struct sm_index *ix, const char *id)
{
	size_t i;

	for (i = 0; i < ix->n; i++)
		if (strcmp(ix->v[i].id, id) == 0)
			return &ix->v[i];
	return NULL;
}

void
sm_index_drop(struct sm_index *ix, struct sm_entry *e)
{
	size_t i = (size_t)(e - ix->v);

	sm_index_touch(ix, e);
	free(e->from);
	free(e->subject);
	free(e->to);
	memmove(e, e + 1, (ix->n - i - 1) * sizeof *e);
	ix->n--;
	sodium_memzero(&ix->v[ix->n], sizeof ix->v[0]);
}

/* The one-record index of before segments ("x:ADDR", "y:ADDR"). */
static char *
legacy_key(int which, const char *canon)
{
	return sm_xasprintf("%c:%s", which, canon);
}

/* The head "X:ADDR" and segment N "X:ADDR:N" ('Y' for drafts). */
static char *
head_key(int which, const char *canon)
{
	return sm_xasprintf("%c:%s", which == 'x' ? 'X' : 'Y', canon);
}

static char *
seg_key(int which, const char *canon, uint32_t no)
{
	return sm_xasprintf("%c:%s:%u", which == 'x' ? 'X' : 'Y', canon,
	    (unsigned)no);
}

static void
put_str(sm_buf *b, const char *s)
{
	sm_buf_puts(b, s ? s : "");
	sm_buf_putc(b, 0);
}

static void
encode(sm_buf *b, const struct sm_index *ix)
{
	size_t i;
	int j;

	sm_buf_put(b, INDEX_MAGIC, 4);
	for (i = 0; i < ix->n; i++) {
		const struct sm_entry *e = &ix->v[i];
		unsigned char fixed[SM_ID_CHARS + 8 + 4 + 32 + 8];
		uint64_t d = (uint64_t)e->date, x = (uint64_t)e->expires;
		memcpy(fixed, e->id, SM_ID_CHARS);
		for (j = 7; j >= 0; j--, d >>= 8)
			fixed[SM_ID_CHARS + j] = (unsigned char)d;
		for (j = 7; j >= 0; j--, x >>= 8)
			fixed[SM_ID_CHARS + 44 + j] = (unsigned char)x;
		fixed[SM_ID_CHARS + 8] = (unsigned char)(e->flags >> 24);
		fixed[SM_ID_CHARS + 9] = (unsigned char)(e->flags >> 16);
		fixed[SM_ID_CHARS + 10] = (unsigned char)(e->flags >> 8);
		fixed[SM_ID_CHARS + 11] = (unsigned char)e->flags;
		memcpy(fixed + SM_ID_CHARS + 12, e->K, 32);
		sm_buf_put(b, fixed, sizeof fixed);
		put_str(b, e->from);
		put_str(b, e->subject);
		put_str(b, e->to);
	}
}

static char *
take_str(const unsigned char **p, const unsigned char *end)
{
	const unsigned char *z = memchr(*p, 0, (size_t)(end - *p));
	char *s;

	if (!z)
		return NULL;
	s = sm_xstrndup((const char *)*p, (size_t)(z - *p));
	*p = z + 1;
	return s;
}

/* The entries of an encoded index (a segment, or the one-record form)
 * appended to IX as segment SEG; -1 (IX as it was) when malformed. */
static int
decode_append(struct sm_index *ix, const unsigned char *v, size_t n, int seg)
{
	const unsigned char *p = v + 4, *end = v + n;
	size_t fixed = SM_ID_CHARS + 8 + 4 + 32, first = ix->n;
	int v2;

	if (n < 4 || (memcmp(v, INDEX_MAGIC, 4) != 0 && memcmp(v, "SMX1", 4) != 0))
		return -1;
	if ((v2 = memcmp(v, INDEX_MAGIC, 4) == 0))
		fixed += 8;
	while (p < end) {
		struct sm_entry *e;
		int j;
		if ((size_t)(end - p) < fixed)
			goto bad;
		e = sm_index_add(ix);
		e->seg = seg;
		memcpy(e->id, p, SM_ID_CHARS);
		e->id[SM_ID_CHARS] = 0;
		for (j = 0; j < 8; j++)
			e->date = (int64_t)((uint64_t)e->date << 8 | p[SM_ID_CHARS + j]);
		e->flags = (unsigned)p[SM_ID_CHARS + 8] << 24 |
		    (unsigned)p[SM_ID_CHARS + 9] << 16 |
		    (unsigned)p[SM_ID_CHARS + 10] << 8 | p[SM_ID_CHARS + 11];
		memcpy(e->K, p + SM_ID_CHARS + 12, 32);
		if (v2)
			for (j = 0; j < 8; j++)
				e->expires = (int64_t)((uint64_t)e->expires << 8 |
				    p[SM_ID_CHARS + 44 + j]);
		p += fixed;
		if (!sm_id_valid(e->id) || !(e->from = take_str(&p, end)) ||
		    !(e->subject = take_str(&p, end)) || !(e->to = take_str(&p, end)))
			goto bad;
	}
	return 0;
bad:
	while (ix->n > first) {
		struct sm_entry *e = &ix->v[--ix->n];
		free(e->from);
		free(e->subject);
		free(e->to);
		sodium_memzero(e, sizeof *e);
	}
	return -1;
}

int
sm_index_decode(struct sm_index *ix, const unsigned char *v, size_t n)
{
	memset(ix, 0, sizeof *ix);
	if (decode_append(ix, v, n, -1) < 0) {
		sm_index_free(ix);
		return -1;
	}
	return 0;
}

static void
index_ad(sm_buf *ad, int which, const char *canon)
{
	sm_buf_puts(ad, "smail-index-v1");
	sm_buf_putc(ad, which);
	sm_buf_puts(ad, canon);
}

/* A segment's additional data binds its number too: segments cannot
 * be swapped. */
static void
seg_ad(sm_buf *ad, int which, const char *canon, uint32_t no)
{
	index_ad(ad, which, canon);
	sm_buf_putc(ad, 0);
	sm_buf_printf(ad, "%u", (unsigned)no);
}

#define HEAD_MAGIC "SMXH"

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put32(sm_buf *b, uint32_t v)
{
	unsigned char x[4] = { v >> 24, v >> 16, v >> 8, v };

	sm_buf_put(b, x, 4);
}

int
sm_index_head_decode(struct sm_index *ix, const unsigned char *v, size_t n)
{
	size_t i, count;

	if (n < 12 || memcmp(v, HEAD_MAGIC, 4) != 0)
		return -1;
	ix->next = get32(v + 4);
	count = get32(v + 8);
	if (n != 12 + 4 * count || count > (1u << 24))
		return -1;
	ix->seg = sm_xcalloc(count ? count : 1, sizeof *ix->seg);
	for (i = 0; i < count; i++) {
		ix->seg[i].no = get32(v + 12 + 4 * i);
		/* Ascending, and below the next number. */
		if (ix->seg[i].no >= ix->next ||
		    (i && ix->seg[i].no <= ix->seg[i - 1].no)) {
			free(ix->seg);
			ix->seg = NULL;
			return -1;
		}
	}
	ix->nseg = count;
	return 0;
}

static void
head_encode(sm_buf *b, const struct sm_index *ix)
{
	size_t i;

	sm_buf_put(b, HEAD_MAGIC, 4);
	put32(b, ix->next);
	put32(b, (uint32_t)ix->nseg);
	for (i = 0; i < ix->nseg; i++)
		put32(b, ix->seg[i].no);
}

/* Opens a sealed index record (a segment, or the one-record form)
 * and adds its entries to IX as segment SEG. */
static int
open_entries(struct sm_index *ix, const unsigned char k[32], const sm_buf *ad,
    const unsigned char *v, size_t n, int seg)
{
	sm_buf plain = { 0 };
	int rc;

	rc = sm_aead_open(&plain, k, ad->p, ad->len, v, n);
	if (rc == 0)
		rc = decode_append(ix, plain.p, plain.len, seg);
	sm_buf_free(&plain);
	return rc ? -1 : 0;
}

int
sm_index_load(sm_portal *p, const struct sm_ident *id, int which,
    struct sm_index *ix)
{
	char *key = head_key(which, id->canon);
	unsigned char *v, k[32];
	sm_buf ad = { 0 };
	size_t n, i;
	int rc;

	memset(ix, 0, sizeof *ix);
	sm_account_subkey(k, id->keys, "smail-index-v1");
	rc = sm_store_get(p, key, &v, &n);
	free(key);
	if (rc == 0) {
		rc = sm_index_head_decode(ix, v, n) < 0 ? -1 : 0;
		free(v);
		for (i = 0; rc == 0 && i < ix->nseg; i++) {
			key = seg_key(which, id->canon, ix->seg[i].no);
			rc = sm_store_get(p, key, &v, &n);
			free(key);
			if (rc) {
				rc = rc == 1 ? -1 : rc;
				break;
			}
			ad.len = 0;
			seg_ad(&ad, which, id->canon, ix->seg[i].no);
			rc = open_entries(ix, k, &ad, v, n, (int)i);
			free(v);
		}
	} else if (rc == 1) {
		/* No segments yet: the one-record form, or nothing. */
		key = legacy_key(which, id->canon);
		rc = sm_store_get(p, key, &v, &n);
		free(key);
		if (rc == 0) {
			index_ad(&ad, which, id->canon);
			rc = open_entries(ix, k, &ad, v, n, -1);
			ix->legacy = 1;
			free(v);
		} else if (rc == 1)
			rc = 0;
	}
	sodium_memzero(k, sizeof k);
	sm_buf_free(&ad);
	if (rc) {
		sm_index_free(ix);
		return rc < 0 ? sm_err(EX_DATAERR, "%s: the %s index is damaged",
		    id->addr, which == 'x' ? "message" : "draft") : rc;
	}
	return 0;
}

/* The entries of segment SEG, sealed. */
static void
seal_segment(const struct sm_index *ix, int seg, const unsigned char k[32],
    int which, const char *canon, sm_buf *out)
{
	struct sm_index part = { 0 };
	sm_buf ad = { 0 }, plain = { 0 };
	size_t i;

	for (i = 0; i < ix->n; i++)
		if (ix->v[i].seg == seg)
			*sm_index_add(&part) = ix->v[i];
	encode(&plain, &part);
	seg_ad(&ad, which, canon, ix->seg[seg].no);
	sm_aead_seal(out, k, ad.p, ad.len, plain.p, plain.len);
	/* PART borrowed IX's strings. */
	sodium_memzero(part.v, part.cap * sizeof *part.v);
	free(part.v);
	sm_buf_free(&ad);
	sm_buf_free(&plain);
}

/*
 * Writes what changed: new entries fill the last segment, then new
 * ones; a segment that changed is written again, one left empty goes;
 * the head when the list of segments changed.  IX stays usable.
 */
int
sm_index_save(sm_portal *p, const struct sm_ident *id, int which,
    struct sm_index *ix)
{
	size_t *count = sm_xcalloc(ix->nseg + ix->n + 1, sizeof *count);
	size_t i, j, nseg = ix->nseg;
	int rc = 0, headchanged = ix->legacy, last = nseg ? (int)nseg - 1 : -1;
	unsigned char k[32];
	char *key;

	for (i = 0; i < ix->n; i++)
		if (ix->v[i].seg >= 0 && (size_t)ix->v[i].seg < nseg)
			count[ix->v[i].seg]++;
		else
			ix->v[i].seg = -1;
	/* New entries: into the last segment while it has room, then into
	 * new ones. */
	for (i = 0; i < ix->n; i++) {
		if (ix->v[i].seg >= 0)
			continue;
		if (last < 0 || count[last] >= SM_INDEX_SEG) {
			ix->seg = sm_xrealloc(ix->seg, (ix->nseg + 1) * sizeof *ix->seg);
			ix->seg[ix->nseg].no = ix->next++;
			ix->seg[ix->nseg].dirty = 1;
			last = (int)ix->nseg++;
			headchanged = 1;
		}
		ix->v[i].seg = last;
		ix->seg[last].dirty = 1;
		count[last]++;
	}
	sm_account_subkey(k, id->keys, "smail-index-v1");
	for (i = 0; i < ix->nseg && rc == 0; i++) {
		if (!ix->seg[i].dirty)
			continue;
		key = seg_key(which, id->canon, ix->seg[i].no);
		if (count[i] == 0) {
			rc = sm_store_remove(p, key);
			headchanged = 1;
		} else {
			sm_buf sealed = { 0 };
			seal_segment(ix, (int)i, k, which, id->canon, &sealed);
			rc = sm_store_put(p, key, sealed.p, sealed.len);
			sm_buf_free(&sealed);
		}
		free(key);
		ix->seg[i].dirty = 0;
	}
	sodium_memzero(k, sizeof k);
	if (rc == 0 && headchanged) {
		/* Empty segments leave the list; the entries' numbers follow. */
		int *map = sm_xcalloc(ix->nseg + 1, sizeof *map);
		for (i = j = 0; i < ix->nseg; i++) {
			map[i] = count[i] ? (int)j : -1;
			if (count[i])
				ix->seg[j++] = ix->seg[i];
		}
		ix->nseg = j;
		for (i = 0; i < ix->n; i++)
			ix->v[i].seg = map[ix->v[i].seg];
		free(map);
		key = head_key(which, id->canon);
		if (ix->nseg == 0)
			rc = sm_store_remove(p, key);
		else {
			sm_buf head = { 0 };
			head_encode(&head, ix);
			rc = sm_store_put(p, key, head.p, head.len);
			sm_buf_free(&head);
		}
		free(key);
		if (rc == 0 && ix->legacy) {
			key = legacy_key(which, id->canon);
			rc = sm_store_remove(p, key);
			free(key);
			ix->legacy = 0;
		}
	}
	free(count);
	return rc;
}

/* ---- the delivery queue and holders ---- */

static int
list_get(sm_portal *p, const char *key, sm_buf *out)
{
	unsigned char *v;
	size_t n;
	int rc;

	rc = sm_store_get(p, key, &v, &n);
	if (rc == 1)
		return 0;
	if (rc)
		return rc;
	sm_buf_put(out, v, n);
	free(v);
	return 0;
}

/* Does the newline-separated LIST hold ITEM? */
static int
list_has(const sm_buf *l, const char *item)
{
	size_t n = strlen(item), i = 0;

	while (i < l->len) {
		const unsigned char *nl = memchr(l->p + i, '\n', l->len - i);
		size_t len = nl ? (size_t)(nl - (l->p + i)) : l->len - i;
		if (len == n && memcmp(l->p + i, item, n) == 0)
			return 1;
		i += len + 1;
	}
	return 0;
}

/* KEEP gets LIST without ITEM. */
static void
list_without(const sm_buf *l, const char *item, sm_buf *keep)
{
	size_t n = strlen(item), i = 0;

	while (i < l->len) {
		const unsigned char *nl = memchr(l->p + i, '\n', l->len - i);
		size_t len = nl ? (size_t)(nl - (l->p + i)) : l->len - i;
		if (!(len == n && memcmp(l->p + i, item, n) == 0)) {
			sm_buf_put(keep, l->p + i, len);
			sm_buf_putc(keep, '\n');
		}
		i += len + 1;
	}
}

/* Does the list at KEY (a segmented one when SEG) hold ITEM? */
static int
listed(sm_portal *p, const char *key, int seg, const char *item)
{
	sm_buf l = { 0 };
	int has;

	has = (seg ? sm_seglist_get(p, key, &l) : list_get(p, key, &l)) == 0 &&
	    list_has(&l, item);
	sm_buf_free(&l);
	return has;
}

/* Is message ID waiting in CANON's queue? */
int
sm_queued(sm_portal *p, const char *canon, const char *id)
{
	char *key = sm_xasprintf("q:%s", canon);
	int has = listed(p, key, 1, id);

	free(key);
	return has;
}

/* Takes message ID out of CANON's queue. */
int
sm_unqueue(sm_portal *p, const char *canon, const char *id)
{
	char *key = sm_xasprintf("q:%s", canon);
	sm_buf l = { 0 }, keep = { 0 };
	int rc;

	if ((rc = sm_seglist_get(p, key, &l)) == 0 && list_has(&l, id)) {
		list_without(&l, id, &keep);
		rc = sm_seglist_put(p, key, keep.p, keep.len);
	}
	sm_buf_free(&l);
	sm_buf_free(&keep);
	free(key);
	return rc;
}

int
sm_deliver(sm_portal *p, const char *id, const char *canon)
{
	char *key = sm_xasprintf("q:%s", canon);
	int rc;

	/* An append whatever the queue's length (a new id is never in it;
	 * the fold drops any repeat). */
	rc = sm_seglist_append(p, key, id);
	free(key);
	return rc;
}

/* Does CANON still hold message ID ("r:ID")? */
int
sm_holds(sm_portal *p, const char *id, const char *canon)
{
	char *key = sm_xasprintf("r:%s", id);
	int has = listed(p, key, 0, canon);

	free(key);
	return has;
}

int
sm_holders_set(sm_portal *p, const char *id, char *const *canon, size_t n)
{
	char *key = sm_xasprintf("r:%s", id);
	sm_buf l = { 0 };
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if (!list_has(&l, canon[i])) {
			sm_buf_puts(&l, canon[i]);
			sm_buf_putc(&l, '\n');
		}
	rc = sm_store_put(p, key, l.p, l.len);
	sm_buf_free(&l);
	free(key);
	return rc;
}

/*
 * CANON lets go of message ID.  When it was the last holder, the
 * holders' record is left empty and *LAST set: the caller wipes the
 * message with sm_wipe_unheld, in the same transaction.
 */
int
sm_release(sm_portal *p, const char *id, const char *canon, int *last)
{
	char *key = sm_xasprintf("r:%s", id);
	sm_buf l = { 0 }, keep = { 0 };
	int rc;

	*last = 0;
	if ((rc = list_get(p, key, &l)) != 0)
		goto out;
	list_without(&l, canon, &keep);
	rc = sm_store_put(p, key, keep.p ? keep.p : (unsigned char *)"", keep.len);
	*last = keep.len == 0;
out:
	sm_buf_free(&l);
	sm_buf_free(&keep);
	free(key);
	return rc;
}

/* In a write transaction: wipes message ID if nobody holds it (its
 * holders' record is empty). */
int
sm_wipe_unheld(sm_portal *p, const char *id)
{
	char *key = sm_xasprintf("r:%s", id);
	unsigned char *v;
	struct sm_env e;
	size_t n;
	int rc;

	rc = sm_store_get(p, key, &v, &n);
	if (rc == 1) {
		free(key);
		return 0;
	}
	if (rc) {
		free(key);
		return rc;
	}
	free(v);
	if (n) {               /* held again meanwhile?  Not ours to wipe. */
		free(key);
		return 0;
	}
	rc = sm_env_get(p, id, &e);
	if (rc == 0) {
		rc = sm_msg_wipe(p, &e);
		sm_env_free(&e);
	} else if (rc == EX_NOINPUT || rc == EX_DATAERR)
		rc = 0;        /* nothing left to read, or unreadable: drop it */
	if (rc == 0)
		rc = sm_store_remove(p, key);
	free(key);
	return rc;
}

/* Checks that the header's signing key is the sender's account key.
 * Accounts are never deleted, so a sender with no account here is a
 * forgery too.  The keys of senders seen lately are remembered: an
 * active account's signing key does not change, and folding a large
 * queue would otherwise read the same account again for every message. */
int
sm_env_check_sender(sm_portal *p, const struct sm_env *e)
{
	static struct {
		char canon[256];
		unsigned char pk[32];
	} seen[8];
	static unsigned next;
	struct sm_account a;
	unsigned i;
	int rc;

	for (i = 0; i < 8; i++)
		if (seen[i].canon[0] && strcmp(seen[i].canon, e->from) == 0)
			return sodium_memcmp(seen[i].pk, e->from_pk, 32) == 0 ? 0 :
			    sm_err(EX_DATAERR, "%s: the message is tampered with (not "
			    "signed by %s's key)", e->id, e->from);
	rc = sm_account_get(p, e->from, &a);
	if (rc == EX_NOUSER)
		return sm_err(EX_DATAERR, "%s: the message is tampered with (its "
		    "sender %s has no account here)", e->id, e->from);
	if (rc)
		return rc;
	rc = sodium_memcmp(a.pub.sign_pk, e->from_pk, 32) == 0 ? 0 :
	    sm_err(EX_DATAERR, "%s: the message is tampered with (not signed by "
	    "%s's key)", e->id, a.addr);
	if (a.state == SM_ACTIVE && strlen(e->from) < sizeof seen[0].canon) {
		i = next++ % 8;
		snprintf(seen[i].canon, sizeof seen[i].canon, "%s", e->from);
		memcpy(seen[i].pk, a.pub.sign_pk, 32);
	}
	sm_account_free(&a);
	return rc;
}

/* Builds an index entry for message ID: verifies the header and the
 * statement, and takes the content key. */
int
sm_entry_make(sm_portal *p, const struct sm_ident *id, const char *mid,
    struct sm_entry *out)
{
	struct sm_env e;
	struct sm_stmt s;
	size_t i;
	int rc;

	if ((rc = sm_env_get(p, mid, &e)) != 0)
		return rc;
	if ((rc = sm_env_check_sender(p, &e)) != 0 ||
	    (rc = sm_env_key(p, &e, id->canon, id->keys, out->K)) != 0 ||
	    (rc = sm_stmt_load(p, &e, out->K, &s)) != 0) {
		sm_env_free(&e);
		return rc;
	}
	memcpy(out->id, e.id, sizeof out->id);
	out->seg = -1;
	out->date = e.date;
	out->expires = e.expires;
	out->flags = s.natt ? SM_F_ATT : 0;
	out->from = sm_xstrdup(s.from);
	out->subject = sm_xstrdup(s.subject);
	{
		sm_buf t = { 0 };
		for (i = 0; i < s.nto; i++) {
			if (i)
				sm_buf_putc(&t, ',');
			sm_buf_puts(&t, s.to[i]);
		}
		sm_buf_putc(&t, 0);
		out->to = (char *)t.p;
	}
	sm_stmt_free(&s);
	sm_env_free(&e);
	return 0;
}

/*
 * In a write transaction: moves the messages queued for the account
 * into its index.  A message that does not verify is reported and
 * left queued; the others still arrive.
 */
/* A set of message ids (open addressing), so that folding a large
 * queue into a large index is not quadratic. */
struct idset {
	char (*v)[SM_ID_CHARS + 1];
	size_t cap;
};

static size_t
idhash(const char *id)
{
	size_t h = 5381;

	while (*id)
		h = h * 33 + (unsigned char)*id++;
	return h;
}

static void
idset_add(struct idset *s, const char *id)
{
	size_t i = idhash(id) & (s->cap - 1);

	while (s->v[i][0] && strcmp(s->v[i], id) != 0)
		i = (i + 1) & (s->cap - 1);
	snprintf(s->v[i], sizeof s->v[i], "%s", id);
}

static int
idset_has(const struct idset *s, const char *id)
{
	size_t i = idhash(id) & (s->cap - 1);

	while (s->v[i][0]) {
		if (strcmp(s->v[i], id) == 0)
			return 1;
		i = (i + 1) & (s->cap - 1);
	}
	return 0;
}

/* Room for what IX holds and the MORE a queue adds, at most half full. */
static void
idset_init(struct idset *s, const struct sm_index *ix, size_t more)
{
	size_t i;

	for (s->cap = 64; s->cap < 2 * (ix->n + more + 1); s->cap *= 2)
		;
	s->v = sm_xcalloc(s->cap, sizeof *s->v);
	for (i = 0; i < ix->n; i++)
		idset_add(s, ix->v[i].id);
}

int
sm_inbox_fold(sm_portal *p, const struct sm_ident *id, struct sm_index *ix,
    int *changed, sm_buf *kept)
{
	char *key = sm_xasprintf("q:%s", id->canon);
	sm_buf l = { 0 }, keep = { 0 };
	struct idset seen = { 0 };
	size_t i = 0;
	int rc, bad = 0;

	*changed = 0;
	if ((rc = sm_seglist_get(p, key, &l)) != 0 || l.len == 0)
		goto out;
	{
		size_t lines = 1, j;
		for (j = 0; j < l.len; j++)
			lines += l.p[j] == '\n';
		idset_init(&seen, ix, lines);
	}
	while (i < l.len) {
		const unsigned char *nl = memchr(l.p + i, '\n', l.len - i);
		size_t len = nl ? (size_t)(nl - (l.p + i)) : l.len - i;
		char *mid = sm_xstrndup((const char *)l.p + i, len);
		i += len + 1;
		if (!sm_id_valid(mid) || idset_has(&seen, mid)) {
			free(mid);
			continue;
		}
		idset_add(&seen, mid);
		{
			struct sm_entry tmp;
			memset(&tmp, 0, sizeof tmp);
			rc = sm_entry_make(p, id, mid, &tmp);
			if (rc == 0) {
				*sm_index_add(ix) = tmp;
			} else if (rc == EX_NOINPUT) {
				rc = 0;        /* gone (recalled or purged) */
			} else if (rc == EX_DATAERR) {
				bad = 1;       /* tampered: keep it queued, go on */
				sm_buf_puts(&keep, mid);
				sm_buf_putc(&keep, '\n');
				rc = 0;
			}
		}
		free(mid);
		if (rc)
			goto out;
	}
	*changed = 1;
	/* What stays queued (damaged ones) goes to the caller, which writes
	 * the queue only after the index that now holds the rest. */
	*kept = keep;
	memset(&keep, 0, sizeof keep);
out:
	free(seen.v);
	sm_buf_free(&l);
	sm_buf_free(&keep);
	free(key);
	return rc ? rc : bad ? EX_DATAERR : 0;
}

/*
 * Read marks: fetching a message appends its id to "u:ADDR" (a bounded
 * write, whatever the inbox's size) instead of rewriting the index;
 * the next listing sets the flags in the index and clears the list.
 */
int
sm_read_mark(sm_portal *p, const struct sm_ident *id, const char *mid)
{
	char *key = sm_xasprintf("u:%s", id->canon);
	int rc = sm_seglist_append(p, key, mid);

	free(key);
	return rc;
}

/* The read marks into IX; *CHANGED when a flag was set or marks wait
 * to be cleared (the caller saves the index, then clears them). */
static int
read_fold(sm_portal *p, const struct sm_ident *id, struct sm_index *ix,
    int *changed)
{
	char *key = sm_xasprintf("u:%s", id->canon);
	sm_buf l = { 0 };
	struct idset marks = { 0 };
	struct sm_index none = { 0 };
	size_t i = 0, lines = 0, j;
	int rc;

	if ((rc = sm_seglist_get(p, key, &l)) != 0 || l.len == 0)
		goto out;
	for (j = 0; j < l.len; j++)
		lines += l.p[j] == '\n';
	idset_init(&marks, &none, lines + 1);
	while (i < l.len) {
		const unsigned char *nl = memchr(l.p + i, '\n', l.len - i);
		size_t len = nl ? (size_t)(nl - (l.p + i)) : l.len - i;
		char *mid = sm_xstrndup((const char *)l.p + i, len);
		if (sm_id_valid(mid) && !idset_has(&marks, mid))
			idset_add(&marks, mid);
		free(mid);
		i += len + 1;
	}
	for (j = 0; j < ix->n; j++)
		if (idset_has(&marks, ix->v[j].id) &&
		    !(ix->v[j].flags & SM_F_READ)) {
			ix->v[j].flags |= SM_F_READ;
			sm_index_touch(ix, &ix->v[j]);
		}
	*changed = 1;
out:
	free(marks.v);
	sm_buf_free(&l);
	free(key);
	return rc;
}

/* Re-seals every message waiting for an invited account to its new
 * key (registration), in the registration's transaction. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
sm_inbox_rekey(sm_portal *p, const char *canon, const struct sm_keys *old,
    const unsigned char new_pk[32])
{
	char *key = sm_xasprintf("q:%s", canon), **ids = NULL;
	sm_buf l = { 0 };
	size_t i = 0, n = 0, k;
	int rc;

	if ((rc = sm_seglist_get(p, key, &l)) != 0)
		goto out;
	while (i < l.len) {
		const unsigned char *nl = memchr(l.p + i, '\n', l.len - i);
		size_t len = nl ? (size_t)(nl - (l.p + i)) : l.len - i;
		ids = sm_xrealloc(ids, (n + 1) * sizeof *ids);
		ids[n++] = sm_xstrndup((const char *)l.p + i, len);
		i += len + 1;
	}
	/* Each once: a repeat would find its stanza re-sealed already. */
	if (n)
		qsort(ids, n, sizeof *ids, cmp_str);
	for (k = 0; k < n && rc == 0; k++) {
		struct sm_env e;
		if (k && strcmp(ids[k], ids[k - 1]) == 0)
			continue;
		if (sm_id_valid(ids[k]) && (rc = sm_env_get(p, ids[k], &e)) == 0) {
			rc = sm_env_reseal(p, &e, canon, old, new_pk);
			sm_env_free(&e);
		}
		if (rc == EX_NOINPUT || rc == EX_DATAERR)
			rc = 0;        /* gone or damaged: nothing to carry over */
	}
out:
	for (k = 0; k < n; k++)
		free(ids[k]);
	free(ids);
	sm_buf_free(&l);
	free(key);
	return rc;
}

/* Newest first; within one second, the later arrival first (the index
 * keeps arrival order). */
static int
newest_first(const void *a, const void *b)
{
	const struct sm_entry *x = a, *y = b;

	if (x->date != y->date)
		return x->date < y->date ? 1 : -1;
	return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

void
sm_index_sort(struct sm_index *ix)
{
	size_t i;

	for (i = 0; i < ix->n; i++)
		ix->v[i].seq = i;
	if (ix->n > 1)
		qsort(ix->v, ix->n, sizeof *ix->v, newest_first);
}

/* Opens the account's index for a command: folds the queue in (saving
 * when it changed).  In a write transaction. */
int
sm_inbox_open(sm_portal *p, const struct sm_ident *id, struct sm_index *ix,
    int *bad)
{
	int rc, changed = 0, marked = 0, fold;
	sm_buf kept = { 0 };

	if ((rc = sm_index_load(p, id, 'x', ix)) != 0)
		return rc;
	fold = sm_inbox_fold(p, id, ix, &changed, &kept);
	if (bad)
		*bad = fold == EX_DATAERR;
	if (fold && fold != EX_DATAERR) {
		sm_buf_free(&kept);
		sm_index_free(ix);
		return fold;
	}
	/* After the queue, so that a message read before it was listed
	 * is in the index to take its mark. */
	if ((rc = read_fold(p, id, ix, &marked)) != 0) {
		sm_buf_free(&kept);
		sm_index_free(ix);
		return rc;
	}
	/* The index first, then the queue and the marks: a crash in
	 * between leaves ids the index has, which the next fold passes
	 * over; the other order would lose them. */
	if (changed || marked) {
		char *key = sm_xasprintf("q:%s", id->canon);
		if ((rc = sm_index_save(p, id, 'x', ix)) == 0 && changed)
			rc = sm_seglist_put(p, key, kept.p, kept.len);
		free(key);
		key = sm_xasprintf("u:%s", id->canon);
		if (rc == 0 && marked)
			rc = sm_seglist_remove(p, key);
		free(key);
	}
	sm_buf_free(&kept);
	if (rc) {
		sm_index_free(ix);
		return rc;
	}
	return 0;
}
