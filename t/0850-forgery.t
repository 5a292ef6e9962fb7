#!/bin/sh
# SPEC §2, property 3: a recipient cannot make a message that verifies
# as another account's.  The forger uses the library's own writing code
# (t/helpers/forge.c); every attempt must be caught on read.
. "$(dirname "$0")/lib.sh"
FORGE=$SMAIL_BUILD/helpers/forge

new_portal
add_user ada@agency.example 'Kite#Zebra42x' "Ada Caseworker"
add_user ben@partner.example 'Tulip&River77q' "Ben Partner"
add_user eve@mallory.example 'Maple@Stone31z' "Eve Mallory"
for u in ada@agency.example ben@partner.example eve@mallory.example; do
	smail-register --login --password-file "pw.$u" "$u" 2>/dev/null
done

# A genuine message from Ada to Ben and Eve: Eve holds its content key.
printf 'The real text.\n' >body
run 0 "ada sends to ben and eve" smail-send -u ada@agency.example -s Real -m body \
	ben@partner.example eve@mallory.example
real=$(cat out)

# 1. Eve writes a header naming Ada as the sender, signed with her own key.
run 0 "eve stores a message claiming to be from ada" \
	env SMAIL_USER=eve@mallory.example "$FORGE" impersonate ada@agency.example ben@partner.example
fake=$(cat out)
run 65 "ben's inbox reports it (exit 65)" smail-inbox --user ben@partner.example
err_has "naming the forged message" "$fake"
err_has "saying whose key it is not" "not signed by ada@agency.example's key"
out_has "the genuine message still lists" "^$real	"
check "the forgery does not list" sh -c "! grep -q '^$fake' out"
run 65 "fetching the forgery: 65" smail-fetch -u ben@partner.example "$fake"
err_has "the error names it" "$fake"
run 0 "the genuine message still reads" smail-fetch -u ben@partner.example "$real"
out_has "with its text" '^The real text\.$'
run 0 "ben can delete the forgery" smail-inbox --user ben@partner.example -d "$fake"
run 0 "and the inbox is clean again" smail-inbox --user ben@partner.example

# 2. Eve forwards an "original" from Ada signed with a key she made up.
run 0 "eve forwards a made-up original from ada" \
	env SMAIL_USER=eve@mallory.example "$FORGE" forward ada@agency.example ben@partner.example
fwd=$(cat out)
run 0 "ben reads the forward" smail-fetch -u ben@partner.example "$fwd"
out_has "the quoted original shows as NOT verified" \
	"^Forwarded: .*ada@agency.example, original NOT verified$"

# 3. A real forward of the genuine message does verify.
printf 'See below.\n' >note
run 0 "eve forwards ada's real message" \
	smail-send -u eve@mallory.example -f "$real" -m note ben@partner.example
run 0 "ben reads it" smail-fetch -u ben@partner.example "$(cat out)"
out_has "the quoted original shows as verified" \
	"^Forwarded: $real, ada@agency.example, original verified$"

# 4. A message from an address that has no account here: accounts are
# never deleted, so it is a forgery, whatever key signed it.
B=ben@partner.example
run 0 "eve stores a message from an address with no account" \
	env SMAIL_USER=eve@mallory.example "$FORGE" ghost nobody@agency.example $B
ghost=$(cat out)
run 65 "ben's inbox reports it (exit 65)" smail-inbox --user $B
err_has "naming it, and why" "$ghost: the message is tampered with \\(its sender nobody@agency.example has no account here\\)"
check "it does not list" sh -c "! grep -q '^$ghost' out"
out_has "the others still list" "^$real	"
run 65 "fetching it: 65" smail-fetch -u $B "$ghost"
err_has "naming it" "$ghost"
run 65 "smail-admin check: 65" smail-admin check
out_has "naming it" "^$ghost	its sender nobody@agency.example has no account$"
run 0 "ben can delete it" smail-inbox --user $B -d "$ghost"

# 5. A forward whose forwarder swapped an attachment: each attachment of
# a forward shows whether it is the original's or one the forwarder
# added, and only when the quoted text and every attachment said to be
# the original's check does the original show as verified.
printf '%%PDF-1.4 the real quarterly report\n' >report.pdf
printf '%%PDF-1.4 a doctored copy, same len\n' >doctored.pdf
check "(the doctored copy has the real one's size)" \
	test "$(wc -c <report.pdf)" -eq "$(wc -c <doctored.pdf)"
printf 'The report is attached.\n' >rbody
run 0 "ada sends eve a report" smail-send -u ada@agency.example -s Report \
	-a report.pdf -m rbody eve@mallory.example
