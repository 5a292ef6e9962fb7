/*
 * mime.c: smail-send -t, the sendmail mode: a whole RFC 5322 message on
 * standard input becomes a secure message.  GMime parses it (a
 * maintained MIME parser, not ours): To, Cc and Bcc give the
 * recipients, Subject the subject, the first text/plain part the body,
 * the first text/html part the HTML alternative, and every other part
 * an attachment.  Attachments are decoded into anonymous memory files
 * (memfd), never onto disk.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "smail.h"

struct walk {
	struct sm_compose *c;
	int rc, have_body, have_html, unnamed;
};

static void
addresses(InternetAddressList *l, char ***v, size_t *n, int depth)
{
	int i, len = l ? internet_address_list_length(l) : 0;

	for (i = 0; i < len && depth < 8; i++) {
		InternetAddress *a = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_MAILBOX(a))
			sm_compose_addr(v, n, internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(a)));
		else if (INTERNET_ADDRESS_IS_GROUP(a))
			addresses(internet_address_group_get_members(
			    INTERNET_ADDRESS_GROUP(a)), v, n, depth + 1);
	}
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

static void
part(GMimeObject *parent, GMimeObject *obj, gpointer arg)
{
	struct walk *w = arg;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *name = NULL;
	char *gen = NULL, *text;
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
		text = g_mime_text_part_get_text(GMIME_TEXT_PART(obj));
		sm_buf_free(&w->c->body);
		if (text)
			sm_buf_puts(&w->c->body, text);
		g_free(text);
		w->have_body = 1;
		return;
	}
	if (!attachment && GMIME_IS_TEXT_PART(obj) &&
	    g_mime_content_type_is_type(ct, "text", "html") && !w->have_html) {
		text = g_mime_text_part_get_text(GMIME_TEXT_PART(obj));
		sm_buf_free(&w->c->html);
		if (text)
			sm_buf_puts(&w->c->html, text);
		g_free(text);
		w->c->has_html = w->have_html = 1;
		return;
	}
	/* Anything else is an attachment; a nameless one gets a name. */
	if (!name || !*name || strchr(name, '/')) {
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
sm_compose_from_mime(const char *text, size_t len, struct sm_compose *c,
    char **from)
{
	static int inited;
	GMimeStream *s;
	GMimeParser *parser;
	GMimeMessage *m;
	InternetAddressList *fl;
	const char *subject;
	struct walk w;

	*from = NULL;
	if (!inited) {
		g_mime_init();
		inited = 1;
	}
	if (len == 0 || memchr(text, 0, len))
		return sm_err(EX_DATAERR, "standard input: not an RFC 5322 message");
	s = g_mime_stream_mem_new_with_buffer(text, len);
	parser = g_mime_parser_new_with_stream(s);
	m = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(s);
	if (!m)
		return sm_err(EX_DATAERR, "standard input: not an RFC 5322 message");
	addresses(g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_TO),
	    &c->to, &c->nto, 0);
	addresses(g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_CC),
	    &c->cc, &c->ncc, 0);
	addresses(g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_BCC),
	    &c->bcc, &c->nbcc, 0);
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
