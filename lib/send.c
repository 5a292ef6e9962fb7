/*
 * send.c: composing and storing a message (SPEC §3-§5).
 *
 * Everything that can be checked is checked before the store is
 * touched: the limits (10 attachments, 30 MiB), the addresses, the
 * files.  Then one write transaction: recipients resolved (an unknown
 * address becomes an invited account), every part encrypted and
 * stored, the statement last, the signed header, the holders and the
 * recipients' queues; notifications staged before the commit and
 * delivered after it.  The sender keeps no copy unless it is a
 * recipient.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "smail.h"

void
sm_compose_free(struct sm_compose *c)
{
	size_t i;

	for (i = 0; i < c->nto; i++)
		free(c->to[i]);
	free(c->to);
	for (i = 0; i < c->ncc; i++)
		free(c->cc[i]);
	free(c->cc);
	for (i = 0; i < c->nbcc; i++)
		free(c->bcc[i]);
	free(c->bcc);
	free(c->subject);
	sm_buf_free(&c->body);
	sm_buf_free(&c->html);
	for (i = 0; i < c->natt; i++) {
		free(c->att[i].name);
		free(c->att[i].path);
		if (c->att[i].fd >= 0)
			close(c->att[i].fd);
	}
	free(c->att);
	sm_buf_free(&c->orig);
	memset(c, 0, sizeof *c);
}

void
sm_compose_addr(char ***v, size_t *n, const char *addr)
{
	*v = sm_xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = sm_xstrdup(addr);
}

static const char *
basename_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

/* Opens FILE as an attachment (named after its last component). */
int
sm_compose_attach(struct sm_compose *c, const char *path)
{
	struct sm_src *a;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sm_err(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s: %s",
		    path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return sm_err(EX_NOINPUT, "%s: not a regular file", path);
	}
	c->att = sm_xrealloc(c->att, (c->natt + 1) * sizeof *c->att);
	a = &c->att[c->natt++];
	memset(a, 0, sizeof *a);
	a->name = sm_xstrdup(basename_of(path));
	a->path = sm_xstrdup(path);
	a->fd = fd;
	a->size = (uint64_t)st.st_size;
	return 0;
}

void
sm_compose_attach_fd(struct sm_compose *c, const char *name, int fd,
    uint64_t size)
{
	struct sm_src *a;

	c->att = sm_xrealloc(c->att, (c->natt + 1) * sizeof *c->att);
	a = &c->att[c->natt++];
	memset(a, 0, sizeof *a);
	a->name = sm_xstrdup(name);
	a->path = sm_xstrdup(name);
	a->fd = fd;
	a->size = size;
}

/* An attachment taken from a stored message (forwards, drafts). */
void
sm_compose_attach_part(struct sm_compose *c, const char *name, uint64_t size,
    const struct sm_env *e, const unsigned char *K, unsigned part)
{
	struct sm_src *a;

	c->att = sm_xrealloc(c->att, (c->natt + 1) * sizeof *c->att);
	a = &c->att[c->natt++];
	memset(a, 0, sizeof *a);
	a->name = sm_xstrdup(name);
	a->fd = -1;
	a->size = size;
	a->env = e;
	a->K = K;
	a->part = part;
}

static void
fmt_size(uint64_t n, char out[32])
{
	if (n >= 1024 * 1024)
		snprintf(out, 32, "%.1f MiB", (double)n / (1024.0 * 1024.0));
	else if (n >= 1024)
		snprintf(out, 32, "%.1f KiB", (double)n / 1024.0);
	else
		snprintf(out, 32, "%llu bytes", (unsigned long long)n);
}

