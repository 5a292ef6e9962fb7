/* util.c: errors, memory, strings, time, durations, files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "smail.h"

const char *sm_progname = "smail";
int sm_quiet;
const char *sm_errctx;
int sm_silent;

void
sm_init(const char *argv0)
{
	struct rlimit rl = { 0, 0 };
	const char *s;

	s = strrchr(argv0, '/');
	sm_progname = s ? s + 1 : argv0;
	umask(077);
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (getuid() != geteuid() || getgid() != getegid())
		sm_die(EX_CONFIG, "refusing to run set-id");
	if (sodium_init() < 0)
		sm_die(EX_SOFTWARE, "cannot initialise libsodium");
	/* Chunks come from the store as fresh 64 KiB allocations, hundreds
	 * per large message: keep them on the heap and the heap mapped,
	 * rather than fault new pages in for each (measured: a third of a
	 * 30 MiB fetch's system time). */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
}

static void
vmsg(const char *kind, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	if (sm_silent)
		return;
	/* A message goes on a line of its own, not over a progress line. */
	if (sm_progress_now && sm_progress_now->drawn) {
		fputs("\r\033[K", stderr);
		sm_progress_now->drawn = 0;
	}
	n = snprintf(line, sizeof line, "%s: %s%s%s", sm_progname,
	    kind, sm_errctx ? sm_errctx : "", sm_errctx ? ": " : "");
	if (n < 0 || (size_t)n >= sizeof line)
		n = 0;
	vsnprintf(line + n, sizeof line - n, fmt, ap);
	/* Names and subjects in a message may come from a partner: their
	 * control characters never reach the terminal (show.c). */
	sm_field_str(line);
	fprintf(stderr, "%s\n", line);
}

int
sm_err(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	return code;
}

void
sm_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void
sm_note(const char *fmt, ...)
{
	va_list ap;

	if (sm_quiet)
		return;
	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void
sm_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	exit(code);
}

void *
sm_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		sm_die(EX_OSERR, "out of memory");
	return p;
}

void *
sm_xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (!p)
		sm_die(EX_OSERR, "out of memory");
	return p;
}

void *
sm_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		sm_die(EX_OSERR, "out of memory");
	return p;
}

char *
sm_xstrdup(const char *s)
{
	return sm_xstrndup(s, strlen(s));
}

char *
sm_xstrndup(const char *s, size_t n)
{
	char *p = sm_xmalloc(n + 1);

	if (n)
		memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *
sm_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		sm_die(EX_OSERR, "out of memory");
	va_end(ap);
	return s;
}

void
sm_freestr(char *s)
{
	if (!s)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}

void *
sm_secret_alloc(size_t n)
{
	void *p = sodium_malloc(n);

	if (!p)
		sm_die(EX_OSERR, "out of memory for secrets");
	memset(p, 0, n);
	return p;
}

void
sm_secret_free(void *p)
{
	sodium_free(p);
}

int64_t
sm_now(void)
{
	return (int64_t)time(NULL);
}

void
sm_fmt_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "%lld", (long long)t);
}

int
sm_parse_duration(const char *s, int64_t *out)
{
	const char *p = s;
	int64_t v = 0, mul;

	if (!*p || *p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		if (v > INT64_MAX / 10 - 10)
			return -1;
		v = v * 10 + (*p++ - '0');
	}
	switch (*p++) {
	case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	case 'w': mul = 7 * 86400; break;
	default: return -1;
	}
	if (*p)
		return -1;
	if (v > INT64_MAX / mul / 4)
		return -1;
	*out = v * mul;
	return 0;
}

void
sm_fmt_duration(int64_t s, char out[48])
{
	static const struct { int64_t n; const char *unit; } u[] = {
		{ 7 * 86400, "week" }, { 86400, "day" }, { 3600, "hour" },
		{ 60, "minute" }, { 1, "second" },
	};
	size_t i;

	for (i = 0; i < sizeof u / sizeof u[0]; i++)
		if (s >= u[i].n && s % u[i].n == 0)
			break;
	if (i == sizeof u / sizeof u[0])
		i = sizeof u / sizeof u[0] - 1;
	snprintf(out, 48, "%lld %s%s", (long long)(s / u[i].n), u[i].unit,
	    s / u[i].n == 1 ? "" : "s");
}

void
sm_hex(char *out, const unsigned char *in, size_t n)
{
	sodium_bin2hex(out, 2 * n + 1, in, n);
}

