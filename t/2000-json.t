#!/bin/sh
# --json, everywhere it is offered, read with jq: smail-inbox (messages,
# -u, -n, --drafts, --sent), smail-admin list and audit (also for one
# account), smail-addr (contacts and -G).  Every line is one JSON object
# that parses alone; the keys are the documented ones with the
# documented types; the records are those of the TAB-separated output,
# in the same order; and awkward text (quotes, backslashes, TAB, CR,
# LF, other control characters, UTF-8, bytes that are not UTF-8) comes
# back exactly, or as U+FFFD where it is not UTF-8.
. "$(dirname "$0")/lib.sh"

if ! command -v jq >/dev/null 2>&1; then
	echo "1..0 # SKIP jq is not installed (tools/deps installs it)"
	exit 0
fi

exec </dev/null
unset VISUAL EDITOR

A=alice@agency.gov B=bob@partner.example C=carol@partner.example
# Stored as given: a local part with the characters an address may have
# that JSON or a shell could trip on, a domain in mixed case.
Q="o'brien+case#1{x}&y@Partner.EXAMPLE"
# The audit log names accounts with the domain in lower case.
Qc="${Q%@*}@$(printf '%s' "${Q##*@}" | tr 'A-Z' 'a-z')"
I=ivan@outside.example L=lena@agency.gov
new_portal
add_user $A 'Kite#Zebra42x' 'Alice Agent'
add_user $B 'Tulip&River77q' 'Bob Partner'
add_user $C 'Maple@Stone31z' 'Carol Client'
add_user "$Q" 'Cedar!Brook55k'
add_user $L 'Birch%Lake64m' 'Lena Locked'
for u in $A $B $C "$Q"; do
	smail-register --login --password-file "pw.$u" "$u" 2>/dev/null
done
# lena: three wrong passwords lock her.
pwfile pw.wrong 'Wrong#Guess99z'
for i in 1 2 3; do
	smail-register --login --password-file pw.wrong $L >/dev/null 2>&1
done

# --- helpers ---
TAB=$(printf '\t')
FFFD=$(printf '\357\277\275')
ID_RE='^[A-Za-z0-9_][A-Za-z0-9_-]*$'
TIME_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
# json_ok WHAT FILE N KEYS: FILE (a --json output) holds N lines, each
# one JSON object that parses alone, whose sorted keys are KEYS (a jq
# array); it is valid UTF-8 and holds no raw control character.
json_ok() {
	_w=$1 _f=$2 _n=$3 _k=$4
	same "$_w: one line per record ($_n)" "$_n" "$(wc -l <"$_f" | tr -d ' ')"
	if jq -e -R -s 'split("\n") | .[:-1] | map(fromjson | type == "object") | all' \
		"$_f" >/dev/null 2>jq.err; then
		ok "$_w: every line is one JSON object that parses alone"
	else
		not_ok "$_w: every line is one JSON object that parses alone"
		diag <jq.err
	fi
	if iconv -f UTF-8 -t UTF-8 "$_f" >/dev/null 2>&1; then
		ok "$_w: valid UTF-8"
	else
		not_ok "$_w: valid UTF-8"
	fi
	if tr -d '\n' <"$_f" | LC_ALL=C grep -q '[[:cntrl:]]'; then
		not_ok "$_w: no raw control character"
		LC_ALL=C grep -n '[[:cntrl:]]' "$_f" | od -c | head -n 5 | diag
	else
		ok "$_w: no raw control character"
	fi
	if jq -e -s --argjson k "$_k" 'all(.[]; (keys == $k))' "$_f" >/dev/null 2>jq.err; then
		ok "$_w: the keys are exactly $_k"
	else
		not_ok "$_w: the keys are exactly $_k"
		jq -c keys "$_f" 2>&1 | sort -u | diag
	fi
}
# jq_all DESC FILE FILTER: FILTER is true of every object in FILE.
jq_all() {
	if [ -s "$2" ] && jq -e -s "all(.[]; $3)" "$2" >/dev/null 2>jq.err; then
		ok "$1"
	else
		not_ok "$1"
		diag <jq.err
	fi
}
nl_sorted() { printf '%s\n' "$@" | LC_ALL=C sort; }
# same_file DESC EXPECTED-FILE ACTUAL-FILE
same_file() {
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1"
		diff "$2" "$3" | od -c | head -n 20 | diag
	fi
}
# field_of FILE ID KEY: the exact value of KEY in the object whose id is
# ID, without a newline added (jq -j).
field_of() { jq -j --arg id "$2" "select(.id == \$id) | .$3" "$1"; }
# sp: the jq filter that makes a text field of a TSV line from a JSON
# string: every control character (C0, DEL, C1; TAB, CR and LF among
# them) turned into a space, as smail(7) has it.
sp='gsub("[\u0000-\u001f\u007f-\u009f]"; " ")'

# ============ messages with awkward subjects ============
# Each subject is kept in a file, as the exact bytes expected back.
printf 'He said "hi" \\ back\\slash \\u0041 \\n \\" /slash/ {"json": [1]}' >s.quotes
printf 'tab\there cr\rhere lf\nhere \001 \033[1mbold\033[0m del\177 bs\b ff\f end' >s.ctl
printf '\303\234berblick \342\200\224 \346\241\210\344\273\266 \360\237\230\200 caf\303\251' >s.utf8
: >s.empty
# Bytes that are no UTF-8: each becomes U+FFFD (smail-inbox(1)).
printf 'bad \377\376 overlong \300\257 surrogate \355\240\200 cut \343\201' >s.bad
printf 'bad %s%s overlong %s%s surrogate %s%s%s cut %s%s' \
	"$FFFD" "$FFFD" "$FFFD" "$FFFD" "$FFFD" "$FFFD" "$FFFD" "$FFFD" "$FFFD" >s.bad.want
printf 'a body\n' >body.txt
printf 'attached\n' >att.txt
# send FROM SUBJECT-FILE ARGS...: smail-send -s with the file's exact
# bytes as the subject; the id into $id.
send() {
	_from=$1 _sf=$2
	shift 2
	_s=$(cat "$_sf"; echo x)
	_s=${_s%x}
	id=$(smail-send -u "$_from" -s "$_s" -m body.txt "$@" 2>send.err)
	[ -n "$id" ] || diag <send.err
}
send $A s.quotes $B;		M_QUOTES=$id
send $A s.ctl $B;		M_CTL=$id
send $C s.utf8 -a att.txt $B;	M_UTF8=$id
send $A s.empty $B;		M_EMPTY=$id
send "$Q" s.bad $B;		M_BAD=$id
check "(five messages sent)" test -n "$M_QUOTES" -a -n "$M_CTL" -a -n "$M_UTF8" \
	-a -n "$M_EMPTY" -a -n "$M_BAD"
smail-fetch -u $B "$M_QUOTES" >/dev/null 2>&1

run 0 "smail-inbox --json" smail-inbox --user $B --json
cp out inbox.json
run 0 "smail-inbox (TSV)" smail-inbox --user $B
cp out inbox.tsv
n=$(wc -l <inbox.tsv | tr -d ' ')
same "(the TSV lists the five)" 5 "$n"
json_ok "inbox" inbox.json "$n" '["date","flags","from","id","subject"]'
jq_all "inbox: every value is a string" inbox.json 'all(.[]; type == "string")'
jq_all "inbox: ids as documented" inbox.json ".id | test(\"$ID_RE\")"
jq_all "inbox: dates UTC ISO 8601" inbox.json ".date | test(\"$TIME_RE\")"
jq_all "inbox: flags N|R then A|-" inbox.json '.flags | test("^[NR][A-]$")'
same "inbox: the same messages in the same order as the TSV" \
	"$(cut -f1 inbox.tsv)" "$(jq -r .id inbox.json)"
# The TSV is the JSON with control characters turned into spaces (but for the
# message that holds bytes that are no UTF-8, which the TSV prints as
# they are).
grep -v "^$M_BAD$TAB" inbox.tsv >want.tsv
jq -r --arg bad "$M_BAD" "select(.id != \$bad) |
	[.id, .date, .flags, .from, (.subject | $sp)] | join(\"\t\")" inbox.json >got.tsv
same_file "inbox: every field as in the TSV" want.tsv got.tsv
same "inbox: the fetched message is read (R), the others new" "R N N N N" \
	"$(for m in $M_QUOTES $M_CTL $M_UTF8 $M_EMPTY $M_BAD; do
		field_of inbox.json $m flags | cut -c1; done | tr '\n' ' ' | sed 's/ $//')"
same "inbox: A for the one with an attachment only" "- - A - -" \
	"$(for m in $M_QUOTES $M_CTL $M_UTF8 $M_EMPTY $M_BAD; do
		field_of inbox.json $m flags | cut -c2; done | tr '\n' ' ' | sed 's/ $//')"
