/* smail-reset: request a password reset, or activate one from its
 * token. */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "smail.h"

static const char usage[] =
    "smail-reset [-q] [-d DIR] ADDR               request: new password, "
    "token mailed\n"
    "       smail-reset [-q] [-d DIR] [-t TOKEN|-] ADDR   activate (or the mail "
    "on stdin)\n"
    "The new password comes from the terminal, --password-file FILE or\n"
    "--password-fd N; activation asks for it again.  An account registered\n"
    "with an access code gives it too (--access-code-file FILE).\n"
    "common options: -d/--dir DIR, --password-file FILE, --password-fd N,\n"
    "  -q/--quiet, -h/--help, -V/--version\n";

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		SM_LONGOPTS_COMMON,
		{ "token", required_argument, 0, 't' },
		{ "access-code-file", required_argument, 0, SM_OPT_CODEFILE },
		{ 0, 0, 0, 0 }
	};
	struct sm_opts o;
	char *token = NULL;
	const char *codefile = NULL;
	unsigned char *raw = NULL;
	sm_portal *p = NULL;
	int c, rc;

	sm_init(argv[0]);
	sm_opts_init(&o);
	while ((c = getopt_long(argc, argv, "d:t:qhV", longopts, NULL)) != -1) {
		if (sm_opts_common(&o, c, optarg, usage))
			continue;
		switch (c) {
		case 't':
			if (token)
				sm_secret_free(token);
			token = sm_secret_alloc(strlen(optarg) + 1);
			memcpy(token, optarg, strlen(optarg));
			sm_wipe_arg(optarg);
			break;
		case SM_OPT_CODEFILE:
			codefile = optarg;
			break;
		default:
			sm_usage(usage);
		}
	}
	if (argc - optind != 1)
		sm_usage(usage);
	if ((!token || strcmp(token, "-") == 0) && o.password_fd == 0 &&
	    (token || !isatty(0))) {
		sm_err(EX_USAGE, "standard input carries the token: the password "
		    "cannot come from descriptor 0 too");
		rc = EX_USAGE;
		goto out;
	}
	if ((rc = sm_portal_open(o.dir, &p)) != 0)
		goto out;
	raw = sm_secret_alloc(32);
	rc = sm_token_input(SM_TOKEN_RESET, token, raw);
	if (rc == 1 || rc == 2)
		rc = sm_reset_request(p, &o, argv[optind], codefile);
	else if (rc == 0)
		rc = sm_reset_activate(p, &o, argv[optind], raw);
out:
	if (raw)
		sm_secret_free(raw);
	if (token)
		sm_secret_free(token);
	sm_portal_close(p);
	return rc;
}
