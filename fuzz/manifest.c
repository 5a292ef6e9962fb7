/* A batch manifest, line by line. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *raw, size_t size)
{
	static const uint8_t empty[1];
	const uint8_t *data = raw ? raw : empty;
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		struct sm_mline m;
		if (sm_manifest_line(p, n, &m) == 0) {
			if (m.nrcpt == 0 || !m.subject || !m.body)
				abort();
			sm_mline_free(&m);
		}
		p += n;
	}
	return 0;
}
