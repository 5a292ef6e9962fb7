#!/bin/sh
# The C unit tests (t/unit/*.c, built into $SMAIL_BUILD/unit/): one line
# per program, passing when it exits 0 having run its whole plan with
# no failure; its TAP output shows as diagnostics when it does not.
. "$(dirname "$0")/lib.sh"

for src in "$T_SRC"/unit/*.c; do
	name=$(basename "$src" .c)
	u=$SMAIL_BUILD/unit/$name
	if [ ! -x "$u" ]; then
		not_ok "unit/$name is built (run make)"
		continue
	fi
	"$u" >out 2>err
	rc=$?
	planned=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' out)
	passed=$(grep -c '^ok ' out)
	failed=$(grep -c '^not ok ' out)
	if [ "$rc" -eq 0 ] && [ -n "$planned" ] && [ "$planned" -gt 0 ] &&
	    [ "$failed" -eq 0 ] && [ "$passed" -eq "$planned" ] &&
	    ! grep -q 'Sanitizer\|runtime error:' err; then
		ok "unit/$name: $passed tests"
	else
		not_ok "unit/$name (exit $rc, plan ${planned:-none}, $passed ok, $failed not ok)"
		grep -v '^ok ' out | diag
		diag <err
	fi
done
done_testing
