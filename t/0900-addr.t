#!/bin/sh
# smail-addr: contacts (add, update in place, remove, the sorted
# listing), groups (-G, -g, -a from the contacts only, -r, --delete),
# @group recipients in smail-send (arguments, -c, batch manifests),
# import of vCard and CSV as real programs write them, all or nothing
# on malformed files, export that imports back the same book, and no
# contact or group name in the clear anywhere in the portal.
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR

A=alice@agency.gov B=bob@partner.example C=carol@partner.example
D=dave@agency.gov E=erin@agency.gov
F=frank@outside.example G=grace@outside.example
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
TAB=$(printf '\t')
CR=$(printf '\r')
# book [ADDR]: the listing of ADDR's (default alice's) address book.
book() { smail-addr -u "${1:-$A}" 2>/dev/null; }
book_n() { book "$@" | wc -l | tr -d ' '; }
# groups [ADDR]: -G, sorted (the order of groups is not the point).
groups() { smail-addr -u "${1:-$A}" -G 2>/dev/null | LC_ALL=C sort; }
# members GROUP [ADDR]: -g GROUP, sorted.
members() { smail-addr -u "${2:-$A}" -g "$1" 2>/dev/null | LC_ALL=C sort; }
# listed LINE: the exact line is in alice's listing.
listed() { book | grep -qxF -- "$1"; }
inbox() { smail-inbox --user "$1" 2>/dev/null | cut -f1; }
inbox_n() { inbox "$1" | wc -l | tr -d ' '; }
holds() { inbox "$1" | grep -qx -- "$2"; }
# header FILE NAME: one header of a text view.
header() { sed -n "1,/^\$/s/^$2: //p" "$1"; }
# nl_sorted WORD...: the words, one a line, sorted.
nl_sorted() { printf '%s\n' "$@" | LC_ALL=C sort; }

# Message records in the store, counted with a small GDBM reader.
counter=$SMAIL_BUILD/helpers/poke
msg_records() {
	if [ -n "$counter" ]; then $counter count m:; else echo '?'; fi
}
# mark / nothing_sent DESC: no message record, no notification and no
# inbox entry since mark.
mark() {
	m_rec=$(msg_records) m_mail=$(mail_count)
	m_in="$(inbox_n $A) $(inbox_n $B) $(inbox_n $C) $(inbox_n $D) $(inbox_n $E)"
}
nothing_sent() {
	same "$1: no notification" "$m_mail" "$(mail_count)"
	same "$1: no inbox has anything new" "$m_in" \
		"$(inbox_n $A) $(inbox_n $B) $(inbox_n $C) $(inbox_n $D) $(inbox_n $E)"
	if [ -n "$counter" ]; then
		same "$1: no message stored" "$m_rec" "$(msg_records)"
	else
		ok "# SKIP $1: no message stored (no C compiler for the GDBM reader)"
	fi
}
# keep / unchanged DESC: alice's contacts, groups and members are what
# keep saved.
snapshot() {
	book >"$1.book"
	smail-addr -u $A -G >"$1.groups" 2>/dev/null
	cut -f1 "$1.groups" | while IFS= read -r g; do
		printf '%s:' "$g"
		smail-addr -u $A -g "$g" 2>/dev/null | LC_ALL=C sort | tr '\n' ' '
		echo
	done >"$1.members"
}
keep() { snapshot kept; }
unchanged() {
	snapshot now
	if cmp -s kept.book now.book && cmp -s kept.groups now.groups &&
		cmp -s kept.members now.members; then
		ok "$1"
	else
		not_ok "$1"
		diff kept.book now.book | diag
		diff kept.groups now.groups | diag
		diff kept.members now.members | diag
	fi
}

# ============ contacts ============
run 0 "an empty book lists nothing" smail-addr -u $A
same "no output" "" "$(cat out)"
run 0 "add a contact with -a ADDR -n 'First Last'" \
	smail-addr -u $A -a $B -n "Roberto Quintana"
smail-addr -u $A -a $F -n "Francesca Zabrowski" 2>/dev/null
smail-addr -u $A -a $D -n "Davide Ashdown" 2>/dev/null
smail-addr -u $A -a $G -n "Grazia Bellweather" 2>/dev/null
run 0 "add one more" smail-addr -u $A -a $C -n "Carolina Ashdown"
run 0 "list the book" smail-addr -u $A
same "LAST, FIRST<TAB>ADDR, by last name then first name" \
	"Ashdown, Carolina${TAB}$C
