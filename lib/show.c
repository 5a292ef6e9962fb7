/*
 * show.c: text as smail shows it: one-line fields, message bodies on a
 * terminal, and words of a command a person pastes into a shell.
 *
 * Subjects, names and attachment names are chosen by whoever sent the
 * message, and a terminal obeys the control characters among them (ESC
 * [ 2 J clears the screen, OSC sequences set the title or write to the
 * clipboard).  A control character here is a C0 byte (0x00-0x1f), DEL
 * (0x7f), a C1 character (U+0080-U+009F, in UTF-8 0xc2 0x80-0x9f), or a
 * byte 0x80-0x9f that is not part of a UTF-8 sequence (a terminal in an
 * 8-bit mode takes it for C1).  The rule, everywhere:
 *
 *   - in a one-line field (TSV columns, the header lines of the text
 *     view, messages on standard error) each one becomes a space, as
 *     SPEC's TAB, CR and LF do;
 *   - in a body shown on a terminal, TAB, LF and CR LF stay and the
 *     others are shown the way less(1) shows them: ^[ for ESC, ^? for
 *     DEL, <U+009B> for a C1 character, <9B> for a stray byte.
 *
 * JSON output escapes them instead (json.c) and stays exact; files and
 * pipes get a body exactly as it was signed.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "smail.h"

size_t
sm_utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (n == 0)
		return 0;
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

size_t
sm_ctrl_len(const unsigned char *p, size_t n)
{
	size_t u;

	if (n == 0)
		return 0;
	if (p[0] < 0x20 || p[0] == 0x7f)
		return 1;
	if (p[0] < 0x80)
		return 0;
	u = sm_utf8_len(p, n);
	if (u == 2 && p[0] == 0xc2 && p[1] < 0xa0)
		return 2;
	if (u == 0 && p[0] < 0xa0)
		return 1;
	return 0;
}

/* The length of what starts at P: a control character, a UTF-8
 * sequence, or one byte that is neither. */
static size_t
step(const unsigned char *p, size_t n, size_t *ctrl)
{
	size_t u;

	if ((*ctrl = sm_ctrl_len(p, n)) != 0)
		return *ctrl;
	u = sm_utf8_len(p, n);
	return u ? u : 1;
}

/* How many bytes at P hold no control character (plain ASCII, the
 * common case, in a tight loop). */
static size_t
clean_len(const unsigned char *p, size_t n)
{
	size_t i = 0, len, ctrl;

	while (i < n) {
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			i++;
			continue;
		}
		len = step(p + i, n - i, &ctrl);
		if (ctrl)
			break;
		i += len;
	}
	return i;
}

int
sm_has_ctrl(const char *s)
{
	size_t n = strlen(s);

	return clean_len((const unsigned char *)s, n) != n;
}

/* The rule for one-line fields, in place (a space is never longer than
 * what it replaces): the new length. */
static size_t
field_fix(unsigned char *p, size_t n)
{
	size_t i = clean_len(p, n), j = i, len, ctrl;

	while (i < n) {
		len = step(p + i, n - i, &ctrl);
		if (ctrl)
			p[j++] = ' ';
		else {
			memmove(p + j, p + i, len);
			j += len;
		}
		i += len;
	}
	return j;
}

void
sm_field(sm_buf *b, const char *s)
{
	size_t start = b->len, n = s ? strlen(s) : 0;

	if (n == 0)
		return;
	sm_buf_put(b, s, n);
	b->len = start + field_fix(b->p + start, n);
}

void
sm_field_str(char *s)
{
	s[field_fix((unsigned char *)s, strlen(s))] = 0;
}

int
sm_put_field(FILE *out, const char *s)
{
	sm_buf b = { 0 };
	size_t n = s ? strlen(s) : 0;
	int rc = 0;

	/* Most fields hold nothing to replace: as they are. */
	if (clean_len((const unsigned char *)s, n) == n)
		return n && fwrite(s, 1, n, out) != n ? -1 : 0;
	sm_field(&b, s);
	if (b.len && fwrite(b.p, 1, b.len, out) != b.len)
		rc = -1;
	sm_buf_free(&b);
	return rc;
}

void
sm_text_shown(sm_buf *b, const void *text, size_t n)
{
	const unsigned char *p = text;
	size_t i, len, ctrl;

	for (i = 0; i < n; i += len) {
		len = step(p + i, n - i, &ctrl);
		if (!ctrl)
			sm_buf_put(b, p + i, len);
		else if (p[i] == '\t' || p[i] == '\n' ||
		    (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n'))
			sm_buf_putc(b, p[i]);
		else if (ctrl == 2)
			sm_buf_printf(b, "<U+%04X>", (unsigned)p[i + 1]);
		else if (p[i] == 0x7f)
			sm_buf_puts(b, "^?");
		else if (p[i] < 0x20)
			sm_buf_printf(b, "^%c", p[i] + 0x40);
		else
			sm_buf_printf(b, "<%02X>", (unsigned)p[i]);
	}
}

/* Bytes a shell never treats specially, wherever they stand in a word
 * (sh, bash and zsh alike: no '=', '~', '#', '!' or globs). */
static const char shell_plain[] = "abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./@+:,%";

void
sm_shell_word(sm_buf *b, const char *s)
{
	if (*s && strspn(s, shell_plain) == strlen(s)) {
		sm_buf_puts(b, s);
		return;
	}
	sm_buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			sm_buf_puts(b, "'\\''");
		else
			sm_buf_putc(b, *s);
	}
	sm_buf_putc(b, '\'');
}

char *
sm_command_line(const sm_portal *p, const char *cmd, ...)
{
	char *def = p ? sm_portal_default_dir() : NULL;
	const char *a;
	sm_buf b = { 0 };
	va_list ap;

	sm_buf_puts(&b, cmd);
	if (p && !(def && strcmp(def, p->dir) == 0)) {
		sm_buf_puts(&b, " -d ");
		sm_shell_word(&b, p->dir);
	}
	free(def);
	va_start(ap, cmd);
	while ((a = va_arg(ap, const char *))) {
		sm_buf_putc(&b, ' ');
		sm_shell_word(&b, a);
	}
	va_end(ap);
	sm_buf_putc(&b, 0);
	return (char *)b.p;
}
