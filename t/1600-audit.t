#!/bin/sh
# smail-admin audit: the security log after a scripted series of
# events (TIME EVENT ACCOUNT ID, in order, never content), filtered by
# account, as JSON; and its hash chain: smail-admin check finds a
# removed entry, a changed entry and a changed head.  The head is signed
# with portal.key: a log cut back under a head rewritten without the key
# fails check; one re-signed with the key passes check but not check
# --anchors, against the heads written outside the store (audit_anchor:
# a file here, and syslog through a socket of the test's own).
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR

A=alice@agency.gov B=bob@partner.example E=erin@outside.example
new_portal
setcfg audit_anchor "$scratch/anchors"
add_user $A 'Kite#Zebra42x' "Alice Agent"
add_user $B 'Tulip&River77q' "Bob Partner"
pwfile pw.$E 'Birch%Lake64m'
pwfile pw.wrong 'Wrong#Guess99z'
pwfile pw.$B.new 'Hazel=Creek26w'

skip() { ok "# SKIP $1"; }
send() { id=$(smail-send -u $A "$@" 2>send.err) || cat send.err >&2; }
iso='[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'
# The store, through GDBM (libgdbm-dev is a build dependency):
# "keys PREFIX" lists keys, "del KEY" deletes one, "flip KEY OFFSET|mid"
# changes one byte of a record.
poke=$SMAIL_BUILD/helpers/poke
db() { $poke "$@"; }

# --- the series ---
subj='Audit subject Marmoset' body='Audit body Gharial'
printf '%s\n' "$body" >body.txt
printf 'attached Pangolin\n' >notes-Ibex.txt
run 0 "alice signs in" smail-register --login --password-file pw.$A $A
for i in 1 2 3; do
	run 77 "bob, wrong password $i: 77" smail-register --login --password-file pw.wrong $B
done
err_has "the third locks" 'locked until'
run 0 "smail-admin list --json" smail-admin list --json
cp out list.json
run 0 "smail-admin list" smail-admin list
cp out list.tsv
cat >listjson.py <<'EOF2'
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8")]
bad, objs = [], []
for n, line in enumerate(open(sys.argv[2], encoding="utf-8")):
    try:
        o = json.loads(line)
    except ValueError as e:
        bad.append("line %d: %s" % (n + 1, e))
        continue
    if list(o) != ["addr", "state", "created"]:
        bad.append("line %d: keys %r" % (n + 1, list(o)))
    objs.append([o.get(k) for k in ("addr", "state", "created")])
if objs != rows:
    bad.append("not the TSV list: %r" % objs)
print("\n".join(bad))
EOF2
same "python's json: keys addr state created, as the TSV list" "" \
	"$("$PYTHON" listjson.py list.tsv list.json 2>&1)"
if command -v jq >/dev/null 2>&1; then
	same "jq reads the same list" "$(cat list.tsv)" \
		"$(jq -r '[.addr, .state, .created] | @tsv' list.json)"
else
	skip "jq is not installed"
fi
same "bob is locked there" "locked" \
	"$("$PYTHON" -c 'import json, sys
for l in open("list.json"):
    o = json.loads(l)
    if o["addr"] == sys.argv[1]:
        print(o["state"])' $B)"
run 0 "the operator unlocks bob" smail-admin unlock $B
run 0 "bob signs in" smail-register --login --password-file pw.$B $B
send -s "$subj" -a notes-Ibex.txt -m body.txt $E
M1=$id
run 0 "erin registers from the invitation" \
	smail-register --password-file pw.$E $E <"$(last_mail)"
send -s "$subj" -a notes-Ibex.txt -m body.txt $B
M2=$id
run 0 "bob reads it" smail-fetch -u $B "$M2"
run 0 "bob deletes it" smail-inbox --user $B -d "$M2"
send -s "$subj" -m body.txt $B
M3=$id
run 0 "alice recalls one" smail-send -u $A --recall "$M3"
run 0 "bob requests a reset" smail-reset --password-file pw.$B.new $B
cp "$(last_mail)" reset.mail
run 0 "and activates it" smail-reset --password-file pw.$B.new $B <reset.mail
run 0 "smail-admin purge" smail-admin purge
check "three messages sent" test -n "$M1" -a -n "$M2" -a -n "$M3"

