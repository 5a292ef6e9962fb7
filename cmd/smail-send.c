/* smail-send: send a secure message, a reply, a forward, a draft, or a
 * batch of messages. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "smail.h"

static const char usage[] =
    "smail-send [-q] [-d DIR] [-u ADDR] [-s SUBJECT] [-c RCPT]... [-a FILE]...\n"
    "                  [-H FILE] [-m FILE] RCPT...\n"
    "       smail-send -r ID | -R ID [-s SUBJECT] [-a FILE]... [-m FILE]\n"
    "       smail-send -f ID [-x NAME]... [-a FILE]... [-m FILE] RCPT...\n"
    "       smail-send --draft [...]      save as a draft, print its id\n"
    "       smail-send -D ID [...]        resume a draft and send it\n"
    "       smail-send -b FILE|-          batch: RCPTS<TAB>SUBJECT<TAB>BODYFILE"
    "[<TAB>ATTACHMENT]...\n"
    "       smail-send --recall ID        withdraw a message you sent\n"
    "       smail-send -t < message       sendmail mode: a whole RFC 5322 message\n"
    "-E DURATION (7d, 12h) sets when the message expires (default message_ttl);\n"
    "--access-code-file FILE sets a code an invited recipient must also give.\n"
    "RCPT is an address or @group (from smail-addr).  The body comes from\n"
    "-m FILE, else standard input, else $EDITOR on a terminal.\n"
    "common options: -d/--dir DIR, -u/--user ADDR, --password-file FILE,\n"
    "  --password-fd N, -q/--quiet, -h/--help, -V/--version\n";

enum { OPT_DRAFT = SM_OPT_FIRST_FREE, OPT_RECALL };

/* The access code's Argon2id output, for the invitations this sends. */
static struct sm_code *code;

struct args {
	char *subject;
	char **cc, **att, **drop;
	size_t ncc, natt, ndrop;
	const char *html, *msgfile;
	const char *reply, *reply_all, *forward, *resume, *batch, *recall, *codefile;
	int draft, mime;
	int64_t ttl;
};

static void
push(char ***v, size_t *n, const char *s)
{
	*v = sm_xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = (char *)s;
}

static int
read_body(const char *file, sm_buf *b)
{
	char *text;
	size_t len;
	int rc;

	if (strcmp(file, "-") == 0)
		rc = sm_read_fd(0, "standard input", SM_MAX_BODY, &text, &len);
	else
		rc = sm_read_file(file, SM_MAX_BODY, &text, &len);
	if (rc)
		return rc;
	sm_buf_free(b);
	sm_buf_put(b, text, len);
	free(text);
	return 0;
}

/* ---- $EDITOR ---- */

/* Runs the editor on a file in the runtime directory: 0 when it exited
 * well, 65 when not; TEXT gets whatever the file holds either way. */
static int
edit(sm_buf *text)
{
	const char *editor = getenv("VISUAL");
	char *dir = sm_session_dir(), *path;
	struct sigaction ign, oint, oquit, ohup;
	pid_t pid;
	int fd, status = 0, rc;

	if (!editor || !*editor)
		editor = getenv("EDITOR");
	if (!editor || !*editor)
		editor = "vi";
	if (!dir || sm_mkdirs(dir) != 0) {
		free(dir);
		return sm_err(EX_CANTCREAT, "no runtime directory for the editor's file");
	}
	path = sm_xasprintf("%s/compose-XXXXXX", dir);
	free(dir);
	if ((fd = mkstemp(path)) < 0) {
		rc = sm_err(EX_CANTCREAT, "%s: %s", path, strerror(errno));
		free(path);
		return rc;
	}
	close(fd);
	/* Like system(3): the editor owns the terminal's signals; a hang-up
	 * ends the editor, and what was typed still becomes a draft. */
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGQUIT, &ign, &oquit);
	sigaction(SIGHUP, &ign, &ohup);
	pid = fork();
	if (pid == 0) {
		sigaction(SIGINT, &oint, NULL);
		sigaction(SIGQUIT, &oquit, NULL);
		sigaction(SIGHUP, &ohup, NULL);
		execl("/bin/sh", "sh", "-c", "exec $0 \"$1\"", editor, path, (char *)NULL);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGQUIT, &oquit, NULL);
	sigaction(SIGHUP, &ohup, NULL);
	rc = read_body(path, text);
	{
		/* Wipe the file: it held the message in the clear. */
		int w = open(path, O_WRONLY | O_NOFOLLOW);
		if (w >= 0) {
			static const char zero[4096];
			size_t left = text->len;
			while (left > 0) {
				size_t n = left < sizeof zero ? left : sizeof zero;
				if (write(w, zero, n) < 0)
					break;
				left -= n;
			}
			fsync(w);
			close(w);
		}
		unlink(path);
	}
	free(path);
	if (rc)
		return rc;
	if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return sm_err(EX_DATAERR, "the editor (%s) did not exit cleanly", editor);
	return 0;
}

