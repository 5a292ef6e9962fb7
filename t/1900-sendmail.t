#!/bin/sh
# smail-send -t, the sendmail mode: a whole RFC 5322 message on stdin,
# built by Python's email package or by mblaze's mmime; recipients from
# To, Cc and Bcc, the subject from Subject, the first text/plain part
# the body, text/html the HTML part, every other part an attachment,
# byte for byte.  Bcc recipients get the message and are shown to
# nobody.  Malformed messages, over-limit attachments and usage errors
# exit 64 or 65 with one line on stderr and change nothing.
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR

A=alice@agency.gov B=bob@partner.example C=carol@partner.example
D=dave@agency.gov E=erin@agency.gov
new_portal
add_user $A 'Kite#Zebra42x' "Alice Agent"
add_user $B 'Tulip&River77q' "Bob Partner"
add_user $C 'Maple@Stone31z' "Carol Client"
add_user $D 'Cedar!Brook55k' "Dave Deputy"
add_user $E 'Birch%Lake64m' "Erin Examiner"
for u in $A $B $C $D $E; do
	smail-register --login --password-file "pw.$u" "$u" 2>/dev/null
done

# --- helpers ---
inbox() { smail-inbox --user "$1" 2>/dev/null | cut -f1; }
inbox_n() { inbox "$1" | wc -l | tr -d ' '; }
holds() { inbox "$1" | grep -qx -- "$2"; }
# flags_of ADDR ID: the FLAGS field of one message in ADDR's listing.
flags_of() {
	smail-inbox --user "$1" 2>/dev/null | awk -F '\t' -v id="$2" '$1 == id { print $3 }'
}
# fetch ADDR ID: the text view into ./view.
fetch() { smail-fetch -u "$1" "$2" >view 2>/dev/null; }
body_of() { sed '1,/^$/d' "$1"; }
header() { sed -n "1,/^\$/s/^$2: //p" "$1"; }
size() { wc -c <"$1" | tr -d ' '; }
# rcpts_of FILE: the To and Cc addresses of a text view, sorted.
rcpts_of() {
	(header "$1" To; header "$1" Cc) | tr ',' '\n' | tr -d ' ' | grep . | LC_ALL=C sort
}
nl_sorted() { printf '%s\n' "$@" | LC_ALL=C sort; }
# snap / new_mails: the notifications delivered since the last snap.
snap() { ls "$SMAIL_DIR/mail/new" >mails.before; }
new_mails() {
	ls "$SMAIL_DIR/mail/new" | comm -13 mails.before - |
		sed "s|^|$SMAIL_DIR/mail/new/|"
}
mail_for() {
	for _m in $(new_mails); do
		grep -q "^To: <$1>" "$_m" && echo "$_m"
	done | tail -n 1
}
# id_ok DESC: ./out is one message id.
id_ok() {
	if [ "$(wc -l <out | tr -d ' ')" = 1 ] &&
		grep -Eqx '[A-Za-z0-9_][A-Za-z0-9_-]*' out; then
		ok "$1"
	else
		not_ok "$1"
		diag <out
	fi
}
# lacks DESC FILE STRING...: FILE exists, is not empty, and holds none
# of the STRINGs (case-insensitive).
lacks() {
	_d=$1 _f=$2
	shift 2
	if [ ! -s "$_f" ]; then
		not_ok "$_d"
		echo "$_f is missing or empty" | diag
		return
	fi
	for _s; do
		if grep -qaiF -- "$_s" "$_f"; then
			not_ok "$_d"
			grep -aiF -- "$_s" "$_f" | diag
			return
		fi
	done
	ok "$_d"
}
# no_bcc DESC FILE: FILE has no Bcc header line.
no_bcc() {
	if [ -s "$2" ] && ! grep -qi '^Bcc:' "$2"; then
		ok "$1"
	else
		not_ok "$1"
		grep -i '^Bcc:' "$2" | diag
	fi
}
# mk ARGS...: a message from Python's email package (see mk.py).
mk() { "$PYTHON" mk.py "$@"; }

