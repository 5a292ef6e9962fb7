/*
 * sigzip.c: the signed manifest of a zip export, and its offline check
 * (SPEC §7).
 *
 * manifest.txt lists the SHA-256 of every file in the zip, the message
 * id, the sender and the date; it carries the sender's own signed
 * statement (which binds the body and each attachment by BLAKE2b
 * hash) and is signed by the portal's key.  `smail-fetch --verify`
 * needs no portal: it checks the portal's signature, the sender's
 * signature, and every file against both; every file must be one the
 * statement accounts for.  It says "verified" only when the portal's
 * key is pinned: by --portal-key, or by the portal at hand, which also
 * checks that the sender key is that sender account's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>

#include "smail.h"

#define MF_HEAD "smail-manifest-v1\n"
#define KEY_HEAD "smail-portal-key-v1 "

/* The portal's Ed25519 signing key, made on first use. */
int
sm_portal_signkey(sm_portal *p, unsigned char sk[64], int create)
{
	char *path = sm_portal_path(p, "portal.key"), *text = NULL, *b;
	size_t len;
	unsigned char pk[32];
	int rc, fd;

	rc = access(path, F_OK) == 0 ? sm_read_file(path, 4096, &text, &len) :
	    EX_NOINPUT;
	if (rc == EX_NOINPUT && !create) {
		free(path);
		return EX_NOINPUT;
	}
	if (rc == EX_NOINPUT) {
		/* Made under the store's lock, so that two commands agree. */
		if ((rc = sm_store_begin(p, 1)) != 0)
			goto out;
		rc = access(path, F_OK) == 0 ? sm_read_file(path, 4096, &text, &len) :
		    EX_NOINPUT;
		if (rc == EX_NOINPUT) {
			crypto_sign_keypair(pk, sk);
			b = sm_b64(sk, 64);
			text = sm_xasprintf("%s%s\n", KEY_HEAD, b);
			sm_freestr(b);
			rc = sm_write_file(path, text, strlen(text));
			sm_freestr(text);
			text = NULL;
			sm_store_end(p);
			goto out;
		}
		sm_store_end(p);
	}
	if (rc)
		goto out;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		rc = sm_check_secret_file(path, fd);
		close(fd);
	}
	len = strcspn(text, "\n");
	if (rc == 0 && (len <= strlen(KEY_HEAD) ||
	    strncmp(text, KEY_HEAD, strlen(KEY_HEAD)) != 0 ||
	    sm_unb64(sk, 64, text + strlen(KEY_HEAD), len - strlen(KEY_HEAD)) != 0))
		rc = sm_err(EX_CONFIG, "%s: not a portal key file", path);
out:
	if (text)
		sm_freestr(text);
	free(path);
	return rc;
}

/* Writes the signing key (a restore); 73 when one is there. */
int
sm_portal_signkey_write(sm_portal *p, const unsigned char sk[64])
{
	char *path = sm_portal_path(p, "portal.key"), *b = sm_b64(sk, 64);
	char *text = sm_xasprintf("%s%s\n", KEY_HEAD, b);
	int rc;

	rc = sm_write_file(path, text, strlen(text));
	sm_freestr(text);
	sm_freestr(b);
	free(path);
	return rc;
}

/* ---- writing ---- */

void
sm_mf_begin(sm_buf *m, const struct sm_opened *o, const unsigned char portal_pk[32])
{
	char when[32], *b;

	sm_fmt_time(o->stmt.date, when);
	sm_buf_puts(m, MF_HEAD);
	sm_buf_printf(m, "message: %s\nsender: %s\ndate: %s\n", o->env.id,
	    o->env.from, when);
	b = sm_b64(o->env.from_pk, 32);
	sm_buf_printf(m, "sender-key: %s\n", b);
	free(b);
	b = sm_b64(portal_pk, 32);
	sm_buf_printf(m, "portal-key: %s\n", b);
	free(b);
}

/* One file: its SHA-256 and name; ATT >= 0 names the attachment it is. */
void
sm_mf_file(sm_buf *m, const char *name, const unsigned char sha[32], int att)
{
	char hex[65];

	sm_hex(hex, sha, 32);
	if (att >= 0)
		sm_buf_printf(m, "file: %s att=%d %s\n", hex, att, name);
	else
		sm_buf_printf(m, "file: %s - %s\n", hex, name);
}

