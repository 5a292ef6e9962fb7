/* tap.h: the Test Anything Protocol for the C unit tests. */
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

#define plan(n) printf("1..%d\n", (n))
#define ok(cond, ...) do { \
	int tap_ok_ = !!(cond); \
	printf("%s %d - ", tap_ok_ ? "ok" : "not ok", ++tap_n); \
	printf(__VA_ARGS__); \
	printf("\n"); \
	if (!tap_ok_) { \
		tap_failed++; \
		printf("#   failed at %s line %d\n", __FILE__, __LINE__); \
	} \
} while (0)
#define done() (fflush(stdout), tap_failed ? 1 : 0)