Ashdown, Davide${TAB}$D
Bellweather, Grazia${TAB}$G
Quintana, Roberto${TAB}$B
Zabrowski, Francesca${TAB}$F" "$(cat out)"

run 0 "-a of a known address with a new name updates it" \
	smail-addr -u $A -a $B -n "Roberto Aldana"
run 0 "list again" smail-addr -u $A
same "updated in place: one entry, new name, sorted to its new place" \
	"Aldana, Roberto${TAB}$B
Ashdown, Carolina${TAB}$C
Ashdown, Davide${TAB}$D
Bellweather, Grazia${TAB}$G
Zabrowski, Francesca${TAB}$F" "$(cat out)"
run 0 "-a with the domain in another case updates the same contact" \
	smail-addr -u $A -a carol@PARTNER.EXAMPLE -n "Carla Ashdown"
same "still five contacts" 5 "$(book_n)"
same "carol's entry carries the new name" "Ashdown, Carla" \
	"$(book | awk -F '\t' 'tolower($2) == "carol@partner.example" { print $1 }')"
run 65 "-a of a malformed address: 65" smail-addr -u $A -a 'not an address' -n "No Body"
same "nothing added" 5 "$(book_n)"
run 66 "-r of an address that is no contact: 66" smail-addr -u $A -r nobody@nowhere.example
same "nothing removed" 5 "$(book_n)"

# ============ groups ============
run 0 "-g GROUP -a ADDR... creates a group from contacts" \
	smail-addr -u $A -g casework-north -a $B $C $D
smail-addr -u $A -a $E -n "Esmeralda Fairbrother" 2>/dev/null
run 0 "a second group" smail-addr -u $A -g auditors-east -a $C $E $G
run 0 "-G" smail-addr -u $A -G
same "-G: GROUP<TAB>MEMBERS (a count)" \
	"auditors-east${TAB}3
casework-north${TAB}3" "$(LC_ALL=C sort out)"
run 0 "-g GROUP" smail-addr -u $A -g casework-north
same "the member addresses, one a line" "$(nl_sorted $B $C $D)" "$(LC_ALL=C sort out)"
run 0 "-a of a member already there" smail-addr -u $A -g casework-north -a $B
same "is not a second member" "$(nl_sorted $B $C $D)" "$(members casework-north)"

keep
run 67 "-g GROUP -a of an address that is not a contact: 67" \
	smail-addr -u $A -g casework-north -a $F nobody@nowhere.example
err_has "naming it" 'nobody@nowhere\.example'
err_has "with a hint to add it first" 'smail-addr( -d [^ ]+)? -a'
unchanged "the group is unchanged (not even the contact given with it)"
run 67 "a new group from a non-contact: 67" smail-addr -u $A -g ghosts -a nobody@nowhere.example
unchanged "no group created"

run 0 "-g GROUP -r ADDR removes a member" smail-addr -u $A -g casework-north -r $D
same "the count drops" "auditors-east${TAB}3
casework-north${TAB}2" "$(groups)"
same "the member is gone from -g" "$(nl_sorted $B $C)" "$(members casework-north)"
check "but stays a contact" listed "Ashdown, Davide${TAB}$D"
smail-addr -u $A -g casework-north -a $D 2>/dev/null
same "added back" "$(nl_sorted $B $C $D)" "$(members casework-north)"

run 0 "-r ADDR removes a contact" smail-addr -u $A -r $G
check "gone from the listing" eval '! book | grep -qF "$G"'
same "and from every group" "auditors-east${TAB}2
casework-north${TAB}3" "$(groups)"
same "auditors-east holds carol and erin" "$(nl_sorted $C $E)" "$(members auditors-east)"
run 0 "-r of a contact in two groups" smail-addr -u $A -r $C
same "leaves both groups" "auditors-east${TAB}1
casework-north${TAB}2" "$(groups)"
same "casework-north without carol" "$(nl_sorted $B $D)" "$(members casework-north)"
same "auditors-east without carol" "$E" "$(members auditors-east)"
smail-addr -u $A -a $C -n "Carolina Ashdown" 2>/dev/null
run 0 "carol back into casework-north" smail-addr -u $A -g casework-north -a $C
run 0 "and into auditors-east" smail-addr -u $A -g auditors-east -a $C
same "-G" "auditors-east${TAB}2
casework-north${TAB}3" "$(groups)"