# Message records in the store, counted through GDBM (libgdbm-dev is a
# build dependency).
counter=$SMAIL_BUILD/helpers/poke
msg_records() {
	if [ -n "$counter" ]; then $counter count m:; else echo '?'; fi
}
# mark / nothing_stored DESC: since mark, no message record, no
# notification, no inbox entry, no line in alice's delivery record and
# no audit entry.
everyone_inbox() { for _u in $A $B $C $D $E; do inbox $_u | tr '\n' ' '; echo; done; }
mark() {
	m_rec=$(msg_records) m_mail=$(mail_count)
	everyone_inbox >inboxes.before
	smail-inbox --user $A --sent >sent.before 2>/dev/null
	smail-admin audit >audit.before 2>/dev/null
}
nothing_stored() {
	same "$1: no notification" "$m_mail" "$(mail_count)"
	everyone_inbox >inboxes.now
	if cmp -s inboxes.before inboxes.now; then
		ok "$1: no inbox has anything new"
	else
		not_ok "$1: no inbox has anything new"
		diff inboxes.before inboxes.now | diag
	fi
	smail-inbox --user $A --sent >sent.now 2>/dev/null
	if cmp -s sent.before sent.now; then
		ok "$1: the sender's delivery record is unchanged"
	else
		not_ok "$1: the sender's delivery record is unchanged"
		diff sent.before sent.now | diag
	fi
	smail-admin audit >audit.now 2>/dev/null
	if cmp -s audit.before audit.now; then
		ok "$1: no audit entry"
	else
		not_ok "$1: no audit entry"
		diff audit.before audit.now | diag
	fi
	if [ -n "$counter" ]; then
		same "$1: no message record" "$m_rec" "$(msg_records)"
	else
		skip "$1: no message record" "no C compiler for the GDBM reader"
	fi
}
# refused CODE DESC: the last run exited CODE (checked by run) with
# exactly one line on stderr, "smail-send: ...", and no id on stdout.
refused() {
	err_lines "$1: exactly one line on stderr" 1
	err_has "$1: prefixed 'smail-send: '" '^smail-send: '
	same "$1: nothing on stdout" "" "$(cat out)"
}

cat >mk.py <<'EOF'
# mk.py: an RFC 5322 message built with Python's email package, on stdout.
#   --from/--to/--cc/--bcc/--subject VALUE, --body FILE, --html FILE,
#   --charset CS (the text part's charset, quoted-printable),
#   --attach FILE[=NAME], --rfc822 FILE (a message attached whole)
import sys
from email import message_from_binary_file, policy
from email.message import EmailMessage

m = EmailMessage()
args = sys.argv[1:]
body, html, charset, atts, msgs = None, None, 'utf-8', [], []
while args:
    opt, val = args[0], args[1]
    args = args[2:]
    if opt in ('--from', '--to', '--cc', '--bcc', '--subject'):
        m[opt[2:].capitalize()] = val
    elif opt == '--body':
        body = open(val, 'rb').read().decode('utf-8')
    elif opt == '--html':
        html = open(val, 'rb').read().decode('utf-8')
    elif opt == '--charset':
        charset = val
    elif opt == '--attach':
        path, _, name = val.partition('=')
        atts.append((path, name or path.rsplit('/', 1)[-1]))
    elif opt == '--rfc822':
        msgs.append(val)
    else:
        sys.exit('mk.py: unknown option ' + opt)
if body is not None:
    if charset == 'utf-8':
        m.set_content(body)
    else:
        m.set_content(body, charset=charset, cte='quoted-printable')
if html is not None:
    m.add_alternative(html, subtype='html')
for path, name in atts:
    m.add_attachment(open(path, 'rb').read(), maintype='application',
                     subtype='octet-stream', filename=name)
for path in msgs:
    with open(path, 'rb') as f:
        m.add_attachment(message_from_binary_file(f, policy=policy.default))
