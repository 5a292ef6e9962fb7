#!/bin/sh
# Expiry (-E, message_ttl, max_ttl), recall, the sender's delivery
# record (smail-inbox --sent, --json) and smail-admin purge: expired
# and recalled messages, space given back, dead sessions, expired
# invitation and reset tokens.  Durations are seconds here.
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR

A=alice@agency.gov B=bob@partner.example C=carol@partner.example
D=dave@outside.example F=frank@outside.example
new_portal
add_user $A 'Kite#Zebra42x' "Alice Agent"
add_user $B 'Tulip&River77q' "Bob Partner"
add_user $C 'Maple@Stone31z' "Carol Client"
pwfile pw.$D 'Cedar!Brook55k'
pwfile pw.$F 'Birch%Lake64m'
pwfile pw.$B.new 'Hazel=Creek26w'
for u in $A $B $C; do smail-register --login --password-file "pw.$u" $u 2>/dev/null; done

# --- helpers ---
# send ARGS...: smail-send as alice; the id into $id.
send() { id=$(smail-send -u $A "$@" 2>send.err) || cat send.err >&2; }
inbox() { smail-inbox --user "$1" 2>/dev/null | cut -f1; }
holds() { inbox "$1" | grep -qx -- "$2"; }
lacks() { ! holds "$1" "$2"; }
# sent_field ID RCPT N: field N of alice's --sent line for ID and RCPT.
sent_field() {
	smail-inbox --user $A --sent 2>/dev/null |
		awk -F '\t' -v id="$1" -v r="$2" -v n="$3" '$1 == id && $3 == r { print $n }'
}
state() { sent_field "$1" "$2" 4; }
when() { sent_field "$1" "$2" 5; }
iso='[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'
skip() { ok "# SKIP $1"; }
# The store, through GDBM (libgdbm-dev is a build dependency):
# "keys PREFIX" lists keys.
poke=$SMAIL_BUILD/helpers/poke
keys() { $poke keys "$1" | wc -l | tr -d ' '; }
# records ID: how many m:, c:, k:, r: and R: records message ID has.
records() { echo "$(keys "m:$1") $(keys "c:$1:") $(keys "k:$1:") $(keys "r:$1") $(keys "R:$1")"; }
size() { wc -c <"$1" | tr -d ' '; }

printf 'Plain body\n' >body.txt

# --- expiry ---
run 64 "-E of something not a duration: 64" smail-send -u $A -E soon -m body.txt $B
run 64 "-E 0: 64" smail-send -u $A -E 0 -m body.txt $B
send -s 'Lives long' -E 1h -m body.txt $B
ML=$id
setcfg message_ttl 2s
send -s 'Default ttl' -m body.txt $B
MT=$id
setcfg message_ttl 30d
setcfg max_ttl 2s
run 0 "-E longer than max_ttl: still sent" smail-send -u $A -s 'Capped' -E 30d -m body.txt $B
MX=$(cat out)
setcfg max_ttl 3650d
t0=$(date +%s)
send -s 'Expires soon' -E 2s -m body.txt $B $C
ME=$id
smail-inbox --user $B >list.early 2>/dev/null
smail-inbox --user $A --sent >sent.early 2>/dev/null
# (A slow run, under valgrind, may not get to look within 2 seconds.)
if [ $(($(date +%s) - t0)) -le 1 ]; then
	check "before it expires, bob lists the -E 2s message" grep -q "^$ME	" list.early
	same "and --sent says notified, for both recipients" "notified notified" \
		"$(awk -F '\t' -v id="$ME" '$1 == id { print $4 }' sent.early | tr '\n' ' ' | sed 's/ $//')"
else
	skip "before it expires, bob lists the -E 2s message (too slow a run to look in time)"
