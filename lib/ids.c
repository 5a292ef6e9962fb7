/* ids.c: message ids from operands, or one a line from standard input. */
#include <stdlib.h>
#include <string.h>

#include "smail.h"

void
sm_ids_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
sm_ids_parse(const char *text, size_t len, char ***v, size_t *n)
{
	const char *p = text, *end = text + len;

	if (memchr(text, 0, len))
		return sm_err(EX_DATAERR, "standard input: NUL byte where ids "
		    "were expected");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t f = 0;
		char *id;
		while (p + f < le && p[f] != '\t' && p[f] != ' ' && p[f] != '\r')
			f++;
		if (f) {
			id = sm_xstrndup(p, f);
			if (!sm_id_valid(id)) {
				int rc;
				for (f = 0; id[f]; f++)
					if ((unsigned char)id[f] < 0x20 || id[f] == 0x7f)
						id[f] = '?';
				rc = sm_err(EX_DATAERR, "standard input: '%.40s' is not "
				    "a message id", id);
				free(id);
				return rc;
			}
			*v = sm_xrealloc(*v, (*n + 1) * sizeof **v);
			(*v)[(*n)++] = id;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/*
 * The ids named by ARGV; "-" reads ids from standard input, one a line
 * (the first field of the line, so whole inbox lines work too; blank
 * lines are skipped).  A malformed id is bad input (65).
 */
int
sm_ids_collect(int argc, char **argv, char ***out, size_t *nout)
{
	char **v = NULL;
	size_t n = 0;
	int i, rc = 0;

	for (i = 0; i < argc && rc == 0; i++) {
		if (strcmp(argv[i], "-") == 0) {
			char *text;
			size_t len;
			if ((rc = sm_read_fd(0, "standard input", 64 << 20, &text,
			    &len)) == 0) {
				rc = sm_ids_parse(text, len, &v, &n);
				free(text);
			}
			continue;
		}
		if (!sm_id_valid(argv[i])) {
			rc = sm_err(EX_DATAERR, "'%.40s' is not a message id", argv[i]);
			break;
		}
		v = sm_xrealloc(v, (n + 1) * sizeof *v);
		v[n++] = sm_xstrdup(argv[i]);
	}
	if (rc) {
		sm_ids_free(v, n);
		return rc;
	}
	*out = v;
	*nout = n;
	return 0;
}
