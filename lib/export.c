/*
 * export.c: a message written out: the text view, a directory of
 * files, a zip (libarchive), an RFC 5322 MIME message, one attachment.
 * Everything streams: attachments pass through in 64 KiB chunks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>

#include "smail.h"

/* ---- output to a descriptor ---- */

int
sm_out_write(void *arg, const void *p, size_t n)
{
	struct sm_out *o = arg;
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(o->fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return sm_err(EX_IOERR, "%s: %s", o->name, strerror(errno));
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Creates PATH for output, 0600.  The file is made unnamed (O_TMPFILE)
 * in PATH's directory and linked in by sm_out_close only when all of it
 * was written and checked, so that no reader ever sees half a file or
 * a file whose message failed a check; linking never replaces a name.
 * Where the file system has no unnamed files, PATH is created at once
 * (O_EXCL|O_NOFOLLOW) and removed on failure.  73 if PATH exists.
 */
int
sm_out_create(struct sm_out *o, const char *path)
{
	struct stat st;
	const char *slash = strrchr(path, '/');
	char *dir;

	o->fd = -1;
	o->name = path;
	o->unnamed = 0;
	if (lstat(path, &st) == 0)
		return sm_err(EX_CANTCREAT, "%s: exists; not overwriting", path);
	dir = slash ? sm_xasprintf("%.*s", slash == path ? 1 : (int)(slash - path),
	    path) : sm_xstrdup(".");
	o->fd = open(dir, O_WRONLY | O_TMPFILE | O_CLOEXEC, 0600);
	free(dir);
	if (o->fd >= 0 && access("/proc/self/fd", X_OK) == 0) {
		o->unnamed = 1;
		return 0;
	}
	if (o->fd >= 0)
		close(o->fd);
	o->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (o->fd < 0)
		return sm_err(EX_CANTCREAT, "%s: %s", path, errno == EEXIST ?
		    "exists; not overwriting" : strerror(errno));
	return 0;
}

int
sm_out_close(struct sm_out *o, int ok)
{
	char proc[64];
	int rc = 0, linked = 0;

	if (o->fd > 2) {
		if (ok && fsync(o->fd) < 0 && errno != EINVAL)
			rc = sm_err(EX_IOERR, "%s: %s", o->name, strerror(errno));
		if (ok && rc == 0 && o->unnamed) {
			snprintf(proc, sizeof proc, "/proc/self/fd/%d", o->fd);
			if (linkat(AT_FDCWD, proc, AT_FDCWD, o->name, AT_SYMLINK_FOLLOW) < 0)
				rc = sm_err(EX_CANTCREAT, "%s: %s", o->name, errno == EEXIST ?
				    "exists; not overwriting" : strerror(errno));
			else
				linked = 1;
		}
		if (close(o->fd) < 0 && rc == 0)
			rc = sm_err(EX_IOERR, "%s: %s", o->name, strerror(errno));
		if ((!ok || rc) && (!o->unnamed || linked))
			unlink(o->name);
	}
	o->fd = -1;
	return rc;
}

/* ---- names ---- */

/* A field for one line of text: control characters (C1 too) become
 * spaces (show.c). */
static void
put_field(sm_buf *b, const char *s)
{
	sm_field(b, s);
}

/*
 * A name safe to create in a directory: no '/', no control characters
 * (C1 included, show.c), no leading '-', not dots only, not empty, at
 * most 200 bytes.
 */
char *
sm_safe_name(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t n = strlen(name), i = 0, j = 0, dots = 0, ctrl, u;
	char *s = sm_xmalloc(n + 2);

	while (i < n && j < 200) {
		if ((ctrl = sm_ctrl_len(p + i, n - i))) {
			s[j++] = '_';
			i += ctrl;
			continue;
		}
		if (!(u = sm_utf8_len(p + i, n - i)))
			u = 1;
		for (; u > 0 && j < 200; u--, i++) {
			unsigned char c = p[i];
			if (c == '/' || c == '\\' || (j == 0 && c == '-'))
				c = '_';
			s[j++] = (char)c;
		}
	}
	/* Do not cut a UTF-8 sequence in half. */
	while (j > 0 && ((unsigned char)s[j - 1] & 0xc0) == 0x80 && i < n) {
		size_t k = j;
		while (k > 0 && ((unsigned char)s[k - 1] & 0xc0) == 0x80)
			k--;
		j = k > 0 ? k - 1 : 0;
		break;
	}
	s[j] = 0;
	for (i = 0; i < j; i++)
		if (s[i] == '.')
			dots++;
	if (j == 0 || dots == j) {
		free(s);
		return sm_xstrdup(j == 0 ? "attachment" : "_");
	}
	return s;
}

/* Unique safe names for the attachments, none equal to TAKEN or
 * TAKEN2 (the files the export writes itself). */
static char **
safe_names(const struct sm_stmt *s, const char *taken, const char *taken2)
{
	char **v = sm_xcalloc(s->natt ? s->natt : 1, sizeof *v);
	size_t i, j;

	for (i = 0; i < s->natt; i++) {
		char *base = sm_safe_name(s->att[i].name), *cand = sm_xstrdup(base);
		unsigned k = 1;
		for (;;) {
			int clash = (taken && strcmp(cand, taken) == 0) ||
			    (taken2 && strcmp(cand, taken2) == 0);
			for (j = 0; j < i && !clash; j++)
				clash = strcmp(v[j], cand) == 0;
			if (!clash)
				break;
			free(cand);
			{
				/* name-2.ext */
				const char *dot = strrchr(base, '.');
				k++;
				if (dot && dot != base)
					cand = sm_xasprintf("%.*s-%u%s", (int)(dot - base),
					    base, k, dot);
				else
					cand = sm_xasprintf("%s-%u", base, k);
			}
		}
		free(base);
		v[i] = cand;
	}
	return v;
}

static void
free_names(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The same names, for a zip's check (sigzip.c). */
char **
sm_att_names(const struct sm_stmt *s, const char *taken, const char *taken2)
{
	return safe_names(s, taken, taken2);
}

void
sm_names_free(char **v, size_t n)
{
	free_names(v, n);
}

/* ---- the text view ---- */

static void
addr_list(sm_buf *b, char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i)
			sm_buf_puts(b, ", ");
		put_field(b, v[i]);
	}
}

/* The headers of the text view, up to and with the blank line. */
void
sm_text_head(sm_buf *b, const struct sm_opened *o)
{
	const struct sm_stmt *s = &o->stmt;
	char when[32];
	size_t i;

	sm_buf_puts(b, "From: ");
	if (s->from_name && *s->from_name) {
		put_field(b, s->from_name);
		sm_buf_puts(b, " <");
		put_field(b, s->from);
		sm_buf_puts(b, ">");
	} else
		put_field(b, s->from);
	sm_buf_puts(b, "\nTo: ");
	addr_list(b, s->to, s->nto);
	sm_buf_putc(b, '\n');
	if (s->ncc) {
		sm_buf_puts(b, "Cc: ");
		addr_list(b, s->cc, s->ncc);
		sm_buf_putc(b, '\n');
	}
	sm_fmt_time(s->date, when);
	sm_buf_printf(b, "Date: %s\nSubject: ", when);
	put_field(b, s->subject);
	sm_buf_putc(b, '\n');
	if (s->natt) {
		sm_buf_puts(b, "Attachments: ");
		for (i = 0; i < s->natt; i++) {
			if (i)
				sm_buf_puts(b, ", ");
			put_field(b, s->att[i].name);
			sm_buf_printf(b, " (%llu bytes%s)",
			    (unsigned long long)s->att[i].ref.size,
			    sm_forward_mark(o, i));
		}
		sm_buf_putc(b, '\n');
	}
	if (s->forward_of[0]) {
		struct sm_stmt orig;
		int v = s->orig.len ? sm_stmt_decode(&orig, s->orig.p, s->orig.len) : -1;
		sm_buf_printf(b, "Forwarded: %s, ", s->forward_of);
		if (v == 0) {
			put_field(b, orig.from);
			sm_buf_puts(b, o->orig_verified ? ", original verified" :
			    ", original NOT verified");
			sm_stmt_free(&orig);
		} else
			sm_buf_puts(b, "original NOT verified");
		sm_buf_putc(b, '\n');
	}
	if (s->reply_to[0])
		sm_buf_printf(b, "In-Reply-To: %s\n", s->reply_to);
	sm_buf_putc(b, '\n');
}

/* The whole text view into memory (message.txt, ID.txt). */
int
sm_text_view(sm_portal *p, struct sm_opened *o, sm_buf *b)
{
	size_t start;
	int rc;

	sm_text_head(b, o);
	start = b->len;
	if ((rc = sm_part_load(p, &o->env, o->K, 1, b, NULL)) != 0)
		return rc;
	if (b->len > start && b->p[b->len - 1] != '\n')
		sm_buf_putc(b, '\n');
	return 0;
}

/* ---- one attachment ---- */

int
sm_att_find(const struct sm_stmt *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->natt; i++)
		if (strcmp(s->att[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* An attachment's bytes, counted toward the progress line. */
static int
att_write(void *arg, const void *p, size_t n)
{
	sm_progress_add(sm_progress_now, n);
	return sm_out_write(arg, p, n);
}

int
sm_write_att(sm_portal *p, struct sm_opened *o, size_t i, struct sm_out *out)
{
	return sm_part_read(p, &o->env, o->K, o->stmt.att[i].ref.part,
	    att_write, out, NULL);
}

/* ---- a directory of files ---- */

int
sm_export_dir(sm_portal *p, struct sm_opened *o, const char *dir)
{
	char *txt = sm_xasprintf("%s.txt", o->env.id), **names, **paths;
	struct stat st;
	sm_buf text = { 0 };
	struct sm_out *out;
	size_t i, n = o->stmt.natt + 1, made = 0;
	int rc = 0, c;

	names = safe_names(&o->stmt, txt, NULL);
	paths = sm_xcalloc(n, sizeof *paths);
	out = sm_xcalloc(n, sizeof *out);
	for (i = 0; i < n; i++)
		paths[i] = sm_xasprintf("%s/%s", dir, i == 0 ? txt : names[i - 1]);
	/* Refuse before writing anything when a file exists. */
	for (i = 0; i < n && rc == 0; i++)
		if (lstat(paths[i], &st) == 0)
			rc = sm_err(EX_CANTCREAT, "%s: exists; not overwriting", paths[i]);
	if (rc == 0)
		rc = sm_text_view(p, o, &text);
	/* Every file is written and checked before any of them is named:
	 * a part that fails its check leaves none of the message's files. */
	for (i = 0; i < n && rc == 0; i++) {
		if ((rc = sm_out_create(&out[i], paths[i])) != 0)
			break;
		made++;
		rc = i == 0 ? sm_out_write(&out[i], text.p, text.len) :
		    sm_write_att(p, o, i - 1, &out[i]);
	}
	for (i = 0; i < made; i++) {
		size_t j;
		if ((c = sm_out_close(&out[i], rc == 0)) == 0 || rc)
			continue;
		/* A name taken meanwhile by someone else: take back ours. */
		rc = c;
		for (j = 0; j < i; j++)
			unlink(paths[j]);
	}
	if (rc == 0)
		rc = sm_fsync_dir(dir);
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(out);
	sm_buf_free(&text);
	free_names(names, o->stmt.natt);
	free(txt);
	return rc;
}

/* ---- zip ---- */

/* Does this look compressible?  Bytes of a sample with near-uniform
 * distribution (already compressed or encrypted) are stored. */
static int
compressible(const unsigned char *p, size_t n)
{
	unsigned counts[256] = { 0 };
	double h = 0;
	size_t i;

	if (n < 128)
		return 0;      /* too small to gain anything */
	if (n < 512)
		return 1;
	for (i = 0; i < n; i++)
		counts[p[i]]++;
	for (i = 0; i < 256; i++)
		if (counts[i]) {
			double q = (double)counts[i] / (double)n;
			/* log2 via natural log would need libm; use a series-free
			 * bound: sum q*log2(1/q) estimated with frexp-free math. */
			double x = 1.0 / q, l = 0;
			while (x >= 2.0) {
				x /= 2.0;
				l += 1.0;
			}
			/* log2(x) for x in [1,2): (x-1) * (1.4427 - 0.36 (x-1)) */
			l += (x - 1.0) * (1.4427 - 0.36 * (x - 1.0));
			h += q * l;
		}
	return h < 7.5;
}

struct zipfeed {
	struct archive *a;
	const char *name;
	crypto_hash_sha256_state sha;  /* of the entry being written */
};

static int
zip_write(void *arg, const void *p, size_t n)
{
	struct zipfeed *z = arg;

	sm_progress_add(sm_progress_now, n);
	crypto_hash_sha256_update(&z->sha, p, n);
	if (archive_write_data(z->a, p, n) != (la_ssize_t)n)
		return sm_err(EX_IOERR, "%s: %s", z->name, archive_error_string(z->a));
	return 0;
}

/* The first bytes of a part, to judge compressibility. */
struct sample {
	unsigned char buf[SM_CHUNK];
	size_t n;
};

static int
take_sample(void *arg, const void *p, size_t n)
{
	struct sample *s = arg;
	size_t take = n < sizeof s->buf - s->n ? n : sizeof s->buf - s->n;

	memcpy(s->buf + s->n, p, take);
	s->n += take;
	return s->n == sizeof s->buf ? -1 : 0;    /* enough: stop */
}

static int
zip_entry(struct archive *a, const char *name, uint64_t size, int64_t mtime,
    int deflate, const char *zipname)
{
	struct archive_entry *e = archive_entry_new();
	int rc = 0;

	if ((deflate ? archive_write_zip_set_compression_deflate(a) :
	    archive_write_zip_set_compression_store(a)) != ARCHIVE_OK) {
		archive_entry_free(e);
		return sm_err(EX_SOFTWARE, "%s: %s", zipname, archive_error_string(a));
	}
	archive_entry_set_pathname_utf8(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		rc = sm_err(EX_IOERR, "%s: %s", zipname, archive_error_string(a));
	archive_entry_free(e);
	return rc;
}

static la_ssize_t
arch_write(struct archive *a, void *arg, const void *buf, size_t n)
{
	(void)a;
	return sm_out_write(arg, buf, n) == 0 ? (la_ssize_t)n : -1;
}

/*
 * The zip: message.txt, the attachments under safe names, and
 * manifest.txt: the SHA-256 of every file, the sender's signed
 * statement, all signed by the portal (see sigzip.c).
 */
int
sm_export_zip(sm_portal *p, struct sm_opened *o, struct sm_out *out)
{
	struct archive *a = archive_write_new();
	struct zipfeed z = { a, out->name };
	struct sample *smp = sm_secret_alloc(sizeof *smp);
	unsigned char *psk = sm_secret_alloc(64), sha[32];
	sm_buf text = { 0 }, head = { 0 }, mf = { 0 }, stmt = { 0 };
	char **names;
	size_t i;
	int rc = 0;

	names = safe_names(&o->stmt, "message.txt", "manifest.txt");
	if ((rc = sm_portal_signkey(p, psk, 1)) != 0 ||
	    (rc = sm_part_load(p, &o->env, o->K, 0, &stmt, NULL)) != 0)
		goto out;
	if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, out, NULL, arch_write, NULL) != ARCHIVE_OK) {
		rc = sm_err(EX_IOERR, "%s: %s", out->name, archive_error_string(a));
		goto out;
	}
	sm_mf_begin(&mf, o, psk + 32);
	sm_text_head(&head, o);
	crypto_hash_sha256_init(&z.sha);
	if ((rc = sm_text_view(p, o, &text)) != 0 ||
	    (rc = zip_entry(a, "message.txt", text.len, o->stmt.date, 1,
	    out->name)) != 0 || (rc = zip_write(&z, text.p, text.len)) != 0)
		goto out;
	crypto_hash_sha256_final(&z.sha, sha);
	sm_mf_file(&mf, "message.txt", sha, -1);
	for (i = 0; i < o->stmt.natt && rc == 0; i++) {
		const struct sm_att *t = &o->stmt.att[i];
		smp->n = 0;
		rc = sm_part_read(p, &o->env, o->K, t->ref.part, take_sample, smp, NULL);
		if (rc != 0 && rc != -1)
			break;
		rc = zip_entry(a, names[i], t->ref.size, o->stmt.date,
		    compressible(smp->buf, smp->n), out->name);
		crypto_hash_sha256_init(&z.sha);
		if (rc == 0)
			rc = sm_part_read(p, &o->env, o->K, t->ref.part, zip_write, &z,
			    NULL);
		crypto_hash_sha256_final(&z.sha, sha);
		sm_mf_file(&mf, names[i], sha, (int)i);
	}
	if (rc)
		goto out;
	sm_mf_finish(&mf, &stmt, head.len, (size_t)o->stmt.body.size, psk);
	crypto_hash_sha256_init(&z.sha);
	if ((rc = zip_entry(a, "manifest.txt", mf.len, o->stmt.date, 1,
	    out->name)) != 0 || (rc = zip_write(&z, mf.p, mf.len)) != 0)
		goto out;
	if (archive_write_close(a) != ARCHIVE_OK)
		rc = sm_err(EX_IOERR, "%s: %s", out->name, archive_error_string(a));
out:
	archive_write_free(a);
	sm_secret_free(smp);
	sm_secret_free(psk);
	sm_buf_free(&text);
	sm_buf_free(&head);
	sm_buf_free(&mf);
	sm_buf_free(&stmt);
	free_names(names, o->stmt.natt);
	return rc;
}

/* ---- RFC 5322 / MIME ---- */

static int
is_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

/* An unstructured header value: RFC 2047 encoded words when not ASCII
 * (or when it holds control characters). */
static void
mime_text(sm_buf *b, const char *s)
{
	size_t n = strlen(s), i;
	int plain = is_ascii(s, n);

	for (i = 0; plain && i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			plain = 0;
	if (plain && !strstr(s, "=?")) {
		sm_buf_puts(b, s);
		return;
	}
	for (i = 0; i < n; ) {
		size_t take = n - i > 45 ? 45 : n - i, len;
		char *enc;
		while (i + take < n && ((unsigned char)s[i + take] & 0xc0) == 0x80)
			take--;
		len = sodium_base64_ENCODED_LEN(take, sodium_base64_VARIANT_ORIGINAL);
		enc = sm_xmalloc(len);
		sodium_bin2base64(enc, len, (const unsigned char *)s + i, take,
		    sodium_base64_VARIANT_ORIGINAL);
		sm_buf_printf(b, "%s=?UTF-8?B?%s?=", i ? "\r\n " : "", enc);
		free(enc);
		i += take;
	}
}

/* A quoted display name or an encoded word, then <addr>. */
static void
mime_mailbox(sm_buf *b, const char *name, const char *addr)
{
	size_t i, n = name ? strlen(name) : 0;

	if (n && is_ascii(name, n)) {
		sm_buf_putc(b, '"');
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)name[i];
			if (c < 0x20 || c == 0x7f)
				continue;
			if (c == '"' || c == '\\')
				sm_buf_putc(b, '\\');
			sm_buf_putc(b, (char)c);
		}
		sm_buf_puts(b, "\" ");
	} else if (n) {
		mime_text(b, name);
		sm_buf_putc(b, ' ');
	}
	sm_buf_printf(b, "<%s>", addr);
}

/* filename="x" for plain ASCII names, else RFC 2231 filename*=UTF-8''%XX */
static void
mime_param(sm_buf *b, const char *key, const char *v)
{
	size_t i, n = strlen(v);
	int plain = is_ascii(v, n);

	for (i = 0; plain && i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f || v[i] == '"' ||
		    v[i] == '\\')
			plain = 0;
	if (plain) {
		sm_buf_printf(b, "%s=\"%s\"", key, v);
		return;
	}
	sm_buf_printf(b, "%s*=UTF-8''", key);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("!#$&+-.^_`|~", c))
			sm_buf_putc(b, (char)c);
		else
			sm_buf_printf(b, "%%%02X", c);
	}
}