fi
check "four messages sent" test -n "$ME" -a -n "$ML" -a -n "$MT" -a -n "$MX"
sleep 3
check "-E 2s: gone from bob's listing" lacks $B "$ME"
check "and from carol's" lacks $C "$ME"
check "message_ttl 2s as the default: gone" lacks $B "$MT"
check "max_ttl 2s caps -E 30d: gone" lacks $B "$MX"
check "-E 1h: still listed" holds $B "$ML"
run 66 "fetching the expired message: 66" smail-fetch -u $B "$ME"
err_has "'expired on DATE', naming it" "$ME: .*expired on $iso"
check "and nothing on stdout" test ! -s out
run 66 "carol neither" smail-fetch -u $C "$ME"
err_has "expired on" "expired on $iso"
run 66 "the message_ttl one: 66" smail-fetch -u $B "$MT"
err_has "expired on" "expired on $iso"
run 66 "the capped one: 66" smail-fetch -u $B "$MX"
err_has "expired on" "expired on $iso"
run 66 "-z of it: 66" smail-fetch -u $B -z -o x.zip "$ME"
check "writes no zip" test ! -e x.zip
run 66 "-a of it: 66" smail-fetch -u $B -a x "$ME"
run 0 "the long-lived one still reads" smail-fetch -u $B "$ML"
same "--sent: expired, for each recipient" "expired expired expired expired" \
	"$(state "$ME" $B) $(state "$ME" $C) $(state "$MT" $B) $(state "$MX" $B)"
same "and read for the one bob read" read "$(state "$ML" $B)"

# --- recall ---
printf 'Recalled body Capybara\n' >recall.txt
head -c 150000 /dev/urandom >recall.bin
send -s 'To recall' -a recall.bin -m recall.txt $B $C
MR=$id
if [ -n "$poke" ]; then
	check "its chunks are stored" test "$(keys "c:$MR:")" -gt 0
else
	skip "its chunks are stored (no C compiler for the GDBM helper)"
fi
run 77 "a recipient cannot recall it: 77" smail-send -u $B --recall "$MR"
err_has "only its sender" 'only its sender'
run 77 "nor can another account" smail-send -u $C --recall "$MR"
err_has "only its sender" 'only its sender'
check "still listed" holds $B "$MR"
run 66 "recalling an unknown id: 66" smail-send -u $A --recall nosuchmessage0000
run 64 "--recall with a recipient: 64" smail-send -u $A --recall "$MR" $B
run 0 "the sender recalls it" smail-send -u $A --recall "$MR"
run 66 "a recipient fetching it: 66" smail-fetch -u $B "$MR"
err_has "'recalled by the sender on DATE'" "$MR: .*recalled by the sender on $iso"
# Carol has not listed her messages since it came: it is still in her
# queue, not her index.  She is a recipient all the same.
run 66 "a recipient who had not listed it yet: 66" smail-fetch -u $C "$MR"
err_has "is told 'recalled by the sender on DATE' too" "$MR: .*recalled by the sender on $iso"
check "it left bob's listing" lacks $B "$MR"
check "and carol's" lacks $C "$MR"
if [ -n "$poke" ]; then
	same "its content is wiped at once: no c:, k: or m: record" "0 0 0" \
		"$(keys "c:$MR:") $(keys "k:$MR:") $(keys "m:$MR")"
else
	skip "its content is wiped (no C compiler for the GDBM helper)"
fi
same "--sent: recalled, for both" "recalled recalled" "$(state "$MR" $B) $(state "$MR" $C)"

# --- the delivery record ---
ssubj='Sent subject Kinkajou' sbody='Sent body Jabiru'
printf '%s\n' "$sbody" >sent.txt
send -s "$ssubj" -m sent.txt $B $D
MS=$id
run 0 "smail-inbox --sent" smail-inbox --user $A --sent
cp out sent1
same "one line per recipient" 2 "$(grep -c "^$MS	" sent1)"
check "each of 5 TAB-separated fields" \
	eval '! awk -F "\t" "NF != 5" sent1 | grep -q .'
