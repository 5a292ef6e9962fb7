/*
 * rawtext: stores names as given, past the checks the commands make on
 * input, the way a store written by an older version (or by hand) may
 * hold them.  Used by t/0640-control-chars.t, which expects every
 * listing to show them without their control characters.
 *
 *   rawtext name ADDR FIRST LAST       the account ADDR's name
 *   rawtext contact ADDR FIRST LAST    a contact in the acting account's book
 *   rawtext group NAME ADDR            a group (with a contact) in that book
 */
#include <stdlib.h>
#include <string.h>

#include "smail.h"

static int
set_name(sm_portal *p, const char *addr, const char *first, const char *last)
{
	struct sm_account a;
	char *canon;
	int rc;

	if ((rc = sm_addr_canon(addr, &canon)) != 0)
		return rc;
	if ((rc = sm_store_begin(p, 1)) != 0) {
		free(canon);
		return rc;
	}
	if ((rc = sm_account_get(p, canon, &a)) == 0) {
		free(a.first);
		free(a.last);
		a.first = sm_xstrdup(first);
		a.last = sm_xstrdup(last);
		rc = sm_account_put(p, &a);
		sm_account_free(&a);
	}
	rc = rc ? (sm_store_end(p), rc) : sm_store_commit(p);
	free(canon);
	return rc;
}

static int
book(sm_portal *p, const struct sm_opts *o, char **argv)
{
	struct sm_ident me = { 0 };
	struct sm_book b;
	int rc;

	memset(&b, 0, sizeof b);
	if ((rc = sm_auth(p, o, &me)) != 0)
		return rc;
	if ((rc = sm_store_begin(p, 1)) != 0)
		goto out;
	if ((rc = sm_book_load(p, &me, &b)) == 0) {
		if (strcmp(argv[1], "contact") == 0)
			sm_book_set_contact(&b, argv[2], argv[3], argv[4]);
		else {
			struct sm_group *g = sm_book_group(&b, argv[2], 1);
			sm_group_add(g, argv[3]);
		}
		rc = sm_book_save(p, &me, &b);
	}
	rc = rc ? (sm_store_end(p), rc) : sm_store_commit(p);
out:
	sm_book_free(&b);
	sm_ident_free(&me);
	return rc;
}

int
main(int argc, char **argv)
{
	struct sm_opts o;
	sm_portal *p = NULL;
	int rc;

	sm_init(argv[0]);
	sm_opts_init(&o);
	if (argc < 2 || !((strcmp(argv[1], "name") == 0 && argc == 5) ||
	    (strcmp(argv[1], "contact") == 0 && argc == 5) ||
	    (strcmp(argv[1], "group") == 0 && argc == 4)))
		sm_die(EX_USAGE, "usage: rawtext name|contact ADDR FIRST LAST | "
		    "group NAME ADDR");
	if ((rc = sm_portal_open(o.dir, &p)) != 0)
		return rc;
	rc = strcmp(argv[1], "name") == 0 ? set_name(p, argv[2], argv[3], argv[4]) :
	    book(p, &o, argv);
	sm_portal_close(p);
	return rc;
}