/* ---- batch ---- */

/* One manifest line, sent inside the open group: 0 and NEWID, 1 for a
 * blank or comment line, or the failure. */
static int
batch_line(sm_portal *p, const struct sm_ident *id, const char *line, size_t len,
    int64_t ttl, char newid[SM_ID_CHARS + 1])
{
	struct sm_compose c;
	struct sm_mline m;
	size_t i;
	int rc;

	if ((rc = sm_manifest_line(line, len, &m)) != 0)
		return rc;
	memset(&c, 0, sizeof c);
	for (i = 0; i < m.nrcpt; i++)
		sm_compose_addr(&c.to, &c.nto, m.rcpt[i]);
	if ((rc = sm_book_expand(p, id, &c.to, &c.nto)) != 0)
		goto out;
	c.subject = sm_xstrdup(m.subject);
	c.ttl = ttl;
	c.code = code;
	if ((rc = read_body(m.body, &c.body)) != 0)
		goto out;
	for (i = 0; i < m.natt; i++)
		if ((rc = sm_compose_attach(&c, m.att[i])) != 0)
			goto out;
	rc = sm_send(p, id, &c, SM_KIND_MESSAGE, newid);
out:
	sm_compose_free(&c);
	sm_mline_free(&m);
	return rc;
}

/*
 * The manifest, in groups: each group is one transaction with one sync
 * (at most GROUP_MAX messages or GROUP_MS milliseconds), and its ids
 * are printed once the group is durable.
 */
#define GROUP_MAX 64
#define GROUP_MS 200

struct pending {
	unsigned line;
	char id[SM_ID_CHARS + 1];
	char *rcpts;
};

static double
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static unsigned
flush_group(sm_portal *p, struct pending *pend, size_t *np, const char *name)
{
	unsigned failed = 0;
	size_t i;
	int rc = sm_batch_commit(p);

	for (i = 0; i < *np; i++) {
		if (rc == 0)
			printf("%s\t%s\n", pend[i].id, pend[i].rcpts);
		else {
			sm_err(rc, "%s:%u: not stored", name, pend[i].line);
			failed++;
		}
		free(pend[i].rcpts);
	}
	if (rc == 0 && *np && fflush(stdout) != 0)
		sm_err(EX_IOERR, "standard output: write error");
	*np = 0;
	return failed;
}

/*
 * The manifest's lines, read from a descriptor with a buffer of our
 * own, so that we can tell whether the next line is there already or
 * would have to be waited for: a group is committed before waiting on
 * a slow pipe, never held open (and the store locked) across it.
 */
struct lines {
	int fd, eof, err;
	char *buf;
	size_t len, cap;
};

/* Is a whole line (or the end) at hand without blocking? */
static int
lines_ready(struct lines *l)
{
	struct pollfd pfd = { l->fd, POLLIN, 0 };

	return l->eof || l->err || (l->len && memchr(l->buf, '\n', l->len)) ||
	    poll(&pfd, 1, 0) != 0;
}

/* The next line into *LINE (with its newline, NUL-terminated): its
 * length, or -1 at the end or on a read error (l->err). */