# --- the log ---
run 0 "smail-admin audit" smail-admin audit
cp out audit
T=$(printf '\t')
same "each event, its account and message id, in order" \
"login	$A	
login-failed	$B	
login-failed	$B	
login-failed	$B	
lock	$B	
unlock	$B	
login	$B	
send	$A	$M1
register	$E	
send	$A	$M2
read	$B	$M2
delete	$B	$M2
send	$A	$M3
recall	$A	$M3
recovery	$B	
reset	$B	
purge		$M3" "$(cut -f2- audit)"
check "four TAB-separated fields a line" eval '! awk -F "\t" "NF != 4" audit | grep -q .'
check "TIME is UTC ISO 8601" eval '! cut -f1 audit | grep -Evx "$iso" | grep -q .'
check "and never goes back" test "$(cut -f1 audit)" = "$(cut -f1 audit | sort)"
for s in Marmoset 'Audit subject' Gharial 'Audit body' Pangolin Ibex notes-Ibex \
	'Kite#Zebra42x' 'Tulip&River77q' 'Wrong#Guess99z' 'Hazel=Creek26w' 'Birch%Lake64m' \
	"$(token_of reset.mail)"; do
	if grep -qaF -- "$s" audit; then
		not_ok "the log holds no '$s'"
	else
		ok "the log holds no '$s'"
	fi
done
check "nor a token" eval '! grep -Eq "sm[ir]-[A-Za-z0-9_-]{43}" audit'

run 0 "smail-admin audit ADDR" smail-admin audit $B
cp out audit.b
same "only bob's events" "$(awk -F '\t' -v a=$B '$3 == a' audit)" "$(cat audit.b)"
same "all ten of them" 10 "$(wc -l <audit.b | tr -d ' ')"
run 0 "smail-admin audit for erin" smail-admin audit $E
same "her registration" "register	$E	" "$(cut -f2- out)"
run 0 "an address given in another case (domain case-insensitive)" \
	smail-admin audit alice@AGENCY.GOV
same "alice's events" "$(awk -F '\t' -v a=$A '$3 == a' audit)" "$(cat out)"
run 0 "an address with no events: nothing" smail-admin audit nobody@nowhere.example
check "empty" test ! -s out
run 64 "two addresses: 64" smail-admin audit $A $B

# --- --json ---
run 0 "smail-admin audit --json" smail-admin audit --json
cp out audit.json
cat >auditjson.py <<'EOF'
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8")]
bad, objs = [], []
for n, line in enumerate(open(sys.argv[2], encoding="utf-8")):
    try:
        o = json.loads(line)
    except ValueError as e:
        bad.append("line %d: %s" % (n + 1, e))
        continue
    if list(o) != ["time", "event", "account", "id"]:
        bad.append("line %d: keys %r" % (n + 1, list(o)))
    objs.append([o.get(k) for k in ("time", "event", "account", "id")])
if objs != rows:
    bad.append("not the TSV log: %r" % objs)
print("\n".join(bad))
EOF
same "python's json: keys time event account id, the same entries" "" \
	"$("$PYTHON" auditjson.py audit audit.json 2>&1)"
if command -v jq >/dev/null 2>&1; then
	same "jq reads the same" "$(cat audit)" \
		"$(jq -r '[.time, .event, .account, .id] | @tsv' audit.json)"
else
	skip "jq is not installed"
fi
run 0 "--json with an address" smail-admin audit --json $E
same "one object" 1 "$(wc -l <out | tr -d ' ')"
same "erin's registration" "register $E" \
	"$("$PYTHON" -c 'import json,sys; o=json.loads(sys.stdin.read()); print(o["event"], o["account"])' <out)"

# --- the chain ---
run 0 "smail-admin check: the intact log passes" smail-admin check
if [ -z "$poke" ]; then
	skip "tampering with the log (no C compiler for the GDBM helper)"
	done_testing
