#!/bin/sh
# Control characters a partner chose (ESC [ 2 J, an OSC title, BEL, DEL,
# C1 CSI as UTF-8 C2 9B, a stray 0x9B byte) in subjects, names, group
# names and attachment names never reach a terminal: every TSV listing
# and the text view's header lines show each as a space (TAB, CR and LF
# as the SPEC has them), messages on stderr too; JSON keeps them exact,
# escaped; the body is exact in a pipe and shown as ^[ or <U+009B> on a
# terminal; names with them are refused on input.
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR
RAW=$SMAIL_BUILD/helpers/rawtext
pty() { "$PYTHON" "$T_SRC/pty-run.py" "$@"; }

A=alice@agency.gov B=bob@partner.example C=carol@partner.example
new_portal
add_user $A 'Kite#Zebra42x' "Alice Agent"
add_user $B 'Tulip&River77q' "Bob Partner"
add_user $C 'Maple@Stone31z' "Carol Client"
for u in $A $B $C; do smail-register --login --password-file pw.$u $u 2>/dev/null; done

ESC=$(printf '\033') BEL=$(printf '\007') DEL=$(printf '\177')
CSI8=$(printf '\302\233') STRAY=$(printf '\233') TAB=$(printf '\t')
# bad FILE: how many control bytes FILE holds (C0 but TAB and LF, DEL,
# and 0x80-0x9f: C1 in UTF-8 is C2 80-9F; this test's text has no other
# non-ASCII).
bad() { LC_ALL=C tr -d -c '\001-\010\013-\037\177\200-\237' <"$1" | wc -c | tr -d ' '; }
# no_ctl DESC FILE
no_ctl() {
	_b=$(bad "$2")
	if [ "$_b" = 0 ]; then ok "$1"; else
		not_ok "$1 ($_b control bytes)"
		od -c "$2" | head -n 20 | diag
	fi
}

S="Sub${ESC}[2J${BEL}j${DEL}e${CSI8}2Jct${STRAY}x${TAB}y"
S_SHOWN='Sub [2J j e 2Jct x y'
S_JSON='Sub\u001b[2J\u0007j\u007fe\u009b2Jct\ufffdx\ty'
ATT="at${ESC}[2Jt${CSI8}1m${BEL}${DEL}.txt"
mkdir files
printf 'attached\n' >"files/$ATT"
printf 'Body %s]0;owned%s %s[2J %sx %s end\n' "$ESC" "$BEL" "$ESC" "$CSI8" "$DEL" >body.txt
# The sender's name, stored past the input checks.
check "(the sender's name, stored as an old store may hold it)" \
	"$RAW" name $A "Al${ESC}[2Jice${CSI8}" "Ag${BEL}ent${DEL}"

run 0 "a message with all of them in the subject, an attachment name and the body" \
	smail-send -u $A -s "$S" -a "files/$ATT" -m body.txt $B
M=$(cat out)
run 0 "a draft with the same subject" \
	smail-send -u $A --draft -s "$S" -m body.txt $B
D=$(cat out)

# ---- TSV listings ----
run 0 "smail-inbox" smail-inbox --user $B
no_ctl "smail-inbox: no control byte" out
same "the subject, each control character a space" "$S_SHOWN" "$(cut -f5 out)"
same "five fields" 5 "$(awk -F'\t' '{ print NF }' out)"
run 0 "smail-inbox --drafts" smail-inbox --user $A --drafts
no_ctl "--drafts: no control byte" out
same "the draft's subject" "$S_SHOWN" "$(cut -f4 out)"
run 0 "smail-inbox --sent" smail-inbox --user $A --sent
no_ctl "--sent: no control byte" out
run 0 "smail-inbox --json" smail-inbox --user $B --json
no_ctl "--json: no control byte" out
check "the subject exact, escaped" grep -qF "\"subject\":\"$S_JSON\"" out
run 0 "smail-inbox --drafts --json" smail-inbox --user $A --drafts --json
check "the draft's subject exact, escaped" grep -qF "\"subject\":\"$S_JSON\"" out
no_ctl "no control byte" out

# ---- the text view ----
smail-fetch -u $B "$M" >view 2>err
same "smail-fetch: 0" 0 "$?"
sed '/^$/q' view >head
no_ctl "its header lines: no control byte" head
check "From: the name without them" grep -qxF "From: Al [2Jice  Ag ent  <$A>" head
check "Subject: likewise" grep -qxF "Subject: $S_SHOWN" head
check "Attachments: the name likewise" \
	grep -qxF "Attachments: at [2Jt 1m  .txt (9 bytes)" head
