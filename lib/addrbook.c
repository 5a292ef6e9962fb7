/*
 * addrbook.c: the account's address book: contacts (First, Last,
 * E-mail) and groups of contacts.  It is private to the account and
 * stored as one record "b:ADDR" encrypted under a subkey of the
 * account's keys: no contact or group name is in the clear.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "smail.h"

#define BOOK_MAGIC "SMB1\n"

void
sm_book_free(struct sm_book *b)
{
	size_t i, j;

	for (i = 0; i < b->nc; i++) {
		free(b->c[i].first);
		free(b->c[i].last);
		free(b->c[i].addr);
	}
	free(b->c);
	for (i = 0; i < b->ng; i++) {
		free(b->g[i].name);
		for (j = 0; j < b->g[i].n; j++)
			free(b->g[i].members[j]);
		free(b->g[i].members);
	}
	free(b->g);
	memset(b, 0, sizeof *b);
}

/* Text that may go into the book: no control characters, not too long. */
int
sm_book_text_ok(const char *s)
{
	return strlen(s) <= 201 && !sm_has_ctrl(s);   /* C1 too (show.c) */
}

/* A group name: not empty, no ',' (manifests split at it), no leading
 * '@' (recipients name groups with it), no control characters. */
int
sm_group_name_ok(const char *g)
{
	return *g && *g != '@' && !strchr(g, ',') && sm_book_text_ok(g);
}

int
sm_addr_same(const char *a, const char *b)
{
	char *x = NULL, *y = NULL;
	int same;

	if (sm_addr_canon_quiet(a, &x) == 0 && sm_addr_canon_quiet(b, &y) == 0)
		same = strcmp(x, y) == 0;
	else
		same = strcmp(a, b) == 0;
	free(x);
	free(y);
	return same;
}

struct sm_contact *
sm_book_contact(struct sm_book *b, const char *addr)
{
	size_t i;

	for (i = 0; i < b->nc; i++)
		if (sm_addr_same(b->c[i].addr, addr))
			return &b->c[i];
	return NULL;
}

/* Adds or updates a contact in place. */
void
sm_book_set_contact(struct sm_book *b, const char *addr, const char *first,
    const char *last)
{
	struct sm_contact *c = sm_book_contact(b, addr);

	if (!c) {
		b->c = sm_xrealloc(b->c, (b->nc + 1) * sizeof *b->c);
		c = &b->c[b->nc++];
		c->addr = sm_xstrdup(addr);
	} else {
		free(c->first);
		free(c->last);
	}
	c->first = sm_xstrdup(first ? first : "");
	c->last = sm_xstrdup(last ? last : "");
}

struct sm_group *
sm_book_group(struct sm_book *b, const char *name, int create)
{
	size_t i;

	for (i = 0; i < b->ng; i++)
		if (strcmp(b->g[i].name, name) == 0)
			return &b->g[i];
	if (!create)
		return NULL;
	b->g = sm_xrealloc(b->g, (b->ng + 1) * sizeof *b->g);
	memset(&b->g[b->ng], 0, sizeof b->g[0]);
	b->g[b->ng].name = sm_xstrdup(name);
	return &b->g[b->ng++];
}

int
sm_group_has(const struct sm_group *g, const char *addr)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (sm_addr_same(g->members[i], addr))
			return 1;
	return 0;
}

void
sm_group_add(struct sm_group *g, const char *addr)
{
	if (sm_group_has(g, addr))
		return;
	g->members = sm_xrealloc(g->members, (g->n + 1) * sizeof *g->members);
	g->members[g->n++] = sm_xstrdup(addr);
}

int
sm_group_remove(struct sm_group *g, const char *addr)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (sm_addr_same(g->members[i], addr)) {
			free(g->members[i]);
			memmove(&g->members[i], &g->members[i + 1],
			    (g->n - i - 1) * sizeof *g->members);
			g->n--;
			return 1;
		}
	return 0;
}

