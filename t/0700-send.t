#!/bin/sh
# smail-send: subject, Cc, attachments, body from a file or stdin, an
# HTML part; ids; invitations and notices (content-free); no copy for
# the sender; the limits at their exact boundaries; odd and hostile
# attachment names; replies, forwards, drafts, $EDITOR under a
# pseudo-terminal, batches; a message still reads after a reset.
. "$(dirname "$0")/lib.sh"

# Nothing here may start $EDITOR by accident: stdin is never a terminal
# unless a test puts one there.
exec </dev/null
unset VISUAL EDITOR

A=alice@agency.gov B=bob@partner.example C=carol@partner.example
D=dave@agency.gov E=erin@outside.example F=frank@outside.example
new_portal
add_user $A 'Kite#Zebra42x' "Alice Agent"
add_user $B 'Tulip&River77q' "Bob Partner"
add_user $C 'Maple@Stone31z' "Carol Client"
add_user $D 'Cedar!Brook55k' "Dave Deputy"
pwfile pw.$E 'Birch%Lake64m'
pwfile pw.$F 'Willow^Frost83p'
pwfile pw.$B.new 'Hazel=Creek26w'
login() { smail-register --login --password-file "pw.$1" "$1" 2>/dev/null; }
for u in $A $B $C $D; do login $u; done

# --- helpers ---
# pty ARGS...: t/pty-run.py (a command on a new pseudo-terminal).
pty() { "$PYTHON" "$T_SRC/pty-run.py" "$@"; }
# inbox ADDR: the account's message ids, newest first.
inbox() { smail-inbox --user "$1" 2>/dev/null | cut -f1; }
inbox_n() { inbox "$1" | wc -l | tr -d ' '; }
holds() { inbox "$1" | grep -qx -- "$2"; }
# fetch ADDR ID: the text view into ./view.
fetch() { smail-fetch -u "$1" "$2" >view 2>/dev/null; }
# body_of FILE: what follows the first blank line.
body_of() { sed '1,/^$/d' "$1"; }
# header FILE NAME: the value of one header line of a text view.
header() { sed -n "1,/^\$/s/^$2: //p" "$1"; }
# snap / new_mails: the notifications delivered since the last snap.
snap() { ls "$SMAIL_DIR/mail/new" >mails.before; }
new_mails() {
	ls "$SMAIL_DIR/mail/new" | comm -13 mails.before - |
		sed "s|^|$SMAIL_DIR/mail/new/|"
}
# mail_for ADDR: the newest of the new mails addressed to ADDR.
mail_for() {
	for _m in $(new_mails); do
		grep -q "^To: <$1>" "$_m" && echo "$_m"
	done | tail -n 1
}
# id_ok DESC: ./out is one message id, as the SPEC has them.
id_ok() {
	if [ "$(wc -l <out | tr -d ' ')" = 1 ] &&
		grep -Eqx '[A-Za-z0-9_][A-Za-z0-9_-]*' out; then
		ok "$1"
	else
		not_ok "$1"
		diag <out
	fi
}
state_of() { smail-admin list 2>/dev/null | awk -v a="$1" '$1 == a { print $2 }'; }
# content_free DESC FILE STRING...: FILE holds none of the STRINGs.
content_free() {
	_d=$1 _f=$2
	shift 2
	for _s; do
		if [ ! -s "$_f" ] || grep -qaF -- "$_s" "$_f"; then
			not_ok "$_d"
			printf 'holds %s (or is missing)\n' "$_s" | diag
			return
		fi
	done
	ok "$_d"
}
# A small helper against the store (GDBM, from libgdbm-dev, which the
# build needs anyway): "keys PREFIX" lists keys.
poke=$SMAIL_BUILD/helpers/poke
# msg_records: how many messages the store holds (header records).
msg_records() {
	if [ -n "$poke" ]; then $poke keys m: | wc -l | tr -d ' '
	else echo '?'; fi
}
# nothing_stored DESC: no message record, no notification, no inbox
# entry since "mark".
mark() {
	m_msgs=$(msg_records) m_mail=$(mail_count)
	m_in="$(inbox_n $A) $(inbox_n $B) $(inbox_n $C) $(inbox_n $D)"
}
nothing_stored() {
	same "$1: no notification" "$m_mail" "$(mail_count)"
	same "$1: no new inbox entry" "$m_in" \
		"$(inbox_n $A) $(inbox_n $B) $(inbox_n $C) $(inbox_n $D)"
	if [ -n "$poke" ]; then
		same "$1: no message record" "$m_msgs" "$(msg_records)"
	else
		ok "# SKIP $1: no message record (no C compiler for the GDBM helper)"
	fi
}

