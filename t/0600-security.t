#!/bin/sh
# Security properties (SPEC §2): nothing secret in the clear after every
# flow, file modes, unsafe portals, secret files, password sources, no
# terminal, the terminal prompt, tokens wiped from argv, the lock that
# waits, config errors, no core dumps.
. "$(dirname "$0")/lib.sh"

# The commands set their own umask: a loose one here must not show.
umask 022

A=alice@agency.gov B=bob@partner.example C=carol@partner.example
pw_a1='Kite#Zebra42x' pw_a2='Maple@Stone31z' pw_a3='Cedar!Brook55k'
pw_b1='Tulip&River77q' pw_b2='Birch%Lake64m' pw_bad='Wrong!Guess88r'
pwfile pw.a1 "$pw_a1"
pwfile pw.a2 "$pw_a2"
pwfile pw.a3 "$pw_a3"
pwfile pw.b1 "$pw_b1"
pwfile pw.b2 "$pw_b2"
pwfile pw.bad "$pw_bad"
RUNDIR=$XDG_RUNTIME_DIR/smail

# pty ARGS...: t/pty-run.py (a command on a new pseudo-terminal).
pty() { "$PYTHON" "$T_SRC/pty-run.py" "$@"; }
# ms: the time in milliseconds.
ms() { echo $(($(date +%s%N) / 1000000)); }
# err_fixed DESC STRING: the last run's stderr holds STRING verbatim.
err_fixed() {
	if grep -qF -- "$2" err; then ok "$1"; else not_ok "$1"; diag <err; fi
}
# not_in FILE STRING: FILE does not hold STRING.
not_in() { ! grep -qaF -- "$2" "$1"; }
# nowhere DESC STRING [GREP-OPTION...] -- PATH...: no file under the
# PATHs holds STRING.
nowhere() {
	_d=$1 _s=$2
	shift 2
	_o=
	while [ "$1" != -- ]; do _o="$_o $1"; shift; done
	shift
	# shellcheck disable=SC2086
	_hits=$(grep -rlaF $_o -- "$_s" "$@")
	if [ $? -le 1 ] && [ -z "$_hits" ]; then
		ok "$_d"
	else
		not_ok "$_d"
		echo "$_hits" | diag
	fi
}
# raw_hits B64URL SKIPDIR PATH...: files under the PATHs (not under
# SKIPDIR) holding the bytes B64URL encodes, raw or as hex or standard
# base64.
raw_hits() {
	"$PYTHON" - "$@" <<'EOF'
import base64, binascii, os, sys
b64, skip, tops = sys.argv[1], sys.argv[2], sys.argv[3:]
raw = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
pats = [raw, binascii.hexlify(raw), binascii.hexlify(raw).upper(),
        base64.b64encode(raw).rstrip(b"=")]
for top in tops:
    for d, subdirs, files in os.walk(top):
        subdirs[:] = [s for s in subdirs if os.path.join(d, s) != skip]
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                data = fh.read()
            if any(x in data for x in pats):
                print(p)
EOF
}
# modes_ok: every file under the portal and the runtime directory is
# 0600, every directory 0700, and nothing else is there.
modes_ok() {
	_bad=$(find "$SMAIL_DIR" "$RUNDIR" \( -type f ! -perm 600 \) -o \
	    \( -type d ! -perm 700 \) -o \( ! -type f ! -type d \))
	if [ -z "$_bad" ]; then ok "$1"; else not_ok "$1"; ls -ld $_bad | diag; fi
}
# hold_lock: holds the portal's lock (flock) in the background until
# release_lock; returns once it is held.
hold_lock() {
	rm -f held release
	timeout 60 flock "$SMAIL_DIR/lock" sh -c \
	    'touch held; while [ ! -e release ]; do sleep 0.02; done' &
	holder=$!
	_i=0
	while [ ! -e held ] && [ $_i -lt 500 ]; do sleep 0.02; _i=$((_i + 1)); done
	[ -e held ]
}
release_lock() { touch release; wait "$holder"; }

# ---- a full set of flows, then nothing secret in the clear -----------