check "ID DATE RCPT STATE WHEN, the dates UTC ISO 8601" \
	eval '! grep -Evx "[A-Za-z0-9_-]+	$iso	[^	]+	(invited|notified|read|deleted|expired|recalled)	$iso" sent1 | grep -q .'
same "the registered recipient: notified" notified "$(state "$MS" $B)"
same "the unknown one: invited" invited "$(state "$MS" $D)"
same "DATE is the message's date" "$(smail-inbox --user $B 2>/dev/null | awk -F '\t' -v id="$MS" '$1 == id { print $2 }')" \
	"$(sent_field "$MS" $B 2)"
w1=$(when "$MS" $B) wd1=$(when "$MS" $D)
sleep 1
smail-fetch -u $B "$MS" >/dev/null 2>&1
same "read after the recipient fetches it" read "$(state "$MS" $B)"
w2=$(when "$MS" $B)
check "WHEN moved forward ($w1 < $w2)" test "$w1" \< "$w2"
same "the invited one is still invited" invited "$(state "$MS" $D)"
sleep 1
smail-fetch -u $B "$MS" >/dev/null 2>&1
same "a second read changes nothing" "read $w2" "$(state "$MS" $B) $(when "$MS" $B)"
run 0 "bob deletes it" smail-inbox --user $B -d "$MS"
same "deleted after it deletes" deleted "$(state "$MS" $B)"
w3=$(when "$MS" $B)
check "WHEN moved forward ($w2 < $w3)" test "$w2" \< "$w3"
sleep 1
run 0 "alice recalls it" smail-send -u $A --recall "$MS"
same "the invited recipient: recalled" recalled "$(state "$MS" $D)"
check "WHEN moved forward ($wd1 < $(when "$MS" $D))" test "$wd1" \< "$(when "$MS" $D)"
same "bob deleted it before: still deleted" "deleted $w3" "$(state "$MS" $B) $(when "$MS" $B)"
run 0 "--sent" smail-inbox --user $A --sent
cp out sent2
check "holds no subject" eval '! grep -qF -e Kinkajou -e "Sent subject" -e "To recall" -e Capped sent2'
check "and no body" eval '! grep -qF -e Jabiru -e Capybara -e "Plain body" sent2'
run 0 "--sent -n 1: the newest message only" smail-inbox --user $A --sent -n 1
same "its two lines" "$MS $MS" "$(cut -f1 out | tr '\n' ' ' | sed 's/ $//')"
run 0 "bob sent nothing: --sent is empty" smail-inbox --user $B --sent
check "no line" test ! -s out
run 0 "the invited recipient registers" smail-register --password-file pw.$D $D \
	<"$(grep -l "^To: <$D>" "$SMAIL_DIR"/mail/new/* | head -n 1)"
check "and finds no recalled message waiting" lacks $D "$MS"
run 66 "fetching it: 66" smail-fetch -u $D "$MS"
err_has "recalled by the sender" 'recalled by the sender on'

# --- --sent --json ---
run 0 "--sent --json" smail-inbox --user $A --sent --json
cp out sent.json
cat >sentjson.py <<'EOF'
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8")]
bad = []
objs = []
for n, line in enumerate(open(sys.argv[2], encoding="utf-8")):
    try:
        o = json.loads(line)
    except ValueError as e:
        bad.append("line %d: %s" % (n + 1, e))
        continue
    if list(o) != ["id", "date", "rcpt", "state", "when"]:
        bad.append("line %d: keys %r" % (n + 1, list(o)))
    objs.append([o.get(k) for k in ("id", "date", "rcpt", "state", "when")])
if objs != rows:
    bad.append("not the TSV listing: %r" % objs)
print("\n".join(bad))
EOF
same "python's json: one object a line, keys id date rcpt state when, as the TSV" "" \
	"$("$PYTHON" sentjson.py sent2 sent.json 2>&1)"
