/*
 * session.c: sessions (SPEC §2).
 *
 * Login draws 32 random bytes S.  The session file in the runtime
 * directory holds the portal id, the address and S; the store record
 * "sess:" + hex(BLAKE2b(S)) holds the times and the account's secret
 * keys wrapped under a subkey of S.  Neither half opens anything alone.
 * The account record lists its sessions' ids so that a password change
 * or reset can end them all.
 *
 * A session's last use is not a store record: every command would then
 * be a writer, and a commit costs syncs.  It is the modification time of
 * an empty file in the portal's sessions/ directory, named after the
 * record, touched at each use (a crash may lose the latest touch; the
 * session then looks a little older, never younger).
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

#define SESS_MAGIC "SMS1"
#define FILE_HEAD "smail-session-v1"
#define MAX_SESSIONS 16
enum { S_CANON = 1, S_CREATED, S_USED, S_WRAP };

struct sess {
	char *canon;
	int64_t created, used;
	unsigned char wrap[SM_WRAP_BYTES];
};

void
sm_ident_free(struct sm_ident *id)
{
	free(id->addr);
	free(id->canon);
	if (id->keys)
		sm_secret_free(id->keys);
	memset(id, 0, sizeof *id);
}

char *
sm_session_dir(void)
{
	const char *r = getenv("XDG_RUNTIME_DIR"), *h = getenv("HOME");

	if (r && *r == '/')
		return sm_xasprintf("%s/smail", r);
	if (h && *h == '/')
		return sm_xasprintf("%s/.cache/smail", h);
	return NULL;
}

static int
session_dir_ready(char **out)
{
	char *d = sm_session_dir();
	struct stat st;
	int rc;

	if (!d)
		return sm_err(EX_CONFIG, "no place for sessions: set "
		    "XDG_RUNTIME_DIR or HOME");
	if ((rc = sm_mkdirs(d)) != 0) {
		free(d);
		return rc;
	}
	if (lstat(d, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077)) {
		rc = sm_err(EX_CONFIG, "%s: must be a directory of yours with "
		    "mode 700", d);
		free(d);
		return rc;
	}
	*out = d;
	return 0;
}

static char *
file_name(const sm_portal *p, const char *dir, const char *canon)
{
	unsigned char h[16];
	char hex[33];

	crypto_generichash(h, sizeof h, (const unsigned char *)canon,
	    strlen(canon), p->id, sizeof p->id);
	sm_hex(hex, h, sizeof h);
	return sm_xasprintf("%s/%s-%s", dir, p->idhex, hex);
}

static void
session_id(unsigned char sid[32], const unsigned char *S)
{
	static const char label[] = "smail-session-id-v1";

	crypto_generichash(sid, 32, (const unsigned char *)label,
	    sizeof label - 1, S, 32);
}

static char *
record_key(const unsigned char sid[32])
{
	char hex[65];

	sm_hex(hex, sid, 32);
	return sm_xasprintf("sess:%s", hex);
}

/* The file whose modification time is the session's last use. */
static char *
activity_path(const sm_portal *p, const unsigned char sid[32])
{
	char hex[65];

	sm_hex(hex, sid, 32);
	return sm_xasprintf("%s/sessions/%s", p->dir, hex);
}

static int
activity_new(const sm_portal *p, const unsigned char sid[32])
{
	char *dir = sm_portal_path(p, "sessions"), *path = activity_path(p, sid);
	int fd, rc = 0;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		rc = sm_err(EX_IOERR, "%s: %s", dir, strerror(errno));
	else if ((fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) < 0)
		rc = sm_err(EX_IOERR, "%s: %s", path, strerror(errno));
	else
		close(fd);
	free(dir);
	free(path);
	return rc;
}

/* The later of the record's last use and the activity file's. */
static int64_t
last_use(const sm_portal *p, const unsigned char sid[32], const struct sess *s)
{
	char *path = activity_path(p, sid);
	struct stat st;
	int64_t t = s->used;

	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime > t)
		t = st.st_mtime;
	free(path);
	return t;
}

static void
activity_touch(const sm_portal *p, const unsigned char sid[32])
{
	char *path = activity_path(p, sid);

	if (utimensat(AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW) < 0 &&
	    errno == ENOENT)
		activity_new(p, sid);
	free(path);
}

static void
activity_drop(const sm_portal *p, const unsigned char sid[32])
{
	char *path = activity_path(p, sid);

	unlink(path);
	free(path);
}

