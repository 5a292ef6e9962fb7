#!/bin/sh
# smail-admin backup and restore, and check: a backup is one tar
# (mode 0600, never over an existing file); restore makes a working
# portal from it (never over a non-empty directory) with the same
# accounts, messages (byte for byte) and address books; the recovery
# key goes along only with --with-recovery-key, under a passphrase (a
# wrong one creates nothing); a backup taken during a batch send is
# consistent; check reports a changed byte in one message by its id
# only, exits 65, and never changes the store.
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR

trap 'for _f in "$scratch"/*.bg; do [ -f "$_f" ] && kill "$(cat "$_f")" 2>/dev/null; done
cd /; rm -rf "$scratch"' EXIT

A=alice@agency.gov B=bob@partner.example C=carol@partner.example
ORIG=$SMAIL_DIR
new_portal
add_user $A 'Kite#Zebra42x' "Alice Agent"
add_user $B 'Tulip&River77q' "Bob Partner"
add_user $C 'Maple@Stone31z' "Carol Client"
for u in $A $B $C; do smail-register --login --password-file pw.$u $u 2>/dev/null; done
pwfile pw.new 'Hazel=Creek26w'
pwfile pass 'Quartz&Meadow93v'
pwfile wrong.pass 'Quartz&Meadow93w'

# --- helpers ---
# at NAME CMD...: CMD against the portal $scratch/NAME, with a runtime
# directory of its own (its sessions apart from the original's).
at() {
	_d=$1
	shift
	[ -d "$scratch/run.$_d" ] || mkdir -m 700 "$scratch/run.$_d"
	SMAIL_DIR=$scratch/$_d XDG_RUNTIME_DIR=$scratch/run.$_d "$@"
}
sha() { sha256sum <"$1" | cut -d' ' -f1; }
# store_sha: one sum over every file of the store (both copies and the
# control file).
store_sha() { cat "$ORIG"/store.* | sha256sum | cut -d' ' -f1; }
mode_of() { stat -c %a "$1"; }
# The store, through GDBM (as in t/0800-fetch.t): "keys PREFIX" lists
# keys; "flip KEY mid" changes the middle byte of a record.
poke=$SMAIL_BUILD/helpers/poke

# --- what the portal holds ---
printf 'Confidential body Okapi\n' >b1.txt
printf 'Second body\n' >b2.txt
head -c 200000 /dev/urandom >rand.bin
head -c 3000 /dev/urandom >'rapport-été.pdf'
printf 'notes content Axolotl\n' >notes.txt
M1=$(smail-send -u $A -s 'Backup Zanzibar' -a rand.bin -a notes.txt -m b1.txt $B 2>/dev/null)
M2=$(smail-send -u $A -s 'Second' -a 'rapport-été.pdf' -c $C -m b2.txt $B 2>/dev/null)
M3=$(smail-send -u $B -r "$M1" -m b2.txt 2>/dev/null)
check "three messages" test -n "$M1" -a -n "$M2" -a -n "$M3"
smail-addr -u $A -a $B -n 'Bob Partner' 2>/dev/null
smail-addr -u $A -a $C -n 'Carol Client' 2>/dev/null
smail-addr -u $A -a dora.contact@outside.example -n 'Dora Contact' 2>/dev/null
smail-addr -u $A -g team -a $B $C 2>/dev/null
smail-addr -u $A >book.orig 2>/dev/null
smail-addr -u $A -G >groups.orig 2>/dev/null
check "alice has an address book with a group" test -s book.orig -a -s groups.orig
smail-fetch -u $B "$M1" >view1.orig 2>/dev/null
smail-fetch -u $C "$M2" >view2.orig 2>/dev/null
smail-admin list >list.orig 2>/dev/null

# ====================================================================
# backup
# ====================================================================
run 0 "smail-admin backup FILE" smail-admin backup bk1.tar
same "the backup is mode 0600" 600 "$(mode_of bk1.tar)"
run 0 "bsdtar -tf lists it" bsdtar -tf bk1.tar
same "the marker, the config and the store dump; no recovery key" \
	"config
smail-backup
store.dump" "$(LC_ALL=C sort out)"
for s in Zanzibar Okapi Axolotl notes.txt 'rapport-été' 'Second body'; do
	if grep -qaF -- "$s" bk1.tar; then
		not_ok "the backup holds no '$s' in the clear"
	else
		ok "the backup holds no '$s' in the clear"
	fi
done
s1=$(sha bk1.tar)
run 73 "a backup onto an existing FILE: 73" smail-admin backup bk1.tar
same "which is left as it was" "$s1" "$(sha bk1.tar)"
run 64 "backup without FILE: 64" smail-admin backup

# ====================================================================
# restore
# ====================================================================
mkdir full
printf 'mine\n' >full/keep
ls -A >top.before
run 73 "restore into a DIR that exists and is not empty: 73" \
	smail-admin restore bk1.tar full
