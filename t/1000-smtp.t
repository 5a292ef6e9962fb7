#!/bin/sh
# Notifications over SMTP (t/smtpd.py, a real aiosmtpd server on
# loopback): the mail's headers and text part, smtp_from, STARTTLS with
# AUTH and a verified certificate, smtps, a wrong password, an unsafe
# password file, credentials never sent without TLS, a 550 set aside,
# an outage that flush repairs exactly once (also with two flushes at
# once), one transaction per recipient over one connection, and the
# SMTP password nowhere: not in the portal, not in argv, not in the
# environment, not on stderr; a token only in the clear to a relay at a
# real loopback address (not one whose name starts with "127.").
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR

# --- relays: start, wait for, stop (and always stop them at exit) ---
trap 'for _f in "$scratch"/*.bg; do [ -f "$_f" ] && kill "$(cat "$_f")" 2>/dev/null; done
cd /; rm -rf "$scratch"' EXIT

# free_ports N: N distinct free loopback ports (all bound at once).
free_ports() {
	"$PYTHON" - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}
# port_state PORT up|down: waits (at most ~10 s) until PORT accepts, or
# until it refuses.
port_state() {
	"$PYTHON" - "$1" "$2" <<'EOF'
import socket, sys, time
port, want = int(sys.argv[1]), sys.argv[2]
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        up = True
    except OSError:
        up = False
    if up == (want == "up"):
        sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
EOF
}
# relay NAME PORT [smtpd.py options]: a t/smtpd.py delivering into
# NAME.md; relay_stop NAME.
relay() {
	_n=$1 _p=$2
	shift 2
	"$PYTHON" "$T_SRC/smtpd.py" --port "$_p" --maildir "$scratch/$_n.md" \
		--pidfile "$scratch/$_n.pid" "$@" >>"$_n.log" 2>&1 &
	echo $! >"$_n.bg"
	echo "$_p" >"$_n.port"
	if port_state "$_p" up; then mkdir -p "$_n.md/new"; return 0; fi
	echo "relay $_n did not start on $_p" | diag
	diag <"$_n.log"
	return 1
}
relay_stop() {
	kill "$(cat "$1.bg")" 2>/dev/null
	wait "$(cat "$1.bg")" 2>/dev/null
	rm -f "$1.bg" "$1.pid"
	port_state "$(cat "$1.port")" down
}
# relay_n NAME: mails the relay stored; relay_mail NAME ADDR: the newest
# one for ADDR (by its X-RcptTo).
relay_n() { ls "$1.md/new" | wc -l | tr -d ' '; }
CR=$(printf '\r')
relay_mail() {
	grep -lE "^X-RcptTo: $2$CR?\$" "$1.md/new"/* 2>/dev/null | xargs -r ls -t | head -n 1
}
queued() { ls "$SMAIL_DIR/queue/new" | wc -l | tr -d ' '; }

# cfg KEY VALUE...: the portal's config as made by init, plus these keys.
cfgbase() { cat "$SMAIL_DIR/config" >config.base; }
cfg() {
	cat config.base >"$SMAIL_DIR/config"
	while [ $# -ge 2 ]; do setcfg "$1" "$2"; shift 2; done
}

# Every command's stdout and stderr, to look for the password at the end.
srun() { run "$@"; cat out err >>seen.all; }

# mailinfo FILE: KEY=VALUE lines about a stored mail (Python's email
# package); field FILE KEY: one of them.
cat >mailinfo.py <<'EOF'
import email, re, sys
from email import policy
from email.utils import parsedate_to_datetime
raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw, policy=policy.default)
def one(h):
    v = m.get_all(h) or []
    return str(v[0]) if len(v) == 1 else "(%d)" % len(v)
def p(k, v):
    print("%s=%s" % (k, v))
for h in ("Date", "Message-ID", "From", "To", "Subject", "MIME-Version"):
    p(h.lower() + ".count", len(m.get_all(h) or []))
try:
    d = parsedate_to_datetime(one("Date"))
    p("date.ok", "yes" if d.tzinfo is not None else "no timezone")
except Exception as e:
    p("date.ok", "no: %s" % e)
p("msgid.ok", "yes" if re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", one("Message-ID")) else "no")
try:
    f = m["From"].addresses[0]
    p("from.addr", f.addr_spec)
    p("from.name", f.display_name)
except Exception as e:
    p("from.addr", "unparsable: %s" % e)
try:
    p("to.addr", m["To"].addresses[0].addr_spec)
except Exception as e:
    p("to.addr", "unparsable: %s" % e)
p("subject", one("Subject"))
p("mime", one("MIME-Version"))
p("multipart", "yes" if m.is_multipart() else "no")
p("ctype", m.get_content_type())
p("charset", (m.get_content_charset() or "").lower())
p("cte", (m.get("Content-Transfer-Encoding") or "").lower())
for h in ("X-MailFrom", "X-RcptTo", "X-TLS", "X-Auth"):
    p(h.lower(), one(h))
try:
    m.get_content().encode("utf-8")
    p("text", "ok")
except Exception as e:
    p("text", "no: %s" % e)
EOF
field() { "$PYTHON" mailinfo.py "$1" | sed -n "s/^$2=//p"; }
# headers_ok DESC FILE RCPT: the mail has one each of Date, Message-ID,
# From, To, Subject, MIME-Version, a UTF-8 text/plain part, and went to
# RCPT alone.
headers_ok() {
	: >info
	[ -s "$2" ] && "$PYTHON" mailinfo.py "$2" >info
	printf '%s\n' date.count=1 message-id.count=1 from.count=1 to.count=1 \
		subject.count=1 mime-version.count=1 date.ok=yes msgid.ok=yes \
		"to.addr=$3" mime=1.0 multipart=no ctype=text/plain charset=utf-8 \
		"x-rcptto=$3" text=ok >want
	if [ -s "$2" ] && grep -qxF -f want info && [ "$(grep -cxF -f want info)" = "$(wc -l <want | tr -d ' ')" ]; then
		ok "$1"
	else
		not_ok "$1"
		{ echo "missing:"; grep -vxF -f info want; } | diag
	fi
}

# --- the portal and its accounts ---
A=alice@agency.gov B=bob@partner.example C=carol@partner.example
D=dave@agency.gov
N1=nina@newcomer.example N2=noah@newcomer.example
R=rejected.partner@refuse.example
new_portal
cfgbase
add_user $A 'Kite#Zebra42x' "Alice Agent"
add_user $B 'Tulip&River77q' "Bob Partner"
add_user $C 'Maple@Stone31z' "Carol Client"
add_user $D 'Cedar!Brook55k' "Dave Deputy"
pwfile pw.$N1 'Birch%Lake64m'
smail-register --login --password-file pw.$A $A 2>/dev/null

# The SMTP password: the relay's copy and the portal's (0600) file.
SMTP_PW='Relay#Secret-7781q'
pwfile relay.pw "$SMTP_PW"
pwfile smtp.pw "$SMTP_PW"
FROM='Case Desk <casedesk@agency.gov>'
printf 'Confidential body Okapi\n' >body.txt

openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -days 30 \
	-keyout key.pem -out cert.pem >openssl.log 2>&1
check "a test certificate for 127.0.0.1" test -s cert.pem -a -s key.pem

set -- $(free_ports 7)
P1=$1 P2=$2 P3=$3 P4=$4 P5=$5 P6=$6 P7=$7
check "seven free ports" test -n "$P7"

# ============ a plain relay ============
check "a plain relay starts" relay plain $P1
cfg smtp_url "smtp://127.0.0.1:$P1" smtp_from "$FROM"
srun 0 "a message to a registered and an unknown address" \
	smail-send -u $A -s 'Quarterly Zanzibar' -m body.txt $B $N1
M1=$(cat out)
same "the relay received two mails, one per recipient" 2 "$(relay_n plain)"
nb=$(relay_mail plain $B) ni=$(relay_mail plain $N1)
headers_ok "the notice: Date, Message-ID, From, To, Subject, MIME-Version, text/plain; charset=utf-8" "$nb" $B
headers_ok "the invitation: the same" "$ni" $N1
same "smtp_from is the From address" casedesk@agency.gov "$(field "$nb" from.addr)"
same "and its name" 'Case Desk' "$(field "$nb" from.name)"
same "and the envelope sender" casedesk@agency.gov "$(field "$nb" x-mailfrom)"
same "the invitation too" casedesk@agency.gov "$(field "$ni" x-mailfrom)"
check "the notice names the message" grep -qF "$M1" "$nb"
check "the invitation holds a token" test -n "$(token_of "$ni")"
check "in a 7bit or 8bit part (the command shows verbatim)" \
	eval 'field "$ni" cte | grep -Eqx "7bit|8bit"'
check "neither holds the subject or the body" \
	eval '! grep -qaE "Zanzibar|Okapi" "$nb" "$ni"'
check "two distinct Message-IDs" \
	test "$(grep -hi '^Message-ID:' "$nb")" != "$(grep -hi '^Message-ID:' "$ni")"
same "the queue is empty afterwards" 0 "$(queued)"
same "nothing went into the local mail/" "" "$(ls "$SMAIL_DIR/mail/new")"
srun 0 "the invited address registers from the relayed mail" \
	smail-register --password-file pw.$N1 $N1 <"$ni"
srun 0 "and reads the message" smail-fetch --password-file pw.$N1 -u $N1 "$M1"
check "its body" grep -qx 'Confidential body Okapi' out

# ============ STARTTLS and AUTH ============
check "a STARTTLS relay that requires AUTH starts" relay tls $P2 \
	--cert cert.pem --key key.pem --starttls --user portal --password-file relay.pw
tls_nocafile() {
	cfg smtp_url "smtp://127.0.0.1:$P2" smtp_user portal \
		smtp_password_file "$scratch/smtp.pw" smtp_from "$FROM" "$@"
}
tls() { tls_nocafile smtp_cafile "$scratch/cert.pem"; }
tls
srun 0 "send through STARTTLS with AUTH" smail-send -u $A -s 'Over TLS' -m body.txt $B
M2=$(cat out)
m=$(relay_mail tls $B)
check "delivered" grep -qF "$M2" "$m"
same "over TLS" yes "$(field "$m" x-tls)"
same "authenticated" yes "$(field "$m" x-auth)"
headers_ok "with every header" "$m" $B
same "the queue is empty" 0 "$(queued)"

pwfile smtp.pw 'Wrong#Secret-0000z'
n=$(relay_n tls)
srun 0 "a wrong SMTP password: the send still succeeds" \
	smail-send -u $A -s 'Wrong password' -m body.txt $C
M3=$(cat out)
err_has "with a warning" 'warning'
same "the mail stays queued" 1 "$(queued)"
same "the relay received nothing" "$n" "$(relay_n tls)"
srun 75 "flush with the wrong password: 75" smail-admin flush
same "still queued" 1 "$(queued)"
pwfile smtp.pw "$SMTP_PW"
srun 0 "after fixing the password file, flush delivers it" smail-admin flush
same "the relay has it" $((n + 1)) "$(relay_n tls)"
check "the notice of that message, to carol" grep -qF "$M3" "$(relay_mail tls $C)"
same "the queue is empty" 0 "$(queued)"

chmod 644 smtp.pw
srun 78 "smtp_password_file mode 0644: smail-send refuses with 78" \
	smail-send -u $A -s 'Unsafe file' -m body.txt $D
err_has "naming the file" 'smtp\.pw'
srun 78 "smail-admin flush refuses it with 78 too" smail-admin flush
err_has "naming the file" 'smtp\.pw'
chmod 600 smtp.pw
srun 0 "(mode 0600 again: flush)" smail-admin flush
same "(the queue is empty)" 0 "$(queued)"

tls_nocafile
n=$(relay_n tls)
srun 0 "a certificate the CA file does not vouch for: the send succeeds" \
	smail-send -u $A -s 'Unverified' -m body.txt $B
err_has "with a warning" 'warning'
same "nothing reached the relay" "$n" "$(relay_n tls)"
same "the mail stays queued" 1 "$(queued)"
tls
srun 0 "with smtp_cafile back, flush delivers it" smail-admin flush
same "the relay has it" $((n + 1)) "$(relay_n tls)"

# ============ credentials never without TLS ============
check "a relay without STARTTLS starts" relay bare $P3
cfg smtp_url "smtp://127.0.0.1:$P3" smtp_user portal \
	smtp_password_file "$scratch/smtp.pw" smtp_from "$FROM"
srun 0 "smtp_user with a relay that offers no STARTTLS: the send succeeds" \
	smail-send -u $A -s 'No TLS' -m body.txt $B
err_has "with a warning about TLS" 'warning.*(TLS|STARTTLS)'
same "nothing was sent: the relay's Maildir is empty" 0 "$(relay_n bare)"
same "the mail stays queued" 1 "$(queued)"
srun 75 "flush against it: 75" smail-admin flush
same "still nothing sent" 0 "$(relay_n bare)"

# A recording relay offers AUTH but no STARTTLS and keeps the transcript;
# it also counts connections and transactions (one connection per batch).
cat >recorder.py <<'EOF'
import socket, sys, threading
port, log = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
def rec(b):
    with lock, open(log, "ab") as f:
        f.write(b)
def serve(c):
    rec(b"#connect\r\n")
    f = c.makefile("rb")
    c.sendall(b"220 recorder ESMTP\r\n")
    while True:
        line = f.readline()
        if not line:
            break
        rec(line)
        w = line[:4].upper()
        if w in (b"EHLO", b"HELO"):
            c.sendall(b"250-recorder\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
        elif w == b"AUTH":
            c.sendall(b"235 2.7.0 ok\r\n")
        elif w == b"DATA":
            c.sendall(b"354 go on\r\n")
            while True:
                d = f.readline()
                if not d or d == b".\r\n":
                    break
            rec(b"#message\r\n")
            c.sendall(b"250 2.0.0 stored\r\n")
        elif w == b"QUIT":
            c.sendall(b"221 bye\r\n")
            break
        else:
            c.sendall(b"250 ok\r\n")
    c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(8)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
"$PYTHON" recorder.py $P5 "$scratch/wire.log" >recorder.err 2>&1 &
echo $! >recorder.bg
check "a recording relay starts" port_state $P5 up
: >wire.log
cfg smtp_url "smtp://127.0.0.1:$P5" smtp_user portal \
	smtp_password_file "$scratch/smtp.pw" smtp_from "$FROM"
srun 75 "flush to a relay that offers AUTH without STARTTLS: 75" smail-admin flush
check "it was asked (EHLO)" grep -qai '^EHLO' wire.log
check "but got no AUTH" eval '! grep -qai "^AUTH" wire.log'
plain64=$(printf '\0portal\0%s' "$SMTP_PW" | base64 -w0)
pw64=$(printf '%s' "$SMTP_PW" | base64 -w0)
check "and neither the password nor its base64" \
	eval '! grep -qaF -e "$SMTP_PW" -e "$plain64" -e "$pw64" wire.log'
check "nor any mail" eval '! grep -qai "^MAIL FROM" wire.log'
same "still queued" 1 "$(queued)"
tls
srun 0 "(flush it through the TLS relay)" smail-admin flush
same "(the queue is empty)" 0 "$(queued)"

# One transaction per recipient, one connection for a batch.
add_user erin@agency.gov 'Hazel=Creek26w' "Erin Examiner"
T=$(printf '\t')
cat >manifest <<EOF
$B,$C${T}Batch one${T}body.txt
$D,erin@agency.gov${T}Batch two${T}body.txt
$B${T}Batch three${T}body.txt
EOF
: >wire.log
cfg smtp_url "smtp://127.0.0.1:$P5" smtp_from "$FROM"
srun 0 "a batch of three messages to five recipients" smail-send -u $A -b manifest
same "five transactions" 5 "$(grep -ci '^MAIL FROM' wire.log)"
same "each with one recipient" 5 "$(grep -ci '^RCPT TO' wire.log)"
same "five mails" 5 "$(grep -c '^#message' wire.log)"
same "over one connection" 1 "$(grep -c '^#connect' wire.log)"
check "the envelope sender is smtp_from's address" \
	eval '! grep -i "^MAIL FROM" wire.log | grep -vqi "<casedesk@agency.gov>"'
kill "$(cat recorder.bg)" 2>/dev/null
rm -f recorder.bg

# ============ smtps ============
# (t/smtpd.py cannot take AUTH over smtps: aiosmtpd 1.4.3 offers AUTH
# only after STARTTLS when auth_require_tls is on.)
check "an smtps relay starts" relay implicit $P4 --cert cert.pem --key key.pem --smtps
UFROM='Geschäftsstelle Fallakten <casedesk@agency.gov>'
cfg smtp_url "smtps://127.0.0.1:$P4" smtp_cafile "$scratch/cert.pem" \
	smtp_from "$UFROM"
srun 0 "send over smtps, inviting one recipient" \
	smail-send -u $A -s 'Implicit TLS' -m body.txt $C $N2
same "two mails" 2 "$(relay_n implicit)"
mc=$(relay_mail implicit $C) mi=$(relay_mail implicit $N2)
same "over TLS" yes "$(field "$mc" x-tls)"
same "the invitation over TLS too" yes "$(field "$mi" x-tls)"
headers_ok "every header" "$mc" $C
check "the invitation holds its token" test -n "$(token_of "$mi")"
same "a UTF-8 smtp_from keeps its address in From" casedesk@agency.gov "$(field "$mc" from.addr)"
same "and its name, encoded" 'Geschäftsstelle Fallakten' "$(field "$mc" from.name)"
same "the envelope sender is its address" casedesk@agency.gov "$(field "$mc" x-mailfrom)"
same "the queue is empty" 0 "$(queued)"

# ============ a permanent refusal ============
check "a relay refusing one address (550) starts" relay picky $P6 --reject $R
cfg smtp_url "smtp://127.0.0.1:$P6" smtp_from "$FROM"
srun 0 "a message to a good and a refused recipient" \
	smail-send -u $A -s 'Half refused' -m body.txt $B $R
M6=$(cat out)
err_has "the refused address is named" "$R"
check "the other recipient got its notice" grep -qF "$M6" "$(relay_mail picky $B)"
same "nothing for the refused one" "" "$(relay_mail picky $R)"
same "nothing left in queue/new" 0 "$(queued)"
rej=$(ls "$SMAIL_DIR/queue/rejected" 2>/dev/null)
same "one report in queue/rejected" 1 "$(printf '%s' "$rej" | grep -c .)"
rej="$SMAIL_DIR/queue/rejected/$rej"
check "it names the recipient" grep -qF "$R" "$rej"
check "it holds no token" eval '! grep -qaE "sm[ir]-[A-Za-z0-9_-]{20}" "$rej"'
check "and no body" eval '! grep -qaiE "smail-register|register|invites you|secure message|expires" "$rej"'
check "it is 0600" test "$(stat -c %a "$rej")" = 600
srun 0 "the next flush" smail-admin flush
err_has "reports the refused mail" 'rejected|refused'
relay_stop picky
check "the relay comes back accepting everyone" relay picky $P6
n=$(relay_n picky)
smail-admin flush >out 2>err
cat out err >>seen.all
same "a flush does not retry the refused mail" "$n" "$(relay_n picky)"
same "not to that address either" "" "$(relay_mail picky $R)"

# ============ an outage ============
cfg smtp_url "smtp://127.0.0.1:$P1" smtp_from "$FROM"
check "the relay goes down" relay_stop plain
ids=
for i in 1 2 3; do
	srun 0 "message $i while the relay is down: sent" \
		smail-send -u $A -s "Outage $i" -m body.txt $B
	ids="$ids $(cat out)"
	err_has "message $i: with a warning" 'warning'
done
same "the queue holds three" 3 "$(queued)"
srun 75 "flush while the relay is down: 75" smail-admin flush
same "the queue still holds three" 3 "$(queued)"
n=$(relay_n plain)
check "the relay comes back" relay plain $P1
srun 0 "flush: 0" smail-admin flush
same "three mails delivered" $((n + 3)) "$(relay_n plain)"
for id in $ids; do
	same "the notice of $id arrived exactly once" 1 \
		"$(grep -lF "$id" plain.md/new/* | wc -l | tr -d ' ')"
done
same "the queue is empty" 0 "$(queued)"
srun 0 "flush again: 0" smail-admin flush
same "delivers nothing twice" $((n + 3)) "$(relay_n plain)"

check "the relay goes down again" relay_stop plain
ids=
for i in 4 5 6; do
	srun 0 "message $i while the relay is down: sent" \
		smail-send -u $A -s "Outage $i" -m body.txt $C
	ids="$ids $(cat out)"
done
same "the queue holds three" 3 "$(queued)"
n=$(relay_n plain)
check "the relay comes back" relay plain $P1
smail-admin flush >f1.out 2>f1.err &
f1=$!
smail-admin flush >f2.out 2>f2.err &
f2=$!
wait $f1
r1=$?
wait $f2
r2=$?
cat f1.out f1.err f2.out f2.err >>seen.all
same "two flushes at once both succeed" "0 0" "$r1 $r2"
same "three mails delivered" $((n + 3)) "$(relay_n plain)"
for id in $ids; do
	same "the notice of $id arrived exactly once" 1 \
		"$(grep -lF "$id" plain.md/new/* | wc -l | tr -d ' ')"
done
same "the queue is empty" 0 "$(queued)"
same "every Message-ID the relay holds is unique" "" \
	"$(cat plain.md/new/* | grep -i '^Message-ID:' | sort | uniq -d)"

# ============ only a real loopback address is loopback ============
# A host name that merely starts with "127." may be anyone's (DNS can
# give 127.0.0.1.attacker.example any address): a mail with a token
# never goes to it without TLS.  Here libcurl resolves
# 127.0.0.1.localhost to the loopback address, so the relay that offers
# no STARTTLS would take it in the clear.
N3=nora@newcomer.example
cfg smtp_url "smtp://127.0.0.1.localhost:$P3" smtp_from "$FROM"
n=$(relay_n bare)
srun 0 "an invitation through smtp://127.0.0.1.localhost: the send succeeds" \
	smail-send -u $A -s 'Lookalike' -m body.txt $N3
err_has "with a warning that the mail needs TLS" 'warning.*TLS'
same "nothing reached the relay in the clear" "$n" "$(relay_n bare)"
same "the invitation stays queued" 1 "$(queued)"
srun 75 "flush through it: 75" smail-admin flush
same "still nothing sent" "$n" "$(relay_n bare)"
cfg smtp_url "smtp://localhost:$P3" smtp_from "$FROM"
srun 0 "flush through smtp://localhost, which is loopback" smail-admin flush
same "the relay has it" $((n + 1)) "$(relay_n bare)"
m=$(relay_mail bare $N3)
check "the invitation with its token" test -n "$(token_of "$m")"
same "in the clear, as loopback allows" no "$(field "$m" x-tls)"
same "the queue is empty" 0 "$(queued)"

# ============ the SMTP password appears nowhere ============
tls
# A command waiting for the store lock.
flock "$SMAIL_DIR/lock" sleep 3 &
holder=$!
sleep 0.3
smail-send -u $A -s 'While locked' -m body.txt $B >w.out 2>w.err &
w=$!
sleep 1
if [ -r /proc/$w/cmdline ] && kill -0 $w 2>/dev/null; then
	ok "smail-send waits for the store lock"
	tr '\0' '\n' </proc/$w/cmdline >w.cmdline
	check "its argv is what we gave" grep -qx 'While locked' w.cmdline
	check "its argv holds no password" eval '! grep -qaF -- "$SMTP_PW" w.cmdline'
	if tr '\0' '\n' </proc/$w/environ >w.environ 2>/dev/null && [ -s w.environ ]; then
		check "its environment holds no password" \
			eval '! grep -qaF -- "$SMTP_PW" w.environ'
	else
		ok "its environment cannot be read (not dumpable)"
	fi
else
	not_ok "smail-send waits for the store lock"
fi
wait $w
same "and then sends (exit 0)" 0 "$?"
wait $holder
cat w.out w.err >>seen.all

# A command inside the SMTP exchange: a relay that accepts and says
# nothing for a few seconds, while the command holds the password.
cat >tarpit.py <<'EOF'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(4)
c, _ = s.accept()
open(sys.argv[2], "w").write("connected\n")
time.sleep(4)
c.close()
EOF
rm -f tarpit.flag
"$PYTHON" tarpit.py $P7 "$scratch/tarpit.flag" >/dev/null 2>&1 &
echo $! >tarpit.bg
port_state $P7 up
cfg smtp_url "smtp://127.0.0.1:$P7" smtp_user portal \
	smtp_password_file "$scratch/smtp.pw" smtp_cafile "$scratch/cert.pem" \
	smtp_from "$FROM"
smail-send -u $A -s 'In the exchange' -m body.txt $B >x.out 2>x.err &
x=$!
i=0
while [ ! -s tarpit.flag ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ -s tarpit.flag ] && kill -0 $x 2>/dev/null; then
	ok "smail-send is talking to the relay (the password is loaded)"
	check "its argv holds no password" \
		eval '! tr "\0" "\n" </proc/$x/cmdline | grep -qaF -- "$SMTP_PW"'
	if tr '\0' '\n' </proc/$x/environ >x.environ 2>/dev/null && [ -s x.environ ]; then
		check "its environment holds no password" \
			eval '! grep -qaF -- "$SMTP_PW" x.environ'
	else
		ok "its environment cannot be read (not dumpable)"
	fi
	check "no file in the portal or runtime directory holds it meanwhile" \
		eval '! grep -r -a -q -F -- "$SMTP_PW" "$SMAIL_DIR" "$XDG_RUNTIME_DIR"'
else
	not_ok "smail-send is talking to the relay (the password is loaded)"
fi
wait $x
same "the relay hung up: the send still succeeds" 0 "$?"
cat x.out x.err >>seen.all
rm -f tarpit.bg
tls
srun 0 "(flush the rest)" smail-admin flush
same "(the queue is empty)" 0 "$(queued)"

check "the password is in no file of the portal or the runtime directory" \
	eval '! grep -r -a -q -F -e "$SMTP_PW" -e "$plain64" -e "$pw64" "$SMAIL_DIR" "$XDG_RUNTIME_DIR"'
check "no command printed it (stdout or stderr)" \
	eval 'test -s seen.all && ! grep -qaF -- "$SMTP_PW" seen.all'
check "no relay received it in a mail" \
	eval '! cat ./*.md/new/* | grep -qaF -- "$SMTP_PW"'
done_testing