rep=$(cat out)
mkdir -p mine
cp doctored.pdf mine/report.pdf
rsize=$(wc -c <report.pdf | tr -d ' ')
# fetch_view ID: ben's text view of ID in ./view
fetch_view() { smail-fetch -u $B "$1" >view 2>err; }
header() { sed -n "s/^$1: //p" view; }

run 0 "eve forwards it, her own report.pdf in place of ada's" \
	smail-send -u eve@mallory.example -f "$rep" -x report.pdf -a mine/report.pdf \
	-m note $B
swapped=$(cat out)
check "ben reads it" fetch_view "$swapped"
same "the attachment shows as the forwarder's" \
	"report.pdf ($rsize bytes, added by the forwarder)" "$(header Attachments)"
same "the quoted text still checks" \
	"$rep, ada@agency.example, original verified" "$(header Forwarded)"
run 0 "-o DIR: the same" smail-fetch -u $B -o swapped-dir "$swapped"
check "in ID.txt" grep -qx "Attachments: report.pdf ($rsize bytes, added by the forwarder)" \
	"swapped-dir/$swapped.txt"
run 0 "-z: the same" smail-fetch -u $B -z -o swapped.zip "$swapped"
check "in message.txt" sh -c "bsdtar -xOf swapped.zip message.txt |
	grep -qx 'Attachments: report.pdf ($rsize bytes, added by the forwarder)'"
run 0 "and the zip verifies, with the portal at hand" smail-fetch --verify swapped.zip

run 0 "eve forwards it with ada's report" \
	smail-send -u eve@mallory.example -f "$rep" -m note $B
kept=$(cat out)
check "ben reads it" fetch_view "$kept"
same "the attachment shows as the original's, verified" \
	"report.pdf ($rsize bytes, from the original, verified)" "$(header Attachments)"
same "and the original as verified" \
	"$rep, ada@agency.example, original verified" "$(header Forwarded)"
run 0 "-z of it" smail-fetch -u $B -z -o kept.zip "$kept"
run 0 "verifies, with the portal at hand" smail-fetch --verify kept.zip

run 0 "eve saves a forward of it as a draft" \
	smail-send -u eve@mallory.example --draft -f "$rep" -m note $B
run 0 "and sends the draft" smail-send -u eve@mallory.example -D "$(cat out)"
check "ben reads it" fetch_view "$(cat out)"
same "the attachment is still the original's" \
	"report.pdf ($rsize bytes, from the original, verified)" "$(header Attachments)"

run 0 "ben forwards eve's forward to ada, adding a file" \
	smail-send -u $B -f "$kept" -a doctored.pdf -m note ada@agency.example
run 0 "ada reads it" smail-fetch -u ada@agency.example "$(cat out)"
out_has "eve's attachment is the original's, ben's is added" \
	"^Attachments: report.pdf \\($rsize bytes, from the original, verified\\), doctored.pdf \\($rsize bytes, added by the forwarder\\)$"
out_has "and eve's forward verifies as the original" \
	"^Forwarded: $kept, eve@mallory.example, original verified$"

run 0 "eve forges a forward: her file said to be ada's, with ada's hash" \
	env SMAIL_USER=eve@mallory.example "$FORGE" swap "$rep" $B doctored.pdf
forged=$(cat out)
check "ben reads it" fetch_view "$forged"
same "the attachment shows as NOT verified" \
	"report.pdf ($rsize bytes, from the original, NOT verified)" "$(header Attachments)"
same "and the original as NOT verified" \
	"$rep, ada@agency.example, original NOT verified" "$(header Forwarded)"
run 0 "-o DIR: the same" smail-fetch -u $B -o forged-dir "$forged"
check "in ID.txt" grep -q "^Forwarded: .*original NOT verified$" "forged-dir/$forged.txt"
run 0 "-z: the same" smail-fetch -u $B -z -o forged.zip "$forged"
check "in message.txt" sh -c "bsdtar -xOf forged.zip message.txt |
	grep -q '^Forwarded: .*original NOT verified$'"

# Forwards from before a forward said which attachments it carries still
# read: an attachment is the original's when its name, size and content
# are one of the original's.
run 0 "a forward written the older way: ada's report, then eve's of that name" \
	env SMAIL_USER=eve@mallory.example "$FORGE" oldfwd "$rep" $B doctored.pdf
check "ben reads it" fetch_view "$(cat out)"
same "ada's shows as the original's, eve's as added" \
	"report.pdf ($rsize bytes, from the original, verified), report.pdf ($rsize bytes, added by the forwarder)" \
	"$(header Attachments)"
same "and the original as verified" \
	"$rep, ada@agency.example, original verified" "$(header Forwarded)"
done_testing