smail-addr -u $A -g scratch-west -a $F 2>/dev/null
run 0 "-g GROUP --delete" smail-addr -u $A -g scratch-west --delete
same "-G no longer shows it" "auditors-east${TAB}2
casework-north${TAB}3" "$(groups)"
run 66 "-g of the deleted group: 66" smail-addr -u $A -g scratch-west
check "its members stay contacts" listed "Zabrowski, Francesca${TAB}$F"
keep
run 66 "-g of an unknown group: 66" smail-addr -u $A -g no-such-group
err_has "naming it" 'no-such-group'
run 66 "--delete of an unknown group: 66" smail-addr -u $A -g no-such-group --delete
run 66 "-r from an unknown group: 66" smail-addr -u $A -g no-such-group -r $B
unchanged "the book is unchanged"
run 0 "another account's book is its own" smail-addr -u $B -G
same "bob has no groups" "" "$(cat out)"
run 66 "bob cannot use alice's group" smail-addr -u $B -g casework-north

# ============ @group recipients ============
printf 'Group body Marmoset\n' >body.txt
mark
run 0 "smail-send @group" smail-send -u $A -s 'To the group' -m body.txt @casework-north
M1=$(cat out)
check "bob has it" holds $B "$M1"
check "carol has it" holds $C "$M1"
check "dave has it" holds $D "$M1"
check "erin (not a member) does not" eval '! holds $E "$M1"'
same "three notices" $((m_mail + 3)) "$(mail_count)"
if [ -n "$counter" ]; then
	same "one message stored" $((m_rec + 1)) "$(msg_records)"
else
	ok "# SKIP one message stored (no C compiler for the GDBM reader)"
fi
smail-fetch -u $B "$M1" >view 2>/dev/null
same "To: the members" "$(nl_sorted $B $C $D)" \
	"$(header view To | tr ',' '\n' | tr -d ' ' | LC_ALL=C sort)"

run 0 "-c @group" smail-send -u $A -s 'Cc the group' -c @auditors-east -m body.txt $D
M2=$(cat out)
check "the To recipient has it" holds $D "$M2"
check "a member has it" holds $C "$M2"
check "the other member has it" holds $E "$M2"
check "a non-member does not" eval '! holds $B "$M2"'
smail-fetch -u $E "$M2" >view 2>/dev/null
same "Cc: the group's members" "$(nl_sorted $C $E)" \
	"$(header view Cc | tr ',' '\n' | tr -d ' ' | LC_ALL=C sort)"
same "To: the address given" "$D" "$(header view To)"

printf 'Batch body Capybara\n' >b1.txt
printf 'Batch body two\n' >b2.txt
cat >manifest <<EOF
# group lines
@casework-north${TAB}Batch to a group${TAB}b1.txt
$B,@auditors-east${TAB}Batch mixed${TAB}b2.txt
EOF
run 0 "@group in a batch manifest" smail-send -u $A -b manifest
same "ID<TAB>RCPTS per line, as written" "@casework-north
$B,@auditors-east" "$(cut -f2 out)"
MB1=$(sed -n 1p out | cut -f1) MB2=$(sed -n 2p out | cut -f1)
check "line 2 reached bob" holds $B "$MB1"
check "and carol" holds $C "$MB1"
check "and dave" holds $D "$MB1"
check "line 3 reached bob" holds $B "$MB2"
check "and carol" holds $C "$MB2"
check "and erin" holds $E "$MB2"
check "not dave" eval '! holds $D "$MB2"'

mark
run 66 "an unknown @group: 66" smail-send -u $A -s 'Nobody' -m body.txt @no-such-group
err_has "naming it" 'no-such-group'
nothing_sent "an unknown @group"
run 66 "an unknown @group beside a good address: 66" \
	smail-send -u $A -s 'Nobody' -m body.txt $B @no-such-group
nothing_sent "an unknown @group beside an address"
run 66 "-c with an unknown @group: 66" \
	smail-send -u $A -s 'Nobody' -c @no-such-group -m body.txt $B
nothing_sent "-c @unknown"
run 66 "@group is the sender's own: bob has no casework-north" \
	smail-send -u $B -s 'Nobody' -m body.txt @casework-north
nothing_sent "another account's group"
printf '@no-such-group\tBatch nobody\tb1.txt\n' >manifest2
run 65 "a manifest line with an unknown @group: 65" smail-send -u $A -b manifest2
err_has "naming the line" 'manifest2:1:'
nothing_sent "a batch line with an unknown @group"

