/*
 * portal.c: the portal directory: where it is, whether it is safe,
 * its config and identity, and making a new one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "smail.h"

#define META_MAGIC "SMP1"
enum { M_VERSION = 1, M_ID, M_RECOVERY_PK, M_CREATED };

static const char *const maildirs[] = { "queue", "mail" };
static const char *const subdirs[] = { "tmp", "new", "cur" };

char *
sm_portal_default_dir(void)
{
	const char *x = getenv("XDG_DATA_HOME"), *h = getenv("HOME");

	if (x && *x == '/')
		return sm_xasprintf("%s/smail", x);
	if (h && *h == '/')
		return sm_xasprintf("%s/.local/share/smail", h);
	return NULL;
}

static char *
absolute(const char *dir)
{
	char cwd[4096];
	size_t n;
	char *s;

	if (dir[0] == '/')
		s = sm_xstrdup(dir);
	else if (getcwd(cwd, sizeof cwd))
		s = sm_xasprintf("%s/%s", cwd, dir);
	else
		return NULL;
	n = strlen(s);
	while (n > 1 && s[n - 1] == '/')
		s[--n] = 0;
	return s;
}

char *
sm_portal_path(const sm_portal *p, const char *name)
{
	return sm_xasprintf("%s/%s", p->dir, name);
}

/* One portal path, as lstat found it: not a symlink, ours, no group or
 * other bits. */
static uid_t
my_uid(void)
{
	static uid_t me = (uid_t)-1;

	if (me == (uid_t)-1)
		me = geteuid();
	return me;
}

static int
safe_st(const char *path, const struct stat *st, int want_dir)
{
	if (S_ISLNK(st->st_mode))
		return sm_err(EX_CONFIG, "%s: is a symbolic link: unsafe portal", path);
	if (st->st_uid != my_uid())
		return sm_err(EX_CONFIG, "%s: not owned by you: unsafe portal", path);
	if (st->st_mode & 077)
		return sm_err(EX_CONFIG, "%s: group or others have access (mode "
		    "%03o): unsafe portal", path, (unsigned)(st->st_mode & 0777));
	if (want_dir == 1 && !S_ISDIR(st->st_mode))
		return sm_err(EX_CONFIG, "%s: not a directory", path);
	if (want_dir == 0 && !S_ISREG(st->st_mode))
		return sm_err(EX_CONFIG, "%s: not a regular file", path);
	return 0;
}

static int
safe(const char *path, int want_dir)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return sm_err(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s: %s",
		    path, strerror(errno));
	return safe_st(path, &st, want_dir);
}

/*
 * Every path under the portal, to DEPTH levels: safe, or 78.  A file
 * that goes away meanwhile (a mail delivered) is no matter.  The
 * portal's own files (TOP) are checked one by one.  The spools below
 * may hold a mail per message sent: there the directories are checked
 * (0700 and ours, so nobody else reaches the files in them) and a file
 * only by its type, without a stat each.  Without DEEP, the local
 * mailbox (mail/, which smail only ever adds to, and which grows by a
 * mail per message when no relay is set) is left to check_maildirs'
 * check of its directories, so that opening a portal does not grow
 * with it; smail-admin check looks at every file.  The queue's files
 * are opened without following links.
 */
static int
check_tree(const char *dir, int depth, int top, int deep)
{
	DIR *d;
	struct dirent *e;
	struct stat st;
	char *path;
	int rc = 0;

	if (!(d = opendir(dir)))
		return errno == ENOENT ? 0 : sm_err(EX_IOERR, "%s: %s", dir,
		    strerror(errno));
	while (rc == 0 && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (!top && e->d_type == DT_REG)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			path = sm_xasprintf("%s/%s", dir, e->d_name);
			rc = sm_err(EX_IOERR, "%s: %s", path, strerror(errno));
			free(path);
			break;
		}
		if (!top && S_ISREG(st.st_mode))
			continue;
		path = sm_xasprintf("%s/%s", dir, e->d_name);
		rc = safe_st(path, &st, -1);
		if (rc == 0 && S_ISDIR(st.st_mode) && top && !deep &&
		    strcmp(e->d_name, "mail") == 0)
			;               /* its directories: check_maildirs */
		else if (rc == 0 && S_ISDIR(st.st_mode)) {
			if (depth > 1)
				rc = check_tree(path, depth - 1, 0, deep);
			else
				rc = sm_err(EX_CONFIG, "%s: unexpected directory in "
				    "the portal", path);
		}
		free(path);
	}
	closedir(d);
	return rc;
}

int
sm_portal_check_files(sm_portal *p)
{
	return check_tree(p->dir, 3, 1, 1);
}