sed '1,/^$/d' view >body.out
check "the body in a pipe: exact, as signed" cmp -s body.txt body.out

pty -- smail-fetch -u $B "$M" >tty.out 2>tty.err
same "smail-fetch on a terminal: 0" 0 "$?"
no_ctl "on a terminal: no control byte at all" tty.out
check "the body's ESC shown as ^[" grep -qF 'Body ^[]0;owned^G ^[[2J <U+009B>x ^? end' tty.out
check "the headers as in a pipe" grep -qxF "Subject: $S_SHOWN" tty.out

mkdir outdir
run 0 "smail-fetch -o DIR" smail-fetch -u $B -o outdir "$M"
ls outdir >names
no_ctl "the attachment's file name: no control byte" names
check "the name with each one as _" grep -qxF 'at_[2Jt_1m__.txt' names
# (the body of ID.txt is exact: it holds ESC, so only its head counts)
sed '/^$/q' "outdir/$M.txt" >head2
no_ctl "DIR/ID.txt's header lines: no control byte" head2

# ---- a forward: "Originally sent by" ----
run 0 "bob forwards it to carol" smail-send -u $B -f "$M" -m /dev/null $C
F=$(cat out)
smail-fetch -u $C "$F" >fview 2>/dev/null
grep 'Originally sent by' fview >orig
same "one 'Originally sent by' line" 1 "$(wc -l <orig | tr -d ' ')"
no_ctl "without control bytes" orig
check "naming the sender" grep -qF "Originally sent by Al [2Jice  Ag ent  <$A> on " orig
sed '/^$/q' fview >fhead
no_ctl "the forward's header lines: no control byte" fhead

# ---- messages on stderr ----
run 66 "an attachment name with ESC that is not there: 66" \
	smail-fetch -u $B -a "no${ESC}[2Jpe" -o got "$M"
no_ctl "the error holds no control byte" err
err_has "and names it" 'no \[2Jpe'

# ---- the address book ----
SMAIL_USER=$A
export SMAIL_USER
check "(a contact with them in its names, stored past the input checks)" \
	"$RAW" contact $C "Ca${ESC}[2Jrol${CSI8}" "Cl${BEL}ient${DEL}${STRAY}"
check "(a group with them in its name)" "$RAW" group "te${ESC}[2Jam${CSI8}x" $C
unset SMAIL_USER
run 0 "smail-addr" smail-addr -u $A
no_ctl "smail-addr: no control byte" out
same "'Last, First' with each one a space" "Cl ient  , Ca [2Jrol ${TAB}$C" "$(cat out)"
run 0 "smail-addr --json" smail-addr -u $A --json
no_ctl "--json: no control byte" out
check "the names exact, escaped" \
	grep -qF '"last":"Cl\u0007ient\u007f\ufffd","first":"Ca\u001b[2Jrol\u009b"' out
run 0 "smail-addr -G" smail-addr -u $A -G
no_ctl "-G: no control byte" out
same "the group's name with each one a space" "te [2Jam x${TAB}1" "$(cat out)"
run 0 "smail-addr -G --json" smail-addr -u $A -G --json
check "exact, escaped" grep -qF '"group":"te\u001b[2Jam\u009bx"' out

# ---- names are refused on input ----
run 65 "smail-addr -n with C1 CSI: 65" smail-addr -u $A -a dave@x.example -n "Da${CSI8}ve Doe"
no_ctl "the error holds no control byte" err
run 65 "smail-addr -n with ESC: 65" smail-addr -u $A -a dave@x.example -n "Da${ESC}ve Doe"
pwfile pw.e 'Cedar!Brook55k'
run 65 "smail-admin add -n with C1 CSI: 65" \
	smail-admin add -n "Er${CSI8}in Doe" --password-file pw.e erin@agency.gov
printf 'BEGIN:VCARD\nVERSION:4.0\nFN:X\nN:Do%se;Ja%sne;;;\nEMAIL:jane@x.example\nEND:VCARD\n' \
	"$CSI8" "$CSI8" >c1.vcf
run 65 "a vCard with C1 in a name: refused, all or nothing" smail-addr -u $A --import c1.vcf

# ---- the operator's listings ----
run 0 "smail-admin list" smail-admin list
no_ctl "no control byte" out
run 0 "smail-admin audit" smail-admin audit
no_ctl "no control byte" out
done_testing
