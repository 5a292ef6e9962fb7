/*
 * mime.c: smail-send -t, the sendmail mode: a whole RFC 5322 message on
 * standard input becomes a secure message.  GMime parses it (a
 * maintained MIME parser, not ours): Subject gives the subject, the
 * first text/plain part the body, the first text/html part the HTML
 * alternative, and every other part an attachment.  The message is
 * copied into an anonymous memory file (memfd), never onto disk, and
 * GMime reads its parts from there in place; attachments are decoded
 * into memory files of their own.
 *
 * What GMime forgives, a secure send must not: a recipient it cannot
 * read would be dropped, and the message would reach fewer people than
 * its sender wrote to.  So the header block is checked line by line
 * first, and To, Cc and Bcc are split here into their addresses, each
 * of which must be one well-formed mailbox; anything else is refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "smail.h"

#define MIME_MAX ((size_t)64 << 20)     /* the whole message */
#define HEAD_MAX ((size_t)1 << 20)      /* its header block */

struct walk {
	struct sm_compose *c;
	int rc, have_body, have_html, unnamed;
};

/* Copies FD into a new memfd, refusing NUL bytes and more than
 * MIME_MAX bytes; the memfd, rewound. */
static int
to_memory(int fd, int *out)
{
	unsigned char *buf;
	size_t total = 0, bufsz = 65536;
	ssize_t r;
	int m, rc = 0;

	if ((m = memfd_create("smail-message", MFD_CLOEXEC)) < 0)
		return sm_err(EX_OSERR, "memfd_create: %s", strerror(errno));
	buf = sm_xmalloc(bufsz);
	for (;;) {
		r = read(fd, buf, bufsz);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = sm_err(EX_IOERR, "standard input: %s", strerror(errno));
			break;
		}
		if (r == 0)
			break;
		if ((total += (size_t)r) > MIME_MAX) {
			rc = sm_err(EX_DATAERR, "standard input: the message exceeds "
			    "%zu MiB", MIME_MAX >> 20);
			break;
		}
		if (memchr(buf, 0, (size_t)r)) {
			rc = sm_err(EX_DATAERR, "standard input: not an RFC 5322 "
			    "message (a NUL byte)");
			break;
		}
		if ((rc = sm_out_write(&(struct sm_out){ m, "memory file", 0 },
		    buf, (size_t)r)) != 0)
			break;
	}
	sodium_memzero(buf, bufsz);
	free(buf);
	if (rc == 0 && total == 0)
		rc = sm_err(EX_DATAERR, "standard input: not an RFC 5322 message "
		    "(it is empty)");
	if (rc == 0 && lseek(m, 0, SEEK_SET) != 0)
		rc = sm_err(EX_OSERR, "memory file: %s", strerror(errno));
	if (rc) {
		close(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* Every line of the header block is a field (a name of printable
 * ASCII but ':', maybe blanks, then ':') or the continuation of one. */
static int
check_head(int fd)
{
	char *h = sm_xmalloc(HEAD_MAX + 1), *l, *e, *end;
	ssize_t n;
	int lineno = 0, rc = 0;

	while ((n = pread(fd, h, HEAD_MAX, 0)) < 0 && errno == EINTR)
		;
	if (n < 0) {
		free(h);
		return sm_err(EX_OSERR, "memory file: %s", strerror(errno));
	}
	end = h + n;
	for (l = h; l < end; l = e + 1) {
		const char *s;
		lineno++;
		if (!(e = memchr(l, '\n', (size_t)(end - l)))) {
			if ((size_t)n == HEAD_MAX) {
				rc = sm_err(EX_DATAERR, "standard input: the header "
				    "block exceeds %zu KiB", HEAD_MAX >> 10);
				break;
			}
			e = end;
		}
		if (e == l || (e == l + 1 && *l == '\r'))
			break;                  /* the blank line: the body */
		if ((*l == ' ' || *l == '\t') && lineno > 1)
			continue;
		for (s = l; s < e && *s > ' ' && *s < 0x7f && *s != ':'; s++)
			;
		if (s > l)
			while (s < e && (*s == ' ' || *s == '\t'))
				s++;
		if (s == l || s >= e || *s != ':') {
			rc = sm_err(EX_DATAERR, "standard input: line %d: not a "
			    "header field (no 'Name:')", lineno);
			break;
		}
	}
	free(h);
	return rc;
}

/* One address of a To, Cc or Bcc list: exactly one mailbox with a
 * well-formed address, or one of smail's @group names. */
static int
one_address(const char *field, const char *el, char ***v, size_t *n)
{
	InternetAddressList *l;
	InternetAddress *a;
	const char *addr = NULL;
	char *canon = NULL;
	int ok = 0;

	if (el[0] == '@' && !strpbrk(el, " \t\"<>()@,;:\\") && el[1]) {
		sm_compose_addr(v, n, el);
		return 0;
	}
	l = internet_address_list_parse(NULL, el);
	if (l && internet_address_list_length(l) == 1) {
		a = internet_address_list_get_address(l, 0);
		if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
			addr = internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(a));
			ok = addr && sm_addr_canon_quiet(addr, &canon) == 0 &&
			    strchr(el, '@') != NULL;
		}
	}
	if (ok)
		sm_compose_addr(v, n, addr);
	free(canon);
	if (l)
		g_object_unref(l);
	if (!ok) {
		char shown[100];
		return sm_err(EX_DATAERR, "standard input: %s: %s: not an e-mail "
		    "address", field, sm_addr_shown(el, shown, sizeof shown));
	}
	return 0;
}

