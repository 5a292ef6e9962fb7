/*
 * backup.c: smail-admin backup and restore.
 *
 * A backup is one tar archive (libarchive), mode 0600: the store in
 * GDBM's portable dump format, taken under the store's lock so that it
 * is one consistent snapshot, and the config.  The recovery key stays
 * out unless asked for, and then goes in wrapped under a passphrase
 * (Argon2id at the "sensitive" cost).  Notifications (which may hold
 * tokens) are not part of it.  Restore builds a new portal from it,
 * beside its place, and moves it there when complete.
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

#define MARK "smail-backup-v1\n"
#define RK_HEAD "smail-recovery-key-wrapped-v1"

static la_ssize_t
arch_write(struct archive *a, void *arg, const void *buf, size_t n)
{
	(void)a;
	return sm_out_write(arg, buf, n) == 0 ? (la_ssize_t)n : -1;
}

static int
entry(struct archive *a, const char *name, const void *p, size_t n,
    const char *file)
{
	struct archive_entry *e = archive_entry_new();
	int rc = 0;

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_size(e, (la_int64_t)n);
	archive_entry_set_mtime(e, (time_t)sm_now(), 0);
	if (archive_write_header(a, e) != ARCHIVE_OK ||
	    (n && archive_write_data(a, p, n) != (la_ssize_t)n))
		rc = sm_err(EX_IOERR, "%s: %s", file, archive_error_string(a));
	archive_entry_free(e);
	return rc;
}

/* The portal's secrets under a passphrase: the recovery key, and the
 * signing key (portal.key) when there is one; a text file of the salt,
 * the cost and the AEAD, base64. */
static int
wrap_keys(const sm_portal *p, const unsigned char *keys, size_t n,
    const char *pass, sm_buf *out)
{
	struct sm_pwparams pp;
	unsigned char *k = sm_secret_alloc(32);
	sm_buf ct = { 0 };
	char *salt, *box;
	int rc;

	sm_pwparams_new(&pp, SM_PWHASH_SENSITIVE);
	if ((rc = sm_pwhash_key(k, pass, &pp)) == 0) {
		sm_aead_seal(&ct, k, p->id, sizeof p->id, keys, n);
		salt = sm_b64(pp.salt, sizeof pp.salt);
		box = sm_b64(ct.p, ct.len);
		sm_buf_printf(out, "%s\n%s %llu %llu\n%s\n", RK_HEAD, salt,
		    (unsigned long long)pp.ops, (unsigned long long)pp.mem, box);
		free(salt);
		free(box);
	}
	sm_buf_free(&ct);
	sm_secret_free(k);
	return rc;
}

/* KEYS gets the recovery key (32 bytes) and, when the backup holds it,
 * the signing key (64 more); *N says which. */
