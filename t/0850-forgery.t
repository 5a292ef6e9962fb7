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
done_testing
