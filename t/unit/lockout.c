/*
 * lockout.c: how long an access code lock lasts: lock_time for the
 * first, doubled for each further one in a row, at most a day (or
 * lock_time when that is longer).
 */
#include <stdint.h>

#include "smail.h"
#include "tap.h"

int
main(int argc, char **argv)
{
	(void)argc;
	sm_init(argv[0]);

	ok(sm_code_lock_time(1800, 0) == 1800, "the first lock: lock_time");
	ok(sm_code_lock_time(1800, 1) == 3600, "the second: twice as long");
	ok(sm_code_lock_time(1800, 2) == 7200, "the third: four times");
	ok(sm_code_lock_time(1800, 5) == 57600, "the sixth: 16 hours");
	ok(sm_code_lock_time(1800, 6) == 86400, "the seventh: a day, not 32 hours");
	ok(sm_code_lock_time(1800, 1000) == 86400, "the thousandth: still a day");
	ok(sm_code_lock_time(1800, UINT64_MAX) == 86400, "no overflow at the top");
	ok(sm_code_lock_time(2, 3) == 16, "seconds double the same way (2s: 16s)");
	ok(sm_code_lock_time(2 * 86400, 0) == 2 * 86400 &&
	    sm_code_lock_time(2 * 86400, 4) == 2 * 86400,
	    "a lock_time longer than a day is the cap itself");
	ok(sm_code_lock_time(0, 5) == 0, "a lock_time of 0 stays 0");
	plan(tap_n);
	return done();
}