same "the DIR is left as it was" "keep" "$(ls -A full)"
check "its file untouched" test "$(cat full/keep)" = mine
same "and nothing is made beside it" "$(cat top.before)" "$(ls -A)"
run 0 "restore into a new DIR" smail-admin restore bk1.tar r1
mkdir empty
run 0 "restore into an existing empty DIR" smail-admin restore bk1.tar empty
run 0 "the portal restored into the empty DIR opens" at empty smail-admin list
same "with the same accounts" "$(cat list.orig)" "$(cat out)"
run 66 "restore of a missing FILE: 66" smail-admin restore no-such.tar r9
check "makes nothing" test ! -e r9
printf 'not a tar at all\n' >junk.tar
run 65 "restore of something that is not a backup: 65" smail-admin restore junk.tar r9
check "makes nothing" test ! -e r9

# --- the restored portal ---
same "its files are 0600" "" "$(find r1 -type f ! -perm 600)"
same "its directories 0700" "" "$(find r1 -type d ! -perm 700)"
check "without --with-recovery-key it has no recovery.key" test ! -e r1/recovery.key
run 0 "smail-admin check passes in it" at r1 smail-admin check
run 0 "smail-admin list" at r1 smail-admin list
same "equal to the original's" "$(cat list.orig)" "$(cat out)"
for u in $A $B $C; do
	run 0 "$u signs in to it with the password" \
		at r1 smail-register --login --password-file pw.$u $u
done
run 0 "bob's inbox in it" at r1 smail-inbox --user $B
same "the same messages" "$M2 $M1" "$(cut -f1 out | tr '\n' ' ' | sed 's/ $//')"
run 0 "the first message's text view" at r1 smail-fetch -u $B "$M1"
same "equal to the original's" "$(cat view1.orig)" "$(cat out)"
run 0 "its random attachment" at r1 smail-fetch -u $B -a rand.bin "$M1"
check "byte-identical" cmp -s out rand.bin
run 0 "its other attachment" at r1 smail-fetch -u $B -a notes.txt "$M1"
check "byte-identical" cmp -s out notes.txt
run 0 "the Cc recipient's copy of the second" at r1 smail-fetch -u $C "$M2"
same "equal to the original's" "$(cat view2.orig)" "$(cat out)"
run 0 "its UTF-8-named attachment" at r1 smail-fetch -u $C -a 'rapport-été.pdf' "$M2"
check "byte-identical" cmp -s out 'rapport-été.pdf'
run 0 "the reply, in alice's inbox" at r1 smail-fetch -u $A "$M3"
run 0 "alice's address book is there" at r1 smail-addr -u $A
same "the same contacts" "$(cat book.orig)" "$(cat out)"
run 0 "and groups" at r1 smail-addr -u $A -G
same "the same groups" "$(cat groups.orig)" "$(cat out)"
run 0 "it works: alice sends from it" at r1 smail-send -u $A -s 'After restore' -m b1.txt $B
MR=$(cat out)
run 0 "bob reads that" at r1 smail-fetch -u $B "$MR"
run 0 "bob requests a password reset in it" at r1 smail-reset --password-file pw.new $B
tok=$(token_of "$(ls -t r1/mail/new/* | head -n 1)")
check "the activation mail holds a token" test -n "$tok"
run 75 "without the recovery key the activation waits: 75" \
	at r1 smail-reset --password-file pw.new -t "$tok" $B
err_has "saying the recovery key is needed" 'recovery key'
run 0 "the original still passes check" smail-admin check

# ====================================================================
# --with-recovery-key
# ====================================================================
run 0 "backup --with-recovery-key under a passphrase (--password-file)" \
	smail-admin backup --with-recovery-key --password-file pass bk2.tar
same "mode 0600" 600 "$(mode_of bk2.tar)"
run 0 "bsdtar -tf lists it" bsdtar -tf bk2.tar
out_has "with the wrapped recovery key" '^recovery\.key\.wrapped$'
check "the recovery key is not in it in the clear" \
	eval '! grep -qaF "$(cat "$ORIG/recovery.key")" bk2.tar'
ls -A >top.before
run 77 "a wrong passphrase at restore: 77" \
	smail-admin restore --password-file wrong.pass bk2.tar r3
check "creates no DIR" test ! -e r3
same "and nothing beside it" "$(cat top.before)" "$(ls -A)"
run 0 "the right passphrase restores it" \
	smail-admin restore --password-file pass bk2.tar r2
check "with a recovery.key" test -f r2/recovery.key
same "mode 0600" 600 "$(mode_of r2/recovery.key)"
run 0 "check passes in it" at r2 smail-admin check
run 0 "carol requests a reset in it" at r2 smail-reset --password-file pw.new $C
tok=$(token_of "$(ls -t r2/mail/new/* | head -n 1)")
run 0 "and the activation completes (the recovery key works)" \
	at r2 smail-reset --password-file pw.new -t "$tok" $C