fi
cp -a "$SMAIL_DIR" portal.good
cp anchors anchors.good
restore() {
	rm -rf "$SMAIL_DIR" && cp -a portal.good "$SMAIL_DIR" && cp anchors.good anchors
}
db keys a: | grep -v '^a:head$' | LC_ALL=C sort >entries
n=$(wc -l <entries | tr -d ' ')
mid=$(sed -n "$((n / 2))p" entries)
check "one a:SEQ record per entry ($n), and a:head" \
	test "$n" = "$(wc -l <audit | tr -d ' ')" -a "$(db keys a:head | wc -l | tr -d ' ')" = 1

check "delete $mid" db del "$mid"
run 65 "check: a removed entry, 65" smail-admin check
out_has "names the audit log's problem" '^audit	.*(missing|removed)'
run 65 "smail-admin audit says the chain is broken too" smail-admin audit
err_has "pointing at check" 'smail-admin check'

restore
run 0 "restored: check passes" smail-admin check
check "change one byte inside $mid" db flip "$mid" mid
run 65 "check: a changed entry, 65" smail-admin check
out_has "names the audit log's problem" '^audit	'

restore
last=$(tail -n 1 entries)
check "change one byte inside the last entry" db flip "$last" mid
run 65 "check: 65" smail-admin check
out_has "names the audit log's problem" '^audit	'

restore
check "change one byte of the hash in a:head" db flip a:head 20
run 65 "check: a changed head, 65" smail-admin check
out_has "names the audit log's problem" '^audit	'

restore
check "delete the last entry" db del "$last"
run 65 "check: 65" smail-admin check
out_has "names the audit log's problem" '^audit	'

# The head's count changed: check still ends, promptly, and says so.
# (The output is bounded, in case it lists a missing entry for ever.)
restore
check "change the high byte of a:head's count" db flip a:head 0
sh -c 'ulimit -f 2048; exec timeout 20 smail-admin check' >out 2>err
rc=$?
if [ "$rc" = 65 ]; then
	ok "check: 65, within 20 seconds"
else
	not_ok "check: 65, within 20 seconds (exit $rc; $(wc -l <out | tr -d ' ') lines of output)"
	head -n 3 out | diag
fi
out_has "names the audit log's problem" '^audit	'

restore
check "delete a:head" db del a:head
run 65 "check: a log without its head, 65" smail-admin check
out_has "names the audit log's problem" '^audit	'

restore
run 0 "the intact log again: check 0" smail-admin check
check "and no problem line" test ! -s out
run 0 "new events still chain on" smail-register --login --password-file pw.$A $A
run 0 "check 0" smail-admin check

# --- the head's signature ---
AH=$SMAIL_BUILD/helpers/audithead
restore
run 0 "smail-admin keys" smail-admin keys
pid=$(awk -F '\t' '$1 == "portal" { print $2 }' out)
fp=$(awk -F '\t' '$1 == "signing-key" { print $2 }' out)
check "init made the signing key" eval 'echo "$fp" | grep -Eqx "[0-9a-f]{16}"'
run 0 "the head" "$AH" "$SMAIL_DIR" head
same "names the last entry and carries a signature (104 bytes)" "$n 104" "$(cat out)"
k=$((n - 3))

"$AH" "$SMAIL_DIR" cut $k unsigned
run 65 "the last three entries dropped, the head rewritten unsigned: check 65" \
	smail-admin check
out_has "names the audit log's problem: not signed" '^audit	.*not signed'
same "and only that" 1 "$(wc -l <out | tr -d ' ')"
run 65 "smail-admin audit says so too" smail-admin audit
err_has "pointing at check" 'smail-admin check'

restore
"$AH" "$SMAIL_DIR" cut $k badsig
run 65 "the head rewritten with a wrong signature: check 65" smail-admin check
out_has "names the audit log's problem: the signature" '^audit	.*signature does not verify'

restore
check "delete the last three entries, keep the signed head" \
	sh -c "$poke del $(sed -n "$((k + 1))p" entries) &&
	$poke del $(sed -n "$((k + 2))p" entries) &&
	$poke del $last"
