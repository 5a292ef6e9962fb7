/*
 * check.c: smail-admin check: every record verified without any
 * secret key, under one read lock, changing nothing.  A message's
 * header must decode and carry its sender's signature, every chunk
 * must match the hash the header signs, and the records that point at
 * messages (queues, holders, re-sealed stanzas) must point at ones
 * that exist.  Each problem is one line, ID<TAB>PROBLEM.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "smail.h"

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

struct report {
	FILE *out;
	unsigned bad, notes;
};

static void
problem(struct report *r, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
problem(struct report *r, const char *id, const char *fmt, ...)
{
	va_list ap;
	char msg[300];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* Control characters as spaces (show.c), in the id too. */
	sm_put_field(r->out, id);
	fputc('\t', r->out);
	sm_put_field(r->out, msg);
	fputc('\n', r->out);
	r->bad++;
}

static void
audit_problem(void *arg, const char *id, const char *msg)
{
	problem(arg, id, "%s", msg);
}

/* A header, then every chunk against the hash it signs. */
static void
check_message(sm_portal *p, const char *id, struct report *r)
{
	struct sm_env e;
	size_t i;
	uint32_t n;
	int rc;

	/* sm_env_get prints its own reason; the report line names it.  A
	 * header zeroed by an interrupted wipe reads as gone. */
	rc = sm_env_get(p, id, &e);
	if (rc == EX_NOINPUT) {
		r->notes++;
		return;
	}
	if (rc == EX_DATAERR) {
		problem(r, id, "the header does not decode or its signature "
		    "does not verify");
		return;
	}
	if (rc) {
		problem(r, id, "the header cannot be read");
		return;
	}
	if (sm_env_check_sender(p, &e) != 0) {
		char *a = sm_xasprintf("acct:%s", e.from);
		if (sm_store_exists(p, a))
			problem(r, id, "not signed by the sender's key");
		else
			problem(r, id, "its sender %s has no account", e.from);
		free(a);
	}
	for (i = 0; i < e.nparts; i++)
		for (n = 0; n < e.parts[i].nchunks; n++) {
			char *key = sm_chunk_key(id, (unsigned)i, n);
			unsigned char *v, h[32];
			size_t len;
			rc = sm_store_get(p, key, &v, &len);
			free(key);
			if (rc == 1) {
				problem(r, id, "chunk %u of part %zu is missing",
				    (unsigned)n, i);
				continue;
			}
			if (rc) {
				problem(r, id, "chunk %u of part %zu cannot be read",
				    (unsigned)n, i);
				continue;
			}
			crypto_generichash(h, 32, v, len, NULL, 0);
			if (sodium_memcmp(h, e.parts[i].hashes + 32 * (size_t)n, 32) != 0)
				problem(r, id, "chunk %u of part %zu does not match its "
				    "signed hash", (unsigned)n, i);
			free(v);
		}
	sm_env_free(&e);
}

/* "q:ADDR", "S:ADDR" or "r:ID": newline-separated lists. */
/*
 * An index's head "X:ADDR" must decode and name segments that exist; a
 * segment "X:ADDR:N" must be of an encrypted record's size, and named
 * by its head (an unnamed one is a harmless leftover, for purge).
 */
static void
check_index(sm_portal *p, const char *k, const struct keys *all,
    struct report *r)
{
	const char *colon = strchr(k + 2, ':');
	char *addr = colon ? sm_xstrndup(k + 2, (size_t)(colon - k - 2)) :
	    sm_xstrdup(k + 2), *a = sm_xasprintf("acct:%s", addr);
	unsigned char *v;
	size_t n, i;

	if (!has(all, a))
		problem(r, k, "belongs to no account");
	free(a);
	if (sm_store_get(p, k, &v, &n) != 0) {
		free(addr);
		return;
	}
	if (colon) {
		char *head = sm_xasprintf("%c:%s", k[0], addr);
		struct sm_index ix;
		unsigned char *hv;
		size_t hn;
		int named = 0;
		if (n < 24 + 16)
			problem(r, k, "too short to be an encrypted record");
		memset(&ix, 0, sizeof ix);
		if (sm_store_get(p, head, &hv, &hn) == 0) {
			if (sm_index_head_decode(&ix, hv, hn) == 0)
				for (i = 0; i < ix.nseg; i++)
					named |= strtoul(colon + 1, NULL, 10) ==
					    ix.seg[i].no;
			free(hv);
		}
		if (!named)
			r->notes++;
		sm_index_free(&ix);
		free(head);
	} else {
		struct sm_index ix;
		memset(&ix, 0, sizeof ix);
		if (sm_index_head_decode(&ix, v, n) < 0)
			problem(r, k, "the index's head is damaged");
		for (i = 0; i < ix.nseg; i++) {
			char *seg = sm_xasprintf("%s:%u", k, (unsigned)ix.seg[i].no);
			if (!has(all, seg))
				problem(r, k, "names segment %u, which is missing",
				    (unsigned)ix.seg[i].no);
			free(seg);
		}
		sm_index_free(&ix);
	}
	free(v);
	free(addr);
}