# Distinctive content, to look for where it must not be.
subj='Quarterly figures Zanzibar'
printf 'Confidential body Okapi\nSecond line\n' >body.txt
printf '<p>Confidential <b>HTML</b> Narwhal</p>\n' >body.html
printf 'report content Quokka\n' >report-q3.pdf
printf 'notes content Axolotl\n' >notes-q3.txt

# --- a message with everything ---
snap
run 0 "send with -s, -c, -a (two), -H and -m" \
	smail-send -u $A -s "$subj" -c $C -a report-q3.pdf -a notes-q3.txt \
	-H body.html -m body.txt $B
id_ok "prints one message id ([A-Za-z0-9_-]+, not starting with '-')"
M1=$(cat out)
run 0 "the recipient reads it" smail-fetch -u $B "$M1"
cp out view
same "From: the sender's name and address" "Alice Agent <$A>" "$(header view From)"
same "To: the recipient" "$B" "$(header view To)"
same "Cc: the Cc recipient" "$C" "$(header view Cc)"
same "Subject: as given" "$subj" "$(header view Subject)"
same "Attachments: both, with sizes" \
	"report-q3.pdf ($(wc -c <report-q3.pdf | tr -d ' ') bytes), notes-q3.txt ($(wc -c <notes-q3.txt | tr -d ' ') bytes)" \
	"$(header view Attachments)"
same "the body is the -m file" "$(cat body.txt)" "$(body_of view)"
run 0 "the attachment comes back" smail-fetch -u $B -a report-q3.pdf "$M1"
check "byte for byte" cmp -s out report-q3.pdf
run 0 "the Cc recipient reads it too" smail-fetch -u $C "$M1"
same "the same body" "$(cat body.txt)" "$(body_of out)"
run 0 "as a MIME message" smail-fetch -u $B -e "$M1"
out_has "-H added a text/html part" '^Content-Type: text/html'
check "holding the HTML file" grep -qF 'Confidential <b>HTML</b> Narwhal' out
same "the sender keeps no copy" "" "$(inbox $A)"
same "two notices, one per recipient" 2 "$(new_mails | wc -l | tr -d ' ')"
nb=$(mail_for $B) nc=$(mail_for $C)
check "the recipient got a 'secure message' notice" \
	grep -q '^Subject: You have a secure message' "$nb"
check "so did the Cc recipient" grep -q '^Subject: You have a secure message' "$nc"
check "the notice says how to open it (the id)" grep -qF "$M1" "$nb"
content_free "the notice holds no subject, body, HTML or attachment name" "$nb" \
	Zanzibar Quarterly Okapi 'Second line' Narwhal report-q3 notes-q3 Quokka Axolotl
content_free "neither does the Cc notice" "$nc" \
	Zanzibar Quarterly Okapi Narwhal report-q3 notes-q3

# --- body from stdin; an empty body; a 0-byte attachment ---
printf 'Body from stdin Pangolin\n' >stdin.txt
run 0 "the body from stdin" smail-send -u $A -s 'From stdin' $B <stdin.txt
id_ok "prints an id"
fetch $B "$(cat out)"
same "the body is what stdin held" 'Body from stdin Pangolin' "$(body_of view)"
run 0 "-m - reads stdin too" smail-send -u $A -s 'Dash m' -m - $B <stdin.txt
fetch $B "$(cat out)"
same "the same body" 'Body from stdin Pangolin' "$(body_of view)"
: >empty.dat
run 0 "an empty body and a 0-byte attachment" \
	smail-send -u $A -s 'Empty' -a empty.dat $B </dev/null
ME=$(cat out)
fetch $B "$ME"
same "the body is empty" "" "$(body_of view)"
same "the 0-byte attachment is listed" 'empty.dat (0 bytes)' "$(header view Attachments)"
run 0 "and comes back empty" smail-fetch -u $B -a empty.dat "$ME"
check "0 bytes" test ! -s out

# --- non-ASCII subject and names ---
usubj='Überblick — 案件'
mkdir u
printf 'résumé des faits\n' >'u/rapport-été.pdf'
printf 'données\n' >'u/案件-2026.txt'
run 0 "a UTF-8 subject and file names" \
	smail-send -u $A -s "$usubj" -a 'u/rapport-été.pdf' -a 'u/案件-2026.txt' -m body.txt $B