static void
wrap_key(unsigned char key[32], const unsigned char *S)
{
	crypto_kdf_derive_from_key(key, 32, 1, "smailses", S);
}

/* Wipes a session file: zeros over S, then unlink. */
static void
wipe_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < 4096) {
			char zero[4096] = { 0 };
			(void)!write(fd, zero, (size_t)st.st_size);
			fsync(fd);
		}
		close(fd);
	}
	unlink(path);
}

/* Reads a session file: 0 and S (secret memory) and the address,
 * 1 when it is absent or not this portal's. */
static int
read_file(const sm_portal *p, const char *path, unsigned char **S, char **canon)
{
	char buf[1024], *lines[4], *save = NULL, *l;
	int fd, n = 0, rc = 1;
	ssize_t r;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 1 : sm_err(EX_IOERR, "%s: %s", path,
		    strerror(errno));
	if ((rc = sm_check_secret_file(path, fd)) != 0) {
		close(fd);
		return rc;
	}
	r = read(fd, buf, sizeof buf - 1);
	close(fd);
	rc = 1;
	if (r <= 0)
		goto out;
	buf[r] = 0;
	for (l = strtok_r(buf, "\n", &save); l && n < 4; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	if (n != 4 || strcmp(lines[0], FILE_HEAD) != 0 ||
	    strcmp(lines[1], p->idhex) != 0)
		goto out;
	*S = sm_secret_alloc(32);
	if (sm_unb64(*S, 32, lines[3], strlen(lines[3])) != 0) {
		sm_secret_free(*S);
		goto out;
	}
	*canon = sm_xstrdup(lines[2]);
	rc = 0;
out:
	sodium_memzero(buf, sizeof buf);
	return rc;
}

/* The newest session file of this portal. */
static char *
most_recent(const sm_portal *p, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	struct timespec best = { 0, 0 };
	char *found = NULL;
	size_t plen = strlen(p->idhex);

	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		char *path;
		if (strncmp(e->d_name, p->idhex, plen) != 0 || e->d_name[plen] != '-' ||
		    strchr(e->d_name, '.'))
			continue;
		path = sm_xasprintf("%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    (st.st_mtim.tv_sec > best.tv_sec ||
		    (st.st_mtim.tv_sec == best.tv_sec &&
		    st.st_mtim.tv_nsec > best.tv_nsec))) {
			best = st.st_mtim;
			free(found);
			found = path;
		} else
			free(path);
	}
	closedir(d);
	return found;
}

static int
sess_decode(struct sess *s, const unsigned char *v, size_t n)
{
	const unsigned char *f;
	size_t fn;
	unsigned tag;
	uint64_t u;
	sm_rd r;
	int rc, seen = 0;

	memset(s, 0, sizeof *s);
	if (sm_rd_begin(&r, v, n, SESS_MAGIC) < 0)
		return -1;
	while ((rc = sm_rd_next(&r, &tag, &f, &fn)) == 1) {
		switch (tag) {
		case S_CANON:
			free(s->canon);
			if (!(s->canon = sm_rd_str(f, fn)))
				return -1;
			seen |= 1;
			break;
		case S_CREATED:
			if (sm_rd_u64(f, fn, &u) < 0)
				return -1;
			s->created = (int64_t)u;
			seen |= 2;
			break;
		case S_USED:
			if (sm_rd_u64(f, fn, &u) < 0)
				return -1;
			s->used = (int64_t)u;
			seen |= 4;
			break;
		case S_WRAP:
			if (fn != SM_WRAP_BYTES)
				return -1;
			memcpy(s->wrap, f, fn);
			seen |= 8;
			break;
		}
	}
	return rc < 0 || seen != 15 ? -1 : 0;
}

static void
sess_encode(sm_buf *b, const struct sess *s)
{
	sm_rec_begin(b, SESS_MAGIC);
	sm_rec_str(b, S_CANON, s->canon);
	sm_rec_u64(b, S_CREATED, (uint64_t)s->created);
	sm_rec_u64(b, S_USED, (uint64_t)s->used);
	sm_rec_bytes(b, S_WRAP, s->wrap, SM_WRAP_BYTES);
}

static int
sess_get(sm_portal *p, const unsigned char sid[32], struct sess *s)
{
	char *key = record_key(sid);
	unsigned char *v;
	size_t n;
	int rc;

	rc = sm_store_get(p, key, &v, &n);
	free(key);
	if (rc)
		return rc;
	rc = sess_decode(s, v, n);
	free(v);
	if (rc < 0) {
		free(s->canon);
		return 1;  /* a damaged record opens nothing: no session */
	}
	return 0;
}