void
sm_book_delete_group(struct sm_book *b, struct sm_group *g)
{
	size_t i = (size_t)(g - b->g), j;

	free(g->name);
	for (j = 0; j < g->n; j++)
		free(g->members[j]);
	free(g->members);
	memmove(g, g + 1, (b->ng - i - 1) * sizeof *g);
	b->ng--;
}

/* Removes a contact, and takes it out of every group. */
int
sm_book_remove_contact(struct sm_book *b, const char *addr)
{
	struct sm_contact *c = sm_book_contact(b, addr);
	size_t i;

	if (!c)
		return 0;
	for (i = 0; i < b->ng; i++)
		sm_group_remove(&b->g[i], c->addr);
	free(c->first);
	free(c->last);
	free(c->addr);
	i = (size_t)(c - b->c);
	memmove(c, c + 1, (b->nc - i - 1) * sizeof *c);
	b->nc--;
	return 1;
}

static int
cmp_contact(const void *x, const void *y)
{
	const struct sm_contact *a = x, *b = y;
	int r;

	if ((r = strcasecmp(a->last, b->last)) != 0)
		return r;
	if ((r = strcasecmp(a->first, b->first)) != 0)
		return r;
	if ((r = strcmp(a->last, b->last)) != 0)
		return r;
	if ((r = strcmp(a->first, b->first)) != 0)
		return r;
	return strcmp(a->addr, b->addr);
}

static int
cmp_group(const void *x, const void *y)
{
	return strcmp(((const struct sm_group *)x)->name,
	    ((const struct sm_group *)y)->name);
}

void
sm_book_sort(struct sm_book *b)
{
	if (b->nc > 1)
		qsort(b->c, b->nc, sizeof *b->c, cmp_contact);
	if (b->ng > 1)
		qsort(b->g, b->ng, sizeof *b->g, cmp_group);
}

/* "Last, First" (or whichever half there is). */
void
sm_contact_display(const struct sm_contact *c, sm_buf *out)
{
	if (*c->last && *c->first)
		sm_buf_printf(out, "%s, %s", c->last, c->first);
	else
		sm_buf_puts(out, *c->last ? c->last : c->first);
}

/* ---- storage: one encrypted record ---- */

static void
encode(sm_buf *out, const struct sm_book *b)
{
	size_t i, j;

	sm_buf_puts(out, BOOK_MAGIC);
	for (i = 0; i < b->nc; i++)
		sm_buf_printf(out, "C\t%s\t%s\t%s\n", b->c[i].addr, b->c[i].first,
		    b->c[i].last);
	for (i = 0; i < b->ng; i++) {
		sm_buf_printf(out, "G\t%s\n", b->g[i].name);
		for (j = 0; j < b->g[i].n; j++)
			sm_buf_printf(out, "M\t%s\n", b->g[i].members[j]);
	}
}

int
sm_book_decode(struct sm_book *b, const char *text, size_t len)
{
	const char *p = text + strlen(BOOK_MAGIC), *end = text + len;
	struct sm_group *g = NULL;

	memset(b, 0, sizeof *b);
	if (len < strlen(BOOK_MAGIC) || memcmp(text, BOOK_MAGIC, strlen(BOOK_MAGIC)) != 0 ||
	    memchr(text, 0, len))
		return -1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char *line, *f[4], *save = NULL, *t;
		int n = 0;
		if (!nl)
			goto bad;
		line = sm_xstrndup(p, (size_t)(nl - p));
		p = nl + 1;
		/* Split at TABs, keeping empty fields. */
		for (t = line; n < 4; ) {
			char *tab = strchr(t, '\t');
			f[n++] = t;
			if (!tab)
				break;
			*tab = 0;
			t = tab + 1;
		}
		(void)save;
		if (n == 4 && strcmp(f[0], "C") == 0 && *f[1]) {
			sm_book_set_contact(b, f[1], f[2], f[3]);
			g = NULL;
		} else if (n == 2 && strcmp(f[0], "G") == 0 && *f[1]) {
			g = sm_book_group(b, f[1], 1);
		} else if (n == 2 && strcmp(f[0], "M") == 0 && g && *f[1]) {
			sm_group_add(g, f[1]);
		} else {
			free(line);
			goto bad;
		}
		free(line);
	}
	return 0;
