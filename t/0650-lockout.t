#!/bin/sh
# The lockout when attempts run at once: sign-ins, reset activations and
# access codes (at registration and at reset) are counted under the
# write lock before Argon2id runs, and the count holds the attempts
# still under way: however many run at once, at most lock_attempts
# checks run, then the account (or its access code) is locked, and
# nobody signs in after the lock is set.  An attempt killed after it was
# counted stays counted.
#
# A small preloaded library counts the Argon2id runs (crypto_pwhash)
# and holds each one at its start until the test lets them go: every
# attempt of a burst has then either reached Argon2id or been refused
# before any result comes back, the interleaving in which a count that
# ignores the attempts under way lets them all through.
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR

# Background processes are stopped at exit, by PID.
trap 'for _f in "$scratch"/*.bg; do [ -f "$_f" ] && kill -9 "$(cat "$_f")" 2>/dev/null; done
cd /; rm -rf "$scratch"' EXIT

cat >pwcount.c <<'EOF'
/* Preloaded: one line in $PWCOUNT_LOG per crypto_pwhash call, written
 * before the hash runs; with $PWCOUNT_HOLD set, the call then waits
 * until that file exists. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef int (*pwhash_fn)(unsigned char *, unsigned long long, const char *,
    unsigned long long, const unsigned char *, unsigned long long, size_t, int);

int
crypto_pwhash(unsigned char *out, unsigned long long outlen, const char *pw,
    unsigned long long pwlen, const unsigned char *salt,
    unsigned long long ops, size_t mem, int alg)
{
	pwhash_fn real = (pwhash_fn)dlsym(RTLD_NEXT, "crypto_pwhash");
	const char *log = getenv("PWCOUNT_LOG"), *hold = getenv("PWCOUNT_HOLD");
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int fd;

	if (log && (fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0600)) >= 0) {
		if (write(fd, "argon2id\n", 9) != 9)
			_exit(99);
		close(fd);
	}
	while (hold && access(hold, F_OK) != 0)
		nanosleep(&ts, NULL);
	return real(out, outlen, pw, pwlen, salt, ops, mem, alg);
}
EOF
shim=
${CC:-cc} -shared -fPIC -o pwcount.so pwcount.c -ldl 2>/dev/null &&
	shim=$scratch/pwcount.so
# shimmed: the shim is there and was seen working (set below).
shimmed=

# preload: the environment of one held attempt (in a subshell).
preload() {
	[ -n "$shim" ] || return 0
	PWCOUNT_LOG=$scratch/pw.log PWCOUNT_HOLD=$scratch/go LD_PRELOAD=$shim
	# The sanitizers' runtime wants to come first; it still works second.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	export PWCOUNT_LOG PWCOUNT_HOLD LD_PRELOAD ASAN_OPTIONS
}
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }

# burst N NAME FN: runs "FN I" for I = 1..N at once.  Waits until each
# has reached Argon2id (held there) or ended, then lets them go and
# waits for them all.  NAME.I.st gets the exit status of run I, NAME.I.err
# its stderr; $held the Argon2id runs before the release, $argon2 all.
burst() {
	_n=$1 _name=$2 _fn=$3
	rm -f go pw.log "$_name".*
	_i=0
	while [ $_i -lt "$_n" ]; do
		_i=$((_i + 1))
		( preload; "$_fn" $_i >"$_name.$_i.out" 2>"$_name.$_i.err"
		  echo $? >"$_name.$_i.st.tmp" && mv "$_name.$_i.st.tmp" "$_name.$_i.st" ) &
		echo $! >"$_name.$_i.bg"
	done
	_t=0
	while [ $(($(lines pw.log) + $(ls "$_name".*.st 2>/dev/null | wc -l))) -lt "$_n" ] &&
	    [ $_t -lt 3000 ]; do
		sleep 0.1
		_t=$((_t + 1))
	done
	held=$(lines pw.log)
	touch go
	_i=0
	while [ $_i -lt "$_n" ]; do
		_i=$((_i + 1))
		wait "$(cat "$_name.$_i.bg")"
		rm -f "$_name.$_i.bg"
	done
	argon2=$(lines pw.log)
	[ -n "$shim" ] && [ "$argon2" -gt 0 ] && shimmed=1
}
# statuses NAME N: the exit statuses of a burst, in order.
statuses() {
	_i=0 _s=
	while [ $_i -lt "$2" ]; do
		_i=$((_i + 1))
		_s="$_s $(cat "$1.$_i.st" 2>/dev/null || echo none)"
	done
	echo $_s
}
# errs_matching NAME PATTERN: how many runs of a burst said PATTERN.
errs_matching() { cat "$1".*.err | grep -Ec -- "$2"; }
# shim_same DESC EXPECTED ACTUAL: same, when the shim could count.
shim_same() {
	if [ -n "$shimmed" ]; then
		same "$@"
	else
		skip "$1" "the counting library could not be built or preloaded"
	fi
}
# events ADDR EVENT: how many EVENT entries ADDR has in the audit log.
events() { smail-admin audit "$1" 2>/dev/null | cut -f2 | grep -cx -- "$2"; }
state_of() { smail-admin list 2>/dev/null | awk -v a="$1" '$1 == a { print $2 }'; }
mail_for() { grep -l "^To: <$1>" $(ls -t "$SMAIL_DIR"/mail/new/*) 2>/dev/null | head -n 1; }
all77="77 77 77 77 77 77 77"

A=alice@agency.gov B=bob@agency.gov C=carol@agency.gov D=dave@agency.gov
E=erin@outside.example F=frank@agency.gov
new_portal
setcfg lock_attempts 3
# Seven commands wait for the store at once, slowly under valgrind.
setcfg store_wait 5m
for u in $A $B $C $D $F; do add_user $u 'Kite#Zebra42x'; done
pwfile wrong 'Fjord%Lynx48w'
pwfile new 'Tulip&River77q'
pwfile other 'Maple@Stone31z'
pwfile pw.$E 'Birch%Lake64m'
pwfile pw.$E.new 'Spruce&Delta93r'
pwfile code.txt 'Pelican-4471-Umber'
pwfile wrong.code 'Pelican-4471-Amber'
printf 'A body\n' >body.txt

# --- seven sign-ins at once, every password wrong ---
wrong_login() { smail-register --login --password-file wrong $A; }
burst 7 w wrong_login
same "seven wrong sign-ins at once: all refused (77)" "$all77" "$(statuses w 7)"
shim_same "only lock_attempts (3) Argon2id checks ran" 3 "$argon2"
same "the log holds three failed sign-ins" 3 "$(events $A login-failed)"
same "and one lock" 1 "$(events $A lock)"
same "alice is locked" locked "$(state_of $A)"
if [ -n "$shimmed" ]; then
	same "every answer is the lock's (the checked ones came back locked)" 7 \
		"$(errs_matching w 'account locked until')"
else
	skip "every answer is the lock's" "no counting library"
fi
run 77 "then the right password is refused" \
	smail-register --login --password-file pw.$A $A
err_has "locked" 'locked until'

# --- six wrong and one right at once ---
mixed_login() {
	if [ "$1" = 4 ]; then
		smail-register --login --password-file pw.$B $B
	else
		smail-register --login --password-file wrong $B
	fi
}
burst 7 m mixed_login
logins=$(events $B login)
same "bob ends locked" locked "$(state_of $B)"
same "one lock" 1 "$(events $B lock)"
check "nobody signed in after the lock was set" eval \
	'! smail-admin audit $B | cut -f2 | sed -n "/^lock$/,\$p" | grep -qx login'
check "at most lock_attempts checks ran between two successes ($argon2, $logins sign-ins)" \
	test "$argon2" -le $((3 * (1 + logins)))
if [ -n "$shimmed" ]; then
	# Every attempt was counted, or refused, before any came back: the
	# three counted ones came back to a locked account.
	same "with all seven under way at once, none signs in" "$all77" "$(statuses m 7)"
	same "and no sign-in is logged" 0 "$logins"
	same "three Argon2id checks ran" 3 "$argon2"
	run 77 "bob has no session" smail-register -u $B --status
else
	skip "with all seven under way at once, none signs in" "no counting library"
fi

# --- attempts killed after they were counted stay counted ---
if [ -n "$shim" ]; then
	rm -f go pw.log
	for i in 1 2 3; do
		( preload; exec smail-register --login --password-file wrong $C ) \
			>k.$i.out 2>k.$i.err &
		echo $! >k.$i.bg
	done
	t=0
	while [ "$(lines pw.log)" -lt 3 ] && [ $t -lt 3000 ]; do
		sleep 0.1
		t=$((t + 1))
	done
	same "three sign-ins reach Argon2id" 3 "$(lines pw.log)"
	for i in 1 2 3; do
		kill -9 "$(cat k.$i.bg)" 2>/dev/null
		wait "$(cat k.$i.bg)" 2>/dev/null
		rm -f k.$i.bg
	done
	ok "and are killed there"
	rm -f pw.log
	run 77 "then the right password is refused" \
		smail-register --login --password-file pw.$C $C
	err_has "by the lock the three counted attempts set" 'account locked until'
	same "carol is locked" locked "$(state_of $C)"
	same "with no failed sign-in logged (none came back)" 0 "$(events $C login-failed)"
	same "and one lock" 1 "$(events $C lock)"
else
	skip "killed attempts stay counted" "no counting library"
fi

# --- seven reset activations at once, every password a mismatch ---
run 0 "dave requests a reset" smail-reset --password-file new $D
cp "$(last_mail)" rs.dave
act() { smail-reset --password-file other $D <rs.dave; }
burst 7 r act
same "seven mismatched activations at once: all refused (77)" "$all77" "$(statuses r 7)"
shim_same "only three Argon2id checks ran (a third mismatch cancels)" 3 "$argon2"
run 77 "the request is cancelled: the requested password no longer activates" \
	smail-reset --password-file new $D <rs.dave
run 0 "dave's password is unchanged" smail-register --login --password-file pw.$D $D
same "mismatches did not lock dave" active "$(state_of $D)"

# --- seven registrations at once with a wrong access code ---
run 0 "frank signs in" smail-register --login --password-file pw.$F $F
run 0 "and invites erin with an access code" \
	smail-send -u $F --access-code-file code.txt -s 'Coded' -m body.txt $E
cp "$(mail_for $E)" inv.erin
reg() { smail-register --access-code-file wrong.code --password-file pw.$E $E <inv.erin; }
burst 7 c reg
same "seven wrong codes at once: all refused (77)" "$all77" "$(statuses c 7)"
shim_same "only three Argon2id checks ran" 3 "$argon2"
same "the log holds three failed attempts" 3 "$(events $E login-failed)"
same "and one lock" 1 "$(events $E lock)"
same "the invitation is locked" locked "$(state_of $E)"
run 77 "then the right code is refused" \
	smail-register --access-code-file code.txt --password-file pw.$E $E <inv.erin
err_has "by the code's lock" 'access codes locked until'
run 0 "smail-admin unlock" smail-admin unlock $E
run 0 "the right code registers" \
	smail-register --access-code-file code.txt --password-file pw.$E $E <inv.erin

# --- seven reset requests at once with a wrong access code ---
n=$(mail_count)
rst() { smail-reset --access-code-file wrong.code --password-file pw.$E.new $E; }
burst 7 cr rst
same "seven wrong codes at once: all refused (77)" "$all77" "$(statuses cr 7)"
shim_same "only three Argon2id checks ran" 3 "$argon2"
after() { smail-admin audit $E | cut -f2 | sed -n '/^register$/,$p' | grep -cx -- "$1"; }
same "three failed attempts logged since the registration" 3 "$(after login-failed)"
same "and one lock" 1 "$(after lock)"
same "no reset mail went out" "$n" "$(mail_count)"
run 77 "the right code is refused now" \
	smail-reset --access-code-file code.txt --password-file pw.$E.new $E
err_has "by the code's lock" 'access codes locked until'
run 0 "wrong codes do not lock erin's password" \
	smail-register --login --password-file pw.$E $E
same "erin is active" active "$(state_of $E)"
done_testing
