/*
 * store.c: the GDBM database behind a lock that waits.
 *
 * GDBM's own locks never wait, so the database is opened with
 * GDBM_NOLOCK and guarded by flock(2) on a separate lock file: shared
 * to read, exclusive to write, polled with back-off for store_wait.
 * A transaction is begin, reads, then every write at the end, then
 * commit (gdbm_sync, close, unlock).  GDBM has no rollback, so callers
 * check everything before their first write, and order their writes so
 * that any prefix of them is harmless.
 *
 * GDBM itself is consistent between calls, not inside one: a store
 * writes the value, then the buckets, the directory and the header, and
 * a process killed between those writes leaves a header that does not
 * know about space the buckets already use.  Nothing shows until the
 * next writer allocates that space again and overwrites live records.
 * So the lock file's first byte is '1' from just before GDBM is asked to
 * change the file until the call has returned, and a writer that finds
 * it set rebuilds the store (gdbm_recover, which copies every readable
 * record into a new file) before it writes anything.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <gdbm.h>
#include <sodium.h>

#include "smail.h"

struct sm_store {
	GDBM_FILE db;
	int write;
	int depth;                     /* transactions begun inside this one */
	uint32_t wmask;                /* which of them write */
	int lazy;                      /* commit without gdbm_sync */
	int changing;                  /* the lock file says "a change is under way" */
};

static void sm_store_reserve_quiet(sm_portal *p, uint64_t bytes);

static void
nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The lock file's first byte: '1' while GDBM may be in the middle of
 * changing the file (see the top of this file). */
static int
mark(sm_portal *p, char c)
{
	ssize_t n = pwrite(p->lockfd, &c, 1, 0);

	if (n != 1)
		return sm_err(EX_IOERR, "%s/lock: %s", p->dir,
		    n < 0 ? strerror(errno) : "nothing written");
	return 0;
}

static int
interrupted(sm_portal *p)
{
	char c = 0;

	return pread(p->lockfd, &c, 1, 0) == 1 && c == '1';
}

/* Inside a transaction: was a change to the file cut short, so that the
 * next writer rebuilds it?  (For smail-admin check.) */
int
sm_store_cut_short(sm_portal *p)
{
	return p->st && interrupted(p);
}

/* Around every GDBM call that changes the file. */
static int
change_begins(sm_portal *p)
{
	int rc = 0;

	if (!p->st->changing && (rc = mark(p, '1')) == 0)
		p->st->changing = 1;
	return rc;
}

static void
change_ends(sm_portal *p)
{
	/* A call that left GDBM asking for recovery keeps the mark: the
	 * next writer recovers, should this process not get to it. */
	if (p->st->changing && !gdbm_needs_recovery(p->st->db) &&
	    mark(p, '0') == 0)
		p->st->changing = 0;
}