sys.stdout.buffer.write(m.as_bytes())
EOF
# parts.py EML DIR: the attachments of an RFC 5322 message into DIR,
# under their names; their names, one a line, on stdout.
cat >parts.py <<'EOF'
import os, sys
from email import message_from_binary_file, policy
with open(sys.argv[1], 'rb') as f:
    m = message_from_binary_file(f, policy=policy.default)
for p in m.iter_attachments():
    name = p.get_filename()
    with open(os.path.join(sys.argv[2], name), 'wb') as o:
        o.write(p.get_payload(decode=True))
    print(name)
EOF

# ============ a plain text message ============
subj='Case 2291: "figures" for Q3 — Überblick 案件'
printf 'Dear Bob,\n\nthe figures are attached Okapi.\n  indented line\n\nAlice\n' >plain.txt
mk --from "Alice Agent <$A>" --to "Bob Partner <$B>" --subject "$subj" \
	--body plain.txt >plain.eml
check "(Python built the message)" grep -q "^To: Bob Partner <$B>" plain.eml
snap
run 0 "-t: a text message from Python's EmailMessage" smail-send -u $A -t <plain.eml
id_ok "prints one message id"
M1=$(cat out)
same "nothing on stderr (From is the sender)" "" "$(cat err)"
check "the To recipient has it" holds $B "$M1"
check "nobody else does" eval '! holds $C "$M1" && ! holds $D "$M1" && ! holds $A "$M1"'
same "one notice" 1 "$(new_mails | wc -l | tr -d ' ')"
check "to the recipient" test -n "$(mail_for $B)"
same "listed as new, without attachments" "N-" "$(flags_of $B "$M1")"
run 0 "the recipient reads it" smail-fetch -u $B "$M1"
cp out view
same "From: the acting account" "Alice Agent <$A>" "$(header view From)"
same "To: the bare address" "$B" "$(header view To)"
same "no Cc" "" "$(header view Cc)"
same "Subject: decoded from its encoded-words" "$subj" "$(header view Subject)"
same "no attachments" "" "$(header view Attachments)"
body_of view >got.txt
check "the body, byte for byte" cmp -s got.txt plain.txt
same "read once fetched" "R-" "$(flags_of $B "$M1")"
same "the subject in the listing" "$subj" \
	"$(smail-inbox --user $B 2>/dev/null | awk -F '\t' -v id="$M1" '$1 == id { print $5 }')"

# ============ multipart: two binary attachments ============
"$PYTHON" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 5)' >allbytes.bin
head -c 200000 /dev/urandom >random.bin
printf 'Two files attached, Quokka.\n' >two.txt
mk --from "$A" --to "$B" --cc "Carol <$C>" --subject 'Two binaries' --body two.txt \
	--attach allbytes.bin --attach 'random.bin=rapport-été 2026.bin' >two.eml
check "(the message is multipart/mixed, base64 parts)" \
	eval 'grep -q "^Content-Type: multipart/mixed" two.eml &&
	[ "$(grep -c "^Content-Transfer-Encoding: base64" two.eml)" = 2 ]'
run 0 "-t: multipart with two binary attachments" smail-send -u $A -t <two.eml
id_ok "prints one message id"
M2=$(cat out)
check "the To recipient has it" holds $B "$M2"
check "the Cc recipient has it" holds $C "$M2"
same "listed with attachments" "NA" "$(flags_of $B "$M2")"
fetch $B "$M2"
same "Cc: the Cc recipient" "$C" "$(header view Cc)"
same "Attachments: both names (the second from RFC 2231), with their sizes" \
	"allbytes.bin ($(size allbytes.bin) bytes), rapport-été 2026.bin ($(size random.bin) bytes)" \
	"$(header view Attachments)"
