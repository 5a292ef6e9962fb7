#!/bin/sh
# smail-send --access-code-file: an invited recipient must also give
# the code to register (smail-register --access-code-file, or a prompt
# on the terminal); a missing or wrong code spends no token; wrong
# codes count toward a lockout of their own, which a reset of such an
# account (which needs the code too) shares; the code is stored nowhere;
# a code cannot apply to an invitation already pending without one.
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR

A=alice@agency.gov E=erin@outside.example F=frank@outside.example
G=gina@outside.example H=hank@outside.example
new_portal
setcfg lock_attempts 2
add_user $A 'Kite#Zebra42x' "Alice Agent"
smail-register --login --password-file pw.$A $A 2>/dev/null
pwfile pw.$E 'Birch%Lake64m'
pwfile pw.$E.new 'Spruce&Delta93r'
pwfile pw.$F 'Willow^Frost83p'
pwfile pw.$G 'Cedar!Brook55k'
pwfile pw.$H 'Quartz!Fjord58v'
pwfile pw.weak 'short'

code='Pelican-4471-Umber'
pwfile code.txt "$code"
pwfile wrong.txt 'Pelican-4471-Amber'
cp code.txt code644.txt
chmod 644 code644.txt

skip() { ok "# SKIP $1"; }
state_of() { smail-admin list 2>/dev/null | awk -v a="$1" '$1 == a { print $2 }'; }
# mail_for ADDR: the newest notification addressed to ADDR.
mail_for() { grep -l "^To: <$1>" $(ls -t "$SMAIL_DIR"/mail/new/*) 2>/dev/null | head -n 1; }
# notty CMD...: CMD with no terminal at all (a new session, no /dev/tty).
notty() { setsid -w "$@"; }
printf 'Coded body Ocelot\n' >body.txt

# --- sending with a code ---
run 78 "a code file others can read: 78" \
	smail-send -u $A --access-code-file code644.txt -s 'Coded' -m body.txt $E
err_has "naming it" 'code644\.txt'
same "nothing sent: no account made" "" "$(state_of $E)"
run 66 "a missing code file: 66" \
	smail-send -u $A --access-code-file no-such-code -s 'Coded' -m body.txt $E
same "no account made" "" "$(state_of $E)"
run 0 "a 0600 code file: the message goes" \
	smail-send -u $A --access-code-file code.txt -s 'Coded' -m body.txt $E
M1=$(cat out)
same "the recipient is invited" invited "$(state_of $E)"
inv=$(mail_for $E)
cp "$inv" invite.mail
check "the invitation holds a token" test -n "$(token_of invite.mail)"
check "says an access code is needed" grep -qi 'access code' invite.mail
check "and does not hold the code" eval '! grep -qF -- "$code" invite.mail'
check "nor its parts" eval '! grep -qF -e Pelican -e 4471 -e Umber invite.mail'

# --- registering ---
run 77 "no code and no terminal: 77" notty smail-register --password-file pw.$E $E <invite.mail
err_has "saying the code is needed" '[Aa]ccess code|access-code'
same "still invited" invited "$(state_of $E)"
run 77 "a wrong code: 77" smail-register --access-code-file wrong.txt --password-file pw.$E $E <invite.mail
err_has "wrong access code" 'access code'
same "still invited" invited "$(state_of $E)"
run 77 "a second wrong code (lock_attempts 2): 77" \
	smail-register --access-code-file wrong.txt --password-file pw.$E $E <invite.mail
err_has "locks the invited account" 'locked'
run 77 "the right code while locked: still 77" \
	smail-register --access-code-file code.txt --password-file pw.$E $E <invite.mail
err_has "locked" 'locked'
run 0 "smail-admin unlock" smail-admin unlock $E
run 65 "the right code with a password the policy refuses: 65" \
	smail-register --access-code-file code.txt --password-file pw.weak $E <invite.mail
same "still invited" invited "$(state_of $E)"
run 0 "the right code: the same token still registers" \
	smail-register --access-code-file code.txt --password-file pw.$E $E <invite.mail
same "now active" active "$(state_of $E)"
run 0 "and the message reads" smail-fetch -u $E "$M1"
check "its body" grep -qx 'Coded body Ocelot' out
run 77 "the token is spent now" \
	smail-register --access-code-file code.txt --password-file pw.$E $E <invite.mail
run 0 "smail-admin audit $E" smail-admin audit $E
same "two failed attempts, a lock, the unlock, the registration, the read" \
	"login-failed login-failed lock unlock register read" "$(cut -f2 out | tr '\n' ' ' | sed 's/ $//')"

# --- the code is stored nowhere ---
for d in "$SMAIL_DIR" "$XDG_RUNTIME_DIR" "$HOME"; do
	if grep -rqaF -- "$code" "$d"; then
		not_ok "no file under ${d#$scratch/} holds the code"
		grep -rlaF -- "$code" "$d" | diag
	else
		ok "no file under ${d#$scratch/} holds the code"
	fi
done
check "nor the wrong one" eval '! grep -rqaF -- Pelican-4471 "$SMAIL_DIR" "$XDG_RUNTIME_DIR" "$HOME"'

# --- a reset of an account registered with a code ---
n=$(mail_count)
run 77 "reset request without the code (no terminal): 77" \
	notty smail-reset --password-file pw.$E.new $E
same "no mail" "$n" "$(mail_count)"
run 77 "with a wrong code: 77" \
	smail-reset --access-code-file wrong.txt --password-file pw.$E.new $E
err_has "wrong access code" 'access code'
same "no mail" "$n" "$(mail_count)"
run 78 "with a code file others can read: 78" \
	smail-reset --access-code-file code644.txt --password-file pw.$E.new $E
run 0 "with the right code: 0" \
	smail-reset --access-code-file code.txt --password-file pw.$E.new $E
same "the activation mail arrives" "$((n + 1))" "$(mail_count)"
cp "$(mail_for $E)" reset.mail
check "with a reset token" grep -Eq 'smr-[A-Za-z0-9_-]{43}' reset.mail
check "and not the code" eval '! grep -qF -- "$code" reset.mail'
# A right code is not a failure: after it, one wrong password is the
# first failure in a row, which does not lock (lock_attempts 2).
run 77 "then one wrong password" smail-register --login --password-file pw.$F $E
check "does not lock the account" eval '! grep -q locked err'
run 0 "the reset activates" smail-reset --password-file pw.$E.new $E <reset.mail
run 0 "the new password signs in" smail-register --login --password-file pw.$E.new $E
run 0 "the message still reads" smail-fetch -u $E "$M1"

# --- without a code, none is asked ---
run 0 "a message to another address, no code" smail-send -u $A -s 'Plain' -m body.txt $F
M2=$(cat out)
cp "$(mail_for $F)" invite-f.mail
check "its invitation says nothing of a code" eval '! grep -qi "access code" invite-f.mail'
run 0 "registers with no code and no terminal" \
	notty smail-register --password-file pw.$F $F <invite-f.mail
run 0 "and reads" smail-fetch -u $F "$M2"
pwfile pw.$F.new 'Larch*Pond47h#'
run 0 "its reset request needs no code either" notty smail-reset --password-file pw.$F.new $F

# --- a right code does not count as a failure ---
run 0 "a coded message to hank" \
	smail-send -u $A --access-code-file code.txt -s 'Coded' -m body.txt $H
cp "$(mail_for $H)" invite-h.mail
run 65 "the right code with a refused password: 65" \
	smail-register --access-code-file code.txt --password-file pw.weak $H <invite-h.mail
run 77 "then one wrong code: 77" \
	smail-register --access-code-file wrong.txt --password-file pw.$H $H <invite-h.mail
check "the first failure in a row does not lock" eval '! grep -q locked err'
run 0 "so the right code then registers, with no unlock" \
	smail-register --access-code-file code.txt --password-file pw.$H $H <invite-h.mail

# --- a code cannot apply to an invitation pending without one ---
K=kim@outside.example L=lee@outside.example
run 0 "a message to kim, no code" smail-send -u $A -s 'Plain' -m body.txt $K
n=$(mail_count)
smail-inbox --user $A --sent >sent.before 2>/dev/null
run 65 "then one with a code: refused (65)" \
	smail-send -u $A --access-code-file code.txt -s 'Coded' -m body.txt $K
err_has "naming kim" "$K: invited earlier without an access code"
err_lines "on one line" 1
check "no id printed" test ! -s out
same "nothing mailed" "$n" "$(mail_count)"
smail-inbox --user $A --sent >sent.after 2>/dev/null
check "nothing stored" cmp -s sent.before sent.after
printf '%s\tTo kim\tbody.txt\n%s\tTo lee\tbody.txt\n' $K $L >manifest
run 65 "a batch with a code: 65" \
	smail-send -u $A --access-code-file code.txt -b manifest
err_has "its line 1 fails, naming kim" "manifest:1: $K: invited earlier"
err_has "one line failed" 'manifest: 1 line failed'
same "line 2 goes" 1 "$(wc -l <out | tr -d ' ')"
out_has "to lee" "	$L\$"
same "lee is invited" invited "$(state_of $L)"
check "and lee's invitation asks for the code" grep -qi 'access code' "$(mail_for $L)"
same "one mail: lee's" "$((n + 1))" "$(mail_count)"

# --- the access code has a lockout of its own ---
I=ivy@outside.example
pwfile pw.$I 'Juniper#Coast72t'
pwfile pw.$I.new 'Walnut$Ridge39k'
run 0 "a coded message to ivy" \
	smail-send -u $A --access-code-file code.txt -s 'Coded' -m body.txt $I
cp "$(mail_for $I)" invite-i.mail
run 0 "ivy registers with the code" \
	smail-register --access-code-file code.txt --password-file pw.$I $I <invite-i.mail
for i in 1 2; do
	smail-register --login --password-file pw.$F $I >/dev/null 2>&1
done
same "two wrong passwords lock ivy" locked "$(state_of $I)"
n=$(mail_count)
run 0 "locked, with the right code at once, ivy can still request a reset" \
	smail-reset --access-code-file code.txt --password-file pw.$I.new $I
same "the activation mail goes" "$((n + 1))" "$(mail_count)"
cp "$(mail_for $I)" reset-i.mail
n=$(mail_count)
run 77 "a wrong code: 77" \
	smail-reset --access-code-file wrong.txt --password-file pw.$I.new $I
err_has "wrong access code" 'wrong access code$'
run 77 "a second wrong code (lock_attempts 2): 77" \
	smail-reset --access-code-file wrong.txt --password-file pw.$I.new $I
err_has "locks code checks" 'wrong access code; access codes are locked until'
run 77 "then a wrong code" \
	smail-reset --access-code-file wrong.txt --password-file pw.$I.new $I
cp err err.wrong
err_lines "answers on one line" 1
err_has "with the lock" 'access codes locked until'
run 77 "and the right code: 77 too" \
	smail-reset --access-code-file code.txt --password-file pw.$I.new $I
check "with the very same answer" cmp -s err err.wrong
run 77 "no code at all, no terminal: the same" \
	notty smail-reset --password-file pw.$I.new $I
check "answer" cmp -s err err.wrong
same "no mail for any of them" "$n" "$(mail_count)"
run 0 "the request made before still activates" \
	smail-reset --password-file pw.$I.new $I <reset-i.mail
run 0 "the new password signs in" smail-register --login --password-file pw.$I.new $I
run 77 "code checks are still locked (their own lock)" \
	smail-reset --access-code-file code.txt --password-file pw.$I.new $I
check "with the same answer" cmp -s err err.wrong

# Each further code lock lasts twice as long; a right code starts over.
# Durations are asserted only from below, and by outcomes after waits
# that begin once the lock is set: a slow machine cannot fail them.
setcfg lock_time 2s
J=jay@outside.example
pwfile pw.$J 'Poplar&Grove28n'
pwfile pw.$J.new 'Hazel#Cliff61d'
run 0 "a coded message to jay" \
	smail-send -u $A --access-code-file code.txt -s 'Coded' -m body.txt $J
run 0 "jay registers" smail-register --access-code-file code.txt \
	--password-file pw.$J $J <"$(mail_for $J)"
jreset() { smail-reset --access-code-file "$1" --password-file pw.$J.new $J; }
# until_of: the time (seconds) the lock in ./err ends.
until_of() { date -d "$(grep -Eo 'locked until [0-9TZ:-]+' err | cut -d' ' -f3)" +%s; }
jreset wrong.txt 2>/dev/null
run 77 "two wrong codes: the first code lock" jreset wrong.txt
err_has "(locked)" 'locked until'
sleep 3
run 77 "after it, a wrong code counts again" jreset wrong.txt
err_has "(not locked)" 'wrong access code$'
t0=$(date +%s)
run 77 "two more: the second code lock" jreset wrong.txt
check "lasts at least twice lock_time (4s)" test $(($(until_of) - t0)) -ge 4
sleep 5
run 0 "after it, the right code: the request goes" jreset code.txt
jreset wrong.txt 2>/dev/null
run 77 "two wrong codes again: a lock" jreset wrong.txt
sleep 3
run 0 "which lasts lock_time again (the right code started over)" jreset code.txt
setcfg lock_time 30m

# --- the prompt, on a terminal ---
run 0 "a coded message to gina" \
	smail-send -u $A --access-code-file code.txt -s 'Coded' -m body.txt $G
M3=$(cat out)
tok=$(token_of "$(mail_for $G)")
run 0 "on a terminal with no code file, smail-register asks" \
	"$PYTHON" "$T_SRC/pty-run.py" -e 'Access code:' -s "$code" -- \
	smail-register --password-file pw.$G -t "$tok" $G
out_has "'Access code:'" 'Access code:'
check "and does not echo it" eval '! grep -qF -- "$code" out'
same "registered" active "$(state_of $G)"
run 0 "and reads" smail-fetch -u $G "$M3"
done_testing
