/*
 * sigzip.c: the signed manifest of a zip export, and its offline check
 * (SPEC §7).
 *
 * manifest.txt lists the SHA-256 of every file in the zip, the message
 * id, the sender and the date; it carries the sender's own signed
 * statement (which binds the body and each attachment by BLAKE2b
 * hash) and is signed by the portal's key.  `smail-fetch --verify`
 * needs no portal: it checks the portal's signature, the sender's
 * signature, and every file against both.  When a portal is at hand it
 * also checks that the keys are that portal's and that sender's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
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
	char *name;
	unsigned char sha[32], b2[32];
	int listed, bad;
};

struct zip {
	struct zfile *f;
	size_t n;
	sm_buf manifest, message;
};

static void
zip_free(struct zip *z)
{
	size_t i;

	for (i = 0; i < z->n; i++)
		free(z->f[i].name);
	free(z->f);
	sm_buf_free(&z->manifest);
	sm_buf_free(&z->message);
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
	archive_read_support_format_zip(a);
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
		if (!name)
			name = "";
		if (strcmp(name, "manifest.txt") == 0)
			keep = &z->manifest;
		else if (strcmp(name, "message.txt") == 0)
			keep = &z->message;
		crypto_hash_sha256_init(&sh);
		crypto_generichash_init(&bh, NULL, 0, 32);
		while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
			crypto_hash_sha256_update(&sh, (unsigned char *)buf, (size_t)n);
			crypto_generichash_update(&bh, (unsigned char *)buf, (size_t)n);
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
		if (strcmp(name, "manifest.txt") == 0)
			continue;
		z->f = sm_xrealloc(z->f, (z->n + 1) * sizeof *z->f);
		f = &z->f[z->n++];
		memset(f, 0, sizeof *f);
		f->name = sm_xstrdup(name);
		crypto_hash_sha256_final(&sh, f->sha);
		crypto_generichash_final(&bh, f->b2, 32);
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = sm_err(EX_DATAERR, "%s: %s", file, archive_error_string(a));
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

/*
 * Does message.txt begin with the headers that the statement S gives?
 * A forward's headers also say what its check found, which needs the
 * original sender's account to judge in full; offline, either answer
 * for the signer is taken, since the portal's signature is what vouches
 * for the file.
 */