body_of view >got.txt
check "the body is the text part, byte for byte" cmp -s got.txt two.txt
run 0 "-a fetches the first attachment" smail-fetch -u $B -a allbytes.bin "$M2"
check "every byte value, byte for byte" cmp -s out allbytes.bin
run 0 "-a fetches the second, by its UTF-8 name" smail-fetch -u $C -a 'rapport-été 2026.bin' "$M2"
check "random bytes, byte for byte" cmp -s out random.bin
mkdir files
run 0 "-o DIR writes the attachments" smail-fetch -u $C -o files "$M2"
check "the first, byte for byte" cmp -s files/allbytes.bin allbytes.bin
check "the second, byte for byte" cmp -s 'files/rapport-été 2026.bin' random.bin
run 0 "-e gives the message back as MIME" smail-fetch -u $B -e "$M2"
cp out back.eml
mkdir back
run 0 "(Python parses it)" "$PYTHON" parts.py back.eml back
same "with both attachments, by name" "allbytes.bin
rapport-été 2026.bin" "$(cat out)"
check "the first decodes to the same bytes" cmp -s back/allbytes.bin allbytes.bin
check "the second too" cmp -s 'back/rapport-été 2026.bin' random.bin

# ============ text/html alternative, a Latin-1 body, a message part ============
printf 'Plain version Narwhal\n' >alt.txt
printf '<p>HTML version <b>Narwhal</b></p>\n' >alt.html
mk --from "$A" --to "$B" --subject 'Alternative' --body alt.txt --html alt.html >alt.eml
run 0 "-t: multipart/alternative, text and HTML" smail-send -u $A -t <alt.eml
M3=$(cat out)
fetch $B "$M3"
body_of view >got.txt
check "the body is the text/plain part" cmp -s got.txt alt.txt
same "the HTML part is no attachment" "" "$(header view Attachments)"
run 0 "-e" smail-fetch -u $B -e "$M3"
out_has "has a text/html part" '^Content-Type: text/html'
check "holding the HTML" grep -qF '<p>HTML version <b>Narwhal</b></p>' out

printf 'Caf\303\251 cr\303\250me br\303\273l\303\251e, \303\274ber \302\2444\n' >latin.txt
mk --from "$A" --to "$B" --subject 'Latin-1' --charset iso-8859-1 --body latin.txt >latin.eml
check "(the text part is ISO-8859-1, quoted-printable)" \
	eval 'grep -qi "charset=\"*iso-8859-1" latin.eml && grep -q "Caf=E9" latin.eml'
run 0 "-t: an ISO-8859-1 quoted-printable body" smail-send -u $A -t <latin.eml
fetch $B "$(cat out)"
body_of view >got.txt
check "arrives as UTF-8" cmp -s got.txt latin.txt

# RFC 5322's own line ends are CRLF: the same message with CRLF gives
# the same text as with LF.
sed 's/$/\r/' two.eml >two-crlf.eml
check "(every line of the CRLF copy ends in CR LF)" \
	eval '[ "$(grep -c "$(printf "\r")\$" two-crlf.eml)" = "$(wc -l <two-crlf.eml | tr -d " ")" ]'
run 0 "-t: a multipart message with CRLF line ends" smail-send -u $A -t <two-crlf.eml
MC=$(cat out)
fetch $B "$MC"
body_of view >got.txt
check "the body has the LF line ends of the LF message" cmp -s got.txt two.txt
same "the same attachments, with their sizes" \
	"allbytes.bin ($(size allbytes.bin) bytes), rapport-été 2026.bin ($(size random.bin) bytes)" \
	"$(header view Attachments)"
run 0 "the binary attachment comes back" smail-fetch -u $B -a allbytes.bin "$MC"
check "byte for byte" cmp -s out allbytes.bin

run 0 "-t: a message attached as message/rfc822" sh -c \
	'"$1" mk.py --from "$2" --to "$3" --subject "Enclosed" --body alt.txt --rfc822 plain.eml |
	smail-send -u "$2" -t' sh "$PYTHON" $A $B
