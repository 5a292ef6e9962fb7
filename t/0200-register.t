#!/bin/sh
# smail-register: claiming an invitation from the mail on stdin, with
# -t TOKEN and with -t -; single use; wrong, malformed and expired
# tokens; garbage on stdin; re-invitation with and without the
# recovery key.
. "$(dirname "$0")/lib.sh"

new_portal
pwfile good 'Kite#Zebra42x'
pwfile good2 'Tulip&River77q'

# invite ADDR [NAME]: invites ADDR and keeps its invitation in inv.ADDR.
invite() {
	if [ -n "${2:-}" ]; then
		smail-admin invite -n "$2" "$1" 2>/dev/null
	else
		smail-admin invite "$1" 2>/dev/null
	fi && cp "$(last_mail)" "inv.$1"
}
state_of() { smail-admin list | awk -v a="$1" '$1 == a { print $2 }'; }

# An invitation that expires while the rest of the file runs.
setcfg invite_ttl 2s
invite erin@partner.example
setcfg invite_ttl 14d

# --- from the mail on stdin ---
invite bob@partner.example
tok_bob=$(token_of inv.bob@partner.example)
check "the invitation mail holds a token" test -n "$tok_bob"
run 0 "register from the invitation mail on stdin" \
	smail-register --password-file good bob@partner.example <inv.bob@partner.example
err_has "says registered and signed in" 'registered and signed in'
same "the account is active" active "$(state_of bob@partner.example)"
run 0 "registration signs in: --status" smail-register --status
same "--status prints the address" bob@partner.example "$(cat out)"
run 0 "the new password signs in" \
	smail-register --login --password-file good bob@partner.example
run 77 "the token is single use (mail again)" \
	smail-register --password-file good2 bob@partner.example <inv.bob@partner.example
run 77 "the token is single use (-t)" \
	smail-register -t "$tok_bob" --password-file good2 bob@partner.example
run 77 "the other password did not take" \
	smail-register --login --password-file good2 bob@partner.example
run 77 "an already active account: 77" \
	smail-register -t "$tok_bob" --password-file good bob@partner.example
err_has "saying no invitation is pending" 'no invitation'
run 73 "smail-admin invite of an active account: 73" \
	smail-admin invite bob@partner.example
same "and it stays active" active "$(state_of bob@partner.example)"

# --- with -t TOKEN ---
invite carol@partner.example
tok_carol=$(token_of inv.carol@partner.example)
run 0 "register with -t TOKEN" \
	smail-register -t "$tok_carol" --password-file good carol@partner.example </dev/null
run 0 "--status shows the newly registered account" smail-register --status
same "its address" carol@partner.example "$(cat out)"

# --- with -t - (the token alone on stdin) ---
invite dave@partner.example
token_of inv.dave@partner.example >tok.dave
run 0 "register with -t - (token on stdin)" \
	smail-register -t - --password-file good dave@partner.example <tok.dave
run 0 "signed in" smail-register -u dave@partner.example --status
same "as dave" dave@partner.example "$(cat out)"
run 77 "-t - with a spent token" \
	smail-register -t - --password-file good dave@partner.example <tok.dave

# --- -n NAME ---
invite frank@partner.example
tok_frank=$(token_of inv.frank@partner.example)
pwfile named 'Kite#Ramirez42x'
run 65 "the name given with -n counts for the policy" \
	smail-register -n "Hector Ramirez" -t "$tok_frank" --password-file named \
	frank@partner.example
err_has "naming the rule" 'your name'
run 0 "register with -n NAME" \
	smail-register -n "Hector Ramirez" -t "$tok_frank" --password-file good \
	frank@partner.example
run 65 "the name is kept: a new password holding it is refused" \
	smail-register -u frank@partner.example --change-password \
	--password-file good --new-password-file named
err_has "naming the rule" 'your name'

# --- wrong and malformed tokens, unknown accounts ---
invite grace@partner.example
invite judy@partner.example
tok_grace=$(token_of inv.grace@partner.example)
wrong=smi-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
run 77 "a wrong token: 77" \
	smail-register -t "$wrong" --password-file good grace@partner.example
err_has "saying it is wrong" 'wrong'
run 77 "another invited account's token: 77" \
	smail-register -t "$tok_grace" --password-file good judy@partner.example
run 77 "a malformed token: 77" \
	smail-register -t smi-notatoken --password-file good grace@partner.example
err_has "saying malformed" 'malformed'
run 77 "a token one character short: 77" \
	smail-register -t "${tok_grace%?}" --password-file good grace@partner.example