same "inbox: from, the bare sender addresses" "$A $A $C $A $Q" \
	"$(for m in $M_QUOTES $M_CTL $M_UTF8 $M_EMPTY $M_BAD; do
		field_of inbox.json $m from; echo; done | tr '\n' ' ' | sed 's/ $//')"
field_of inbox.json "$M_QUOTES" subject >got
same_file "subject with quotes, backslashes and JSON-like text: exact" s.quotes got
field_of inbox.json "$M_CTL" subject >got
same_file "subject with TAB, CR, LF, ESC, DEL, BS, FF and SOH: exact" s.ctl got
field_of inbox.json "$M_UTF8" subject >got
same_file "subject in UTF-8 (2, 3 and 4 byte sequences): exact" s.utf8 got
check "  (UTF-8 written as it is, not escaped)" grep -qF "$(cat s.utf8)" inbox.json
field_of inbox.json "$M_EMPTY" subject >got
same_file "an empty subject: an empty string" s.empty got
field_of inbox.json "$M_BAD" subject >got
same_file "bytes that are no UTF-8: each one U+FFFD, the rest exact" s.bad.want got

run 0 "smail-inbox -n 2 --json" smail-inbox --user $B -n 2 --json
same "-n 2: the first two records" "$(head -n 2 inbox.json)" "$(cat out)"
run 0 "smail-inbox -u --json" smail-inbox --user $B -u --json
cp out unread.json
run 0 "smail-inbox -u (TSV)" smail-inbox --user $B -u
cp out unread.tsv
json_ok "unread" unread.json "$(wc -l <unread.tsv | tr -d ' ')" \
	'["date","flags","from","id","subject"]'
