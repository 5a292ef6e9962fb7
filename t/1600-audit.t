#!/bin/sh
# smail-admin audit: the security log after a scripted series of
# events (TIME EVENT ACCOUNT ID, in order, never content), filtered by
# account, as JSON; and its hash chain: smail-admin check finds a
# removed entry, a changed entry and a changed head.  The head is signed
# with portal.key: a log cut back under a head rewritten without the key
# fails check.
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR

A=alice@agency.gov B=bob@partner.example E=erin@outside.example
new_portal
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
cat >poke.c <<'EOF'
#include <gdbm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int
main(int argc, char **argv)
{
	GDBM_FILE db;
	datum k, v, next;
	size_t n;
	long off;
	int rc = 0;

	if (argc < 4)
		return 64;
	db = gdbm_open(argv[1], 0, strcmp(argv[2], "keys") == 0 ? GDBM_READER :
	    GDBM_WRITER, 0600, NULL);
	if (!db) {
		fprintf(stderr, "%s: %s\n", argv[1], gdbm_strerror(gdbm_errno));
		return 66;
	}
	k.dptr = argv[3];
	k.dsize = (int)strlen(argv[3]);
	if (strcmp(argv[2], "keys") == 0) {
		n = strlen(argv[3]);
		for (k = gdbm_firstkey(db); k.dptr; k = next) {
			if ((size_t)k.dsize >= n && memcmp(k.dptr, argv[3], n) == 0)
				printf("%.*s\n", k.dsize, k.dptr);
			next = gdbm_nextkey(db, k);
			free(k.dptr);
		}
	} else if (strcmp(argv[2], "del") == 0) {
		if (gdbm_delete(db, k) != 0)
			rc = 66;
	} else if (strcmp(argv[2], "flip") == 0 && argc == 5) {
		v = gdbm_fetch(db, k);
		if (!v.dptr)
			rc = 66;
		else {
			off = strcmp(argv[4], "mid") == 0 ? v.dsize / 2 : atol(argv[4]);
			if (off < 0 || off >= v.dsize)
				rc = 65;
			else {
				v.dptr[off] ^= 0x01;
				if (gdbm_store(db, k, v, GDBM_REPLACE) != 0)
					rc = 74;
			}
			free(v.dptr);
		}
	} else
		rc = 64;
	gdbm_close(db);
	return rc;
}
EOF
poke=
${CC:-cc} -o poke poke.c -lgdbm 2>/dev/null && poke=$scratch/poke
db() { $poke "$SMAIL_DIR/store.db" "$@"; }

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
restore() { rm -rf "$SMAIL_DIR" && cp -a portal.good "$SMAIL_DIR"; }
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
	sh -c "$poke '$SMAIL_DIR/store.db' del $(sed -n "$((k + 1))p" entries) &&
	$poke '$SMAIL_DIR/store.db' del $(sed -n "$((k + 2))p" entries) &&
	$poke '$SMAIL_DIR/store.db' del $last"
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

done_testing
