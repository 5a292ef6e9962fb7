# lib.sh: TAP helpers for smail's shell tests.  Each test runs in a
# fresh scratch directory with its own HOME, runtime directory and
# portal ($SMAIL_DIR), and drives the built commands end to end.

T_SRC=$(cd "$(dirname "$0")" && pwd)
: "${SMAIL_BUILD:=$(cd "$T_SRC/.." && pwd)/build}"
PATH="$SMAIL_BUILD:$PATH"
export PATH
unset SMAIL_USER SMAIL_PASSWORD_FILE SMAIL_NEW_PASSWORD_FILE XDG_DATA_HOME
# Debian's python, where aiosmtpd is installed.
PYTHON=/usr/bin/python3
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

scratch=$(mktemp -d "${TMPDIR:-/tmp}/smail-t.XXXXXX") || exit 1
trap 'cd /; rm -rf "$scratch"' EXIT
cd "$scratch" || exit 1
mkdir -m 700 home run
HOME=$scratch/home
XDG_RUNTIME_DIR=$scratch/run
SMAIL_DIR=$scratch/portal
export HOME XDG_RUNTIME_DIR SMAIL_DIR

t_n=0
t_fail=0

t_planned=
# The plan goes at the end (done_testing) unless a test gives one.
plan() { echo "1..$1"; t_planned=1; }
ok() { t_n=$((t_n + 1)); echo "ok $t_n - $*"; }
not_ok() {
	t_n=$((t_n + 1)); t_fail=$((t_fail + 1))
	echo "not ok $t_n - $*"
}
# diag: its input as TAP comments, control characters shown as '?' and a
# last line without a newline ended, so the next line of TAP stays whole.
diag() { tr '\r\033' '\n?' | awk '{ print "#   " $0 }'; }

# run CODE DESC CMD...: runs CMD (stdout to ./out, stderr to ./err) and
# passes when it exits with CODE.  A signal or a sanitizer report fails.
run() {
	_want=$1 _desc=$2
	shift 2
	"$@" >out 2>err
	_got=$?
	if [ "$_got" -eq "$_want" ] &&
	    ! grep -Eq 'Sanitizer|runtime error:|^==[0-9]+== ' err; then
		ok "$_desc"
	else
		not_ok "$_desc (exit $_got, want $_want)"
		diag <err
	fi
}

# skip DESC WHY: a test that cannot hold here, said so in TAP.
skip() { t_n=$((t_n + 1)); echo "ok $t_n - $1 # SKIP $2"; }
# Under valgrind (make check VALGRIND=1) every command takes a second
# or more, and /proc shows valgrind's own arguments: the few tests that
# time a command to the second, or read a command's argv, skip there.
slow() { [ -n "${SMAIL_VALGRIND:-}" ]; }

# check DESC CMD...: passes when the shell command succeeds.
check() {
	_desc=$1
	shift
	if "$@"; then ok "$_desc"; else not_ok "$_desc"; fi
}

# same DESC EXPECTED ACTUAL
same() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		printf 'expected: %s\n     got: %s\n' "$2" "$3" | diag
	fi
}

# err_has DESC PATTERN / out_has DESC PATTERN: grep -E on the last run.
err_has() {
	if grep -Eq -- "$2" err; then ok "$1"; else not_ok "$1"; diag <err; fi
}
out_has() {
	if grep -Eq -- "$2" out; then ok "$1"; else not_ok "$1"; diag <out; fi
}
# err_lines DESC N: the last run printed exactly N lines on stderr.
err_lines() { same "$1" "$2" "$(wc -l <err | tr -d ' ')"; }

done_testing() {
	[ -n "$t_planned" ] || echo "1..$t_n"
	[ "$t_fail" -eq 0 ]
	exit
}

# pwfile FILE PASSWORD: a 0600 password file.
pwfile() {
	(umask 077 && printf '%s\n' "$2" >"$1")
}

# new_portal: a portal at $SMAIL_DIR with the fast password hash (the
# production default stays "moderate") and second-scale settings added
# by the caller with setcfg.
new_portal() {
	smail-admin init --pwhash interactive 2>/dev/null
}
setcfg() { printf '%s = %s\n' "$1" "$2" >>"$SMAIL_DIR/config"; }

# last_mail: the newest notification delivered into the portal's Maildir.
last_mail() { ls -t "$SMAIL_DIR"/mail/new/* 2>/dev/null | head -n 1; }
mail_count() { ls "$SMAIL_DIR"/mail/new | wc -l | tr -d ' '; }
# token_of FILE: the token shown in a notification.
token_of() { grep -Eo 'sm[ir]-[A-Za-z0-9_-]{43}' "$1" | head -n 1; }

# add_user ADDR PASSWORD ["First Last"]: an active account.
add_user() {
	pwfile "pw.$1" "$2"
	if [ -n "${3:-}" ]; then
		smail-admin add -n "$3" --password-file "pw.$1" "$1" 2>/dev/null
	else
		smail-admin add --password-file "pw.$1" "$1" 2>/dev/null
	fi
}