M4=$(cat out)
fetch $B "$M4"
att=$(header view Attachments)
check "is one attachment ($att)" eval 'printf "%s\n" "$att" | grep -Eqx "[^,/]+ \([0-9]+ bytes\)"'
run 0 "which comes back" smail-fetch -u $B -a "${att% (*}" "$M4"
check "as the enclosed message, with its body" grep -q 'the figures are attached Okapi' out

printf 'To: %s\nSubject: =?UTF-8?B?w5xiZXJibGljaw==?= raw 8-bit: caf\303\251 \346\241\210\344\273\266\n\nRaw UTF-8 header.\n' \
	$B >raw8.eml
run 0 "-t: a subject of encoded-words and raw UTF-8" smail-send -u $A -t <raw8.eml
fetch $B "$(cat out)"
same "comes out as UTF-8" 'Überblick raw 8-bit: café 案件' "$(header view Subject)"

# ============ From is not the sender ============
mk --from "Mallory <mallory@elsewhere.example>" --to "$B" --subject 'Spoofed From' \
	--body plain.txt >spoof.eml
run 0 "-t with someone else's From: sent" smail-send -u $A -t <spoof.eml
MS=$(cat out)
err_lines "one warning line" 1
err_has "naming the From and the account it goes from" \
	"^smail-send: .*mallory@elsewhere\.example.*$A"
fetch $B "$MS"
same "the message is from the acting account" "Alice Agent <$A>" "$(header view From)"
lacks "and never names the message's From" view mallory

# ============ Bcc ============
printf 'Blind copies Pangolin\n' >bcc.txt
mk --from "$A" --to "$B" --cc "$C" --bcc "Dave <$D>, $E" --subject 'With blind copies' \
	--body bcc.txt >bcc.eml
check "(the message carries the Bcc header)" grep -q "^Bcc: Dave <$D>, $E" bcc.eml
snap
run 0 "-t: To, Cc and two Bcc" smail-send -u $A -t <bcc.eml
MB=$(cat out)
for u in $B $C $D $E; do check "$u has it" holds $u "$MB"; done
same "four notices" 4 "$(new_mails | wc -l | tr -d ' ')"
for u in $D $E; do
	fetch $u "$MB"
	body_of view >got.txt
	check "the Bcc recipient $u reads it" cmp -s got.txt bcc.txt
done
for u in $B $C; do
	fetch $u "$MB"
	same "$u sees To and Cc only" "$(nl_sorted $B $C)" "$(rcpts_of view)"
	lacks "$u's text view names no Bcc recipient" view $D $E
	no_bcc "$u's text view has no Bcc header" view
	smail-fetch -u $u -e "$MB" >view.eml 2>/dev/null
	lacks "$u's .eml names no Bcc recipient" view.eml $D $E
	no_bcc "$u's .eml has no Bcc header" view.eml
	rm -rf zip && mkdir zip
	smail-fetch -u $u -z -o zip/m.zip "$MB" 2>/dev/null &&
		(cd zip && unzip -q m.zip)
	lacks "$u's zip message.txt names no Bcc recipient" zip/message.txt $D $E
	no_bcc "$u's zip message.txt has no Bcc header" zip/message.txt
	lacks "$u's notice names no Bcc recipient" "$(mail_for $u)" $D $E
	smail-inbox --user $u --json >list 2>/dev/null
	lacks "$u's listing (TSV and JSON) names no Bcc recipient" list $D $E
done
fetch $D "$MB"
same "a Bcc recipient sees To and Cc" "$(nl_sorted $B $C)" "$(rcpts_of view)"
lacks "and not the other Bcc recipient" view $E
smail-fetch -u $D -e "$MB" >view.eml 2>/dev/null
lacks "not in the .eml either" view.eml $E
no_bcc "which has no Bcc header" view.eml
fetch $E "$MB"
lacks "nor does the other see the first" view $D
smail-inbox --user $A --sent >sent 2>/dev/null
same "the sender's delivery record lists all four" "$(nl_sorted $B $C $D $E)" \
	"$(awk -F '\t' -v id="$MB" '$1 == id { print $3 }' sent | LC_ALL=C sort)"