same "-u: the same messages as the TSV" "$(cut -f1 unread.tsv)" "$(jq -r .id unread.json)"
jq_all "-u: all new" unread.json '.flags | startswith("N")'
check "-u: not the read one" eval '! grep -qF "$M_QUOTES" unread.json'
run 0 "(lena is unlocked)" smail-admin unlock $L
run 0 "(lena, unlocked, signs in)" smail-register --login --password-file pw.$L $L
run 0 "an empty inbox: --json prints nothing" smail-inbox --user $L --json
same "  (nothing)" "" "$(cat out)"

# ============ drafts ============
send $A s.ctl --draft -c $C $B;		D_CTL=$id
send $A s.quotes --draft;		D_NONE=$id
send $A s.bad --draft "$Q";		D_BAD=$id
run 0 "smail-inbox --drafts --json" smail-inbox --user $A --drafts --json
cp out drafts.json
run 0 "smail-inbox --drafts (TSV)" smail-inbox --user $A --drafts
cp out drafts.tsv
same "(the TSV lists the three)" 3 "$(wc -l <drafts.tsv | tr -d ' ')"
json_ok "drafts" drafts.json 3 '["date","id","subject","to"]'
jq_all "drafts: every value is a string" drafts.json 'all(.[]; type == "string")'
jq_all "drafts: dates UTC ISO 8601" drafts.json ".date | test(\"$TIME_RE\")"
same "drafts: the same drafts in the same order as the TSV" \
	"$(cut -f1 drafts.tsv)" "$(jq -r .id drafts.json)"