run 0 "init" smail-admin init --pwhash interactive
run 0 "add an account with -n" smail-admin add -n "Alice Agent" --password-file pw.a1 $A
run 0 "invite an account" smail-admin invite -n "Bob Partner" $B
run 0 "register from the invitation mail" smail-register --password-file pw.b1 $B <"$(last_mail)"
run 77 "a wrong password is refused" smail-register --login --password-file pw.bad $A
run 0 "login" smail-register --login --password-file pw.a1 $A
run 0 "change the password" smail-register -u $A --change-password \
	--password-file pw.a1 --new-password-file pw.a2
run 0 "request a reset" smail-reset --password-file pw.a3 $A </dev/null
rmail=$(grep -l "smr-" "$SMAIL_DIR"/mail/new/*)
run 0 "activate the reset from its mail" smail-reset --password-file pw.a3 $A <"$rmail"
run 0 "login with the reset password" smail-register --login --password-file pw.a3 $A
run 0 "an invitation left pending" smail-admin invite $C
run 0 "a reset request left pending" smail-reset --password-file pw.b2 $B </dev/null

tokens=$(grep -Eoh 'sm[ir]-[A-Za-z0-9_-]{43}' "$SMAIL_DIR"/mail/new/* | sort -u)
same "four tokens were issued (two spent, two pending)" 4 "$(echo "$tokens" | wc -l | tr -d ' ')"
same "two sessions are live" 2 "$(ls "$RUNDIR" | wc -l | tr -d ' ')"
same "the queue is empty once delivered" "" "$(find "$SMAIL_DIR/queue" ! -type d)"

secrets_absent() {   # $1: when
	_i=0
	for p in "$pw_a1" "$pw_a2" "$pw_a3" "$pw_b1" "$pw_b2" "$pw_bad"; do
		_i=$((_i + 1))
		nowhere "$1: password $_i not in the portal (mail/ included) or runtime dir" \
		    "$p" -- "$SMAIL_DIR" "$XDG_RUNTIME_DIR"
		skel=$(printf '%s' "$p" | tr -d 0-9 | tr A-Z a-z)
		nowhere "$1: nor its skeleton" "$skel" -i -- "$SMAIL_DIR" "$XDG_RUNTIME_DIR"
	done
	_i=0
	for t in $tokens; do
		_i=$((_i + 1))
		nowhere "$1: token $_i not in the portal outside mail/, nor in the runtime dir" \
		    "$t" --exclude-dir=mail -- "$SMAIL_DIR" "$XDG_RUNTIME_DIR"
		same "$1: nor its bytes (raw, hex, base64)" "" \
		    "$(raw_hits "${t#sm?-}" "$SMAIL_DIR/mail" "$SMAIL_DIR" "$XDG_RUNTIME_DIR")"
	done
}
secrets_absent "with live sessions"
modes_ok "with live sessions: files 0600, directories 0700"

# The session file holds S; the store holds only a hash of it.
for f in "$RUNDIR"/*; do
	S=$(sed -n 4p "$f")
	check "a session file holds a 43-character secret" test ${#S} -eq 43
	same "the store does not hold that session secret" "" \
	    "$(raw_hits "$S" /nonexistent "$SMAIL_DIR")"
done

run 0 "logout" smail-register -u $A --logout
run 0 "logout the other" smail-register -u $B --logout
same "no session file is left" "" "$(ls "$RUNDIR")"
secrets_absent "after logout"
modes_ok "after logout: files 0600, directories 0700"

# ---- an unsafe portal: every command exits 78 naming the path --------

unsafe() {   # unsafe DESC PATH
	for _c in "smail-admin list" "smail-register --status" "smail-reset $A"; do
		# shellcheck disable=SC2086
		run 78 "$1: ${_c%% *} exits 78" $_c </dev/null
		err_fixed "$1: ${_c%% *} names $2" "$2"
	done
}
P=$SMAIL_DIR
ln -s "$P" "$scratch/plink"
SMAIL_DIR=$scratch/plink
unsafe "the portal is a symlink" "$scratch/plink"
SMAIL_DIR=$P
mv "$P/config" "$P/config.real"
ln -s config.real "$P/config"
unsafe "config is a symlink" "$P/config"
rm "$P/config"
mv "$P/config.real" "$P/config"
chmod 755 "$P"
unsafe "the portal is mode 0755" "$P"
chmod 700 "$P"
chmod 644 "$P/config"
unsafe "config is mode 0644" "$P/config"
chmod 600 "$P/config"
chmod 640 "$P/store.1.db"
unsafe "store.1.db is mode 0640" "$P/store.1.db"
chmod 600 "$P/store.1.db"
chmod 755 "$P/queue/new"
unsafe "queue/new is mode 0755" "$P/queue/new"
chmod 700 "$P/queue/new"
m=$(last_mail)
ln -s "$m" "$P/queue/new/planted"
unsafe "a symlink in queue/new" "$P/queue/new/planted"
rm "$P/queue/new/planted"
# The local mailbox (mail/) grows by a mail per message without a relay,
# and smail only adds to it: commands check its directories, not each
# file, so that they do not slow down as it grows; smail-admin check
# looks at every file.
chmod 755 "$P/mail/new"
unsafe "mail/new is mode 0755" "$P/mail/new"
chmod 700 "$P/mail/new"
ln -s "$m" "$P/mail/new/planted"
run 78 "a symlink in mail/new: smail-admin check exits 78" smail-admin check
err_fixed "naming it" "$P/mail/new/planted"
rm "$P/mail/new/planted"
mkdir -m 700 "$P/mail/new/sub"
run 78 "a directory in mail/new: smail-admin check exits 78" smail-admin check
err_fixed "naming it" "$P/mail/new/sub"
rmdir "$P/mail/new/sub"
run 0 "smail-admin check passes again" smail-admin check
if [ "$(id -u)" -eq 0 ]; then
	chown 65534 "$P/config"
	unsafe "config not owned by the user" "$P/config"
	chown 0 "$P/config"
else
	ok "# SKIP chown needs root"
fi
run 0 "the restored portal opens" smail-admin list

# ---- a secret file that others can read is refused -------------------

cp pw.a3 pw.open
chmod 644 pw.open
run 78 "--password-file mode 0644: 78" smail-register --login --password-file pw.open $A
err_fixed "naming the file" "pw.open"
run 78 "SMAIL_PASSWORD_FILE mode 0644: 78" env SMAIL_PASSWORD_FILE="$scratch/pw.open" \
	smail-register --login $A
err_fixed "naming the file" "pw.open"
run 78 "smail-admin add refuses it too" smail-admin add --password-file pw.open dan@agency.gov
err_fixed "naming the file" "pw.open"
chmod 640 pw.open
run 78 "group-readable (0640): 78" smail-register --login --password-file pw.open $A
err_fixed "naming the file" "pw.open"
run 78 "--new-password-file mode 0640: 78" smail-register -u $A --change-password \
	--password-file pw.a3 --new-password-file pw.open
err_fixed "naming the file" "pw.open"
run 0 "the account still opens with its password" smail-register --login --password-file pw.a3 $A

# ---- --password-fd N and SMAIL_PASSWORD_FILE -------------------------

run 0 "--password-fd 3 reads the password" smail-register --login --password-fd 3 $A 3<pw.a3
run 77 "--password-fd 3 with a wrong one: 77" smail-register --login --password-fd 3 $A 3<pw.bad
run 0 "SMAIL_PASSWORD_FILE names the file" env SMAIL_PASSWORD_FILE="$scratch/pw.a3" \
	smail-register --login $A
run 77 "SMAIL_PASSWORD_FILE with a wrong one: 77" env SMAIL_PASSWORD_FILE="$scratch/pw.bad" \
	smail-register --login $A
run 0 "smail-admin add with --password-fd" smail-admin add --password-fd 4 dan@agency.gov 4<pw.b2
run 0 "and the account opens" smail-register --login --password-file pw.b2 dan@agency.gov
run 0 "a right password clears the count" smail-register --login --password-file pw.a3 $A

# ---- no terminal, no password option: 77 at once ---------------------

noterm() {   # noterm DESC CMD...
	_d=$1
	shift
	_t0=$(ms)
	run 77 "no terminal: $_d exits 77" timeout 10 setsid -w "$@" </dev/null
	_t=$(($(ms) - _t0))
	err_has "$_d: says there is no terminal" 'no terminal'
	if slow; then
		skip "$_d: at once" "under valgrind"
	else
		check "$_d: at once (${_t} ms)" test "$_t" -lt 1000
	fi
}
noterm "smail-register --login" smail-register --login $A
noterm "smail-admin add" smail-admin add erin@agency.gov
noterm "smail-reset (request)" smail-reset $A
noterm "smail-register --change-password" smail-register -u $A --change-password
run 0 "nothing was added" smail-admin list
check "erin is not there" not_in out erin@

# ---- the terminal prompt ---------------------------------------------

run 0 "smail-admin add on a terminal" pty -e 'New password: ' -s "$pw_a1" \
	-e 'Repeat new password: ' -s "$pw_a1" -- smail-admin add -n "Hank Hill" hank@agency.gov
same "asks twice: New password, then Repeat new password" \
	"New password: |Repeat new password: |" \
	"$(grep -Eo '^(New|Repeat new) password: ' out | tr '\n' '|')"
check "the typed password is not echoed" not_in out "$pw_a1"
run 65 "two different entries are refused" pty -e 'New password: ' -s "$pw_a1" \
	-e 'Repeat new password: ' -s "$pw_a2" -- smail-admin add ivy@agency.gov
out_has "saying they do not match" 'do not match'
check "neither is echoed" eval 'not_in out "$pw_a1" && not_in out "$pw_a2"'
run 0 "list" smail-admin list
check "ivy was not added" not_in out ivy@
run 0 "smail-register --login on a terminal" pty -e "Password for hank@agency.gov: " \
	-s "$pw_a1" -- smail-register --login hank@agency.gov
out_has "prompts Password for ADDR:" '^Password for hank@agency\.gov: '
check "the password is not echoed" not_in out "$pw_a1"
run 0 "signed in" smail-register -u hank@agency.gov --status

# ---- -t TOKEN is wiped from the command line -------------------------

run 0 "invite judy" smail-admin invite judy@partner.example
tok=$(token_of "$(last_mail)")
check "an invitation token" test -n "$tok"
run 0 "smail-register -t TOKEN on a terminal" pty -e 'New password: ' \
	-x 'cat /proc/$PTY_PID/cmdline >cmdline' \
	-s "$pw_b1" -e 'Repeat new password: ' -s "$pw_b1" -- \
	smail-register -t "$tok" judy@partner.example
check "its command line was read at the prompt" grep -qaF judy@partner.example cmdline
if slow; then
	skip "the token is not in /proc/PID/cmdline" "valgrind keeps its own argv"
	skip "nor its last 39 characters" "valgrind keeps its own argv"
else
	check "the token is not in /proc/PID/cmdline" not_in cmdline "$tok"
	check "nor its last 39 characters" not_in cmdline "${tok#smi-????}"
fi
run 0 "request a reset for judy" smail-reset --password-file pw.b2 judy@partner.example </dev/null
rtok=$(token_of "$(last_mail)")
check "a reset token" test -n "$rtok"
run 0 "smail-reset --token=TOKEN on a terminal" pty -e 'New password, again: ' \
	-x 'cat /proc/$PTY_PID/cmdline >cmdline' -s "$pw_b2" -- \
	smail-reset --token="$rtok" judy@partner.example
check "its command line was read at the prompt" grep -qaF judy@partner.example cmdline
if slow; then
	skip "the token is not in /proc/PID/cmdline" "valgrind keeps its own argv"
else
	check "the token is not in /proc/PID/cmdline" not_in cmdline "${rtok#smr-????}"
fi

# ---- no core dumps ---------------------------------------------------

ulimit -S -c "$(ulimit -H -c)" 2>/dev/null
run 0 "a command waiting at a prompt" pty -e "Password for $A: " \
	-x 'cat /proc/$PTY_PID/limits >limits; cat /proc/self/limits >limits.ctl' \
	-s "$pw_a3" -- smail-register --login $A
core() { awk '/^Max core file size/ { print $5, $6 }' "$1"; }
same "its RLIMIT_CORE is 0 (soft and hard)" "0 0" "$(core limits)"
if [ "$(core limits.ctl)" != "0 0" ]; then
	ok "while its parent allowed core dumps ($(core limits.ctl))"
else
	ok "# SKIP the hard core limit here is already 0"
fi

# ---- the lock that waits ---------------------------------------------

cp "$SMAIL_DIR/config" config.saved
setcfg store_wait 1s
check "hold the portal's lock" hold_lock
t0=$(ms)
run 75 "a reader gives up with 75 after store_wait" smail-admin list
t=$(($(ms) - t0))
err_has "saying the store is busy" 'store busy'
err_has "and for how long" '1 second'
check "after about a second (${t} ms)" test "$t" -ge 900 -a "$t" -lt 5000
run 75 "smail-register --login gives up too" smail-register --login --password-file pw.a3 $A
release_lock
check "hold the lock again" hold_lock
(
	s=$(ms)
	smail-admin list >out.w 2>err.w
	echo $? $(($(ms) - s)) >rc.w
) &
waiter=$!
sleep 0.4
release_lock
wait $waiter
read -r rc t <rc.w
same "a command waiting when the lock is released succeeds" 0 "$rc"
check "having waited for it (${t} ms)" test "$t" -ge 100
check "and printing the accounts" grep -q "^$A	" out.w

# ---- config errors ---------------------------------------------------

cfgerr() {   # cfgerr DESC LINE: the line at the end of config: 78, config:N
	cat config.saved >"$SMAIL_DIR/config"
	printf '%s\n' "$2" 'lock_attempts = 3' >>"$SMAIL_DIR/config"
	_n=$(($(wc -l <"$SMAIL_DIR/config") - 1))
	run 78 "config, $1: exits 78" smail-admin list
	err_fixed "config, $1: names config:$_n" "config:$_n:"
}
cfgerr "an unknown key" "colour = blue"
cfgerr "a duration without a unit (30)" "lock_time = 30"
cfgerr "a bad pwhash" "pwhash = fast"
cfgerr "a line without =" "session_idle 15m"
cfgerr "a count of 0" "lock_attempts = 0"
cfgerr "a relative dictionary path" "dictionary = words"
cat config.saved >"$SMAIL_DIR/config"
printf 'lock_time = 3\000m\n' >>"$SMAIL_DIR/config"
n=$(wc -l <"$SMAIL_DIR/config")
run 78 "config, a NUL byte: exits 78" smail-register --status
err_fixed "config, a NUL byte: names config:$n" "config:$n:"

cat config.saved >"$SMAIL_DIR/config"
setcfg store_wait 1m
setcfg store_wait 1s
check "hold the lock" hold_lock
t0=$(ms)
run 75 "store_wait 1m then 1s: the last wins" smail-admin list
t=$(($(ms) - t0))
err_has "the wait was 1 second" 'for 1 second'
check "after about a second, not a minute (${t} ms)" test "$t" -lt 5000
release_lock
cat config.saved >"$SMAIL_DIR/config"
setcfg store_wait 1s
setcfg store_wait 2s
check "hold the lock" hold_lock
t0=$(ms)
run 75 "store_wait 1s then 2s: the last wins" smail-admin list
t=$(($(ms) - t0))
err_has "the wait was 2 seconds" 'for 2 seconds'
check "after about two seconds (${t} ms)" test "$t" -ge 1800
release_lock
cat config.saved >"$SMAIL_DIR/config"
run 0 "the restored config loads" smail-admin list

# ---- the runtime directory -------------------------------------------

chmod 755 "$RUNDIR"
run 78 "a session directory others can read is refused at login" \
	smail-register --login --password-file pw.a3 $A
err_fixed "naming it" "$RUNDIR"
chmod 700 "$RUNDIR"

# ---- lockout counts wrong passwords only -----------------------------

pwfile pw.short 'short'
run 0 "add kim" smail-admin add --password-file pw.a1 kim@agency.gov
for i in 1 2 3; do
	run 65 "change-password with the right password, refused new one ($i)" \
		smail-register -u kim@agency.gov --change-password \
		--password-file pw.a1 --new-password-file pw.short
done
run 77 "then one wrong password" smail-register --login --password-file pw.bad kim@agency.gov
run 0 "list" smail-admin list
check "does not lock the account (right passwords never count)" \
	grep -q '^kim@agency.gov	active' out

done_testing