run 65 "check: the head names an entry that is gone, 65" smail-admin check
out_has "names the audit log's problem" "^audit	the head names entry $n, the last is $k"

restore
"$AH" "$SMAIL_DIR" cut $k short
run 65 "the head rewritten as a record of the wrong size: check 65" smail-admin check
out_has "names the audit log's problem" '^audit	the head record is damaged'

restore
mv "$SMAIL_DIR/portal.key" portal.key.saved
run 65 "portal.key gone, the head signed: check 65" smail-admin check
out_has "names portal.key" '^audit	.*portal.key'
mv portal.key.saved "$SMAIL_DIR/portal.key"

# --- the anchors ---
restore
iso_re='[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'
anchor_re="smail-audit-anchor portal=$pid seq=[1-9][0-9]* hash=[0-9a-f]{64} sig=[A-Za-z0-9_-]{86}"
check "audit_anchor = FILE: the commands wrote anchor lines" test -s anchors
check "each TIME COMMAND[PID]: smail-audit-anchor portal=ID seq=N hash=HEX sig=B64" \
	eval '! grep -Evx "$iso_re smail-[a-z]+\[[0-9]+\]: $anchor_re" anchors | grep -q .'
same "the last anchors the last entry" "$n" \
	"$(tail -n 1 anchors | sed 's/.* seq=\([0-9]*\) .*/\1/')"
same "a command that wrote no entry wrote no anchor (list, audit, check)" \
	"$(wc -l <anchors.good | tr -d ' ')" "$(wc -l <anchors | tr -d ' ')"
run 0 "check --anchors FILE: the intact log, 0" smail-admin check --anchors anchors
check "no problem line" test ! -s out
err_has "a note counts them" 'audit anchors? checked, up to entry '"$n"
run 0 "check --anchors - (standard input)" smail-admin check --anchors - <anchors
# As journalctl shows them, among other lines.
{
	echo "Dec 03 13:24:16 host sshd[100]: Accepted publickey for x"
	sed 's/^[^ ]* [^ ]*:/Dec 03 13:24:16 host smail-audit[4242]:/' anchors
	echo "Dec 03 13:24:17 host su[101]: session opened"
} >journal
run 0 "check --anchors: lines as journalctl prints them, others ignored" \
	smail-admin check --anchors journal

"$AH" "$SMAIL_DIR" cut $k sign
run 0 "the last three entries dropped, the head re-signed with portal.key: check 0" \
	smail-admin check
run 65 "but check --anchors: 65" smail-admin check --anchors anchors
# One anchor per command, for its last entry (a reset's activation
# writes two): each anchored entry past the cut is named.
gone=$(sed -n 's/.* seq=\([0-9]*\) .*/\1/p' anchors | awk -v k=$k '$1 > k' | sort -un)
for s in $gone; do
	out_has "names entry $s, anchored but gone" "^audit	entry $s is anchored .* not in the log"
done
same "and nothing else" "$(echo $gone | wc -w | tr -d ' ')" "$(wc -l <out | tr -d ' ')"
a1=$(echo $gone | cut -d ' ' -f 1)
i=$k
while [ $i -lt $a1 ]; do
	smail-admin -q unlock $B || break
	i=$((i + 1))
done
run 0 "new events on the cut log, up to entry $a1 again: check 0" smail-admin check
run 65 "check --anchors: 65" smail-admin check --anchors anchors
out_has "entry $a1 is not the one anchored" \
	"^audit	entry $a1 is not the one anchored .*rewritten"
check "no word of the anchors' signatures: portal.key made them" \
	eval '! grep -q "not signed by" out'