static int
unwrap_keys(const unsigned char id[16], const char *text, const char *pass,
    unsigned char keys[96], size_t *n)
{
	char head[64], salt[64], box[256];
	unsigned long long ops, mem;
	struct sm_pwparams pp;
	unsigned char ct[24 + 96 + 16], *k;
	sm_buf out = { 0 };
	size_t clen;
	const char *end;
	int rc = 0;

	if (sscanf(text, "%63s %63s %llu %llu %255s", head, salt, &ops, &mem, box) != 5 ||
	    strcmp(head, RK_HEAD) != 0 ||
	    sm_unb64(pp.salt, sizeof pp.salt, salt, strlen(salt)) != 0 ||
	    sodium_base642bin(ct, sizeof ct, box, strlen(box), NULL, &clen, &end,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || *end ||
	    (clen != 24 + 32 + 16 && clen != 24 + 96 + 16))
		return sm_err(EX_DATAERR, "the backup's recovery key is damaged");
	pp.ops = ops;
	pp.mem = mem;
	k = sm_secret_alloc(32);
	if ((rc = sm_pwhash_key(k, pass, &pp)) == 0) {
		if (sm_aead_open(&out, k, id, 16, ct, clen) != 0)
			rc = sm_err(EX_NOPERM, "wrong passphrase for the backup's "
			    "recovery key");
		else {
			memcpy(keys, out.p, out.len);
			*n = out.len;
		}
	}
	sm_buf_free(&out);
	sm_secret_free(k);
	return rc;
}

int
sm_backup(sm_portal *p, const char *file, const char *pass,
    const unsigned char *rsk)
{
	struct archive *a = NULL;
	struct sm_out out = { -1, file };
	FILE *dump = NULL;
	sm_buf mark = { 0 }, rk = { 0 };
	char *cfgpath = sm_portal_path(p, "config"), *cfg = NULL, buf[65536];
	size_t cfglen, n;
	long size;
	int rc;

	if ((rc = sm_read_file(cfgpath, 1 << 20, &cfg, &cfglen)) != 0)
		goto out;
	if (rsk) {
		/* With the recovery key goes the signing key, so that exports
		 * made before a restore still verify against the portal. */
		unsigned char *keys = sm_secret_alloc(96);
		size_t nk = 32;
		memcpy(keys, rsk, 32);
		if (sm_portal_signkey(p, keys + 32, 0) == 0)
			nk = 96;
		rc = wrap_keys(p, keys, nk, pass, &rk);
		sm_secret_free(keys);
		if (rc || (rc = sm_audit_now(p, "recovery", "", "")) != 0)
			goto out;
	}
	if (!(dump = tmpfile())) {
		rc = sm_err(EX_CANTCREAT, "a temporary file: %s", strerror(errno));
		goto out;
	}
	/* One consistent snapshot, under the lock. */
	if ((rc = sm_store_begin(p, 0)) != 0)
		goto out;
	rc = sm_store_dump(p, dump);
	sm_store_end(p);
	if (rc)
		goto out;
	if (fflush(dump) != 0 || (size = ftell(dump)) < 0 || fseek(dump, 0, SEEK_SET) != 0) {
		rc = sm_err(EX_IOERR, "the store dump: %s", strerror(errno));
		goto out;
	}
	if ((rc = sm_out_create(&out, file)) != 0)
		goto out;
	a = archive_write_new();
	sm_buf_printf(&mark, "%sportal %s\n", MARK, p->idhex);
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_open(a, &out, NULL, arch_write, NULL) != ARCHIVE_OK) {
		rc = sm_err(EX_IOERR, "%s: %s", file, archive_error_string(a));
		goto out;
	}
	if ((rc = entry(a, "smail-backup", mark.p, mark.len, file)) != 0 ||
	    (rc = entry(a, "config", cfg, cfglen, file)) != 0 ||
	    (rk.len && (rc = entry(a, "recovery.key.wrapped", rk.p, rk.len, file)) != 0))
		goto out;
	{
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, "store.dump");
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0600);
		archive_entry_set_size(e, (la_int64_t)size);
		archive_entry_set_mtime(e, (time_t)sm_now(), 0);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			rc = sm_err(EX_IOERR, "%s: %s", file, archive_error_string(a));
		archive_entry_free(e);
	}
	while (rc == 0 && (n = fread(buf, 1, sizeof buf, dump)) > 0)
		if (archive_write_data(a, buf, n) != (la_ssize_t)n)
			rc = sm_err(EX_IOERR, "%s: %s", file, archive_error_string(a));
	if (rc == 0 && ferror(dump))
		rc = sm_err(EX_IOERR, "the store dump: read error");
	if (rc == 0 && archive_write_close(a) != ARCHIVE_OK)
		rc = sm_err(EX_IOERR, "%s: %s", file, archive_error_string(a));
out:
	if (a)
		archive_write_free(a);
	if (out.fd >= 0) {
		int c = sm_out_close(&out, rc == 0);
		if (rc == 0)
			rc = c;
	}
	if (dump)
		fclose(dump);
	sm_buf_free(&mark);
	sm_buf_free(&rk);
	free(cfg);
	free(cfgpath);
	return rc;
}

/* Reads the archive: the config, the wrapped key (if any) and the
 * dump (into a temporary file). */
