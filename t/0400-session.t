#!/bin/sh
# Sessions and the lockout: --login, --logout, --status; several
# accounts at once; session_idle and session_max; lock_attempts and
# lock_time; a password change ends the account's other sessions.
. "$(dirname "$0")/lib.sh"

new_portal
setcfg lock_attempts 3
add_user alice@agency.gov 'Kite#Zebra42x'
add_user bob@agency.gov 'Tulip&River77q'
add_user carol@agency.gov 'Maple@Stone31z'
add_user dave@agency.gov 'Cedar!Brook55k'
pwfile wrong 'Fjord%Lynx48w'
state_of() { smail-admin list | awk -v a="$1" '$1 == a { print $2 }'; }

# --- login, status, logout ---
run 77 "--status with no session: 77" smail-register --status
check "and prints nothing on stdout" test ! -s out
run 77 "--status -u with no session: 77" smail-register -u alice@agency.gov --status
run 0 "--login" smail-register --login --password-file pw.alice@agency.gov alice@agency.gov
err_has "says signed in" 'signed in'
check "the session file is 0600" \
	test "$(stat -c %a "$XDG_RUNTIME_DIR"/smail/*)" = 600
check "the session directory is 0700" test "$(stat -c %a "$XDG_RUNTIME_DIR/smail")" = 700
run 0 "--status" smail-register --status
same "prints the address" alice@agency.gov "$(cat out)"
run 0 "--logout" smail-register --logout
run 77 "then --status: 77" smail-register --status
check "the session file is gone" test -z "$(ls "$XDG_RUNTIME_DIR/smail")"
run 0 "--login with -u" smail-register -u alice@agency.gov --login --password-file pw.alice@agency.gov
run 0 "--status" smail-register --status
same "prints the address" alice@agency.gov "$(cat out)"
run 77 "--login with a wrong password: 77" \
	smail-register --login --password-file wrong alice@agency.gov
run 0 "does not end the session" smail-register --status
run 67 "--login to an unknown account: 67" \
	smail-register --login --password-file wrong nobody@agency.gov

# --- two accounts at once ---
run 0 "bob signs in too" smail-register --login --password-file pw.bob@agency.gov bob@agency.gov
run 0 "--status without -u" smail-register --status
same "shows the most recently used (bob)" bob@agency.gov "$(cat out)"
run 0 "-u picks alice" smail-register -u alice@agency.gov --status
same "alice" alice@agency.gov "$(cat out)"
run 0 "-u with the domain in other case picks alice" smail-register -u alice@AGENCY.gov --status
same "alice, as stored" alice@agency.gov "$(cat out)"
run 77 "-u with the local part in other case is another account" \
	smail-register -u Alice@agency.gov --status
run 0 "-u picks bob" smail-register -u bob@agency.gov --status
same "bob" bob@agency.gov "$(cat out)"
run 0 "--status -u does not make alice the most recent" smail-register --status
same "still bob" bob@agency.gov "$(cat out)"
run 0 "alice signs in again" smail-register --login --password-file pw.alice@agency.gov alice@agency.gov
run 0 "--status without -u" smail-register --status
same "now shows alice" alice@agency.gov "$(cat out)"
run 0 "-u bob --logout" smail-register -u bob@agency.gov --logout
run 77 "bob is signed out" smail-register -u bob@agency.gov --status
run 0 "alice is not" smail-register -u alice@agency.gov --status
same "alice" alice@agency.gov "$(cat out)"

# --- the lockout ---
run 77 "a wrong password: 77" smail-register --login --password-file wrong carol@agency.gov
err_has "says wrong password" 'wrong password'
run 77 "a second wrong password (another process)" \
	smail-register --login --password-file wrong carol@agency.gov
same "not locked yet" active "$(state_of carol@agency.gov)"
run 77 "the third wrong password locks" \
	smail-register --login --password-file wrong carol@agency.gov
