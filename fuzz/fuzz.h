/* fuzz.h: what every harness shares.  Built with libFuzzer by `make
 * fuzz`, or with fuzz/replay.c as a plain program that runs saved
 * inputs (the seed corpus and every crash ever found) in `make check`. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "smail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	sm_silent = 1;
	return 0;
}

/* The input as a NUL-terminated string (parsers of text get one). */
static inline char *
text_of(const uint8_t *data, size_t size)
{
	char *s = sm_xmalloc(size + 1);

	memcpy(s, data, size);
	s[size] = 0;
	return s;
}
