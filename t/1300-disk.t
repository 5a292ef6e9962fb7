#!/bin/sh
# A full disk: a portal on a small tmpfs.  Sending 400 KiB attachments
# until a send fails: that send exits 74 naming the lack of space, the
# store still opens and passes check, every message sent before reads
# back byte for byte, the failed one is not listed, and with more room
# sending works again.  Then the disk filled from outside: a send whose
# attachment cannot fit exits 74 and stores nothing.  Needs root (mount).
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root to mount a small tmpfs (running as uid $(id -u))"
	exit 0
fi
MNT=$scratch/mnt
mkdir -m 700 "$MNT"
if ! mount -t tmpfs -o size=6m,mode=0700 tmpfs "$MNT" 2>mount.err; then
	echo "1..0 # SKIP mount -t tmpfs failed: $(head -n 1 mount.err)"
	exit 0
fi
trap 'cd /; umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null; rm -rf "$scratch"' EXIT

SMAIL_DIR=$MNT/portal
A=alice@agency.gov B=bob@partner.example
new_portal
add_user $A 'Kite#Zebra42x'
add_user $B 'Tulip&River77q'
for u in $A $B; do smail-register --login --password-file pw.$u $u 2>/dev/null; done
printf 'A body for the disk tests\n' >body.txt
free_kib() { df -Pk "$MNT" | awk 'NR == 2 { print $4 }'; }
listed() { smail-inbox --user $B 2>/dev/null | cut -f1 | sort; }

# att/N/doc.bin: 400 KiB of random bytes each (all named doc.bin, so
# that "smail-fetch -a doc.bin -o DIR ID..." fetches them all at once).
mk_att() {
	mkdir -p att/$1
	head -c 409600 /dev/urandom >att/$1/doc.bin
}
: >sent
: >sums
i=0 rc=0
while [ $i -lt 40 ]; do
	i=$((i + 1))
	mk_att $i
	smail-send -u $A -s "Disk $i" -a att/$i/doc.bin -m body.txt $B >out 2>err
	rc=$?
	[ $rc -eq 0 ] || break
	printf '%s\t%s\n' "$(cat out)" "$(sha256sum <att/$i/doc.bin | cut -d' ' -f1)" >>sums
	cut -f1 sums >sent
done
n=$(wc -l <sent | tr -d ' ')
echo "# $n sends of 400 KiB fit in 6 MiB; send $i exited $rc with $(free_kib) KiB free"
check "some sends fit before the disk filled ($n)" test "$n" -ge 3
same "the send that did not fit exits 74" 74 "$rc"
diag <err
err_has "naming the lack of space" 'space'
check "in one line" test "$(wc -l <err | tr -d ' ')" -eq 1
check "with nothing printed" test ! -s out
run 0 "the store still opens: smail-admin check passes" smail-admin check
run 0 "smail-inbox works" smail-inbox --user $B
cut -f1 out | sort >now
same "it lists exactly the messages sent before: the failed one is not listed" \
	"$(sort sent)" "$(cat now)"
mkdir got1
run 0 "every message sent before reads" smail-fetch -u $B -a doc.bin -o got1 - <sent
bad=
while IFS="$(printf '\t')" read -r id sum; do
	[ "$(sha256sum <got1/$id.bin | cut -d' ' -f1)" = "$sum" ] || bad="$bad $id"
done <sums
same "byte-identical (sha256)" "" "$bad"
check "nothing staged is left behind in queue/tmp" test -z "$(ls "$SMAIL_DIR/queue/tmp")"

run 0 "mount -o remount,size=64m gives more room" mount -o remount,size=64m "$MNT"
run 0 "the same send works again" \
	smail-send -u $A -s "Disk $i" -a att/$i/doc.bin -m body.txt $B
M=$(cat out)
run 0 "and reads back" smail-fetch -u $B -a doc.bin "$M"
check "byte for byte" cmp -s out att/$i/doc.bin
listed >before

# --- the disk filled from outside ---
dd if=/dev/zero of="$MNT/filler" bs=64k >dd.out 2>&1
same "dd fills the disk until it fails" 1 "$?"
check "with ENOSPC" grep -q 'No space left' dd.out
# Remove a little: 2 MiB, less than the next attachment needs.
truncate -s -2M "$MNT/filler"
echo "# $(free_kib) KiB free after removing 2 MiB of the filler"
mkdir big
head -c 3145728 /dev/urandom >big/doc.bin
run 74 "a send whose 3 MiB attachment cannot fit: 74" \
	smail-send -u $A -s 'Too big' -a big/doc.bin -m body.txt $B
err_has "naming the lack of space" 'space'
check "nothing printed" test ! -s out
run 0 "the store is intact: check passes" smail-admin check
same "nothing new listed" "$(cat before)" "$(listed)"
mkdir got2
run 0 "every earlier message still reads" smail-fetch -u $B -a doc.bin -o got2 - <before
bad=
while IFS="$(printf '\t')" read -r id sum; do
	[ "$(sha256sum <got2/$id.bin | cut -d' ' -f1)" = "$sum" ] || bad="$bad $id"
done <sums
same "byte-identical (sha256)" "" "$bad"
rm -f "$MNT/filler"
run 0 "with the filler gone, the big send works" \
	smail-send -u $A -s 'Fits now' -a big/doc.bin -m body.txt $B
M2=$(cat out)
run 0 "and reads back" smail-fetch -u $B -a doc.bin "$M2"
check "byte for byte" cmp -s out big/doc.bin

# --- the disk full to the last pages: 16 KiB left, small sends until
# one fails; reading must still work ---
dd if=/dev/zero of="$MNT/filler" bs=4k >dd.out 2>&1
truncate -s -16K "$MNT/filler"
echo "# $(free_kib) KiB free"
head -c 100000 /dev/urandom >small.bin
: >small.sent
j=0 rc=0
while [ $j -lt 20 ]; do
	j=$((j + 1))
	smail-send -u $A -s "Small $j" -a small.bin -m body.txt $B >out 2>err
	rc=$?
	[ $rc -eq 0 ] || break
	cat out >>small.sent
done
echo "# $(wc -l <small.sent | tr -d ' ') small sends fitted;" \
	"send $j exited $rc with $(free_kib) KiB free"
same "the small send that did not fit exits 74" 74 "$rc"
err_has "naming the lack of space" 'space'
run 0 "the store is intact: check passes" smail-admin check
run 0 "smail-inbox still works on the full disk" smail-inbox --user $B
same "listing every message sent, the failed one not" \
	"$(cat before small.sent | sort)" "$(cut -f1 out | grep -v "^$M2\$" | sort)"
run 0 "an earlier message still reads on the full disk" \
	smail-fetch -u $B -a doc.bin "$(head -n 1 sent)"
check "byte for byte" cmp -s out att/1/doc.bin
rm -f "$MNT/filler"
run 0 "with room again, smail-inbox works" smail-inbox --user $B
same "listing the same" "$(cat before small.sent | sort)" \
	"$(cut -f1 out | grep -v "^$M2\$" | sort)"
run 0 "check passes at the end" smail-admin check
done_testing