void
sm_mf_finish(sm_buf *m, const sm_buf *stmt, size_t body_off, size_t body_size,
    const unsigned char portal_sk[64])
{
	unsigned char sig[64];
	char *b;

	sm_buf_printf(m, "body: message.txt %zu %zu\n", body_off, body_size);
	b = sm_b64(stmt->p, stmt->len);
	sm_buf_printf(m, "statement: %s\n", b);
	free(b);
	crypto_sign_detached(sig, NULL, m->p, m->len, portal_sk);
	b = sm_b64(sig, 64);
	sm_buf_printf(m, "portal-signature: %s\n", b);
	free(b);
}

/* ---- checking ---- */

struct zfile {
	char *name, *show;             /* as in the zip; fit for a line */
	unsigned char sha[32], b2[32];
	uint64_t size;
	int role;                      /* -1 message.txt, N attachment N,
	                                * UNACCOUNTED, or ROLE_DUP */
	int regular, listed, bad;
};
#define UNACCOUNTED (-2)
#define ROLE_DUP (-3)

struct zip {
	struct zfile *f;
	size_t n;
	unsigned manifests, messages;  /* how many entries have these names */
	sm_buf manifest, message;
};

static void
zip_free(struct zip *z)
{
	size_t i;

	for (i = 0; i < z->n; i++) {
		free(z->f[i].name);
		free(z->f[i].show);
	}
	free(z->f);
	sm_buf_free(&z->manifest);
	sm_buf_free(&z->message);
}

/* S fit for a line of the report: control characters (C1 too) as
 * spaces, so that a name cannot make lines of its own. */
static char *
shown(const char *s)
{
	char *c = sm_xstrdup(s);

	sm_field_str(c);
	return c;
}

/* The names of FILE's entries, each ended by a NUL, into OUT, as one
 * reader of zips sees them: by the central directory (SEEKABLE), or
 * entry after entry, as a reader of a stream does.  -1 when that
 * reader cannot read them. */
static int
zip_names(const char *file, int seekable, sm_buf *out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int r;

	if (seekable)
		archive_read_support_format_zip_seekable(a);
	else
		archive_read_support_format_zip_streamable(a);
	if (archive_read_open_filename(a, file, 65536) != ARCHIVE_OK) {
		archive_read_free(a);
		return -1;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		sm_buf_puts(out, name ? name : "");
		sm_buf_putc(out, 0);
	}
	archive_read_free(a);
	return r == ARCHIVE_EOF ? 0 : -1;
}

static int
read_zip(const char *file, struct zip *z)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char buf[65536];
	la_ssize_t n;
	int r, rc = 0;

	memset(z, 0, sizeof *z);
	archive_read_support_format_zip_seekable(a);
	if (access(file, R_OK) < 0) {
		rc = sm_err(EX_NOINPUT, "%s: %s", file, strerror(errno));
		goto out;
	}
	if (archive_read_open_filename(a, file, 65536) != ARCHIVE_OK) {
		rc = sm_err(EX_DATAERR, "%s: not a zip (%s)", file,
		    archive_error_string(a));
		goto out;
	}
	while (rc == 0 && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		crypto_hash_sha256_state sh;
		crypto_generichash_state bh;
		sm_buf *keep = NULL;
		struct zfile *f;
		uint64_t size = 0;
		if (!name)
			name = "";
		/* Only the first of a name is read; any other is reported. */
		if (strcmp(name, "manifest.txt") == 0 && z->manifests++ == 0)
			keep = &z->manifest;
		else if (strcmp(name, "message.txt") == 0 && z->messages++ == 0)
			keep = &z->message;
		crypto_hash_sha256_init(&sh);
		crypto_generichash_init(&bh, NULL, 0, 32);
		while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
			crypto_hash_sha256_update(&sh, (unsigned char *)buf, (size_t)n);
			crypto_generichash_update(&bh, (unsigned char *)buf, (size_t)n);
			size += (uint64_t)n;
			if (keep) {
				if (keep->len + (size_t)n > (16u << 20)) {
					rc = sm_err(EX_DATAERR, "%s: %s is too large", file, name);
					break;
				}
				sm_buf_put(keep, buf, (size_t)n);
			}
		}
		if (n < 0)
			rc = sm_err(EX_DATAERR, "%s: %s: %s", file, name,
			    archive_error_string(a));
		if (keep == &z->manifest)
			continue;
		z->f = sm_xrealloc(z->f, (z->n + 1) * sizeof *z->f);
		f = &z->f[z->n++];
		memset(f, 0, sizeof *f);
		f->name = sm_xstrdup(name);
		f->show = shown(name);
		f->regular = archive_entry_filetype(e) == AE_IFREG;
		f->size = size;
		f->role = UNACCOUNTED;
		crypto_hash_sha256_final(&sh, f->sha);
		crypto_generichash_final(&bh, f->b2, 32);
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = sm_err(EX_DATAERR, "%s: %s", file, archive_error_string(a));
	/* Readers that go by the central directory and readers that go
	 * entry by entry must see the same files: no file may hide from
	 * this check in the other view. */
	if (rc == 0) {
		sm_buf cd = { 0 }, st = { 0 };
		if (zip_names(file, 1, &cd) != 0 || zip_names(file, 0, &st) != 0 ||
		    cd.len != st.len || (cd.len && memcmp(cd.p, st.p, cd.len) != 0))
			rc = sm_err(EX_DATAERR, "%s: its central directory and its "
			    "entries do not name the same files", file);
		sm_buf_free(&cd);
		sm_buf_free(&st);
	}