static void
check_list(sm_portal *p, const char *key, const struct keys *all,
    struct report *r, int ids)
{
	unsigned char *v;
	size_t n, i = 0;
	int rc;

	if (key[0] == 'q' || key[0] == 'S' || key[0] == 'u') {
		/* A list in segments (seglist.c): all of them, in order. */
		sm_buf b = { 0 };
		if ((rc = sm_seglist_get(p, key, &b)) != 0) {
			sm_buf_free(&b);
			problem(r, key, "cannot be read");
			return;
		}
		v = b.p ? b.p : sm_xcalloc(1, 1);
		n = b.len;
	} else if (sm_store_get(p, key, &v, &n) != 0) {
		problem(r, key, "cannot be read");
		return;
	}
	while (i < n) {
		const unsigned char *nl = memchr(v + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (v + i)) : n - i;
		char *item = sm_xstrndup((const char *)v + i, len);
		i += len + 1;
		if (memchr(v + i - len - 1, 0, len)) {
			problem(r, key, "holds a NUL byte");
		} else if (ids) {
			char *m = sm_xasprintf("m:%s", item);
			if (!sm_id_valid(item))
				problem(r, key, "holds a malformed id");
			else if (!has(all, m))
				r->notes++;    /* recalled, purged, or an interrupted send */
			free(m);
		} else {
			char *a = sm_xasprintf("acct:%s", item), *c = NULL;
			if (sm_addr_canon_quiet(item, &c) != 0)
				problem(r, key, "holds a malformed address");
			else if (!has(all, a))
				problem(r, key, "names %s, which has no account", item);
			free(c);
			free(a);
		}
		free(item);
	}
	free(v);
}

