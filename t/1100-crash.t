#!/bin/sh
# Crashes: commands killed with SIGKILL at random moments, over many
# rounds.  Nothing printed is lost, nothing half-done shows, and the
# store passes "smail-admin check" afterwards: batch sends (every
# printed id reads back byte for byte, every listed message reads, none
# is listed twice), deletions, registration from an invitation, reset
# activation, address-book imports (all or nothing) and flushes of the
# notification queue through a real SMTP server (at least once; the
# duplicates are counted).
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR

# Background processes (the relay) are stopped at exit, by PID.
trap 'for _f in "$scratch"/*.bg; do [ -f "$_f" ] && kill "$(cat "$_f")" 2>/dev/null; done
cd /; rm -rf "$scratch"' EXIT

# --- helpers ---
# rand N: a random whole number in [0, N), from /dev/urandom.
rand() { echo $(($(od -An -N4 -tu4 /dev/urandom | tr -d ' \n') % $1)); }
# secs MS: milliseconds as seconds for sleep(1), e.g. 0.037.
secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
# killrun MAXMS TAG INPUT CMD...: runs CMD in the background (stdin
# INPUT, stdout TAG.out, stderr TAG.err) and kills it with SIGKILL after
# a random delay below MAXMS ms.  $kd: the delay; $krc: the exit status
# (137 when the kill landed, the command's own when it finished first).
killrun() {
	_max=$1 _tag=$2 _in=$3
	shift 3
	kd=$(rand "$_max")
	"$@" <"$_in" >"$_tag.out" 2>"$_tag.err" &
	_pid=$!
	sleep "$(secs "$kd")"
	kill -KILL "$_pid" 2>/dev/null
	wait "$_pid"
	krc=$?
}
# how: "killed after N ms", or "finished before the kill ... (exit N)".
how() {
	if [ "$krc" -eq 137 ]; then echo "killed after $kd ms"
	else echo "finished before the kill at $kd ms (exit $krc)"; fi
}
# ended_ok DESC ERRFILE: the killed command died by the kill or exited
# 0, and reported no sanitizer error.
ended_ok() {
	if { [ "$krc" -eq 137 ] || [ "$krc" -eq 0 ]; } &&
	    ! grep -Eq 'Sanitizer|runtime error:|^==[0-9]+== ' "$2"; then
		ok "$1"
	else
		not_ok "$1 (exit $krc)"
		diag <"$2"
	fi
}
ms() { echo $(($(date +%s%N) / 1000000)); }
# x: how much longer every command takes here; the fixed kill windows
# below grow with it (under valgrind a command needs a second or two to
# start, and a window shorter than that would kill every run at birth).
# Under valgrind the rounds are fewer: there the subject is memory
# errors on the paths a kill leaves, not how many moments a kill can hit.
x=1 fewer=1
slow && x=8 fewer=2
section() { t_sec=$(ms); echo "# --- $1"; }
took() { echo "# $1 took $(( ($(ms) - t_sec) / 1000 )) s"; }
state_of() { smail-admin list 2>/dev/null | awk -v a="$1" '$1 == a { print $2 }'; }
login() { smail-register --login --password-file "$2" "$1" >/dev/null 2>&1; }
# mail_for ADDR: the newest notification to ADDR in the portal's mail/.
mail_for() {
	grep -l "^To: <$1>" "$SMAIL_DIR"/mail/new/* 2>/dev/null | xargs -r ls -t |
		head -n 1
}
# check_ok DESC: smail-admin check passes.
check_ok() {
	run 0 "$1" smail-admin check
	[ "$_got" -eq 0 ] || diag <out
}

# good: which copy of the store its control file names (the newer of
# its two slots that checks); marked: whether the lock file's first byte
# says the other copy may be half-changed (as a kill in a transaction
# leaves it).
cat >good.py <<'EOF'
import hashlib, sys
data = open(sys.argv[1], "rb").read()
def slot(i):
    s = data[i * 4096:i * 4096 + 64]
    if s[:4] != b"SMC2" or hashlib.blake2b(s[:32], digest_size=32,
            key=b"smail-store-ctl-v2").digest() != s[32:64]:
        return None
    return int.from_bytes(s[4:12], "big"), s[12]
print(max(x for x in (slot(0), slot(1)) if x)[1])
EOF
good() { "$PYTHON" good.py "$SMAIL_DIR/store.ctl"; }
marked() { [ "$(head -c 1 "$SMAIL_DIR/lock")" = 1 ] && echo 1 || echo 0; }

T=$(printf '\t')
A=alice@agency.gov B=bob@partner.example
PWA='Kite#Zebra42x' PWB='Tulip&River77q'
printf 'A body for the crash tests\n' >body.txt

# ====================================================================
# 1. smail-send -b killed at random moments
# ====================================================================
section "smail-send -b"
new_portal
# Wrong old passwords are tried on purpose further down (reset).
setcfg lock_attempts 1000
add_user $A "$PWA"
add_user $B "$PWB"
login $A pw.$A
login $B pw.$B

# The manifest: 100 lines, each with its own random attachment of
# 50-300 KiB, all named doc.bin (in their own directories), so that one
# "smail-fetch -a doc.bin -o DIR ID..." writes DIR/ID.bin for every id.
# sums: LINE<TAB>SHA-256 of its attachment.
"$PYTHON" - "$B" <<'EOF'
import hashlib, os, sys
b = sys.argv[1]
with open("manifest", "w") as m, open("sums", "w") as s:
    for i in range(1, 101):
        n = 50 * 1024 + int.from_bytes(os.urandom(4), "big") % (250 * 1024 + 1)
        data = os.urandom(n)
        os.makedirs("att/%03d" % i)
        with open("att/%03d/doc.bin" % i, "wb") as f:
            f.write(data)
        m.write("%s\tCrash line %d\tbody.txt\tatt/%03d/doc.bin\n" % (b, i, i))
        s.write("%d\t%s\n" % (i, hashlib.sha256(data).hexdigest()))
EOF
check "a manifest of 100 lines with attachments of 50-300 KiB" \
	test "$(wc -l <manifest | tr -d ' ')" = 100 -a "$(ls att | wc -l | tr -d ' ')" = 100

# verify.py SUMS PRINTED LISTING GOTDIR: PRINTED holds ID<TAB>LINE for
# every id a batch printed; LISTING is smail-inbox's output (the subject
# names the line); GOTDIR holds ID.bin as fetched.  Prints one line per
# problem.
cat >verify.py <<'EOF'
import collections, hashlib, os, re, sys
sums_f, printed_f, listing_f, got = sys.argv[1:5]
sums = dict(l.rstrip("\n").split("\t") for l in open(sums_f))
printed = [l.rstrip("\n").split("\t") for l in open(printed_f) if l.strip()]
listed = {}
count = collections.Counter()
for l in open(listing_f):
    f = l.rstrip("\n").split("\t")
    count[f[0]] += 1
    m = re.fullmatch(r"Crash line (\d+)", f[4])
    listed[f[0]] = m.group(1) if m else "?"
bad = []
for i, n in count.items():
    if n > 1:
        bad.append("%s: listed %d times" % (i, n))
def same_bytes(i, line, why):
    p = os.path.join(got, i + ".bin")
    if not os.path.exists(p):
        bad.append("%s (%s): not fetched" % (i, why))
    elif hashlib.sha256(open(p, "rb").read()).hexdigest() != sums.get(line):
        bad.append("%s (%s): attachment differs from line %s" % (i, why, line))
for i, line in printed:
    if i not in listed:
        bad.append("%s: printed for line %s, not listed (lost)" % (i, line))
    elif listed[i] != line:
        bad.append("%s: printed for line %s, listed as line %s" % (i, line, listed[i]))
    same_bytes(i, line, "printed")
for i, line in listed.items():
    same_bytes(i, line, "listed")
for b in bad[:30]:
    print(b)
if len(bad) > 30:
    print("... %d problems in all" % len(bad))
EOF

: >printed
# How long a whole run takes here: kills land within that.
t0=$("$PYTHON" -c 'import time; print(int(time.monotonic() * 1000))')
smail-send -u $A -b manifest </dev/null >send.0.out 2>send.0.err
t1=$("$PYTHON" -c 'import time; print(int(time.monotonic() * 1000))')
span=$((t1 - t0))
[ "$span" -lt 100 ] && span=100
echo "# a whole run takes $span ms here"
rounds=$((24 / fewer)) killed=0 recovered=0 cut=0
r=0
awk -F '\t' '{ print $1 "\t" NR }' send.0.out >>printed
while [ $r -lt $rounds ]; do
	r=$((r + 1))
	killrun "$span" send.$r /dev/null smail-send -u $A -b manifest
	[ "$krc" -eq 137 ] && killed=$((killed + 1))
	grep -q 'rebuilt from' send.$r.err && recovered=$((recovered + 1))
	ended_ok "send -b round $r: $(how), $(grep -c . send.$r.out) ids printed" send.$r.err
	# A kill in the middle of a transaction leaves the copy of the store
	# it was changing marked as such: the next writer rebuilds that copy
	# from the good one before it writes.  Every other time, a login (a
	# writer) does that here, not killed; otherwise the next round's
	# send does it, and may be killed in the middle.
	if [ "$(marked)" = 1 ]; then
		cut=$((cut + 1))
		if [ $((cut % 2)) -eq 1 ]; then
			smail-register --login --password-file pw.$A $A \
			    >/dev/null 2>rebuild.$r.err
			same "round $r: a login rebuilds the copy the kill cut short" \
				"0 1" "$? $(grep -c 'rebuilt from store\.[01]\.db (a change to it was cut short; nothing lost)' rebuild.$r.err)"
		fi
	fi
	# A line printed without its newline would be half an id: ignore it.
	if [ -s send.$r.out ] &&
	    [ "$(tail -c 1 send.$r.out | od -An -tx1 | tr -d ' ')" != 0a ]; then
		echo "round $r: a half-printed last line" | diag
		sed '$d' send.$r.out >send.$r.whole
	else
		cp send.$r.out send.$r.whole
	fi
	# Line k of the output is manifest line k (every line is good).
	awk -F '\t' '{ print $1 "\t" NR }' send.$r.whole >>printed
	same "round $r: every printed line is ID<TAB>RCPTS" "" \
		"$(grep -Ev "^[A-Za-z0-9_][A-Za-z0-9_-]*$T$B\$" send.$r.whole)"
done
echo "# $killed of $rounds runs killed, $cut in the middle of a transaction;" \
	"$recovered sends rebuilt a copy first"
check "most runs were killed mid-way" test "$killed" -ge $((rounds / 2))
np=$(wc -l <printed | tr -d ' ')
check "ids were printed ($np)" test "$np" -gt 0

check_ok "smail-admin check passes on the store the kills left"
run 0 "smail-inbox lists the recipient's messages" smail-inbox --user $B
cp out listing
nl=$(wc -l <listing | tr -d ' ')
echo "# $np ids printed, $nl messages listed"
same "no message is listed twice" "" "$(cut -f1 listing | sort | uniq -d)"
cut -f1 listing | sort -u >l.ids
same "every printed id is listed" "" "$(cut -f1 printed | sort -u | comm -23 - l.ids)"
{ cut -f1 listing; cut -f1 printed; } | sort -u >fetch.ids
mkdir got
run 0 "every listed and printed message reads (smail-fetch -a doc.bin -o DIR)" \
	smail-fetch -u $B -a doc.bin -o got - <fetch.ids
same "each attachment is byte-identical (sha256) to its manifest line" "" \
	"$("$PYTHON" verify.py sums printed listing got 2>&1)"
same "one file fetched per id" "$(wc -l <fetch.ids | tr -d ' ')" \
	"$(ls got | wc -l | tr -d ' ')"
took "smail-send -b"

# ====================================================================
# 2. smail-inbox -d - killed while deleting many ids
# ====================================================================
section "smail-inbox -d"
cut -f1 listing >todelete
r=0
while [ $r -lt $((8 / fewer)) ] && [ -s todelete ]; do
	r=$((r + 1))
	head -n 60 todelete >del.$r
	sed '1,60d' todelete >rest && mv rest todelete
	killrun $((500 * x)) rm.$r del.$r smail-inbox --user $B -d -
	ended_ok "-d round $r: $(how) ($(wc -l <del.$r | tr -d ' ') ids)" rm.$r.err
	smail-inbox --user $B >now 2>now.err
	same "round $r: smail-inbox still lists (exit 0)" 0 "$?"
	cut -f1 now | sort >now.ids
	sort del.$r | comm -12 - now.ids >kept.$r
	sort del.$r | comm -23 - now.ids >gone.$r
	echo "# round $r: $(wc -l <gone.$r | tr -d ' ') gone, $(wc -l <kept.$r | tr -d ' ') kept"
	if [ -s kept.$r ]; then
		run 0 "round $r: every id still listed reads" smail-fetch -u $B - <kept.$r
	else
		ok "round $r: every id still listed reads (none is)"
	fi
	if [ -s gone.$r ]; then
		smail-fetch -u $B - <gone.$r >out 2>err
		rc=$?
		same "round $r: every id no longer listed is gone for the account (66)" 66 "$rc"
		same "round $r: each one 'no such message'" "$(wc -l <gone.$r | tr -d ' ')" \
			"$(grep -c 'no such message' err)"
	fi
	check_ok "round $r: smail-admin check passes"
done
if [ -s kept.$r ]; then
	run 0 "a last smail-inbox -d of what round $r left" smail-inbox --user $B -d - <kept.$r
	smail-inbox --user $B 2>/dev/null | cut -f1 | sort >now.ids
	sort kept.$r >kept.sorted
	same "those are gone" "" "$(comm -12 now.ids kept.sorted)"
fi
check_ok "check passes after the deletions"
took "smail-inbox -d"

# Registration, reset and imports on a second, small portal, so that
# each check is quick.
SMAIL_DIR=$scratch/portal2
new_portal
setcfg lock_attempts 1000
add_user $A "$PWA"
login $A pw.$A
head -c 20000 /dev/urandom >small.bin

# ====================================================================
# 3. smail-register killed during registration from an invitation
# ====================================================================
section "smail-register"
pwfile pw.reg 'Birch%Lake64m'
r=0
while [ $r -lt $((10 / fewer)) ]; do
	r=$((r + 1))
	U=reg$r@partner.example
	# The first message invites the address; the second waits too.
	smail-send -u $A -s "Waiting 1" -a small.bin -m body.txt $U >msgs.$r 2>/dev/null
	tok=$(token_of "$(mail_for $U)")
	smail-send -u $A -s "Waiting 2" -a small.bin -m body.txt $U >>msgs.$r 2>/dev/null
	if [ -z "$tok" ]; then
		not_ok "round $r: an invitation for $U"
		continue
	fi
	killrun $((450 * x)) reg.$r /dev/null smail-register --password-file pw.reg -t "$tok" $U
	ended_ok "register round $r: $(how)" reg.$r.err
	st=$(state_of $U)
	case $st in
	invited)
		run 0 "round $r: still invited, and the same token registers" \
			smail-register --password-file pw.reg -t "$tok" $U ;;
	active)
		run 0 "round $r: active, and the password signs in" \
			smail-register --login --password-file pw.reg $U ;;
	*)
		not_ok "round $r: invited or active, not '$st'" ;;
	esac
	run 0 "round $r: the messages that waited read" smail-fetch -u $U - <msgs.$r
	same "round $r: both of them" 2 "$(grep -c '^Subject: Waiting' out)"
	check_ok "round $r: check passes"
done
took "smail-register"

# ====================================================================
# 4. smail-reset activation killed
# ====================================================================
section "smail-reset"
pwfile pw.old 'Cedar!Brook55k'
pwfile pw.new 'Hazel=Creek26w'
for a in 1 2 3; do
	U=reset$a@agency.gov
	smail-admin add --password-file pw.old $U 2>/dev/null
	smail-send -u $A -s 'Before the reset' -m body.txt $U >before.$a 2>/dev/null
	run 0 "$U requests a reset" smail-reset --password-file pw.new $U
	tok=$(token_of "$(mail_for $U)")
	check "$U: a reset token was mailed" test -n "$tok"
	# A request allows three tries of the new password, and a try
	# killed after it was counted stays counted: two kills, then the
	# third try, not killed, still completes.
	done=
	k=0
	while [ $k -lt 2 ] && [ -z "$done" ]; do
		k=$((k + 1))
		killrun $((650 * x)) rs.$a.$k /dev/null smail-reset --password-file pw.new -t "$tok" $U
		ended_ok "$U activation $k: $(how)" rs.$a.$k.err
		if login $U pw.old; then
			ok "$U after kill $k: the old password works (reset pending)"
		elif login $U pw.new; then
			ok "$U after kill $k: the new password works (reset done)"
			done=1
		else
			not_ok "$U after kill $k: neither the old nor the new password works"
			done=broken
		fi
		check_ok "$U after kill $k: check passes"
	done
	if [ -z "$done" ]; then
		run 0 "$U: the activation, not killed, completes" \
			smail-reset --password-file pw.new -t "$tok" $U
	fi
	run 0 "$U: the new password signs in" smail-register --login --password-file pw.new $U
	run 77 "$U: the old one no longer does" smail-register --login --password-file pw.old $U
	run 0 "$U: the message from before the reset reads" smail-fetch -u $U "$(cat before.$a)"
done
took "smail-reset"

# ====================================================================
# 5. smail-addr --import of ~2000 vCards killed: all or nothing
# ====================================================================
section "smail-addr --import"
"$PYTHON" - <<'EOF'
with open("deck.vcf", "w", newline="") as f:
    for i in range(2000):
        f.write("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Given%d Family%d\r\n"
                "N:Family%d;Given%d;;;\r\nEMAIL;TYPE=INTERNET:card%04d@import.example\r\n"
                "END:VCARD\r\n" % (i, i, i, i, i))
EOF
# base: the book before; full: base plus the deck, from an import that
# was not killed (a reference account).
book_base() {
	smail-addr -u "$1" -a old.one@partner.example -n 'Olga Oldbook' &&
		smail-addr -u "$1" -a old.two@partner.example -n 'Otto Oldbook'
} 2>/dev/null
IR=import.ref@agency.gov
add_user $IR "$PWA"
login $IR pw.$IR
book_base $IR
smail-addr -u $IR >base.book 2>/dev/null
run 0 "a reference import, not killed" smail-addr -u $IR --import deck.vcf
smail-addr -u $IR >full.book 2>/dev/null
same "the reference book: the two old contacts and the 2000 cards" 2002 \
	"$(wc -l <full.book | tr -d ' ')"
r=0
while [ $r -lt $((6 / fewer)) ]; do
	r=$((r + 1))
	U=import$r@agency.gov
	add_user $U "$PWA"
	login $U pw.$U
	book_base $U
	killrun $((1300 * x)) imp.$r /dev/null smail-addr -u $U --import deck.vcf
	ended_ok "import round $r: $(how)" imp.$r.err
	run 0 "round $r: listing works" smail-addr -u $U
	if cmp -s out base.book; then
		ok "round $r: the book is the old one"
	elif cmp -s out full.book; then
		ok "round $r: the book has all the cards"
	else
		not_ok "round $r: the book is the old one or has all the cards" \
			"($(wc -l <out | tr -d ' ') lines)"
	fi
	check_ok "round $r: check passes"
done
took "smail-addr --import"

# ====================================================================
# 6. smail-admin flush killed while delivering through t/smtpd.py
# ====================================================================
section "smail-admin flush"
cat "$SMAIL_DIR/config" >config.base
cfg() {
	cat config.base >"$SMAIL_DIR/config"
	while [ $# -ge 2 ]; do setcfg "$1" "$2"; shift 2; done
}
set -- $("$PYTHON" - <<'EOF'
import socket
s = [socket.socket() for _ in range(2)]
for x in s:
    x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))
EOF
)
LIVE=$1 DEAD=$2
port_up() {
	"$PYTHON" - "$1" <<'EOF'
import socket, sys, time
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}
"$PYTHON" "$T_SRC/smtpd.py" --port "$LIVE" --maildir "$scratch/relay.md" >relay.log 2>&1 &
echo $! >relay.bg
check "the relay (t/smtpd.py) starts" port_up "$LIVE"
mkdir -p relay.md/new
U=flush.rcpt@partner.example
add_user $U "$PWB"
: >flush.manifest
i=0
while [ $i -lt 80 ]; do
	i=$((i + 1))
	printf '%s\tFlush %d\tbody.txt\n' "$U" "$i" >>flush.manifest
done
msgids() { grep -hi '^Message-ID:' "$@" 2>/dev/null | tr -d '\r' | sort; }
same "the queue is empty before" "" "$(ls "$SMAIL_DIR/queue/new")"
dups_total=0
r=0
while [ $r -lt $((4 / fewer)) ]; do
	r=$((r + 1))
	cfg smtp_url "smtp://127.0.0.1:$DEAD"
	smail-send -u $A -b flush.manifest >/dev/null 2>queue.$r.err
	msgids "$SMAIL_DIR"/queue/new/* >want.$r
	same "flush round $r: 80 notifications queued while the relay is away" 80 \
		"$(wc -l <want.$r | tr -d ' ')"
	cfg smtp_url "smtp://127.0.0.1:$LIVE"
	killrun $((900 * x)) fl.$r /dev/null smail-admin flush
	ended_ok "flush round $r: $(how)" fl.$r.err
	run 0 "round $r: a second flush delivers the rest" smail-admin flush
	same "round $r: the queue is empty" "" "$(ls "$SMAIL_DIR/queue/new")"
	msgids relay.md/new/* >got.$r
	same "round $r: every queued mail arrived at least once" "" \
		"$(uniq got.$r | comm -23 want.$r -)"
	d=$(comm -12 want.$r "$(uniq -d got.$r >dups.$r; echo dups.$r)" | wc -l | tr -d ' ')
	dups_total=$((dups_total + d))
	echo "# round $r: $d duplicate(s) ($(how))"
	check "round $r: at most one duplicate, the mail in flight at the kill ($d)" \
		test "$d" -le 1
done
echo "# flush: $dups_total duplicate deliveries in 4 killed flushes" \
	"(at least once is the guarantee, exactly once the goal)"
check_ok "check passes after the flushes"
kill "$(cat relay.bg)" 2>/dev/null
wait "$(cat relay.bg)" 2>/dev/null
rm -f relay.bg
took "smail-admin flush"

# ====================================================================
# 7. A transaction cut short, by hand: the lock file says so
# ====================================================================
# The state a kill in the middle of a transaction leaves, made by hand:
# the mark, the copy that is not the good one garbled in the middle, and
# a half copy left by a rebuild that was itself killed.
section "a transaction cut short"
new_portal
add_user $A "$PWA"
add_user $B "$PWB"
login $A pw.$A
login $B pw.$B
echo one | smail-send -u $A -s One $B >one.id 2>/dev/null
echo two | smail-send -u $A -s Two $B >two.id 2>/dev/null
same "the lock file says no change is under way" 0 "$(marked)"
g=$(good)
o=$((1 - g))
printf 1 | dd of="$SMAIL_DIR/lock" conv=notrunc 2>/dev/null
# garble: random pages in the middle of the copy that is not the good one.
garble() {
	g=$(good)
	o=$((1 - g))
	head -c 8192 /dev/urandom | dd of="$SMAIL_DIR/store.$o.db" bs=4096 \
		seek=2 conv=notrunc 2>/dev/null
}
garble
(umask 077; printf 'half a copy' >"$SMAIL_DIR/store.$o.db.new")
check_ok "a reader (smail-admin check) reads the good copy"
err_has "and says the next writer makes the other again" \
	"the store's other copy is to be made again .* the next command that writes does it"
same "and leaves the rebuild to the next writer" 1 "$(marked)"
echo three | smail-send -u $A -s Three $B >three.id 2>err
same "the next writer rebuilds the copy, then sends" "0 1" \
	"$? $(grep -c "store.$o.db rebuilt from store.$g.db (a change to it was cut short; nothing lost)" err)"
same "nothing is marked any more" 0 "$(marked)"
same "the half copy and the damaged file are gone" "" \
	"$(ls "$SMAIL_DIR" | grep '^store\.[01]\.db\.')"
cat one.id two.id three.id | cut -f1 >ids
run 0 "the three messages read" smail-fetch -u $B - <ids
same "all three" 3 "$(grep -c '^Subject: ' out)"
check_ok "check passes after the rebuild"
# A power cut means a reboot: the control file then names another boot,
# and the other copy's last changes (not synced) may not have reached
# the disk.  SMAIL_BOOT_ID stands for the next boot.
garble
SMAIL_BOOT_ID=the-next-boot
export SMAIL_BOOT_ID
check_ok "after the reboot a reader (check) reads the good copy"
err_has "and says the next writer makes the other again" \
	"the store's other copy is to be made again"
echo four | smail-send -u $A -s Four $B >four.id 2>err
same "the first writer after it makes the other copy again, then sends" "0 1" \
	"$? $(grep -c "store.$o.db rebuilt from store.$g.db (the machine restarted since the last change; nothing lost)" err)"
echo five | smail-send -u $A -s Five $B >five.id 2>err
same "once" "0 0" "$? $(grep -c 'rebuilt' err)"
cat one.id two.id three.id four.id five.id | cut -f1 >ids
run 0 "the five messages read" smail-fetch -u $B - <ids
same "all five" 5 "$(grep -c '^Subject: ' out)"
unset SMAIL_BOOT_ID
took "a transaction cut short"
done_testing
