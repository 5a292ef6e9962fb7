/*
 * notify.c: notification mail (SPEC §5).
 *
 * Every notification is an RFC 5322 message written into the portal's
 * queue, a Maildir: staged in queue/tmp before the transaction that
 * needs it commits, moved into queue/new after, then delivered before
 * the command exits.  With no smtp_url, delivery is a rename into the
 * portal's own Maildir mail/, which stands for the recipients'
 * mailboxes.  A mail that cannot be delivered stays queued for
 * "smail-admin flush".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <sodium.h>

#include "smail.h"

static char *
hostname(void)
{
	char h[256];
	size_t i;

	if (gethostname(h, sizeof h) < 0 || !h[0])
		strcpy(h, "localhost");
	h[sizeof h - 1] = 0;
	for (i = 0; h[i]; i++)
		if (h[i] == '/' || h[i] == ':' || (unsigned char)h[i] <= 0x20 ||
		    h[i] == '<' || h[i] == '>' || h[i] == '@')
			h[i] = '_';
	return sm_xstrdup(h);
}

static char *
unique_name(void)
{
	struct timeval tv;
	unsigned char r[8];
	char hex[17], *host, *name;

	gettimeofday(&tv, NULL);
	randombytes_buf(r, sizeof r);
	sm_hex(hex, r, sizeof r);
	host = hostname();
	name = sm_xasprintf("%lld.M%ldP%ldR%s.%s", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (long)getpid(), hex, host);
	free(host);
	return name;
}

static int
is_ascii(const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] >= 0x80)
			return 0;
	return 1;
}

/* An unstructured header value, RFC 2047 encoded when not ASCII. */
static void
header_text(sm_buf *b, const char *s)
{
	size_t n = strlen(s), i;

	if (is_ascii(s, n)) {
		for (i = 0; i < n; i++)
			sm_buf_putc(b, (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i]);
		return;
	}
	/* Encoded words of at most 45 input bytes, never splitting a
	 * UTF-8 sequence. */
	for (i = 0; i < n; ) {
		size_t take = n - i > 45 ? 45 : n - i, len;
		char *enc;
		while (i + take < n && ((unsigned char)s[i + take] & 0xc0) == 0x80)
			take--;
		len = sodium_base64_ENCODED_LEN(take, sodium_base64_VARIANT_ORIGINAL);
		enc = sm_xmalloc(len);
		sodium_bin2base64(enc, len, (const unsigned char *)s + i, take,
		    sodium_base64_VARIANT_ORIGINAL);
		sm_buf_printf(b, "%s=?UTF-8?B?%s?=", i ? "\n " : "", enc);
		free(enc);
		i += take;
	}
}

static void
compose(const sm_portal *p, const struct sm_mail *m, sm_buf *out)
{
	char date[64], id[33], *host;
	unsigned char r[16];
	time_t now = (time_t)sm_now();
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	randombytes_buf(r, sizeof r);
	sm_hex(id, r, sizeof r);
	host = hostname();
	sm_buf_printf(out, "Date: %s\n", date);
	sm_buf_printf(out, "Message-ID: <%s@%s>\n", id, host);
	if (p->cfg.smtp_from) {
		/* "Name <addr>": only the name may need encoding. */
		const char *f = p->cfg.smtp_from, *lt = strrchr(f, '<');
		sm_buf_puts(out, "From: ");
		if (lt && strchr(lt, '>')) {
			char *name = sm_xstrndup(f, (size_t)(lt - f));
			size_t n = strlen(name);
			while (n > 0 && name[n - 1] == ' ')
				name[--n] = 0;
			if (n) {
				header_text(out, name);
				sm_buf_putc(out, ' ');
			}
			sm_buf_puts(out, lt);
			free(name);
		} else
			sm_buf_puts(out, f);
		sm_buf_putc(out, '\n');
	} else
		sm_buf_printf(out, "From: Secure Mail Portal <smail@%s>\n", host);
	sm_buf_printf(out, "To: <%s>\n", m->to);
	sm_buf_puts(out, "Subject: ");
	header_text(out, m->subject);
	sm_buf_puts(out, "\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\n");
	sm_buf_printf(out, "Content-Transfer-Encoding: %s\n",
	    is_ascii(m->body.p, m->body.len) ? "7bit" : "8bit");
	sm_buf_puts(out, "Auto-Submitted: auto-generated\n\n");
	sm_buf_put(out, m->body.p, m->body.len);
	free(host);
}

