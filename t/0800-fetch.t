#!/bin/sh
# smail-inbox and smail-fetch: the listing, the text view, reading
# marks read, ids from stdin, files (-o) with hostile names made safe
# and no overwrite, zips (-z), RFC 5322 messages (-e), one attachment
# (-a), unknown and deleted ids, deleting (the data goes with the last
# holder), tampering, and nothing in the clear in the portal.
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR

A=alice@agency.gov B=bob@partner.example C=carol@partner.example
new_portal
add_user $A 'Kite#Zebra42x' "Alice Agent"
add_user $B 'Tulip&River77q' "Bob Partner"
add_user $C 'Maple@Stone31z' "Carol Client"
for u in $A $B $C; do smail-register --login --password-file "pw.$u" $u 2>/dev/null; done

# --- helpers ---
# send ARGS...: smail-send as alice; the id into $id.
send() { id=$(smail-send -u $A "$@" 2>send.err) || cat send.err >&2; }
body_of() { sed '1,/^$/d' "$1"; }
header() { sed -n "1,/^\$/s/^$2: //p" "$1"; }
date_of() { smail-inbox --user "$1" 2>/dev/null | awk -F '\t' -v id="$2" '$1 == id { print $2 }'; }
# size FILE: its length in bytes.
size() { wc -c <"$1" | tr -d ' '; }
# The store, through GDBM (libgdbm-dev is a build dependency):
# "keys PREFIX" lists keys; "flip KEY OFFSET|mid" changes one byte.
poke=$SMAIL_BUILD/helpers/poke
keys() { $poke keys "$1" | wc -l | tr -d ' '; }
flip() { $poke flip "$1" "$2"; }
skip() { ok "# SKIP $1"; }

# Content to look for later where it must not be.
printf 'First body\n' >b1.txt
printf 'Second body\n' >b2.txt
printf 'Confidential body Okapi\nline two\n' >b3.txt
printf 'an attachment\n' >a.txt
"$PYTHON" -c '
import sys
for i in range(600):
    sys.stdout.write("Axolotl-content line %d of a compressible text file\n" % i)
' >text-Quokka.txt
head -c 200000 /dev/urandom >rand.bin
head -c 3000 /dev/urandom >'rapport-été.pdf'

# --- three messages, a second apart ---
send -s 'First note' -m b1.txt $B
M1=$id
sleep 1
send -s 'Second note' -a a.txt -m b2.txt $B
M2=$id
sleep 1
send -s 'Third note Zanzibar' -c $C -a text-Quokka.txt -a rand.bin -a 'rapport-été.pdf' \
	-m b3.txt $B
M3=$id
check "three messages sent" test -n "$M1" -a -n "$M2" -a -n "$M3"

# --- the listing ---
run 0 "smail-inbox" smail-inbox --user $B
cp out list
same "three lines" 3 "$(wc -l <list | tr -d ' ')"
same "each of 5 TAB-separated fields" "5 5 5" \
	"$(awk -F '\t' '{ printf "%s%d", (NR > 1 ? " " : ""), NF }' list)"
same "newest first" "$M3 $M2 $M1" "$(cut -f1 list | tr '\n' ' ' | sed 's/ $//')"
check "DATE is UTC ISO 8601 (2026-11-28T12:00:00Z)" \
	eval '! cut -f2 list | grep -Evx "[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z"'
check "and the dates go down" test "$(cut -f2 list)" = "$(cut -f2 list | sort -r -u)"
same "FLAGS: NA, NA, N-" "NA NA N-" "$(cut -f3 list | tr '\n' ' ' | sed 's/ $//')"
same "FROM: the bare address" "$A $A $A" "$(cut -f4 list | tr '\n' ' ' | sed 's/ $//')"
same "SUBJECT" "Third note Zanzibar|Second note|First note" "$(cut -f5 list | paste -sd '|')"
run 0 "-n 1" smail-inbox --user $B -n 1
same "only the newest" "$M3" "$(cut -f1 out)"
run 0 "the Cc recipient's listing" smail-inbox --user $C
same "holds the message she was copied on" "$M3" "$(cut -f1 out)"
run 0 "the sender's listing is empty" smail-inbox --user $A
check "no line" test ! -s out

