/*
 * vcard.c: address books in and out: vCard 3.0 and 4.0 (N, FN, EMAIL;
 * KIND:group with MEMBER for groups; folded lines; several cards) and
 * CSV with a header row (Outlook's and Google's column names, quoted
 * fields).  An import is all or nothing: the first malformed line is
 * named and nothing is taken.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smail.h"

/* ---- shared ---- */

static int
bad(const char *file, unsigned line, const char *fmt, const char *arg)
{
	char msg[300];

	snprintf(msg, sizeof msg, fmt, arg ? arg : "");
	return sm_err(EX_DATAERR, "%s:%u: %s", file, line, msg);
}

/* A printable rendering of untrusted text for an error message. */
static char *
shown(const char *s)
{
	size_t n = strlen(s), i;
	char *o = sm_xstrndup(s, n > 60 ? 60 : n);

	for (i = 0; o[i]; i++)
		if ((unsigned char)o[i] < 0x20 || o[i] == 0x7f)
			o[i] = '?';
	return o;
}

static void
trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = 0;
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	memmove(s, s + i, n - i + 1);
}

static int
add_contact(struct sm_book *b, const char *file, unsigned line,
    const char *addr, const char *first, const char *last)
{
	char *canon = NULL, *a = sm_xstrdup(addr), *f = sm_xstrdup(first ? first : ""),
	    *l = sm_xstrdup(last ? last : "");
	int rc = 0;

	trim(a);
	trim(f);
	trim(l);
	if (strncasecmp(a, "mailto:", 7) == 0)
		memmove(a, a + 7, strlen(a + 7) + 1);
	if (sm_addr_canon_quiet(a, &canon) != 0) {
		char *s = shown(a);
		rc = bad(file, line, "'%s' is not an e-mail address", s);
		free(s);
	} else if (!sm_book_text_ok(f) || !sm_book_text_ok(l))
		rc = bad(file, line, "a name with control characters or over "
		    "200 bytes%s", NULL);
	else
		sm_book_set_contact(b, a, f, l);
	free(canon);
	free(a);
	free(f);
	free(l);
	return rc;
}

/* ---- vCard ---- */

/* Unescapes a vCard text value in place: \\n \\, \\; \\\\. */
static void
unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*o++ = (*s == 'n' || *s == 'N') ? ' ' : *s;
		} else
			*o++ = *s;
	}
	*o = 0;
}

/* Splits a structured value at unescaped ';' (N). */
static int
split_semi(char *s, char **f, int max)
{
	int n = 0;

	f[n++] = s;
	for (; *s && n < max; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			continue;
		}
		if (*s == ';') {
			*s = 0;
			f[n++] = s + 1;
		}
	}
	return n;
}

struct card {
	unsigned begin;                /* its BEGIN line */
	int group, have_n;
	char *first, *last, *fn, *uid;
	char **email, **member;
	size_t nemail, nmember;
	unsigned *email_line, *member_line;
};

static void
card_free(struct card *c)
{
	size_t i;

	free(c->first);
	free(c->last);
	free(c->fn);
	free(c->uid);
	for (i = 0; i < c->nemail; i++)
		free(c->email[i]);
	for (i = 0; i < c->nmember; i++)
		free(c->member[i]);
	free(c->email);
	free(c->member);
	free(c->email_line);
	free(c->member_line);
	memset(c, 0, sizeof *c);
}

static void
push(char ***v, unsigned **lines, size_t *n, const char *s, unsigned line)
{
	*v = sm_xrealloc(*v, (*n + 1) * sizeof **v);
	*lines = sm_xrealloc(*lines, (*n + 1) * sizeof **lines);
	(*v)[*n] = sm_xstrdup(s);
	(*lines)[(*n)++] = line;
}

/* What the cards said, kept until the end of the file: groups may
 * name their members by the UID of a card further down. */
struct deck {
	struct card *groups;           /* group cards, resolved at the end */
	size_t ngroups;
	char **uid, **uid_addr;        /* contact cards' UIDs and first EMAIL */
	size_t nuid;
};

static void
deck_free(struct deck *d)
{
	size_t i;

	for (i = 0; i < d->ngroups; i++)
		card_free(&d->groups[i]);
	free(d->groups);
	for (i = 0; i < d->nuid; i++) {
		free(d->uid[i]);
		free(d->uid_addr[i]);
	}
	free(d->uid);
	free(d->uid_addr);
}