int
sm_compose_check(const struct sm_compose *c)
{
	uint64_t total = 0;
	size_t i;
	char have[32];

	if (c->natt > SM_MAX_ATTACHMENTS)
		return sm_err(EX_DATAERR, "%zu attachments: at most %d",
		    c->natt, SM_MAX_ATTACHMENTS);
	for (i = 0; i < c->natt; i++) {
		const char *n = c->att[i].name;
		total += c->att[i].size;
		if (!*n || strchr(n, '/'))
			return sm_err(EX_DATAERR, "'%s': an attachment name may not "
			    "be empty or hold '/'", n);
	}
	if (total > SM_MAX_ATTACHMENT_BYTES) {
		fmt_size(total, have);
		if (strcmp(have, "30.0 MiB") == 0)
			snprintf(have, sizeof have, "%llu bytes",
			    (unsigned long long)total);
		return sm_err(EX_DATAERR, "%s: attachments exceed 30 MiB (%s)",
		    c->natt ? c->att[c->natt - 1].name : "", have);
	}
	if (c->body.len > SM_MAX_BODY)
		return sm_err(EX_DATAERR, "body: larger than %d MiB; send it as "
		    "an attachment", SM_MAX_BODY >> 20);
	if (c->html.len > SM_MAX_BODY)
		return sm_err(EX_DATAERR, "HTML part: larger than %d MiB",
		    SM_MAX_BODY >> 20);
	return 0;
}

/* ---- recipients ---- */

struct rcpt {
	char *addr, *canon;
	struct sm_account a;
	int put;                       /* the account changed: store it */
	int made;                      /* the account is new: say so once stored */
	char *mail;                    /* staged notification */
};

static void
notice_mail(sm_portal *p, struct sm_mail *m, const char *to, const char *from,
    const char *from_name, const char *mid, const char *extra)
{
	char *cmd;

	m->to = to;
	m->subject = "You have a secure message";
	if (from_name && *from_name)
		sm_buf_printf(&m->body, "%s <%s> sent you a secure message "
		    "on the portal.\n\n", from_name, from);
	else
		sm_buf_printf(&m->body, "%s sent you a secure message on the "
		    "portal.\n\n", from);
	if (extra)
		sm_buf_printf(&m->body, "%s\n\n", extra);
	else {
		cmd = sm_command_line(p, "smail-fetch", mid, (char *)NULL);
		sm_buf_printf(&m->body, "To read it, run:\n\n    %s\n\n", cmd);
		free(cmd);
	}
	sm_buf_puts(&m->body, "This notice holds no message content.\n");
}

/* In the transaction: the recipient's account (made when new) and its
 * notification. */
static int
rcpt_prepare(sm_portal *p, struct rcpt *r, const struct sm_ident *from,
    const char *from_name, const char *mid, const struct sm_code *code)
{
	struct sm_mail m = { 0 };
	char *by, *why, when[32];
	int rc;

	by = from_name && *from_name ? sm_xasprintf("%s <%s>", from_name,
	    from->addr) : sm_xstrdup(from->addr);
	why = sm_xasprintf("%s has sent you a secure message; register to read it.",
	    from->addr);
	rc = sm_account_get(p, r->canon, &r->a);
	if (rc == EX_NOUSER) {
		rc = sm_invite_prepare(p, &r->a, 1, r->addr, NULL, NULL, by, why,
		    code, &r->mail);
		r->put = 1;
		r->made = rc == 0;
	} else if (rc == 0 && r->a.state == SM_INVITED &&
	    r->a.inv_expires <= sm_now()) {
		/* The invitation expired: a new token, through the recovery key
		 * (read only now: most sends never need it). */
		unsigned char *rsk = sm_secret_alloc(32);
		if (sm_recovery_key_load(p, NULL, rsk) != 1) {
			sm_secret_free(rsk);
			rsk = NULL;
		}
		rc = sm_invite_prepare(p, &r->a, 0, r->addr, NULL, rsk, by, why,
		    code, &r->mail);
		if (rsk)
			sm_secret_free(rsk);
		r->put = 1;
		if (rc == 1) {
			char *cmd = sm_command_line(p, "smail-admin approve",
			    r->a.addr, "--recovery-key-file", "FILE", (char *)NULL);
			sm_warn("%s: the invitation expired; a new one waits for "
			    "the operator to run: %s", r->addr, cmd);
			free(cmd);
			rc = 0;
		}
	} else if (rc == 0 && r->a.state == SM_INVITED && code &&
	    !r->a.has_code) {
		/* Its pending invitation opens without a code: sending it a
		 * message "with a code" would protect nothing. */
		rc = sm_err(EX_DATAERR, "%s: invited earlier without an access "
		    "code, and that invitation is pending: the code cannot apply; "
		    "send to it without --access-code-file", r->addr);
	} else if (rc == 0 && r->a.state == SM_INVITED) {
		sm_fmt_time(r->a.inv_expires, when);
		char *extra = sm_xasprintf("You were invited earlier: register "
		    "with the token from that invitation\n(it expires on %s), "
		    "then read your messages with smail-inbox.", when);
		notice_mail(p, &m, r->a.addr, from->addr, from_name, mid, extra);
		free(extra);
		rc = sm_mail_stage(p, &m, &r->mail);
	} else if (rc == 0) {
		notice_mail(p, &m, r->a.addr, from->addr, from_name, mid, NULL);
		rc = sm_mail_stage(p, &m, &r->mail);
	}
	sm_buf_free(&m.body);
	free(by);
	free(why);
	return rc;
}