# the list as arguments, built from files (never a pipe into smail-send)
run 0 "smail-addr -g GROUP into a file" smail-addr -u $A -g casework-north
cp out list
run 0 "smail-send ... \$(cat list)" smail-send -u $A -s 'From a list' -m body.txt $(cat list)
M3=$(cat out)
for u in $B $C $D; do check "$u has it" holds $u "$M3"; done
run 0 "the whole book into a file" smail-addr -u $A
cut -f2 out | grep '@partner\.example$' | LC_ALL=C sort >rcpts
same "a pipeline picks the partner addresses" "$(nl_sorted $B $C)" "$(cat rcpts)"
run 0 "smail-send to the pipeline's result" smail-send -u $A -s 'Partners' -m body.txt $(cat rcpts)
M4=$(cat out)
check "bob has it" holds $B "$M4"
check "carol has it" holds $C "$M4"
check "dave does not" eval '! holds $D "$M4"'

# ============ import: vCard and CSV as real programs write them ============
# Thunderbird: vCard 3.0, CRLF, N:Last;First;;;, EMAIL;TYPE=INTERNET,
# several cards, one without an e-mail address.
tr -d '\r' <<'EOF' | sed "s/\$/$CR/" >thunderbird.vcf
BEGIN:VCARD
VERSION:3.0
PRODID:-//Sabre//Sabre VObject 4.5.4//EN
UID:6c1d5e0a-93a4-4c4b-9f5e-2a1d7e0c8b11
FN:Hannah Okafor
N:Okafor;Hannah;;;
EMAIL;TYPE=INTERNET:hannah.okafor@harbour-trust.example
TEL;TYPE=WORK:+44 20 7946 0321
ORG:Harbour Trust
END:VCARD
BEGIN:VCARD
VERSION:3.0
PRODID:-//Sabre//Sabre VObject 4.5.4//EN
UID:0b6f9d4e-2c0a-4f0e-8d6b-5f3e1a9c7d22
FN:Mateus Brennan-Oyelaran
N:Brennan-Oyelaran;Mateus;;;
NICKNAME:Matt
EMAIL;TYPE=INTERNET:m.brennan@harbour-trust.example
END:VCARD
BEGIN:VCARD
VERSION:3.0
PRODID:-//Sabre//Sabre VObject 4.5.4//EN
UID:c5a2e7f1-6d3b-4a8c-b0e9-1f4d2c6a8e33
FN:Yusuf Demirci
N:Demirci;Yusuf;;;
TEL;TYPE=CELL:+90 555 010 0100
END:VCARD
BEGIN:VCARD
VERSION:3.0
PRODID:-//Sabre//Sabre VObject 4.5.4//EN
UID:9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c44
FN:Sigrun Thorvaldsdottir
N:Thorvaldsdottir;Sigrun;;;
EMAIL;TYPE=INTERNET:sigrun@fjord-council.example
END:VCARD
EOF
check "(the Thunderbird sample has CRLF line ends)" grep -q "VCARD$CR\$" thunderbird.vcf
n=$(book_n)
run 0 "--import a Thunderbird vCard 3.0 export" smail-addr -u $A --import thunderbird.vcf
check "Okafor, Hannah" listed "Okafor, Hannah${TAB}hannah.okafor@harbour-trust.example"
check "Brennan-Oyelaran, Mateus" listed "Brennan-Oyelaran, Mateus${TAB}m.brennan@harbour-trust.example"
check "Thorvaldsdottir, Sigrun" listed "Thorvaldsdottir, Sigrun${TAB}sigrun@fjord-council.example"
check "a card without EMAIL adds nothing" eval '! book | grep -q Demirci'
same "three contacts more" $((n + 3)) "$(book_n)"
run 0 "importing it again" smail-addr -u $A --import thunderbird.vcf
same "updates, adds nothing" $((n + 3)) "$(book_n)"