char *
sm_b64(const unsigned char *in, size_t n)
{
	size_t len = sodium_base64_ENCODED_LEN(n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *s = sm_xmalloc(len);

	sodium_bin2base64(s, len, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return s;
}

int
sm_unb64(unsigned char *out, size_t outlen, const char *in, size_t inlen)
{
	size_t bin, i;
	const char *end;

	/* libsodium takes bytes above 0x7f for digits: check the alphabet. */
	for (i = 0; i < inlen; i++) {
		char c = in[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return -1;
	}
	if (sodium_base642bin(out, outlen, in, inlen, NULL, &bin, &end,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return -1;
	if (end != in + inlen || bin != outlen)
		return -1;
	return 0;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
write_new(const char *path, const void *p, size_t n, int sync)
{
	int fd, e;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return sm_err(errno == EEXIST ? EX_CANTCREAT : EX_IOERR,
		    "%s: %s", path, strerror(errno));
	if (write_all(fd, p, n) < 0 || (sync && fsync(fd) < 0)) {
		e = errno;
		close(fd);
		unlink(path);
		return sm_err(EX_IOERR, "%s: %s", path, strerror(e));
	}
	if (close(fd) < 0)
		return sm_err(EX_IOERR, "%s: %s", path, strerror(errno));
	return 0;
}

int
sm_write_file(const char *path, const void *p, size_t n)
{
	return write_new(path, p, n, 1);
}

/* For a group of files made durable together (syncfs). */
int
sm_write_file_nosync(const char *path, const void *p, size_t n)
{
	return write_new(path, p, n, 0);
}

int
sm_replace_file(const char *path, const void *p, size_t n)
{
	char *tmp = sm_xasprintf("%s.tmp%ld", path, (long)getpid());
	int rc;

	unlink(tmp);
	rc = sm_write_file(tmp, p, n);
	if (rc == 0 && rename(tmp, path) < 0) {
		rc = sm_err(EX_IOERR, "%s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

int
sm_read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	int fd;
	struct stat st;
	sm_buf b = { 0 };
	char chunk[8192];
	ssize_t r;

	/* Files a user names may be links; the portal's own are checked
	 * when it opens. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sm_err(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s: %s",
		    path, strerror(errno));
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		close(fd);
		return sm_err(EX_NOINPUT, "%s: a directory", path);
	}
	for (;;) {
		r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			sm_buf_free(&b);
			return sm_err(EX_IOERR, "%s: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		if (b.len + (size_t)r > max) {
			close(fd);
			sm_buf_free(&b);
			return sm_err(EX_DATAERR, "%s: too large", path);
		}
		sm_buf_put(&b, chunk, (size_t)r);
	}
	close(fd);
	sm_buf_putc(&b, 0);
	*out = (char *)b.p;
	if (outlen)
		*outlen = b.len - 1;
	return 0;
}

int
sm_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return sm_err(EX_IOERR, "%s: %s", dir, strerror(errno));
	if (fsync(fd) < 0 && errno != EINVAL) {
		int e = errno;
		close(fd);
		return sm_err(EX_IOERR, "%s: %s", dir, strerror(e));
	}
	close(fd);
	return 0;
}

int
sm_mkdirs(const char *path)
{
	char *p = sm_xstrdup(path), *s;

	for (s = p + 1; ; s++) {
		if (*s == '/' || !*s) {
			char c = *s;
			*s = 0;
			if (mkdir(p, 0700) < 0 && errno != EEXIST) {
				int e = errno;
				int rc = sm_err(EX_CANTCREAT, "%s: %s", p, strerror(e));
				free(p);
				return rc;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return 0;
}

int
sm_isatty_path(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

int
sm_check_secret_file(const char *path, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return sm_err(EX_IOERR, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sm_err(EX_CONFIG, "%s: not a regular file", path);
	if (st.st_mode & 077)
		return sm_err(EX_CONFIG,
		    "%s: readable by others (mode %03o): chmod 600 it",
		    path, (unsigned)(st.st_mode & 0777));
	if (st.st_uid != geteuid())
		return sm_err(EX_CONFIG, "%s: not owned by you", path);
	return 0;
}

void
sm_wipe_arg(char *arg)
{
	if (arg)
		sodium_memzero(arg, strlen(arg));
}

int
sm_read_fd(int fd, const char *what, size_t max, char **out, size_t *outlen)
{
	sm_buf b = { 0 };
	char chunk[8192];
	ssize_t r;

	for (;;) {
		r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			sm_buf_free(&b);
			return sm_err(EX_IOERR, "%s: %s", what, strerror(e));
		}
		if (r == 0)
			break;
		if (b.len + (size_t)r > max) {
			sm_buf_free(&b);
			sodium_memzero(chunk, sizeof chunk);
			return sm_err(EX_DATAERR, "%s: more than %zu bytes", what, max);
		}
		sm_buf_put(&b, chunk, (size_t)r);
	}
	sodium_memzero(chunk, sizeof chunk);
	sm_buf_putc(&b, 0);
	*out = (char *)b.p;
	*outlen = b.len - 1;
	return 0;
}

int
sm_all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i])
			return 0;
	return 1;
}

/*
 * Secret scratch buffers kept for the life of the process, one a slot:
 * sodium_malloc costs several system calls, and a batch needs a 64 KiB
 * buffer per message.  Wiped when given back.
 */
static struct {
	unsigned char *p;
	size_t n;
	int busy;
} scratch[SM_SCRATCH_SLOTS];

void *
sm_scratch(int slot, size_t n)
{
	if (scratch[slot].busy)
		sm_die(EX_SOFTWARE, "scratch buffer %d taken twice", slot);
	if (scratch[slot].n < n) {
		if (scratch[slot].p)
			sodium_free(scratch[slot].p);
		scratch[slot].p = sm_secret_alloc(n);
		scratch[slot].n = n;
	}
	scratch[slot].busy = 1;
	return scratch[slot].p;
}

void
sm_scratch_done(int slot, size_t n)
{
	sodium_memzero(scratch[slot].p, n < scratch[slot].n ? n : scratch[slot].n);
	scratch[slot].busy = 0;
}