static int
card_end(struct sm_book *b, struct deck *d, struct card *c, const char *file)
{
	size_t i;
	int rc = 0;

	if (c->group) {
		if (!c->fn || !sm_group_name_ok(c->fn))
			return bad(file, c->begin, "a group card needs a name (FN) "
			    "without ',', control characters or a leading '@'%s", NULL);
		d->groups = sm_xrealloc(d->groups, (d->ngroups + 1) * sizeof *d->groups);
		d->groups[d->ngroups++] = *c;
		memset(c, 0, sizeof *c);
		return 0;
	}
	if (c->nemail == 0) {
		sm_warn("%s:%u: a card without EMAIL; skipped", file, c->begin);
		return 0;
	}
	if (!c->have_n && c->fn)
		sm_name_split(c->fn, &c->first, &c->last);
	for (i = 0; i < c->nemail && rc == 0; i++)
		rc = add_contact(b, file, c->email_line[i], c->email[i], c->first,
		    c->last);
	if (rc == 0 && c->uid) {
		d->uid = sm_xrealloc(d->uid, (d->nuid + 1) * sizeof *d->uid);
		d->uid_addr = sm_xrealloc(d->uid_addr, (d->nuid + 1) * sizeof *d->uid_addr);
		d->uid[d->nuid] = sm_xstrdup(c->uid);
		d->uid_addr[d->nuid++] = sm_xstrdup(c->email[0]);
	}
	return rc;
}

/* MEMBER:mailto:ADDR, or the UID of a card in the file. */
static int
groups_end(struct sm_book *b, struct deck *d, const char *file)
{
	size_t i, j, k;
	int rc = 0;

	for (i = 0; i < d->ngroups && rc == 0; i++) {
		struct card *c = &d->groups[i];
		struct sm_group *g = sm_book_group(b, c->fn, 1);
		for (j = 0; j < c->nmember && rc == 0; j++) {
			const char *a = c->member[j];
			char *canon = NULL;
			if (strncasecmp(a, "mailto:", 7) == 0)
				a += 7;
			else {
				for (k = 0; k < d->nuid; k++)
					if (strcmp(d->uid[k], a) == 0)
						break;
				a = k < d->nuid ? d->uid_addr[k] : NULL;
			}
			if (!a || sm_addr_canon_quiet(a, &canon) != 0) {
				char *s = shown(c->member[j]);
				rc = bad(file, c->member_line[j], "MEMBER '%s' is neither "
				    "a mailto: address nor the UID of a card here", s);
				free(s);
			} else
				sm_group_add(g, a);
			free(canon);
		}
	}
	return rc;
}

