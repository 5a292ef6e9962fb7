#!/bin/sh
# The index in segments (lib/inbox.c): 300 messages make a head and
# three segments of at most 128 entries; a new message, a read mark and
# a delete each rewrite one segment, not the index; deletes that empty
# a segment remove it from the head; every listing is whole and in
# order; check passes throughout.
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR

A=alice@agency.gov B=bob@partner.example
POKE=$SMAIL_BUILD/helpers/poke
new_portal
add_user $A 'Kite#Zebra42x'
add_user $B 'Tulip&River77q'
smail-register --login --password-file pw.$A $A 2>/dev/null
smail-register --login --password-file pw.$B $B 2>/dev/null
T=$(printf '\t')
echo 'Body' >body.txt
i=0
while [ $i -lt 300 ]; do
	i=$((i + 1))
	printf '%s\tNumber %03d\tbody.txt\n' $B $i
done >manifest
run 0 "300 messages in a batch" smail-send -u $A -b manifest
cut -f1 out >sent
segs() { $POKE keys "X:$B:" | wc -l | tr -d ' '; }
# changed BEFORE AFTER: how many index records (head, segments) differ.
changed() {
	join -t "$T" -a 1 -a 2 -e none -o 0,1.2,2.2 "$1" "$2" |
		awk -F "$T" '$2 != $3' | wc -l | tr -d ' '
}
dump() { $POKE dump "X:$B" | LC_ALL=C sort >"$1"; }

run 0 "bob lists them" smail-inbox --user $B
same "all 300" 300 "$(wc -l <out | tr -d ' ')"
same "newest first" "Number 300" "$(head -n 1 out | cut -f5)"
same "oldest last" "Number 001" "$(tail -n 1 out | cut -f5)"
same "in three segments" 3 "$(segs)"
same "and no one-record index" 0 "$($POKE count x:$B)"
dump d0

echo 'One more' | smail-send -u $A -s 'Number 301' $B >/dev/null 2>&1
run 0 "one more arrives and is listed" smail-inbox --user $B
same "301" 301 "$(wc -l <out | tr -d ' ')"
dump d1
same "the fold rewrote one segment, not the index" 1 "$(changed d0 d1)"

run 0 "bob reads the oldest" smail-fetch -u $B "$(head -n 1 sent | cut -f1)"
run 0 "the listing takes the mark" smail-inbox --user $B
dump d2
same "which rewrote one segment" 1 "$(changed d1 d2)"
same "it shows read" "R-" "$(grep "Number 001\$" out | cut -f3)"

run 0 "bob deletes one message in the middle" smail-inbox --user $B -d \
	"$(sed -n 200p sent | cut -f1)"
dump d3
same "one segment rewritten" 1 "$(changed d2 d3)"
run 0 "bob deletes the first 128" sh -c "head -n 128 sent | cut -f1 | smail-inbox --user $B -d -"
same "the first segment is gone" 2 "$(segs)"
run 0 "listing" smail-inbox --user $B
same "172 left" 172 "$(wc -l <out | tr -d ' ')"
same "none of the deleted" "" "$(head -n 128 sent | cut -f1 | grep -Fxf - out)"
run 0 "smail-admin check" smail-admin check
run 0 "bob deletes the rest" sh -c "smail-inbox --user $B | cut -f1 | smail-inbox --user $B -d -"
same "no index records at all" "0 0" "$(segs) $($POKE count X:$B)"
run 0 "an empty inbox lists nothing" smail-inbox --user $B
same "nothing" "" "$(cat out)"
run 0 "smail-admin check" smail-admin check
done_testing
