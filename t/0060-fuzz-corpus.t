#!/bin/sh
# Every fuzz harness over its seed corpus and the crashes it has found
# (fuzz/corpus/NAME/): the parsers of outside data must survive them.
# `make fuzz` runs the same harnesses under libFuzzer for new inputs.
. "$(dirname "$0")/lib.sh"

for src in "$T_SRC"/../fuzz/*.c; do
	name=$(basename "$src" .c)
	[ "$name" = replay ] && continue
	corpus=$T_SRC/../fuzz/corpus/$name
	if [ ! -x "$SMAIL_BUILD/fuzz/$name" ]; then
		not_ok "$name: the harness was not built"
		continue
	fi
	set -- "$corpus"/*
	if [ ! -e "$1" ]; then
		not_ok "$name: no seed corpus in fuzz/corpus/$name"
		continue
	fi
	run 0 "$name: $# saved inputs" "$SMAIL_BUILD/fuzz/$name" "$@"
done
done_testing
