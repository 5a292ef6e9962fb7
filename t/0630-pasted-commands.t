#!/bin/sh
# Commands smail prints for a person to paste (the invitation, reset
# and notice mails, the hints in its errors) are shell-quoted: with
# hostile but valid local parts (` $ ' | & # { }) and a portal directory
# holding quotes, spaces, $(...) and backticks, each exact line run by
# sh runs nothing else, and still does its work.
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR

# A portal whose path must be quoted too.
SMAIL_DIR="$scratch/it's a \$(touch pwned-d1) \`touch pwned-d2\` portal"
export SMAIL_DIR
new_portal
check "a portal in a directory with quotes, spaces, \$( and backticks" \
	test -f "$SMAIL_DIR/config"
A=alice@agency.gov
add_user $A 'Kite#Zebra42x' "Alice Agent"
smail-register --login --password-file pw.$A $A 2>/dev/null
printf 'Pasted safely\n' >body.txt
pwfile pw.new 'Birch%Lake64m'
pwfile pw.reset 'Willow^Frost83p'
mkdir paste

# Valid addresses (smail-addr's rules: printable ASCII, no space and none
# of @<>(),;:"\[]/) that a shell would act on.
H1='a`touch${IFS}pwned1`b@x.example'
H2="o'brien@x.example"
H3='c|touch${IFS}pwned3|d@x.example'
H4='e&touch${IFS}pwned4&@x.example'
H5='#hash@x.example'
H6='s${HOME}$HOME@x.example'
H7='g`touch${IFS}pwned7`{x}@x.example'

# pwned: whatever a paste made (the probes name pwned*; the paste
# directory must stay empty).
pwned() { find "$scratch" -name 'pwned*' | head -n 3; ls -A paste; }
# paste DESC CODE LINE [INPUT]: runs LINE as sh would, in ./paste, with
# the password from SMAIL_PASSWORD_FILE (and INPUT on stdin); passes
# when it exits CODE and made nothing.
paste_run() {
	_d=$1 _c=$2 _l=$3 _in=${4:-/dev/null}
	(cd paste && SMAIL_PASSWORD_FILE=$PASTE_PW SMAIL_USER=$PASTE_USER \
		sh -c "$_l" <"$_in" >../out 2>../err)
	_got=$?
	sleep 0.2                       # a job sent to the background
	_made=$(pwned)
	if [ "$_got" -eq "$_c" ] && [ -z "$_made" ]; then
		ok "$_d"
	else
		not_ok "$_d (exit $_got, want $_c${_made:+; it made files})"
		{ printf 'line: %s\n' "$_l"; printf 'made: %s\n' "$_made"; } | diag
		diag <err
	fi
}
PASTE_PW=$scratch/pw.new PASTE_USER=
snap() { ls "$SMAIL_DIR/mail/new" >mails.before; }
# newmail: the one mail delivered since snap, copied to ./mail.
newmail() {
	_n=$(ls "$SMAIL_DIR/mail/new" | comm -13 mails.before - | head -n 1)
	[ -n "$_n" ] && cp "$SMAIL_DIR/mail/new/$_n" mail
}
# cmdline CMD [-t]: the command line for CMD the mail shows (with -t:
# the one that names the token, else the one to pipe the mail into).
cmdline() {
	if [ "${2:-}" = -t ]; then
		sed -n "s/^    \\($1 .* -t .*\\)\$/\\1/p" mail | head -n 1
	else
		sed -n "s/^    \\($1 .*\\)\$/\\1/p" mail | grep -v ' -t ' | head -n 1
	fi
}

# ---- invitations ----
for H in "$H1" "$H2" "$H3" "$H4" "$H5" "$H6"; do
	snap
	run 0 "a message to $H invites it" \
		smail-send -u $A -s 'Hello' -m body.txt "$H"
	check "its invitation mail arrived" newmail
	check "to that address" grep -qxF "To: <$H>" mail
	line=$(cmdline smail-register -t)
	pipe=$(cmdline smail-register)
	check "the mail shows both commands" test -n "$line" -a -n "$pipe"
	case $H in
	"$H2"|"$H4"|"$H6")
		paste_run "$H: the piped command, run by sh, registers and runs nothing else" \
			0 "$pipe" "$scratch/mail" ;;
	*)
		paste_run "$H: the command with -t, run by sh, registers and runs nothing else" \
			0 "$line" ;;
	esac
	run 0 "$H is active" smail-register -u "$H" --status
	check "as that very address" grep -qxF "$H" out
	run 0 "and reads the message" \
		smail-fetch --user "$H" "$(smail-inbox --user "$H" | cut -f1)"
	check "its body" grep -qx 'Pasted safely' out