static ssize_t
lines_get(struct lines *l, char **line, size_t *cap)
{
	char *nl;
	size_t n;
	ssize_t r;

	while (!(nl = l->len ? memchr(l->buf, '\n', l->len) : NULL) && !l->eof) {
		if (l->cap - l->len < 4096) {
			l->cap = l->cap ? l->cap * 2 : 65536;
			l->buf = sm_xrealloc(l->buf, l->cap);
		}
		r = read(l->fd, l->buf + l->len, l->cap - l->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			l->err = errno;
			l->eof = 1;
		} else if (r == 0)
			l->eof = 1;
		else
			l->len += (size_t)r;
	}
	n = nl ? (size_t)(nl - l->buf) + 1 : l->len;
	if (n == 0)
		return -1;
	if (*cap < n + 1) {
		*cap = n + 1;
		*line = sm_xrealloc(*line, *cap);
	}
	memcpy(*line, l->buf, n);
	(*line)[n] = 0;
	memmove(l->buf, l->buf + n, l->len - n);
	l->len -= n;
	return (ssize_t)n;
}

static int
batch(sm_portal *p, const struct sm_ident *id, const char *file, int64_t ttl)
{
	int fd = strcmp(file, "-") == 0 ? 0 : open(file, O_RDONLY | O_CLOEXEC);
	const char *name = fd == 0 ? "stdin" : file;
	struct lines in = { fd, 0, 0, NULL, 0, 0 };
	char *line = NULL, ctx[300];
	struct pending pend[GROUP_MAX];
	size_t cap = 0, np = 0;
	ssize_t len;
	unsigned lineno = 0, failed = 0;
	double t0 = 0;
	int open = 0, rc;
	struct sm_progress pr;
	uint64_t total = 0;

	if (fd < 0)
		return sm_err(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s: %s", file,
		    strerror(errno));
	/* A file's lines can be counted for the progress line; a pipe's not. */
	if (fd != 0) {
		char b[65536];
		ssize_t r;
		while ((r = read(fd, b, sizeof b)) > 0)
			for (ssize_t i = 0; i < r; i++)
				total += b[i] == '\n';
		lseek(fd, 0, SEEK_SET);
	}
	sm_progress_begin(&pr, "batch", "lines", total);
	for (;;) {
		if (open && !lines_ready(&in)) {
			failed += flush_group(p, pend, &np, name);
			open = 0;
		}
		if ((len = lines_get(&in, &line, &cap)) < 0)
			break;
		char newid[SM_ID_CHARS + 1];
		lineno++;
		snprintf(ctx, sizeof ctx, "%s:%u", name, lineno);
		sm_errctx = ctx;
		if (!open) {
			if ((rc = sm_batch_begin(p)) != 0) {
				failed++;
				sm_errctx = NULL;
				continue;
			}
			open = 1;
			t0 = ms_now();
		}
		rc = batch_line(p, id, line, (size_t)len, ttl, newid);
		sm_errctx = NULL;
		if (rc == 0) {
			pend[np].line = lineno;
			memcpy(pend[np].id, newid, sizeof newid);
			pend[np].rcpts = sm_xstrndup(line, strcspn(line, "\t\r\n"));
			np++;
		} else if (rc != 1)
			failed++;
		if (np == GROUP_MAX || ms_now() - t0 >= GROUP_MS) {
			failed += flush_group(p, pend, &np, name);
			open = 0;
		}
		sm_progress_add(&pr, 1);
	}
	if (open)
		failed += flush_group(p, pend, &np, name);
	sm_progress_end(&pr);
	if (in.err)
		sm_err(EX_IOERR, "%s: %s", name, strerror(in.err)), failed++;
	free(line);
	free(in.buf);
	if (fd != 0)
		close(fd);
	if (failed)
		sm_err(EX_DATAERR, "%s: %u line%s failed", name, failed,
		    failed == 1 ? "" : "s");
	return failed ? EX_DATAERR : 0;
}

/* ---- one message ---- */

