/*
 * store.c: the GDBM database, kept in two copies with an atomic commit,
 * behind a lock that waits.
 *
 * GDBM's own locks never wait, so the copies are opened with
 * GDBM_NOLOCK and guarded by flock(2) on a separate lock file: shared
 * to read, exclusive to write, polled with back-off for store_wait.
 *
 * GDBM updates its buckets, directory, header and free lists in place,
 * and a power cut lets the disk keep any subset of the pages written
 * since the last sync: one copy alone can lose records committed long
 * before.  So the store is two GDBM files, store.0.db and store.1.db,
 * and a control file, store.ctl, that names the good one.  At rest the
 * two hold the same records.  A transaction writes the other copy and
 * syncs it; the control file then names it the good one (synced): the
 * commit point; then the records the transaction touched are copied
 * into the old copy.  The good copy is never written while it is the
 * good one, so readers read it whatever happens to the other.
 *
 * The other copy may be half-changed after a crash: a kill leaves the
 * lock file's first byte '1' (set from the first write until the old
 * copy has the transaction's records), and a power cut leaves the boot
 * the control file names behind (the copy of the records into the old
 * copy is not synced: after a reboot nothing says it reached the disk).
 * Either way the first writer after it copies the good file over the
 * other, whole, before it writes; the damaged file is kept aside until
 * the copy is in place.  Nothing is ever recovered from a damaged file,
 * and no record is dropped.  A commit costs two syncs, as one GDBM file
 * with a sync did; a reboot costs one copy of the store.
 *
 * The control file has two slots, written in turn and always synced,
 * each with a sequence number, the good copy, the boot, and a
 * checksum: a torn write leaves the slot before it, which still names
 * a copy that nothing has changed since.  A writer that fails before
 * its commit copies the good records back over what it touched.
 *
 * A record replaced by one of another size, or deleted, is first
 * overwritten with zeros in place (a same-size replace reuses its
 * place), in both copies, so that no superseded value stays in GDBM's
 * free space: a stale key wrap or index must not outlive its record.
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

#define CTL_MAGIC "SMC2"
#define CTL_SLOT 4096              /* each slot on a page of its own */
#define CTL_SUMMED 32              /* magic, seq, good, pad, boot */
#define CTL_BYTES (CTL_SUMMED + 32)

struct ctl {
	uint64_t seq;
	int good;                      /* 0 or 1: which copy is good */
	unsigned char boot[16];        /* the boot it was written in */
};

/* The keys a transaction changed: an open-addressing set. */
struct keyset {
	char **v;
	size_t n, cap;
};

struct sm_store {
	GDBM_FILE db;                  /* what reads and writes use */
	GDBM_FILE other;               /* a writer's good copy, for steps 4 */
	int write;
	int depth;                     /* transactions begun inside this one */
	uint32_t wmask;                /* which of them write */
	int ctlfd;
	struct ctl ctl;
	int cut;                       /* the other copy may be half-changed */
	int dirty;                     /* the other copy is being changed */
	struct keyset touched;
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

/* ---- the set of touched keys ---- */

static size_t
key_hash(const char *k)
{
	size_t h = 1469598103934665603ULL;

	while (*k)
		h = (h ^ (unsigned char)*k++) * 1099511628211ULL;
	return h;
}

static void
keyset_add(struct keyset *s, const char *k)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		struct keyset t = { sm_xcalloc(s->cap ? 2 * s->cap : 64,
		    sizeof *t.v), 0, s->cap ? 2 * s->cap : 64 };
		for (i = 0; i < s->cap; i++)
			if (s->v[i]) {
				size_t j = key_hash(s->v[i]) & (t.cap - 1);
				while (t.v[j])
					j = (j + 1) & (t.cap - 1);
				t.v[j] = s->v[i];
				t.n++;
			}
		free(s->v);
		*s = t;
	}
	for (i = key_hash(k) & (s->cap - 1); s->v[i]; i = (i + 1) & (s->cap - 1))
		if (strcmp(s->v[i], k) == 0)
			return;
	s->v[i] = sm_xstrdup(k);
	s->n++;
}

