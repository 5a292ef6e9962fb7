/* smail-addr: the acting account's address book: contacts and groups. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "smail.h"

static const char usage[] =
    "smail-addr [-q] [-d DIR] [-u ADDR] [--json] LAST, FIRST<TAB>ADDR, sorted\n"
    "       smail-addr -a ADDR [-n \"First Last\"] add or update a contact\n"
    "       smail-addr -r ADDR                  remove a contact (and from "
    "every group)\n"
    "       smail-addr -G [--json]              GROUP<TAB>MEMBERS\n"
    "       smail-addr -g GROUP                 member addresses, one a line\n"
    "       smail-addr -g GROUP -a ADDR... | -r ADDR... | --delete\n"
    "       smail-addr --import FILE|-          vCard 3.0/4.0 or CSV, all or "
    "nothing\n"
    "       smail-addr --export                 vCard 4.0 on standard output\n"
    "common options: -d/--dir DIR, -u/--user ADDR, --password-file FILE,\n"
    "  --password-fd N, -q/--quiet, -h/--help, -V/--version\n";

enum { OPT_IMPORT = SM_OPT_FIRST_FREE, OPT_EXPORT, OPT_DELETE, OPT_JSON };

static int
group_name_ok(const char *g)
{
	if (!sm_group_name_ok(g))
		return sm_err(EX_DATAERR, "'%s': a group name must not be empty, "
		    "start with '@', or hold ',' or control characters", g);
	return 0;
}

static int
list_contacts(struct sm_book *b, int json)
{
	sm_buf l = { 0 };
	size_t i;

	for (i = 0; i < b->nc; i++) {
		l.len = 0;
		if (json) {
			sm_json_begin(&l);
			sm_json_str(&l, "last", b->c[i].last);
			sm_json_str(&l, "first", b->c[i].first);
			sm_json_str(&l, "addr", b->c[i].addr);
			sm_json_end(&l);
			fwrite(l.p, 1, l.len, stdout);
			continue;
		}
		sm_contact_display(&b->c[i], &l);
		sm_buf_putc(&l, 0);
		sm_put_field(stdout, (char *)l.p);
		putchar('\t');
		sm_put_field(stdout, b->c[i].addr);
		putchar('\n');
	}
	sm_buf_free(&l);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		SM_LONGOPTS_COMMON,
		{ "add", no_argument, 0, 'a' },
		{ "remove", no_argument, 0, 'r' },
		{ "name", required_argument, 0, 'n' },
		{ "groups", no_argument, 0, 'G' },
		{ "group", required_argument, 0, 'g' },
		{ "delete", no_argument, 0, OPT_DELETE },
		{ "import", required_argument, 0, OPT_IMPORT },
		{ "export", no_argument, 0, OPT_EXPORT },
		{ "json", no_argument, 0, OPT_JSON },
		{ 0, 0, 0, 0 }
	};
	struct sm_opts o;
	struct sm_ident id = { 0 };
	struct sm_book b;
	sm_portal *p = NULL;
	const char *name = NULL, *group = NULL, *import = NULL;
	int ch, rc, add = 0, rm = 0, groups = 0, del = 0, export = 0, changed = 0;
	int json = 0;
	int nops, i;
	size_t k;

	sm_init(argv[0]);
	sm_opts_init(&o);
	memset(&b, 0, sizeof b);
	while ((ch = getopt_long(argc, argv, "d:u:arn:Gg:qhV", longopts, NULL)) != -1) {
		if (sm_opts_common(&o, ch, optarg, usage))
			continue;
		switch (ch) {
		case 'a': add = 1; break;
		case 'r': rm = 1; break;
		case 'n': name = optarg; break;
		case 'G': groups = 1; break;
		case 'g': group = optarg; break;
		case OPT_DELETE: del = 1; break;
		case OPT_IMPORT: import = optarg; break;
		case OPT_EXPORT: export = 1; break;
		case OPT_JSON: json = 1; break;
		default: sm_usage(usage);
		}
	}
	nops = argc - optind;
	if (add + rm + groups + del + !!import + export > 1 ||
	    (json && (add || rm || del || import || export || group)) ||
	    (del && !group) || (groups && group) ||
	    ((import || export || groups) && (group || nops || name)) ||
	    (name && (!add || group)) ||
	    ((add || rm) && !group && nops != 1) ||
	    ((add || rm) && group && nops < 1) ||
	    (!add && !rm && nops) ||
	    (del && nops)) {
		sm_usage(usage);
	}
	if (group && (rc = group_name_ok(group)) != 0)
		return rc;
	if (name && (rc = sm_name_check(name)) != 0)
		return rc;
	for (i = optind; i < argc; i++) {
		char *c;
		if ((rc = sm_addr_canon(argv[i], &c)) != 0)
			return rc;
		free(c);
	}
	if ((rc = sm_portal_open(o.dir, &p)) != 0)
		goto out;
	if ((rc = sm_auth(p, &o, &id)) != 0)
		goto out;
	if ((rc = sm_store_begin(p, add || rm || del || import)) != 0)
		goto out;
	if ((rc = sm_book_load(p, &id, &b)) != 0)
		goto abort;

	if (import && strcmp(import, "-") == 0 && o.password_fd == 0) {
		rc = sm_err(EX_USAGE, "standard input carries the book: the password "
		    "cannot come from descriptor 0 too");
		goto abort;
	}
	if (import) {
		char *text;
		size_t len;
		size_t nc = b.nc, ng = b.ng;
		rc = strcmp(import, "-") == 0 ?
		    sm_read_fd(0, "standard input", 64 << 20, &text, &len) :
		    sm_read_file(import, 64 << 20, &text, &len);
		if (rc)
			goto abort;
		rc = sm_book_import(&b, text, len, strcmp(import, "-") == 0 ?
		    "stdin" : import);
		free(text);
		if (rc)
			goto abort;
		changed = 1;
		sm_note("%zu contact%s and %zu group%s now (%zu and %zu before)",
		    b.nc, b.nc == 1 ? "" : "s", b.ng, b.ng == 1 ? "" : "s", nc, ng);
	} else if (export) {
		sm_buf v = { 0 };
		sm_book_sort(&b);
		sm_book_export(&b, &v);
		fwrite(v.p, 1, v.len, stdout);
		sm_buf_free(&v);
	} else if (groups) {
		sm_book_sort(&b);
		for (k = 0; k < b.ng; k++) {
			if (json) {
				sm_buf j = { 0 };
				sm_json_begin(&j);
				sm_json_str(&j, "group", b.g[k].name);
				sm_json_int(&j, "members", (long long)b.g[k].n);
				sm_json_end(&j);
				fwrite(j.p, 1, j.len, stdout);
				sm_buf_free(&j);
			} else {
				sm_put_field(stdout, b.g[k].name);
				printf("\t%zu\n", b.g[k].n);
			}
		}
	} else if (group) {
		struct sm_group *g = sm_book_group(&b, group, add);
		if (!g) {
			rc = sm_err(EX_NOINPUT, "%s: no such group", group);
			goto abort;
		}
		if (del) {
			sm_book_delete_group(&b, g);
			changed = 1;
		} else if (add) {
			/* Members come from the contacts: check them all first. */
			for (i = optind; i < argc; i++)
				if (!sm_book_contact(&b, argv[i])) {
					char *cmd = sm_command_line(p, "smail-addr", "-a",
					    argv[i], "-n", "First Last", (char *)NULL);
					rc = sm_err(EX_NOUSER, "%s: not a contact; add it "
					    "first with %s", argv[i], cmd);
					free(cmd);
					goto abort;
				}
			for (i = optind; i < argc; i++)
				sm_group_add(g, sm_book_contact(&b, argv[i])->addr);
			changed = 1;
		} else if (rm) {
			for (i = optind; i < argc; i++)
				if (!sm_group_has(g, argv[i])) {
					rc = sm_err(EX_NOINPUT, "%s: not in group %s",
					    argv[i], group);
					goto abort;
				}
			for (i = optind; i < argc; i++)
				sm_group_remove(g, argv[i]);
			changed = 1;
		} else
			for (k = 0; k < g->n; k++) {
				sm_put_field(stdout, g->members[k]);
				putchar('\n');
			}
	} else if (add) {
		struct sm_contact *c = sm_book_contact(&b, argv[optind]);
		char *first = NULL, *last = NULL;
		if (name)
			sm_name_split(name, &first, &last);
		if (c && !name) {
			first = sm_xstrdup(c->first);
			last = sm_xstrdup(c->last);
		}
		sm_book_set_contact(&b, c ? c->addr : argv[optind], first, last);
		free(first);
		free(last);
		changed = 1;
	} else if (rm) {
		if (!sm_book_remove_contact(&b, argv[optind])) {
			rc = sm_err(EX_NOINPUT, "%s: no such contact", argv[optind]);
			goto abort;
		}
		changed = 1;
	} else {
		sm_book_sort(&b);
		list_contacts(&b, json);
	}
	if (changed) {
		if ((rc = sm_book_save(p, &id, &b)) != 0)
			goto abort;
		rc = sm_store_commit(p);
	} else
		sm_store_end(p);
	if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout)))
		rc = sm_err(EX_IOERR, "standard output: write error");
	goto out;
abort:
	sm_store_end(p);
out:
	sm_book_free(&b);
	sm_ident_free(&id);
	sm_portal_close(p);
	return rc;
}