err_has "saying locked until a time" 'locked until [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z'
same "smail-admin list shows locked" locked "$(state_of carol@agency.gov)"
run 77 "while locked the right password is refused" \
	smail-register --login --password-file pw.carol@agency.gov carol@agency.gov
err_has "with the time the lock ends" 'locked until [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z'
cp err err.right
run 77 "while locked a wrong password is refused" \
	smail-register --login --password-file wrong carol@agency.gov
check "with the very same answer" cmp -s err err.right
run 77 "--change-password is refused while locked" \
	smail-register -u carol@agency.gov --change-password \
	--password-file pw.carol@agency.gov --new-password-file wrong
run 0 "smail-admin unlock" smail-admin unlock carol@agency.gov
same "active again" active "$(state_of carol@agency.gov)"
run 0 "the right password works after unlock" \
	smail-register --login --password-file pw.carol@agency.gov carol@agency.gov

run 77 "wrong password 1" smail-register --login --password-file wrong carol@agency.gov
run 77 "wrong password 2" smail-register --login --password-file wrong carol@agency.gov
run 0 "a success in between" \
	smail-register --login --password-file pw.carol@agency.gov carol@agency.gov
run 77 "wrong password 1 again" smail-register --login --password-file wrong carol@agency.gov
run 77 "wrong password 2 again" smail-register --login --password-file wrong carol@agency.gov
same "a success resets the count: not locked" active "$(state_of carol@agency.gov)"
run 0 "the right password still works" \
	smail-register --login --password-file pw.carol@agency.gov carol@agency.gov

# A right current password with a refused new one is not a wrong password.
pwfile weak 'kite'
for i in 1 2 3; do
	run 65 "--change-password with a refused new password ($i)" \
		smail-register -u carol@agency.gov --change-password \
		--password-file pw.carol@agency.gov --new-password-file weak
done
run 77 "then one wrong password" smail-register --login --password-file wrong carol@agency.gov
same "does not lock: the right ones did not count" active "$(state_of carol@agency.gov)"
smail-admin unlock carol@agency.gov 2>/dev/null

# A lock does not end a live session.
run 0 "alice has a live session" smail-register -u alice@agency.gov --status
for i in 1 2 3; do
	smail-register --login --password-file wrong alice@agency.gov 2>/dev/null
done
same "alice is locked" locked "$(state_of alice@agency.gov)"
run 0 "her session still answers --status" smail-register -u alice@agency.gov --status
same "with her address" alice@agency.gov "$(cat out)"
smail-admin unlock alice@agency.gov 2>/dev/null

# --- --change-password ends the account's other sessions ---
mkdir -m 700 run2
run 0 "dave signs in here" smail-register --login --password-file pw.dave@agency.gov dave@agency.gov
run 0 "and from a second runtime directory" \
	env XDG_RUNTIME_DIR="$scratch/run2" smail-register --login \
	--password-file pw.dave@agency.gov dave@agency.gov
run 0 "the second is live" env XDG_RUNTIME_DIR="$scratch/run2" smail-register --status
same "as dave" dave@agency.gov "$(cat out)"
pwfile new.dave 'Fjord%Lynx48w'
run 0 "dave changes his password from the first" \
	smail-register -u dave@agency.gov --change-password \
	--password-file pw.dave@agency.gov --new-password-file new.dave
run 77 "the second's --status: 77" env XDG_RUNTIME_DIR="$scratch/run2" smail-register --status
run 0 "the first is still signed in" smail-register -u dave@agency.gov --status
same "as dave" dave@agency.gov "$(cat out)"
run 0 "other accounts' sessions are untouched" smail-register -u alice@agency.gov --status
run 77 "the old password no longer signs in" \
	smail-register --login --password-file pw.dave@agency.gov dave@agency.gov
run 0 "the new one does" smail-register --login --password-file new.dave dave@agency.gov

# --- expiry, on clocks running side by side (4 seconds of sleep) ---
# p-idle: session_idle 2s, its sessions in run-idle
# p-use:  session_idle 3s: --status does not extend a session, --login does
# p-max:  session_max 3s with a long session_idle
# the main portal: a 3s lock
for p in idle use max; do
	smail-admin -d "$scratch/p-$p" init --pwhash interactive 2>/dev/null
	pwfile pw.$p 'Kite#Zebra42x'