run 0 "the To recipient replies to all" smail-send -u $B -R "$MB" -m bcc.txt
MR=$(cat out)
check "the sender gets the reply" holds $A "$MR"
check "the Cc recipient gets the reply" holds $C "$MR"
check "no Bcc recipient does" eval '! holds $D "$MR" && ! holds $E "$MR"'

mk --from "$A" --to 'undisclosed-recipients:;' --bcc "$B, $C" --subject 'Only Bcc' \
	--body bcc.txt >onlybcc.eml
run 0 "-t: an empty group in To, everyone in Bcc" smail-send -u $A -t <onlybcc.eml
MO=$(cat out)
check "both Bcc recipients have it" eval 'holds $B "$MO" && holds $C "$MO"'
fetch $B "$MO"
same "neither is shown" "" "$(rcpts_of view)"
lacks "the one does not see the other" view $C

# ============ mblaze's mmime ============
if command -v mmime >/dev/null 2>&1; then
	head -c 3000 /dev/urandom >mblaze.bin
	printf 'To: %s\nCc: %s\nSubject: mblaze Ünïcode test\n\nHello from mmime Tapir\nsecond line\n#application/octet-stream %s\n' \
		"Bob Partner <$B>" $C "$scratch/mblaze.bin" >draft.txt
	mmime <draft.txt >mblaze.eml 2>mmime.err
	check "(mmime built a MIME message)" grep -qi '^Content-Type: multipart/mixed' mblaze.eml
	run 0 "-t: a message from mblaze's mmime" smail-send -u $A -t <mblaze.eml
	MM=$(cat out)
	check "the To recipient has it" holds $B "$MM"
	check "the Cc recipient has it" holds $C "$MM"
	fetch $C "$MM"
	same "the subject" 'mblaze Ünïcode test' "$(header view Subject)"
	same "the body" 'Hello from mmime Tapir
second line' "$(body_of view)"
	same "the attachment, with its size" "mblaze.bin ($(size mblaze.bin) bytes)" \
		"$(header view Attachments)"
	run 0 "comes back" smail-fetch -u $C -a mblaze.bin "$MM"
	check "byte for byte" cmp -s out mblaze.bin
else
	skip "-t: a message from mblaze's mmime" "mmime (mblaze) is not installed"
fi

# ============ malformed input: 65, one line, nothing changed ============
# malformed NAME FILE: smail-send -t <FILE is refused with 65.
malformed() {
	mark
	run 65 "$1: 65" smail-send -u $A -t <"$2"
	refused "$1"
	nothing_stored "$1"
}
printf 'From: %s\nSubject: nobody\nDate: Sat, 28 Nov 2026 12:00:00 +0000\n\nNo recipient at all.\n' \
	$A >norcpt.eml
malformed "no To, Cc or Bcc" norcpt.eml
"$PYTHON" -c '
import random, sys
random.seed(1900)
sys.stdout.buffer.write(bytes(random.randrange(256) for _ in range(4096)))' >garbage.bin
check "(the garbage holds NUL bytes)" eval '[ "$(tr -cd "\000" <garbage.bin | wc -c)" -gt 0 ]'
malformed "garbage bytes" garbage.bin
tr -d '\000' <garbage.bin >garbage-nonul.bin
malformed "garbage bytes without NUL" garbage-nonul.bin
: >empty.eml
malformed "empty stdin" empty.eml
printf 'To: %s\nThis header line has no colon\nSubject: no colon\n\nbody\n' $B >nocolon.eml
malformed "a header line with no colon" nocolon.eml
printf 'This first line has no colon\nTo: %s\nSubject: no colon\n\nbody\n' $B >nocolon1.eml
malformed "a first line with no colon" nocolon1.eml
printf 'Dear Bob, here are the figures you asked for.\nThey are not in any\nformat at all; just prose.\n' \
	>prose.txt