grep -v "^$D_BAD$TAB" drafts.tsv >want.tsv
jq -r --arg bad "$D_BAD" "select(.id != \$bad) |
	[.id, .date, .to, (.subject | $sp)] | join(\"\t\")" drafts.json >got.tsv
same_file "drafts: every field as in the TSV" want.tsv got.tsv
same "drafts: to lists To then Cc, with commas" "$B,$C" "$(field_of drafts.json "$D_CTL" to)"
same "drafts: to is empty when there is none" "" "$(field_of drafts.json "$D_NONE" to)"
same "drafts: an awkward address, exact" "$Q" "$(field_of drafts.json "$D_BAD" to)"
field_of drafts.json "$D_CTL" subject >got
same_file "draft subject with control characters: exact" s.ctl got
field_of drafts.json "$D_NONE" subject >got
same_file "draft subject with quotes and backslashes: exact" s.quotes got
field_of drafts.json "$D_BAD" subject >got
same_file "draft subject, bytes that are no UTF-8: U+FFFD" s.bad.want got

# ============ the delivery record ============
# One more message: to a new address (invited), a domain in upper case,
# and one that bob deletes.
send $A s.utf8 -c carol@PARTNER.EXAMPLE $I $B;	M_INV=$id
smail-inbox --user $B -d "$M_INV" 2>/dev/null
run 0 "smail-inbox --sent --json" smail-inbox --user $A --sent --json
cp out sent.json
run 0 "smail-inbox --sent (TSV)" smail-inbox --user $A --sent
cp out sent.tsv
n=$(wc -l <sent.tsv | tr -d ' ')
check "(the TSV lists at least the 6 deliveries)" test "$n" -ge 6
json_ok "sent" sent.json "$n" '["date","id","rcpt","state","when"]'
jq_all "sent: every value is a string" sent.json 'all(.[]; type == "string")'
jq_all "sent: dates and whens UTC ISO 8601" sent.json \
	"(.date | test(\"$TIME_RE\")) and (.when | test(\"$TIME_RE\"))"
jq_all "sent: states as documented" sent.json \
	'.state | IN("invited", "notified", "read", "deleted", "expired", "recalled")'
jq -r '[.id, .date, .rcpt, .state, .when] | join("\t")' sent.json >got.tsv
same_file "sent: every field as in the TSV, in the same order" sent.tsv got.tsv
same "sent: the newest message's recipients and states" \
	"$(nl_sorted "$I invited" "$B deleted" "$C notified")" "$(jq -r --arg id "$M_INV" 'select(.id == $id) | "\(.rcpt) \(.state)"' sent.json |
	LC_ALL=C sort)"
same "sent: bob read the quoted one" read \
	"$(jq -r --arg id "$M_QUOTES" 'select(.id == $id) | .state' sent.json)"
run 0 "smail-inbox --sent -n 1 --json" smail-inbox --user $A --sent -n 1 --json
same "-n 1: the newest message's records" \
	"$(jq -c --arg id "$M_INV" 'select(.id == $id)' sent.json)" "$(jq -c . out)"

# ============ smail-admin list ============
run 0 "smail-admin list --json" smail-admin list --json
cp out list.json
run 0 "smail-admin list (TSV)" smail-admin list
cp out list.tsv
n=$(wc -l <list.tsv | tr -d ' ')
same "(six accounts)" 6 "$n"
json_ok "list" list.json "$n" '["addr","created","state"]'
jq_all "list: every value is a string" list.json 'all(.[]; type == "string")'
jq_all "list: created UTC ISO 8601" list.json ".created | test(\"$TIME_RE\")"
jq_all "list: states as documented" list.json '.state | IN("active", "invited", "locked")'
jq -r '[.addr, .state, .created] | join("\t")' list.json >got.tsv
same_file "list: every field as in the TSV, in the same order" list.tsv got.tsv
same "list: the awkward address, exactly as given" "$Q active" \
	"$(jq -r --arg a "$Q" 'select(.addr == $a) | "\(.addr) \(.state)"' list.json)"
same "list: the invited one" invited \
	"$(jq -r --arg a "$I" 'select(.addr == $a) | .state' list.json)"
