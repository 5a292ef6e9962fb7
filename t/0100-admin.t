#!/bin/sh
# smail-admin: init, add, invite, list, unlock; a missing portal.
. "$(dirname "$0")/lib.sh"

run 66 "a command on a missing portal exits 66" smail-admin list
check "and creates nothing" test ! -e "$SMAIL_DIR"
run 66 "smail-register on a missing portal: 66" smail-register --status
run 66 "smail-reset on a missing portal: 66" smail-reset a@example.org
check "still nothing created" test ! -e "$SMAIL_DIR"

run 0 "init makes a portal" smail-admin init --pwhash interactive
check "portal directory is 0700" test "$(stat -c %a "$SMAIL_DIR")" = 700
check "every file is 0600, every directory 0700" \
	test -z "$(find "$SMAIL_DIR" \( -type f ! -perm 600 \) -o \( -type d ! -perm 700 \))"
run 73 "init refuses an existing portal" smail-admin init
err_has "saying it exists" 'already exists'
check "config ends in a newline" test "$(tail -c 1 "$SMAIL_DIR/config" | od -An -c | tr -d ' ')" = '\n'

pwfile pw 'Kite#Zebra42x'
run 0 "add an active account" smail-admin add -n "Alice Agent" --password-file pw alice@agency.gov
run 73 "add refuses an existing account" smail-admin add --password-file pw alice@AGENCY.gov
run 65 "add refuses a malformed address" smail-admin add --password-file pw 'not an address'
run 0 "invite an account" smail-admin invite -n "Bob Partner" bob@partner.example
same "the invitation is in mail/" 1 "$(mail_count)"
run 0 "list" smail-admin list
same "list shows ADDR, STATE, CREATED sorted" \
	"alice@agency.gov active
bob@partner.example invited" "$(cut -f1,2 out | tr '\t' ' ')"
out_has "CREATED is UTC ISO 8601" '	[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
run 67 "unlock an unknown account: 67" smail-admin unlock nobody@example.org
run 0 "unlock a known one" smail-admin unlock alice@agency.gov
run 64 "an unknown command is a usage error" smail-admin frobnicate
run 64 "a missing operand is a usage error" smail-admin add
run 0 "--version" smail-admin --version
out_has "prints the version" '^smail-admin [0-9]+\.[0-9]+'
done_testing