static int
heads_match(const struct sm_stmt *s, const struct zip *z, size_t boff,
    size_t bsize)
{
	struct sm_opened o;
	struct sm_stmt orig;
	unsigned char (*ah)[32] = sm_xcalloc(s->natt ? s->natt : 1, sizeof *ah);
	unsigned char *have = sm_xcalloc(s->natt ? s->natt : 1, 1);
	char **names = sm_att_names(s, "message.txt", "manifest.txt");
	size_t i, j;
	int dec = -1, signer, ok = 0;

	for (i = 0; i < s->natt; i++)
		for (j = 0; j < z->n && !have[i]; j++)
			if (strcmp(z->f[j].name, names[i]) == 0) {
				memcpy(ah[i], z->f[j].b2, 32);
				have[i] = 1;
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
	sm_names_free(names, s->natt);
	free(ah);
	free(have);
	return ok;
}

/*
 * Checks FILE (a zip made by smail-fetch -z).  Prints what it found to
 * OUT; 0 when everything holds, 65 when anything does not.  P, when a
 * portal is at hand, pins the keys to it.
 */
int
sm_zip_verify(const char *file, sm_portal *p, FILE *out)
{
	struct zip z;
	struct sm_stmt s;
	const char *q, *end, *sigline;
	char *msg = NULL, *sender = NULL, *date = NULL, *skey = NULL, *pkey = NULL,
	    *body = NULL, *stmt64 = NULL, *sig64 = NULL, *v;
	unsigned char spk[32], ppk[32], sig[64];
	sm_buf stmt = { 0 };
	size_t i, boff, bsize;
	int rc, bad = 0, have_stmt = 0;

	if ((rc = read_zip(file, &z)) != 0)
		return rc;
	memset(&s, 0, sizeof s);
	if (!z.manifest.len) {
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
	/* The file lines. */
	while ((v = field(&q, end, "file"))) {
		char *sp1 = strchr(v, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
		unsigned char sha[32];
		int att = -1, found = 0;
		if (!sp1 || !sp2 || sp1 - v != 64 ||
		    sodium_hex2bin(sha, 32, v, 64, NULL, NULL, NULL) != 0) {
			free(v);
			rc = sm_err(EX_DATAERR, "%s: manifest.txt has a malformed file "
			    "line", file);
			goto out;
		}
		if (strncmp(sp1 + 1, "att=", 4) == 0)
			att = atoi(sp1 + 5);
		for (i = 0; i < z.n; i++)
			if (strcmp(z.f[i].name, sp2 + 1) == 0) {
				found = 1;
				z.f[i].listed = att >= 0 ? att + 1 : -1;
				if (sodium_memcmp(z.f[i].sha, sha, 32) != 0) {
					fprintf(out, "CHANGED\t%s\n", z.f[i].name);
					bad = z.f[i].bad = 1;
				}
			}
		if (!found) {
			fprintf(out, "MISSING\t%s\n", sp2 + 1);
			bad = 1;
		}
		free(v);
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
	for (i = 0; i < z.n; i++)
		if (!z.f[i].listed) {
			fprintf(out, "UNLISTED\t%s\n", z.f[i].name);
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
	} else {
		char *c = NULL;
		have_stmt = 1;
		if (sodium_memcmp(s.from_pk, spk, 32) != 0 || strcmp(s.id, msg) != 0 ||
		    sm_addr_canon_quiet(s.from, &c) != 0 || strcmp(c, sender) != 0) {
			fprintf(out, "BAD\tthe statement is not this message's sender's\n");
			bad = 1;
		}
		free(c);
		int body_ok = 0;
		if (boff <= z.message.len && bsize == s.body.size &&
		    z.message.len - boff >= bsize) {
			unsigned char h[32];
			crypto_generichash(h, 32, z.message.p + boff, bsize, NULL, 0);
			body_ok = sodium_memcmp(h, s.body.hash, 32) == 0;
		}
		/* The headers of message.txt are rendered from the statement
		 * the sender signed: they must be that rendering. */
		int heads_ok = heads_match(&s, &z, boff, bsize);
		char when[32];
		if (!heads_ok)
			fprintf(out, "CHANGED\tmessage.txt (the headers)\n");
		sm_fmt_time(s.date, when);
		if (strcmp(when, date) != 0) {
			fprintf(out, "BAD\tthe manifest's date is not the sender's\n");
			bad = 1;
		}
		if (!body_ok)
			fprintf(out, "CHANGED\tmessage.txt (the body)\n");
		if (!body_ok || !heads_ok) {
			bad = 1;
			for (i = 0; i < z.n; i++)
				if (strcmp(z.f[i].name, "message.txt") == 0)
					z.f[i].bad = 1;
		}
		for (i = 0; i < z.n; i++) {
			int a = z.f[i].listed - 1;
			if (a < 0)
				continue;
			if ((size_t)a >= s.natt || sodium_memcmp(z.f[i].b2,
			    s.att[a].ref.hash, 32) != 0) {
				fprintf(out, "CHANGED\t%s (not what the sender sent)\n",
				    z.f[i].name);
				bad = z.f[i].bad = 1;
			}
		}
	}
	/* A portal at hand pins the keys. */
	if (p && have_stmt) {
		unsigned char sk[64];
		struct sm_account acc;
		int k = sm_portal_signkey(p, sk, 0);
		if (k == EX_NOINPUT) {
			fprintf(out, "BAD\tnot signed by this portal: it has not "
			    "signed an export yet\n");
			bad = 1;
		} else if (k == 0 && sodium_memcmp(sk + 32, ppk, 32) != 0) {
			fprintf(out, "BAD\tsigned by another portal's key\n");
			bad = 1;
		}
		sodium_memzero(sk, sizeof sk);
		if (sm_store_begin(p, 0) == 0) {
			if (sm_account_get(p, sender, &acc) == 0) {
				if (sodium_memcmp(acc.pub.sign_pk, spk, 32) != 0) {
					fprintf(out, "BAD\tthe sender key is not %s's\n", sender);
					bad = 1;
				}
				sm_account_free(&acc);
			}
			sm_store_end(p);
		}
	}
	for (i = 0; i < z.n; i++)
		if (z.f[i].listed && !z.f[i].bad)
			fprintf(out, "OK\t%s\n", z.f[i].name);
	{
		char *sf = sm_fingerprint(spk), *pf = sm_fingerprint(ppk);
		if (bad)
			fprintf(out, "%s: does NOT verify: message %s from %s\n", file,
			    msg, sender);
		else
			fprintf(out, "%s: verified: message %s from %s (key %s) of %s, "
			    "signed by the portal (key %s)%s\n", file, msg, sender, sf,
			    date, pf, p ? ", this portal" : "");
		free(sf);
		free(pf);
	}
	rc = bad ? EX_DATAERR : 0;
	if (bad)
		sm_err(rc, "%s: does not verify", file);
out:
	if (have_stmt)
		sm_stmt_free(&s);
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
