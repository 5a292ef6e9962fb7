/* The portal's config file. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *raw, size_t size)
{
	static const uint8_t empty[1];
	const uint8_t *data = raw ? raw : empty;
	struct sm_config c;
	int rc;

	sm_config_defaults(&c);
	rc = sm_config_parse(&c, "config", (const char *)data, size);
	if (rc != 0 && rc != EX_CONFIG)
		abort();
	sm_config_free(&c);
	return 0;
}
