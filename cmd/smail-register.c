/* smail-register: claim an invitation; change the password; sign in
 * and out. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smail.h"

static const char usage[] =
    "smail-register [-q] [-d DIR] [-n \"First Last\"] [-t TOKEN|-]\n"
    "                      [--access-code-file FILE] ADDR\n"
    "       smail-register [-u ADDR] --change-password\n"
    "                      [--new-password-file FILE | --new-password-fd N]\n"
    "       smail-register --login [ADDR]\n"
    "       smail-register [-u ADDR] --logout | --status\n"
    "Without -t the token is read from the invitation mail on standard input.\n"
    "common options: -d/--dir DIR, -u/--user ADDR, --password-file FILE,\n"
    "  --password-fd N, -q/--quiet, -h/--help, -V/--version\n";

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		SM_LONGOPTS_COMMON,
		{ "name", required_argument, 0, 'n' },
		{ "token", required_argument, 0, 't' },
		{ "change-password", no_argument, 0, SM_OPT_CHANGEPW },
		{ "new-password-file", required_argument, 0, SM_OPT_NEWPWFILE },
		{ "new-password-fd", required_argument, 0, SM_OPT_NEWPWFD },
		{ "login", no_argument, 0, SM_OPT_LOGIN },
		{ "logout", no_argument, 0, SM_OPT_LOGOUT },
		{ "status", no_argument, 0, SM_OPT_STATUS },
		{ "access-code-file", required_argument, 0, SM_OPT_CODEFILE },
		{ 0, 0, 0, 0 }
	};
	struct sm_opts o;
	const char *name = NULL, *newfile = NULL, *addr, *codefile = NULL;
	char *token = NULL;
	unsigned char *raw = NULL;
	int c, rc, mode = 0, newfd = -1;
	sm_portal *p = NULL;
	struct sm_ident id = { 0 };

	sm_init(argv[0]);
	sm_opts_init(&o);
	newfile = getenv("SMAIL_NEW_PASSWORD_FILE");
	if (newfile && !*newfile)
		newfile = NULL;
	while ((c = getopt_long(argc, argv, "d:u:n:t:qhV", longopts, NULL)) != -1) {
		if (sm_opts_common(&o, c, optarg, usage))
			continue;
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 't':
			/* Keep a copy; wipe the argument from the command line. */
			if (token)
				sm_secret_free(token);
			token = sm_secret_alloc(strlen(optarg) + 1);
			memcpy(token, optarg, strlen(optarg));
			sm_wipe_arg(optarg);
			break;
		case SM_OPT_NEWPWFILE:
			newfile = optarg;
			newfd = -1;
			break;
		case SM_OPT_NEWPWFD:
			newfd = sm_parse_fd(optarg);
			newfile = NULL;
			break;
		case SM_OPT_CODEFILE:
			codefile = optarg;
			break;
		case SM_OPT_CHANGEPW:
		case SM_OPT_LOGIN:
		case SM_OPT_LOGOUT:
		case SM_OPT_STATUS:
			if (mode && mode != c) {
				sm_err(EX_USAGE, "--change-password, --login, --logout "
				    "and --status exclude each other");
				sm_usage(usage);
			}
			mode = c;
			break;
		default:
			sm_usage(usage);
		}
	}
	if (mode && (token || name)) {
		sm_err(EX_USAGE, "-t and -n are for claiming an invitation");
		sm_usage(usage);
	}
	if (argc - optind > 1 || (!mode && argc - optind != 1) ||
	    (mode && mode != SM_OPT_LOGIN && argc - optind != 0))
		sm_usage(usage);
	addr = optind < argc ? argv[optind] : o.user;

	if ((rc = sm_portal_open(o.dir, &p)) != 0)
		goto out;
	switch (mode) {
	case SM_OPT_STATUS: {
		char *who = NULL;
		if ((rc = sm_session_status(p, o.user, &who)) == 0) {
			printf("%s\n", who);
			if (fflush(stdout) != 0)
				rc = sm_err(EX_IOERR, "standard output: write error");
		}
		free(who);
		break;
	}
	case SM_OPT_LOGOUT:
		rc = sm_logout(p, o.user);
		break;
	case SM_OPT_LOGIN:
		if (!addr) {
			sm_err(EX_USAGE, "--login: give the address (or -u ADDR)");
			sm_usage(usage);
		}
		if ((rc = sm_login(p, &o, addr, &id)) == 0)
			sm_note("%s: signed in", id.addr);
		break;
	case SM_OPT_CHANGEPW:
		if (!addr) {
			char *who = NULL;
			if ((rc = sm_session_status(p, NULL, &who)) != 0) {
				sm_err(rc, "--change-password: give -u ADDR");
				break;
			}
			rc = sm_change_password(p, &o, who, newfile, newfd);
			free(who);
		} else
			rc = sm_change_password(p, &o, addr, newfile, newfd);
		break;
	default:
		raw = sm_secret_alloc(32);
		if ((!token || strcmp(token, "-") == 0) && o.password_fd == 0) {
			sm_err(EX_USAGE, "standard input carries the token: the "
			    "password cannot come from descriptor 0 too");
			rc = EX_USAGE;
			break;
		}
		rc = sm_token_input(SM_TOKEN_INVITE, token, raw);
		if (rc == 2)
			rc = sm_err(EX_DATAERR, "standard input is empty: no "
			    "invitation mail");
		if (rc == 1) {
			sm_err(EX_USAGE, "give the token with -t, or the invitation "
			    "mail on standard input");
			rc = EX_USAGE;
		}
		if (rc == 0)
			rc = sm_register(p, &o, addr, name, raw, codefile);
		break;
	}
out:
	sm_ident_free(&id);
	if (raw)
		sm_secret_free(raw);
	if (token)
		sm_secret_free(token);
	sm_portal_close(p);
	return rc;
}