run 77 "a reset token where an invitation is expected: 77" \
	smail-register -t "smr-${tok_grace#smi-}" --password-file good grace@partner.example
run 77 "-t - with garbage on the line: 77" \
	smail-register -t - --password-file good grace@partner.example <inv.grace@partner.example
run 67 "an unknown account: 67" \
	smail-register -t "$tok_grace" --password-file good nobody@partner.example
same "wrong tokens changed nothing" "invited invited" \
	"$(state_of grace@partner.example) $(state_of judy@partner.example)"

# --- garbage on stdin where the mail is expected ---
head -c 4096 /dev/urandom >random
run 65 "random bytes on stdin: 65" \
	smail-register --password-file good grace@partner.example <random
run 65 "an empty stdin: no mail, bad input (65)" \
	smail-register --password-file good grace@partner.example </dev/null
err_has "saying standard input is empty" 'standard input is empty'
grep -v 'sm[ir]-' inv.grace@partner.example >notoken
run 65 "a mail with no token: 65" \
	smail-register --password-file good grace@partner.example <notoken
err_has "saying there is no token" 'no invitation token'
cat inv.grace@partner.example inv.carol@partner.example >twotokens
run 65 "a mail with two different tokens: 65" \
	smail-register --password-file good grace@partner.example <twotokens
err_has "saying there is more than one" 'more than one'
{
	cat inv.grace@partner.example
	head -c 1100000 /dev/zero | tr '\0' x
} >big
run 65 "a stdin over 1 MiB: 65" \
	smail-register --password-file good grace@partner.example <big
err_has "saying it is too large" 'more than'
run 64 "the mail and the password cannot both come from stdin: 64" \
	smail-register --password-fd 0 grace@partner.example <inv.grace@partner.example
same "garbage changed nothing" invited "$(state_of grace@partner.example)"

# --- a refused password does not spend the token ---
pwfile weak 'kite'
run 65 "a password the policy refuses: 65" \
	smail-register --password-file weak grace@partner.example <inv.grace@partner.example
same "still invited" invited "$(state_of grace@partner.example)"
run 0 "the same token then works with a good password" \
	smail-register --password-file good grace@partner.example <inv.grace@partner.example
same "now active" active "$(state_of grace@partner.example)"

# --- re-inviting an invited account ---
invite heidi@partner.example
cp inv.heidi@partner.example inv1.heidi
run 0 "invite an invited account again" smail-admin invite heidi@partner.example
cp "$(last_mail)" inv2.heidi
check "a new token is mailed" \
	test "$(token_of inv2.heidi)" != "$(token_of inv1.heidi)"
run 77 "the old token stops working" \
	smail-register --password-file good heidi@partner.example <inv1.heidi
run 0 "the new one works" \
	smail-register --password-file good heidi@partner.example <inv2.heidi

# --- re-inviting without the recovery key ---
invite ivan@partner.example
cp inv.ivan@partner.example inv1.ivan
mv "$SMAIL_DIR/recovery.key" recovery.key
n=$(mail_count)
run 75 "re-inviting without the recovery key waits: 75" \
	smail-admin invite ivan@partner.example
err_has "saying it needs the recovery key" 'recovery key'
err_has "and naming approve" 'smail-admin approve'
same "no mail went out" "$n" "$(mail_count)"
run 0 "approve with the recovery key file" \
	smail-admin approve ivan@partner.example --recovery-key-file recovery.key
same "a new invitation was mailed" $((n + 1)) "$(mail_count)"
cp "$(last_mail)" inv2.ivan
check "with a new token" test "$(token_of inv2.ivan)" != "$(token_of inv1.ivan)"
run 77 "the old token stops working" \
	smail-register --password-file good ivan@partner.example <inv1.ivan
run 0 "the new token works" \
	smail-register --password-file good ivan@partner.example <inv2.ivan
mv recovery.key "$SMAIL_DIR/recovery.key"

# --- an expired invitation ---
sleep 3
run 77 "an expired invitation: 77" \
	smail-register --password-file good erin@partner.example <inv.erin@partner.example
err_has "the message names the expiry" 'expired on [0-9]{4}-[0-9]{2}-[0-9]{2}T'
same "still invited" invited "$(state_of erin@partner.example)"
run 0 "an expired invitation is renewed by inviting again" \
	smail-admin invite erin@partner.example
cp "$(last_mail)" inv2.erin
run 0 "the renewed invitation works" \
	smail-register --password-file good erin@partner.example <inv2.erin
done_testing