static int
lock_wait(sm_portal *p, int op)
{
	double start = mono();
	long ms = 1;
	char d[48];

	if (p->lockfd < 0) {
		char *path = sm_portal_path(p, "lock");
		p->lockfd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (p->lockfd < 0) {
			int rc = sm_err(EX_IOERR, "%s: %s", path, strerror(errno));
			free(path);
			return rc;
		}
		free(path);
	}
	for (;;) {
		if (flock(p->lockfd, op | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return sm_err(EX_IOERR, "%s/lock: %s", p->dir, strerror(errno));
		if (mono() - start >= (double)p->cfg.store_wait)
			break;
		nap(ms);
		if (ms < 50)
			ms *= 2;
	}
	sm_fmt_duration(p->cfg.store_wait, d);
	return sm_err(EX_TEMPFAIL, "%s: store busy: another command held it "
	    "for %s (store_wait); try again", p->dir, d);
}

static int
db_open(sm_portal *p, int write, GDBM_FILE *out)
{
	char *path = sm_portal_path(p, "store.db");
	int fd, flags;
	GDBM_FILE db;

	fd = open(path, (write ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int rc = sm_err(EX_IOERR, "%s: %s", path, strerror(errno));
		free(path);
		return rc;
	}
	flags = (write ? GDBM_WRITER : GDBM_READER) | GDBM_NOLOCK |
	    GDBM_NOMMAP | GDBM_CLOEXEC | GDBM_CLOERROR;
	db = gdbm_fd_open(fd, path, 0, flags, NULL);
	if (!db) {
		int rc = sm_err(EX_IOERR, "%s: %s", path, gdbm_strerror(gdbm_errno));
		free(path);
		return rc;
	}
	free(path);
	*out = db;
	return 0;
}

/* A failed recovery leaves GDBM's temporary copies (store.db.XXXXXX)
 * behind; under the exclusive lock they are ours to remove. */
static void
remove_temps(sm_portal *p)
{
	DIR *d = opendir(p->dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, "store.db.", 9) == 0 &&
		    strlen(e->d_name) == 15 && !strchr(e->d_name + 9, '~')) {
			char *path = sm_portal_path(p, e->d_name);
			unlink(path);
			free(path);
		}
	closedir(d);
}

/* Rebuilds the database after a crash left it inconsistent: every
 * readable record is copied into a new file that replaces the old one in
 * one rename (a crash in the middle leaves the old file and a temporary
 * copy, which the next recovery removes).  Needs the exclusive lock; a
 * reader trades its shared lock for it and back. */
static int
recover(sm_portal *p)
{
	struct sm_store *s = p->st;
	gdbm_recovery rcvr;
	GDBM_FILE db;
	int rc;

	if (!s->write) {
		gdbm_close(s->db);
		s->db = NULL;
		if ((rc = lock_wait(p, LOCK_EX)) != 0)
			return rc;
		if ((rc = db_open(p, 1, &db)) != 0)
			return rc;
	} else
		db = s->db;
	remove_temps(p);
	memset(&rcvr, 0, sizeof rcvr);
	if (gdbm_recover(db, &rcvr, GDBM_RCVR_FORCE) != 0) {
		rc = sm_err(EX_IOERR, "%s/store.db: cannot recover: %s%s",
		    p->dir, gdbm_strerror(gdbm_errno), errno == ENOSPC ||
		    gdbm_errno == GDBM_REORGANIZE_FAILED ? " (is the disk "
		    "full? recovery needs room for a copy of the store)" : "");
		remove_temps(p);
		if (!s->write)
			gdbm_close(db);
		return rc;
	}
	if (rcvr.failed_keys || rcvr.failed_buckets)
		sm_warn("%s/store.db: recovered after a crash: %zu records kept, "
		    "%zu unreadable records and %zu unreadable buckets dropped "
		    "(smail-admin check names what they belonged to)", p->dir,
		    rcvr.recovered_keys, rcvr.failed_keys, rcvr.failed_buckets);
	else
		sm_warn("%s/store.db: recovered after a crash (%zu records, "
		    "none lost)", p->dir, rcvr.recovered_keys);
	if (gdbm_sync(db) != 0 || mark(p, '0') != 0) {
		if (!s->write)
			gdbm_close(db);
		return sm_err(EX_IOERR, "%s/store.db: sync after recovery: %s",
		    p->dir, gdbm_strerror(gdbm_errno));
	}
	s->changing = 0;
	if (!s->write) {
		gdbm_close(db);
		if ((rc = lock_wait(p, LOCK_SH)) != 0)
			return rc;
		return db_open(p, 0, &s->db);
	}
	return 0;
}

int
sm_store_begin(sm_portal *p, int write)
{
	struct sm_store *s;
	int rc;

	/* Inside an open transaction (a batch's group), a transaction is
	 * part of it: only the outermost one commits. */
	if (p->st) {
		if (write && !p->st->write)
			return sm_err(EX_SOFTWARE, "store: write inside a read "
			    "transaction");
		if (p->st->depth >= 31)
			return sm_err(EX_SOFTWARE, "store: transactions nested too deep");
		p->st->depth++;
		if (write)
			p->st->wmask |= 1u << p->st->depth;
		else
			p->st->wmask &= ~(1u << p->st->depth);
		return 0;
	}
	if ((rc = lock_wait(p, write ? LOCK_EX : LOCK_SH)) != 0)
		return rc;
	s = sm_xcalloc(1, sizeof *s);
	s->write = write;
	p->st = s;
	if ((rc = db_open(p, write, &s->db)) != 0) {
		free(s);
		p->st = NULL;
		flock(p->lockfd, LOCK_UN);
		return rc;
	}
	if ((gdbm_needs_recovery(s->db) || (write && interrupted(p))) &&
	    (rc = recover(p)) != 0) {
		sm_store_end(p);
		return rc;
	}
	/* A little room for the small writes of any transaction; when the
	 * disk is full they may still fit in what earlier reserves left,
	 * so that reading an inbox keeps working. */
	if (write)
		sm_store_reserve_quiet(p, 64 << 10);
	return 0;
}

/*
 * Reserves disk space past the end of the store for the writes to come
 * (fallocate with KEEP_SIZE), so that a full disk is found before the
 * first write, not in the middle of one: GDBM cannot undo a half-done
 * write, and needs room to recover from one.
 */
static void
sm_store_reserve_quiet(sm_portal *p, uint64_t bytes)
{
	int fd = gdbm_fdesc(p->st->db);
	struct stat st;

	if (fstat(fd, &st) == 0)
		(void)fallocate(fd, FALLOC_FL_KEEP_SIZE, st.st_size, (off_t)bytes);
}

int
sm_store_reserve(sm_portal *p, uint64_t bytes)
{
	int fd = gdbm_fdesc(p->st->db);
	struct stat st;
	struct statvfs vs;

	bytes += 1 << 20;              /* GDBM's own growth: buckets, directory */
	if (fstat(fd, &st) < 0)
		return sm_err(EX_IOERR, "%s/store.db: %s", p->dir, strerror(errno));
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, st.st_size, (off_t)bytes) == 0)
		return 0;
	if (errno == ENOSPC)
		return sm_err(EX_IOERR, "%s: no space left on the device for "
		    "%llu more bytes; nothing was stored", p->dir,
		    (unsigned long long)bytes);
	/* No fallocate here: judge by the free space. */
	if (fstatvfs(fd, &vs) == 0 &&
	    (uint64_t)vs.f_bavail * vs.f_frsize < 2 * bytes)
		return sm_err(EX_IOERR, "%s: no space left on the device for "
		    "%llu more bytes; nothing was stored", p->dir,
		    (unsigned long long)bytes);
	return 0;
}

