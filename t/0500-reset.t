#!/bin/sh
# smail-reset: a request mails a token; activation takes the new
# password again, installs it, unlocks, ends every session and mails a
# notice; expiry, single use, the daily limit, the history; without the
# recovery key the activation waits for smail-admin approve, and a new
# request cannot replace a waiting or approved reset; the operator ends
# one with smail-admin cancel-reset.
. "$(dirname "$0")/lib.sh"

new_portal
setcfg lock_attempts 3
old='Kite#Zebra42x'
pwfile old "$old"
pwfile new 'Tulip&River77q'
pwfile other 'Maple@Stone31z'
pwfile wrong 'Cedar!Brook55k'
for u in alice bob carol dave erin frank grace heidi ivan judy; do
	add_user $u@agency.gov "$old"
done
state_of() { smail-admin list | awk -v a="$1" '$1 == a { print $2 }'; }
login() { smail-register --login --password-file "$1" "$2"; }

# request ADDR PWFILE: requests a reset and keeps the mail in rs.ADDR.
request() {
	smail-reset --password-file "$2" "$1" </dev/null 2>/dev/null &&
		cp "$(last_mail)" "rs.$1"
}

# --- the request ---
pwfile weak 'kite#zebra'
n=$(mail_count)
run 65 "a request checks the policy: 65" \
	smail-reset --password-file weak alice@agency.gov </dev/null
err_has "naming the broken rule" 'digit'
same "and mails nothing" "$n" "$(mail_count)"
run 67 "a request for an unknown account: 67" \
	smail-reset --password-file new nobody@agency.gov </dev/null
head -c 4096 /dev/urandom >random
run 65 "garbage on stdin (no token in it): 65" \
	smail-reset --password-file new alice@agency.gov <random
same "and mails nothing" "$n" "$(mail_count)"
smail-admin invite judy@partner.example 2>/dev/null
n=$(mail_count)
run 77 "a request for an account not registered yet: 77" \
	smail-reset --password-file new judy@partner.example </dev/null
same "mails nothing" "$n" "$(mail_count)"

# Alice has two live sessions and is locked out when she asks.
login old alice@agency.gov 2>/dev/null
mkdir -m 700 run2
env XDG_RUNTIME_DIR="$scratch/run2" smail-register --login --password-file old \
	alice@agency.gov 2>/dev/null
for i in 1 2 3; do login wrong alice@agency.gov 2>/dev/null; done
same "alice is locked" locked "$(state_of alice@agency.gov)"

run 0 "request a reset" smail-reset --password-file new alice@agency.gov </dev/null
err_has "saying a token was mailed" 'mailed'
same "one mail more" $((n + 1)) "$(mail_count)"
cp "$(last_mail)" rs.alice
check "the mail goes to alice" grep -q '^To: <alice@agency.gov>' rs.alice
check "and holds 'smail-reset -t smr-...'" \
	grep -Eq 'smail-reset .*-t smr-[A-Za-z0-9_-]{43} alice@agency.gov' rs.alice
run 77 "the request changes nothing yet: alice is still locked" login old alice@agency.gov

# --- activation from the mail on stdin ---
run 77 "activation with a different password: 77" \
	smail-reset --password-file other alice@agency.gov <rs.alice
err_has "saying it is not the requested one" 'not the password that was requested'
run 0 "activation from the mail on stdin" \
	smail-reset --password-file new alice@agency.gov <rs.alice
err_has "saying the new password is active" 'active'
same "activation unlocks" active "$(state_of alice@agency.gov)"
run 77 "activation ended this session" smail-register -u alice@agency.gov --status
run 77 "and the one in the other runtime directory" \
	env XDG_RUNTIME_DIR="$scratch/run2" smail-register -u alice@agency.gov --status
cp "$(last_mail)" changed.alice
check "a 'password changed' mail follows" \
	grep -q '^Subject: .*password was changed' changed.alice
check "to alice" grep -q '^To: <alice@agency.gov>' changed.alice
check "and it holds no token" test -z "$(token_of changed.alice)"
run 77 "the old password stops working" login old alice@agency.gov
run 0 "the new one works" login new alice@agency.gov
run 77 "the token is single use" \
	smail-reset --password-file new alice@agency.gov <rs.alice
run 0 "the second use changed nothing" login new alice@agency.gov

# --- activation with -t; a mismatch does not spend the token ---
request bob@agency.gov new
tok=$(token_of rs.bob@agency.gov)
run 77 "-t with a different password: 77" \
	smail-reset -t "$tok" --password-file other bob@agency.gov