/* Splits the (unfolded) value of an address field at its top-level
 * commas, and at the ':' and ';' of RFC 5322 groups, and takes each
 * address in turn. */
static int
address_list(const char *field, const char *value, char ***v, size_t *n)
{
	size_t len = strlen(value), i, start = 0;
	int quote = 0, comment = 0, angle = 0, group = 0, rc = 0;
	char *s = sm_xstrdup(value);

	for (i = 0; i <= len && rc == 0; i++) {
		char ch = s[i];
		if (ch == '\\' && (quote || comment) && i + 1 < len) {
			i++;
			continue;
		}
		if (quote) {
			quote = ch != '"';
			if (ch == 0)
				rc = sm_err(EX_DATAERR, "standard input: %s: an "
				    "unterminated quoted string", field);
			continue;
		}
		if (comment) {
			comment += ch == '(' ? 1 : ch == ')' ? -1 : 0;
			if (ch == 0)
				rc = sm_err(EX_DATAERR, "standard input: %s: an "
				    "unterminated comment", field);
			continue;
		}
		switch (ch) {
		case '"': quote = 1; continue;
		case '(': comment = 1; continue;
		case '<': angle++; continue;
		case '>': if (angle) angle--; continue;
		case ':':
			if (angle)
				continue;
			if (group)
				return free(s), sm_err(EX_DATAERR, "standard input: "
				    "%s: a group inside a group", field);
			group = 1;
			start = i + 1;          /* the group's name goes */
			continue;
		case ';':
			if (angle)
				continue;
			if (!group) {
				free(s);
				return sm_err(EX_DATAERR, "standard input: %s: "
				    "addresses are separated by ',', not ';'", field);
			}
			group = 0;
			break;
		case ',':
			if (angle)
				continue;
			break;
		case 0:
			if (group || angle)
				rc = sm_err(EX_DATAERR, "standard input: %s: an "
				    "unterminated %s", field, group ? "group" : "'<'");
			break;
		default:
			continue;
		}
		if (rc)
			break;
		/* One element: s[start..i), trimmed; empty ones are allowed. */
		s[i] = 0;
		{
			char *el = s + start, *t = s + i;
			while (*el == ' ' || *el == '\t')
				el++;
			while (t > el && (t[-1] == ' ' || t[-1] == '\t'))
				*--t = 0;
			if (*el)
				rc = one_address(field, el, v, n);
		}
		start = i + 1;
	}
	free(s);
	return rc;
}

/* To, Cc and Bcc, every instance of each, from the raw header values. */
static int
recipients(GMimeMessage *m, struct sm_compose *c)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(m));
	int i, count = hl ? g_mime_header_list_get_count(hl) : 0, rc = 0;

	for (i = 0; i < count && rc == 0; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);
		const char *raw = g_mime_header_get_raw_value(h);
		char *v, *p;
		char ***vec;
		size_t *nvec;

		if (!name || !raw)
			continue;
		if (!g_ascii_strcasecmp(name, "To"))
			vec = &c->to, nvec = &c->nto, name = "To";
		else if (!g_ascii_strcasecmp(name, "Cc"))
			vec = &c->cc, nvec = &c->ncc, name = "Cc";
		else if (!g_ascii_strcasecmp(name, "Bcc"))
			vec = &c->bcc, nvec = &c->nbcc, name = "Bcc";
		else
			continue;
		v = sm_xstrdup(raw);
		for (p = v; *p; p++)
			if (*p == '\r' || *p == '\n')
				*p = ' ';
		rc = address_list(name, v, vec, nvec);
		free(v);
	}
	return rc;
}

/* Decodes OBJ's content (or, for a message/rfc822 part, the whole
 * message) into a memfd; its descriptor, and the size. */
static int
to_memfd(GMimeObject *obj, int *fdout, uint64_t *size)
{
	GMimeStream *s;
	struct stat st;
	int fd, fd2, ok;

	if ((fd = memfd_create("smail-attachment", MFD_CLOEXEC)) < 0)
		return sm_err(EX_OSERR, "memfd_create: %s", strerror(errno));
	if ((fd2 = dup(fd)) < 0) {
		close(fd);
		return sm_err(EX_OSERR, "dup: %s", strerror(errno));
	}
	s = g_mime_stream_fs_new(fd2);          /* owns fd2 */
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		ok = m && g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL, s) >= 0;
	} else {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));
		ok = w && g_mime_data_wrapper_write_to_stream(w, s) >= 0;
	}
	ok = ok && g_mime_stream_flush(s) == 0;
	g_object_unref(s);
	if (!ok || fstat(fd, &st) < 0) {
		close(fd);
		return sm_err(EX_DATAERR, "an attachment does not decode");
	}
	*fdout = fd;
	*size = (uint64_t)st.st_size;
	return 0;
}

