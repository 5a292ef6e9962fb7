/*
 * passwd.c: reading passwords from /dev/tty without echo, from a file
 * (--password-file, first line) or a descriptor (--password-fd).
 * Passwords live only in sm_secret_alloc memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "smail.h"

#define PW_MAX 4096

static int tty_fd = -1;
static struct termios tty_saved, tty_quiet;

/* A signal while echo is off: put the terminal back first, then let
 * the signal do what it does by default (the handler blocks it while
 * it runs, so unblock it first).  A stop (^Z) returns here on SIGCONT,
 * and echo goes off again. */
static void
restore_tty(int sig)
{
	struct sigaction sa, old;
	sigset_t set;
	int e = errno;

	if (tty_fd >= 0)
		tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(sig, &sa, &old);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	/* Still here: it was a stop, and we were continued. */
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigaction(sig, &old, NULL);
	if (tty_fd >= 0)
		tcsetattr(tty_fd, TCSAFLUSH, &tty_quiet);
	errno = e;
}

/* Reads the first line of FD into a new secret buffer. */
static int
read_line(int fd, const char *what, char **pw)
{
	char *buf = sm_secret_alloc(PW_MAX + 1);
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			sm_secret_free(buf);
			return sm_err(EX_IOERR, "%s: %s", what, strerror(e));
		}
		if (r == 0 || c == '\n')
			break;
		if (n == PW_MAX) {
			sm_secret_free(buf);
			return sm_err(EX_DATAERR, "%s: password longer than %d bytes",
			    what, PW_MAX);
		}
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = 0;
	if (n == 0) {
		sm_secret_free(buf);
		return sm_err(EX_DATAERR, "%s: empty", what);
	}
	*pw = buf;
	return 0;
}

static int
from_tty(const char *prompt, const char *hint, char **pw)
{
	struct termios t;
	struct sigaction sa, old_int, old_term, old_hup, old_tstp, old_ttin, old_ttou;
	int rc;

	tty_fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (tty_fd < 0)
		return sm_err(EX_NOPERM, "no terminal to ask on, and no %s", hint);
	if (tcgetattr(tty_fd, &tty_saved) < 0) {
		close(tty_fd);
		tty_fd = -1;
		return sm_err(EX_NOPERM, "no password: /dev/tty is not a terminal");
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = restore_tty;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	sigaction(SIGTSTP, &sa, &old_tstp);
	sigaction(SIGTTIN, &sa, &old_ttin);
	sigaction(SIGTTOU, &sa, &old_ttou);
	t = tty_saved;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	t.c_lflag |= ICANON;
	tty_quiet = t;
	tcsetattr(tty_fd, TCSAFLUSH, &t);
	(void)!write(tty_fd, prompt, strlen(prompt));
	rc = read_line(tty_fd, "terminal", pw);
	tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
	(void)!write(tty_fd, "\n", 1);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGTSTP, &old_tstp, NULL);
	sigaction(SIGTTIN, &old_ttin, NULL);
	sigaction(SIGTTOU, &old_ttou, NULL);
	close(tty_fd);
	tty_fd = -1;
	return rc;
}

int
sm_read_password_from(const char *file, int fd, const char *prompt,
    int confirm, const char *hint, char **pw)
{
	char *again, *rp;
	int rc;

	if (file) {
		int f = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (f < 0)
			return sm_err(errno == ENOENT ? EX_NOINPUT : EX_IOERR,
			    "%s: %s", file, strerror(errno));
		if ((rc = sm_check_secret_file(file, f)) == 0)
			rc = read_line(f, file, pw);
		close(f);
		return rc;
	}
	if (fd >= 0) {
		char what[32];
		snprintf(what, sizeof what, "descriptor %d", fd);
		return read_line(fd, what, pw);
	}
	if ((rc = from_tty(prompt, hint, pw)) != 0 || !confirm)
		return rc;
	rp = sm_xasprintf("Repeat %c%s", prompt[0] >= 'A' && prompt[0] <= 'Z' ?
	    prompt[0] - 'A' + 'a' : prompt[0], prompt + 1);
	rc = from_tty(rp, hint, &again);
	free(rp);
	if (rc) {
		sm_secret_free(*pw);
		*pw = NULL;
		return rc;
	}
	if (strlen(again) != strlen(*pw) ||
	    sodium_memcmp(again, *pw, strlen(again)) != 0) {
		sm_secret_free(again);
		sm_secret_free(*pw);
		*pw = NULL;
		return sm_err(EX_DATAERR, "the passwords do not match");
	}
	sm_secret_free(again);
	return 0;
}

int
sm_read_password(const struct sm_opts *o, const char *prompt, int confirm,
    char **pw)
{
	return sm_read_password_from(o->password_file, o->password_fd, prompt,
	    confirm, "--password-file or --password-fd", pw);
}

int
sm_have_password_source(const struct sm_opts *o)
{
	return o->password_file || o->password_fd >= 0 || sm_isatty_path();
}