# --- the text view ---
d3=$(date_of $B "$M3")
run 0 "smail-fetch ID" smail-fetch -u $B "$M3"
cp out view3
same "the text view: headers, a blank line, the body" \
	"From: Alice Agent <$A>
To: $B
Cc: $C
Date: $d3
Subject: Third note Zanzibar
Attachments: text-Quokka.txt ($(size text-Quokka.txt) bytes), rand.bin (200000 bytes), rapport-été.pdf (3000 bytes)

Confidential body Okapi
line two" "$(cat view3)"
run 0 "the listing after reading" smail-inbox --user $B
same "the read message is R" "RA NA N-" "$(cut -f3 out | tr '\n' ' ' | sed 's/ $//')"
run 0 "-u lists the unread" smail-inbox --user $B -u
same "the two others" "$M2 $M1" "$(cut -f1 out | tr '\n' ' ' | sed 's/ $//')"
run 0 "the Cc recipient's copy is still new" smail-inbox --user $C
same "N for her" "NA" "$(cut -f3 out)"

# ids from stdin
smail-inbox --user $B -u 2>/dev/null | cut -f1 >ids
run 0 "smail-fetch - reads ids from stdin" smail-fetch -u $B - <ids
same "both messages, in that order" "Second note|First note" \
	"$(sed -n 's/^Subject: //p' out | paste -sd '|')"
check "with their bodies" grep -qx 'Second body' out
check "each" grep -qx 'First body' out
run 0 "now nothing is unread" smail-inbox --user $B -u
check "-u lists nothing" test ! -s out

# --- -o DIR ---
run 0 "-o DIR" smail-fetch -u $B -o o1 "$M3"
same "DIR holds ID.txt and the attachments" \
	"$(printf '%s\n' "$M3.txt" rand.bin 'rapport-été.pdf' text-Quokka.txt | LC_ALL=C sort)" \
	"$(ls o1 | LC_ALL=C sort)"
check "ID.txt is the text view" cmp -s "o1/$M3.txt" view3
check "the random binary, byte for byte" cmp -s o1/rand.bin rand.bin
check "the text file" cmp -s o1/text-Quokka.txt text-Quokka.txt
check "the UTF-8 name" cmp -s 'o1/rapport-été.pdf' 'rapport-été.pdf'
ls -l --time-style=+%s.%N o1 >o1.before
run 73 "-o again refuses to overwrite: 73" smail-fetch -u $B -o o1 "$M3"
err_has "saying why" 'exist'
same "and writes nothing" "$(cat o1.before)" "$(ls -l --time-style=+%s.%N o1)"
run 0 "-o DIR with several ids" smail-fetch -u $B -o o2 "$M1" "$M2"
same "one .txt each, and the attachment" "$(printf '%s\n' "$M1.txt" "$M2.txt" a.txt | LC_ALL=C sort)" \
	"$(ls o2 | LC_ALL=C sort)"
mkdir o3
printf 'mine\n' >o3/a.txt
run 73 "-o DIR where an attachment's name exists: 73" smail-fetch -u $B -o o3 "$M2"
same "and writes nothing, not even ID.txt" "a.txt" "$(ls o3)"
check "the file there is untouched" test "$(cat o3/a.txt)" = mine
mkdir o4
printf 'victim\n' >victim
ln -s ../victim o4/a.txt
run 73 "-o DIR where a symlink has an attachment's name: 73" smail-fetch -u $B -o o4 "$M2"
check "the symlink's target is untouched" test "$(cat victim)" = victim

# --- hostile names, made safe ---
mkdir h
tab=$(printf 'a\tb') nl=$(printf 'x\ny') esc=$(printf '\033[2Jcls') del=$(printf 'd\177l')
set -- '-rf' '...' "$tab" 'a_b' "$nl" "$esc" "$del" '--' 'message.txt' ' '
i=0
for n; do
	i=$((i + 1))
	printf 'hostile content %s\n' "$i" >"h/$n"