bad:
	sm_book_free(b);
	return -1;
}

static void
book_ad(sm_buf *ad, const char *canon)
{
	sm_buf_puts(ad, "smail-book-v1");
	sm_buf_putc(ad, 0);
	sm_buf_puts(ad, canon);
}

int
sm_book_load(sm_portal *p, const struct sm_ident *id, struct sm_book *b)
{
	char *key = sm_xasprintf("b:%s", id->canon);
	unsigned char *v, k[32];
	sm_buf ad = { 0 }, plain = { 0 };
	size_t n;
	int rc;

	memset(b, 0, sizeof *b);
	rc = sm_store_get(p, key, &v, &n);
	free(key);
	if (rc == 1)
		return 0;
	if (rc)
		return rc;
	sm_account_subkey(k, id->keys, "smail-book-v1");
	book_ad(&ad, id->canon);
	rc = sm_aead_open(&plain, k, ad.p, ad.len, v, n);
	sodium_memzero(k, sizeof k);
	free(v);
	sm_buf_free(&ad);
	if (rc == 0)
		rc = sm_book_decode(b, (const char *)plain.p, plain.len);
	sm_buf_free(&plain);
	if (rc)
		return sm_err(EX_DATAERR, "%s: the address book is damaged", id->addr);
	return 0;
}

int
sm_book_save(sm_portal *p, const struct sm_ident *id, const struct sm_book *b)
{
	char *key = sm_xasprintf("b:%s", id->canon);
	unsigned char k[32];
	sm_buf ad = { 0 }, plain = { 0 }, sealed = { 0 };
	int rc;

	encode(&plain, b);
	sm_account_subkey(k, id->keys, "smail-book-v1");
	book_ad(&ad, id->canon);
	sm_aead_seal(&sealed, k, ad.p, ad.len, plain.p, plain.len);
	sodium_memzero(k, sizeof k);
	rc = sm_store_put(p, key, sealed.p, sealed.len);
	free(key);
	sm_buf_free(&ad);
	sm_buf_free(&plain);
	sm_buf_free(&sealed);
	return rc;
}

/*
 * Replaces every "@group" in V with the group's members (from the
 * acting account's book).  An unknown group: 66, and V is unchanged.
 */
int
sm_book_expand(sm_portal *p, const struct sm_ident *id, char ***v, size_t *n)
{
	struct sm_book b;
	char **out = NULL;
	size_t i, j, m = 0;
	int rc = 0, any = 0;

	for (i = 0; i < *n; i++)
		if ((*v)[i][0] == '@')
			any = 1;
	if (!any)
		return 0;
	if ((rc = sm_store_begin(p, 0)) != 0)
		return rc;
	rc = sm_book_load(p, id, &b);
	sm_store_end(p);
	if (rc)
		return rc;
	for (i = 0; i < *n && rc == 0; i++) {
		struct sm_group *g;
		if ((*v)[i][0] != '@') {
			out = sm_xrealloc(out, (m + 1) * sizeof *out);
			out[m++] = sm_xstrdup((*v)[i]);
			continue;
		}
		if (!(g = sm_book_group(&b, (*v)[i] + 1, 0))) {
			rc = sm_err(EX_NOINPUT, "%s: no such group", (*v)[i]);
			break;
		}
		if (g->n == 0) {
			rc = sm_err(EX_DATAERR, "%s: the group is empty", (*v)[i]);
			break;
		}
		for (j = 0; j < g->n; j++) {
			out = sm_xrealloc(out, (m + 1) * sizeof *out);
			out[m++] = sm_xstrdup(g->members[j]);
		}
	}
	sm_book_free(&b);
	if (rc) {
		for (i = 0; i < m; i++)
			free(out[i]);
		free(out);
		return rc;
	}
	for (i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = out;
	*n = m;
	return 0;
}
