/* buf.c: growable buffers and the tag-length-value record codec. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "smail.h"

static void
grow(sm_buf *b, size_t n)
{
	size_t cap;
	unsigned char *p;

	if (n <= b->cap - b->len)
		return;
	if (n > SIZE_MAX / 2 - b->len)
		sm_die(EX_OSERR, "out of memory");
	cap = b->cap ? b->cap : 64;
	while (cap - b->len < n)
		cap *= 2;
	/* Copy rather than realloc so that no stale copy of secret bytes
	 * is left behind in freed memory. */
	p = sm_xmalloc(cap);
	if (b->len)
		memcpy(p, b->p, b->len);
	if (b->p) {
		sodium_memzero(b->p, b->cap);
		free(b->p);
	}
	b->p = p;
	b->cap = cap;
}

void
sm_buf_put(sm_buf *b, const void *p, size_t n)
{
	grow(b, n);
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void
sm_buf_putc(sm_buf *b, int c)
{
	unsigned char ch = (unsigned char)c;

	sm_buf_put(b, &ch, 1);
}

void
sm_buf_puts(sm_buf *b, const char *s)
{
	sm_buf_put(b, s, strlen(s));
}

void
sm_buf_printf(sm_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	grow(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
sm_buf_free(sm_buf *b)
{
	if (b->p) {
		sodium_memzero(b->p, b->cap);
		free(b->p);
	}
	b->p = NULL;
	b->len = b->cap = 0;
}

void
sm_rec_begin(sm_buf *b, const char magic[4])
{
	sm_buf_put(b, magic, 4);
}

void
sm_rec_bytes(sm_buf *b, unsigned tag, const void *p, size_t n)
{
	unsigned char h[5];

	h[0] = (unsigned char)tag;
	h[1] = (unsigned char)(n >> 24);
	h[2] = (unsigned char)(n >> 16);
	h[3] = (unsigned char)(n >> 8);
	h[4] = (unsigned char)n;
	sm_buf_put(b, h, 5);
	sm_buf_put(b, p, n);
}

void
sm_rec_str(sm_buf *b, unsigned tag, const char *s)
{
	if (s)
		sm_rec_bytes(b, tag, s, strlen(s));
}

void
sm_rec_u64(sm_buf *b, unsigned tag, uint64_t v)
{
	unsigned char x[8];
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		x[i] = (unsigned char)v;
	sm_rec_bytes(b, tag, x, 8);
}

int
sm_rd_begin(sm_rd *r, const void *p, size_t n, const char magic[4])
{
	r->p = p;
	r->len = n;
	r->off = 4;
	if (n < 4 || memcmp(p, magic, 4) != 0)
		return -1;
	return 0;
}

int
sm_rd_next(sm_rd *r, unsigned *tag, const unsigned char **p, size_t *n)
{
	const unsigned char *h;
	size_t len;

	if (r->off == r->len)
		return 0;
	if (r->len - r->off < 5)
		return -1;
	h = r->p + r->off;
	len = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];
	if (len > r->len - r->off - 5)
		return -1;
	*tag = h[0];
	*p = h + 5;
	*n = len;
	r->off += 5 + len;
	return 1;
}

int
sm_rd_u64(const unsigned char *p, size_t n, uint64_t *v)
{
	size_t i;

	if (n != 8)
		return -1;
	*v = 0;
	for (i = 0; i < 8; i++)
		*v = *v << 8 | p[i];
	return 0;
}

char *
sm_rd_str(const unsigned char *p, size_t n)
{
	if (memchr(p, 0, n))
		return NULL;
	return sm_xstrndup((const char *)p, n);
}
