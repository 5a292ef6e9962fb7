/* smail-inbox: list the acting account's messages or drafts; delete. */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "smail.h"

static const char usage[] =
    "smail-inbox [--dir DIR] [--user ADDR] [-n N] [-u] [--json]\n"
    "       smail-inbox --drafts [--json]\n"
    "       smail-inbox --sent [-n N] [--json]\n"
    "       smail-inbox -d ID...|-\n"
    "Lists ID, DATE, FLAGS (N new or R read, A attachments), FROM and\n"
    "SUBJECT, newest first; --drafts lists ID, DATE, TO and SUBJECT;\n"
    "--sent lists ID, DATE, RCPT, STATE and WHEN for the messages you sent.\n"
    "common options: --dir DIR, --user ADDR, --password-file FILE,\n"
    "  --password-fd N, -q/--quiet, -h/--help, -V/--version\n";

enum { OPT_DRAFTS = SM_OPT_FIRST_FREE, OPT_SENT, OPT_JSON };

/* A TSV field: control characters (TAB, CR and LF among them) become
 * spaces. */
static void
field(const char *s)
{
	sm_put_field(stdout, s);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, 0, SM_OPT_DIR },
		{ "user", required_argument, 0, SM_OPT_USER },
		{ "password-file", required_argument, 0, SM_OPT_PWFILE },
		{ "password-fd", required_argument, 0, SM_OPT_PWFD },
		{ "quiet", no_argument, 0, 'q' },
		{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' },
		{ "unread", no_argument, 0, 'u' },
		{ "delete", no_argument, 0, 'd' },
		{ "drafts", no_argument, 0, OPT_DRAFTS },
		{ "sent", no_argument, 0, OPT_SENT },
		{ "json", no_argument, 0, OPT_JSON },
		{ 0, 0, 0, 0 }
	};
	struct sm_opts o;
	struct sm_ident id = { 0 };
	struct sm_index ix;
	sm_portal *p = NULL;
	long limit = -1;
	int ch, rc, unread = 0, del = 0, drafts = 0, sent = 0, json = 0, bad = 0;
	size_t i, shown = 0;
	char *end;

	sm_init(argv[0]);
	sm_opts_init(&o);
	memset(&ix, 0, sizeof ix);
	while ((ch = getopt_long(argc, argv, "n:udqhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			limit = strtol(optarg, &end, 10);
			if (!*optarg || *end || limit < 0 || limit == LONG_MAX) {
				sm_err(EX_USAGE, "-n: '%s' is not a count", optarg);
				sm_usage(usage);
			}
			break;
		case 'u': unread = 1; break;
		case 'd': del = 1; break;
		case OPT_DRAFTS: drafts = 1; break;
		case OPT_SENT: sent = 1; break;
		case OPT_JSON: json = 1; break;
		case SM_OPT_DIR: case SM_OPT_USER: case SM_OPT_PWFILE:
		case SM_OPT_PWFD: case 'q': case 'h': case 'V':
			sm_opts_common(&o, ch, optarg, usage);
			break;
		default:
			sm_usage(usage);
		}
	}
	if (del ? optind == argc || unread || drafts || sent || json || limit >= 0 :
	    optind != argc || drafts + sent > 1 || (unread && (drafts || sent)))
		sm_usage(usage);
	if ((rc = sm_portal_open(o.dir, &p)) != 0)
		goto out;
	if ((rc = sm_auth(p, &o, &id)) != 0)
		goto out;
	if (del) {
		char **ids;
		size_t n;
		if ((rc = sm_ids_collect(argc - optind, argv + optind, &ids, &n)) == 0) {
			rc = sm_delete(p, &id, ids, n);
			sm_ids_free(ids, n);
		}
		goto out;
	}
	if (sent) {
		if ((rc = sm_store_begin(p, 0)) != 0)
			goto out;
		rc = sm_sent_list(p, &id, stdout, json, limit);
		sm_store_end(p);
		if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout)))
			rc = sm_err(EX_IOERR, "standard output: write error");
		goto out;
	}
	if ((rc = sm_store_begin(p, 1)) != 0)
		goto out;
	rc = drafts ? sm_index_load(p, &id, 'y', &ix) : sm_inbox_open(p, &id, &ix, &bad);
	if (rc) {
		sm_store_end(p);
		goto out;
	}
	/* Expired, recalled and purged messages leave the list. */
	if (!drafts) {
		struct sm_recalls rs;
		sm_recalls_load(p, &rs);
		for (i = 0; i < ix.n; ) {
			if (!sm_entry_live(p, &ix.v[i], &rs))
				sm_index_drop(&ix, &ix.v[i]);
			else
				i++;
		}
		sm_recalls_free(&rs);
	}
	if ((rc = sm_store_commit(p)) != 0)
		goto out;
	sm_index_sort(&ix);
	for (i = 0; i < ix.n && (limit < 0 || shown < (size_t)limit); i++) {
		const struct sm_entry *e = &ix.v[i];
		char when[32];
		if (unread && (e->flags & SM_F_READ))
			continue;
		sm_fmt_time(e->date, when);
		if (json) {
			sm_buf j = { 0 };
			char flags[3] = { e->flags & SM_F_READ ? 'R' : 'N',
			    e->flags & SM_F_ATT ? 'A' : '-', 0 };
			sm_json_begin(&j);
			sm_json_str(&j, "id", e->id);
			sm_json_str(&j, "date", when);
			if (drafts)
				sm_json_str(&j, "to", e->to);
			else {
				sm_json_str(&j, "flags", flags);
				sm_json_str(&j, "from", e->from);
			}
			sm_json_str(&j, "subject", e->subject);
			sm_json_end(&j);
			fwrite(j.p, 1, j.len, stdout);
			sm_buf_free(&j);
		} else if (drafts) {
			printf("%s\t%s\t", e->id, when);
			field(e->to);
		} else {
			printf("%s\t%s\t%c%c\t", e->id, when,
			    e->flags & SM_F_READ ? 'R' : 'N',
			    e->flags & SM_F_ATT ? 'A' : '-');
			field(e->from);
		}
		if (!json) {
			putchar('\t');
			field(e->subject);
			putchar('\n');
		}
		shown++;
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = sm_err(EX_IOERR, "standard output: write error");
	if (rc == 0 && bad)
		rc = EX_DATAERR;
out:
	sm_index_free(&ix);
	sm_ident_free(&id);
	sm_portal_close(p);
	return rc;
}