done
set -- -a h/-rf -a h/... -a "h/$tab" -a h/a_b -a "h/$nl" -a "h/$esc" -a "h/$del" \
	-a h/-- -a h/message.txt -a 'h/ '
send -s Hostile "$@" -m b1.txt $B
MH=$id
# Check a directory of output against h/: ID.txt, then one safe name
# per attachment holding its content.
cat >safe.py <<'EOF'
import os, sys
d, mid, src = sys.argv[1], sys.argv[2], sys.argv[3]
want = sorted(open(os.path.join(src, n), "rb").read() for n in sys.argv[4:])
bad = []
names = os.listdir(d)
if mid + ".txt" not in names:
    bad.append("no %s.txt" % mid)
got = []
for n in names:
    p = os.path.join(d, n)
    if any(ord(c) < 32 or ord(c) == 127 for c in n):
        bad.append("control character in %r" % n)
    if n.startswith("-"):
        bad.append("leading '-': %r" % n)
    if n.strip(".") == "":
        bad.append("dots only: %r" % n)
    if os.path.islink(p) or not os.path.isfile(p):
        bad.append("not a plain file: %r" % n)
    elif n != mid + ".txt":
        got.append(open(p, "rb").read())
if sorted(got) != want:
    bad.append("contents differ: %d files for %d attachments" % (len(got), len(want)))
for b in bad:
    print(b)
EOF
mkdir w
ls -A >top.before
run 0 "-o DIR with hostile attachment names" smail-fetch -u $B -o w/hd "$MH"
same "nothing written outside DIR" "hd" "$(ls -A w)"
same "nor beside it" "$(cat top.before)" "$(ls -A)"
same "DIR: ID.txt and every attachment under a safe name" "" \
	"$("$PYTHON" safe.py w/hd "$MH" h -rf ... "$tab" a_b "$nl" "$esc" "$del" -- message.txt ' ')"
same "exactly 11 entries" 11 "$(find w/hd -mindepth 1 -print0 | tr -cd '\0' | wc -c | tr -d ' ')"
ls -l --time-style=+%s.%N w/hd >hd.before
run 73 "-o again: 73" smail-fetch -u $B -o w/hd "$MH"
same "and nothing new" "$(cat hd.before)" "$(ls -l --time-style=+%s.%N w/hd)"

# --- -z ---
run 0 "-z writes a zip" smail-fetch -u $B -z "$M3"
cp out m3.zip
run 0 "unzip -t passes" unzip -t m3.zip
run 0 "bsdtar lists it" bsdtar -tf m3.zip
same "message.txt, the attachments and the signed manifest, at the top level" \
	"manifest.txt
message.txt
rand.bin
rapport-été.pdf
text-Quokka.txt" "$(LC_ALL=C sort out)"
mkdir zx
bsdtar -xf m3.zip -C zx 2>/dev/null
check "message.txt is the text view" cmp -s zx/message.txt view3
check "the random file, byte for byte" cmp -s zx/rand.bin rand.bin
check "the text file" cmp -s zx/text-Quokka.txt text-Quokka.txt
check "the UTF-8 name" cmp -s 'zx/rapport-été.pdf' 'rapport-été.pdf'
unzip -v m3.zip >zv 2>&1
same "the random file is Stored" Stored "$(awk '$8 == "rand.bin" { print $2 }' zv)"
check "the text file Deflated" grep -Eq '^ *[0-9]+ +Defl:[A-Z] .* text-Quokka\.txt$' zv
run 0 "-z -o FILE" smail-fetch -u $B -z -o m3b.zip "$M3"
run 0 "is a zip too" unzip -t m3b.zip
run 73 "-z -o FILE again: 73" smail-fetch -u $B -z -o m3b.zip "$M3"
run 0 "-z of the hostile names" smail-fetch -u $B -z -o hostile.zip "$MH"
cat >zipcheck.py <<'EOF'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = z.namelist()
want = sorted(open("h/" + n, "rb").read() for n in sys.argv[2:])
got = sorted(z.read(n) for n in names if n not in ("message.txt", "manifest.txt"))
if names.count("message.txt") != 1:
    print("message.txt %d times" % names.count("message.txt"))
