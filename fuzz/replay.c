/* replay: runs a harness over saved inputs without libFuzzer: the seed
 * corpus and every crash ever found, in `make check`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "smail.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	int i;

	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		char *text;
		size_t len;
		if (sm_read_file(argv[i], 64 << 20, &text, &len) != 0) {
			fprintf(stderr, "replay: %s: cannot read\n", argv[i]);
			return 1;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)text, len);
		free(text);
	}
	printf("%d inputs\n", argc - 1);
	return 0;
}
