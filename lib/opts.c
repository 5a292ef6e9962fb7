/* opts.c: the options every command shares (SPEC §4). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "smail.h"

void
sm_opts_init(struct sm_opts *o)
{
	memset(o, 0, sizeof *o);
	o->password_fd = -1;
	o->dir = getenv("SMAIL_DIR");
	o->user = getenv("SMAIL_USER");
	o->password_file = getenv("SMAIL_PASSWORD_FILE");
	if (o->dir && !*o->dir)
		o->dir = NULL;
	if (o->user && !*o->user)
		o->user = NULL;
	if (o->password_file && !*o->password_file)
		o->password_file = NULL;
}

void
sm_usage(const char *usage)
{
	fprintf(stderr, "usage: %s", usage);
	exit(EX_USAGE);
}

int
sm_parse_fd(const char *arg)
{
	char *end;
	long v;

	v = strtol(arg, &end, 10);
	if (!*arg || *end || v < 0 || v > INT_MAX)
		sm_die(EX_USAGE, "'%s' is not a file descriptor", arg);
	return (int)v;
}

int
sm_opts_common(struct sm_opts *o, int c, const char *arg, const char *usage)
{
	switch (c) {
	case 'd':
	case SM_OPT_DIR:
		o->dir = arg;
		return 1;
	case 'u':
	case SM_OPT_USER:
		o->user = arg;
		return 1;
	case SM_OPT_PWFILE:
		o->password_file = arg;
		o->password_fd = -1;
		return 1;
	case SM_OPT_PWFD:
		o->password_fd = sm_parse_fd(arg);
		o->password_file = NULL;
		return 1;
	case 'q':
		sm_quiet = 1;
		return 1;
	case 'h':
		printf("usage: %s", usage);
		exit(0);
	case 'V':
		printf("%s %s\n", sm_progname, SMAIL_VERSION);
		exit(0);
	case '?':
	case ':':
		sm_usage(usage);
	}
	return 0;
}
