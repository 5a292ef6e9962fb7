#!/bin/sh
# A portal made before the store had two copies (store.db alone) and
# before indexes had segments (t/fixtures/README): readers read it as
# it is; the first writer makes the two copies and the control file and
# removes store.db; the first listing turns each index into segments;
# nothing is lost, and check passes.
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR

A=alice@agency.gov B=bob@partner.example
POKE=$SMAIL_BUILD/helpers/poke
rm -rf "$SMAIL_DIR"
tar -C "$scratch" --no-same-owner -xzf "$T_SRC/fixtures/old-portal.tar.gz"
if [ "$(uname -m)" != x86_64 ]; then
	echo "1..0 # SKIP the fixture's GDBM file is x86-64's"
	exit 0
fi
pwfile pw.$A 'Kite#Zebra42x'
pwfile pw.$B 'Tulip&River77q'
OLD="drdngsclme3diqex csqamftdzgqqrego qrzftksx54estdxc"
NEW=gcvrno7ekmogie4z DRAFT=66bc3wo4toaxmhxc

run 0 "a reader lists the accounts of the old store" smail-admin list
same "both" "$A $B" "$(cut -f1 out | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"
same "and leaves the store as it was" "store.db" "$(ls "$SMAIL_DIR" | grep '^store')"
run 0 "bob signs in (the first writer)" smail-register --login --password-file pw.$B $B
same "the store is now two copies and a control file" \
	"store.0.db store.1.db store.ctl" "$(ls "$SMAIL_DIR" | grep '^store' | tr '\n' ' ' | sed 's/ $//')"
same "its mode" "600 600 600" "$(stat -c %a "$SMAIL_DIR"/store.* | tr '\n' ' ' | sed 's/ $//')"
same "the old index is one record" "1 0" "$($POKE count x:$B) $($POKE count X:$B)"
run 0 "bob lists his inbox" smail-inbox
same "the three listed before and the one queued" \
	"$NEW $(echo $OLD | tr ' ' '\n' | tac | tr '\n' ' ' | sed 's/ $//')" \
	"$(cut -f1 out | tr '\n' ' ' | sed 's/ $//')"
same "the index is now a head and one segment" "0 2" "$($POKE count x:$B) $($POKE count X:$B)"
n=0
for id in $OLD; do
	n=$((n + 1))
	run 0 "message $n reads" smail-fetch "$id"
	out_has "its body" "^Body $n Narwhal\$"
	run 0 "its attachment" smail-fetch -a notes.txt "$id"
	same "byte for byte" "attached Okapi" "$(cat out)"
done
run 0 "the queued one reads" smail-fetch "$NEW"
out_has "its body" '^Waiting 4$'
run 0 "a listing after the reads" smail-inbox
same "shows them read" "R- RA RA RA" "$(cut -f3 out | sort | tr '\n' ' ' | sed 's/ $//')"
run 0 "alice signs in" smail-register --login --password-file pw.$A $A
run 0 "her drafts" smail-inbox --user $A --drafts
same "the old draft" "$DRAFT" "$(cut -f1 out)"
run 0 "her address book" smail-addr -u $A
same "the contact" "Counsel, Carol	carol@partner.example" "$(cat out)"
echo 'After the upgrade' | smail-send -u $A -s Upgraded $B >new.id 2>err
run 0 "alice sends" test -s new.id
run 0 "bob lists five" smail-inbox --user $B
same "five" 5 "$(wc -l <out | tr -d ' ')"
run 0 "smail-admin check passes" smail-admin check
done_testing