run 77 "again a different one: 77" \
	smail-reset -t "$tok" --password-file wrong bob@agency.gov
run 0 "the token still works with the requested password" \
	smail-reset -t "$tok" --password-file new bob@agency.gov
run 0 "bob signs in with the new password" login new bob@agency.gov
run 77 "-t: single use" smail-reset -t "$tok" --password-file new bob@agency.gov
run 77 "a malformed token: 77" \
	smail-reset -t smr-short --password-file new bob@agency.gov
run 77 "an invitation token where a reset token is expected: 77" \
	smail-reset -t "smi-${tok#smr-}" --password-file new bob@agency.gov

# --- the third mismatch cancels; mismatches are not wrong passwords ---
request carol@agency.gov new
run 77 "mismatch 1" smail-reset --password-file other carol@agency.gov <rs.carol@agency.gov
run 77 "mismatch 2" smail-reset --password-file other carol@agency.gov <rs.carol@agency.gov
run 77 "mismatch 3" smail-reset --password-file other carol@agency.gov <rs.carol@agency.gov
err_has "cancels the request" 'cancel'
run 77 "the requested password no longer activates" \
	smail-reset --password-file new carol@agency.gov <rs.carol@agency.gov
same "three mismatches did not lock carol" active "$(state_of carol@agency.gov)"
run 0 "her old password still works" login old carol@agency.gov

# --- wrong tokens do not count toward the lockout ---
request heidi@agency.gov new
wrongtok=smr-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
for i in 1 2 3; do
	run 77 "a wrong reset token ($i)" \
		smail-reset -t "$wrongtok" --password-file new heidi@agency.gov
done
err_has "saying it is wrong" 'wrong'
run 77 "then one wrong password" login wrong heidi@agency.gov
same "heidi is not locked" active "$(state_of heidi@agency.gov)"
run 0 "the real token still works" \
	smail-reset --password-file new heidi@agency.gov <rs.heidi@agency.gov

# --- one pending reset per account; at most 3 reset mails a day ---
request erin@agency.gov new
cp rs.erin@agency.gov rs1.erin
request erin@agency.gov other
cp rs.erin@agency.gov rs2.erin
run 0 "a third request the same day" \
	smail-reset --password-file wrong erin@agency.gov </dev/null
cp "$(last_mail)" rs3.erin
n=$(mail_count)
run 75 "a fourth request the same day: 75" \
	smail-reset --password-file new erin@agency.gov </dev/null
err_has "saying the daily limit" 'a day'
same "and no mail goes out" "$n" "$(mail_count)"
run 77 "a newer request replaces the first: its token is dead" \
	smail-reset --password-file new erin@agency.gov <rs1.erin
run 77 "and the second's" \
	smail-reset --password-file other erin@agency.gov <rs2.erin
token_of rs3.erin >tok.erin
run 0 "the last one works, with -t - (token on stdin)" \
	smail-reset -t - --password-file wrong erin@agency.gov <tok.erin
run 0 "erin signs in with it" login wrong erin@agency.gov

# --- activation checks the history ---
run 0 "frank changes his password" \
	smail-register -u frank@agency.gov --change-password --password-file old \
	--new-password-file new
pwfile back 'Kite#Zebra42x'
run 0 "a request for his previous password passes (no history there)" \
	smail-reset --password-file back frank@agency.gov </dev/null
cp "$(last_mail)" rs.frank
run 65 "its activation is refused by the history: 65" \
	smail-reset --password-file back frank@agency.gov <rs.frank
err_has "as a previous password" 'previous'
run 65 "the token is not spent: the history still answers" \
	smail-reset --password-file back frank@agency.gov <rs.frank
run 65 "and again: history refusals are not mismatches" \
	smail-reset --password-file back frank@agency.gov <rs.frank
run 0 "frank's password is unchanged" login new frank@agency.gov

# --- reset_ttl ---
setcfg reset_ttl 2s
request dave@agency.gov new
setcfg reset_ttl 24h
sleep 3
run 77 "an expired reset token: 77" \
	smail-reset --password-file new dave@agency.gov <rs.dave@agency.gov
err_has "saying it expired" 'expired'
run 0 "dave's old password still works" login old dave@agency.gov

# --- without the recovery key in the portal ---
run 66 "approve with nothing waiting: 66" \
	smail-admin approve grace@agency.gov --recovery-key-file "$SMAIL_DIR/recovery.key"
mv "$SMAIL_DIR/recovery.key" recovery.key
login old grace@agency.gov 2>/dev/null
request grace@agency.gov new
run 75 "activation without the recovery key waits: 75" \
	smail-reset --password-file new grace@agency.gov <rs.grace@agency.gov