MU=$(cat out)
same "smail-inbox shows the subject" "$usubj" \
	"$(smail-inbox --user $B 2>/dev/null | awk -F '\t' -v id="$MU" '$1 == id { print $5 }')"
fetch $B "$MU"
same "the text view shows it" "$usubj" "$(header view Subject)"
check "and the names" grep -qF 'rapport-été.pdf (' view
run 0 "an attachment by its UTF-8 name" smail-fetch -u $B -a 'rapport-été.pdf' "$MU"
check "byte for byte" cmp -s out 'u/rapport-été.pdf'
run 0 "the other one" smail-fetch -u $B -a '案件-2026.txt' "$MU"
check "byte for byte" cmp -s out 'u/案件-2026.txt'

# --- hostile attachment names, stored as given ---
mkdir h
tab=$(printf 'a\tb') nl=$(printf 'x\ny') esc=$(printf '\033[2Jcls') cr=$(printf 'c\rr')
set -- '-rf' '...' "$tab" "$nl" "$esc" "$cr" ' lead space' '.hidden'
i=0
for n; do
	i=$((i + 1))
	printf 'hostile %s\n' "$i" >"h/$n"
done
run 0 "hostile names go as attachments" \
	smail-send -u $A -s Hostile -a h/-rf -a h/... -a "h/$tab" -a "h/$nl" \
	-a "h/$esc" -a "h/$cr" -a 'h/ lead space' -a h/.hidden -m body.txt $B
MH=$(cat out)
for n; do
	smail-fetch -u $B -a "$n" "$MH" >got 2>err
	if [ $? -eq 0 ] && cmp -s got "h/$n"; then
		ok "stored as given: $(printf '%s' "$n" | od -An -tx1 | tr -s ' \n' '  ')"
	else
		not_ok "stored as given: $(printf '%s' "$n" | od -An -tx1 | tr -s ' \n' '  ')"
		diag <err
	fi
done
run 0 "the text view of it" smail-fetch -u $B "$MH"
check "puts no control character in the headers" \
	test -z "$(sed -n '1,/^$/p' out | LC_ALL=C tr -d '\n' | LC_ALL=C tr -d '[:print:]')"

# --- invitations ---
snap
run 0 "a message to an unknown address" \
	smail-send -u $A -s "$subj" -a report-q3.pdf -m body.txt $E
MI=$(cat out)
err_has "says it invited the address" "$E.*invited"
same "smail-admin list shows the account invited" invited "$(state_of $E)"
inv=$(mail_for $E)
check "an invitation mail went to the address" test -n "$inv"
check "holding a smail-register command with -t and the address" \
	grep -Eq "smail-register .*-t smi-[A-Za-z0-9_-]{43} $E\$" "$inv"
content_free "the invitation holds no subject, body or attachment name" "$inv" \
	Zanzibar Quarterly Okapi 'Second line' report-q3 Quokka
run 0 "the invited address registers from the mail" \
	smail-register --password-file pw.$E $E <"$inv"
run 0 "and reads the message" smail-fetch -u $E "$MI"
same "the body" "$(cat body.txt)" "$(body_of out)"
same "now active" active "$(state_of $E)"

# --- no copy for the sender, unless a recipient ---
same "the sender's inbox is still empty" "" "$(inbox $A)"
run 0 "with herself in Cc" smail-send -u $A -s 'Self copy' -c $A -m body.txt $B
MS=$(cat out)
same "the sender has exactly that copy" "$MS" "$(inbox $A)"
run 0 "and reads it" smail-fetch -u $A "$MS"

# --- limits, at their exact boundaries ---
mkdir ten
for i in 1 2 3 4 5 6 7 8 9 10 11; do printf 'file %s\n' $i >ten/f$i.txt; done
set -- -a ten/f1.txt -a ten/f2.txt -a ten/f3.txt -a ten/f4.txt -a ten/f5.txt \
	-a ten/f6.txt -a ten/f7.txt -a ten/f8.txt -a ten/f9.txt -a ten/f10.txt
run 0 "10 attachments: sent" smail-send -u $A -s Ten "$@" -m body.txt $B
fetch $B "$(cat out)"
same "all ten are there" 10 "$(header view Attachments | tr ',' '\n' | wc -l | tr -d ' ')"
mark
run 65 "11 attachments: refused with 65" \
	smail-send -u $A -s Eleven "$@" -a ten/f11.txt -m body.txt $B
