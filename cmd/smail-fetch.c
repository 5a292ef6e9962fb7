/* smail-fetch: read messages: as text, as files, as a zip, as an RFC
 * 5322 message, or one attachment. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smail.h"

static const char usage[] =
    "smail-fetch [-q] [-d DIR] [-u ADDR] ID...|-   the messages as text\n"
    "       smail-fetch -o DIR ID...          DIR/ID.txt and the attachments\n"
    "       smail-fetch -z [-o FILE|DIR] ID... a zip: message.txt and the "
    "attachments\n"
    "       smail-fetch -e [-o FILE|DIR] ID... an RFC 5322 MIME message\n"
    "       smail-fetch -a NAME [-o FILE] ID   one attachment\n"
    "       smail-fetch --verify [--portal-key FINGERPRINT] [-d DIR] FILE.zip...\n"
    "                                         check signed zips; the portal key is\n"
    "                                         pinned by --portal-key or -d\n"
    "Fetching marks a message read.\n"
    "common options: -d/--dir DIR, -u/--user ADDR, --password-file FILE,\n"
    "  --password-fd N, -q/--quiet, -h/--help, -V/--version\n";

enum { TEXT, FILES, ZIP, EML, ATT };
enum { OPT_PORTAL_KEY = SM_OPT_FIRST_FREE };

#define SPOOL_MAX ((uint64_t)8 << 20)

static int
is_dir(const char *path)
{
	struct stat st;
	size_t n = strlen(path);

	if (n && path[n - 1] == '/')
		return 1;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Where one message's output goes: stdout, FILE, or DIR/ID.EXT. */
static int
open_out(struct sm_out *out, const char *o, const char *id, const char *ext,
    char **path)
{
	*path = NULL;
	if (!o) {
		out->fd = 1;
		out->name = "standard output";
		out->unnamed = 0;
		return 0;
	}
	if (is_dir(o)) {
		int rc = sm_mkdirs(o);
		if (rc)
			return rc;
		size_t n = strlen(o);
		while (n > 1 && o[n - 1] == '/')
			n--;
		*path = sm_xasprintf("%.*s/%s.%s", (int)n, o, id, ext);
	} else
		*path = sm_xstrdup(o);
	return sm_out_create(out, *path);
}

/*
 * Standard output cannot take back what it was given, so what goes
 * there (up to SPOOL_MAX bytes of attachments) is decrypted once into
 * anonymous memory (a memfd, never a file), checked as it is written,
 * and copied out only when all of it checked.
 * The copy counts toward the progress line (scaled to the attachment
 * bytes it carries), since a slow reader is what takes the time.
 */
static int
spool_out(int spool, struct sm_progress *pr)
{
	char buf[65536];
	struct stat st;
	off_t off = 0;
	uint64_t total, base = pr->done, want = pr->total > pr->done ?
	    pr->total - pr->done : 0;
	ssize_t n;
	int rc = 0, plain = 0;

	if (fstat(spool, &st) < 0)
		return sm_err(EX_OSERR, "memory file: %s", strerror(errno));
	total = (uint64_t)st.st_size;
	while ((uint64_t)off < total) {
		size_t chunk = total - (uint64_t)off < (1u << 20) ?
		    (size_t)(total - (uint64_t)off) : (1u << 20);
		if (!plain) {
			n = sendfile(1, spool, &off, chunk);
			if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
				plain = 1;
				continue;
			}
		} else {
			n = pread(spool, buf, chunk < sizeof buf ? chunk : sizeof buf,
			    off);
			if (n > 0 && sm_out_write(&(struct sm_out){ 1,
			    "standard output", 0 }, buf, (size_t)n) != 0) {
				rc = EX_IOERR;
				break;
			}
			if (n > 0)
				off += n;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = sm_err(EX_IOERR, "standard output: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			rc = sm_err(EX_IOERR, "standard output: a short write");
			break;
		}
		if (total > 0) {
			uint64_t now = base + want * (uint64_t)off / total;
			sm_progress_add(pr, now - pr->done);
		}
	}
	sodium_memzero(buf, sizeof buf);
	return rc;
}

