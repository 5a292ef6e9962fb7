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
			char *text, *line, *save = NULL;
			size_t len;
			if ((rc = sm_read_fd(0, "standard input", 64 << 20, &text,
			    &len)) != 0)
				break;
			if (memchr(text, 0, len)) {
				free(text);
				rc = sm_err(EX_DATAERR, "standard input: NUL byte "
				    "where ids were expected");
				break;
			}
			for (line = strtok_r(text, "\n", &save); line && rc == 0;
			    line = strtok_r(NULL, "\n", &save)) {
				size_t f = strcspn(line, "\t \r");
				line[f] = 0;
				if (!*line)
					continue;
				if (!sm_id_valid(line)) {
					rc = sm_err(EX_DATAERR, "standard input: '%.40s' is "
					    "not a message id", line);
					break;
				}
				v = sm_xrealloc(v, (n + 1) * sizeof *v);
				v[n++] = sm_xstrdup(line);
			}
			free(text);
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
