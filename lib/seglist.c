/*
 * seglist.c: lists that grow by one item per message ("q:ADDR", the
 * ids waiting for a recipient; "S:ADDR", the ids a sender sent), kept
 * in segments so that an append costs the same at the millionth item
 * as at the first.
 *
 * A list rewritten whole on every append costs O(n) per message, and
 * in GDBM worse: the grown value never fits the block the smaller one
 * freed, so the file grows by the list's size at every append (O(n^2)
 * in all).  Here the head record KEY holds the newest items, and, when
 * there are older ones, a first line "#N" naming segments KEY:1 ... KEY:N
 * (oldest first), each written once when the head fills up.  Items are
 * lines.  Addresses hold no ':', so KEY:N never names another list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smail.h"

#define SEG_ITEMS 64             /* items in the head before it rolls over */

/* The head's segment count, and where its items start. */
static unsigned
head_count(const unsigned char *v, size_t n, size_t *items)
{
	unsigned long c = 0;
	size_t i = 1;

	*items = 0;
	if (n < 3 || v[0] != '#')
		return 0;
	while (i < n && v[i] >= '0' && v[i] <= '9' && c < 1000000000UL)
		c = c * 10 + (unsigned long)(v[i++] - '0');
	if (i >= n || v[i] != '\n')
		return 0;
	*items = i + 1;
	return (unsigned)c;
}

int
sm_seglist_is_segment(const char *key)
{
	const char *c = strchr(key, ':');

	return c && strchr(c + 1, ':') != NULL;
}

int
sm_seglist_segments(sm_portal *p, const char *key, unsigned *nseg)
{
	unsigned char *v;
	size_t n, items;
	int rc;

	*nseg = 0;
	if ((rc = sm_store_get(p, key, &v, &n)) == 1)
		return 0;
	if (rc)
		return rc;
	*nseg = head_count(v, n, &items);
	free(v);
	return 0;
}

int
sm_seglist_named(sm_portal *p, const char *seg)
{
	const char *c = strrchr(seg, ':');
	char *head, *end;
	unsigned nseg = 0;
	unsigned long i;

	if (!c || !sm_seglist_is_segment(seg))
		return 0;
	i = strtoul(c + 1, &end, 10);
	if (*end || end == c + 1)
		return 0;
	head = sm_xstrndup(seg, (size_t)(c - seg));
	sm_seglist_segments(p, head, &nseg);
	free(head);
	return i >= 1 && i <= nseg;
}

int
sm_seglist_get(sm_portal *p, const char *key, sm_buf *out)
{
	unsigned char *v, *s;
	size_t n, sn, items;
	unsigned i, c;
	int rc;

	if ((rc = sm_store_get(p, key, &v, &n)) == 1)
		return 0;
	if (rc)
		return rc;
	c = head_count(v, n, &items);
	for (i = 1; i <= c && rc == 0; i++) {
		char *k = sm_xasprintf("%s:%u", key, i);
		if ((rc = sm_store_get(p, k, &s, &sn)) == 0) {
			sm_buf_put(out, s, sn);
			free(s);
		} else if (rc == 1)
			rc = 0;         /* a segment lost to a crash: its items go */
		free(k);
	}
	if (rc == 0)
		sm_buf_put(out, v + items, n - items);
	free(v);
	return rc;
}

int
sm_seglist_append(sm_portal *p, const char *key, const char *item)
{
	unsigned char *v = NULL;
	size_t n = 0, items = 0, i, lines = 0;
	unsigned c = 0;
	sm_buf b = { 0 };
	int rc;

	rc = sm_store_get(p, key, &v, &n);
	if (rc != 0 && rc != 1)
		return rc;
	if (rc == 0)
		c = head_count(v, n, &items);
	for (i = items; i < n; i++)
		lines += v[i] == '\n';
	if (lines >= SEG_ITEMS) {
		/* The head is full: its items become segment c+1, written
		 * before the head that names it. */
		char *k = sm_xasprintf("%s:%u", key, c + 1);
		rc = sm_store_put(p, k, v + items, n - items);
		free(k);
		if (rc) {
			free(v);
			return rc;
		}
		c++;
		n = items;              /* nothing of the old head stays */
	}
	if (c)
		sm_buf_printf(&b, "#%u\n", c);
	if (n > items)
		sm_buf_put(&b, v + items, n - items);
	sm_buf_printf(&b, "%s\n", item);
	rc = sm_store_put(p, key, b.p, b.len);
	sm_buf_free(&b);
	free(v);
	return rc;
}

int
sm_seglist_remove(sm_portal *p, const char *key)
{
	return sm_seglist_put(p, key, NULL, 0);
}

int
sm_seglist_put(sm_portal *p, const char *key, const void *items, size_t n)
{
	unsigned c, i;
	int rc;

	/* The head first: a crash before the old segments go leaves them
	 * unnamed (leftovers for purge), never a head naming lost ones. */
	if ((rc = sm_seglist_segments(p, key, &c)) != 0)
		return rc;
	rc = n ? sm_store_put(p, key, items, n) : sm_store_remove(p, key);
	for (i = 1; i <= c && rc == 0; i++) {
		char *k = sm_xasprintf("%s:%u", key, i);
		rc = sm_store_remove(p, k);
		free(k);
	}
	return rc;
}