done
printf 'session_idle = 2s\n' >>"$scratch/p-idle/config"
printf 'session_idle = 3s\n' >>"$scratch/p-use/config"
printf 'session_idle = 1h\nsession_max = 3s\n' >>"$scratch/p-max/config"
smail-admin -d "$scratch/p-idle" add --password-file pw.idle ann@agency.gov 2>/dev/null
smail-admin -d "$scratch/p-use" add --password-file pw.use ann@agency.gov 2>/dev/null
smail-admin -d "$scratch/p-use" add --password-file pw.use ben@agency.gov 2>/dev/null
smail-admin -d "$scratch/p-max" add --password-file pw.max ann@agency.gov 2>/dev/null
mkdir -m 700 run-idle
idle() { XDG_RUNTIME_DIR=$scratch/run-idle SMAIL_DIR=$scratch/p-idle "$@"; }
use() { SMAIL_DIR=$scratch/p-use "$@"; }
max() { SMAIL_DIR=$scratch/p-max "$@"; }

# Each check comes right after the sleep, and each sign-in it measures
# right before, so that whole-second clocks cannot make them flaky.
run 0 "p-idle: sign in" idle smail-register --login --password-file pw.idle ann@agency.gov
run 0 "p-max: sign in" max smail-register --login --password-file pw.max ann@agency.gov
cp -p "$scratch"/run-idle/smail/* idle-session
setcfg lock_time 3s
for i in 1 2 3; do
	smail-register --login --password-file wrong bob@agency.gov 2>/dev/null
done
setcfg lock_time 30m
same "bob is locked" locked "$(state_of bob@agency.gov)"
run 0 "p-use: ben signs in" use smail-register --login --password-file pw.use ben@agency.gov
run 0 "p-use: ann signs in" use smail-register --login --password-file pw.use ann@agency.gov

if slow; then
	# Each command takes over a second here: a 3 s window cannot be timed.
	for d in "p-use: after 2s ann's session is live" "p-use: ben signs in again" \
	    "p-use: --login again kept ben's session alive" "ben" \
	    "p-use: --status did not extend ann's session" \
	    "signed out after 3 seconds of inactivity"; do
		skip "$d" "under valgrind"
	done
else
sleep 2
run 0 "p-use: after 2s ann's session is live" use smail-register -u ann@agency.gov --status
run 0 "p-use: ben signs in again" use smail-register --login --password-file pw.use ben@agency.gov

sleep 2
run 0 "p-use: --login again kept ben's session alive" use smail-register -u ben@agency.gov --status
same "ben" ben@agency.gov "$(cat out)"
run 77 "p-use: --status did not extend ann's session" use smail-register -u ann@agency.gov --status
err_has "signed out after 3 seconds of inactivity" 'signed out after 3 seconds of inactivity'
fi
run 77 "p-idle: after 4s idle, --status: 77" idle smail-register --status
err_has "signed out after 2 seconds of inactivity" 'signed out after 2 seconds of inactivity'
check "p-idle: the session file is gone" test -z "$(ls "$scratch/run-idle/smail")"
# Put the old session file back and allow long idling: the store's half
# must be gone too, so the file opens nothing.
cp -p idle-session "$scratch/run-idle/smail/"
printf 'session_idle = 1h\n' >>"$scratch/p-idle/config"
run 77 "p-idle: the store half was wiped as well" idle smail-register --status
err_has "the file alone is not a session" 'not signed in'
run 77 "p-max: past session_max: 77" max smail-register --status
err_has "saying sessions last at most 3 seconds" 'at most 3 seconds'
run 0 "the lock ended after lock_time" \
	smail-register --login --password-file pw.bob@agency.gov bob@agency.gov
same "bob is active" active "$(state_of bob@agency.gov)"
done_testing
