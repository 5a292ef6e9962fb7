/*
 * manifest.c: one line of a batch manifest (SPEC §4):
 * RCPTS<TAB>SUBJECT<TAB>BODYFILE[<TAB>ATTACHMENT]..., RCPTS
 * comma-separated.  Blank lines and lines starting with '#' are
 * skipped.
 */
#include <stdlib.h>
#include <string.h>

#include "smail.h"

#define MAX_FIELDS (3 + SM_MAX_ATTACHMENTS + 1)

void
sm_mline_free(struct sm_mline *m)
{
	size_t i;

	for (i = 0; i < m->nrcpt; i++)
		free(m->rcpt[i]);
	free(m->rcpt);
	for (i = 0; i < m->natt; i++)
		free(m->att[i]);
	free(m->att);
	free(m->subject);
	free(m->body);
	memset(m, 0, sizeof *m);
}

static void
push(char ***v, size_t *n, const char *s, size_t len)
{
	*v = sm_xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = sm_xstrndup(s, len);
}

int
sm_manifest_line(const char *line, size_t len, struct sm_mline *m)
{
	const char *f[MAX_FIELDS + 1], *p = line, *end = line + len, *r;
	size_t fl[MAX_FIELDS + 1], n = 0, i;

	memset(m, 0, sizeof *m);
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		end = line + --len;
	for (r = line; r < end && (*r == ' ' || *r == '\t'); r++)
		;
	if (r == end || *r == '#')
		return 1;
	if (memchr(line, 0, len))
		return sm_err(EX_DATAERR, "a NUL byte in the line");
	/* Split at TABs, keeping empty fields. */
	for (;;) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		if (n == MAX_FIELDS)
			return sm_err(EX_DATAERR, "more than %d attachments",
			    SM_MAX_ATTACHMENTS);
		f[n] = p;
		fl[n++] = tab ? (size_t)(tab - p) : (size_t)(end - p);
		if (!tab)
			break;
		p = tab + 1;
	}
	if (n < 3)
		return sm_err(EX_DATAERR, "expected RCPTS<TAB>SUBJECT<TAB>BODYFILE");
	for (p = f[0]; p < f[0] + fl[0]; ) {
		const char *comma = memchr(p, ',', (size_t)(f[0] + fl[0] - p));
		const char *e = comma ? comma : f[0] + fl[0];
		const char *s = p;
		while (s < e && *s == ' ')
			s++;
		while (e > s && e[-1] == ' ')
			e--;
		if (e > s)
			push(&m->rcpt, &m->nrcpt, s, (size_t)(e - s));
		p = comma ? comma + 1 : f[0] + fl[0];
	}
	if (m->nrcpt == 0) {
		sm_mline_free(m);
		return sm_err(EX_DATAERR, "no recipient");
	}
	if (fl[2] == 0) {
		sm_mline_free(m);
		return sm_err(EX_DATAERR, "no body file");
	}
	m->subject = sm_xstrndup(f[1], fl[1]);
	m->body = sm_xstrndup(f[2], fl[2]);
	for (i = 3; i < n; i++)
		if (fl[i])
			push(&m->att, &m->natt, f[i], fl[i]);
	return 0;
}