static void
keyset_free(struct keyset *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* ---- the control file ---- */

static char *
copy_path(const sm_portal *p, int i)
{
	return sm_xasprintf("%s/store.%d.db", p->dir, i);
}

static void
ctl_sum(unsigned char out[32], const unsigned char *slot)
{
	static const char label[] = "smail-store-ctl-v2";

	crypto_generichash(out, 32, slot, CTL_SUMMED,
	    (const unsigned char *)label, sizeof label - 1);
}

/*
 * This boot, as 16 bytes: the kernel's boot id (a new one at every
 * boot), or SMAIL_BOOT_ID, with which the power-cut tests say that the
 * machine came back from the cut.  Unreadable, it is all zeros, and a
 * power cut goes unseen (doc/reliability.md).
 */
static const unsigned char *
this_boot(void)
{
	static unsigned char id[16];
	static int known;
	const char *env = getenv("SMAIL_BOOT_ID");
	char buf[64];
	ssize_t n = 0;
	int fd;

	if (known)
		return id;
	if (env && *env) {
		crypto_generichash(id, sizeof id, (const unsigned char *)env,
		    strlen(env), NULL, 0);
	} else if ((fd = open("/proc/sys/kernel/random/boot_id",
	    O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, buf, sizeof buf);
		close(fd);
		if (n > 0)
			crypto_generichash(id, sizeof id, (unsigned char *)buf,
			    (size_t)n, NULL, 0);
	}
	known = 1;
	return id;
}

static void
ctl_encode(unsigned char slot[CTL_BYTES], const struct ctl *c)
{
	uint64_t v = c->seq;
	int i;

	memset(slot, 0, CTL_BYTES);
	memcpy(slot, CTL_MAGIC, 4);
	for (i = 11; i >= 4; i--, v >>= 8)
		slot[i] = (unsigned char)v;
	slot[12] = (unsigned char)c->good;
	memcpy(slot + 16, c->boot, 16);
	ctl_sum(slot + CTL_SUMMED, slot);
}

static int
ctl_decode(const unsigned char *slot, struct ctl *c)
{
	unsigned char sum[32];
	int i;

	if (memcmp(slot, CTL_MAGIC, 4) != 0)
		return -1;
	ctl_sum(sum, slot);
	if (sodium_memcmp(sum, slot + CTL_SUMMED, 32) != 0 || slot[12] > 1)
		return -1;
	c->seq = 0;
	for (i = 4; i < 12; i++)
		c->seq = c->seq << 8 | slot[i];
	c->good = slot[12];
	memcpy(c->boot, slot + 16, 16);
	return 0;
}

/* The newer of the two slots that check. */
static int
ctl_read(sm_portal *p, int fd, struct ctl *c)
{
	unsigned char slot[2][CTL_BYTES];
	struct ctl s[2];
	int ok[2], i;

	for (i = 0; i < 2; i++)
		ok[i] = pread(fd, slot[i], CTL_BYTES, (off_t)i * CTL_SLOT) ==
		    CTL_BYTES && ctl_decode(slot[i], &s[i]) == 0;
	if (!ok[0] && !ok[1])
		return sm_err(EX_IOERR, "%s/store.ctl: damaged (neither slot "
		    "checks): the store cannot tell its good copy", p->dir);
	i = ok[0] && ok[1] ? s[1].seq > s[0].seq : ok[1];
	*c = s[i];
	return 0;
}

/* The next state, naming GOOD in this boot, into the slot after the
 * last one, synced: a torn write leaves the state before it. */
static int
ctl_write(sm_portal *p, int fd, struct ctl *c, int good)
{
	unsigned char slot[CTL_BYTES];
	struct ctl n = { c->seq + 1, good, { 0 } };

	memcpy(n.boot, this_boot(), 16);
	ctl_encode(slot, &n);
	if (pwrite(fd, slot, CTL_BYTES, (off_t)(n.seq % 2) * CTL_SLOT) != CTL_BYTES ||
	    fdatasync(fd) < 0)
		return sm_err(EX_IOERR, "%s/store.ctl: %s", p->dir, strerror(errno));
	*c = n;
	return 0;
}

/* The lock file's first byte: '1' while the copy that is not the good
 * one may be half-changed; a kill leaves it so. */
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
marked(sm_portal *p)
{
	char c = 0;

	return pread(p->lockfd, &c, 1, 0) == 1 && c == '1';
}

/* May the copy that is not the good one be half-changed: a crash in a
 * transaction (the mark), or a boot since the control file was written
 * (a power cut, or a reboot: nothing says the copy reached the disk)? */
static int
cut_short(sm_portal *p, const struct ctl *c)
{
	return marked(p) || sodium_memcmp(c->boot, this_boot(), 16) != 0;
}

/* A new control file at DIR/store.ctl naming copy 0, synced; written
 * under another name first, so that it appears whole or not at all. */
static int
ctl_create(const char *dir)
{
	unsigned char page[2 * CTL_SLOT];
	struct ctl c = { 1, 0, { 0 } };
	char *path = sm_xasprintf("%s/store.ctl", dir);
	char *tmp = sm_xasprintf("%s.new", path);
	int rc;

	memset(page, 0, sizeof page);
	memcpy(c.boot, this_boot(), 16);
	ctl_encode(page + CTL_SLOT, &c);
	unlink(tmp);
	if ((rc = sm_write_file(tmp, page, sizeof page)) == 0 &&
	    rename(tmp, path) < 0)
		rc = sm_err(EX_IOERR, "%s: %s", path, strerror(errno));
	if (rc)
		unlink(tmp);
	free(path);
	free(tmp);
	return rc;
}

/* ---- whole copies ---- */

/* Copies FROM into a new file TO (O_EXCL), synced. */
static int
file_copy(const char *from, const char *to)
{
	int in, out, rc = 0;
	struct stat st;
	off_t done = 0;

	if ((in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return sm_err(EX_IOERR, "%s: %s", from, strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = sm_err(EX_IOERR, "%s: %s", to, strerror(errno));
		close(in);
		return rc;
	}
	if (fstat(in, &st) < 0)
		rc = sm_err(EX_IOERR, "%s: %s", from, strerror(errno));
	while (rc == 0 && done < st.st_size) {
		ssize_t n = copy_file_range(in, NULL, out, NULL,
		    (size_t)(st.st_size - done), 0);
		if (n < 0 && (errno == EXDEV || errno == ENOSYS ||
		    errno == EOPNOTSUPP || errno == EINVAL)) {
			char buf[1 << 16];
			n = pread(in, buf, sizeof buf, done);
			if (n > 0 && pwrite(out, buf, (size_t)n, done) != n)
				n = -1;
		}
		if (n <= 0) {
			rc = sm_err(EX_IOERR, "%s: copy: %s", to,
			    n < 0 ? strerror(errno) : "short file");
			break;
		}
		done += n;
	}
	if (rc == 0 && fsync(out) < 0)
		rc = sm_err(EX_IOERR, "%s: %s", to, strerror(errno));
	close(out);
	close(in);
	if (rc)
		unlink(to);
	return rc;
}

/* Replaces copy TO with a copy of FROM; the old file stays aside (as
 * store.N.db.damaged) until the new one is in place.  WHY, when given,
 * is said in a warning. */
static int
rebuild(sm_portal *p, int from, int to, const char *why)
{
	char *src = copy_path(p, from), *dst = copy_path(p, to);
	char *tmp = sm_xasprintf("%s.new", dst), *aside = sm_xasprintf("%s.damaged", dst);
	int rc;

	unlink(tmp);
	if (rename(dst, aside) < 0 && errno != ENOENT)
		rc = sm_err(EX_IOERR, "%s: %s", dst, strerror(errno));
	else if ((rc = file_copy(src, tmp)) == 0) {
		if (rename(tmp, dst) < 0)
			rc = sm_err(EX_IOERR, "%s: %s", dst, strerror(errno));
		else if ((rc = sm_fsync_dir(p->dir)) == 0) {
			unlink(aside);
			if (why)
				sm_warn("%s: store.%d.db rebuilt from store.%d.db "
				    "(%s; nothing lost)", p->dir, to, from, why);
		}
	}
	free(src);
	free(dst);
	free(tmp);
	free(aside);
	return rc;
}

/* ---- the lock ---- */

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
db_open_path(const char *path, int write, GDBM_FILE *out)
{
	int fd, flags;
	GDBM_FILE db;

	fd = open(path, (write ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sm_err(EX_IOERR, "%s: %s", path, strerror(errno));
	flags = (write ? GDBM_WRITER : GDBM_READER) | GDBM_NOLOCK |
	    GDBM_NOMMAP | GDBM_CLOEXEC | GDBM_CLOERROR;
	db = gdbm_fd_open(fd, path, 0, flags, NULL);
	if (!db)
		return sm_err(EX_IOERR, "%s: %s", path, gdbm_strerror(gdbm_errno));
	*out = db;
	return 0;
}

static int
db_open(sm_portal *p, int i, int write, GDBM_FILE *out)
{
	char *path = copy_path(p, i);
	int rc = db_open_path(path, write, out);

	free(path);
	return rc;
}

/* ---- the layout before two copies: store.db alone ---- */

/*
 * A portal made before the store had two copies holds store.db and
 * marks a GDBM call under way with the lock file's first byte.  Under
 * the exclusive lock, the first writer finishes what such a crash left
 * (gdbm_recover copies the readable records into a new file), then
 * makes both copies from it and the control file, and removes it.
 */
static int
migrate(sm_portal *p)
{
	char *old = sm_portal_path(p, "store.db"), *c0 = copy_path(p, 0);
	char *c1 = copy_path(p, 1), *t0 = sm_xasprintf("%s.new", c0);
	char *t1 = sm_xasprintf("%s.new", c1);
	GDBM_FILE db;
	int rc;

	if ((rc = db_open_path(old, 1, &db)) != 0)
		goto out;
	/* The old layout's mark: a GDBM call was cut short. */
	if (gdbm_needs_recovery(db) || marked(p)) {
		gdbm_recovery rcvr;
		memset(&rcvr, 0, sizeof rcvr);
		if (gdbm_recover(db, &rcvr, GDBM_RCVR_FORCE) != 0) {
			rc = sm_err(EX_IOERR, "%s: cannot recover: %s", old,
			    gdbm_strerror(gdbm_errno));
			gdbm_close(db);
			goto out;
		}
		sm_warn("%s: recovered after a crash (%zu records kept, %zu "
		    "unreadable)", old, rcvr.recovered_keys, rcvr.failed_keys);
	}
	if (gdbm_sync(db) != 0 || gdbm_close(db) != 0) {
		rc = sm_err(EX_IOERR, "%s: %s", old, gdbm_strerror(gdbm_errno));
		goto out;
	}
	unlink(t0);
	unlink(t1);
	if ((rc = file_copy(old, t0)) != 0 || (rc = file_copy(old, t1)) != 0)
		goto out;
	if (rename(t0, c0) < 0 || rename(t1, c1) < 0) {
		rc = sm_err(EX_IOERR, "%s: %s", p->dir, strerror(errno));
		goto out;
	}
	if ((rc = sm_fsync_dir(p->dir)) != 0 || (rc = ctl_create(p->dir)) != 0 ||
	    (rc = sm_fsync_dir(p->dir)) != 0)
		goto out;
	unlink(old);
	if ((rc = mark(p, '0')) == 0)
		rc = sm_fsync_dir(p->dir);
out:
	free(old);
	free(c0);
	free(c1);
	free(t0);
	free(t1);
	return rc;
}

/* Opens the control file (making the two copies first when the store
 * has only store.db and this is a writer).  1: the old layout, for a
 * reader. */
static int
ctl_open(sm_portal *p, int write, int *fd)
{
	char *path = sm_portal_path(p, "store.ctl");
	int rc = 0;

	*fd = open(path, (write ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0 && errno == ENOENT) {
		char *old = sm_portal_path(p, "store.db");
		int have_old = access(old, F_OK) == 0;
		free(old);
		if (!have_old)
			rc = sm_err(EX_IOERR, "%s: no store (store.ctl is missing)",
			    p->dir);
		else if (!write)
			rc = 1;
		else if ((rc = migrate(p)) == 0 && (*fd = open(path, O_RDWR |
		    O_NOFOLLOW | O_CLOEXEC)) < 0)
			rc = sm_err(EX_IOERR, "%s: %s", path, strerror(errno));
	} else if (*fd < 0)
		rc = sm_err(EX_IOERR, "%s: %s", path, strerror(errno));
	free(path);
	return rc;
}

/* ---- transactions ---- */

static void
store_free(sm_portal *p)
{
	struct sm_store *s = p->st;

	if (s->db)
		gdbm_close(s->db);
	if (s->other)
		gdbm_close(s->other);
	if (s->ctlfd >= 0)
		close(s->ctlfd);
	keyset_free(&s->touched);
	free(s);
	p->st = NULL;
	flock(p->lockfd, LOCK_UN);
}

static int
begin_read(sm_portal *p, struct sm_store *s)
{
	int rc;

	if ((rc = ctl_open(p, 0, &s->ctlfd)) == 1) {
		char *old = sm_portal_path(p, "store.db");
		rc = db_open_path(old, 0, &s->db);
		free(old);
		return rc;
	}
	if (rc || (rc = ctl_read(p, s->ctlfd, &s->ctl)) != 0)
		return rc;
	s->cut = cut_short(p, &s->ctl);
	if ((rc = db_open(p, s->ctl.good, 0, &s->db)) != 0)
		return rc;
	/* The good copy damaged (a disk that lost a write it said it had
	 * made): at rest, the other one holds the same. */
	if (gdbm_needs_recovery(s->db) && !s->cut) {
		gdbm_close(s->db);
		s->db = NULL;
		sm_warn("%s/store.%d.db: damaged; reading store.%d.db", p->dir,
		    s->ctl.good, 1 - s->ctl.good);
		return db_open(p, 1 - s->ctl.good, 0, &s->db);
	}
	return 0;
}

/* A writer reads the good copy until its first write (at rest the two
 * hold the same records), so that a transaction that ends up writing
 * nothing touches neither copy nor the control file. */
static int
begin_write(sm_portal *p, struct sm_store *s)
{
	int rc, o;

	if ((rc = ctl_open(p, 1, &s->ctlfd)) != 0 ||
	    (rc = ctl_read(p, s->ctlfd, &s->ctl)) != 0)
		return rc;
	o = 1 - s->ctl.good;
	if (cut_short(p, &s->ctl)) {
		/* A change to the other copy was cut short, or the machine
		 * rebooted since: it starts again as a copy of the good one,
		 * and the control file then names this boot. */
		if ((rc = rebuild(p, s->ctl.good, o, marked(p) ? "a change to "
		    "it was cut short" : "the machine restarted since the last "
		    "change")) != 0 ||
		    (rc = ctl_write(p, s->ctlfd, &s->ctl, s->ctl.good)) != 0 ||
		    (rc = mark(p, '0')) != 0)
			return rc;
	}
	if ((rc = db_open(p, s->ctl.good, 0, &s->db)) != 0)
		return rc;
	if (gdbm_needs_recovery(s->db)) {
		/* The good copy damaged (a disk that lost a write it said it
		 * had made): at rest, the other one holds the same. */
		gdbm_close(s->db);
		s->db = NULL;
		if ((rc = rebuild(p, o, s->ctl.good, "GDBM found it damaged")) != 0 ||
		    (rc = db_open(p, s->ctl.good, 0, &s->db)) != 0)
			return rc;
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
	s->ctlfd = -1;
	p->st = s;
	rc = write ? begin_write(p, s) : begin_read(p, s);
	if (rc) {
		store_free(p);
		return rc;
	}
	return 0;
}

/* Before the first write: the mark, and the transaction turns to the
 * other copy; a little room is reserved for the small writes of any
 * transaction (when the disk is full they may still fit in what
 * earlier reserves left, so that reading an inbox keeps working). */
static int
first_write(sm_portal *p)
{
	struct sm_store *s = p->st;
	GDBM_FILE w;
	int rc, o;

	if (!s->write)
		return sm_err(EX_SOFTWARE, "store: write in a read transaction");
	if (s->dirty)
		return 0;
	o = 1 - s->ctl.good;
	if ((rc = mark(p, '1')) != 0 || (rc = db_open(p, o, 1, &w)) != 0)
		return rc;
	if (gdbm_needs_recovery(w)) {
		gdbm_close(w);
		if ((rc = rebuild(p, s->ctl.good, o, "GDBM found it damaged")) != 0 ||
		    (rc = db_open(p, o, 1, &w)) != 0)
			return rc;
	}
	/* From here on the transaction reads and writes the other copy. */
	gdbm_close(s->db);
	s->db = w;
	s->dirty = 1;
	sm_store_reserve_quiet(p, 64 << 10);
	return 0;
}

/*
 * Reserves disk space past the end of the store for the writes to come
 * (fallocate with KEEP_SIZE), so that a full disk is found before the
 * first write, not in the middle of one.  Both copies take the writes.
 */
static void
sm_store_reserve_quiet(sm_portal *p, uint64_t bytes)
{
	int fd = gdbm_fdesc(p->st->db);
	struct stat st;

	if (fstat(fd, &st) == 0)
		(void)fallocate(fd, FALLOC_FL_KEEP_SIZE, st.st_size, (off_t)bytes);
}

static int
reserve_copy(sm_portal *p, int i, uint64_t bytes)
{
	char *path = copy_path(p, i);
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC), rc = 0;
	struct stat st;
	struct statvfs vs;

	free(path);
	if (fd < 0)
		return sm_err(EX_IOERR, "%s/store.%d.db: %s", p->dir, i, strerror(errno));
	if (fstat(fd, &st) < 0)
		rc = sm_err(EX_IOERR, "%s/store.%d.db: %s", p->dir, i, strerror(errno));
	else if (fallocate(fd, FALLOC_FL_KEEP_SIZE, st.st_size, (off_t)bytes) < 0) {
		if (errno == ENOSPC || (fstatvfs(fd, &vs) == 0 &&
		    (uint64_t)vs.f_bavail * vs.f_frsize < 2 * bytes))
			rc = sm_err(EX_IOERR, "%s: no space left on the device for "
			    "%llu more bytes; nothing was stored", p->dir,
			    (unsigned long long)bytes);
	}
	close(fd);
	return rc;
}

int
sm_store_reserve(sm_portal *p, uint64_t bytes)
{
	int rc;

	bytes += 1 << 20;              /* GDBM's own growth: buckets, directory */
	if (!p->st->ctl.seq)           /* the old layout, read only */
		return 0;
	if ((rc = reserve_copy(p, 1 - p->st->ctl.good, bytes)) == 0)
		rc = reserve_copy(p, p->st->ctl.good, bytes);
	return rc;
}

/* ---- records ---- */

/* GDBM calls that change a copy, with zeros over a value first. */
static int
db_zero(GDBM_FILE db, datum k, int *found)
{
	datum v = gdbm_fetch(db, k);
	int rc;

	*found = v.dptr != NULL;
	if (!v.dptr)
		return gdbm_errno == GDBM_ITEM_NOT_FOUND ? 0 : -1;
	sodium_memzero(v.dptr, (size_t)v.dsize);
	rc = gdbm_store(db, k, v, GDBM_REPLACE);
	free(v.dptr);
	return rc;
}

static int
db_put(GDBM_FILE db, datum k, datum v)
{
	datum old;
	int r;

	/* Most records are new (a message's chunks): one call. */
	if ((r = gdbm_store(db, k, v, GDBM_INSERT)) != 1)
		return r;
	/* A value of another size goes elsewhere in the file: zeros over
	 * the old one first, in its place. */
	if (!(old = gdbm_fetch(db, k)).dptr)
		return -1;
	r = 0;
	if (old.dsize != v.dsize) {
		sodium_memzero(old.dptr, (size_t)old.dsize);
		r = gdbm_store(db, k, old, GDBM_REPLACE);
	}
	free(old.dptr);
	return r ? r : gdbm_store(db, k, v, GDBM_REPLACE);
}

static int
db_del(GDBM_FILE db, datum k)
{
	int found;

	if (db_zero(db, k, &found) != 0)
		return -1;
	return found ? gdbm_delete(db, k) : 0;
}

static int
db_error(sm_portal *p, GDBM_FILE db, const char *what)
{
	return sm_err(EX_IOERR, "%s/store: %s: %s", p->dir, what,
	    gdbm_strerror(gdbm_last_errno(db)));
}

int
sm_store_get(sm_portal *p, const char *key, unsigned char **out, size_t *outlen)
{
	datum k = { (char *)key, (int)strlen(key) }, v;

	v = gdbm_fetch(p->st->db, k);
	if (v.dptr) {
		*out = (unsigned char *)v.dptr;
		*outlen = (size_t)v.dsize;
		return 0;
	}
	if (gdbm_errno == GDBM_ITEM_NOT_FOUND)
		return 1;
	return db_error(p, p->st->db, "fetch");
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
	int rc;

	if (n > 0x7fffffff)
		return sm_err(EX_SOFTWARE, "store: record too large");
	if ((rc = first_write(p)) != 0)
		return rc;
	keyset_add(&p->st->touched, key);
	if (db_put(p->st->db, k, v) != 0)
		return db_error(p, p->st->db, "store");
	return 0;
}

/* Zeros over the value, in place (the record stays, of the same size). */
int
sm_store_zero(sm_portal *p, const char *key)
{
	datum k = { (char *)key, (int)strlen(key) };
	int rc, found;

	if (!sm_store_exists(p, key))
		return 0;
	if ((rc = first_write(p)) != 0)
		return rc;
	keyset_add(&p->st->touched, key);
	if (db_zero(p->st->db, k, &found) != 0)
		return db_error(p, p->st->db, "store");
	return 0;
}

/* Deletes KEY, its value overwritten with zeros first. */
int
sm_store_remove(sm_portal *p, const char *key)
{
	datum k = { (char *)key, (int)strlen(key) };
	int rc;

	if (!sm_store_exists(p, key))
		return 0;
	if ((rc = first_write(p)) != 0)
		return rc;
	keyset_add(&p->st->touched, key);
	if (db_del(p->st->db, k) != 0)
		return db_error(p, p->st->db, "delete");
	return 0;
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
		rc = sm_err(EX_IOERR, "%s/store: iterate: %s", p->dir,
		    gdbm_strerror(gdbm_errno));
	for (i = 0; i < n; i++) {
		if (rc == 0)
			rc = fn(p, keys[i], arg);
		free(keys[i]);
	}
	free(keys);
	return rc;
}

/* ---- commit and abort ---- */

/* Every touched key of FROM copied into TO (or deleted there). */
static int
replay(sm_portal *p, const struct keyset *ks, GDBM_FILE from, GDBM_FILE to)
{
	size_t i;

	for (i = 0; i < ks->cap; i++) {
		datum k, v;
		int r;
		if (!ks->v[i])
			continue;
		k = (datum){ ks->v[i], (int)strlen(ks->v[i]) };
		v = gdbm_fetch(from, k);
		if (v.dptr) {
			r = db_put(to, k, v);
			sodium_memzero(v.dptr, (size_t)v.dsize);
			free(v.dptr);
		} else if (gdbm_errno == GDBM_ITEM_NOT_FOUND)
			r = db_del(to, k);
		else
			return db_error(p, from, "fetch");
		if (r != 0)
			return db_error(p, to, "store");
	}
	return 0;
}

static int
db_sync(sm_portal *p, GDBM_FILE db)
{
	if (gdbm_sync(db) != 0)
		return db_error(p, db, "sync");
	return 0;
}

int
sm_store_commit(sm_portal *p)
{
	struct sm_store *s = p->st;
	int rc, o;

	if (!s)
		return 0;
	if (s->depth) {
		s->depth--;
		return 0;
	}
	if (!s->write || !s->dirty) {
		store_free(p);
		return 0;
	}
	o = 1 - s->ctl.good;
	if (p->on_commit && (rc = p->on_commit(p, 0)) != 0) {
		sm_store_end(p);
		return rc;
	}
	/* The other copy on disk, then named good: the commit point.  (A
	 * failure before that leaves the mark: the next writer rebuilds.) */
	if ((rc = db_sync(p, s->db)) != 0 ||
	    (rc = ctl_write(p, s->ctlfd, &s->ctl, o)) != 0) {
		store_free(p);
		return rc;
	}
	if (p->on_commit)
		p->on_commit(p, 1);
	/* The old copy takes the same records, not synced (a power cut
	 * means a reboot, after which it is made again anyway).  Should
	 * that fail, the transaction stands, and the mark stays for the
	 * next writer. */
	if (db_open(p, 1 - o, 1, &s->other) == 0 &&
	    replay(p, &s->touched, s->db, s->other) == 0)
		mark(p, '0');
	else
		sm_warn("%s: the store's second copy lags; the next command "
		    "that writes rebuilds it", p->dir);
	store_free(p);
	return 0;
}

/* A writer that gives up after writing: the good copy's records go back
 * over what it touched, so that both copies are at rest again. */
static void
undo(sm_portal *p)
{
	struct sm_store *s = p->st;

	if (db_open(p, s->ctl.good, 0, &s->other) == 0 &&
	    replay(p, &s->touched, s->other, s->db) == 0)
		mark(p, '0');
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
	if (s->write && s->dirty)
		undo(p);
	store_free(p);
}

/* Inside a transaction: was a change to the store cut short, so that
 * the next writer rebuilds a copy?  (For smail-admin check.) */
int
sm_store_cut_short(sm_portal *p)
{
	return p->st && p->st->ctl.seq && p->st->cut;
}

/* ---- making, dumping, loading, compacting ---- */

static int
db_create(const char *path, GDBM_FILE *out)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	GDBM_FILE db;

	if (fd < 0)
		return sm_err(EX_CANTCREAT, "%s: %s", path, strerror(errno));
	db = gdbm_fd_open(fd, path, 0, GDBM_NEWDB | GDBM_NOLOCK | GDBM_NOMMAP |
	    GDBM_CLOEXEC | GDBM_CLOERROR, NULL);
	if (!db)
		return sm_err(EX_CANTCREAT, "%s: %s", path, gdbm_strerror(gdbm_errno));
	*out = db;
	return 0;
}

/* Copy 0 made, it becomes copy 1 too, and the control file names it. */
static int
finish_create(const char *dir, GDBM_FILE db, const char *c0, int rc)
{
	char *c1 = sm_xasprintf("%s/store.1.db", dir);

	if (gdbm_sync(db) != 0 && rc == 0)
		rc = sm_err(EX_IOERR, "%s: %s", c0, gdbm_strerror(gdbm_errno));
	if (gdbm_close(db) != 0 && rc == 0)
		rc = sm_err(EX_IOERR, "%s: %s", c0, gdbm_strerror(gdbm_errno));
	if (rc == 0 && (rc = file_copy(c0, c1)) == 0 &&
	    (rc = ctl_create(dir)) == 0)
		rc = sm_fsync_dir(dir);
	free(c1);
	return rc;
}

/* An empty store in DIR. */
int
sm_store_create(const char *dir)
{
	char *c0 = sm_xasprintf("%s/store.0.db", dir);
	GDBM_FILE db;
	int rc;

	if ((rc = db_create(c0, &db)) == 0)
		rc = finish_create(dir, db, c0, 0);
	free(c0);
	return rc;
}

/* The store in GDBM's portable dump format (inside a transaction). */
int
sm_store_dump(sm_portal *p, FILE *out)
{
	if (gdbm_dump_to_file(p->st->db, out, GDBM_DUMP_FMT_ASCII) != 0)
		return sm_err(EX_IOERR, "%s/store: dump: %s", p->dir,
		    gdbm_strerror(gdbm_errno));
	return 0;
}

/* A store in DIR from a dump. */
int
sm_store_load(const char *dir, FILE *in)
{
	char *c0 = sm_xasprintf("%s/store.0.db", dir);
	unsigned long line = 0;
	GDBM_FILE db;
	int rc;

	if ((rc = db_create(c0, &db)) == 0) {
		if (gdbm_load_from_file(&db, in, 1, GDBM_META_MASK_MODE |
		    GDBM_META_MASK_OWNER, &line) != 0)
			rc = sm_err(EX_DATAERR, "store dump, line %lu: %s", line,
			    gdbm_strerror(gdbm_errno));
		rc = finish_create(dir, db, c0, rc);
	}
	free(c0);
	return rc;
}

/*
 * Gives the space of deleted records back: the good copy's records
 * into a new file that takes the other copy's place (marked as being
 * changed, then named good), then the old good copy rebuilt from it.
 * A write transaction of its own.
 */
int
sm_store_reorganize(sm_portal *p)
{
	struct sm_store *s;
	char *path, *tmp;
	GDBM_FILE db = NULL;
	datum k, next;
	int rc, o;

	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	s = p->st;
	o = 1 - s->ctl.good;
	path = copy_path(p, o);
	tmp = sm_xasprintf("%s.new", path);
	unlink(tmp);
	gdbm_close(s->db);
	s->db = NULL;
	if ((rc = db_open(p, s->ctl.good, 0, &s->other)) != 0 ||
	    (rc = db_create(tmp, &db)) != 0)
		goto out;
	for (k = gdbm_firstkey(s->other); k.dptr; k = next) {
		datum v = gdbm_fetch(s->other, k);
		if (rc == 0 && (!v.dptr || gdbm_store(db, k, v, GDBM_INSERT) != 0))
			rc = sm_err(EX_IOERR, "%s: reorganize: %s", tmp,
			    gdbm_strerror(gdbm_errno));
		if (v.dptr) {
			sodium_memzero(v.dptr, (size_t)v.dsize);
			free(v.dptr);
		}
		next = rc ? (datum){ NULL, 0 } : gdbm_nextkey(s->other, k);
		free(k.dptr);
	}
	if (rc == 0 && gdbm_errno != GDBM_ITEM_NOT_FOUND &&
	    gdbm_errno != GDBM_NO_ERROR)
		rc = sm_err(EX_IOERR, "%s: reorganize: %s", tmp,
		    gdbm_strerror(gdbm_errno));
	if (rc == 0 && gdbm_sync(db) != 0)
		rc = sm_err(EX_IOERR, "%s: %s", tmp, gdbm_strerror(gdbm_errno));
	gdbm_close(db);
	db = NULL;
	if (rc)
		goto out;
	/* The new file in the other copy's place, then named good; then
	 * the old good copy made again from it. */
	if ((rc = mark(p, '1')) != 0)
		goto out;
	if (rename(tmp, path) < 0) {
		rc = sm_err(EX_IOERR, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((rc = sm_fsync_dir(p->dir)) != 0 ||
	    (rc = ctl_write(p, s->ctlfd, &s->ctl, o)) != 0)
		goto out;
	if (rebuild(p, o, 1 - o, NULL) == 0)
		mark(p, '0');
out:
	if (rc)
		unlink(tmp);
	free(path);
	free(tmp);
	s->dirty = 0;
	store_free(p);
	return rc;
}