err_has "naming the limit" '10'
nothing_stored "11 attachments"

mkdir big
head -c 20971520 /dev/zero >big/twenty.bin
head -c 10485759 /dev/zero >big/ten.bin
printf 'x' >big/one.bin
run 0 "exactly 30 MiB (31457280 bytes in three files): sent" \
	smail-send -u $A -s 'Thirty' -a big/twenty.bin -a big/ten.bin -a big/one.bin -m body.txt $B
M30=$(cat out)
run 0 "the largest comes back" smail-fetch -u $B -a twenty.bin "$M30"
check "byte for byte" cmp -s out big/twenty.bin
printf 'xy' >big/two.bin
mark
run 65 "one byte more: refused with 65" \
	smail-send -u $A -s 'Thirty plus' -a big/twenty.bin -a big/ten.bin -a big/two.bin -m body.txt $B
err_has "naming the limit, 30 MiB" '30 MiB'
nothing_stored "31457281 bytes"
head -c 31457281 /dev/zero >big/over.bin
mark
run 65 "one file of 30 MiB + 1 byte: refused with 65" \
	smail-send -u $A -s 'Over' -a big/over.bin -m body.txt $B
err_has "naming the limit" '30 MiB'
nothing_stored "one file over"
rm -f big/over.bin
mark
run 66 "a missing attachment file: 66" \
	smail-send -u $A -s 'Missing' -a report-q3.pdf -a no-such-file.pdf -m body.txt $B
err_has "naming the file" 'no-such-file.pdf'
nothing_stored "a missing file"
mark
run 66 "a missing body file: 66" smail-send -u $A -s 'No body' -m no-such-body.txt $B
nothing_stored "a missing body file"

# --- replies ---
snap
run 0 "-r replies" smail-send -u $B -r "$M1" -m stdin.txt
id_ok "prints an id"
R1=$(cat out)
check "the sender of the original has it" holds $A "$R1"
check "the Cc recipient of the original does not" eval '! holds $C "$R1"'
check "the replier keeps no copy" eval '! holds $B "$R1"'
fetch $A "$R1"
same "Subject: 'Re: ' added" "Re: $subj" "$(header view Subject)"
same "To: the original sender only" "$A" "$(header view To)"
same "no Cc" "" "$(header view Cc)"
check "In-Reply-To names the original" grep -qx "In-Reply-To: $M1" view
same "one notice, to the original sender" "$A" \
	"$(for m in $(new_mails); do sed -n 's/^To: <\(.*\)>$/\1/p' "$m"; done)"
run 0 "-r to a reply" smail-send -u $A -r "$R1" -m stdin.txt
R2=$(cat out)
fetch $B "$R2"
same "'Re: ' is added once only" "Re: $subj" "$(header view Subject)"
same "to the replier" "$B" "$(header view To)"

run 0 "-R from the Cc recipient" smail-send -u $C -R "$M1" -m stdin.txt
RA=$(cat out)
check "reaches the original sender" holds $A "$RA"
check "and the To recipient" holds $B "$RA"
check "not the replier herself" eval '! holds $C "$RA"'
fetch $A "$RA"
same "its recipients: everyone but the replier" "$A $B" \
	"$( (header view To; header view Cc) | tr ',' '\n' | tr -d ' ' | grep . | sort | tr '\n' ' ' | sed 's/ $//')"
run 0 "-R from the To recipient" smail-send -u $B -R "$M1" -m stdin.txt
RB=$(cat out)
check "reaches the sender" holds $A "$RB"
check "and the Cc recipient" holds $C "$RB"
check "not the replier" eval '! holds $B "$RB"'
fetch $C "$RB"
same "Subject: 'Re: ' added" "Re: $subj" "$(header view Subject)"

mark
run 64 "-r with an extra recipient: 64" smail-send -u $B -r "$M1" -m stdin.txt $D
run 64 "-r with -c: 64" smail-send -u $B -r "$M1" -c $D -m stdin.txt
run 64 "-R with an extra recipient: 64" smail-send -u $B -R "$M1" -m stdin.txt $D
run 64 "-R with -c: 64" smail-send -u $B -R "$M1" -c $D -m stdin.txt
nothing_stored "a refused reply"
run 66 "-r of an unknown id: 66" smail-send -u $B -r nosuchmessage0000 -m stdin.txt