if len(set(names)) != len(names):
    print("duplicate names")
for n in names:
    if "/" in n or "\\" in n or n.strip(".") == "":
        print("not a top-level name: %r" % n)
if got != want:
    print("attachments differ")
EOF
same "one message.txt, every attachment under its own top-level name" "" \
	"$("$PYTHON" zipcheck.py hostile.zip -rf ... "$tab" a_b "$nl" "$esc" "$del" -- message.txt ' ')"

smail-inbox --user $B 2>/dev/null | cut -f1 >all
run 0 "-z -o DIR/ for every id from stdin" smail-fetch -u $B -z -o cases/ - <all
same "one DIR/ID.zip per message" "$(sed 's/$/.zip/' all | LC_ALL=C sort)" "$(ls cases | LC_ALL=C sort)"
for m in $(cat all); do
	run 0 "cases/$m.zip passes unzip -t" unzip -t "cases/$m.zip"
done

# --- -e ---
usubj='Überblick — 案件: über die Prüfung der Unterlagen für 2026 (Entwurf)'
printf 'Grüße, the body Okapi\n' >bu.txt
printf 'données\n' >'案件-2026.txt'
send -s "$usubj" -a 'rapport-été.pdf' -a '案件-2026.txt' -a rand.bin -m bu.txt $B
MU=$id
run 0 "-e writes an RFC 5322 message" smail-fetch -u $B -e "$MU"
cp out mu.eml
cat >eml.py <<'EOF'
import email, sys
from email import policy
path, subj, frm, to, body = sys.argv[1:6]
files = sys.argv[6:]
m = email.message_from_binary_file(open(path, "rb"), policy=policy.default)
bad = []
if str(m["subject"]) != subj:
    bad.append("subject %r" % str(m["subject"]))
if frm not in str(m["from"]):
    bad.append("from %r" % str(m["from"]))
if to not in str(m["to"]):
    bad.append("to %r" % str(m["to"]))
if m["date"] is None or m["date"].datetime is None:
    bad.append("no date")
b = m.get_body(("plain",))
if b is None or b.get_content().rstrip("\r\n") != body:
    bad.append("body %r" % (b and b.get_content()))
atts = {}
for p in m.iter_attachments():
    atts[p.get_filename()] = p.get_payload(decode=True)
for f in files:
    if f not in atts:
        bad.append("no attachment %r (have %r)" % (f, list(atts)))
    elif atts[f] != open(f, "rb").read():
        bad.append("attachment %r differs" % f)
if len(atts) != len(files):
    bad.append("%d attachments" % len(atts))
for x in bad:
    print(x)
EOF
same "python's email package: subject, From, To, Date, body, attachments" "" \
	"$("$PYTHON" eml.py mu.eml "$usubj" "$A" "$B" 'Grüße, the body Okapi' \
	'rapport-été.pdf' '案件-2026.txt' rand.bin 2>&1)"
check "the headers are ASCII (RFC 2047/2231)" \
	test -z "$(sed -n '1,/^\r*$/p' mu.eml | LC_ALL=C tr -d '\n' | LC_ALL=C tr -d '\r\t -~')"
if command -v mshow >/dev/null 2>&1; then
	run 0 "mshow -t lists the parts" mshow -t ./mu.eml
	out_has "the text part" 'text/plain'
	out_has "the UTF-8 file name" 'rapport-été\.pdf'
	out_has "the other" '案件-2026\.txt'
	out_has "the binary" 'rand\.bin'
else
	skip "mshow (mblaze) is not installed"
fi