/* ---- storing ---- */

struct feed {
	struct sm_msgw *w;
};

static int
feed_part(void *arg, const void *p, size_t n)
{
	return sm_msgw_part_write(((struct feed *)arg)->w, p, n);
}

static int
write_buf_part(struct sm_msgw *w, unsigned part, const sm_buf *b,
    struct sm_pref *ref)
{
	int rc;

	if ((rc = sm_msgw_part_begin(w, part)) != 0 ||
	    (rc = sm_msgw_part_write(w, b->p, b->len)) != 0)
		return rc;
	ref->part = part;
	ref->size = b->len;
	return sm_msgw_part_end(w, ref->hash);
}

static int
write_src_part(sm_portal *p, struct sm_msgw *w, unsigned part,
    struct sm_src *a, struct sm_pref *ref)
{
	char buf[SM_CHUNK];
	uint64_t left = a->size;
	int rc;

	if ((rc = sm_msgw_part_begin(w, part)) != 0)
		return rc;
	if (a->fd >= 0) {
		if (lseek(a->fd, 0, SEEK_SET) < 0)
			return sm_err(EX_IOERR, "%s: %s", a->path, strerror(errno));
		while (left > 0) {
			ssize_t r = read(a->fd, buf, left < sizeof buf ? (size_t)left :
			    sizeof buf);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return sm_err(EX_IOERR, "%s: %s", a->path, strerror(errno));
			if (r == 0)
				return sm_err(EX_IOERR, "%s: the file shrank while being "
				    "sent", a->path);
			if ((rc = sm_msgw_part_write(w, buf, (size_t)r)) != 0)
				return rc;
			left -= (uint64_t)r;
		}
		sodium_memzero(buf, sizeof buf);
	} else {
		struct feed f = { w };
		if ((rc = sm_part_read(p, a->env, a->K, a->part, feed_part, &f,
		    NULL)) != 0)
			return rc;
		if (w->env.parts[part].size != a->size)
			return sm_err(EX_DATAERR, "%s: attachment changed size", a->name);
	}
	ref->part = part;
	ref->size = w->env.parts[part].size;
	return sm_msgw_part_end(w, ref->hash);
}