malformed "non-MIME nonsense (plain prose)" prose.txt
printf 'To: %s\nSubject: NUL\n\nbody with a NUL \000 byte\n' $B >nul.eml
malformed "a NUL byte in the body" nul.eml
# A malformed recipient is refused, never dropped: a message that
# reaches fewer people than its sender wrote to must not go.
printf 'To: carol@partner..example\nSubject: bad address\n\nbody\n' >badaddr.eml
malformed "a malformed To address" badaddr.eml
err_has "naming it" 'carol@partner\.\.example'
printf 'To: %s, carol@partner..example\nSubject: bad address\n\nbody\n' $B >badto2.eml
malformed "a malformed To address beside a good one" badto2.eml
printf 'To: %s\nCc: carol@\nSubject: bad Cc\n\nbody\n' $B >badcc.eml
malformed "a malformed Cc address" badcc.eml
printf 'To: %s\nBcc: dave@@agency.gov\nSubject: bad Bcc\n\nbody\n' $B >badbcc.eml
malformed "a malformed Bcc address" badbcc.eml
# Addresses separated by ';' (as some mail programs write them) are no
# RFC 5322 list: refused, or both recipients reached, never one of them.
printf 'To: %s; %s\nSubject: semicolon\n\nbody\n' $B $C >semi.eml
mark
smail-send -u $A -t <semi.eml >out 2>err
rc=$?
if [ $rc -eq 65 ]; then
	ok "recipients separated by ';': refused with 65"
	refused "recipients separated by ';'"
	nothing_stored "recipients separated by ';'"
elif [ $rc -eq 0 ] && holds $B "$(cat out)" && holds $C "$(cat out)"; then
	ok "recipients separated by ';': sent to both"
else
	not_ok "recipients separated by ';': refused, or sent to both (exit $rc)"
	smail-inbox --user $A --sent 2>/dev/null | awk -F '\t' -v id="$(cat out)" \
		'$1 == id { print "went to " $3 }' | diag
fi

# ============ limits ============
mkdir eleven
set --
for i in 1 2 3 4 5 6 7 8 9 10 11; do
	printf 'file %s\n' $i >eleven/f$i.txt
	set -- "$@" --attach eleven/f$i.txt
done
mk --from "$A" --to "$B" --subject Eleven --body plain.txt "$@" >eleven.eml
malformed "11 attachments" eleven.eml
err_has "naming the limit" '10'

head -c 20971520 /dev/urandom >big20.bin
head -c 10485761 /dev/urandom >big10.bin
mk --from "$A" --to "$B" --subject 'Over 30 MiB' --body plain.txt \
	--attach big20.bin --attach big10.bin >over.eml
rm -f big20.bin big10.bin
malformed "attachments of 30 MiB + 1 byte" over.eml
err_has "naming the limit, 30 MiB" '30 MiB'
rm -f over.eml

{
	printf 'To: %s\nSubject: huge\n\n' $B
	yes 'a line of a very long body, over and over again' | head -c 70000000
} >huge.eml
malformed "a 70 MB message on stdin" huge.eml
rm -f huge.eml

# ============ usage ============
# usage DESC ARGS...: smail-send -t ARGS <plain.eml exits 64 and stores
# nothing.
usage() {
	_d=$1
	shift
	mark
	run 64 "$_d: 64" smail-send -u $A -t "$@" <plain.eml
	err_has "$_d: says why" '^smail-send: '
	nothing_stored "$_d"
}
usage "-t with a recipient operand" $C
usage "-t with -s" -s 'Other subject'
usage "-t with -c" -c $C
usage "-t with -a" -a plain.txt
usage "-t with -m" -m plain.txt
usage "-t with --draft" --draft
usage "-t with -b" -b plain.txt
mark
run 64 "-t with --password-fd 0: 64" \
	smail-send -u $A -t --password-fd 0 <plain.eml
err_has "says standard input carries the message" 'standard input'
nothing_stored "-t with --password-fd 0"

done_testing