# --- -a NAME ---
run 0 "-a NAME writes one attachment" smail-fetch -u $B -a rand.bin "$M3"
check "byte for byte" cmp -s out rand.bin
run 0 "-a with -o FILE" smail-fetch -u $B -a 'rapport-été.pdf' -o att.pdf "$M3"
check "byte for byte" cmp -s att.pdf 'rapport-été.pdf'
run 66 "-a of an unknown name: 66" smail-fetch -u $B -a no-such.pdf "$M3"
err_has "naming it" 'no-such\.pdf'
check "and writes nothing" test ! -s out

# --- unknown ids ---
run 66 "an unknown id: 66" smail-fetch -u $B aaaaaaaaaaaaaaaa
err_has "naming it" 'aaaaaaaaaaaaaaaa'
smail-fetch -u $B '../../x' >out 2>err
rc=$?
check "a malformed id: refused as bad input or no such message (got $rc)" \
	test $rc -eq 65 -o $rc -eq 66
err_has "naming it" '\.\./\.\./x'
run 66 "a message of someone else's: 66" smail-fetch -u $C "$M1"
run 66 "an unknown id among good ones: 66" smail-fetch -u $B "$M1" bbbbbbbbbbbbbbbb "$M2"
check "the good ones still print" test "$(grep -c '^Subject: ' out)" = 2

# --- deleting ---
run 0 "smail-inbox -d ID" smail-inbox --user $B -d "$M1"
run 66 "a deleted id: 66" smail-fetch -u $B "$M1"
smail-inbox --user $B >list 2>/dev/null
check "gone from the listing" eval '! grep -q "^$M1" list'
run 66 "deleting it again: 66" smail-inbox --user $B -d "$M1"
echo "$M2" >del
run 0 "smail-inbox -d - reads ids from stdin" smail-inbox --user $B -d - <del
run 66 "that one is gone too" smail-fetch -u $B "$M2"

run 0 "bob deletes the message carol also holds" smail-inbox --user $B -d "$M3"
run 66 "bob cannot read it" smail-fetch -u $B "$M3"
run 0 "carol still can" smail-fetch -u $C "$M3"
same "the same text view as bob had" "$(cat view3)" "$(cat out)"
if [ -n "$poke" ]; then
	check "its records are still in the store" test "$(keys "c:$M3:")" -gt 0 -a "$(keys "m:$M3")" = 1
fi
run 0 "carol, the last holder, deletes it" smail-inbox --user $C -d "$M3"
run 66 "now nobody reads it" smail-fetch -u $C "$M3"
if [ -n "$poke" ]; then
	same "no record of it is left (m:, c:, k:, r:)" "0 0 0 0" \
		"$(keys "m:$M3") $(keys "c:$M3:") $(keys "k:$M3:") $(keys "r:$M3")"
	same "nor of the first two (bob was their only holder)" "0 0 0 0" \
		"$(keys "m:$M1") $(keys "c:$M1:") $(keys "m:$M2") $(keys "c:$M2:")"
else
	skip "no record is left (no C compiler for the GDBM helper)"
fi

# --- tampering ---
head -c 307200 /dev/urandom >big.bin
printf 'Tamper body\n' >bt.txt
send -s 'T attachment' -a big.bin -m bt.txt $B
T1=$id
send -s 'T body' -m bt.txt $B
T2=$id
send -s 'T header' -m bt.txt $B
T3=$id
send -s 'T statement' -m bt.txt $B
T4=$id
send -s 'Good one' -a a.txt -m b2.txt $B
G=$id
smail-inbox --user $B >/dev/null 2>&1    # bob has seen them all
if [ -z "$poke" ]; then
	skip "tampering (no C compiler for the GDBM helper)"