static int
check_maildirs(const char *dir)
{
	size_t i, j;
	int rc = 0;

	for (i = 0; rc == 0 && i < 2; i++)
		for (j = 0; rc == 0 && j < 3; j++) {
			char *path = sm_xasprintf("%s/%s/%s", dir, maildirs[i], subdirs[j]);
			rc = safe(path, 1);
			free(path);
		}
	return rc;
}

static int
load_config(sm_portal *p)
{
	char *path = sm_portal_path(p, "config"), *text;
	size_t len;
	int rc;

	sm_config_defaults(&p->cfg);
	rc = sm_read_file(path, 1 << 20, &text, &len);
	if (rc == 0) {
		rc = sm_config_parse(&p->cfg, path, text, len);
		free(text);
	} else if (rc == EX_NOINPUT || rc == EX_DATAERR)
		rc = EX_CONFIG;        /* missing, or too large */
	free(path);
	return rc;
}

/* The SMTP password file is checked when the portal opens, so that a
 * readable one stops a command before it stores anything. */
static int
check_smtp_secret(sm_portal *p)
{
	const char *f = p->cfg.smtp_password_file;
	int fd, rc;

	if (!p->cfg.smtp_url || !p->cfg.smtp_user)
		return 0;
	if (!f)
		return sm_err(EX_CONFIG, "%s/config: smtp_user is set but not "
		    "smtp_password_file", p->dir);
	if ((fd = open(f, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return sm_err(EX_CONFIG, "%s: %s (smtp_password_file)", f,
		    strerror(errno));
	rc = sm_check_secret_file(f, fd);
	close(fd);
	return rc;
}

static int
load_meta(sm_portal *p)
{
	unsigned char *v;
	const unsigned char *f;
	size_t n, fn;
	unsigned tag;
	sm_rd r;
	int rc, have = 0;

	if ((rc = sm_store_begin(p, 0)) != 0)
		return rc;
	rc = sm_store_get(p, "meta", &v, &n);
	sm_store_end(p);
	if (rc == 1)
		return sm_err(EX_CONFIG, "%s: the store has no portal identity", p->dir);
	if (rc)
		return rc;
	if (sm_rd_begin(&r, v, n, META_MAGIC) < 0)
		goto bad;
	while ((rc = sm_rd_next(&r, &tag, &f, &fn)) == 1) {
		if (tag == M_ID && fn == 16) {
			memcpy(p->id, f, 16);
			have |= 1;
		} else if (tag == M_RECOVERY_PK && fn == 32) {
			memcpy(p->recovery_pk, f, 32);
			have |= 2;
		}
	}
	if (rc < 0 || have != 3)
		goto bad;
	free(v);
	sm_hex(p->idhex, p->id, 16);
	return 0;
bad:
	free(v);
	return sm_err(EX_CONFIG, "%s: the portal identity record is damaged", p->dir);
}

int
sm_portal_open(const char *dir, sm_portal **out)
{
	sm_portal *p;
	char *path, *def = NULL;
	int rc;

	if (!dir && !(dir = def = sm_portal_default_dir()))
		return sm_err(EX_USAGE, "no portal: give -d DIR or set SMAIL_DIR");
	p = sm_xcalloc(1, sizeof *p);
	p->lockfd = -1;
	p->dir = absolute(dir);
	free(def);
	if (!p->dir) {
		free(p);
		return sm_err(EX_IOERR, "cannot find the current directory");
	}
	sm_config_defaults(&p->cfg);
	{
		struct stat st;
		if (lstat(p->dir, &st) < 0 && errno == ENOENT)
			rc = sm_err(EX_NOINPUT, "%s: no portal here (create one "
			    "with smail-admin init)", p->dir);
		else
			rc = safe(p->dir, 1);
	}
	if (rc == 0) {
		char *old = sm_portal_path(p, "store.db");
		path = sm_portal_path(p, "store.ctl");
		if (access(path, F_OK) < 0 && access(old, F_OK) < 0)
			rc = sm_err(EX_NOINPUT, "%s: not a portal (no store)", p->dir);
		free(path);
		free(old);
	}
	if (rc == 0)
		rc = check_tree(p->dir, 3, 1, 0);
	if (rc == 0)
		rc = check_maildirs(p->dir);
	if (rc == 0)
		rc = load_config(p);
	if (rc == 0)
		rc = check_smtp_secret(p);
	if (rc == 0)
		rc = load_meta(p);
	if (rc) {
		sm_portal_close(p);
		return rc;
	}
	*out = p;
	return 0;
}

void
sm_portal_close(sm_portal *p)
{
	if (!p)
		return;
	sm_store_end(p);
	sm_audit_close(p);
	sm_smtp_close(p);
	if (p->lockfd >= 0)
		close(p->lockfd);
	sm_config_free(&p->cfg);
	free(p->dir);
	free(p);
}

static int
write_recovery_key(const char *path, const unsigned char sk[32])
{
	char *b = sm_b64(sk, 32);
	char *text = sm_xasprintf("smail-recovery-key-v1 %s\n", b);
	int rc;

	rc = sm_write_file(path, text, strlen(text));
	sm_freestr(text);
	sm_freestr(b);
	return rc;
}

int
sm_recovery_key_load(const sm_portal *p, const char *path, unsigned char sk[32])
{
	static const char head[] = "smail-recovery-key-v1 ";
	char *own = NULL, buf[200];
	unsigned char pk[32];
	ssize_t n;
	size_t len;
	int fd, rc;

	if (!path)
		path = own = sm_portal_path(p, "recovery.key");
	/* The portal's own file may not be a link; one named by the
	 * operator may. */
	fd = open(path, O_RDONLY | (own ? O_NOFOLLOW : 0) | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && own) {
			free(own);
			return 0;
		}
		rc = sm_err(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s: %s",
		    path, strerror(errno));
		free(own);
		return rc;
	}
	if ((rc = sm_check_secret_file(path, fd)) != 0) {
		close(fd);
		free(own);
		return rc;
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		rc = sm_err(EX_IOERR, "%s: %s", path, strerror(errno));
	else {
		buf[n] = 0;
		len = strcspn(buf, "\n");
		if (len > sizeof head - 1 && memcmp(buf, head, sizeof head - 1) == 0 &&
		    sm_unb64(sk, 32, buf + sizeof head - 1, len - (sizeof head - 1)) == 0) {
			crypto_scalarmult_base(pk, sk);
			if (sodium_memcmp(pk, p->recovery_pk, 32) == 0)
				rc = 1;
			else
				rc = sm_err(EX_DATAERR, "%s: not this portal's "
				    "recovery key", path);
		} else
			rc = sm_err(EX_DATAERR, "%s: not a recovery key file", path);
	}
	sodium_memzero(buf, sizeof buf);
	free(own);
	return rc;
}

/* Removes a stage directory we made: our files, two levels deep. */
static void
rm_stage(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d) {
		while ((e = readdir(d))) {
			char *path;
			struct stat st;
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			path = sm_xasprintf("%s/%s", dir, e->d_name);
			if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && depth > 0)
				rm_stage(path, depth - 1);
			else
				unlink(path);
			free(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

void
sm_stage_abort(char *stage)
{
	if (stage) {
		rm_stage(stage, 2);
		free(stage);
	}
}

/*
 * A new portal is built in a stage directory beside its final place
 * and renamed there at the end, so that a crash never leaves half a
 * portal.  DIR may not exist yet, or be an empty directory of ours;
 * anything else is refused (73).
 */
int
sm_stage_begin(const char *dir, char **absp, char **stagep)
{
	char *abs, *def = NULL, *stage, *path, *slash, *parent;
	struct stat st;
	size_t i, j;
	int rc = 0;
	DIR *d;

	*absp = *stagep = NULL;
	if (!dir && !(dir = def = sm_portal_default_dir()))
		return sm_err(EX_USAGE, "no portal: give -d DIR or set SMAIL_DIR");
	abs = absolute(dir);
	free(def);
	if (!abs)
		return sm_err(EX_IOERR, "cannot find the current directory");
	if (lstat(abs, &st) == 0) {
		struct dirent *e;
		int empty = 1;
		if (!S_ISDIR(st.st_mode) || !(d = opendir(abs))) {
			rc = sm_err(EX_CANTCREAT, "%s: already exists", abs);
			goto fail;
		}
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				empty = 0;
		closedir(d);
		if (!empty) {
			rc = sm_err(EX_CANTCREAT, "%s: already exists", abs);
			goto fail;
		}
		if (st.st_uid != geteuid()) {
			rc = sm_err(EX_CONFIG, "%s: not owned by you", abs);
			goto fail;
		}
	} else if (errno != ENOENT) {
		rc = sm_err(EX_CANTCREAT, "%s: %s", abs, strerror(errno));
		goto fail;
	}
	slash = strrchr(abs, '/');
	parent = slash == abs ? sm_xstrdup("/") : sm_xstrndup(abs, (size_t)(slash - abs));
	rc = sm_mkdirs(parent);
	stage = sm_xasprintf("%s/.%s.new-XXXXXX", parent, slash + 1);
	free(parent);
	if (rc) {
		free(stage);
		goto fail;
	}
	if (!mkdtemp(stage)) {
		rc = sm_err(EX_CANTCREAT, "%s: %s", stage, strerror(errno));
		free(stage);
		goto fail;
	}
	for (i = 0; rc == 0 && i < 2; i++) {
		path = sm_xasprintf("%s/%s", stage, maildirs[i]);
		if (mkdir(path, 0700) < 0)
			rc = sm_err(EX_CANTCREAT, "%s: %s", path, strerror(errno));
		free(path);
		for (j = 0; rc == 0 && j < 3; j++) {
			path = sm_xasprintf("%s/%s/%s", stage, maildirs[i], subdirs[j]);
			if (mkdir(path, 0700) < 0)
				rc = sm_err(EX_CANTCREAT, "%s: %s", path, strerror(errno));
			free(path);
		}
	}
	if (rc) {
		sm_stage_abort(stage);
		goto fail;
	}
	*absp = abs;
	*stagep = stage;
	return 0;
fail:
	free(abs);
	return rc;
}

/* Moves a finished stage into place.  Frees STAGE either way. */
int
sm_stage_finish(char *stage, const char *abs)
{
	char *slash, *parent;
	int rc;

	if ((rc = sm_fsync_dir(stage)) != 0) {
		sm_stage_abort(stage);
		return rc;
	}
	if (rename(stage, abs) < 0) {
		rc = sm_err(errno == EEXIST || errno == ENOTEMPTY ? EX_CANTCREAT :
		    EX_IOERR, "%s: %s", abs, strerror(errno));
		sm_stage_abort(stage);
		return rc;
	}
	free(stage);
	slash = strrchr(abs, '/');
	parent = slash == abs ? sm_xstrdup("/") : sm_xstrndup(abs, (size_t)(slash - abs));
	rc = sm_fsync_dir(parent);
	free(parent);
	return rc;
}

/* Writes the identity record into the store at STAGE. */
static int
write_meta(const char *stage, const unsigned char id[16], const unsigned char rpk[32])
{
	sm_portal tmp;
	sm_buf meta = { 0 };
	int rc;

	memset(&tmp, 0, sizeof tmp);
	tmp.dir = (char *)stage;
	tmp.lockfd = -1;
	sm_config_defaults(&tmp.cfg);
	sm_rec_begin(&meta, META_MAGIC);
	sm_rec_u64(&meta, M_VERSION, 1);
	sm_rec_bytes(&meta, M_ID, id, 16);
	sm_rec_bytes(&meta, M_RECOVERY_PK, rpk, 32);
	sm_rec_u64(&meta, M_CREATED, (uint64_t)sm_now());
	if ((rc = sm_store_begin(&tmp, 1)) == 0) {
		rc = sm_store_put(&tmp, "meta", meta.p, meta.len);
		if (rc == 0)
			rc = sm_store_commit(&tmp);
		else
			sm_store_end(&tmp);
	}
	if (tmp.lockfd >= 0)
		close(tmp.lockfd);
	sm_buf_free(&meta);
	return rc;
}

/* The portal's signing key (portal.key), which signs the audit log's
 * head from the first entry on, and the manifests of exported zips. */
static int
write_signkey(const char *stage)
{
	sm_portal tmp;
	unsigned char pk[32], *sk = sm_secret_alloc(64);
	int rc;

	memset(&tmp, 0, sizeof tmp);
	tmp.dir = (char *)stage;
	crypto_sign_keypair(pk, sk);
	rc = sm_portal_signkey_write(&tmp, sk);
	sm_secret_free(sk);
	return rc;
}

int
sm_recovery_key_write(const char *path, const unsigned char sk[32])
{
	return write_recovery_key(path, sk);
}

int
sm_portal_init(const char *dir, const char *pwhash)
{
	char *abs, *stage, *path;
	unsigned char id[16], rpk[32], *rsk;
	sm_buf cfg = { 0 };
	int rc;

	if ((rc = sm_stage_begin(dir, &abs, &stage)) != 0)
		return rc;
	sm_buf_puts(&cfg, sm_config_template);
	sm_buf_printf(&cfg, "pwhash = %s\n", pwhash ? pwhash : "moderate");
	path = sm_xasprintf("%s/config", stage);
	rc = sm_write_file(path, cfg.p, cfg.len);
	free(path);
	sm_buf_free(&cfg);
	if (rc == 0) {
		rsk = sm_secret_alloc(32);
		randombytes_buf(id, sizeof id);
		crypto_box_keypair(rpk, rsk);
		path = sm_xasprintf("%s/recovery.key", stage);
		rc = write_recovery_key(path, rsk);
		free(path);
		sm_secret_free(rsk);
	}
	if (rc == 0)
		rc = sm_store_create(stage);
	if (rc == 0)
		rc = write_meta(stage, id, rpk);
	if (rc == 0)
		rc = write_signkey(stage);
	if (rc == 0)
		rc = sm_stage_finish(stage, abs);
	else
		sm_stage_abort(stage);
	free(abs);
	return rc;
}