static int
sess_put(sm_portal *p, const unsigned char sid[32], const struct sess *s)
{
	char *key = record_key(sid);
	sm_buf b = { 0 };
	int rc;

	sess_encode(&b, s);
	rc = sm_store_put(p, key, b.p, b.len);
	sm_buf_free(&b);
	free(key);
	return rc;
}

/* Removes SID from the store and from the account's list (in a write
 * transaction; the caller puts the account). */
static int
sess_drop(sm_portal *p, struct sm_account *a, const unsigned char sid[32])
{
	char *key = record_key(sid);
	size_t i;
	int rc;

	rc = sm_store_remove(p, key);
	free(key);
	activity_drop(p, sid);
	for (i = 0; a && i + 32 <= a->sessions.len; i += 32)
		if (sodium_memcmp(a->sessions.p + i, sid, 32) == 0) {
			memmove(a->sessions.p + i, a->sessions.p + i + 32,
			    a->sessions.len - i - 32);
			a->sessions.len -= 32;
			break;
		}
	return rc;
}

int
sm_sessions_wipe(sm_portal *p, struct sm_account *a)
{
	int rc = 0;

	while (rc == 0 && a->sessions.len >= 32) {
		unsigned char sid[32];
		memcpy(sid, a->sessions.p, 32);
		rc = sess_drop(p, a, sid);
	}
	return rc;
}

int
sm_session_create(sm_portal *p, struct sm_account *a, const struct sm_keys *k,
    unsigned char S[32])
{
	struct sess s;
	unsigned char sid[32], key[32], *oldS = NULL;
	char *dir = NULL, *path = NULL, *oldcanon = NULL;
	int rc;

	if ((rc = session_dir_ready(&dir)) != 0)
		return rc;
	/* The session this file held before is replaced. */
	path = file_name(p, dir, a->canon);
	if (read_file(p, path, &oldS, &oldcanon) == 0) {
		session_id(sid, oldS);
		sm_secret_free(oldS);
		if ((rc = sess_drop(p, a, sid)) != 0)
			goto out;
	}
	while (a->sessions.len >= 32 * MAX_SESSIONS) {
		memcpy(sid, a->sessions.p, 32);
		if ((rc = sess_drop(p, a, sid)) != 0)
			goto out;
	}
	randombytes_buf(S, 32);
	session_id(sid, S);
	wrap_key(key, S);
	memset(&s, 0, sizeof s);
	s.canon = a->canon;
	s.created = s.used = sm_now();
	sm_wrap(s.wrap, key, "smail-session-v1", a->canon, &a->pub, k);
	sodium_memzero(key, sizeof key);
	if ((rc = sess_put(p, sid, &s)) == 0 && (rc = activity_new(p, sid)) == 0)
		sm_buf_put(&a->sessions, sid, 32);
out:
	free(oldcanon);
	free(path);
	free(dir);
	return rc;
}

int
sm_session_file_write(sm_portal *p, const char *canon, const unsigned char S[32])
{
	char *dir, *path, *tmp, *b, *text;
	int rc;

	if ((rc = session_dir_ready(&dir)) != 0)
		return rc;
	path = file_name(p, dir, canon);
	tmp = sm_xasprintf("%s.%ld", path, (long)getpid());
	b = sm_b64(S, 32);
	text = sm_xasprintf("%s\n%s\n%s\n%s\n", FILE_HEAD, p->idhex, canon, b);
	unlink(tmp);
	rc = sm_write_file(tmp, text, strlen(text));
	if (rc == 0 && rename(tmp, path) < 0) {
		rc = sm_err(EX_IOERR, "%s: %s", path, strerror(errno));
		wipe_file(tmp);
	}
	sm_freestr(text);
	sm_freestr(b);
	free(tmp);
	free(path);
	free(dir);
	return rc;
}

/* Finds the session file for CANON (NULL: the most recent). */
static int
find(sm_portal *p, const char *canon, char **path, unsigned char **S,
    char **fcanon)
{
	char *dir = sm_session_dir();
	int rc;

	if (!dir)
		return 1;
	*path = canon ? file_name(p, dir, canon) : most_recent(p, dir);
	free(dir);
	if (!*path)
		return 1;
	rc = read_file(p, *path, S, fcanon);
	if (rc == 0 && canon && strcmp(*fcanon, canon) != 0) {
		sm_secret_free(*S);
		free(*fcanon);
		rc = 1;
	}
	if (rc) {
		free(*path);
		*path = NULL;
	}
	return rc;
}