restore
line=$(tail -n 1 anchors)
bad=$(printf '%s\n' "$line" | sed 's/hash=[0-9a-f]*/hash=0000000000000000000000000000000000000000000000000000000000000000/')
printf '%s\n' "$bad" >>anchors
run 65 "a forged anchor line (another hash): 65" smail-admin check --anchors anchors
out_has "named as not signed by portal.key" "^audit	entry $n is not the one anchored .*not signed by portal.key"
restore
printf '%s\n' "$line" | sed 's/ sig=.*/ sig=short/' >>anchors
printf '%s\n' "$line" | sed "s/portal=$pid/portal=00000000000000000000000000000000/; s/seq=[0-9]*/seq=99999/" >>anchors
run 0 "a malformed anchor line and another portal's: left out, 0" \
	smail-admin check --anchors anchors
err_has "the malformed line is counted in a warning" 'do not parse'
run 0 "a file with no anchor of this portal: 0" smail-admin check --anchors body.txt
err_has "with a warning" 'no audit anchor of this portal'
run 66 "check --anchors with a missing file: 66" smail-admin check --anchors nosuch
run 64 "--anchors with another command: 64" smail-admin audit --anchors anchors

# A portal from before heads were signed: an unsigned head passes
# while there is no portal.key; its next entry makes the key and signs.
restore
"$AH" "$SMAIL_DIR" legacy
run 0 "a portal from before heads were signed: check 0" smail-admin check
err_has "with a note" 'not signed: it was written before heads were signed'
run 0 "the next entry" smail-admin unlock $B
run 0 "makes portal.key" test -f "$SMAIL_DIR/portal.key"
run 0 "and signs the head" "$AH" "$SMAIL_DIR" head
same "entry $((n + 1)), 104 bytes" "$((n + 1)) 104" "$(cat out)"
run 0 "check 0" smail-admin check
check "without a note" eval '! grep -q "not signed" err'
"$AH" "$SMAIL_DIR" cut $n unsigned
run 65 "cut back to the head from before, unsigned: portal.key is there, check 65" \
	smail-admin check
out_has "not signed" '^audit	the head is not signed, though portal.key is there'
# Such a portal that had made portal.key for a zip: until its next
# entry, check reports the head (smail(7) says so).
restore
"$AH" "$SMAIL_DIR" legacy keep
run 65 "a head from before, and portal.key from a zip: check 65" smail-admin check
out_has "saying the next entry signs it" 'the next entry signs it'
run 0 "the next entry" smail-admin unlock $B
run 0 "check 0" smail-admin check

# --- restore without portal.key ---
restore
run 0 "backup (without the recovery key, so without portal.key)" \
	smail-admin backup bk.tar
run 0 "restore" smail-admin restore bk.tar "$scratch/restored"
run 0 "the restored portal has a new portal.key" test -f "$scratch/restored/portal.key"
run 0 "check on the restored portal: 0 (its head signed by the new key)" \
	smail-admin -d "$scratch/restored" check
run 0 "and against the anchors" smail-admin -d "$scratch/restored" check --anchors anchors

# --- audit_anchor values ---
P2=$scratch/p2
run 0 "a second portal, audit_anchor left at syslog" smail-admin -d $P2 init --pwhash interactive
smail-admin -d $P2 add --password-file pw.$A $A 2>/dev/null
run 0 "an audited command, with whatever listens on /dev/log or nothing: 0" \
	smail-admin -q -d $P2 unlock $A
check "and nothing on stderr" test ! -s err
printf 'audit_anchor = none\n' >>$P2/config
run 0 "audit_anchor = none: 0" smail-admin -q -d $P2 unlock $A
check "quietly" test ! -s err
printf 'audit_anchor = %s\n' "$scratch/nodir/anchors" >>$P2/config
run 0 "an anchor file that cannot be written: the command still succeeds" \
	smail-admin -q -d $P2 unlock $A
err_has "with a warning naming the file and the entry" \
	"warning: $scratch/nodir/anchors: .*audit_anchor.*entry [0-9]+ .*not anchored"
mkfifo fifo
printf 'audit_anchor = %s\n' "$scratch/fifo" >>$P2/config
run 0 "an anchor file that is a FIFO nobody reads: not waited for" \
	timeout 20 smail-admin -q -d $P2 unlock $A