static int
vcard_parse(struct sm_book *b, char *text, const char *file)
{
	char *p = text, *logical = NULL;
	unsigned line = 0, lstart = 0;
	struct card c;
	struct deck d;
	int in = 0, rc = 0;
	size_t cap = 0, len = 0;

	memset(&c, 0, sizeof c);
	memset(&d, 0, sizeof d);
	for (;;) {
		char *nl, *phys;
		int more = *p != 0;
		if (more) {
			nl = strchr(p, '\n');
			phys = p;
			if (nl)
				*nl = 0;
			p = nl ? nl + 1 : p + strlen(p);
			line++;
			{
				size_t n = strlen(phys);
				if (n && phys[n - 1] == '\r')
					phys[n - 1] = 0;
			}
			/* Folded: a continuation starts with a space or a TAB. */
			if ((phys[0] == ' ' || phys[0] == '\t') && len) {
				size_t n = strlen(phys + 1);
				if (len + n + 1 > cap)
					logical = sm_xrealloc(logical, cap = 2 * (len + n + 1));
				memcpy(logical + len, phys + 1, n + 1);
				len += n;
				continue;
			}
		}
		/* Process the logical line gathered so far. */
		if (len) {
			char *colon, *name, *dot, *semi, *value;
			colon = strchr(logical, ':');
			if (!colon) {
				rc = bad(file, lstart, "expected NAME:VALUE%s", NULL);
				break;
			}
			*colon = 0;
			value = colon + 1;
			name = logical;
			if ((semi = strchr(name, ';')))
				*semi = 0;
			if ((dot = strchr(name, '.')))
				name = dot + 1;
			if (strcasecmp(name, "BEGIN") == 0) {
				if (strcasecmp(value, "VCARD") != 0 || in) {
					rc = bad(file, lstart, in ? "BEGIN inside a card%s" :
					    "BEGIN of something other than VCARD%s", NULL);
					break;
				}
				in = 1;
				c.begin = lstart;
			} else if (!in) {
				rc = bad(file, lstart, "text outside BEGIN:VCARD ... "
				    "END:VCARD%s", NULL);
				break;
			} else if (strcasecmp(name, "END") == 0) {
				if ((rc = card_end(b, &d, &c, file)) != 0)
					break;
				card_free(&c);
				in = 0;
			} else if (strcasecmp(name, "VERSION") == 0) {
				if (strcmp(value, "3.0") && strcmp(value, "4.0") &&
				    strcmp(value, "2.1")) {
					rc = bad(file, lstart, "vCard version '%s' is not "
					    "2.1, 3.0 or 4.0", value);
					break;
				}
			} else if (strcasecmp(name, "N") == 0) {
				char *f[5];
				int n = split_semi(value, f, 5);
				unescape(f[0]);
				if (n > 1)
					unescape(f[1]);
				free(c.last);
				free(c.first);
				c.last = sm_xstrdup(f[0]);
				c.first = sm_xstrdup(n > 1 ? f[1] : "");
				c.have_n = 1;
			} else if (strcasecmp(name, "FN") == 0) {
				unescape(value);
				free(c.fn);
				c.fn = sm_xstrdup(value);
			} else if (strcasecmp(name, "EMAIL") == 0) {
				unescape(value);
				push(&c.email, &c.email_line, &c.nemail, value, lstart);
			} else if (strcasecmp(name, "UID") == 0) {
				free(c.uid);
				c.uid = sm_xstrdup(value);
			} else if (strcasecmp(name, "KIND") == 0 ||
			    strcasecmp(name, "X-ADDRESSBOOKSERVER-KIND") == 0) {
				c.group = strcasecmp(value, "group") == 0;
			} else if (strcasecmp(name, "MEMBER") == 0 ||
			    strcasecmp(name, "X-ADDRESSBOOKSERVER-MEMBER") == 0) {
				push(&c.member, &c.member_line, &c.nmember, value, lstart);
			}
			len = 0;
		}
		if (!more)
			break;
		{
			size_t n = strlen(phys);
			if (n == 0)
				continue;
			if (n + 1 > cap)
				logical = sm_xrealloc(logical, cap = 2 * (n + 1));
			memcpy(logical, phys, n + 1);
			len = n;
			lstart = line;
		}
	}
	if (rc == 0 && in)
		rc = bad(file, c.begin, "a card without END:VCARD%s", NULL);
	if (rc == 0)
		rc = groups_end(b, &d, file);
	card_free(&c);
	deck_free(&d);
	free(logical);
	return rc;
}

/* ---- CSV ---- */