int
sm_mail_stage(sm_portal *p, const struct sm_mail *m, char **name)
{
	sm_buf text = { 0 };
	char *n = unique_name(), *path;
	int rc;

	compose(p, m, &text);
	path = sm_xasprintf("%s/queue/tmp/%s", p->dir, n);
	/* In a batch, one syncfs covers the group's mails (sm_mail_sync). */
	rc = p->batch ? sm_write_file_nosync(path, text.p, text.len) :
	    sm_write_file(path, text.p, text.len);
	free(path);
	sm_buf_free(&text);
	if (rc) {
		free(n);
		return rc;
	}
	*name = n;
	return 0;
}

/* Overwrites a file that may hold a token, then removes it. */
static void
wipe(const char *path)
{
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	char zero[4096] = { 0 };

	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			off_t left = st.st_size;
			while (left > 0) {
				size_t n = left > (off_t)sizeof zero ? sizeof zero : (size_t)left;
				if (write(fd, zero, n) < 0)
					break;
				left -= (off_t)n;
			}
			fsync(fd);
		}
		close(fd);
	}
	unlink(path);
}

void
sm_mail_discard(sm_portal *p, const char *name)
{
	char *path = sm_xasprintf("%s/queue/tmp/%s", p->dir, name);

	wipe(path);
	free(path);
}

/* The queue's lock: one deliverer at a time, so that a mail goes out
 * once.  Waits like the store's lock. */
static int
queue_lock(sm_portal *p, int *fd)
{
	char *dir = sm_xasprintf("%s/queue/new", p->dir);
	int64_t waited = 0;
	int rc = 0;

	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		rc = sm_err(EX_IOERR, "%s: %s", dir, strerror(errno));
	while (rc == 0 && flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			rc = sm_err(EX_IOERR, "%s: %s", dir, strerror(errno));
			break;
		}
		if (waited >= p->cfg.store_wait * 20) {
			rc = sm_err(EX_TEMPFAIL, "%s: another command is delivering; "
			    "the mail stays queued", dir);
			break;
		}
		usleep(50000);
		waited++;
	}
	if (rc && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	free(dir);
	return rc;
}