err_has "a warning" "warning: $scratch/fifo: .*not anchored"
printf 'audit_anchor = %s\n' "$scratch" >>$P2/config
run 0 "an anchor file that is a directory: the command succeeds" \
	smail-admin -q -d $P2 unlock $A
err_has "a warning" "warning: $scratch: .*not anchored"
: >p2.anchors
ln -s p2.anchors p2.link
printf 'audit_anchor = %s\n' "$scratch/p2.link" >>$P2/config
run 0 "an anchor file that is a symbolic link: the command succeeds" \
	smail-admin -q -d $P2 unlock $A
err_has "a warning" "warning: $scratch/p2.link: .*not anchored"
check "and the link's target is left alone" test ! -s p2.anchors
for v in syslog2 relative/file ''; do
	printf 'audit_anchor = %s\n' "$v" >>$P2/config
	run 78 "audit_anchor = '$v': 78" smail-admin -d $P2 list
	err_has "naming the key" "audit_anchor: '$v' is not syslog, none or an absolute path"
	sed -i '$d' $P2/config
done
printf 'audit_anchor = syslog\n' >>$P2/config

# syslog through a socket of the test's own at /dev/log: in a mount
# namespace whose /dev is a copy, where that can be made.
cat >listen.py <<'EOF2'
import os, signal, socket, sys
path, out, mode = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
open(out + ".ready", "w").close()
if mode == "deaf":
    signal.pause()
with open(out, "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536) + b"\n")
EOF2
cat >ns.sh <<'EOF2'
# ns.sh MODE CMD...: CMD with /dev/log a socket of ours: with MODE
# "read", what it gets goes to ./syslog.got; "deaf", it never reads;
# "none", there is none.  Exit 90: the namespace could not be made.
mkdir -p odev && mount --bind /dev odev && mount -t tmpfs -o mode=755 none /dev ||
	exit 90
for d in null zero full random urandom tty; do
	[ -e odev/$d ] || continue
	: >/dev/$d && mount --bind odev/$d /dev/$d || exit 90
done
# A short queue, so that a reader that does not read fills it at once.
echo 1 >/proc/sys/net/unix/max_dgram_qlen 2>/dev/null
mode=$1
shift
rm -f syslog.got syslog.got.ready
if [ "$mode" != none ]; then
	"$PYTHON" listen.py /dev/log syslog.got "$mode" &
	lp=$!
	i=0
	while [ ! -e syslog.got.ready ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fi
"$@"
rc=$?
[ "$mode" = read ] && sleep 0.3
[ "$mode" != none ] && kill $lp
exit $rc
EOF2
export PYTHON
if [ "$(id -u)" = 0 ]; then ns() { unshare -mn sh ns.sh "$@"; }
else ns() { unshare -rmn sh ns.sh "$@"; }
fi
if command -v unshare >/dev/null 2>&1 && ns none true 2>/dev/null; then
	run 0 "no /dev/log at all: the command succeeds" \
		ns none smail-admin -q -d $P2 unlock $A
	check "quietly" test ! -s err
	run 0 "a syslog socket: the command succeeds" ns read smail-admin -q -d $P2 unlock $A
	run 0 "the head" "$AH" $P2 head
	h2=$(cut -d ' ' -f 1 out)
	check "syslog got one anchor, authpriv.info, from smail-audit[PID]" \
		grep -Eqx "<86>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} smail-audit\[[0-9]+\]: smail-audit-anchor portal=[0-9a-f]{32} seq=$h2 hash=[0-9a-f]{64} sig=[A-Za-z0-9_-]{86}" syslog.got
	run 0 "check --anchors reads it" smail-admin -d $P2 check --anchors syslog.got
	err_has "one anchor" "1 audit anchor checked, up to entry $h2"
	t0=$(date +%s)
	run 0 "a syslog that never reads (its queue full): twelve commands" \
		ns deaf sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
			timeout 20 smail-admin -q -d "$1" unlock "$2" || exit 1; done' sh $P2 $A
	check "none of them waited for it" test $(($(date +%s) - t0)) -lt 60
else
	skip "syslog through /dev/log (no mount namespace here)" "unshare"
fi
done_testing