int
sm_check(sm_portal *p, const char *anchors, FILE *out, unsigned *nbad,
    unsigned *nmsg)
{
	struct keys all = { 0 };
	struct report r = { out, 0, 0 };
	struct sm_anchors *an = NULL;
	size_t i;
	int rc;

	*nbad = *nmsg = 0;
	/* The anchors are read first: the lock is not held while a pipe
	 * from journalctl fills. */
	if (anchors && (rc = sm_anchors_read(p, anchors, &an)) != 0)
		return rc;
	if ((rc = sm_store_begin(p, 0)) != 0) {
		sm_anchors_free(an);
		return rc;
	}
	if ((rc = sm_store_each(p, "", collect, &all)) != 0) {
		sm_store_end(p);
		sm_anchors_free(an);
		return rc;
	}
	qsort(all.v, all.n, sizeof *all.v, cmp);
	for (i = 0; i < all.n; i++) {
		const char *k = all.v[i];
		if (strcmp(k, "meta") == 0 || strncmp(k, "a:", 2) == 0)
			continue;          /* the audit chain is walked below */
		if (strcmp(k, "recalls") == 0) {
			struct sm_recalls rs;
			size_t j;
			sm_recalls_load(p, &rs);
			if (!rs.valid)
				problem(&r, k, "the recalled set is damaged");
			for (j = 0; j < rs.n; j++) {
				char *m = sm_xasprintf("R:%.*s", SM_ID_CHARS,
				    rs.ids + j * SM_ID_CHARS);
				if (!has(&all, m))
					problem(&r, m + 2, "in the recalled set without "
					    "its recall record");
				free(m);
			}
			sm_recalls_free(&rs);
			continue;
		}
		if (strncmp(k, "acct:", 5) == 0) {
			struct sm_account a;
			int ar = sm_account_get(p, k + 5, &a);
			if (ar == 0)
				sm_account_free(&a);
			else
				problem(&r, k + 5, "the account record is damaged or its "
				    "keys do not verify");
		} else if (strncmp(k, "m:", 2) == 0) {
			(*nmsg)++;
			check_message(p, k + 2, &r);
		} else if (strncmp(k, "c:", 2) == 0) {
			const char *colon = strchr(k + 2, ':');
			char *m = colon ? sm_xasprintf("m:%.*s", (int)(colon - k - 2),
			    k + 2) : NULL;
			if (!m)
				problem(&r, k, "a malformed chunk key");
			else if (!has(&all, m))
				r.notes++;     /* left by an interrupted send */
			free(m);
		} else if (strncmp(k, "k:", 2) == 0) {
			const char *colon = strchr(k + 2, ':');
			char *m = colon ? sm_xasprintf("m:%.*s", (int)(colon - k - 2),
			    k + 2) : NULL;
			unsigned char *v;
			size_t n;
			if (!m)
				problem(&r, k, "a malformed key");
			else if (sm_store_get(p, k, &v, &n) == 0) {
				if (n != SM_STANZA_BYTES)
					problem(&r, k, "a re-sealed stanza of the wrong size");
				free(v);
			}
			free(m);
		} else if (strncmp(k, "q:", 2) == 0 || strncmp(k, "S:", 2) == 0 ||
		    strncmp(k, "u:", 2) == 0) {
			if (!sm_seglist_is_segment(k))
				check_list(p, k, &all, &r, 1);
			else if (!sm_seglist_named(p, k))
				r.notes++;     /* a segment a crash left unnamed */
		} else if (strncmp(k, "d:", 2) == 0) {
			struct sm_dlv d;
			if (sm_dlv_get(p, k + 2, &d) == 0)
				sm_dlv_free(&d);
			else
				problem(&r, k + 2, "the delivery record is damaged");
		} else if (strncmp(k, "R:", 2) == 0) {
			unsigned char *v;
			size_t n;
			struct sm_recalls rs;
			struct sm_entry e = { 0 };
			if (sm_store_get(p, k, &v, &n) == 0) {
				if (n != 8)
					problem(&r, k + 2, "the recall record is damaged");
				free(v);
			}
			/* A recall missing from the set would still list. */
			sm_recalls_load(p, &rs);
			if (strlen(k + 2) == SM_ID_CHARS && rs.valid) {
				memcpy(e.id, k + 2, SM_ID_CHARS);
				if (sm_entry_live(p, &e, &rs))
					problem(&r, k + 2, "recalled, but not in the "
					    "recalled set");
			}
			sm_recalls_free(&rs);
		} else if (strncmp(k, "r:", 2) == 0) {
			char *m = sm_xasprintf("m:%s", k + 2);
			check_list(p, k, &all, &r, 0);
			if (!has(&all, m))
				r.notes++;
			free(m);
		} else if (strncmp(k, "X:", 2) == 0 || strncmp(k, "Y:", 2) == 0) {
			check_index(p, k, &all, &r);
		} else if (strncmp(k, "x:", 2) == 0 || strncmp(k, "y:", 2) == 0 ||
		    strncmp(k, "b:", 2) == 0 || strncmp(k, "sess:", 5) == 0) {
			/* Encrypted under keys check does not have: their form only. */
			unsigned char *v;
			size_t n;
			if (sm_store_get(p, k, &v, &n) == 0) {
				if (k[0] != 's' && n < 24 + 16)
					problem(&r, k, "too short to be an encrypted record");
				free(v);
			}
			if (k[0] != 's') {
				char *a = sm_xasprintf("acct:%s", k + 2);
				if (!has(&all, a))
					problem(&r, k, "belongs to no account");
				free(a);
			}
		} else
			problem(&r, k, "an unknown record");
	}
	rc = sm_audit_walk(p, NULL, NULL, 0, audit_problem, &r);
	if (an && (rc == 0 || rc == EX_DATAERR))
		sm_anchors_check(p, an, audit_problem, &r);
	sm_anchors_free(an);
	if (sm_store_cut_short(p))
		sm_note("the store's other copy is to be made again (a change "
		    "was cut short, or the machine restarted since): the next "
		    "command that writes does it; the good copy holds every "
		    "committed record");
	sm_store_end(p);
	if (rc && rc != EX_DATAERR) {
		for (i = 0; i < all.n; i++)
			free(all.v[i]);
		free(all.v);
		return rc;
	}
	for (i = 0; i < all.n; i++)
		free(all.v[i]);
	free(all.v);
	if (r.notes)
		sm_note("%u record%s left by interrupted or removed messages "
		    "(harmless)", r.notes, r.notes == 1 ? "" : "s");
	*nbad = r.bad;
	return 0;
}
