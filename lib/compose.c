/*
 * compose.c: a new message built from a stored one: a reply, a reply
 * to all, a forward, a resumed draft.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smail.h"

/* "Re: " or "Fwd: " once. */
static char *
prefixed(const char *prefix, const char *subject)
{
	size_t n = strlen(prefix);

	if (strncasecmp(subject, prefix, n) == 0)
		return sm_xstrdup(subject);
	return sm_xasprintf("%s%s", prefix, subject);
}

static int
listed(char *const *v, size_t n, const char *addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (sm_addr_same(v[i], addr))
			return 1;
	return 0;
}

/* O's attachments, but those named in DROP, go first in C; the ones C
 * already has (from -a) follow.  FORWARD: O is the original, and each
 * attachment taken is marked as its; else O is a draft, whose marks
 * stay. */
static void
take_atts(struct sm_opened *o, char *const *drop, size_t ndrop,
    struct sm_compose *c, int forward)
{
	const struct sm_stmt *s = &o->stmt;
	size_t added = c->natt, i, j;
	struct sm_src *fresh = c->att;

	c->att = NULL;
	c->natt = 0;
	for (i = 0; i < s->natt; i++) {
		int dropped = 0;
		for (j = 0; j < ndrop; j++)
			if (strcmp(s->att[i].name, drop[j]) == 0)
				dropped = 1;
		if (dropped)
			continue;
		sm_compose_attach_part(c, s->att[i].name, s->att[i].ref.size,
		    &o->env, o->K, s->att[i].ref.part);
		c->att[c->natt - 1].from_orig = forward ? (unsigned)i + 1 :
		    s->att[i].from_orig;
	}
	for (i = 0; i < added; i++) {
		c->att = sm_xrealloc(c->att, (c->natt + 1) * sizeof *c->att);
		c->att[c->natt++] = fresh[i];
	}
	free(fresh);
}

void
sm_compose_reply(const struct sm_ident *id, const struct sm_opened *o, int all,
    struct sm_compose *c)
{
	const struct sm_stmt *s = &o->stmt;
	size_t i;

	if (!all || !sm_addr_same(s->from, id->addr))
		sm_compose_addr(&c->to, &c->nto, s->from);
	if (all) {
		for (i = 0; i < s->nto; i++)
			if (!sm_addr_same(s->to[i], id->addr) &&
			    !listed(c->to, c->nto, s->to[i]))
				sm_compose_addr(&c->to, &c->nto, s->to[i]);
		for (i = 0; i < s->ncc; i++)
			if (!sm_addr_same(s->cc[i], id->addr) &&
			    !listed(c->to, c->nto, s->cc[i]) &&
			    !listed(c->cc, c->ncc, s->cc[i]))
				sm_compose_addr(&c->cc, &c->ncc, s->cc[i]);
	}
	if (!c->subject)
		c->subject = prefixed("Re: ", s->subject);
	snprintf(c->reply_to, sizeof c->reply_to, "%s", s->id);
}

int
sm_compose_forward(sm_portal *p, struct sm_opened *o, const sm_buf *text,
    char *const *drop, size_t ndrop, struct sm_compose *c)
{
	const struct sm_stmt *s = &o->stmt;
	char when[32];
	size_t j;
	int rc;

	for (j = 0; j < ndrop; j++)
		if (sm_att_find(s, drop[j]) < 0)
			return sm_err(EX_NOINPUT, "%s: no attachment '%s'", s->id, drop[j]);
	sm_buf_free(&c->body);
	sm_buf_put(&c->body, text->p, text->len);
	if (c->body.len && c->body.p[c->body.len - 1] != '\n')
		sm_buf_putc(&c->body, '\n');
	sm_fmt_time(s->date, when);
	/* The sender's name and address as one-line fields (show.c). */
	sm_buf_puts(&c->body, "Originally sent by ");
	if (s->from_name && *s->from_name) {
		sm_field(&c->body, s->from_name);
		sm_buf_putc(&c->body, ' ');
	}
	sm_buf_putc(&c->body, '<');
	sm_field(&c->body, s->from);
	sm_buf_printf(&c->body, "> on %s:\n", when);
	c->orig_offset = c->body.len;
	if ((rc = sm_part_load(p, &o->env, o->K, 1, &c->body, NULL)) != 0)
		return rc;
	sm_buf_free(&c->orig);
	if ((rc = sm_part_load(p, &o->env, o->K, 0, &c->orig, NULL)) != 0)
		return rc;
	if (!c->subject)
		c->subject = prefixed("Fwd: ", s->subject);
	snprintf(c->forward_of, sizeof c->forward_of, "%s", s->id);
	take_atts(o, drop, ndrop, c, 1);
	return 0;
}

/*
 * The content of draft O into C, under what the command line already
 * put there: given recipients, subject and body win; attachments named
 * in DROP are left out; attachments already in C come after the
 * draft's.
 */
int
sm_compose_from_draft(sm_portal *p, struct sm_opened *o, int keep_body,
    char *const *drop, size_t ndrop, struct sm_compose *c)
{
	const struct sm_stmt *s = &o->stmt;
	size_t i, j;
	int rc;

	for (j = 0; j < ndrop; j++)
		if (sm_att_find(s, drop[j]) < 0)
			return sm_err(EX_NOINPUT, "%s: no attachment '%s' in the draft",
			    s->id, drop[j]);
	if (!c->nto)
		for (i = 0; i < s->nto; i++)
			sm_compose_addr(&c->to, &c->nto, s->to[i]);
	if (!c->ncc)
		for (i = 0; i < s->ncc; i++)
			sm_compose_addr(&c->cc, &c->ncc, s->cc[i]);
	if (!c->subject)
		c->subject = sm_xstrdup(s->subject);
	if (keep_body) {
		sm_buf_free(&c->body);
		if ((rc = sm_part_load(p, &o->env, o->K, 1, &c->body, NULL)) != 0)
			return rc;
		if (s->orig.len) {
			sm_buf_free(&c->orig);
			sm_buf_put(&c->orig, s->orig.p, s->orig.len);
			c->orig_offset = s->orig_offset;
		}
	}
	if (!c->has_html && s->has_html) {
		c->has_html = 1;
		if ((rc = sm_part_load(p, &o->env, o->K, s->html.part, &c->html,
		    NULL)) != 0)
			return rc;
	}
	if (!c->reply_to[0])
		memcpy(c->reply_to, s->reply_to, sizeof c->reply_to);
	if (!c->forward_of[0])
		memcpy(c->forward_of, s->forward_of, sizeof c->forward_of);
	take_atts(o, drop, ndrop, c, 0);
	return 0;
}