static int
need_no_rcpts(int nrcpt, const struct args *a, const char *what)
{
	if (nrcpt || a->ncc)
		return sm_err(EX_USAGE, "%s: recipients are fixed; to add some, "
		    "forward with -f", what);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		SM_LONGOPTS_COMMON,
		{ "subject", required_argument, 0, 's' },
		{ "cc", required_argument, 0, 'c' },
		{ "attach", required_argument, 0, 'a' },
		{ "html", required_argument, 0, 'H' },
		{ "message", required_argument, 0, 'm' },
		{ "reply", required_argument, 0, 'r' },
		{ "reply-all", required_argument, 0, 'R' },
		{ "forward", required_argument, 0, 'f' },
		{ "exclude", required_argument, 0, 'x' },
		{ "resume", required_argument, 0, 'D' },
		{ "batch", required_argument, 0, 'b' },
		{ "draft", no_argument, 0, OPT_DRAFT },
		{ "expires", required_argument, 0, 'E' },
		{ "recall", required_argument, 0, OPT_RECALL },
		{ "read-recipients", no_argument, 0, 't' },
		{ "access-code-file", required_argument, 0, SM_OPT_CODEFILE },
		{ 0, 0, 0, 0 }
	};
	struct sm_opts o;
	struct args a;
	struct sm_compose c;
	struct sm_opened orig;
	struct sm_ident id = { 0 };
	sm_portal *p = NULL;
	sm_buf text = { 0 };
	char newid[SM_ID_CHARS + 1];
	const char *from_id = NULL;
	int ch, rc, modes = 0, nrcpt, edited = 0, have_orig = 0;
	size_t i;

	sm_init(argv[0]);
	sm_opts_init(&o);
	memset(&a, 0, sizeof a);
	memset(&c, 0, sizeof c);
	memset(&orig, 0, sizeof orig);
	while ((ch = getopt_long(argc, argv, "d:u:s:c:a:H:m:r:R:f:x:D:b:E:tqhV",
	    longopts, NULL)) != -1) {
		if (sm_opts_common(&o, ch, optarg, usage))
			continue;
		switch (ch) {
		case 's': a.subject = optarg; break;
		case 'c': push(&a.cc, &a.ncc, optarg); break;
		case 'a': push(&a.att, &a.natt, optarg); break;
		case 'x': push(&a.drop, &a.ndrop, optarg); break;
		case 'H': a.html = optarg; break;
		case 'm': a.msgfile = optarg; break;
		case 'r': a.reply = optarg; modes++; break;
		case 'R': a.reply_all = optarg; modes++; break;
		case 'f': a.forward = optarg; modes++; break;
		case 'D': a.resume = optarg; modes++; break;
		case 'b': a.batch = optarg; modes++; break;
		case OPT_DRAFT: a.draft = 1; break;
		case 't': a.mime = 1; modes++; break;
		case OPT_RECALL: a.recall = optarg; modes++; break;
		case SM_OPT_CODEFILE: a.codefile = optarg; break;
		case 'E':
			if (sm_parse_duration(optarg, &a.ttl) < 0 || a.ttl <= 0) {
				sm_err(EX_USAGE, "-E: '%s' is not a duration (7d, 12h, 30m)",
				    optarg);
				sm_usage(usage);
			}
			break;
		default: sm_usage(usage);
		}
	}
	nrcpt = argc - optind;
	if (modes > 1) {
		sm_err(EX_USAGE, "-r, -R, -f, -D, -b and --recall exclude each other");
		sm_usage(usage);
	}
	if (a.recall) {
		if (nrcpt || a.ncc || a.natt || a.subject || a.msgfile || a.html ||
		    a.draft || a.ndrop || a.ttl || a.codefile) {
			sm_err(EX_USAGE, "--recall takes only the message id");
			sm_usage(usage);
		}
		if ((rc = sm_portal_open(o.dir, &p)) == 0 &&
		    (rc = sm_auth(p, &o, &id)) == 0)
			rc = sm_recall(p, &id, a.recall);
		goto out;
	}
	if (a.batch && (nrcpt || a.ncc || a.natt || a.subject || a.msgfile ||
	    a.html || a.draft || a.ndrop)) {
		sm_err(EX_USAGE, "-b takes everything from the manifest");
		sm_usage(usage);
	}
	if (a.mime && (nrcpt || a.ncc || a.natt || a.subject || a.msgfile ||
	    a.html || a.draft || a.ndrop)) {
		sm_err(EX_USAGE, "-t takes recipients, subject, body and attachments "
		    "from the message on standard input");
		sm_usage(usage);
	}
	if (a.ttl && a.draft) {
		sm_err(EX_USAGE, "-E applies when a message is sent: give it with -D");
		sm_usage(usage);
	}
	if (a.ndrop && !a.forward && !a.resume) {
		sm_err(EX_USAGE, "-x drops an attachment of a forward or a draft");
		sm_usage(usage);
	}
	if ((a.reply || a.reply_all) &&
	    need_no_rcpts(nrcpt, &a, a.reply ? "-r" : "-R") != 0) {
		rc = EX_USAGE;
		goto out;
	}
	if (a.forward && nrcpt == 0) {
		sm_err(EX_USAGE, "-f: give the recipients");
		sm_usage(usage);
	}
	if (a.mime && o.password_fd == 0) {
		sm_err(EX_USAGE, "standard input carries the message: the password "
		    "cannot come from descriptor 0 too");
		return EX_USAGE;
	}
	if (!modes && !a.draft && nrcpt == 0) {
		sm_err(EX_USAGE, "no recipient");
		sm_usage(usage);
	}
	/* Only one reader of standard input. */
	if (o.password_fd == 0 && ((a.msgfile && strcmp(a.msgfile, "-") == 0) ||
	    (a.batch && strcmp(a.batch, "-") == 0) ||
	    (!a.msgfile && !a.resume && !a.batch && !isatty(0)))) {
		sm_err(EX_USAGE, "standard input carries the body: the password "
		    "cannot come from descriptor 0 too");
		return EX_USAGE;
	}

	/* What can be checked before the store is touched. */
	for (i = 0; i < (size_t)nrcpt; i++)
		sm_compose_addr(&c.to, &c.nto, argv[optind + (int)i]);
	for (i = 0; i < a.ncc; i++)
		sm_compose_addr(&c.cc, &c.ncc, a.cc[i]);
	if (a.subject)
		c.subject = sm_xstrdup(a.subject);
	c.ttl = a.ttl;
	for (i = 0; i < a.natt; i++)
		if ((rc = sm_compose_attach(&c, a.att[i])) != 0)
			goto out;
	if (a.html) {
		if ((rc = read_body(a.html, &c.html)) != 0)
			goto out;
		c.has_html = 1;
	}
	if ((rc = sm_compose_check(&c)) != 0)
		goto out;

	if ((rc = sm_portal_open(o.dir, &p)) != 0)
		goto out;
	if ((rc = sm_auth(p, &o, &id)) != 0)
		goto out;
	if (a.codefile) {
		code = sm_secret_alloc(sizeof *code);
		if ((rc = sm_code_read(p, a.codefile, code, NULL)) != 0)
			goto out;
		c.code = code;
	}
	if (a.batch) {
		rc = batch(p, &id, a.batch, a.ttl);
		goto out;
	}
	/* @group names its members, from the account's address book. */
	if ((rc = sm_book_expand(p, &id, &c.to, &c.nto)) != 0 ||
	    (rc = sm_book_expand(p, &id, &c.cc, &c.ncc)) != 0)
		goto out;

	if (a.mime) {
		/* sendmail -t: everything comes from the message. */
		char *mfrom = NULL;
		rc = sm_compose_from_mime(0, &c, &mfrom);
		if (rc == 0 && mfrom && !sm_addr_same(mfrom, id.addr))
			sm_warn("the message's From (%s) is not you; it goes from %s",
			    mfrom, id.addr);
		free(mfrom);
		if (rc == 0 && (rc = sm_compose_check(&c)) == 0 &&
		    (rc = sm_book_expand(p, &id, &c.to, &c.nto)) == 0 &&
		    (rc = sm_book_expand(p, &id, &c.cc, &c.ncc)) == 0 &&
		    (rc = sm_send(p, &id, &c, SM_KIND_MESSAGE, newid)) == 0) {
			printf("%s\n", newid);
			if (fflush(stdout) != 0)
				rc = sm_err(EX_IOERR, "standard output: write error");
		}
		goto out;
	}
	/* The text: -m, standard input, or the editor on a terminal; a
	 * resumed draft keeps its body unless -m is given. */
	if (a.msgfile)
		rc = read_body(a.msgfile, &text);
	else if (a.resume)
		rc = 0;
	else if (!isatty(0))
		rc = read_body("-", &text);
	else {
		rc = edit(&text);
		edited = 1;
		if (rc && rc != EX_DATAERR)
			goto out;
	}
	if (rc && !edited)
		goto out;

	from_id = a.reply ? a.reply : a.reply_all ? a.reply_all : a.forward;
	if (from_id) {
		int r2 = sm_msg_open(p, &id, from_id, 'x', &orig);
		if (r2) {
			rc = r2;
			goto out;
		}
		have_orig = 1;
	} else if (a.resume) {
		int r2 = sm_msg_open(p, &id, a.resume, 'y', &orig);
		if (r2) {
			rc = r2;
			goto out;
		}
		have_orig = 1;
	}
	if (a.reply || a.reply_all) {
		sm_compose_reply(&id, &orig, a.reply_all != NULL, &c);
		if (c.nto + c.ncc == 0) {
			rc = sm_err(EX_USAGE, "%s: nobody to reply to but yourself",
			    from_id);
			goto out;
		}
		sm_buf_free(&c.body);
		sm_buf_put(&c.body, text.p, text.len);
	} else if (a.forward) {
		int r2 = sm_compose_forward(p, &orig, &text, a.drop, a.ndrop, &c);
		if (r2) {
			rc = r2;
			goto out;
		}
	} else if (a.resume) {
		int r2;
		if (a.msgfile) {
			sm_buf_put(&c.body, text.p, text.len);
		}
		r2 = sm_compose_from_draft(p, &orig, !a.msgfile, a.drop, a.ndrop, &c);
		if (r2) {
			rc = r2;
			goto out;
		}
	} else
		sm_buf_put(&c.body, text.p, text.len);

	if (edited && rc) {
		/* The editor failed: keep what was written as a draft. */
		int r2 = sm_send(p, &id, &c, SM_KIND_DRAFT, newid);
		if (r2 == 0)
			sm_err(rc, "the message is kept as draft %s", newid);
		goto out;
	}
	if (a.draft) {
		if ((rc = sm_send(p, &id, &c, SM_KIND_DRAFT, newid)) != 0)
			goto out;
	} else if (edited) {
		/* Saved as a draft first, so a failed send loses nothing. */
		char draft[SM_ID_CHARS + 1];
		char *d = draft;
		if ((rc = sm_send(p, &id, &c, SM_KIND_DRAFT, draft)) != 0)
			goto out;
		if ((rc = sm_send(p, &id, &c, SM_KIND_MESSAGE, newid)) != 0) {
			sm_err(rc, "the message is kept as draft %s", draft);
			goto out;
		}
		sm_delete(p, &id, &d, 1);
	} else if ((rc = sm_send(p, &id, &c, SM_KIND_MESSAGE, newid)) != 0)
		goto out;
	printf("%s\n", newid);
	if (fflush(stdout) != 0)
		rc = sm_err(EX_IOERR, "standard output: write error");
	if (rc == 0 && a.resume) {
		char *d = (char *)a.resume;
		rc = sm_delete(p, &id, &d, 1);
	}
out:
	if (code)
		sm_secret_free(code);
	if (have_orig)
		sm_opened_free(&orig);
	sm_buf_free(&text);
	sm_compose_free(&c);
	sm_ident_free(&id);
	sm_portal_close(p);
	free(a.cc);
	free(a.att);
	free(a.drop);
	return rc;
}