static int
read_archive(const char *file, char **cfg, size_t *cfglen, char **rk,
    FILE **dump)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char buf[65536];
	int rc = 0, r, marked = 0;
	la_ssize_t n;

	*cfg = *rk = NULL;
	*dump = NULL;
	archive_read_support_format_tar(a);
	if (access(file, R_OK) < 0) {
		rc = sm_err(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s: %s", file,
		    strerror(errno));
		goto out;
	}
	if (archive_read_open_filename(a, file, 65536) != ARCHIVE_OK) {
		rc = sm_err(EX_DATAERR, "%s: not a smail backup (%s)", file,
		    archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK && rc == 0) {
		const char *name = archive_entry_pathname(e);
		sm_buf b = { 0 };
		FILE *f = NULL;
		if (strcmp(name, "store.dump") == 0) {
			if (*dump || !(f = tmpfile())) {
				rc = sm_err(EX_DATAERR, "%s: a second store, or no "
				    "temporary file", file);
				break;
			}
		}
		while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
			if (f)
				fwrite(buf, 1, (size_t)n, f);
			else if (b.len + (size_t)n > (1 << 20)) {
				rc = sm_err(EX_DATAERR, "%s: %s is too large", file, name);
				break;
			} else
				sm_buf_put(&b, buf, (size_t)n);
		}
		if (n < 0)
			rc = sm_err(EX_DATAERR, "%s: %s", file, archive_error_string(a));
		sm_buf_putc(&b, 0);
		if (rc == 0 && strcmp(name, "smail-backup") == 0)
			marked = strncmp((char *)b.p, MARK, strlen(MARK)) == 0;
		else if (rc == 0 && strcmp(name, "config") == 0 && !*cfg) {
			*cfglen = b.len - 1;
			*cfg = (char *)b.p;
			b.p = NULL;
		} else if (rc == 0 && strcmp(name, "recovery.key.wrapped") == 0 && !*rk) {
			*rk = (char *)b.p;
			b.p = NULL;
		}
		if (f) {
			if (ferror(f) || fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0) {
				rc = sm_err(EX_IOERR, "a temporary file: write error");
				fclose(f);
			} else
				*dump = f;
		}
		sm_buf_free(&b);
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = sm_err(EX_DATAERR, "%s: not a smail backup (%s)", file,
		    archive_error_string(a));
	if (rc == 0 && (!marked || !*cfg || !*dump))
		rc = sm_err(EX_DATAERR, "%s: not a smail backup", file);
out:
	archive_read_free(a);
	if (rc) {
		free(*cfg);
		free(*rk);
		if (*dump)
			fclose(*dump);
		*cfg = *rk = NULL;
		*dump = NULL;
	}
	return rc;
}

/*
 * Restores FILE as a new portal DIR.  When the backup holds the
 * recovery key, its passphrase is asked for (terminal, --password-file,
 * --password-fd) unless SKIP_RK; without one the key is left out and
 * resets wait for approve.
 */
int
sm_restore(const char *file, const char *dir, const struct sm_opts *o,
    int skip_rk)
{
	char *pass = NULL;
	char *cfg = NULL, *rk = NULL, *abs = NULL, *stage = NULL, *path;
	size_t cfglen;
	FILE *dump = NULL;
	sm_portal *p = NULL;
	unsigned char *sk = NULL, pk[32];
	int rc;

	if ((rc = read_archive(file, &cfg, &cfglen, &rk, &dump)) != 0)
		return rc;
	{
		/* The archive's config is checked first, and named as it is. */
		struct sm_config tc;
		char *name = sm_xasprintf("%s: config", file);
		sm_config_defaults(&tc);
		rc = sm_config_parse(&tc, name, cfg, cfglen);
		sm_config_free(&tc);
		free(name);
		if (rc)
			goto out;
	}
	if ((rc = sm_stage_begin(dir, &abs, &stage)) != 0)
		goto out;
	path = sm_xasprintf("%s/config", stage);
	rc = sm_write_file(path, cfg, cfglen);
	free(path);
	if (rc == 0)
		rc = sm_store_load(stage, dump);
	if (rc == 0 && rk && !skip_rk && sm_have_password_source(o))
		rc = sm_read_password(o, "Passphrase of the backup's recovery key: ",
		    0, &pass);
	/* It must open as a portal: config, identity. */
	if (rc == 0 && (rc = sm_portal_open(stage, &p)) == 0 && rk && pass) {
		size_t nk = 0;
		sk = sm_secret_alloc(96);
		if ((rc = unwrap_keys(p->id, rk, pass, sk, &nk)) == 0) {
			crypto_scalarmult_base(pk, sk);
			if (sodium_memcmp(pk, p->recovery_pk, 32) != 0)
				rc = sm_err(EX_DATAERR, "the backup's recovery key is not "
				    "its portal's");
		}
		if (rc == 0) {
			path = sm_xasprintf("%s/recovery.key", stage);
			rc = sm_recovery_key_write(path, sk);
			free(path);
		}
		if (rc == 0 && nk == 96)
			rc = sm_portal_signkey_write(p, sk + 32);
		if (rc == 0)
			rc = sm_audit_now(p, "recovery", "", "");
	} else if (rc == 0 && rk)
		sm_warn("the backup holds the recovery key, left out: resets will "
		    "wait for 'smail-admin approve'");
	/* Without the backup's portal.key, a new one signs the log's head
	 * as the backup holds it (and exported zips from now on). */
	if (rc == 0)
		rc = sm_audit_rekey(p);
	sm_portal_close(p);
	if (rc == 0) {
		rc = sm_stage_finish(stage, abs);
		stage = NULL;
	}
out:
	sm_stage_abort(stage);
	if (pass)
		sm_secret_free(pass);
	if (sk)
		sm_secret_free(sk);
	if (dump)
		fclose(dump);
	if (rk) {
		sodium_memzero(rk, strlen(rk));
		free(rk);
	}
	free(cfg);
	free(abs);
	return rc;
}
