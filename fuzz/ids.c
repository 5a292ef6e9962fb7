/* Message ids on standard input. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *raw, size_t size)
{
	static const uint8_t empty[1];
	const uint8_t *data = raw ? raw : empty;
	char **v = NULL;
	size_t n = 0, i;

	if (sm_ids_parse((const char *)data, size, &v, &n) == 0)
		for (i = 0; i < n; i++)
			if (!sm_id_valid(v[i]))
				abort();
	sm_ids_free(v, n);
	return 0;
}
