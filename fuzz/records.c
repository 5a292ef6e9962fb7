/* Stored records as an attacker with the store file could write them:
 * the first byte picks the decoder. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *v;
	size_t n;

	if (!data || size == 0)
		return 0;
	v = data + 1;
	n = size - 1;
	switch (data[0] % 7) {
	case 0: {
		struct sm_account a;
		if (sm_account_decode(&a, v, n) == 0) {
			sm_buf b = { 0 };
			struct sm_account again;
			sm_account_encode(&b, &a);
			if (sm_account_decode(&again, b.p, b.len) != 0)
				abort();
			sm_account_free(&again);
			sm_buf_free(&b);
			sm_account_free(&a);
		}
		break;
	}
	case 1: {
		struct sm_env e;
		if (sm_env_decode(&e, v, n) == 0)
			sm_env_free(&e);
		break;
	}
	case 2: {
		struct sm_stmt s;
		if (sm_stmt_decode(&s, v, n) == 0)
			sm_stmt_free(&s);
		break;
	}
	case 3: {
		struct sm_index ix;
		if (sm_index_decode(&ix, v, n) == 0) {
			sm_index_sort(&ix);
			sm_index_free(&ix);
		}
		memset(&ix, 0, sizeof ix);
		if (sm_index_head_decode(&ix, v, n) == 0)
			sm_index_free(&ix);
		break;
	}
	case 4: {
		struct sm_book b;
		if (sm_book_decode(&b, (const char *)v, n) == 0)
			sm_book_free(&b);
		break;
	}
	case 6: {
		struct sm_dlv d;
		if (sm_dlv_decode(&d, (const char *)v, n) == 0)
			sm_dlv_free(&d);
		break;
	}
	case 5: {
		sm_rd r;
		const unsigned char *f;
		size_t fn;
		unsigned tag;
		if (sm_rd_begin(&r, v, n, "SMA1") == 0)
			while (sm_rd_next(&r, &tag, &f, &fn) == 1)
				;
		break;
	}
	}
	return 0;
}