static void
free_fields(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* One record: fields into V (malloc'd), *LINE advanced past it. */
static int
csv_record(const char **pp, const char *end, unsigned *line, char ***v,
    size_t *n, const char *file)
{
	const char *p = *pp;
	unsigned start = *line;
	sm_buf f = { 0 };
	int quoted = 0;

	*v = NULL;
	*n = 0;
	for (;;) {
		if (p == end || (!quoted && (*p == '\n' || *p == '\r'))) {
			sm_buf_putc(&f, 0);
			*v = sm_xrealloc(*v, (*n + 1) * sizeof **v);
			(*v)[(*n)++] = (char *)f.p;
			if (p < end && *p == '\r')
				p++;
			if (p < end && *p == '\n')
				p++;
			(*line)++;
			break;
		}
		if (quoted) {
			if (*p == '"' && p + 1 < end && p[1] == '"') {
				sm_buf_putc(&f, '"');
				p += 2;
			} else if (*p == '"') {
				quoted = 0;
				p++;
			} else {
				if (*p == '\n')
					(*line)++;
				sm_buf_putc(&f, *p++);
			}
			if (p == end && quoted)
				goto unclosed;
			continue;
		}
		if (*p == '"' && f.len == 0) {
			quoted = 1;
			p++;
			if (p == end)
				goto unclosed;
			continue;
		}
		if (*p == ',') {
			sm_buf_putc(&f, 0);
			*v = sm_xrealloc(*v, (*n + 1) * sizeof **v);
			(*v)[(*n)++] = (char *)f.p;
			memset(&f, 0, sizeof f);
			p++;
			continue;
		}
		sm_buf_putc(&f, *p++);
	}
	*pp = p;
	return 0;
unclosed:
	sm_buf_free(&f);
	free_fields(*v, *n);
	*v = NULL;
	*n = 0;
	return bad(file, start, "a quoted field is not closed%s", NULL);
}
static int
column(char **h, size_t n, const char *const *names)
{
	size_t i, j;

	for (j = 0; names[j]; j++)
		for (i = 0; i < n; i++) {
			char *t = sm_xstrdup(h[i]);
			int same;
			trim(t);
			same = strcasecmp(t, names[j]) == 0;
			free(t);
			if (same)
				return (int)i;
		}
	return -1;
}

static int
csv_parse(struct sm_book *b, const char *text, size_t len, const char *file)
{
	static const char *const first_names[] = { "First Name", "Given Name",
		"First", "Firstname", NULL };
	static const char *const last_names[] = { "Last Name", "Family Name",
		"Surname", "Last", "Lastname", NULL };
	static const char *const mail_names[] = { "E-mail Address",
		"E-mail 1 - Value", "Email Address", "E-mail", "Email",
		"Primary Email", "Mail", NULL };
	static const char *const full_names[] = { "Name", "Display Name",
		"Full Name", NULL };
	const char *p = text, *end = text + len;
	char **h, **f;
	size_t nh, nf;
	unsigned line = 1;
	int cf, cl, cm, cn, rc;

	if ((rc = csv_record(&p, end, &line, &h, &nh, file)) != 0)
		return rc;
	cf = column(h, nh, first_names);
	cl = column(h, nh, last_names);
	cm = column(h, nh, mail_names);
	cn = column(h, nh, full_names);
	if (cm < 0) {
		free_fields(h, nh);
		return bad(file, 1, "no e-mail column in the header row (such as "
		    "'E-mail Address' or 'E-mail 1 - Value')%s", NULL);
	}
	while (p < end && rc == 0) {
		unsigned at = line;
		if ((rc = csv_record(&p, end, &line, &f, &nf, file)) != 0)
			break;
		if (nf == 1 && !*f[0]) {
			free_fields(f, nf);
			continue;              /* a blank line */
		}
		if (nf > nh)
			rc = bad(file, at, "more fields than the header has%s", NULL);
		else if ((size_t)cm < nf && *f[cm]) {
			char *first = NULL, *last = NULL;
			if ((cf >= 0 && (size_t)cf < nf && *f[cf]) ||
			    (cl >= 0 && (size_t)cl < nf && *f[cl])) {
				first = sm_xstrdup(cf >= 0 && (size_t)cf < nf ? f[cf] : "");
				last = sm_xstrdup(cl >= 0 && (size_t)cl < nf ? f[cl] : "");
			} else if (cn >= 0 && (size_t)cn < nf)
				sm_name_split(f[cn], &first, &last);
			rc = add_contact(b, file, at, f[cm], first, last);
			free(first);
			free(last);
		}
		free_fields(f, nf);
	}
	free_fields(h, nh);
	return rc;
}

/* ---- import and export ---- */

/*
 * Parses FILE's TEXT (vCard or CSV, told apart by the first line) and
 * merges it into B: all or nothing.  A group member must be a contact,
 * of the book or of the file.
 */
int
sm_book_import(struct sm_book *b, const char *text, size_t len, const char *file)
{
	struct sm_book in;
	char *copy;
	const char *s = text;
	size_t i, j, skip = 0;
	int rc;

	memset(&in, 0, sizeof in);
	if (!text || len == 0)
		return 0;              /* an empty book exports as nothing */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		skip = 3;                  /* a UTF-8 byte order mark */
	{
		const char *z = memchr(text, 0, len);
		if (z) {
			unsigned line = 1;
			for (s = text; s < z; s++)
				line += *s == '\n';
			return bad(file, line, "a NUL byte: not a vCard or CSV "
			    "file%s", NULL);
		}
	}
	s = text + skip;
	while (s < text + len && (*s == '\r' || *s == '\n' || *s == ' '))
		s++;
	copy = sm_xstrndup(text + skip, len - skip);
	if ((size_t)(text + len - s) >= 11 && strncasecmp(s, "BEGIN:VCARD", 11) == 0)
		rc = vcard_parse(&in, copy, file);
	else
		rc = csv_parse(&in, copy, len - skip, file);
	free(copy);
	for (i = 0; rc == 0 && i < in.ng; i++)
		for (j = 0; rc == 0 && j < in.g[i].n; j++)
			if (!sm_book_contact(&in, in.g[i].members[j]) &&
			    !sm_book_contact(b, in.g[i].members[j]))
				rc = sm_err(EX_DATAERR, "%s: group '%s': %s is not a "
				    "contact", file, in.g[i].name, in.g[i].members[j]);
	if (rc == 0) {
		/* A nameless entry does not erase a name the book has. */
		for (i = 0; i < in.nc; i++) {
			struct sm_contact *have = sm_book_contact(b, in.c[i].addr);
			if (have && !*in.c[i].first && !*in.c[i].last)
				continue;
			sm_book_set_contact(b, in.c[i].addr, in.c[i].first, in.c[i].last);
		}
		for (i = 0; i < in.ng; i++) {
			struct sm_group *g = sm_book_group(b, in.g[i].name, 1);
			for (j = 0; j < in.g[i].n; j++)
				sm_group_add(g, in.g[i].members[j]);
		}
	}
	sm_book_free(&in);
	return rc;
}

static void
escaped(sm_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == ',' || *s == ';')
			sm_buf_putc(b, '\\');
		sm_buf_putc(b, *s);
	}
}