for i in 1 2 3; do
	smail-register --login --password-file pw.wrong "$Q" >/dev/null 2>&1
done
run 0 "smail-admin list --json, with a locked account" smail-admin list --json
same "list: the locked one" locked \
	"$(jq -r --arg a "$Q" 'select(.addr == $a) | .state' out)"

# ============ smail-admin audit ============
run 0 "smail-admin audit --json" smail-admin audit --json
cp out audit.json
run 0 "smail-admin audit (TSV)" smail-admin audit
cp out audit.tsv
n=$(wc -l <audit.tsv | tr -d ' ')
check "(the TSV has entries: $n)" test "$n" -gt 10
json_ok "audit" audit.json "$n" '["account","event","id","time"]'
jq_all "audit: every value is a string" audit.json 'all(.[]; type == "string")'
jq_all "audit: times UTC ISO 8601" audit.json ".time | test(\"$TIME_RE\")"
jq_all "audit: events as documented" audit.json '.event | IN("login", "login-failed",
	"lock", "unlock", "register", "reset", "recovery", "send", "read", "delete",
	"recall", "purge")'
jq_all "audit: an id exactly for send, read, delete, recall and purge" audit.json \
	"if (.event | IN(\"send\", \"read\", \"delete\", \"recall\", \"purge\"))
	then (.id | test(\"$ID_RE\")) else .id == \"\" end"
jq -r '[.time, .event, .account, .id] | join("\t")' audit.json >got.tsv
same_file "audit: every field as in the TSV, in the same order" audit.tsv got.tsv
check "audit: the failed logins, the lock and the unlock are there" \
	eval 'jq -e -s --arg l "$L" "[.[] | select(.account == \$l) | .event] |
	(index(\"login-failed\") != null) and (index(\"lock\") != null) and
	(index(\"unlock\") != null)" audit.json >/dev/null'
same "audit: one send per message sent, with its id" \
	"$(nl_sorted $M_QUOTES $M_CTL $M_UTF8 $M_EMPTY $M_BAD $M_INV)" \
	"$(jq -r 'select(.event == "send") | .id' audit.json | LC_ALL=C sort)"
same "audit: the awkward address, its local part exact" "$Qc" \
	"$(jq -r --arg id "$M_BAD" 'select(.event == "send" and .id == $id) | .account' audit.json)"
# For one account (its domain in another case).
run 0 "smail-admin audit --json ADDR" smail-admin audit --json bob@PARTNER.example
cp out audit-b.json
run 0 "smail-admin audit ADDR (TSV)" smail-admin audit bob@PARTNER.example
cp out audit-b.tsv
n=$(wc -l <audit-b.tsv | tr -d ' ')
check "(bob has entries: $n)" test "$n" -gt 0
json_ok "audit ADDR" audit-b.json "$n" '["account","event","id","time"]'
jq_all "audit ADDR: only bob's entries" audit-b.json ".account == \"$B\""
same "audit ADDR: the entries of the whole log that are bob's" \
	"$(jq -c --arg b "$B" 'select(.account == $b)' audit.json)" "$(jq -c . audit-b.json)"
run 0 "smail-admin audit --json of the awkward address" smail-admin audit --json "$Q"
jq_all "  only its entries, its local part exact" out ".account == \"$Qc\""
run 0 "smail-admin audit --json of an address with no entry" \
	smail-admin audit --json nobody@nowhere.example
same "  prints nothing" "" "$(cat out)"

# ============ smail-addr ============
n1='Zoë "Zed" Back\slash-Ünal'
n2="Mononym'\"\\"
n3='案件 花子 Tanaka-太郎'
run 0 "a contact whose name has quotes, a backslash and UTF-8" smail-addr -u $A -a $B -n "$n1"
run 0 "a one-word name" smail-addr -u $A -a $C -n "$n2"
run 0 "a name in CJK" smail-addr -u $A -a "$Q" -n "$n3"
run 0 "a contact without a name" smail-addr -u $A -a $I
cat >import.vcf <<'EOF'
BEGIN:VCARD
VERSION:4.0
FN:Émile Back\\slash\, Jr.
N:Back\\slash\, Jr.;Émile;;;
EMAIL:emile@outside.example
END:VCARD
EOF
run 0 "a vCard with escaped backslash and comma" smail-addr -u $A --import import.vcf
run 0 "smail-addr --json" smail-addr -u $A --json
cp out addr.json
run 0 "smail-addr (TSV)" smail-addr -u $A
cp out addr.tsv
n=$(wc -l <addr.tsv | tr -d ' ')
same "(five contacts)" 5 "$n"
json_ok "addr" addr.json "$n" '["addr","first","last"]'
jq_all "addr: every value is a string" addr.json 'all(.[]; type == "string")'
jq -r '(if .last != "" and .first != "" then "\(.last), \(.first)"
	elif .last != "" then .last else .first end) + "\t" + .addr' addr.json >got.tsv
same_file "addr: LAST, FIRST<TAB>ADDR as in the TSV, in the same order" addr.tsv got.tsv
addr_of() { jq -j --arg a "$1" "select(.addr == \$a) | .$2" addr.json; }
same "addr: quotes, backslash, UTF-8 in a name: first + last is the name" "$n1" \
	"$(addr_of $B first) $(addr_of $B last)"
same "addr: the last name is the last word" 'Back\slash-Ünal' "$(addr_of $B last)"
same "addr: a one-word name is a first name, exact" "$n2" "$(addr_of $C first)"
same "addr: and the last name is empty" "" "$(addr_of $C last)"
same "addr: a CJK name, exact" "$n3" "$(addr_of "$Q" first) $(addr_of "$Q" last)"
same "addr: the awkward address, exact" "$Q" \
	"$(jq -r 'select(.last == "Tanaka-太郎") | .addr' addr.json)"
same "addr: no name: both empty" "|" "$(addr_of $I first)|$(addr_of $I last)"
same "addr: from the vCard, the backslash and comma unescaped" 'Back\slash, Jr.|Émile' \
	"$(addr_of emile@outside.example last)|$(addr_of emile@outside.example first)"
for c in TAB:"$(printf 'Tab\tName')" ESC:"$(printf 'Esc\033Name')" LF:"$(printf 'Line\nBreak')"; do
	run 65 "a name with a control character (${c%%:*}) is refused: 65" \
		smail-addr -u $A -a $B -n "${c#*:}"
done
run 0 "smail-addr --json again" smail-addr -u $A --json
same_file "  the book is unchanged" addr.json out

g1='case "2291" \ Ü'
g2='empty {group}'
smail-addr -u $A -g "$g1" -a $B $C "$Q" 2>/dev/null
smail-addr -u $A -g "$g2" -a $I 2>/dev/null
smail-addr -u $A -g "$g2" -r $I 2>/dev/null
run 0 "smail-addr -G --json" smail-addr -u $A -G --json
cp out groups.json
run 0 "smail-addr -G (TSV)" smail-addr -u $A -G
cp out groups.tsv
same "(two groups)" 2 "$(wc -l <groups.tsv | tr -d ' ')"
json_ok "-G" groups.json 2 '["group","members"]'
jq_all "-G: group a string, members a number" groups.json \
	'(.group | type == "string") and (.members | type == "number")'
jq -r '"\(.group)\t\(.members)"' groups.json >got.tsv
same_file "-G: GROUP<TAB>MEMBERS as in the TSV, in the same order" groups.tsv got.tsv
same "-G: the awkward name, exact, with its 3 members" "$g1|3" \
	"$(jq -r --arg g "$g1" 'select(.group == $g) | "\(.group)|\(.members)"' groups.json)"
same "-G: a group with no member: 0" 0 \
	"$(jq -r --arg g "$g2" 'select(.group == $g) | .members' groups.json)"

# ============ --json where it does not belong ============
run 64 "smail-addr -g GROUP --json: 64" smail-addr -u $A -g "$g1" --json
run 64 "smail-inbox -d ID --json: 64" smail-inbox --user $B -d "$M_CTL" --json
check "  (and nothing was deleted)" eval 'smail-inbox --user $B 2>/dev/null | grep -q "^$M_CTL"'

done_testing