/* A text part's text, with CRLF line ends made LF. */
static void
take_text(GMimeObject *obj, sm_buf *b)
{
	char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(obj)), *s;

	sm_buf_free(b);
	if (text) {
		for (s = text; *s; s++)
			if (!(s[0] == '\r' && s[1] == '\n'))
				sm_buf_putc(b, *s);
		sodium_memzero(text, strlen(text));
	}
	g_free(text);
}

/* The name an attachment goes by: the last component of the name it
 * was given (mail programs send "C:\dir\file" or "dir/file"). */
static const char *
last_component(const char *name)
{
	const char *s, *base = name;

	for (s = name; *s; s++)
		if (*s == '/' || *s == '\\')
			base = s + 1;
	for (s = base; *s == '.'; s++)
		;
	return *s ? base : NULL;
}

static void
part(GMimeObject *parent, GMimeObject *obj, gpointer arg)
{
	struct walk *w = arg;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *name = NULL;
	char *gen = NULL;
	int attachment = 0, fd = -1;
	uint64_t size = 0;

	(void)parent;
	if (w->rc || GMIME_IS_MULTIPART(obj))
		return;
	if (GMIME_IS_PART(obj)) {
		attachment = g_mime_part_is_attachment(GMIME_PART(obj));
		name = g_mime_part_get_filename(GMIME_PART(obj));
		if (name)
			attachment = 1;
	}
	if (!attachment && GMIME_IS_TEXT_PART(obj) &&
	    g_mime_content_type_is_type(ct, "text", "plain") && !w->have_body) {
		take_text(obj, &w->c->body);
		w->have_body = 1;
		return;
	}
	if (!attachment && GMIME_IS_TEXT_PART(obj) &&
	    g_mime_content_type_is_type(ct, "text", "html") && !w->have_html) {
		take_text(obj, &w->c->html);
		w->c->has_html = w->have_html = 1;
		return;
	}
	/* Anything else is an attachment; a nameless one gets a name. */
	if (name)
		name = last_component(name);
	if (!name) {
		const char *sub = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
		gen = GMIME_IS_MESSAGE_PART(obj) ?
		    sm_xasprintf("message-%d.eml", ++w->unnamed) :
		    sm_xasprintf("attachment-%d%s%s", ++w->unnamed,
		    sub && strlen(sub) < 16 ? "." : "", sub && strlen(sub) < 16 ? sub : "");
		name = gen;
	}
	if ((w->rc = to_memfd(obj, &fd, &size)) == 0)
		sm_compose_attach_fd(w->c, name, fd, size);
	free(gen);
}

int
sm_compose_from_mime(int in, struct sm_compose *c, char **from)
{
	static int inited;
	GMimeStream *s;
	GMimeParser *parser;
	GMimeMessage *m;
	InternetAddressList *fl;
	const char *subject;
	struct walk w;
	int fd = -1, fd2, rc;

	*from = NULL;
	if (!inited) {
		g_mime_init();
		inited = 1;
	}
	if ((rc = to_memory(in, &fd)) != 0)
		return rc;
	if ((rc = check_head(fd)) != 0) {
		close(fd);
		return rc;
	}
	if ((fd2 = dup(fd)) < 0) {
		close(fd);
		return sm_err(EX_OSERR, "dup: %s", strerror(errno));
	}
	close(fd);
	s = g_mime_stream_fs_new(fd2);          /* owns fd2 */
	parser = g_mime_parser_new_with_stream(s);
	g_mime_parser_set_persist_stream(parser, TRUE);
	m = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(s);
	if (!m)
		return sm_err(EX_DATAERR, "standard input: not an RFC 5322 message");
	if ((rc = recipients(m, c)) != 0) {
		g_object_unref(m);
		return rc;
	}
	if ((subject = g_mime_message_get_subject(m)) && !c->subject)
		c->subject = sm_xstrdup(subject);
	fl = g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_FROM);
	if (fl && internet_address_list_length(fl) > 0) {
		InternetAddress *a = internet_address_list_get_address(fl, 0);
		if (INTERNET_ADDRESS_IS_MAILBOX(a))
			*from = sm_xstrdup(internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(a)));
	}
	memset(&w, 0, sizeof w);
	w.c = c;
	g_mime_message_foreach(m, part, &w);
	g_object_unref(m);
	if (w.rc)
		return w.rc;
	if (c->nto + c->ncc + c->nbcc == 0)
		return sm_err(EX_DATAERR, "standard input: the message has no To, Cc "
		    "or Bcc");
	return 0;
}