static void
queue_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* A mail the relay refused for good: a short report in queue/rejected
 * (recipient, subject, date, the relay's answer), never the body,
 * which may hold a token. */
static int
set_aside(sm_portal *p, const char *name, const char *text, size_t len,
    const char *reason)
{
	char *dir = sm_xasprintf("%s/queue/rejected", p->dir);
	char *path = sm_xasprintf("%s/%s", dir, name);
	const char *q = text, *end = text + len;
	sm_buf r = { 0 };
	int rc;

	if ((rc = sm_mkdirs(dir)) == 0) {
		while (q < end && *q != '\n') {
			const char *nl = memchr(q, '\n', (size_t)(end - q));
			size_t n = nl ? (size_t)(nl - q) : (size_t)(end - q);
			if ((n > 3 && strncmp(q, "To:", 3) == 0) ||
			    (n > 8 && strncmp(q, "Subject:", 8) == 0) ||
			    (n > 5 && strncmp(q, "Date:", 5) == 0) ||
			    (n > 11 && strncmp(q, "Message-ID:", 11) == 0)) {
				sm_buf_put(&r, q, n);
				sm_buf_putc(&r, '\n');
			}
			if (!nl)
				break;
			q = nl + 1;
		}
		sm_buf_printf(&r, "X-Smail-Rejected: %s\n", reason);
		rc = sm_write_file(path, r.p, r.len);
	}
	sm_buf_free(&r);
	free(path);
	free(dir);
	return rc;
}

/* Delivers queue/new/NAME: 0 done (or already done), 75 left queued,
 * 65 refused for good and set aside. */
static int
deliver(sm_portal *p, const char *name, int sync)
{
	char *from = sm_xasprintf("%s/queue/new/%s", p->dir, name);
	char *newdir = sm_xasprintf("%s/queue/new", p->dir);
	char *to, *dir, *text = NULL, *reason = NULL;
	size_t len;
	int rc = 0;

	if (!p->cfg.smtp_url) {
		to = sm_xasprintf("%s/mail/new/%s", p->dir, name);
		dir = sm_xasprintf("%s/mail/new", p->dir);
		if (rename(from, to) < 0) {
			if (errno != ENOENT)   /* ENOENT: a flush delivered it */
				rc = sm_err(EX_IOERR, "%s: %s", to, strerror(errno));
		} else if (sync)
			rc = sm_fsync_dir(dir);
		free(to);
		free(dir);
		goto out;
	}
	{
		/* The spool's files are not checked one by one when the
		 * portal opens (its directories are): never follow a link. */
		int fd = open(from, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		struct stat st;
		if (fd < 0)
			rc = sm_err(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s: %s",
			    from, errno == ELOOP ? "a symbolic link" : strerror(errno));
		else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			rc = sm_err(EX_CONFIG, "%s: not a regular file", from);
			close(fd);
		} else {
			rc = sm_read_fd(fd, from, 1 << 20, &text, &len);
			close(fd);
		}
	}
	if (rc == EX_NOINPUT && access(from, F_OK) < 0) {
		rc = 0;                /* delivered meanwhile */
		goto out;
	}
	if (rc)
		goto out;
	if (sm_all_zero(text, len)) {
		/* Left zeroed by a flush killed while wiping a delivered mail. */
		unlink(from);
		rc = 0;
		goto out;
	}
	rc = sm_smtp_send(p, text, len, &reason);
	if (rc == EX_DATAERR && reason) {
		if (set_aside(p, name, text, len, reason) == 0) {
			wipe(from);
			sm_fsync_dir(newdir);
		}
		{
			char *rcpt = sm_mail_rcpt(text, len);
			sm_err(EX_DATAERR, "%s: refused by the relay (%s); set aside "
			    "in queue/rejected/%s", rcpt ? rcpt : name, reason, name);
			free(rcpt);
		}
	} else if (rc == 0) {
		/* Out of the queue at once (a rename), then wiped, so that a
		 * crash in between leaves nothing to deliver twice. */
		char *done = sm_xasprintf("%s/queue/cur/%s", p->dir, name);
		if (rename(from, done) == 0) {
			sm_fsync_dir(newdir);
			wipe(done);
		} else
			wipe(from);
		free(done);
		rc = sm_fsync_dir(newdir);
	}
out:
	if (text) {
		sodium_memzero(text, len);
		free(text);
	}
	free(reason);
	free(from);
	free(newdir);
	return rc;
}

/* After the commit: the staged mails into queue/new (one directory
 * sync for them all), then delivered. */
int
sm_mail_post_many(sm_portal *p, char *const *names, size_t n)
{
	char *dir = sm_xasprintf("%s/queue/new", p->dir);
	char *mdir = sm_xasprintf("%s/mail/new", p->dir);
	size_t i;
	int rc = 0, lock = -1, warned = 0;

	for (i = 0; i < n && rc == 0; i++) {
		char *from = sm_xasprintf("%s/queue/tmp/%s", p->dir, names[i]);
		char *to = sm_xasprintf("%s/queue/new/%s", p->dir, names[i]);
		if (rename(from, to) < 0)
			rc = sm_err(EX_IOERR, "%s: %s", to, strerror(errno));
		free(from);
		free(to);
	}
	if (n && rc == 0)
		rc = sm_fsync_dir(dir);
	/* Queued: the command that queued them has done its work; a
	 * delivery failure is a warning. */
	if (n && rc == 0) {
		if (queue_lock(p, &lock) != 0)
			warned = 1;
		else
			for (i = 0; i < n; i++)
				if (deliver(p, names[i], 0) == EX_TEMPFAIL)
					warned = 1;
		if (!p->cfg.smtp_url)
			sm_fsync_dir(mdir);
		queue_unlock(lock);
		if (warned)
			sm_warn("notification queued; 'smail-admin flush' delivers it");
	}
	free(dir);
	free(mdir);
	return rc;
}

int
sm_mail_post(sm_portal *p, const char *name)
{
	char *names[1] = { (char *)name };

	return sm_mail_post_many(p, names, 1);
}

/* Makes staged mails durable (a batch's group): one syncfs. */
int
sm_mail_sync(sm_portal *p)
{
	char *dir = sm_xasprintf("%s/queue/tmp", p->dir);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0 || syncfs(fd) < 0)
		rc = sm_err(EX_IOERR, "%s: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

int
sm_mail_flush(sm_portal *p, unsigned *delivered, unsigned *left,
    unsigned *rejected)
{
	char *dir = sm_xasprintf("%s/queue/new", p->dir);
	char *tmpdir = sm_xasprintf("%s/queue/tmp", p->dir);
	DIR *d;
	struct dirent *e;
	struct stat st;
	struct sm_progress pr;
	int rc = 0, lock = -1;

	memset(&pr, 0, sizeof pr);
	*delivered = *left = *rejected = 0;
	if ((rc = queue_lock(p, &lock)) != 0)
		goto out;
	/* Delivered mail a killed flush did not finish wiping. */
	{
		char *cur = sm_xasprintf("%s/queue/cur", p->dir);
		if ((d = opendir(cur))) {
			while ((e = readdir(d))) {
				char *path;
				if (e->d_name[0] == '.')
					continue;
				path = sm_xasprintf("%s/%s", cur, e->d_name);
				wipe(path);
				free(path);
			}
			closedir(d);
		}
		free(cur);
	}
	/* Staged mail whose command died before it committed: a day old
	 * is surely abandoned. */
	if ((d = opendir(tmpdir))) {
		while ((e = readdir(d))) {
			char *path;
			if (e->d_name[0] == '.')
				continue;
			path = sm_xasprintf("%s/%s", tmpdir, e->d_name);
			if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
			    st.st_mtime < sm_now() - 86400)
				wipe(path);
			free(path);
		}
		closedir(d);
	}
	if (!(d = opendir(dir))) {
		rc = sm_err(EX_IOERR, "%s: %s", dir, strerror(errno));
		goto out;
	}
	{
		uint64_t n = 0;
		while ((e = readdir(d)))
			n += e->d_name[0] != '.';
		rewinddir(d);
		sm_progress_begin(&pr, "flush", "mails", n);
	}
	while ((e = readdir(d))) {
		int r;
		if (e->d_name[0] == '.')
			continue;
		sm_progress_add(&pr, 1);
		r = deliver(p, e->d_name, 1);
		if (r == 0)
			(*delivered)++;
		else if (r == EX_DATAERR)
			(*rejected)++;
		else
			(*left)++;
	}
	closedir(d);
	/* Mails set aside before: reported until the operator removes them. */
	{
		char *rej = sm_xasprintf("%s/queue/rejected", p->dir);
		unsigned n = 0;
		if ((d = opendir(rej))) {
			while ((e = readdir(d)))
				if (e->d_name[0] != '.')
					n++;
			closedir(d);
		}
		if (n > *rejected)
			sm_warn("%s holds %u mail%s the relay refused; read and "
			    "remove them", rej, n, n == 1 ? "" : "s");
		free(rej);
	}
out:
	sm_progress_end(&pr);
	queue_unlock(lock);
	free(dir);
	free(tmpdir);
	return rc;
}
