#!/bin/sh
# Progress lines: on a terminal, for work that takes a while, in the
# documented form; never with -q, never when standard error is not a
# terminal (cron, pipes, files).
. "$(dirname "$0")/lib.sh"
pty() { "$PYTHON" "$T_SRC/pty-run.py" "$@"; }

A=ada@agency.example B=ben@partner.example
new_portal
add_user $A 'Kite#Zebra42x'
add_user $B 'Tulip&River77q'
smail-register --login --password-file "pw.$A" $A 2>/dev/null
smail-register --login --password-file "pw.$B" $B 2>/dev/null

head -c 12582912 /dev/urandom >big.bin          # 12 MiB
printf 'Large one\n' >body.txt
run 0 "a 12 MiB attachment is sent" smail-send -u $A -s Large -m body.txt -a big.bin $B
big=$(cut -f1 out)
smail-inbox --user $B >/dev/null 2>&1

# A reader that takes its time keeps the fetch going for over a second.
slow_reader='(sleep 1.5; cat >/dev/null)'

run 0 "fetch -a into a slow pipe, on a terminal" pty -t 60 -- sh -c \
	"smail-fetch -u $B -a big.bin $big | $slow_reader"
out_has "a progress line names the message" "smail-fetch: $big "
out_has "with bytes done, the attachment's size, the rate" \
	'[0-9.]+ (B|KiB|MiB)/12\.0 MiB, [0-9.]+ (B|KiB|MiB)/s'
check "no blank before the comma" sh -c "! grep -q ' ,' out"
check "the line is erased at the end (ESC [K)" grep -q "$(printf '\033')\[K" out

run 0 "the same with -q" pty -t 60 -- sh -c \
	"smail-fetch -q -u $B -a big.bin $big | $slow_reader"
check "shows no progress" sh -c "! grep -q 'smail-fetch: $big' out"

run 0 "the same with standard error to a file" pty -t 60 -- sh -c \
	"smail-fetch -u $B -a big.bin $big 2>fetch.err | $slow_reader"
check "writes none there" test ! -s fetch.err
check "nor on the terminal" sh -c "! grep -q 'smail-fetch: $big' out"

# -e base64-encodes the attachment; the count is still its own bytes.
run 0 "fetch -e into a slow pipe" pty -t 60 -- sh -c \
	"smail-fetch -u $B -e $big | $slow_reader"
out_has "counts toward the attachment's size" '[0-9.]+ (B|KiB|MiB)/12\.0 MiB'
last=$(tr '\r' '\n' <out | grep -Eo '[0-9.]+ (B|KiB|MiB)/12\.0 MiB' | tail -n 1)
check "never past it ($last)" sh -c "echo '$last' | awk -F'[ /]' '
	\$1 == \"\" { exit 1 }
	{ v = \$1 / (\$2 == \"MiB\" ? 1 : \$2 == \"KiB\" ? 1024 : 1048576); exit !(v <= 12.0) }'"

# A batch from a pipe: no total, lines and a rate.
i=0
while [ $i -lt 12 ]; do
	i=$((i + 1))
	printf '%s\tcase %d\tbody.txt\n' $B $i
done >manifest
# One line every 0.1 s (0.5 s under valgrind, where the command takes
# longer to start than the whole manifest would take to arrive).
gap=0.1
slow && gap=0.5
run 0 "a batch fed slowly on a terminal" pty -t 120 -- sh -c \
	"while read -r l; do printf '%s\n' \"\$l\"; sleep $gap; done <manifest |
	smail-send -u $A -b - >ids"
out_has "shows lines done and a rate" 'smail-send: batch [0-9]+ lines, [0-9.]+/s'
same "and every id still goes to standard output" 12 "$(wc -l <ids | tr -d ' ')"
check "none of the progress goes there" sh -c "! grep -q batch ids"

run 0 "a batch from a pipe without a terminal" sh -c \
	"while read -r l; do printf '%s\n' \"\$l\"; sleep 0.05; done <manifest |
	smail-send -u $A -b - >ids2 2>batch.err"
check "writes no progress to standard error" test ! -s batch.err
done_testing