/* Encrypts and stores every part of C; the statement last. */
static int
write_parts(sm_portal *p, struct sm_msgw *w, const struct sm_ident *from,
    const char *from_name, struct sm_compose *c)
{
	struct sm_stmt s;
	sm_buf b = { 0 };
	unsigned part = 1;
	size_t i;
	int rc;

	memset(&s, 0, sizeof s);
	if ((rc = write_buf_part(w, part++, &c->body, &s.body)) != 0)
		goto out;
	if (c->has_html) {
		s.has_html = 1;
		if ((rc = write_buf_part(w, part++, &c->html, &s.html)) != 0)
			goto out;
	}
	s.att = sm_xcalloc(c->natt ? c->natt : 1, sizeof *s.att);
	for (i = 0; i < c->natt; i++) {
		s.att[i].name = c->att[i].name;
		s.att[i].from_orig = c->att[i].from_orig;
		if ((rc = write_src_part(p, w, part++, &c->att[i], &s.att[i].ref)) != 0)
			goto out;
		s.natt++;
	}
	memcpy(s.id, w->env.id, sizeof w->env.id);
	s.from = from->addr;
	s.from_name = (char *)(from_name ? from_name : "");
	memcpy(s.from_pk, from->pub.sign_pk, 32);
	s.to = c->to;
	s.nto = c->nto;
	s.cc = c->cc;
	s.ncc = c->ncc;
	s.date = w->env.date;
	s.subject = c->subject ? c->subject : "";
	memcpy(s.reply_to, c->reply_to, sizeof s.reply_to);
	memcpy(s.forward_of, c->forward_of, sizeof s.forward_of);
	s.orig_atts = c->forward_of[0] != 0;
	if (c->orig.len) {
		sm_buf_put(&s.orig, c->orig.p, c->orig.len);
		s.orig_offset = c->orig_offset;
	}
	sm_stmt_encode(&b, &s, from->keys);
	{
		struct sm_pref ref;
		rc = write_buf_part(w, 0, &b, &ref);
	}
out:
	free(s.att);
	sm_buf_free(&s.orig);
	sm_buf_free(&b);
	return rc;
}

static int
uniq_canon(char ***canon, char ***addr, size_t *n, char *const *v, size_t nv)
{
	size_t i, j;
	int rc;

	for (i = 0; i < nv; i++) {
		char *c;
		if ((rc = sm_addr_canon(v[i], &c)) != 0)
			return rc;
		for (j = 0; j < *n; j++)
			if (strcmp((*canon)[j], c) == 0)
				break;
		if (j < *n) {
			free(c);
			continue;
		}
		*canon = sm_xrealloc(*canon, (*n + 1) * sizeof **canon);
		*addr = sm_xrealloc(*addr, (*n + 1) * sizeof **addr);
		(*canon)[*n] = c;
		(*addr)[*n] = v[i];
		(*n)++;
	}
	return 0;
}

/* The display name of the acting account. */
static char *
display_name(const struct sm_account *a)
{
	if (a->first && a->last && *a->last)
		return sm_xasprintf("%s %s", a->first, a->last);
	if (a->first)
		return sm_xstrdup(a->first);
	if (a->last)
		return sm_xstrdup(a->last);
	return sm_xstrdup("");
}

/* Takes back a message whose header was stored when a later write
 * failed: its header, holders, delivery record and queue entries. */
static int
undo(sm_portal *p, const struct sm_env *e, char *const *canon, size_t n)
{
	char *key;
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++)
		rc = sm_unqueue(p, canon[i], e->id);
	key = sm_xasprintf("r:%s", e->id);
	if (rc == 0)
		rc = sm_store_remove(p, key);
	free(key);
	key = sm_xasprintf("d:%s", e->id);
	if (rc == 0)
		rc = sm_store_remove(p, key);
	free(key);
	key = sm_xasprintf("m:%s", e->id);
	if (rc == 0)
		rc = sm_store_remove(p, key);
	free(key);
	return rc;
}

/* ---- batches: many messages, one transaction, one sync ---- */

int
sm_batch_begin(sm_portal *p)
{
	int rc;

	p->batch = sm_xcalloc(1, sizeof *p->batch);
	if ((rc = sm_store_begin(p, 1)) != 0) {
		free(p->batch);
		p->batch = NULL;
	}
	return rc;
}

static void
batch_free(sm_portal *p, int discard)
{
	size_t i;

	for (i = 0; i < p->batch->nmails; i++) {
		if (discard)
			sm_mail_discard(p, p->batch->mails[i]);
		free(p->batch->mails[i]);
	}
	free(p->batch->mails);
	free(p->batch);
	p->batch = NULL;
}

