/*
 * json.c: one JSON object per line (--json).  Strings are exact: TAB,
 * quotes, newlines and non-ASCII text survive; bytes that are not
 * UTF-8 become U+FFFD, since JSON text must be Unicode.  Every control
 * character (C0, DEL, C1) is written as an escape, never raw.
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
		if ((len = sm_utf8_len(p + i, n - i)) == 0) {
			sm_buf_puts(b, "\\ufffd");
			i++;
			continue;
		}
		/* C1 too, escaped: the same string, but no terminal that shows
		 * the line acts on it. */
		if (len == 2 && c == 0xc2 && p[i + 1] < 0xa0) {
			sm_buf_printf(b, "\\u%04x", (unsigned)p[i + 1]);
			i += 2;
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