/*
 * Checks a session: 0 live (its last use now, when TOUCH), 1 gone.  An
 * expired one is 2 in a read transaction (ask again in a write one);
 * in a write transaction both halves are wiped and it is 77, the
 * reason printed.
 */
static int
check(sm_portal *p, const char *path, const unsigned char *S, const char *canon,
    int write, int touch, struct sm_account *a, struct sess *s)
{
	unsigned char sid[32];
	int64_t now = sm_now();
	int rc, expired = 0;
	char d[48];

	session_id(sid, S);
	rc = sess_get(p, sid, s);
	if (rc == 1) {
		wipe_file(path);
		return 1;
	}
	if (rc)
		return rc;
	if (strcmp(s->canon, canon) != 0) {
		free(s->canon);
		wipe_file(path);
		return 1;
	}
	if (now - last_use(p, sid, s) > p->cfg.session_idle)
		expired = 1;
	else if (now - s->created > p->cfg.session_max)
		expired = 2;
	rc = sm_account_get(p, canon, a);
	if (rc == EX_NOUSER) {
		expired = 3;
		rc = 0;
	}
	if (rc) {
		free(s->canon);
		return rc;
	}
	if (expired && !write) {
		if (expired != 3)
			sm_account_free(a);
		free(s->canon);
		return 2;
	}
	if (expired) {
		rc = sess_drop(p, expired == 3 ? NULL : a, sid);
		if (rc == 0 && expired != 3)
			rc = sm_account_put(p, a);
		if (expired != 3)
			sm_account_free(a);
		free(s->canon);
		wipe_file(path);
		if (rc)
			return rc;
		if (expired == 1) {
			sm_fmt_duration(p->cfg.session_idle, d);
			return sm_err(EX_NOPERM, "%s: signed out after %s of "
			    "inactivity", canon, d);
		}
		if (expired == 2) {
			sm_fmt_duration(p->cfg.session_max, d);
			return sm_err(EX_NOPERM, "%s: signed out: sessions last "
			    "at most %s", canon, d);
		}
		return sm_err(EX_NOPERM, "%s: signed out: the account is gone",
		    canon);
	}
	if (touch) {
		activity_touch(p, sid);
		utimensat(AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW);
	}
	return 0;
}

/* check() under a read lock, and again under the write lock when the
 * session has expired and must be wiped.  The transaction is over when
 * it returns. */
static int
check_session(sm_portal *p, const char *path, const unsigned char *S,
    const char *canon, int touch, struct sm_account *a, struct sess *s)
{
	int rc, c;

	if ((rc = sm_store_begin(p, 0)) != 0)
		return rc;
	rc = check(p, path, S, canon, 0, touch, a, s);
	sm_store_end(p);
	if (rc != 2)
		return rc;
	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	rc = check(p, path, S, canon, 1, touch, a, s);
	if (rc == 0 || rc == 1 || rc == EX_NOPERM) {
		if ((c = sm_store_commit(p)) != 0) {
			if (rc == 0) {
				sm_account_free(a);
				free(s->canon);
			}
			rc = c;
		}
	} else
		sm_store_end(p);
	return rc;
}

int
sm_session_use(sm_portal *p, const char *canon, struct sm_ident *id)
{
	unsigned char *S = NULL, key[32];
	char *path = NULL, *fcanon = NULL;
	struct sm_account a;
	struct sess s;
	int rc;

	if ((rc = find(p, canon, &path, &S, &fcanon)) != 0)
		return rc;
	if ((rc = check_session(p, path, S, fcanon, 1, &a, &s)) != 0)
		goto out;
	id->keys = sm_secret_alloc(sizeof *id->keys);
	wrap_key(key, S);
	if (sm_unwrap(id->keys, s.wrap, key, "smail-session-v1", a.canon,
	    &a.pub) != 0) {
		sm_ident_free(id);
		rc = sm_err(EX_NOPERM, "%s: the session does not open; sign in "
		    "again", a.addr);
		wipe_file(path);
	} else {
		id->addr = sm_xstrdup(a.addr);
		id->canon = sm_xstrdup(a.canon);
		id->pub = a.pub;
	}
	sodium_memzero(key, sizeof key);
	sm_account_free(&a);
	free(s.canon);
out:
	if (S)
		sm_secret_free(S);
	free(fcanon);
	free(path);
	return rc;
}