/* One content line, folded at 75 octets without splitting UTF-8. */
static void
content_line(sm_buf *out, const sm_buf *l)
{
	size_t i = 0, col = 0;

	while (i < l->len) {
		size_t n = 1;
		unsigned char c = l->p[i];
		if (c >= 0xc0)
			while (i + n < l->len && (l->p[i + n] & 0xc0) == 0x80)
				n++;
		if (col + n > 75) {
			sm_buf_puts(out, "\r\n ");
			col = 1;
		}
		sm_buf_put(out, l->p + i, n);
		col += n;
		i += n;
	}
	sm_buf_puts(out, "\r\n");
}

void
sm_book_export(const struct sm_book *b, sm_buf *out)
{
	sm_buf l = { 0 };
	size_t i, j;

	for (i = 0; i < b->nc; i++) {
		const struct sm_contact *c = &b->c[i];
		sm_buf_puts(out, "BEGIN:VCARD\r\nVERSION:4.0\r\n");
		l.len = 0;
		sm_buf_puts(&l, "N:");
		escaped(&l, c->last);
		sm_buf_putc(&l, ';');
		escaped(&l, c->first);
		sm_buf_puts(&l, ";;;");
		content_line(out, &l);
		l.len = 0;
		sm_buf_puts(&l, "FN:");
		if (*c->first || *c->last) {
			escaped(&l, c->first);
			if (*c->first && *c->last)
				sm_buf_putc(&l, ' ');
			escaped(&l, c->last);
		} else
			escaped(&l, c->addr);
		content_line(out, &l);
		l.len = 0;
		sm_buf_puts(&l, "EMAIL:");
		escaped(&l, c->addr);
		content_line(out, &l);
		sm_buf_puts(out, "END:VCARD\r\n");
	}
	for (i = 0; i < b->ng; i++) {
		sm_buf_puts(out, "BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:group\r\n");
		l.len = 0;
		sm_buf_puts(&l, "FN:");
		escaped(&l, b->g[i].name);
		content_line(out, &l);
		for (j = 0; j < b->g[i].n; j++) {
			l.len = 0;
			sm_buf_printf(&l, "MEMBER:mailto:%s", b->g[i].members[j]);
			content_line(out, &l);
		}
		sm_buf_puts(out, "END:VCARD\r\n");
	}
	sm_buf_free(&l);
}