out:
	archive_read_free(a);
	if (rc)
		zip_free(z);
	return rc;
}

/* The value of "KEY: value" lines, one after another. */
static char *
field(const char **p, const char *end, const char *key)
{
	size_t k = strlen(key);
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	char *v;

	if (!nl || (size_t)(nl - *p) < k + 2 || strncmp(*p, key, k) != 0 ||
	    (*p)[k] != ':' || (*p)[k + 1] != ' ')
		return NULL;
	v = sm_xstrndup(*p + k + 2, (size_t)(nl - *p) - k - 2);
	*p = nl + 1;
	return v;
}

char *
sm_fingerprint(const unsigned char pk[32])
{
	unsigned char h[8];
	char hex[17];

	crypto_generichash(h, sizeof h, pk, 32, NULL, 0);
	sm_hex(hex, h, sizeof h);
	return sm_xstrdup(hex);
}

/* A pin: 16 hex digits (a fingerprint) or 43 characters of base64url
 * (the key).  0 when ARG is one, with *KEY set for a whole key. */
static int
pin_decode(const char *arg, unsigned char key[32], int *whole)
{
	size_t n = strlen(arg), i;

	*whole = 0;
	if (n == 16) {
		for (i = 0; i < n; i++)
			if (!strchr("0123456789abcdefABCDEF", arg[i]))
				return -1;
		return 0;
	}
	*whole = 1;
	return n == 43 && sm_unb64(key, 32, arg, n) == 0 ? 0 : -1;
}

int
sm_pin_parse(const char *arg)
{
	unsigned char key[32];
	int whole;

	if (pin_decode(arg, key, &whole) != 0)
		return sm_err(EX_USAGE, "--portal-key: '%s' is not a key's "
		    "fingerprint (16 hex digits, as smail-admin keys prints) nor "
		    "a key (43 characters of base64url)", arg);
	return 0;
}

/* Does PK match PIN? */
static int
pin_match(const char *pin, const unsigned char pk[32])
{
	unsigned char key[32];
	char *fp;
	int whole, same;

	if (pin_decode(pin, key, &whole) != 0)
		return 0;
	if (whole)
		return sodium_memcmp(key, pk, 32) == 0;
	fp = sm_fingerprint(pk);
	same = strcasecmp(fp, pin) == 0;
	free(fp);
	return same;
}

/* "file: SHA256 att=N NAME" or "file: SHA256 - NAME". */
struct mfline {
	char *name;
	unsigned char sha[32];
	int att;                       /* -1: not an attachment */
};

