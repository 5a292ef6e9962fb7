/* vCard and CSV imports, and the export of what was imported, which
 * must import back to the same book. */
#include "fuzz.h"

static void
same(const struct sm_book *a, const struct sm_book *b)
{
	size_t i;

	if (a->nc != b->nc || a->ng != b->ng)
		abort();
	for (i = 0; i < a->nc; i++)
		if (strcmp(a->c[i].addr, b->c[i].addr) ||
		    strcmp(a->c[i].first, b->c[i].first) ||
		    strcmp(a->c[i].last, b->c[i].last))
			abort();
	for (i = 0; i < a->ng; i++)
		if (strcmp(a->g[i].name, b->g[i].name) || a->g[i].n != b->g[i].n)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *raw, size_t size)
{
	static const uint8_t empty[1];
	const uint8_t *data = raw ? raw : empty;
	struct sm_book b, again;
	sm_buf out = { 0 };

	memset(&b, 0, sizeof b);
	memset(&again, 0, sizeof again);
	if (sm_book_import(&b, (const char *)data, size, "fuzz") == 0) {
		sm_book_sort(&b);
		sm_book_export(&b, &out);
		if (sm_book_import(&again, (const char *)out.p, out.len, "again") != 0)
			abort();
		sm_book_sort(&again);
		same(&b, &again);
	}
	sm_buf_free(&out);
	sm_book_free(&b);
	sm_book_free(&again);
	return 0;
}