static int
fetch_one(sm_portal *p, const struct sm_ident *id, const char *mid, int mode,
    const char *o, const char *att, int *first)
{
	struct sm_opened m;
	struct sm_progress pr;
	struct sm_out out = { -1, NULL, 0 };
	char *path = NULL;
	unsigned char *skip = NULL;
	sm_buf text = { 0 };
	int rc, c, ai = -1, spool = -1;
	uint64_t total = 0;
	size_t i;

	if ((rc = sm_msg_open(p, id, mid, 'x', &m)) != 0)
		return rc;
	if (mode == ATT && (ai = sm_att_find(&m.stmt, att)) < 0) {
		sm_opened_free(&m);
		return sm_err(EX_NOINPUT, "%s: no attachment '%s'", mid, att);
	}
	/* Large attachments show progress (on a terminal): their bytes
	 * as they go out, whatever the form they go out in. */
	{
		for (i = 0; i < m.stmt.natt; i++)
			if (mode != ATT || (int)i == ai)
				total += m.stmt.att[i].ref.size;
		sm_progress_begin(&pr, mid, "bytes", total);
		if (total < (1 << 20) || mode == TEXT)
			pr.on = 0;
	}
	if (mode == FILES)
		rc = sm_mkdirs(o);
	else if (mode != TEXT)
		rc = open_out(&out, o, mid, mode == ZIP ? "zip" : mode == EML ? "eml" :
		    "bin", &path);
	/*
	 * Every part checks before anything is written.  A file is named
	 * only once all that went into it checked (sm_out_create), so the
	 * parts a file takes in are checked as they are written, and so are
	 * those of an output to standard output of up to SPOOL_MAX bytes of
	 * attachments, spooled in memory; the other parts, and a larger
	 * output to standard output, are read through first (two passes, so
	 * that memory does not grow with the size of what is fetched).
	 */
	skip = sm_xcalloc(m.env.nparts, 1);
	skip[0] = 1;                    /* the statement: checked when opened */
	if (rc == 0 && mode != TEXT && mode != FILES && out.fd == 1 &&
	    total <= SPOOL_MAX) {
		if ((spool = memfd_create("smail-fetch", MFD_CLOEXEC)) < 0)
			rc = sm_err(EX_OSERR, "memfd_create: %s", strerror(errno));
		out.fd = spool;
		sm_progress_now = NULL;         /* the copy out counts instead */
	}
	if (rc == 0 && (mode == FILES || (mode != TEXT && out.fd > 2))) {
		skip[1] = 1;
		for (i = 0; i < m.stmt.natt; i++)
			if (mode != ATT || (int)i == ai)
				skip[m.stmt.att[i].ref.part % m.env.nparts] = 1;
	}
	if (rc == 0)
		rc = sm_msg_verify(p, &m, skip);
	if (rc == 0 && m.stmt.forward_of[0])
		sm_forward_verify(p, &m);
	if (rc == 0)
		switch (mode) {
		case TEXT:
			if (!*first)
				rc = sm_out_write(&(struct sm_out){ 1, "standard output", 0 },
				    "\n", 1);
			if (rc == 0 && (rc = sm_text_view(p, &m, &text)) == 0 &&
			    isatty(1)) {
				/* A terminal obeys what the sender put in the body:
				 * its control characters are shown, not sent. */
				sm_buf shown = { 0 };
				sm_text_shown(&shown, text.p, text.len);
				sm_buf_free(&text);
				text = shown;
			}
			if (rc == 0)
				rc = sm_out_write(&(struct sm_out){ 1, "standard output", 0 },
				    text.p, text.len);
			break;
		case FILES:
			rc = sm_export_dir(p, &m, o);
			break;
		case ZIP:
			rc = sm_export_zip(p, &m, &out);
			break;
		case EML:
			rc = sm_export_eml(p, &m, &out);
			break;
		case ATT:
			rc = sm_write_att(p, &m, (size_t)ai, &out);
			break;
		}
	if (spool >= 0) {
		/* Checked, all of it: now it may go out. */
		if (rc == 0) {
			pr.done = 0;
			rc = spool_out(spool, &pr);
		}
		close(spool);
		out.fd = -1;
	}
	if (out.fd >= 0) {
		c = sm_out_close(&out, rc == 0);
		if (rc == 0)
			rc = c;
	}
	*first = 0;
	sm_progress_end(&pr);
	if (rc == 0) {
		char *ids[1] = { (char *)mid };
		rc = sm_mark_read(p, id, ids, 1);
	}
	free(skip);
	sm_buf_free(&text);
	free(path);
	sm_opened_free(&m);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		SM_LONGOPTS_COMMON,
		{ "output", required_argument, 0, 'o' },
		{ "zip", no_argument, 0, 'z' },
		{ "eml", no_argument, 0, 'e' },
		{ "attachment", required_argument, 0, 'a' },
		{ "verify", no_argument, 0, 'v' },
		{ "portal-key", required_argument, 0, OPT_PORTAL_KEY },
		{ 0, 0, 0, 0 }
	};
	struct sm_opts o;
	struct sm_ident id = { 0 };
	sm_portal *p = NULL;
	const char *outarg = NULL, *att = NULL, *pin = NULL;
	char **ids = NULL;
	size_t n = 0, i;
	int ch, rc, mode = TEXT, first = 1, worst = 0, verify = 0;

	sm_init(argv[0]);
	sm_opts_init(&o);
	while ((ch = getopt_long(argc, argv, "d:u:o:zea:qhV", longopts, NULL)) != -1) {
		if (sm_opts_common(&o, ch, optarg, usage))
			continue;
		switch (ch) {
		case 'o': outarg = optarg; break;
		case 'z': mode = mode == TEXT || mode == ZIP ? ZIP : -1; break;
		case 'e': mode = mode == TEXT || mode == EML ? EML : -1; break;
		case 'a': att = optarg; mode = mode == TEXT || mode == ATT ? ATT : -1; break;
		case 'v': verify = 1; break;
		case OPT_PORTAL_KEY:
			if (sm_pin_parse(optarg) != 0)
				sm_usage(usage);
			pin = optarg;
			break;
		default: sm_usage(usage);
		}
	}
	if (mode < 0) {
		sm_err(EX_USAGE, "-z, -e and -a exclude each other");
		sm_usage(usage);
	}
	if (mode == TEXT && outarg)
		mode = FILES;
	if (optind == argc)
		sm_usage(usage);
	if (pin && !verify) {
		sm_err(EX_USAGE, "--portal-key goes with --verify");
		sm_usage(usage);
	}
	if (verify) {
		/* Offline: a portal named, or --portal-key, pins the keys. */
		if (mode != TEXT)
			sm_usage(usage);
		const char *env = getenv("SMAIL_DIR");
		if (o.dir || (env && *env))
			if ((rc = sm_portal_open(o.dir, &p)) != 0)
				return rc;
		for (; optind < argc; optind++)
			if ((rc = sm_zip_verify(argv[optind], p, pin, stdout)) != 0 &&
			    !worst)
				worst = rc;
		fflush(stdout);
		sm_portal_close(p);
		return worst;
	}
	if ((rc = sm_ids_collect(argc - optind, argv + optind, &ids, &n)) != 0)
		return rc;
	if ((mode == ZIP || mode == EML || mode == ATT) && !outarg && isatty(1)) {
		rc = sm_err(EX_USAGE, "refusing to write %s to a terminal; use -o "
		    "or a pipe", mode == ZIP ? "a zip" : mode == EML ? "a message" :
		    "an attachment");
		goto out;
	}
	if ((mode == ZIP || mode == EML || mode == ATT) && n > 1 &&
	    (!outarg || !is_dir(outarg))) {
		rc = sm_err(EX_USAGE, "several messages: give -o DIR");
		goto out;
	}
	if ((rc = sm_portal_open(o.dir, &p)) != 0)
		goto out;
	if ((rc = sm_auth(p, &o, &id)) != 0)
		goto out;
	/* Each id on its own: an error names it and the others still go. */
	for (i = 0; i < n; i++) {
		rc = fetch_one(p, &id, ids[i], mode, outarg, att, &first);
		if (rc && (!worst || rc == EX_NOINPUT))
			worst = rc;
		if (rc == EX_IOERR || rc == EX_TEMPFAIL)
			break;
	}
	rc = worst;
out:
	sm_ids_free(ids, n);
	sm_ident_free(&id);
	sm_portal_close(p);
	return rc;
}