static int
mfline_parse(const char *v, struct mfline *l)
{
	const char *sp1 = strchr(v, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	const char *q;

	l->name = NULL;
	l->att = -1;
	if (!sp1 || !sp2 || sp1 - v != 64 ||
	    sodium_hex2bin(l->sha, 32, v, 64, NULL, NULL, NULL) != 0)
		return -1;
	if (sp2 - sp1 == 2 && sp1[1] == '-')
		;
	else if (strncmp(sp1 + 1, "att=", 4) == 0 && sp2 - sp1 >= 6 &&
	    sp2 - sp1 <= 7) {
		l->att = 0;
		for (q = sp1 + 5; q < sp2; q++) {
			if (*q < '0' || *q > '9')
				return -1;
			l->att = l->att * 10 + (*q - '0');
		}
	} else
		return -1;
	l->name = sm_xstrdup(sp2 + 1);
	return 0;
}

/* The file of the zip named NAME, or NULL. */
static struct zfile *
zfind(struct zip *z, const char *name)
{
	size_t i;

	for (i = 0; i < z->n; i++)
		if (z->f[i].role != ROLE_DUP && strcmp(z->f[i].name, name) == 0)
			return &z->f[i];
	return NULL;
}

/*
 * Does message.txt begin with the headers that the statement S gives?
 * A forward's headers also say what its check found, which needs the
 * original sender's account to judge in full; offline, either answer
 * for the signer is taken, since the portal's signature is what vouches
 * for the file, and a zip verifies only with the portal key pinned.
 */
static int
heads_match(const struct sm_stmt *s, const struct zip *z, size_t boff,
    size_t bsize, char **names)
{
	struct sm_opened o;
	struct sm_stmt orig;
	unsigned char (*ah)[32] = sm_xcalloc(s->natt ? s->natt : 1, sizeof *ah);
	unsigned char *have = sm_xcalloc(s->natt ? s->natt : 1, 1);
	size_t i;
	int dec = -1, signer, ok = 0;

	for (i = 0; i < s->natt; i++) {
		struct zfile *f = zfind((struct zip *)z, names[i]);
		if (f && f->size == s->att[i].ref.size) {
			memcpy(ah[i], f->b2, 32);
			have[i] = 1;
		}
	}
	if (s->orig.len)
		dec = sm_stmt_decode(&orig, s->orig.p, s->orig.len);
	memset(&o, 0, sizeof o);
	o.stmt = *s;
	for (signer = 1; signer >= 0 && !ok; signer--) {
		sm_buf h = { 0 };
		int in = boff <= z->message.len && z->message.len - boff >= bsize;
		sm_forward_judge(&o, dec == 0 ? &orig : NULL, signer,
		    in ? z->message.p + boff : NULL, in ? bsize : 0,
		    (const unsigned char (*)[32])ah, have);
		sm_text_head(&h, &o);
		ok = h.len == boff && boff <= z->message.len &&
		    memcmp(h.p, z->message.p, boff) == 0;
		sm_buf_free(&h);
		if (!s->forward_of[0])
			break;
	}
	if (dec == 0)
		sm_stmt_free(&orig);
	free(ah);
	free(have);
	return ok;
}

/*
 * Checks FILE (a zip made by smail-fetch -z).  Prints what it found to
 * OUT; 0 when everything holds and the portal key is pinned, 65 when
 * anything does not, or nothing pins it.
 *
 * Every file of the zip must be one the sender's statement accounts
 * for: message.txt, whose headers are rendered from the statement and
 * whose body the statement names, and each attachment under the name
 * an export gives it, with the size and BLAKE2b the statement names.
 * The manifest must list each of them with its SHA-256, and the portal
 * must have signed the manifest.  Offline that shows a consistent zip;
 * anyone can make one under keys of their own, so the portal's key is
 * pinned by P, the portal at hand (whose accounts also pin the sender's
 * key), or by PIN (--portal-key).
 */
int
sm_zip_verify(const char *file, sm_portal *p, const char *pin, FILE *out)
{
	struct zip z;
	struct sm_stmt s;
	struct mfline *ml = NULL;
	const char *q, *end, *sigline;
	char *msg = NULL, *sender = NULL, *date = NULL, *skey = NULL, *pkey = NULL,
	    *body = NULL, *stmt64 = NULL, *sig64 = NULL, *v, **names = NULL;
	unsigned char spk[32], ppk[32], sig[64];
	sm_buf stmt = { 0 };
	size_t i, j, nml = 0, boff, bsize;
	int rc, bad = 0, fail = 0, have_stmt = 0, pinned = 0, here = 0;

	if ((rc = read_zip(file, &z)) != 0)
		return rc;
	memset(&s, 0, sizeof s);
	if (!z.manifests) {
		rc = sm_err(EX_DATAERR, "%s: no manifest.txt: not a signed export", file);
		goto out;
	}
	q = (const char *)z.manifest.p;
	end = q + z.manifest.len;
	if (memchr(q, 0, z.manifest.len) || (size_t)(end - q) < strlen(MF_HEAD) ||
	    memcmp(q, MF_HEAD, strlen(MF_HEAD)) != 0) {
		rc = sm_err(EX_DATAERR, "%s: manifest.txt is not a smail manifest", file);
		goto out;
	}
	q += strlen(MF_HEAD);
	if (!(msg = field(&q, end, "message")) || !(sender = field(&q, end, "sender")) ||
	    !(date = field(&q, end, "date")) || !(skey = field(&q, end, "sender-key")) ||
	    !(pkey = field(&q, end, "portal-key")) ||
	    sm_unb64(spk, 32, skey, strlen(skey)) != 0 ||
	    sm_unb64(ppk, 32, pkey, strlen(pkey)) != 0) {
		rc = sm_err(EX_DATAERR, "%s: manifest.txt is malformed", file);
		goto out;
	}
	/* The file lines: one for each file but the manifest, once each. */
	while ((v = field(&q, end, "file"))) {
		struct mfline l;
		int r = mfline_parse(v, &l);
		free(v);
		for (j = 0; r == 0 && j < nml; j++)
			if (strcmp(ml[j].name, l.name) == 0)
				r = -1;
		if (r != 0) {
			free(l.name);
			rc = sm_err(EX_DATAERR, "%s: manifest.txt has a malformed file "
			    "line", file);
			goto out;
		}
		ml = sm_xrealloc(ml, (nml + 1) * sizeof *ml);
		ml[nml++] = l;
	}
	if (!(body = field(&q, end, "body")) ||
	    sscanf(body, "message.txt %zu %zu", &boff, &bsize) != 2 ||
	    !(stmt64 = field(&q, end, "statement"))) {
		rc = sm_err(EX_DATAERR, "%s: manifest.txt is malformed", file);
		goto out;
	}
	sigline = q;
	if (!(sig64 = field(&q, end, "portal-signature")) || q != end ||
	    sm_unb64(sig, 64, sig64, strlen(sig64)) != 0) {
		rc = sm_err(EX_DATAERR, "%s: manifest.txt is malformed", file);
		goto out;
	}
	if (z.manifests > 1) {
		fprintf(out, "UNLISTED\tmanifest.txt (a second file of that name)\n");
		bad = 1;
	}
	/* The portal's signature over the manifest. */
	if (crypto_sign_verify_detached(sig, z.manifest.p,
	    (size_t)(sigline - (const char *)z.manifest.p), ppk) != 0) {
		fprintf(out, "BAD\tthe portal's signature does not verify\n");
		bad = 1;
	}
	/* The sender's statement: its signature, and the files it binds. */
	{
		size_t n = strlen(stmt64), cap = n / 4 * 3 + 3, got;
		const char *e2;
		unsigned char *raw = sm_xmalloc(cap);
		if (sodium_base642bin(raw, cap, stmt64, n, NULL, &got, &e2,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 && e2 == stmt64 + n)
			sm_buf_put(&stmt, raw, got);
		free(raw);
	}
	if (!stmt.len || sm_stmt_decode(&s, stmt.p, stmt.len) != 0) {
		fprintf(out, "BAD\tthe sender's statement does not verify\n");
		bad = 1;
		for (i = 0; i < z.n; i++)
			z.f[i].bad = 1;
	} else {
		char *c = NULL, when[32];
		int body_ok = 0, heads_ok;
		struct zfile *f;
		have_stmt = 1;
		if (sodium_memcmp(s.from_pk, spk, 32) != 0 || strcmp(s.id, msg) != 0 ||
		    sm_addr_canon_quiet(s.from, &c) != 0 || strcmp(c, sender) != 0) {
			fprintf(out, "BAD\tthe statement is not this message's sender's\n");
			bad = 1;
		}
		free(c);
		sm_fmt_time(s.date, when);
		if (strcmp(when, date) != 0) {
			fprintf(out, "BAD\tthe manifest's date is not the sender's\n");
			bad = 1;
		}
		/* What each file of the zip is, by the statement; a second
		 * file of a name is none of them. */
		names = sm_att_names(&s, "message.txt", "manifest.txt");
		for (i = 0; i < z.n; i++) {
			int role = UNACCOUNTED;
			if (!z.f[i].regular) {
				fprintf(out, "UNLISTED\t%s (not a file)\n", z.f[i].show);
				bad = z.f[i].bad = 1;
				continue;
			}
			if (strcmp(z.f[i].name, "message.txt") == 0)
				role = -1;
			for (j = 0; j < s.natt && role == UNACCOUNTED; j++)
				if (strcmp(z.f[i].name, names[j]) == 0)
					role = (int)j;
			for (j = 0; j < i && role != UNACCOUNTED; j++)
				if (strcmp(z.f[j].name, z.f[i].name) == 0)
					role = ROLE_DUP;
			z.f[i].role = role;
			if (role == ROLE_DUP)
				fprintf(out, "UNLISTED\t%s (a second file of that name)\n",
				    z.f[i].show);
			else if (role == UNACCOUNTED)
				fprintf(out, "UNLISTED\t%s\n", z.f[i].show);
			if (role < -1)
				bad = z.f[i].bad = 1;
		}
		/* message.txt: the body the statement names, under the
		 * headers the statement gives. */
		if (!(f = zfind(&z, "message.txt"))) {
			fprintf(out, "MISSING\tmessage.txt\n");
			bad = 1;
		} else {
			/* The body, then the newline the text view adds to a
			 * body that does not end in one, and nothing more. */
			if (boff <= z.message.len && bsize == s.body.size &&
			    z.message.len - boff >= bsize) {
				const unsigned char *b = z.message.p + boff;
				unsigned char h[32];
				size_t want = bsize + (bsize && b[bsize - 1] != '\n');
				crypto_generichash(h, 32, b, bsize, NULL, 0);
				body_ok = sodium_memcmp(h, s.body.hash, 32) == 0 &&
				    z.message.len - boff == want &&
				    (want == bsize || b[bsize] == '\n');
			}
			heads_ok = heads_match(&s, &z, boff, bsize, names);
			if (!heads_ok)
				fprintf(out, "CHANGED\tmessage.txt (the headers)\n");
			if (!body_ok)
				fprintf(out, "CHANGED\tmessage.txt (the body)\n");
			if (!body_ok || !heads_ok)
				bad = f->bad = 1;
		}
		/* Each attachment, under the name an export gives it. */
		for (j = 0; j < s.natt; j++) {
			if (!(f = zfind(&z, names[j]))) {
				fprintf(out, "MISSING\t%s\n", names[j]);
				bad = 1;
			} else if (f->size != s.att[j].ref.size ||
			    sodium_memcmp(f->b2, s.att[j].ref.hash, 32) != 0) {
				fprintf(out, "CHANGED\t%s (not what the sender sent)\n",
				    f->show);
				bad = f->bad = 1;
			}
		}
	}
	/* From here on they are only shown (a sender with control
	 * characters has failed above, and has no account). */
	for (i = 0; i < 3; i++) {
		char **fld = i == 0 ? &msg : i == 1 ? &sender : &date;
		char *c = shown(*fld);
		free(*fld);
		*fld = c;
	}
	/* The manifest's lines: each file the statement accounts for, with
	 * its SHA-256, and nothing else. */
	for (j = 0; j < nml; j++) {
		struct zfile *f = zfind(&z, ml[j].name);
		if (!f) {
			if (!have_stmt || strcmp(ml[j].name, "message.txt") != 0) {
				int told = 0;
				for (i = 0; have_stmt && i < s.natt; i++)
					told |= strcmp(names[i], ml[j].name) == 0;
				if (!told) {
					char *n = shown(ml[j].name);
					fprintf(out, "MISSING\t%s\n", n);
					free(n);
				}
			}
			bad = 1;
			continue;
		}
		f->listed = 1;
		if (sodium_memcmp(f->sha, ml[j].sha, 32) != 0) {
			fprintf(out, "CHANGED\t%s\n", f->show);
			bad = f->bad = 1;
		} else if (have_stmt && f->role >= -1 && ml[j].att != f->role) {
			fprintf(out, "BAD\tmanifest.txt does not list %s as the sender's "
			    "statement has it\n", f->show);
			bad = f->bad = 1;
		}
	}
	for (i = 0; i < z.n; i++)
		if (!z.f[i].listed && (z.f[i].role >= -1 || !have_stmt)) {
			fprintf(out, "UNLISTED\t%s (not in manifest.txt)\n", z.f[i].show);
			bad = z.f[i].bad = 1;
		}
	/* What pins the portal's key: --portal-key, the portal at hand. */
	if (pin) {
		if (pin_match(pin, ppk))
			pinned = 1;
		else {
			fprintf(out, "BAD\tsigned by another portal's key (not the one "
			    "--portal-key gives)\n");
			bad = 1;
		}
	}
	if (p) {
		unsigned char *sk = sm_secret_alloc(64);
		int k = sm_portal_signkey(p, sk, 0);
		if (k == EX_NOINPUT) {
			fprintf(out, "BAD\tnot signed by this portal: it has not "
			    "signed an export yet\n");
			bad = 1;
		} else if (k) {
			fail = k;
		} else if (sodium_memcmp(sk + 32, ppk, 32) != 0) {
			fprintf(out, "BAD\tsigned by another portal's key\n");
			bad = 1;
		} else
			pinned = here = 1;
		sm_secret_free(sk);
	}
	/* The portal at hand knows its accounts, which are never deleted:
	 * the sender must have one, with the sender key. */
	if (p && have_stmt && !fail && (fail = sm_store_begin(p, 0)) == 0) {
		struct sm_account acc;
		int r = sm_account_get(p, sender, &acc);
		if (r == 0) {
			if (sodium_memcmp(acc.pub.sign_pk, spk, 32) != 0) {
				fprintf(out, "BAD\tthe sender key is not %s's\n", sender);
				bad = 1;
			}
			sm_account_free(&acc);
		} else if (r == EX_NOUSER) {
			fprintf(out, "BAD\tthe sender %s has no account on this "
			    "portal\n", sender);
			bad = 1;
		} else
			fail = r;
		sm_store_end(p);
	}
	for (i = 0; i < z.n; i++)
		if (z.f[i].role >= -1 && !z.f[i].bad)
			fprintf(out, "OK\t%s\n", z.f[i].show);
	{
		char *sf = sm_fingerprint(spk), *pf = sm_fingerprint(ppk);
		if (bad || fail)
			fprintf(out, "%s: does NOT verify: message %s from %s\n", file,
			    msg, sender);
		else if (!pinned)
			fprintf(out, "%s: not verified: message %s from %s (key %s) of "
			    "%s; signatures intact, but the portal key (%s) is not "
			    "pinned: give --portal-key or -d\n", file, msg, sender, sf,
			    date, pf);
		else
			fprintf(out, "%s: verified: message %s from %s (key %s) of %s, "
			    "signed by the portal (key %s)%s\n", file, msg, sender, sf,
			    date, pf, here ? ", this portal" : ", the pinned key");
		free(sf);
		free(pf);
	}
	if (fail)
		rc = fail;
	else if (bad)
		rc = sm_err(EX_DATAERR, "%s: does not verify", file);
	else if (!pinned)
		rc = sm_err(EX_DATAERR, "%s: not verified: the portal key is not "
		    "pinned; give --portal-key FINGERPRINT or -d DIR", file);
	else
		rc = 0;
out:
	if (have_stmt) {
		sm_names_free(names, s.natt);
		sm_stmt_free(&s);
	}
	for (j = 0; j < nml; j++)
		free(ml[j].name);
	free(ml);
	sm_buf_free(&stmt);
	free(msg);
	free(sender);
	free(date);
	free(skey);
	free(pkey);
	free(body);
	free(stmt64);
	free(sig64);
	zip_free(&z);
	return rc;
}