static const char *
mime_type(const char *name)
{
	static const struct { const char *ext, *type; } t[] = {
		{ ".pdf", "application/pdf" }, { ".txt", "text/plain" },
		{ ".csv", "text/csv" }, { ".html", "text/html" },
		{ ".htm", "text/html" }, { ".png", "image/png" },
		{ ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" },
		{ ".gif", "image/gif" }, { ".tif", "image/tiff" },
		{ ".tiff", "image/tiff" }, { ".zip", "application/zip" },
		{ ".xml", "application/xml" }, { ".json", "application/json" },
		{ ".doc", "application/msword" },
		{ ".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
		{ ".xls", "application/vnd.ms-excel" },
		{ ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
		{ ".odt", "application/vnd.oasis.opendocument.text" },
	};
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot)
		for (i = 0; i < sizeof t / sizeof t[0]; i++)
			if (strcasecmp(dot, t[i].ext) == 0)
				return t[i].type;
	return "application/octet-stream";
}

/* Base64 in 76-column CRLF lines, streamed, written out a buffer at a
 * time. */
#define B64_BUF (64 * 78)
struct b64 {
	struct sm_out *out;
	unsigned char carry[57];
	size_t n, on;
	char obuf[B64_BUF];
	int count;                     /* counts toward the progress line */
};

static int
b64_line(struct b64 *s, const unsigned char *p, size_t n)
{
	int rc;

	if (s->on + 80 > B64_BUF) {
		if ((rc = sm_out_write(s->out, s->obuf, s->on)) != 0)
			return rc;
		s->on = 0;
	}
	sodium_bin2base64(s->obuf + s->on, 80, p, n, sodium_base64_VARIANT_ORIGINAL);
	s->on += strlen(s->obuf + s->on);
	memcpy(s->obuf + s->on, "\r\n", 2);
	s->on += 2;
	return 0;
}

static int
b64_write(void *arg, const void *data, size_t n)
{
	struct b64 *s = arg;
	const unsigned char *p = data;
	int rc;

	if (s->count)
		sm_progress_add(sm_progress_now, n);
	while (n > 0) {
		size_t take = 57 - s->n < n ? 57 - s->n : n;
		memcpy(s->carry + s->n, p, take);
		s->n += take;
		p += take;
		n -= take;
		if (s->n == 57) {
			if ((rc = b64_line(s, s->carry, 57)) != 0)
				return rc;
			s->n = 0;
		}
	}
	return 0;
}

static int
b64_end(struct b64 *s)
{
	int rc = s->n ? b64_line(s, s->carry, s->n) : 0;

	s->n = 0;
	if (rc == 0 && s->on)
		rc = sm_out_write(s->out, s->obuf, s->on);
	s->on = 0;
	return rc;
}

/* A text part: 7bit/8bit when its lines are short and it is UTF-8
 * text; else base64. */
static int
text_part(struct sm_out *out, const char *type, const sm_buf *t)
{
	sm_buf h = { 0 };
	size_t i, col = 0;
	int ascii = 1, ok = 1, rc;
	struct b64 *s = sm_xcalloc(1, sizeof *s);

	for (i = 0; i < t->len && ok; i++) {
		unsigned char c = t->p[i];
		if (c == '\n')
			col = 0;
		else if (++col > 900 || c == 0 || c == '\r')
			ok = 0;
		if (c >= 0x80)
			ascii = 0;
	}
	if (ok && !ascii) {
		/* 8bit only for valid UTF-8. */
		for (i = 0; i < t->len && ok; ) {
			unsigned char c = t->p[i];
			size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 :
			    (c >> 3) == 30 ? 4 : 0, j;
			if (!len || i + len > t->len)
				ok = 0;
			for (j = 1; ok && j < len; j++)
				if ((t->p[i + j] & 0xc0) != 0x80)
					ok = 0;
			i += len ? len : 1;
		}
	}
	sm_buf_printf(&h, "Content-Type: %s; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: %s\r\n\r\n", type,
	    !ok ? "base64" : ascii ? "7bit" : "8bit");
	if (!ok) {
		rc = sm_out_write(out, h.p, h.len);
		s->out = out;
		if (rc == 0 && (rc = b64_write(s, t->p, t->len)) == 0)
			rc = b64_end(s);
	} else {
		/* LF to CRLF. */
		for (i = 0; i < t->len; ) {
			const unsigned char *nl = memchr(t->p + i, '\n', t->len - i);
			size_t len = nl ? (size_t)(nl - (t->p + i)) : t->len - i;
			sm_buf_put(&h, t->p + i, len);
			sm_buf_puts(&h, "\r\n");
			i += len + 1;
		}
		rc = sm_out_write(out, h.p, h.len);
	}
	sm_buf_free(&h);
	sodium_memzero(s, sizeof *s);
	free(s);
	return rc;
}

int
sm_export_eml(sm_portal *p, struct sm_opened *o, struct sm_out *out)
{
	const struct sm_stmt *s = &o->stmt;
	sm_buf h = { 0 }, body = { 0 }, html = { 0 };
	unsigned char r[12];
	char bnd[64], alt[64], hex[25], date[64];
	time_t t = (time_t)s->date;
	struct tm tm;
	size_t i;
	int rc, multi = s->natt > 0;

	randombytes_buf(r, sizeof r);
	sm_hex(hex, r, sizeof r);
	snprintf(bnd, sizeof bnd, "=_smail_%s", hex);
	snprintf(alt, sizeof alt, "=_smail_alt_%s", hex);
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if ((rc = sm_part_load(p, &o->env, o->K, 1, &body, NULL)) != 0)
		goto out;
	if (s->has_html && (rc = sm_part_load(p, &o->env, o->K, s->html.part,
	    &html, NULL)) != 0)
		goto out;

	sm_buf_puts(&h, "From: ");
	mime_mailbox(&h, s->from_name, s->from);
	sm_buf_puts(&h, "\r\nTo: ");
	for (i = 0; i < s->nto; i++)
		sm_buf_printf(&h, "%s<%s>", i ? ", " : "", s->to[i]);
	if (s->ncc) {
		sm_buf_puts(&h, "\r\nCc: ");
		for (i = 0; i < s->ncc; i++)
			sm_buf_printf(&h, "%s<%s>", i ? ", " : "", s->cc[i]);
	}
	sm_buf_printf(&h, "\r\nDate: %s\r\nSubject: ", date);
	mime_text(&h, s->subject);
	sm_buf_printf(&h, "\r\nMessage-ID: <%s@smail>\r\n", s->id);
	if (s->reply_to[0])
		sm_buf_printf(&h, "In-Reply-To: <%s@smail>\r\n", s->reply_to);
	sm_buf_puts(&h, "MIME-Version: 1.0\r\n");
	if (multi)
		sm_buf_printf(&h, "Content-Type: multipart/mixed; boundary=\"%s\""
		    "\r\n\r\nThis is a MIME message.\r\n\r\n--%s\r\n", bnd, bnd);
	if (s->has_html)
		sm_buf_printf(&h, "Content-Type: multipart/alternative; "
		    "boundary=\"%s\"\r\n\r\n--%s\r\n", alt, alt);
	if ((rc = sm_out_write(out, h.p, h.len)) != 0 ||
	    (rc = text_part(out, "text/plain", &body)) != 0)
		goto out;
	if (s->has_html) {
		h.len = 0;
		sm_buf_printf(&h, "\r\n--%s\r\n", alt);
		if ((rc = sm_out_write(out, h.p, h.len)) != 0 ||
		    (rc = text_part(out, "text/html", &html)) != 0)
			goto out;
		h.len = 0;
		sm_buf_printf(&h, "\r\n--%s--\r\n", alt);
		if ((rc = sm_out_write(out, h.p, h.len)) != 0)
			goto out;
	}
	for (i = 0; i < s->natt && rc == 0; i++) {
		struct b64 *st = sm_xcalloc(1, sizeof *st);
		h.len = 0;
		sm_buf_printf(&h, "\r\n--%s\r\nContent-Type: %s; ", bnd,
		    mime_type(s->att[i].name));
		mime_param(&h, "name", s->att[i].name);
		sm_buf_puts(&h, "\r\nContent-Disposition: attachment; ");
		mime_param(&h, "filename", s->att[i].name);
		sm_buf_puts(&h, "\r\nContent-Transfer-Encoding: base64\r\n\r\n");
		st->out = out;
		st->count = 1;
		if ((rc = sm_out_write(out, h.p, h.len)) == 0 &&
		    (rc = sm_part_read(p, &o->env, o->K, s->att[i].ref.part,
		    b64_write, st, NULL)) == 0)
			rc = b64_end(st);
		sodium_memzero(st, sizeof *st);
		free(st);
	}
	if (rc == 0 && multi) {
		h.len = 0;
		sm_buf_printf(&h, "\r\n--%s--\r\n", bnd);
		rc = sm_out_write(out, h.p, h.len);
	}
out:
	sm_buf_free(&h);
	sm_buf_free(&body);
	sm_buf_free(&html);
	return rc;
}