/* Commits without waiting for the disk: for writes that may be lost in
 * a crash without harm (a session's last use, a read flag). */
int
sm_store_commit_lazy(sm_portal *p)
{
	if (p->st && !p->st->depth)
		p->st->lazy = 1;
	return sm_store_commit(p);
}

int
sm_store_commit(sm_portal *p)
{
	struct sm_store *s = p->st;
	int rc = 0;

	if (!s)
		return 0;
	if (s->depth) {
		s->depth--;
		return 0;
	}
	if (s->db && s->write && !s->lazy && gdbm_sync(s->db) != 0)
		rc = sm_err(EX_IOERR, "%s/store.db: sync: %s", p->dir,
		    gdbm_strerror(gdbm_errno));
	if (s->db && gdbm_close(s->db) != 0 && rc == 0)
		rc = sm_err(EX_IOERR, "%s/store.db: close: %s", p->dir,
		    gdbm_strerror(gdbm_errno));
	free(s);
	p->st = NULL;
	flock(p->lockfd, LOCK_UN);
	return rc;
}

/* Ends an inner transaction that left nothing behind (it undid what it
 * wrote); outside a batch, the same as sm_store_end. */
void
sm_store_release(sm_portal *p)
{
	if (p->st && p->st->depth) {
		p->st->depth--;
		return;
	}
	sm_store_end(p);
}

void
sm_store_end(sm_portal *p)
{
	struct sm_store *s = p->st;

	if (!s)
		return;
	if (s->depth) {
		/* An inner writer that failed: the outer transaction must not
		 * commit what it wrote (see sm_store_release for one that
		 * undid its writes itself). */
		if ((s->wmask >> s->depth) & 1 && p->batch)
			p->batch->broken = 1;
		s->depth--;
		return;
	}
	if (s->db)
		gdbm_close(s->db);
	free(s);
	p->st = NULL;
	flock(p->lockfd, LOCK_UN);
}

