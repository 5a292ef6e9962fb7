/*
 * json.c: one JSON object per line (--json).  Strings are exact: TAB,
 * quotes, newlines and non-ASCII text survive; bytes that are not
 * UTF-8 become U+FFFD, since JSON text must be Unicode.
 */
#include <string.h>

#include "smail.h"

void
sm_json_begin(sm_buf *b)
{
	sm_buf_putc(b, '{');
}

void
sm_json_end(sm_buf *b)
{
	sm_buf_puts(b, "}\n");
}

static void
key(sm_buf *b, const char *k)
{
	if (b->len && b->p[b->len - 1] != '{')
		sm_buf_putc(b, ',');
	sm_buf_printf(b, "\"%s\":", k);
}

/* The length of the UTF-8 sequence at P (at most N bytes), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void
sm_json_str(sm_buf *b, const char *k, const char *v)
{
	const unsigned char *p = (const unsigned char *)(v ? v : "");
	size_t n = strlen((const char *)p), i = 0;

	key(b, k);
	sm_buf_putc(b, '"');
	while (i < n) {
		unsigned char c = p[i];
		size_t len;
		switch (c) {
		case '"': sm_buf_puts(b, "\\\""); i++; continue;
		case '\\': sm_buf_puts(b, "\\\\"); i++; continue;
		case '\n': sm_buf_puts(b, "\\n"); i++; continue;
		case '\r': sm_buf_puts(b, "\\r"); i++; continue;
		case '\t': sm_buf_puts(b, "\\t"); i++; continue;
		case '\b': sm_buf_puts(b, "\\b"); i++; continue;
		case '\f': sm_buf_puts(b, "\\f"); i++; continue;
		}
		if (c < 0x20 || c == 0x7f) {
			sm_buf_printf(b, "\\u%04x", c);
			i++;
			continue;
		}
		if ((len = utf8_len(p + i, n - i)) == 0) {
			sm_buf_puts(b, "\\ufffd");
			i++;
			continue;
		}
		sm_buf_put(b, p + i, len);
		i += len;
	}
	sm_buf_putc(b, '"');
}

void
sm_json_int(sm_buf *b, const char *k, long long v)
{
	key(b, k);
	sm_buf_printf(b, "%lld", v);
}