if command -v jq >/dev/null 2>&1; then
	same "jq reads the same fields" "$(cat sent2)" \
		"$(jq -r '[.id, .date, .rcpt, .state, .when] | @tsv' sent.json)"
else
	skip "jq is not installed"
fi

# --- --json for the other listings: strings exact ---
# A subject with a TAB, quotes, a backslash, a newline, non-ASCII text
# and a control character: TSV turns TAB, newline and every other
# control character into spaces, JSON keeps everything.
printf 'Tab\there "quoted" back\\slash\nnew line \303\234berblick \346\241\210\344\273\266 \001ctl' >jsubj
jsubj=$(cat jsubj)
printf 'att\n' >att.txt
send -s "$jsubj" -a att.txt -m body.txt $B
MJ=$id
run 0 "smail-inbox --json" smail-inbox --user $B --json
cp out inbox.json
run 0 "smail-inbox (TSV)" smail-inbox --user $B
cp out inbox.tsv
same "the TSV line: TAB, newline and ^A became spaces" \
	"$(printf '%s\tNA\t%s\t%s' "$MJ" $A "$(tr '\t\n\001' '   ' <jsubj)")" \
	"$(grep "^$MJ	" inbox.tsv | cut -f1,3-)"
run 0 "a draft with two recipients and that subject" \
	smail-send -u $A --draft -s "$jsubj" -m body.txt $B $C
DJ=$(cat out)
run 0 "smail-inbox --drafts --json" smail-inbox --user $A --drafts --json
cp out drafts.json
cat >listjson.py <<'EOF2'
import json, sys
subj = open("jsubj", "rb").read().decode("utf-8")
kind, path, want_id = sys.argv[1], sys.argv[2], sys.argv[3]
keys = {"inbox": ["id", "date", "flags", "from", "subject"],
        "drafts": ["id", "date", "to", "subject"]}[kind]
bad, found = [], None
for n, line in enumerate(open(path, encoding="utf-8")):
    try:
        o = json.loads(line)
    except ValueError as e:
        bad.append("line %d: %s" % (n + 1, e))
        continue
    if list(o) != keys:
        bad.append("line %d: keys %r" % (n + 1, list(o)))
    if o.get("id") == want_id:
        found = o
if found is None:
    bad.append("no object for " + want_id)
elif found["subject"] != subj:
    bad.append("subject %r" % found["subject"])
elif kind == "inbox" and (found["flags"], found["from"]) != ("NA", sys.argv[4]):
    bad.append("flags, from: %r" % found)
elif kind == "drafts" and [a.strip() for a in found["to"].split(",")] != sys.argv[4:]:
    bad.append("to: %r" % found["to"])
print("\n".join(bad))
EOF2
same "python's json: the inbox object, keys id date flags from subject, the subject exact" "" \
	"$("$PYTHON" listjson.py inbox inbox.json "$MJ" $A 2>&1)"
same "the drafts object, keys id date to subject, exact" "" \
	"$("$PYTHON" listjson.py drafts drafts.json "$DJ" $B $C 2>&1)"
if command -v jq >/dev/null 2>&1; then
	jq -j --arg id "$MJ" 'select(.id == $id) | .subject' inbox.json >jq.subj
	check "jq reads the inbox subject byte for byte" cmp -s jq.subj jsubj
	jq -j --arg id "$DJ" 'select(.id == $id) | .subject' drafts.json >jq.subj
	check "and the draft's" cmp -s jq.subj jsubj
	same "jq: every inbox object has the five keys" "" \
		"$(jq -c 'select((keys_unsorted) != ["id","date","flags","from","subject"])' inbox.json)"
else
	skip "jq is not installed"
fi
smail-inbox --user $A -d "$DJ" 2>/dev/null