# vCard 4.0: CRLF, long lines folded (a continuation starts with a space
# or a TAB; one fold splits a UTF-8 character, as naive folders do),
# escaped commas, semicolons and backslashes.
{
	printf 'BEGIN:VCARD\r\nVERSION:4.0\r\nPRODID:-//Nextcloud Contacts v5.5.3\r\n'
	printf 'UID:2f0c8e6a-1b7d-4c9e-a3f5-7d2b9e4c1a55\r\n'
	printf 'FN:Ingrid Lindqvist-Ahlberg\r\n'
	printf 'N:Lindqvist-Ahl\r\n berg;Ingrid;;;\r\n'
	printf 'EMAIL;TYPE=work;PREF=1:ingrid.lindqvist-ahlberg@regional-planning-authori\r\n'
	printf ' ty.example\r\n'
	printf 'ORG:Lindqvist\\, Ahlberg & Partners\\; Planning\r\n'
	printf 'NOTE:Met at the conference in Malm\303\266\\, room 4\\; follow up on the permit\r\n'
	printf '  application\\, and call back\\; ask for Britt\\\\Stina.\\nSecond line of the no\r\n'
	printf ' te.\r\n'
	printf 'REV;VALUE=TIMESTAMP:20240110T091500Z\r\n'
	printf 'END:VCARD\r\n'
	printf 'BEGIN:VCARD\r\nVERSION:4.0\r\n'
	printf 'FN:Theodore Whitfield\\, Jr.\r\n'
	printf 'N:Whitfield\\, Jr.;Theo\r\n\tdore;;;\r\n'
	printf 'EMAIL:theo.whitfield@county-records.example\r\n'
	printf 'END:VCARD\r\n'
	printf 'BEGIN:VCARD\r\nVERSION:4.0\r\n'
	printf 'FN:Zo\303\253 \303\205ngstr\303\266m\r\n'
	printf 'N:\303\r\n \205ngstr\303\266m;Zo\303\253;;;\r\n'
	printf 'EMAIL;TYPE=home:zoe.angstrom@lund-archive.example\r\n'
	printf 'END:VCARD\r\n'
} >folded.vcf
n=$(book_n)
run 0 "--import vCard 4.0 with folded lines and escapes" smail-addr -u $A --import folded.vcf
check "a folded name and a folded address are unfolded" \
	listed "Lindqvist-Ahlberg, Ingrid${TAB}ingrid.lindqvist-ahlberg@regional-planning-authority.example"
check "an escaped comma is a comma; a TAB continuation unfolds too" \
	listed "Whitfield, Jr., Theodore${TAB}theo.whitfield@county-records.example"
check "a fold inside a UTF-8 character restores it" \
	listed "$(printf '\303\205ngstr\303\266m, Zo\303\253')${TAB}zoe.angstrom@lund-archive.example"
same "three contacts more" $((n + 3)) "$(book_n)"

# Apple Contacts: vCard 3.0, grouped properties (item1.EMAIL), lower-case
# type parameters, a folded base64 PHOTO.
cat >apple.vcf <<'EOF'
BEGIN:VCARD
VERSION:3.0
PRODID:-//Apple Inc.//macOS 14.2.1//EN
N:Papadopoulos;Eleni;;;
FN:Eleni Papadopoulos
ORG:Hellenic Shipping Registry;
item1.EMAIL;type=INTERNET;type=pref:eleni.papadopoulos@shipping-registry.example
item1.X-ABLabel:_$!<Work>!$_
TEL;type=CELL;type=VOICE;type=pref:+30 210 555 0142
item2.ADR;type=WORK;type=pref:;;Akti Miaouli 15;Piraeus;;185 35;Greece
item2.X-ABADR:gr
PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAASABIAAD/4QBMRXhpZgAATU0AKgAAAAgAAYdpAAQAAAABAAAAGgAAAAAAA6
 ABAAMAAAABAAEAAKACAAQAAAABAAAAQKADAAQAAAABAAAAQAAAAAD/7QA4UGhvdG9zaG9wIDMuMAA4
 QklNBAQAAAAAAAA4QklNBCUAAAAAABDUHYzZjwCyBOmACZjs+EJ+/8AAEQgAQABAAwEiAAIRAQMRAf/E
X-ABUID:5C2E9F1A-7B3D-4E8F-9A1C-2D3E4F5A6B7C:ABPerson
END:VCARD
EOF
run 0 "--import an Apple Contacts card (item1.EMAIL;type=INTERNET;type=pref)" \
	smail-addr -u $A --import apple.vcf
check "Papadopoulos, Eleni" \
	listed "Papadopoulos, Eleni${TAB}eleni.papadopoulos@shipping-registry.example"