err_has "saying it waits for the operator" 'smail-admin approve'
# Anyone may run "smail-reset ADDR": it must not undo a reset that had
# the token and the password already.
n=$(mail_count)
run 75 "a new request cannot replace the waiting reset: 75" \
	smail-reset --password-file other grace@agency.gov </dev/null
err_has "saying it waits for the operator's approval" 'waits for the operator'
err_lines "on one line" 1
same "and mails nothing" "$n" "$(mail_count)"
chmod 644 recovery.key
run 78 "a recovery key file with mode 0644 is refused" \
	smail-admin approve grace@agency.gov --recovery-key-file recovery.key
err_has "naming the file" 'recovery.key'
chmod 600 recovery.key
run 66 "approve with a missing key file: 66" \
	smail-admin approve grace@agency.gov --recovery-key-file nonexistent.key
n=$(mail_count)
run 0 "approve with the recovery key file" \
	smail-admin approve grace@agency.gov --recovery-key-file recovery.key
check "a 'password changed' mail follows" \
	grep -q '^Subject: .*password was changed' "$(last_mail)"
same "one mail" $((n + 1)) "$(mail_count)"
run 77 "approval ended grace's session" smail-register -u grace@agency.gov --status
n=$(mail_count)
run 75 "nor the approved one: 75" \
	smail-reset --password-file other grace@agency.gov </dev/null
err_has "saying to sign in with the new password" 'sign in with its new password'
err_lines "on one line" 1
same "and mails nothing" "$n" "$(mail_count)"
run 66 "approve again: nothing waits (66)" \
	smail-admin approve grace@agency.gov --recovery-key-file recovery.key
run 77 "the old password no longer works" login old grace@agency.gov
run 0 "--login with the new password completes the reset" login new grace@agency.gov
run 0 "grace is signed in" smail-register -u grace@agency.gov --status
run 77 "the old password still does not work" login old grace@agency.gov
run 0 "the new one keeps working" login new grace@agency.gov
pwfile near 'Tulip&River78q'
run 65 "the completed reset entered the history" \
	smail-register -u grace@agency.gov --change-password --password-file new \
	--new-password-file near
err_has "an increment of it is refused" 'previous'

# Approval checks the history the activation could not check.
request ivan@agency.gov old
run 75 "ivan asks for his current password: the activation waits" \
	smail-reset --password-file old ivan@agency.gov <rs.ivan@agency.gov
run 65 "approve refuses it: the history (65)" \
	smail-admin approve ivan@agency.gov --recovery-key-file recovery.key
err_has "saying it repeats an earlier one" 'earlier'
run 0 "ivan's password still works" login old ivan@agency.gov
run 66 "and nothing waits any more" \
	smail-admin approve ivan@agency.gov --recovery-key-file recovery.key
run 67 "approve for an unknown account: 67" \
	smail-admin approve nobody@agency.gov --recovery-key-file recovery.key

# An approved reset whose new password is lost: only the operator can
# end it, and the user then asks again.
J=judy@agency.gov
run 66 "cancel-reset with nothing pending: 66" smail-admin cancel-reset $J
run 67 "cancel-reset of an unknown account: 67" smail-admin cancel-reset nobody@agency.gov
request $J other
run 0 "cancel-reset of a requested reset" smail-admin cancel-reset $J
err_has "says the password stays" 'the password stays as it was'
run 77 "its token no longer activates" smail-reset --password-file other $J <rs.$J
run 0 "the old password still works" login old $J
request $J new
smail-reset --password-file new $J <rs.$J >/dev/null 2>&1
run 0 "the activated reset is approved" \
	smail-admin approve $J --recovery-key-file recovery.key
run 75 "judy, who lost the new password, cannot ask again" \
	smail-reset --password-file other $J </dev/null
err_has "the refusal names the way out" 'smail-admin cancel-reset'
run 0 "the operator cancels the approved reset" smail-admin cancel-reset $J
err_has "saying the account has no password now" 'has none until a new reset'
run 77 "the old password does not open" login old $J
run 77 "nor the lost one" login new $J
run 0 "smail-admin audit records it" smail-admin audit $J
out_has "as reset-cancel" "	reset-cancel	$J	"
request $J other
run 75 "a new request and its activation wait for approve" \
	smail-reset --password-file other $J <rs.$J
run 0 "approved" smail-admin approve $J --recovery-key-file recovery.key
run 0 "the new password signs in and completes it" login other $J
done_testing