done
same "the list holds every hostile address as given" 7 \
	"$(smail-admin list | cut -f1 | grep -cxF -e "$A" -e "$H1" -e "$H2" -e "$H3" \
		-e "$H4" -e "$H5" -e "$H6")"

# ---- notices ----
snap
run 0 "a second message to $H1" \
	smail-send -u $A -s 'Again' -m body.txt "$H1"
check "a notice arrived" newmail
line=$(sed -n 's/^    \(smail-fetch .*\)$/\1/p' mail)
check "it shows smail-fetch with -d" eval 'printf "%s" "$line" | grep -q " -d "'
PASTE_USER=$H1
paste_run "the notice's command, run by sh, fetches the message" 0 "$line"
check "its body" grep -qx 'Pasted safely' out
PASTE_USER=

# ---- resets ----
for H in "$H1" "$H2"; do
	snap
	run 0 "$H requests a reset" \
		smail-reset --password-file pw.reset "$H"
	check "the activation mail arrived" newmail
	line=$(cmdline smail-reset -t)
	PASTE_PW=$scratch/pw.reset
	paste_run "$H: the activation command, run by sh, activates the new password" \
		0 "$line"
	PASTE_PW=$scratch/pw.new
	run 0 "$H signs in with the new password" \
		smail-register --login --password-file pw.reset "$H"
done

# ---- hints: approve, without the recovery key in the portal ----
mv "$SMAIL_DIR/recovery.key" "$scratch/recovery.key"
snap
run 0 "$H3 requests a reset" smail-reset --password-file pw.reset "$H3"
newmail
pipe=$(cmdline smail-reset)
PASTE_PW=$scratch/pw.reset
(cd paste && SMAIL_PASSWORD_FILE=$PASTE_PW sh -c "$pipe" <../mail >../out 2>../err)
same "activation waits for the recovery key: 75" 75 "$?"
hint=$(sed -n 's/.*waits for the operator to run: //p' err)
check "the error names the command to run" test -n "$hint"
same "and nothing ran" "" "$(pwned)"
paste_run "the hint, run by sh with the key file, approves the reset" \
	0 "$(printf '%s' "$hint" | sed "s| FILE\$| $scratch/recovery.key|")"
PASTE_PW=$scratch/pw.new
run 0 "$H3 signs in with the new password" \
	smail-register --login --password-file pw.reset "$H3"

smail-admin invite "$H7" 2>/dev/null
run 75 "re-inviting $H7 without the recovery key: 75" smail-admin invite "$H7"
hint=$(sed -n 's/.*waits for the operator to run: //p' err)
check "the error names the command to run" test -n "$hint"
snap
paste_run "the hint, run by sh with the key file, re-invites" \
	0 "$(printf '%s' "$hint" | sed "s| FILE\$| $scratch/recovery.key|")"
check "a new invitation arrived" newmail
paste_run "and its command registers $H7" 0 "$(cmdline smail-register -t)"
run 0 "$H7 is active" smail-register -u "$H7" --status

# ---- hints: a group member that is not a contact ----
run 67 "adding $H1 to a group before it is a contact: 67" \
	smail-addr -u $A -g team -a "$H1"
hint=$(sed -n 's/.*add it first with //p' err)
check "the error names the command to run" test -n "$hint"
PASTE_USER=$A
paste_run "the hint, run by sh, adds the contact" 0 "$hint"
PASTE_USER=
run 0 "the book" smail-addr -u $A
check "holds $H1 as 'Last, First'" grep -qxF "Last, First$(printf '\t')$H1" out

same "no paste made anything, anywhere" "" "$(pwned)"
done_testing