# --- forwards ---
date1=$(smail-inbox --user $B 2>/dev/null | awk -F '\t' -v id="$M1" '$1 == id { print $2 }')
printf 'Please see below, Wombat.\n' >fwd.txt
run 0 "-f forwards with a new text" smail-send -u $B -f "$M1" -m fwd.txt $D
id_ok "prints an id"
F1=$(cat out)
check "the forward reaches its recipient" holds $D "$F1"
fetch $D "$F1"
same "the body: new text, 'Originally sent by', the original" \
	"Please see below, Wombat.
Originally sent by Alice Agent <$A> on $date1:
$(cat body.txt)" "$(body_of view)"
same "the original's attachments are kept, and shown as the original's" \
	"report-q3.pdf ($(wc -c <report-q3.pdf | tr -d ' ') bytes, from the original, verified), notes-q3.txt ($(wc -c <notes-q3.txt | tr -d ' ') bytes, from the original, verified)" \
	"$(header view Attachments)"
check "a Forwarded: line says the original is verified" \
	grep -Eq "^Forwarded: .*$M1.*original verified" view
run 0 "the forwarded attachment comes back" smail-fetch -u $D -a notes-q3.txt "$F1"
check "byte for byte" cmp -s out notes-q3.txt

printf 'added on forward\n' >added.txt
run 0 "-f with -x drops one attachment and -a adds one" \
	smail-send -u $B -f "$M1" -x notes-q3.txt -a added.txt -m fwd.txt $D
fetch $D "$(cat out)"
same "report kept, notes dropped, added.txt added (and shown so)" \
	"report-q3.pdf ($(wc -c <report-q3.pdf | tr -d ' ') bytes, from the original, verified), added.txt ($(wc -c <added.txt | tr -d ' ') bytes, added by the forwarder)" \
	"$(header view Attachments)"
mark
run 66 "-x of a name the original lacks: 66" \
	smail-send -u $B -f "$M1" -x no-such.pdf -m fwd.txt $D
err_has "naming it" 'no-such.pdf'
nothing_stored "a refused forward"
run 64 "-f without a recipient: 64" smail-send -u $B -f "$M1" -m fwd.txt

snap
run 0 "a forward to an unknown address" smail-send -u $B -f "$M1" -m fwd.txt $F
FF=$(cat out)
same "invites it" invited "$(state_of $F)"
inv=$(mail_for $F)
check "with a token" grep -Eq "smail-register .*-t smi-[A-Za-z0-9_-]{43} $F\$" "$inv"
content_free "and no content" "$inv" Zanzibar Quarterly Okapi Wombat report-q3 notes-q3
run 0 "the invited address registers" smail-register --password-file pw.$F $F <"$inv"
run 0 "and reads the forward" smail-fetch -u $F "$FF"
check "with the quoted original" grep -qx 'Confidential body Okapi' out

# --- drafts ---
printf 'Draft body Manatee\n' >draft.txt
mark
run 0 "--draft saves a draft" smail-send -u $A --draft -s 'Draft one' -m draft.txt $B
id_ok "prints a draft id"
DR=$(cat out)
run 0 "smail-inbox --drafts" smail-inbox --user $A --drafts
same "lists ID, DATE, TO, SUBJECT" "$DR $B Draft one" "$(cut -f1,3,4 out | tr '\t' ' ')"
out_has "DATE is UTC ISO 8601" "^$DR	[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z	"
same "a draft notifies nobody" "$m_mail" "$(mail_count)"
same "and is in nobody's inbox" "$m_in" \
	"$(inbox_n $A) $(inbox_n $B) $(inbox_n $C) $(inbox_n $D)"
run 0 "-D sends the draft with a new subject" smail-send -u $A -D "$DR" -s 'Draft sent'
id_ok "prints a message id"
MD=$(cat out)
check "a new id, not the draft's" test "$MD" != "$DR"
check "the draft's recipient has it" holds $B "$MD"
fetch $B "$MD"
same "the new subject" 'Draft sent' "$(header view Subject)"
same "the draft's body" 'Draft body Manatee' "$(body_of view)"
same "the draft is gone" "" "$(smail-inbox --user $A --drafts 2>/dev/null)"
run 66 "-D of the spent draft: 66" smail-send -u $A -D "$DR"