void
sm_batch_abort(sm_portal *p)
{
	if (!p->batch)
		return;
	sm_store_end(p);
	batch_free(p, 1);
}

/* Commits the group: its notifications made durable first (one
 * syncfs), then the store (one sync), then the notifications posted.
 * Every message of the group is durable when this returns 0. */
int
sm_batch_commit(sm_portal *p)
{
	struct sm_batch *b = p->batch;
	int rc;

	if (!b)
		return 0;
	if (b->broken) {
		sm_batch_abort(p);
		return sm_err(EX_IOERR, "a write failed: this group of messages "
		    "was not stored");
	}
	if (b->nmails && (rc = sm_mail_sync(p)) != 0) {
		sm_batch_abort(p);
		return rc;
	}
	if ((rc = sm_store_commit(p)) != 0) {
		batch_free(p, 1);
		return rc;
	}
	p->batch = NULL;
	sm_mail_post_many(p, b->mails, b->nmails);
	p->batch = b;
	batch_free(p, 0);
	return 0;
}

int
sm_send(sm_portal *p, const struct sm_ident *from, struct sm_compose *c,
    int kind, char out_id[SM_ID_CHARS + 1])
{
	struct sm_msgw w;
	struct rcpt *r = NULL;
	struct sm_account me;
	struct sm_index drafts;
	char **canon = NULL, **addr = NULL, *from_name = NULL;
	size_t n = 0, i, nparts;
	int rc, started = 0, written = 0;

	memset(&w, 0, sizeof w);
	memset(&me, 0, sizeof me);
	memset(&drafts, 0, sizeof drafts);
	if ((rc = sm_compose_check(c)) != 0)
		return rc;
	if ((rc = uniq_canon(&canon, &addr, &n, c->to, c->nto)) != 0 ||
	    (rc = uniq_canon(&canon, &addr, &n, c->cc, c->ncc)) != 0 ||
	    (rc = uniq_canon(&canon, &addr, &n, c->bcc, c->nbcc)) != 0)
		goto out;
	if (kind == SM_KIND_MESSAGE && n == 0) {
		rc = sm_err(EX_USAGE, "no recipient");
		goto out;
	}
	if (n > SM_MAX_RECIPIENTS) {
		rc = sm_err(EX_DATAERR, "%zu recipients: at most %d", n,
		    SM_MAX_RECIPIENTS);
		goto out;
	}
	r = sm_xcalloc(n ? n : 1, sizeof *r);

	if ((rc = sm_store_begin(p, 1)) != 0)
		goto out;
	started = 1;
	{
		/* Room for everything this message writes, found before the
		 * first write. */
		uint64_t need = c->body.len + c->html.len + c->orig.len + 65536;
		for (i = 0; i < c->natt; i++)
			need += c->att[i].size + c->att[i].size / 64 + 1024;
		if ((rc = sm_store_reserve(p, need + need / 8)) != 0)
			goto abort;
	}
	if ((rc = sm_account_get(p, from->canon, &me)) != 0)
		goto abort;
	from_name = display_name(&me);
	nparts = 2 + (c->has_html ? 1 : 0) + c->natt;
	if ((rc = sm_msgw_init(&w, p, from->canon, from->pub.sign_pk, from->keys,
	    nparts)) != 0)
		goto abort;
	if (kind == SM_KIND_MESSAGE)
		for (i = 0; i < n; i++) {
			r[i].addr = addr[i];
			r[i].canon = canon[i];
			if ((rc = rcpt_prepare(p, &r[i], from, from_name, w.env.id,
			    c->code)) != 0)
				goto abort;
		}
	w.env.kind = kind;
	if (kind == SM_KIND_MESSAGE)
		w.env.expires = sm_expiry(p, c->ttl);
	if ((rc = write_parts(p, &w, from, from_name, c)) != 0)
		goto abort;
	if (kind == SM_KIND_MESSAGE)
		for (i = 0; i < n; i++)
			sm_msgw_rcpt(&w, r[i].canon, r[i].a.pub.box_pk);
	else
		sm_msgw_rcpt(&w, from->canon, from->pub.box_pk);
	if ((rc = sm_msgw_finish(&w)) != 0)
		goto abort;
	written = 1;           /* from here on, an error undoes more */
	if (kind == SM_KIND_MESSAGE) {
		const char **state = sm_xcalloc(n, sizeof *state);
		for (i = 0; i < n; i++)
			state[i] = r[i].a.state == SM_INVITED ? "invited" : "notified";
		rc = sm_dlv_start(p, &w.env, canon, state, n);
		free(state);
		if (rc || (rc = sm_holders_set(p, w.env.id, canon, n)) != 0)
			goto abort;
		for (i = 0; i < n; i++)
			if ((rc = sm_deliver(p, w.env.id, canon[i])) != 0 ||
			    (r[i].put && (rc = sm_account_put(p, &r[i].a)) != 0))
				goto abort;
	} else {
		struct sm_entry *e;
		char *self = from->canon;
		if ((rc = sm_holders_set(p, w.env.id, &self, 1)) != 0 ||
		    (rc = sm_index_load(p, from, 'y', &drafts)) != 0)
			goto abort;
		e = sm_index_add(&drafts);
		memcpy(e->id, w.env.id, sizeof e->id);
		e->date = w.env.date;
		e->flags = c->natt ? SM_F_ATT : 0;
		memcpy(e->K, w.K, 32);
		e->from = sm_xstrdup(from->addr);
		e->subject = sm_xstrdup(c->subject ? c->subject : "");
		{
			sm_buf t = { 0 };
			for (i = 0; i < c->nto + c->ncc; i++) {
				if (i)
					sm_buf_putc(&t, ',');
				sm_buf_puts(&t, i < c->nto ? c->to[i] : c->cc[i - c->nto]);
			}
			sm_buf_putc(&t, 0);
			e->to = (char *)t.p;
		}
		if ((rc = sm_index_save(p, from, 'y', &drafts)) != 0)
			goto abort;
	}
	if (kind == SM_KIND_MESSAGE &&
	    (rc = sm_audit(p, "send", from->canon, w.env.id)) != 0)
		goto abort;
	if ((rc = sm_store_commit(p)) != 0) {
		started = 0;
		goto discard;
	}
	started = 0;
	memcpy(out_id, w.env.id, SM_ID_CHARS + 1);
	for (i = 0; i < n; i++)
		if (r[i].made)
			sm_note("%s: invited", r[i].addr);
	for (i = 0; i < n; i++)
		if (r[i].mail) {
			if (p->batch) {
				/* Posted with the group, after its commit. */
				struct sm_batch *b = p->batch;
				b->mails = sm_xrealloc(b->mails, (b->nmails + 1) *
				    sizeof *b->mails);
				b->mails[b->nmails++] = r[i].mail;
				r[i].mail = NULL;
			} else
				sm_mail_post(p, r[i].mail);
		}
	goto out;
abort:
	/* GDBM has no rollback: take back what was written. */
	sm_msgw_abort(&w);
	if (written && undo(p, &w.env, canon, kind == SM_KIND_MESSAGE ? n : 0) != 0)
		sm_store_end(p);       /* could not: a batch cannot commit */
	else
		sm_store_release(p);
	started = 0;
discard:
	for (i = 0; i < n; i++)
		if (r[i].mail)
			sm_mail_discard(p, r[i].mail);
out:
	if (started)
		sm_store_end(p);
	for (i = 0; r && i < n; i++) {
		free(r[i].mail);
		sm_account_free(&r[i].a);
	}
	free(r);
	for (i = 0; i < n; i++)
		free(canon[i]);
	free(canon);
	free(addr);
	free(from_name);
	sm_account_free(&me);
	sm_index_free(&drafts);
	sm_msgw_free(&w);
	return rc;
}