/* After a failed GDBM call: recover and ask for a retry (1), or fail. */
static int
failed(sm_portal *p, const char *what)
{
	gdbm_error e = gdbm_last_errno(p->st->db);

	if (e == GDBM_NEED_RECOVERY || gdbm_needs_recovery(p->st->db)) {
		if (recover(p) == 0)
			return 1;
		return -EX_IOERR;
	}
	sm_err(EX_IOERR, "%s/store.db: %s: %s", p->dir, what, gdbm_strerror(e));
	return -EX_IOERR;
}

int
sm_store_get(sm_portal *p, const char *key, unsigned char **out, size_t *outlen)
{
	datum k = { (char *)key, (int)strlen(key) }, v;
	int tries, r;

	for (tries = 0; tries < 2; tries++) {
		v = gdbm_fetch(p->st->db, k);
		if (v.dptr) {
			*out = (unsigned char *)v.dptr;
			*outlen = (size_t)v.dsize;
			return 0;
		}
		if (gdbm_errno == GDBM_ITEM_NOT_FOUND)
			return 1;
		if ((r = failed(p, "fetch")) < 0)
			return -r;
	}
	return sm_err(EX_IOERR, "%s/store.db: fetch failed after recovery", p->dir);
}

/* Is KEY there?  (No copy of its value.) */
int
sm_store_exists(sm_portal *p, const char *key)
{
	datum k = { (char *)key, (int)strlen(key) };

	return gdbm_exists(p->st->db, k);
}

int
sm_store_put(sm_portal *p, const char *key, const void *val, size_t n)
{
	datum k = { (char *)key, (int)strlen(key) };
	datum v = { (char *)val, (int)n };
	int tries, r;

	if (!p->st->write)
		return sm_err(EX_SOFTWARE, "store: write in a read transaction");
	if (n > 0x7fffffff)
		return sm_err(EX_SOFTWARE, "store: record too large");
	for (tries = 0; tries < 2; tries++) {
		if ((r = change_begins(p)) != 0)
			return r;
		r = gdbm_store(p->st->db, k, v, GDBM_REPLACE);
		change_ends(p);
		if (r == 0)
			return 0;
		if ((r = failed(p, "store")) < 0)
			return -r;
	}
	return sm_err(EX_IOERR, "%s/store.db: store failed after recovery", p->dir);
}

int
sm_store_zero(sm_portal *p, const char *key)
{
	unsigned char *v;
	size_t n;
	int rc;

	rc = sm_store_get(p, key, &v, &n);
	if (rc == 1)
		return 0;
	if (rc)
		return rc;
	sodium_memzero(v, n);
	rc = sm_store_put(p, key, v, n);
	free(v);
	return rc;
}

int
sm_store_sync(sm_portal *p)
{
	if (gdbm_sync(p->st->db) != 0)
		return sm_err(EX_IOERR, "%s/store.db: sync: %s", p->dir,
		    gdbm_strerror(gdbm_errno));
	return 0;
}

int
sm_store_remove(sm_portal *p, const char *key)
{
	gdbm_error e;
	int rc;

	if ((rc = change_begins(p)) != 0)
		return rc;
	rc = gdbm_delete(p->st->db, (datum){ (char *)key, (int)strlen(key) });
	e = gdbm_errno;
	change_ends(p);
	if (rc != 0 && e != GDBM_ITEM_NOT_FOUND)
		return sm_err(EX_IOERR, "%s/store.db: delete: %s", p->dir,
		    gdbm_strerror(e));
	return 0;
}

int
sm_store_del(sm_portal *p, const char *key)
{
	int rc;

	if ((rc = sm_store_zero(p, key)) == 0 && (rc = sm_store_sync(p)) == 0)
		rc = sm_store_remove(p, key);
	return rc;
}