smail-send -u $A --draft -s 'Draft two' -a notes-q3.txt -m draft.txt $C >out 2>/dev/null
DR2=$(cat out)
printf 'Replaced body Dugong\n' >draft2.txt
run 0 "-D with -m replaces the body" smail-send -u $A -D "$DR2" -m draft2.txt
fetch $C "$(cat out)"
same "the new body" 'Replaced body Dugong' "$(body_of view)"
same "the draft's subject" 'Draft two' "$(header view Subject)"
same "the draft's attachment" "notes-q3.txt ($(wc -c <notes-q3.txt | tr -d ' ') bytes)" \
	"$(header view Attachments)"

smail-send -u $A --draft -s 'Draft three' -m draft.txt $B >out 2>/dev/null
DR3=$(cat out)
run 0 "smail-inbox -d deletes a draft" smail-inbox --user $A -d "$DR3"
same "--drafts is empty" "" "$(smail-inbox --user $A --drafts 2>/dev/null)"
run 66 "-D of the deleted draft: 66" smail-send -u $A -D "$DR3"

# --- $EDITOR on a terminal ---
cat >ed-ok <<'EOF'
#!/bin/sh
printf 'Typed in the editor Tapir\n' >"$1"
EOF
cat >ed-fail <<'EOF'
#!/bin/sh
printf 'Half written Ocelot\n' >"$1"
exit 1
EOF
chmod 700 ed-ok ed-fail
n=$(inbox_n $B)
run 0 "on a terminal with no body, \$EDITOR writes it" \
	env EDITOR="$scratch/ed-ok" "$PYTHON" "$T_SRC/pty-run.py" -- \
	smail-send -u $A -s 'Edited' $B
same "one message more for the recipient" $((n + 1)) "$(inbox_n $B)"
ME=$(inbox $B | head -n 1)
check "its id was printed" grep -qF "$ME" out
fetch $B "$ME"
same "with the editor's text" 'Typed in the editor Tapir' "$(body_of view)"
same "and no draft left behind" "" "$(smail-inbox --user $A --drafts 2>/dev/null)"
check "the editor's file is gone" test -z "$(find "$XDG_RUNTIME_DIR" -name 'compose-*')"
n=$(inbox_n $B)
env EDITOR="$scratch/ed-fail" "$PYTHON" "$T_SRC/pty-run.py" -- \
	smail-send -u $A -s 'Edit failed' $B >out 2>err
rc=$?
check "an editor that exits 1: exit status not 0 (got $rc)" test $rc -ne 0
same "nothing sent" "$n" "$(inbox_n $B)"
smail-inbox --user $A --drafts >drafts 2>/dev/null
same "a draft is kept" 1 "$(wc -l <drafts | tr -d ' ')"
KD=$(cut -f1 drafts)
check "the terminal names it" grep -qF "$KD" out
run 0 "it resumes" smail-send -u $A -D "$KD"
fetch $B "$(cat out)"
same "with what the editor wrote" 'Half written Ocelot' "$(body_of view)"
same "and the subject" 'Edit failed' "$(header view Subject)"

# --- batch ---
printf 'Batch body one Tamarin\n' >b1.txt
printf 'Batch body two\n' >b2.txt
printf 'Batch body three\n' >b3.txt
printf 'batch attachment\n' >batt.txt
T=$(printf '\t')
cat >manifest <<EOF
# a comment line

$B${T}Batch one${T}b1.txt
$B,$C${T}Batch two${T}b2.txt${T}batt.txt
$D${T}Bad line${T}no-such-body.txt
  # an indented comment
$C${T}Batch three${T}b3.txt
EOF
nd=$(inbox_n $D)
run 65 "-b FILE with a bad line: 65" smail-send -u $A -b manifest
err_has "naming the file and the line: manifest:5:" '^smail-send: manifest:5: '
check "and no other line" eval '! grep -q "manifest:[0-46-9]" err'
same "ID<TAB>RCPTS for each good line, in order" \
	"$B
$B,$C
$C" "$(cut -f2 out)"
check "each id well formed" eval '! cut -f1 out | grep -Evx "[A-Za-z0-9_][A-Za-z0-9_-]*"'
b1=$(sed -n 1p out | cut -f1) b2=$(sed -n 2p out | cut -f1) b3=$(sed -n 3p out | cut -f1)
fetch $B "$b1"
same "line 3 reached its recipient" 'Batch body one Tamarin' "$(body_of view)"
same "with its subject" 'Batch one' "$(header view Subject)"
run 0 "line 4: the first recipient reads it" smail-fetch -u $B -a batt.txt "$b2"
check "with its attachment" cmp -s out batt.txt
run 0 "line 4: so does the second" smail-fetch -u $C "$b2"
same "its body" 'Batch body two' "$(body_of out)"
fetch $C "$b3"
same "line 7, after the bad one, went too" 'Batch body three' "$(body_of view)"
same "the bad line sent nothing" "$nd" "$(inbox_n $D)"