run 0 "carol signs in with the new password" \
	at r2 smail-register --login --password-file pw.new $C
run 0 "and reads the message from before the backup" at r2 smail-fetch -u $C "$M2"
same "the same text" "$(cat view2.orig)" "$(cat out)"
run 0 "--without-recovery-key leaves it out" \
	smail-admin restore --without-recovery-key bk2.tar r2b
check "no recovery.key" test ! -e r2b/recovery.key
run 0 "that portal opens and checks" at r2b smail-admin check

# ====================================================================
# a backup taken while a batch send runs
# ====================================================================
"$PYTHON" - "$C" <<'EOF'
import hashlib, os, sys
with open("load.manifest", "w") as m, open("load.sums", "w") as s:
    for i in range(1, 61):
        os.makedirs("load/%02d" % i)
        data = os.urandom(100000 + i)
        open("load/%02d/doc.bin" % i, "wb").write(data)
        m.write("%s\tLoad %d\tb1.txt\tload/%02d/doc.bin\n" % (sys.argv[1], i, i))
        s.write("Load %d\t%s\n" % (i, hashlib.sha256(data).hexdigest()))
EOF
smail-send -u $A -b load.manifest >load.out 2>load.err &
echo $! >load.bg
i=0
while [ ! -s load.out ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
run 0 "a backup while smail-send -b runs" smail-admin backup bk3.tar
wait "$(cat load.bg)"
same "the batch succeeds" 0 "$?"
rm -f load.bg
run 0 "restore it" smail-admin restore bk3.tar r4
run 0 "the restored store passes check (a consistent snapshot)" at r4 smail-admin check
run 0 "carol signs in to it" at r4 smail-register --login --password-file pw.$C $C
run 0 "carol's inbox in it" at r4 smail-inbox --user $C
grep 'Load [0-9]*$' out >r4.listing
nl=$(wc -l <r4.listing | tr -d ' ')
echo "# the restored portal holds $nl of the 60"
cut -f1 load.out | sort >load.ids
same "every message in it is one the batch printed" "" \
	"$(cut -f1 r4.listing | sort | comm -23 - load.ids)"
same "none listed twice" "" "$(cut -f1 r4.listing | sort | uniq -d)"
same "they are the first $nl the batch sent (a snapshot at one moment)" \
	"$(head -n "$nl" load.out | cut -f1 | sort)" "$(cut -f1 r4.listing | sort)"
if [ "$nl" -gt 0 ]; then
	cut -f1 r4.listing >r4.ids
	mkdir r4got
	run 0 "every one of them reads" at r4 smail-fetch -u $C -a doc.bin -o r4got - <r4.ids
	bad=
	while IFS="$(printf '\t')" read -r id date flags from subj; do
		want=$(awk -F '\t' -v s="$subj" '$1 == s { print $2 }' load.sums)
		[ -f "r4got/$id.bin" ] && [ "$(sha "r4got/$id.bin")" = "$want" ] || bad="$bad $id"
	done <r4.listing
	same "byte-identical (sha256)" "" "$bad"
else
	ok "# SKIP the backup caught none of the batch"
fi

# ====================================================================
# check: verifies without changing anything; one changed byte
# ====================================================================
s0=$(store_sha)
run 0 "smail-admin check on the original" smail-admin check
same "changes nothing (sha256 of the store's files)" "$s0" "$(store_sha)"
check "prints nothing on stdout" test ! -s out
if [ -z "$poke" ]; then
	ok "# SKIP tampering (no C compiler for the GDBM helper)"
else
	chunks=$($poke keys "c:$M1:2:" | sort)
	check "the random attachment is part 2 of $M1, in several chunks" \
		test "$(echo "$chunks" | grep -c .)" -ge 2
	check "one byte changed in chunk 1 of it" $poke flip "c:$M1:2:1"
	s1=$(store_sha)
	run 65 "smail-admin check: 65" smail-admin check
	same "still changes nothing" "$s1" "$(store_sha)"
	check "it prints ID<TAB>PROBLEM lines" test -s out
	same "naming that message only" "" "$(grep -v "^$M1	." out)"
	for m in $M2 $M3 $MR; do
		check "not $m" eval '! grep -qF "$m" out'
	done
	err_has "and counts one problem or more" '[1-9][0-9]* problems?'
	run 65 "reading it fails: 65" smail-fetch -u $B "$M1"
	err_has "naming it" "$M1"
	run 0 "the other messages still read" smail-fetch -u $C "$M2"
	same "whole" "$(cat view2.orig)" "$(cat out)"
	run 0 "a backup of the tampered store" smail-admin backup bk4.tar
	run 0 "restores" smail-admin restore bk4.tar r5
	run 65 "and check finds the same there" at r5 smail-admin check
	same "naming that message only" "" "$(grep -v "^$M1	." out)"
fi
done_testing