# Outlook: a UTF-8 byte order mark, CRLF, every field quoted, its long
# header row, commas and doubled quotes inside fields, a note that spans
# two lines.
"$PYTHON" - <<'EOF'
import csv
cols = ["Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company",
 "Department", "Job Title", "Business Street", "Business Street 2",
 "Business Street 3", "Business City", "Business State", "Business Postal Code",
 "Business Country/Region", "Home Street", "Home Street 2", "Home Street 3",
 "Home City", "Home State", "Home Postal Code", "Home Country/Region",
 "Other Street", "Other Street 2", "Other Street 3", "Other City", "Other State",
 "Other Postal Code", "Other Country/Region", "Assistant's Phone", "Business Fax",
 "Business Phone", "Business Phone 2", "Callback", "Car Phone",
 "Company Main Phone", "Home Fax", "Home Phone", "Home Phone 2", "ISDN",
 "Mobile Phone", "Other Fax", "Other Phone", "Pager", "Primary Phone",
 "Radio Phone", "TTY/TDD Phone", "Telex", "Account", "Anniversary",
 "Assistant's Name", "Billing Information", "Birthday",
 "Business Address PO Box", "Categories", "Children", "Directory Server",
 "E-mail Address", "E-mail Type", "E-mail Display Name", "E-mail 2 Address",
 "E-mail 2 Type", "E-mail 2 Display Name", "E-mail 3 Address", "E-mail 3 Type",
 "E-mail 3 Display Name", "Gender", "Government ID Number", "Hobby",
 "Home Address PO Box", "Initials", "Internet Free Busy", "Keywords", "Language",
 "Location", "Manager's Name", "Mileage", "Notes", "Office Location",
 "Organizational ID Number", "Other Address PO Box", "Priority", "Private",
 "Profession", "Referred By", "Sensitivity", "Spouse", "User 1", "User 2",
 "User 3", "User 4", "Web Page"]
rows = [
 {"First Name": 'Aurelio "Ray"', "Last Name": "Marchetti",
  "Company": "Marchetti, Rossi & Co.", "Job Title": 'Partner, "Litigation"',
  "Business City": "Genova", "Business Phone": "+39 010 555 0199",
  "E-mail Address": "aurelio.marchetti@marchetti-rossi.example",
  "E-mail Type": "SMTP",
  "E-mail Display Name": 'Aurelio "Ray" Marchetti (aurelio.marchetti@marchetti-rossi.example)',
  "Notes": 'Prefers the "urgent" flag, calls after 3pm,\r\nnever on Fridays',
  "Gender": "Unspecified", "Priority": "Normal", "Private": "False",
  "Sensitivity": "Normal", "Initials": "A.M."},
 {"First Name": "Bronwyn", "Last Name": "Achterberg",
  "Company": "Dutch Water Board", "E-mail Address": "bronwyn.achterberg@dutch-water.example",
  "E-mail Type": "SMTP", "E-mail Display Name": "Bronwyn Achterberg (bronwyn.achterberg@dutch-water.example)",
  "Gender": "Unspecified", "Priority": "Normal", "Private": "False",
  "Sensitivity": "Normal"},
]
with open("outlook.csv", "w", newline="", encoding="utf-8-sig") as f:
    w = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([r.get(c, "") for c in cols])
EOF
check "(the Outlook sample starts with a BOM)" test "$(head -c 3 outlook.csv | od -An -tx1 | tr -d ' ')" = efbbbf
check "(and has $(head -n 1 outlook.csv | tr ',' '\n' | wc -l | tr -d ' ') columns)" \
	test "$(head -n 1 outlook.csv | tr ',' '\n' | wc -l)" -gt 80
n=$(book_n)
run 0 "--import an Outlook CSV export" smail-addr -u $A --import outlook.csv
check 'doubled quotes are quotes: Marchetti, Aurelio "Ray"' \
	listed "Marchetti, Aurelio \"Ray\"${TAB}aurelio.marchetti@marchetti-rossi.example"
check "the row after a two-line note: Achterberg, Bronwyn" \
	listed "Achterberg, Bronwyn${TAB}bronwyn.achterberg@dutch-water.example"
same "two contacts more" $((n + 2)) "$(book_n)"

# Google Contacts (Google CSV): its header, fields quoted only when
# needed, rows without an e-mail address (skipped).
"$PYTHON" - <<'EOF'
import csv
cols = ["Name", "Given Name", "Additional Name", "Family Name", "Yomi Name",
 "Given Name Yomi", "Additional Name Yomi", "Family Name Yomi", "Name Prefix",
 "Name Suffix", "Initials", "Nickname", "Short Name", "Maiden Name", "Birthday",
 "Gender", "Location", "Billing Information", "Directory Server", "Mileage",
 "Occupation", "Hobby", "Sensitivity", "Priority", "Subject", "Notes",
 "Language", "Photo", "Group Membership", "E-mail 1 - Type", "E-mail 1 - Value",
 "E-mail 2 - Type", "E-mail 2 - Value", "Phone 1 - Type", "Phone 1 - Value",
 "Organization 1 - Type", "Organization 1 - Name", "Organization 1 - Yomi Name",
 "Organization 1 - Title", "Organization 1 - Department",
 "Organization 1 - Symbol", "Organization 1 - Location",
 "Organization 1 - Job Description", "Website 1 - Type", "Website 1 - Value"]
