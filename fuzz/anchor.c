/* An anchor line of the audit log, as smail-admin check --anchors reads
 * it from a file or the journal: what parses must print back the same. */
#include <stdio.h>

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *raw, size_t size)
{
	static const uint8_t empty[1];
	const uint8_t *data = raw ? raw : empty;
	struct sm_anchor a, b;
	char id[33], hash[65], *sig, *again;
	int r;

	r = sm_anchor_parse((const char *)data, size, &a);
	if (r < -1 || r > 1)
		abort();
	if (r != 1)
		return 0;
	if (a.seq == 0)
		abort();
	sm_hex(id, a.portal, 16);
	sm_hex(hash, a.hash, 32);
	sig = sm_b64(a.sig, 64);
	again = sm_xasprintf("smail-audit-anchor portal=%s seq=%llu hash=%s sig=%s",
	    id, (unsigned long long)a.seq, hash, sig);
	if (sm_anchor_parse(again, strlen(again), &b) != 1 ||
	    memcmp(&a, &b, sizeof a) != 0)
		abort();
	free(again);
	free(sig);
	return 0;
}