int
sm_session_status(sm_portal *p, const char *user, char **addr)
{
	unsigned char *S = NULL;
	char *path = NULL, *fcanon = NULL, *canon = NULL;
	struct sm_account a;
	struct sess s;
	int rc;

	if (user && (rc = sm_addr_canon(user, &canon)) != 0)
		return rc;
	rc = find(p, canon, &path, &S, &fcanon);
	if (rc == 1)
		rc = user ? sm_err(EX_NOPERM, "%s: not signed in", user) :
		    sm_err(EX_NOPERM, "not signed in");
	if (rc)
		goto out;
	rc = check_session(p, path, S, fcanon, 0, &a, &s);
	if (rc == 1)
		rc = sm_err(EX_NOPERM, "%s: not signed in", fcanon);
	if (rc)
		goto out;
	*addr = sm_xstrdup(a.addr);
	sm_account_free(&a);
	free(s.canon);
out:
	if (S)
		sm_secret_free(S);
	free(canon);
	free(fcanon);
	free(path);
	return rc;
}

int
sm_logout(sm_portal *p, const char *user)
{
	unsigned char *S = NULL, sid[32];
	char *path = NULL, *fcanon = NULL, *canon = NULL;
	struct sm_account a;
	int rc;

	if (user && (rc = sm_addr_canon(user, &canon)) != 0)
		return rc;
	if ((rc = find(p, canon, &path, &S, &fcanon)) != 0) {
		if (rc == 1) {
			if (user)
				sm_note("%s: not signed in", user);
			else
				sm_note("not signed in");
			rc = 0;
		}
		goto out;
	}
	session_id(sid, S);
	if ((rc = sm_store_begin(p, 1)) != 0)
		goto out;
	rc = sm_account_get(p, fcanon, &a);
	if (rc == 0) {
		rc = sess_drop(p, &a, sid);
		if (rc == 0)
			rc = sm_account_put(p, &a);
		sm_account_free(&a);
	} else if (rc == EX_NOUSER)
		rc = sess_drop(p, NULL, sid);
	if (rc == 0)
		rc = sm_store_commit(p);
	else
		sm_store_end(p);
	if (rc == 0) {
		wipe_file(path);
		sm_note("%s: signed out", fcanon);
	}
out:
	if (S)
		sm_secret_free(S);
	free(canon);
	free(fcanon);
	free(path);
	return rc;
}

struct sess_keys {
	char **v;
	size_t n;
};

static int
sess_collect(sm_portal *p, const char *key, void *arg)
{
	struct sess_keys *k = arg;

	(void)p;
	k->v = sm_xrealloc(k->v, (k->n + 1) * sizeof *k->v);
	k->v[k->n++] = sm_xstrdup(key);
	return 0;
}

/* In a write transaction: wipes every session past session_idle or
 * session_max (or undecodable), and takes it off its account's list. */
int
sm_sessions_purge(sm_portal *p, unsigned *count)
{
	struct sess_keys k = { 0 };
	int64_t now = sm_now();
	size_t i;
	int rc;

	*count = 0;
	if ((rc = sm_store_each(p, "sess:", sess_collect, &k)) != 0)
		return rc;
	for (i = 0; i < k.n && rc == 0; i++) {
		unsigned char *v, sid[32];
		size_t n;
		struct sess s;
		struct sm_account a;
		int dead;
		if (sm_store_get(p, k.v[i], &v, &n) != 0)
			continue;
		dead = sess_decode(&s, v, n) < 0;
		if (!dead && strlen(k.v[i]) == 5 + 64 &&
		    sodium_hex2bin(sid, 32, k.v[i] + 5, 64, NULL, NULL, NULL) == 0)
			s.used = last_use(p, sid, &s);
		dead = dead || now - s.used > p->cfg.session_idle ||
		    now - s.created > p->cfg.session_max;
		free(v);
		if (!dead) {
			free(s.canon);
			continue;
		}
		if (strlen(k.v[i]) != 5 + 64 ||
		    sodium_hex2bin(sid, 32, k.v[i] + 5, 64, NULL, NULL, NULL) != 0) {
			rc = sm_store_remove(p, k.v[i]);
		} else if (s.canon && sm_account_get(p, s.canon, &a) == 0) {
			if ((rc = sess_drop(p, &a, sid)) == 0)
				rc = sm_account_put(p, &a);
			sm_account_free(&a);
		} else
			rc = sess_drop(p, NULL, sid);
		free(s.canon);
		(*count)++;
	}
	for (i = 0; i < k.n; i++)
		free(k.v[i]);
	free(k.v);
	return rc;
}