rows = [
 {"Name": "Priyanka Raghunathan", "Given Name": "Priyanka",
  "Family Name": "Raghunathan", "Group Membership": "Auditors ::: * myContacts",
  "E-mail 1 - Type": "* Work", "E-mail 1 - Value": "priyanka.r@state-audit.example",
  "Organization 1 - Name": "State Audit Office, Region 3"},
 {"Name": "Kwame Asante-Boateng", "Given Name": "Kwame",
  "Family Name": "Asante-Boateng", "Group Membership": "* myContacts",
  "Phone 1 - Type": "Mobile", "Phone 1 - Value": "+233 20 555 0123"},
 {"Name": "Lucía Fernández de Córdoba", "Given Name": "Lucía",
  "Family Name": "Fernández de Córdoba", "Group Membership": "* myContacts",
  "Notes": "Met in Sevilla, 2023; prefers Spanish",
  "E-mail 1 - Type": "* Home", "E-mail 1 - Value": "lucia.fdc@municipio.example"},
]
with open("google.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\r\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([r.get(c, "") for c in cols])
EOF
n=$(book_n)
run 0 "--import a Google Contacts CSV" smail-addr -u $A --import google.csv
check "Raghunathan, Priyanka" listed "Raghunathan, Priyanka${TAB}priyanka.r@state-audit.example"
check "Fernández de Córdoba, Lucía" \
	listed "Fernández de Córdoba, Lucía${TAB}lucia.fdc@municipio.example"
check "a row without an e-mail address is skipped" eval '! book | grep -q Asante'
same "two contacts more" $((n + 2)) "$(book_n)"
run 0 "the listing after the imports" smail-addr -u $A
check "is still sorted by last name, then first name" \
	eval 'cut -f1 out | LC_ALL=C sort -c -f -t, -k1,1 -k2'

# ============ malformed imports: 65, FILE:LINE, nothing imported ============
# refused DESC FILE LINE: --import FILE exits 65 naming FILE:LINE and
# leaves the book as it was.
refused() {
	keep
	run 65 "$1: refused with 65" smail-addr -u $A --import "$2"
	err_has "$1: the error names $2:$3" "^smail-addr: $2:$3:"
	unchanged "$1: the book is unchanged"
}

{
	printf 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Wilhelmina Good\r\nN:Good;Wilhelmina;;;\r\n'
	printf 'EMAIL;TYPE=INTERNET:wilhelmina.good@fine.example\r\nEND:VCARD\r\n'
	printf 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bartholomew Broken\r\nN:Broken;Bartholomew;;;\r\n'
	printf 'EMAIL;TYPE=INTERNET:bartholomew.broken(at)nowhere\r\nEND:VCARD\r\n'
} >bad-address.vcf
refused "a vCard with a bad address on line 11" bad-address.vcf 11
check "the good card before it was not imported" eval '! book | grep -q Wilhelmina'

{
	printf 'BEGIN:VCARD\nVERSION:3.0\nFN:Wilhelmina Good\nN:Good;Wilhelmina;;;\n'
	printf 'EMAIL:wilhelmina.good@fine.example\nEND:VCARD\n'
	printf 'BEGIN:VCARD\nVERSION:3.0\nFN:Ulrich Unended\nN:Unended;Ulrich;;;\n'
	printf 'EMAIL:ulrich@unended.example\n'
} >no-end.vcf
keep
run 65 "a card without END:VCARD: refused with 65" smail-addr -u $A --import no-end.vcf
err_has "naming no-end.vcf and a line" '^smail-addr: no-end\.vcf:[0-9]+:'
unchanged "the book is unchanged"

{
	printf 'BEGIN:VCARD\nVERSION:3.0\nFN:Wilhelmina Good\nN:Good;Wilhelmina;;;\n'
	printf 'EMAIL:wilhelmina.good@fine.example\nEND:VCARD\n'
	printf 'Exported by Contacts Helper 2.1 - 2 contacts\n'
	printf 'BEGIN:VCARD\nVERSION:3.0\nFN:Otto Outside\nN:Outside;Otto;;;\n'
	printf 'EMAIL:otto@outside-text.example\nEND:VCARD\n'
} >outside.vcf
refused "text outside a card (line 7)" outside.vcf 7

printf '%s\r\n' 'First Name,Last Name,E-mail Address' \
	'Wilhelmina,Good,wilhelmina.good@fine.example' \
	'"Ophelia,Open,ophelia@open-quote.example' \
	'Later,Row,later.row@fine.example' >unclosed.csv
refused "an unclosed quoted CSV field (line 3)" unclosed.csv 3

printf '%s\n' '"First Name","Last Name","Mobile Phone","Notes"' \
	'"Wilhelmina","Good","+1 555 0100","no mail"' >no-email.csv
refused "a CSV without an e-mail column (line 1)" no-email.csv 1

printf '%s\r\n' 'First Name,Last Name,E-mail Address' \
	'Wilhelmina,Good,wilhelmina.good@fine.example' \
	'Mortimer,Many,mortimer@many.example,extra,fields' >too-many.csv
refused "a CSV row with more fields than the header (line 3)" too-many.csv 3

printf '%s\r\n' 'First Name,Last Name,E-mail Address,Notes' \
	'Wilhelmina,Good,wilhelmina.good@fine.example,"two' \
	'lines"' \
	'Bartholomew,Broken,bartholomew.broken@,""' >bad-address.csv
refused "a CSV with a bad address on line 4 (after a two-line field)" bad-address.csv 4

"$PYTHON" -c 'import random, sys; sys.stdout.buffer.write(random.Random(9).randbytes(4096))' >random.bin
keep
run 65 "random bytes: refused with 65" smail-addr -u $A --import random.bin
err_has "naming random.bin and a line" '^smail-addr: random\.bin:[0-9]+:'
unchanged "the book is unchanged"
run 66 "a missing file: 66" smail-addr -u $A --import no-such-file.vcf

# ============ export, and import into a second account ============
smail-addr -u $A -g casework-north -a hannah.okafor@harbour-trust.example \
	aurelio.marchetti@marchetti-rossi.example 2>/dev/null
smail-addr -u $A -g "liaison south" -a theo.whitfield@county-records.example \
	priyanka.r@state-audit.example "$B" 2>/dev/null
# Long and odd names: export folds long lines (inside UTF-8 text) and
# escapes ';', ',' and '\'.
run 0 "a contact with a long UTF-8 name" smail-addr -u $A -a wolkenstein@long-names.example \
	-n "Maximiliane-Östergård-Ühlenbröck Wolkenstein-Trostburg-Ängelholm-Schwarzenberg-Løvenskiold-Åkerström"
run 0 "a contact whose name holds ';', ',' and '\'" smail-addr -u $A -a odd@odd-names.example \
	-n 'Ottilie Semi;Colon,Comma\Back'
check "listed as given" listed "Semi;Colon,Comma\\Back, Ottilie${TAB}odd@odd-names.example"
run 0 "--export" smail-addr -u $A --export
cp out export.vcf
check "writes vCard" grep -q '^BEGIN:VCARD' export.vcf
check "folding its long lines" grep -q "^ " export.vcf
same "one card per contact, plus one per group" $(( $(book_n) + 3 )) \
	"$(grep -c '^BEGIN:VCARD' export.vcf)"
run 0 "erin imports it" smail-addr -u $E --import export.vcf
same "the same listing" "$(book $A)" "$(book $E)"
same "the same groups and counts" "$(groups $A)" "$(groups $E)"
for g in casework-north auditors-east "liaison south"; do
	same "the same members of $g" "$(members "$g" $A)" "$(members "$g" $E)"
done
same "(the book has groups to compare)" 3 "$(groups $A | wc -l | tr -d ' ')"
run 0 "erin can mail the imported group" \
	smail-send -u $E -s 'Imported group' -m body.txt @auditors-east
M5=$(cat out)
check "carol has it" holds $C "$M5"

# ============ nothing in the clear ============
set -- Quintana Aldana Roberto Ashdown Carolina Davide Zabrowski Francesca \
	Fairbrother Esmeralda Okafor Brennan-Oyelaran Thorvaldsdottir Lindqvist \
	Whitfield Papadopoulos Wolkenstein Ottilie Marchetti Achterberg Raghunathan 'Córdoba' \
	casework-north auditors-east 'liaison south' scratch-west
for s; do
	if grep -r -a -q -F -- "$s" "$SMAIL_DIR" "$XDG_RUNTIME_DIR"; then
		not_ok "'$s' is nowhere in the clear in the portal or the runtime directory"
		grep -r -a -l -F -- "$s" "$SMAIL_DIR" "$XDG_RUNTIME_DIR" | diag
	else
		ok "'$s' is nowhere in the clear in the portal or the runtime directory"
	fi
done
check "no file name holds a contact or group name" \
	eval '! find "$SMAIL_DIR" "$XDG_RUNTIME_DIR" | grep -Eq "Quintana|Okafor|casework|auditors|liaison"'
done_testing
