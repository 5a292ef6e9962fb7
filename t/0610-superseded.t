#!/bin/sh
# Superseded secrets leave no copy in the portal (SPEC §2, "Deleting";
# the security review's first finding).  For each change that replaces
# or removes records holding keys or content (registration, a password
# change, a reset, a deleted draft and message, an address book edited,
# a session ended), a copy of the portal is taken before and after:
# no 32-byte run of a record's old value may be found in any file of the
# portal after it (mail/ aside: it stands for the recipients' mailboxes),
# nor in a backup made afterwards, unless a live record still holds it.
# And the attacker's own search: a spent invitation token, or an old
# password, tried at every offset of every file, opens nothing.
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR

POKE=$SMAIL_BUILD/helpers/poke
SCAN=$SMAIL_BUILD/helpers/wrapscan
A=alice@agency.gov B=bob@partner.example C=carol@partner.example
new_portal
add_user $A 'Kite#Zebra42x' "Alice Agent"
add_user $C 'Tulip&River77q' "Carol Counsel"
pwfile pw.$B 'Hazel=Creek26w'
pwfile pw.$B.2 'Birch%Lake64m'
pwfile pw.$B.3 'Willow^Frost83p'
smail-register --login --password-file pw.$A $A 2>/dev/null
smail-register --login --password-file pw.$C $C 2>/dev/null

# The windows check, in Debian's python: the records of two copies of
# the portal (KEY<TAB>HEX dumps), then the files to search.
cat >superseded.py <<'EOF'
import os, sys

def windows(b):
    return {b[i:i + 32] for i in range(len(b) - 31)}

def records(path):
    out = {}
    for line in open(path):
        k, _, v = line.rstrip("\n").partition("\t")
        out[k] = bytes.fromhex(v)
    return out

before, after = records(sys.argv[1]), records(sys.argv[2])
live = set()
for v in after.values():
    live |= windows(v)
old = set()
for k, v in before.items():
    if after.get(k) != v:
        old |= windows(v)
# Runs of a few byte values (zeros, padding) are no one's secret.
old = {w for w in old - live if len(set(w)) > 8}
found = 0
for path in sys.argv[3:]:
    data = open(path, "rb").read()
    hit = old & windows(data)
    if hit:
        found += len(hit)
        print("%s: %d runs of superseded values" % (path, len(hit)))
print("searched for %d runs of superseded values: %d found" % (len(old), found),
      file=sys.stderr)
sys.exit(1 if found or not old else 0)
EOF

# snap NAME: a copy of the portal (no command runs meanwhile) and its
# records.
snap() {
	rm -rf "$1"
	cp -a "$SMAIL_DIR" "$1"
	SMAIL_DIR=$scratch/$1 $POKE dump '' >"$1.records"
}
# portal_files DIR: every file of a portal but the recipients' mail.
portal_files() { find "$1" -path "$1/mail" -prune -o -type f -print; }
# none_left WHAT BEFORE AFTER: no superseded run in AFTER's files, nor
# in a backup of it.
none_left() {
	(SMAIL_DIR=$scratch/$3 smail-admin backup "$3.tar" 2>/dev/null)
	"$PYTHON" superseded.py "$2.records" "$3.records" \
		$(portal_files "$scratch/$3") "$3.tar" >left 2>searched
	if [ $? -eq 0 ]; then
		ok "$1: no run of a superseded value in any file ($(cat searched))"
	else
		not_ok "$1: superseded values left behind"
		cat searched left | diag
	fi
}

# ====================================================================
# registration: the invitation wrap and the token's key
# ====================================================================
echo 'Waiting for bob' | smail-send -u $A -s 'For Bob' $B >m1.id 2>/dev/null
run 0 "alice writes to bob, who has no account" test -s m1.id
tok=$(token_of "$(last_mail)")
check "an invitation token was mailed" test -n "$tok"
snap inv
run 1 "the scanner finds the invitation wrap before registration (a positive control)" \
	sh -c "$SCAN token '$tok' $B '$scratch/inv' \$(find '$scratch/inv' -path '$scratch/inv/mail' -prune -o -type f -print)"
run 0 "bob registers" smail-register -t "$tok" --password-file pw.$B $B
snap reg
run 0 "the spent token with today's files opens nothing (every offset of every file)" \
	sh -c "$SCAN token '$tok' $B '$scratch/inv' \$(find '$scratch/reg' -path '$scratch/reg/mail' -prune -o -type f -print)"
[ "$_got" -eq 0 ] || diag <out
run 77 "nor does it register again" smail-register -t "$tok" --password-file pw.$B.2 $B
none_left "registration" inv reg
run 0 "bob reads the message that waited" smail-fetch -u $B "$(cat m1.id)"

# ====================================================================
# a password change: the old password's wrap
# ====================================================================
snap pw1
run 1 "the scanner opens bob's wrap with his password (a positive control)" \
	sh -c "$SCAN password pw.$B $B '$scratch/pw1' \$(find '$scratch/pw1' -path '$scratch/pw1/mail' -prune -o -type f -print)"
run 0 "bob changes his password" smail-register --change-password -u $B \
	--password-file pw.$B --new-password-file pw.$B.2
snap pw2
run 0 "the old password with today's files opens nothing" \
	sh -c "$SCAN password pw.$B $B '$scratch/pw1' \$(find '$scratch/pw2' -path '$scratch/pw2/mail' -prune -o -type f -print)"
[ "$_got" -eq 0 ] || diag <out
run 77 "nor signs in" smail-register --login --password-file pw.$B $B
none_left "a password change" pw1 pw2

# ====================================================================
# a reset: the request's transfer key, then the new wrap
# ====================================================================
run 0 "bob asks for a reset" smail-reset --password-file pw.$B.3 $B
snap rs1
rtok=$(token_of "$(last_mail)")
run 0 "and activates it" smail-reset -t "$rtok" --password-file pw.$B.3 $B
snap rs2
run 0 "the password before the reset opens nothing now" \
	sh -c "$SCAN password pw.$B.2 $B '$scratch/pw2' \$(find '$scratch/rs2' -path '$scratch/rs2/mail' -prune -o -type f -print)"
[ "$_got" -eq 0 ] || diag <out
none_left "a reset activated" rs1 rs2
run 0 "the new password signs in" smail-register --login --password-file pw.$B.3 $B

# ====================================================================
# deleted content: a draft, a message, an address-book entry, a session
# ====================================================================
echo 'Draft text Quokka' >draft.txt
smail-send -u $A --draft -s 'Draft Quokka' -m draft.txt $C >d1.id 2>/dev/null
echo 'Message text Narwhal' >msg.txt
smail-send -u $A -s 'Message Narwhal' -m msg.txt $C >m2.id 2>/dev/null
smail-inbox --user $C >/dev/null 2>&1
smail-addr -u $A -a dave@partner.example -n "Dave Deputy" 2>/dev/null
snap del1
run 0 "alice deletes her draft" smail-inbox --user $A -d "$(cat d1.id)"
run 0 "carol deletes the message" smail-inbox --user $C -d "$(cat m2.id)"
run 0 "alice removes a contact" smail-addr -u $A -r dave@partner.example
run 0 "carol signs out" smail-register --logout -u $C
snap del2
none_left "deletes (a draft, the message's last holder, a contact, a session)" \
	del1 del2
done_testing