int
sm_store_each(sm_portal *p, const char *prefix,
    int (*fn)(sm_portal *, const char *, void *), void *arg)
{
	size_t plen = strlen(prefix), n = 0, cap = 0, i;
	char **keys = NULL;
	datum k, next;
	int rc = 0;

	k = gdbm_firstkey(p->st->db);
	while (k.dptr) {
		if ((size_t)k.dsize >= plen && memcmp(k.dptr, prefix, plen) == 0 &&
		    !memchr(k.dptr, 0, (size_t)k.dsize)) {
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				keys = sm_xrealloc(keys, cap * sizeof *keys);
			}
			keys[n++] = sm_xstrndup(k.dptr, (size_t)k.dsize);
		}
		next = gdbm_nextkey(p->st->db, k);
		free(k.dptr);
		k = next;
	}
	if (gdbm_errno != GDBM_ITEM_NOT_FOUND && gdbm_errno != GDBM_NO_ERROR)
		rc = sm_err(EX_IOERR, "%s/store.db: iterate: %s", p->dir,
		    gdbm_strerror(gdbm_errno));
	for (i = 0; i < n; i++) {
		if (rc == 0)
			rc = fn(p, keys[i], arg);
		free(keys[i]);
	}
	free(keys);
	return rc;
}

int
sm_store_create(const char *path)
{
	int fd;
	GDBM_FILE db;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return sm_err(EX_CANTCREAT, "%s: %s", path, strerror(errno));
	db = gdbm_fd_open(fd, path, 0, GDBM_NEWDB | GDBM_NOLOCK | GDBM_NOMMAP |
	    GDBM_CLOEXEC | GDBM_CLOERROR, NULL);
	if (!db)
		return sm_err(EX_CANTCREAT, "%s: %s", path, gdbm_strerror(gdbm_errno));
	if (gdbm_sync(db) != 0 || gdbm_close(db) != 0)
		return sm_err(EX_IOERR, "%s: %s", path, gdbm_strerror(gdbm_errno));
	return 0;
}

/* The store in GDBM's portable dump format (inside a transaction). */
int
sm_store_dump(sm_portal *p, FILE *out)
{
	if (gdbm_dump_to_file(p->st->db, out, GDBM_DUMP_FMT_ASCII) != 0)
		return sm_err(EX_IOERR, "%s/store.db: dump: %s", p->dir,
		    gdbm_strerror(gdbm_errno));
	return 0;
}

/* Creates the store PATH from a dump. */
int
sm_store_load(const char *path, FILE *in)
{
	unsigned long line = 0;
	GDBM_FILE db;
	int fd, rc = 0;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return sm_err(EX_CANTCREAT, "%s: %s", path, strerror(errno));
	db = gdbm_fd_open(fd, path, 0, GDBM_NEWDB | GDBM_NOLOCK | GDBM_NOMMAP |
	    GDBM_CLOEXEC | GDBM_CLOERROR, NULL);
	if (!db)
		return sm_err(EX_CANTCREAT, "%s: %s", path, gdbm_strerror(gdbm_errno));
	if (gdbm_load_from_file(&db, in, 1, GDBM_META_MASK_MODE |
	    GDBM_META_MASK_OWNER, &line) != 0)
		rc = sm_err(EX_DATAERR, "store dump, line %lu: %s", line,
		    gdbm_strerror(gdbm_errno));
	if (gdbm_sync(db) != 0 && rc == 0)
		rc = sm_err(EX_IOERR, "%s: %s", path, gdbm_strerror(gdbm_errno));
	if (gdbm_close(db) != 0 && rc == 0)
		rc = sm_err(EX_IOERR, "%s: %s", path, gdbm_strerror(gdbm_errno));
	return rc;
}

/* Gives the space of deleted records back (a write transaction of its
 * own: GDBM rebuilds the file). */
int
sm_store_reorganize(sm_portal *p)
{
	gdbm_error e;
	int rc;

	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	if ((rc = change_begins(p)) != 0) {
		sm_store_end(p);
		return rc;
	}
	rc = gdbm_reorganize(p->st->db);
	e = gdbm_errno;
	change_ends(p);
	if (rc != 0) {
		rc = sm_err(EX_IOERR, "%s/store.db: reorganize: %s", p->dir,
		    gdbm_strerror(e));
		sm_store_end(p);
		return rc;
	}
	return sm_store_commit(p);
}