# --- purge: what is over goes ---
head -c 2097152 /dev/urandom >big.bin
send -s 'Large one' -a big.bin -m body.txt $B $C
MB=$id
s_big=$(size "$SMAIL_DIR/store.0.db")
check "the store holds the 2 MiB attachment ($s_big bytes)" test "$s_big" -gt 2097152
run 0 "bob deletes the large message" smail-inbox --user $B -d "$MB"
run 0 "carol, the last holder, too" smail-inbox --user $C -d "$MB"
run 0 "smail-admin purge" smail-admin purge
s_after=$(size "$SMAIL_DIR/store.0.db")
check "the store shrank by the attachment ($s_big -> $s_after bytes)" \
	test "$s_after" -lt $((s_big - 2000000))
if [ -n "$poke" ]; then
	for m in "$ME" "$MT" "$MX"; do
		same "expired $m: no m:, c:, k:, r: or R: record" "0 0 0 0 0" "$(records "$m")"
	done
	# The recall's mark (R:, a time) stays, so that a recipient who
	# still has the id is told why it is gone.
	for m in "$MR" "$MS"; do
		same "recalled $m: no m:, c:, k: or r: record; the R: mark stays" \
		    "0 0 0 0 1" "$(records "$m")"
	done
	same "the large deleted one: none either" "0 0 0 0 0" "$(records "$MB")"
	check "the live message keeps its records" test "$(keys "m:$ML")" = 1 -a "$(keys "c:$ML:")" -gt 0
else
	skip "records gone (no C compiler for the GDBM helper)"
fi
run 0 "the live message still reads" smail-fetch -u $B "$ML"
same "whole" 'Plain body' "$(sed '1,/^$/d' out)"
run 0 "smail-admin check after the purge" smail-admin check
run 66 "the purged recalled message: still 66 for its recipient" smail-fetch -u $C "$MR"
err_has "who is told it was recalled" 'recalled by the sender on'

run 0 "purge again, nothing to do" smail-admin purge
run 0 "check" smail-admin check

# --- purge: dead sessions, expired tokens ---
setcfg invite_ttl 2s
setcfg reset_ttl 2s
send -s 'For frank' -m body.txt $F
MF=$id
inv=$(grep -l "^To: <$F>" "$SMAIL_DIR"/mail/new/* | head -n 1)
cp "$inv" invite.mail
run 0 "bob requests a password reset" smail-reset --password-file pw.$B.new $B
cp "$(last_mail)" reset.mail
check "the reset mail holds a token" test -n "$(token_of reset.mail)"
setcfg session_idle 2s
if [ -n "$poke" ]; then
	check "live sessions are stored" test "$(keys sess:)" -gt 0
fi
sleep 3
run 0 "smail-admin purge" smail-admin purge
err_has "it counts the sessions and tokens it removed" \
	'[1-9][0-9]* sessions? and [1-9][0-9]* tokens?'
if [ -n "$poke" ]; then
	same "no session record is left" 0 "$(keys sess:)"
else
	skip "no session record is left (no C compiler for the GDBM helper)"
fi
setcfg session_idle 15m
setcfg invite_ttl 14d
setcfg reset_ttl 24h
run 77 "the expired invitation token: 77" smail-register --password-file pw.$F $F <invite.mail
run 77 "the expired reset token: 77" smail-reset --password-file pw.$B.new $B <reset.mail
run 0 "bob signs in with his old password" smail-register --login --password-file pw.$B $B
run 0 "run smail-admin check" smail-admin check
# An expired invitation is renewed by the next message.
run 0 "a new message to frank" smail-send -u $A --password-file pw.$A -s 'Again' -m body.txt $F
inv2=$(last_mail)
check "brings a new token" test "$(token_of "$inv2")" != "$(token_of invite.mail)" -a -n "$(token_of "$inv2")"
run 0 "which registers" smail-register --password-file pw.$F $F <"$inv2"
run 0 "and frank reads the message that waited for him" smail-fetch -u $F "$MF"
done_testing