cat >manifest2 <<EOF
$D${T}Stdin one${T}b1.txt

$C${T}only two fields
# comment
$D${T}Stdin two${T}b2.txt${T}no-such-attachment.bin
$B${T}Stdin three${T}b3.txt
EOF
run 65 "-b - reads the manifest from stdin; bad lines: 65" smail-send -u $A -b - <manifest2
err_has "naming line 3" ':3: '
err_has "naming line 5" ':5: '
same "ids for lines 1 and 6" "$D
$B" "$(cut -f2 out)"
fetch $D "$(sed -n 1p out | cut -f1)"
same "line 1 readable" 'Batch body one Tamarin' "$(body_of view)"
fetch $B "$(sed -n 2p out | cut -f1)"
same "line 6 readable" 'Batch body three' "$(body_of view)"
printf '%s\t%s\t%s\n' $D 'All good' b1.txt "$B,$C" 'All good 2' b2.txt >manifest3
run 0 "-b with only good lines: 0" smail-send -u $A -b manifest3
same "two ids" 2 "$(wc -l <out | tr -d ' ')"
run 64 "-b with a recipient on the command line: 64" smail-send -u $A -b manifest3 $B

# --- a password reset keeps old messages readable ---
run 0 "bob requests a password reset" \
	smail-reset --password-file pw.$B.new $B
cp "$(last_mail)" reset.mail
run 0 "and activates it from the mail" smail-reset --password-file pw.$B.new $B <reset.mail
run 0 "bob signs in with the new password" \
	smail-register --login --password-file pw.$B.new $B
run 0 "a message sent before the reset still reads" smail-fetch -u $B "$M1"
same "its body" "$(cat body.txt)" "$(body_of out)"
run 0 "its attachment too" smail-fetch -u $B -a report-q3.pdf "$M1"
check "byte for byte" cmp -s out report-q3.pdf

# --- nothing in the clear in any notification ---
for s in Zanzibar Okapi Narwhal Quokka Axolotl report-q3 notes-q3 Wombat Manatee \
	Dugong Tapir Ocelot Tamarin 'Überblick' 'rapport-été'; do
	if grep -rqaF -- "$s" "$SMAIL_DIR/mail"; then
		not_ok "no notification holds '$s'"
	else
		ok "no notification holds '$s'"
	fi
done
# --- long queues and sent lists (kept in segments of 64 ids) ---
# 150 messages wait for a new invited address, more than two segments:
# registration carries every one of them over, the listing shows each
# once, the sender's record has each, and check finds nothing wrong.
G=gail@outside.example
i=0
while [ $i -lt 150 ]; do
	i=$((i + 1))
	printf '%s\tqueue %d\tbody.q\n' $G $i
done >many.tsv
printf 'queued\n' >body.q
run 0 "a batch of 150 to an address with no account" smail-send -u $A -b many.tsv
cut -f1 out | sort >many.ids
same "150 ids printed" 150 "$(wc -l <many.ids | tr -d ' ')"
# The invitation is the one mail to her that carries a token.
inv=$(grep -l "smail-register .*-t smi-.* $G\$" "$SMAIL_DIR"/mail/new/* | head -n 1)
check "one invitation among the mails to her" test -n "$inv"
pwfile pw.$G 'Heron%Gate58w'
run 0 "the invited address registers" smail-register --password-file pw.$G $G <"$inv"
login $G
run 0 "and lists its inbox" smail-inbox --user $G
same "every message once" "$(cat many.ids)" "$(cut -f1 out | sort)"
run 0 "the last one reads" smail-fetch -u $G "$(head -n 1 many.ids)"
smail-inbox --user $A --sent 2>/dev/null | awk -F '\t' -v g=$G '$3 == g { print $1 }' |
	sort >sent.ids
same "the sender's delivery record has each of them" "$(cat many.ids)" "$(cat sent.ids)"
run 0 "smail-admin check passes" smail-admin check

done_testing