else
	check "one byte changed in a chunk of an attachment" flip "c:$T1:2:1" mid
	run 65 "-a of it: 65" smail-fetch -u $B -a big.bin "$T1"
	err_has "naming the message" "$T1"
	same "not one byte of it on standard output (the chunks before the bad one included)" \
		0 "$(wc -c <out | tr -d ' ')"
	sh -c "smail-fetch -u $B -a big.bin '$T1' 2>err; echo \$? >rc" | wc -c >piped
	same "-a of it into a pipe: 65" 65 "$(cat rc)"
	same "the pipe gets nothing" 0 "$(tr -d ' ' <piped)"
	run 65 "-z to standard output: 65" smail-fetch -u $B -z "$T1"
	same "writes nothing there" 0 "$(wc -c <out | tr -d ' ')"
	run 65 "the text view of it: 65" smail-fetch -u $B "$T1"
	err_has "naming the message" "$T1"
	run 65 "-o of it: 65" smail-fetch -u $B -o tz "$T1"
	check "leaving no half-written attachment" test ! -e tz/big.bin
	check "and no text file either" test ! -e "tz/$T1.txt"
	run 65 "-a -o FILE of it: 65" smail-fetch -u $B -a big.bin -o t1.bin "$T1"
	check "leaving no file" test ! -e t1.bin
	run 65 "-z -o FILE of it: 65" smail-fetch -u $B -z -o t1.zip "$T1"
	check "leaving no zip" test ! -e t1.zip
	run 65 "-e of it: 65" smail-fetch -u $B -e "$T1"
	same "writes nothing to standard output" 0 "$(wc -c <out | tr -d ' ')"

	# Over 8 MiB, standard output is checked in full before it is
	# written: still nothing of a bad message reaches it.
	head -c 9437184 /dev/urandom >big9.bin
	send -s 'T large' -a big9.bin -m bt.txt $B
	T6=$id
	smail-inbox --user $B >/dev/null 2>&1
	run 0 "a 9 MiB attachment to standard output" smail-fetch -u $B -a big9.bin "$T6"
	check "byte for byte" cmp -s out big9.bin
	check "one byte changed late in it (chunk 100)" flip "c:$T6:2:100" mid
	run 65 "-a of it: 65" smail-fetch -u $B -a big9.bin "$T6"
	same "not one byte of it on standard output" 0 "$(wc -c <out | tr -d ' ')"
	run 65 "-e of it: 65" smail-fetch -u $B -e "$T6"
	same "nothing of that either" 0 "$(wc -c <out | tr -d ' ')"
	rm -f big9.bin

	check "one byte changed in a chunk of a body" flip "c:$T2:1:0" mid
	run 65 "smail-fetch: 65" smail-fetch -u $B "$T2"
	err_has "naming the message" "$T2"

	check "one byte changed in a header record" flip "m:$T3" mid
	run 65 "smail-fetch: 65" smail-fetch -u $B "$T3"
	err_has "naming the message" "$T3"

	check "one byte changed in the signed statement" flip "c:$T4:0:0" mid
	run 65 "smail-fetch: 65" smail-fetch -u $B "$T4"
	err_has "naming the message" "$T4"

	run 0 "every other message still reads" smail-fetch -u $B "$G"
	same "whole" 'Second body' "$(body_of out)"
	run 0 "with its attachment" smail-fetch -u $B -a a.txt "$G"
	check "byte for byte" cmp -s out a.txt
	smail-inbox --user $B >out 2>err
	check "and is listed" grep -q "^$G	" out

	# A message tampered with before its recipient ever listed it.
	send -s 'T unseen' -m bt.txt $B
	T5=$id
	send -s 'Good two' -m b2.txt $B
	G2=$id
	check "one byte changed in the header of an unseen message" flip "m:$T5" mid
	run 65 "smail-fetch: 65" smail-fetch -u $B "$T5"
	err_has "naming the message" "$T5"
	run 0 "the other new message still reads" smail-fetch -u $B "$G2"
	same "whole" 'Second body' "$(body_of out)"
fi

# --- nothing in the clear ---
for s in Zanzibar 'Third note' Okapi 'Grüße' 'Überblick' 'rapport-été' Quokka \
	Axolotl-content 'hostile content' 'Tamper body' 'T attachment'; do
	if grep -rqaF -- "$s" "$SMAIL_DIR"; then
		not_ok "the portal holds no '$s' in the clear"
		grep -rlaF -- "$s" "$SMAIL_DIR" | diag
	else
		ok "the portal holds no '$s' in the clear"
	fi
done
done_testing
