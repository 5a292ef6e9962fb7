#!/bin/sh
# smail-fetch -z: the zip holds manifest.txt (the SHA-256 of every
# file, the message id, sender and date, the sender's signed statement,
# the portal's signature); smail-fetch --verify checks it offline and
# names the signer.  Every file must be one the sender's statement
# accounts for.  It says "verified" only when the portal key is pinned,
# by --portal-key or by the portal at hand; without, it exits 65 saying
# the key is not pinned.  Every kind of tampering exits 65 with a line
# naming what fails.
. "$(dirname "$0")/lib.sh"

exec </dev/null
unset VISUAL EDITOR

A=alice@agency.gov B=bob@partner.example C=carol@partner.example
new_portal
add_user $A 'Kite#Zebra42x' "Alice Agent"
add_user $B 'Tulip&River77q' "Bob Partner"
add_user $C 'Maple@Stone31z' "Carol Client"
for u in $A $B; do smail-register --login --password-file "pw.$u" $u 2>/dev/null; done

skip() { ok "# SKIP $1"; }
mkdir -m 700 nohome
# verify ZIP...: smail-fetch --verify with no portal anywhere: no
# SMAIL_DIR, and a HOME without one.
verify() { env -u SMAIL_DIR HOME="$scratch/nohome" smail-fetch --verify "$@"; }
fp='[0-9a-f]{16}'

# --- a zip, on this portal ---
subj='Zip subject Okapi'
printf 'The body of the zipped message\n' >body.txt
printf 'first attachment\n' >a1.txt
head -c 70000 /dev/urandom >a2.bin
id=$(smail-send -u $A -s "$subj" -a a1.txt -a a2.bin -m body.txt $B 2>/dev/null)
M=$id
id2=$(smail-send -u $A -s 'Another one' -a a1.txt -m body.txt $B 2>/dev/null)
M2=$id2
run 0 "smail-fetch -z" smail-fetch -u $B -z -o m.zip "$M"
run 0 "another, for later" smail-fetch -u $B -z -o m2.zip "$M2"
run 0 "bsdtar lists it" bsdtar -tf m.zip
same "message.txt, the attachments and manifest.txt" \
	"a1.txt a2.bin manifest.txt message.txt" "$(LC_ALL=C sort out | tr '\n' ' ' | sed 's/ $//')"
mkdir x
bsdtar -xf m.zip -C x 2>/dev/null
mf=x/manifest.txt
same "manifest.txt starts with its version" 'smail-manifest-v1' "$(head -n 1 $mf)"
same "names the message, the sender, the date" \
	"message: $M
sender: $A
date: $(smail-inbox --user $B 2>/dev/null | awk -F '\t' -v id="$M" '$1 == id { print $2 }')" \
	"$(sed -n '2,4p' $mf)"
for f in message.txt a1.txt a2.bin; do
	h=$(sha256sum "x/$f" | cut -d ' ' -f 1)
	check "the SHA-256 of $f" grep -Eq "^file: $h .* $f\$" $mf
done
same "a portal signature at the end" 1 \
	"$(tail -n 1 $mf | grep -Ec '^portal-signature: [A-Za-z0-9_-]{86}$')"
check "the sender's statement before it" grep -Eq '^statement: [A-Za-z0-9_-]+$' $mf
check "the portal's key" grep -Eq '^portal-key: [A-Za-z0-9_-]{43}$' $mf

# --- checked offline ---
fp1=$(smail-admin keys 2>/dev/null | awk -F '\t' '$1 == "signing-key" { print $2 }')
check "smail-admin keys prints the portal key's fingerprint" \
	eval 'printf "%s\n" "$fp1" | grep -Eqx "$fp"'
run 65 "--verify with no portal at hand and no --portal-key: 65" verify m.zip
out_has "names the message and its sender" "^m\\.zip: not verified: message $M from $A "
out_has "with the sender's key, the portal's, and that it is not pinned" \
	"\\(key $fp\\) of .*; signatures intact, but the portal key \\($fp1\\) is not pinned: give --portal-key or -d\$"
check "never says verified" eval '! grep -q ": verified:" out'
err_has "and says so on standard error" "m\\.zip: not verified: the portal key is not pinned"
check "lists each file as ok" test "$(grep -ic '^ok	' out)" = 3
check "made no portal in HOME" test -z "$(ls -A nohome)"
run 0 "--portal-key with the fingerprint smail-admin keys prints: 0" \
	verify --portal-key "$fp1" m.zip
cp out verified
out_has "verified, naming the message and its sender" "^m\\.zip: verified: message $M from $A"
out_has "with the sender's key and the portal's" "\\(key $fp\\).*signed by the portal \\(key $fp1\\), the pinned key\$"
check "says nothing of this portal" eval '! grep -q "this portal" out'
pk1=$(sed -n 's/^portal-key: //p' $mf)
run 0 "--portal-key with the whole key: 0" verify --portal-key "$pk1" m.zip
out_has "verified" "^m\\.zip: verified: "
fpu=$(printf '%s' "$fp1" | tr a-f A-F)
run 0 "--portal-key in capitals: 0" verify --portal-key "$fpu" m.zip
run 65 "--portal-key of another key: 65" verify --portal-key 0123456789abcdef m.zip
out_has "another portal's key" "^BAD	signed by another portal's key"
check "not verified" eval '! grep -q ": verified:" out'
run 64 "--portal-key that is no fingerprint: 64" verify --portal-key 12345 m.zip
err_has "saying what it takes" "not a key's fingerprint"
run 64 "--portal-key without --verify: 64" smail-fetch --portal-key "$fp1" "$M"
run 0 "with SMAIL_DIR set (the portal at hand pins it): 0" smail-fetch --verify m.zip
out_has "and the keys pinned to this portal" "verified: message $M from $A.*this portal"
run 0 "with -d DIR: the same" env -u SMAIL_DIR smail-fetch -d "$SMAIL_DIR" --verify m.zip
out_has "this portal" 'this portal'
run 66 "a missing zip: 66" verify no-such.zip
printf 'not a zip at all\n' >junk.zip
run 65 "a file that is not a zip: 65" verify junk.zip

# --- a second portal ---
P2=$scratch/portal2
smail-admin -d "$P2" init --pwhash interactive 2>/dev/null
smail-admin -d "$P2" add --password-file pw.$A $A 2>/dev/null
smail-admin -d "$P2" add --password-file pw.$B $B 2>/dev/null
id=$(smail-send -d "$P2" -u $A --password-file pw.$A -s "$subj" -a a1.txt -a a2.bin \
	-m body.txt $B 2>/dev/null)
run 0 "a zip from a second portal" \
	smail-fetch -d "$P2" -u $B --password-file pw.$B -z -o p2.zip "$id"
fp2=$(smail-admin -d "$P2" keys 2>/dev/null | awk -F '\t' '$1 == "signing-key" { print $2 }')
run 0 "verifies offline with its own portal's key pinned: 0" verify --portal-key "$fp2" p2.zip
out_has "naming its sender" "verified: message $id from $A"
k1=$(grep -Eo "signed by the portal \\(key $fp\\)" verified)
k2=$(grep -Eo "signed by the portal \\(key $fp\\)" out)
check "and a portal key that is not the first portal's" test -n "$k1" -a "$k1" != "$k2"
run 65 "with the first portal's key pinned: 65" verify --portal-key "$fp1" p2.zip
out_has "another portal's key" "another portal's key"
run 65 "with SMAIL_DIR at the first portal: 65" smail-fetch --verify p2.zip
out_has "another portal's key" "another portal's key"
out_has "and not alice's key there" "sender key is not $A"

# --- tampering: each one exits 65 and says what fails ---
cat >ztool.py <<'EOF'
# ztool.py IN OUT OP...: the zip IN rebuilt as OUT after the OPs:
#   drop NAME | put NAME FILE | sub NAME OLD NEW     (entries)
#   line KEY VALUE     manifest.txt's "KEY: ..." line becomes "KEY: VALUE"
#   stmt-sub OLD NEW   a change inside the sender's statement (same length)
#   stmt-from ZIP      the sender's statement of another zip
#   rehash             every file line's SHA-256 recomputed
#   resign SIGNER KEY  portal-key and portal-signature from another key
#   unlist NAME        NAME's file line removed
#   list NAME TAG      a file line for NAME ("-" or "att=N") added
#   rename OLD NEW     an entry renamed, and its file line
#   dup NAME FILE      a second entry NAME, holding FILE
#   hide NAME          NAME left out of the central directory (its entry
#                      stays, for readers of a stream to find)
#   append NAME TEXT   TEXT added at the end of NAME
#   link NAME TARGET   an entry NAME that is a symbolic link to TARGET
import base64, hashlib, struct, subprocess, sys, zipfile

def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

def b64e(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")

src, dst, ops = sys.argv[1], sys.argv[2], sys.argv[3:]
z = zipfile.ZipFile(src)
names = z.namelist()
data = {n: z.read(n) for n in names}
extra = []
hidden = []
links = {}

def lines():
    return data["manifest.txt"].decode().split("\n")[:-1]

def put(ls):
    data["manifest.txt"] = ("\n".join(ls) + "\n").encode()

def get(ls, key):
    for l in ls:
        if l.startswith(key + ": "):
            return l[len(key) + 2:]
    sys.exit("no %s line" % key)

def setline(key, value):
    ls = lines()
    get(ls, key)
    put([key + ": " + value if l.startswith(key + ": ") else l for l in ls])

def sign(signer, key, msg):
    r = subprocess.run([signer, key], input=msg, stdout=subprocess.PIPE, check=True)
    return r.stdout.decode().split("\n")[:2]

i = 0
while i < len(ops):
    op = ops[i]
    if op == "drop":
        names.remove(ops[i + 1]); i += 2
    elif op == "put":
        if ops[i + 1] not in names:
            names.insert(len(names) - 1, ops[i + 1])
        data[ops[i + 1]] = open(ops[i + 2], "rb").read(); i += 3
    elif op == "sub":
        n, old, new = ops[i + 1], ops[i + 2].encode(), ops[i + 3].encode()
        if old not in data[n]:
            sys.exit("%r is not in %s" % (old, n))
        data[n] = data[n].replace(old, new, 1); i += 4
    elif op == "line":
        setline(ops[i + 1], ops[i + 2]); i += 3
    elif op == "stmt-sub":
        s = b64d(get(lines(), "statement"))
        old, new = ops[i + 1].encode(), ops[i + 2].encode()
        if old not in s or len(old) != len(new):
            sys.exit("cannot change %r in the statement" % old)
        setline("statement", b64e(s.replace(old, new, 1))); i += 3
    elif op == "stmt-from":
        other = zipfile.ZipFile(ops[i + 1]).read("manifest.txt").decode().split("\n")
        setline("statement", get(other, "statement")); i += 2
    elif op == "unlist":
        ls = lines()
        put([l for l in ls if not (l.startswith("file: ") and
                                   l.split(" ", 3)[3] == ops[i + 1])]); i += 2
    elif op == "list":
        n, tag = ops[i + 1], ops[i + 2]
        ls = lines()
        last = max(k for k, l in enumerate(ls) if l.startswith("file: "))
        ls.insert(last + 1, "file: %s %s %s" %
                  (hashlib.sha256(data[n]).hexdigest(), tag, n))
        put(ls); i += 3
    elif op == "rename":
        old, new = ops[i + 1], ops[i + 2]
        names[names.index(old)] = new
        data[new] = data.pop(old)
        ls = lines()
        for k, l in enumerate(ls):
            f = l.split(" ", 3)
            if l.startswith("file: ") and f[3] == old:
                ls[k] = " ".join(f[:3] + [new])
        put(ls); i += 3
    elif op == "append":
        data[ops[i + 1]] += ops[i + 2].encode(); i += 3
    elif op == "link":
        if ops[i + 1] not in names:
            names.insert(len(names) - 1, ops[i + 1])
        links[ops[i + 1]] = True
        data[ops[i + 1]] = ops[i + 2].encode(); i += 3
    elif op == "hide":
        hidden.append(ops[i + 1]); i += 2
    elif op == "dup":
        extra.append((ops[i + 1], open(ops[i + 2], "rb").read())); i += 3
    elif op == "rehash":
        ls = lines()
        for k, l in enumerate(ls):
            if l.startswith("file: "):
                f = l.split(" ", 3)
                if f[3] in data:
                    f[1] = hashlib.sha256(data[f[3]]).hexdigest()
                    ls[k] = " ".join(f)
        put(ls); i += 1
    elif op == "resign":
        signer, key = ops[i + 1], ops[i + 2]
        pk = sign(signer, key, b"")[0]
        ls = [("portal-key: " + pk) if l.startswith("portal-key: ") else l
              for l in lines() if not l.startswith("portal-signature: ")]
        body = ("\n".join(ls) + "\n").encode()
        sig = sign(signer, key, body)[1]
        data["manifest.txt"] = body + ("portal-signature: %s\n" % sig).encode()
        i += 3
    else:
        sys.exit("unknown op " + op)

import warnings
warnings.simplefilter("ignore")
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
    for n in names:
        if n in links:
            zi = zipfile.ZipInfo(n)
            zi.create_system = 3
            zi.external_attr = 0o120777 << 16
            out.writestr(zi, data[n])
        else:
            out.writestr(n, data[n])
    for n, d in extra:
        out.writestr(n, d)
if hidden:
    b = open(dst, "rb").read()
    e = b.rfind(b"PK\x05\x06")
    size, off = struct.unpack("<II", b[e + 12:e + 20])
    cd, kept, p, n = b[off:off + size], b"", 0, 0
    while p < len(cd):
        nl, xl, cl = struct.unpack("<HHH", cd[p + 28:p + 34])
        rec = cd[p:p + 46 + nl + xl + cl]
        if cd[p + 46:p + 46 + nl].decode() not in hidden:
            kept += rec
            n += 1
        p += len(rec)
    open(dst, "wb").write(b[:off] + kept + b[e:e + 8] +
                          struct.pack("<HHII", n, n, len(kept), off) + b[e + 20:])
EOF
# A signer with another portal's key, as a forger holding one would
# use it (libsodium is a build dependency).
cat >edsign.c <<'EOF'
#include <sodium.h>
#include <stdio.h>
#include <string.h>
/* edsign KEYFILE: prints the key's public half and the signature of
 * standard input, both base64url. */
int
main(int argc, char **argv)
{
	static unsigned char msg[1 << 20];
	unsigned char sk[64], sig[64];
	char line[256], b[200];
	size_t n, len;
	FILE *f;

	if (argc != 2 || sodium_init() < 0 || !(f = fopen(argv[1], "r")))
		return 66;
	if (!fgets(line, sizeof line, f))
		return 65;
	fclose(f);
	line[strcspn(line, "\n")] = 0;
	if (strncmp(line, "smail-portal-key-v1 ", 20) != 0 ||
	    sodium_base642bin(sk, 64, line + 20, strlen(line + 20), NULL, &len,
	    NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || len != 64)
		return 65;
	n = fread(msg, 1, sizeof msg, stdin);
	crypto_sign_detached(sig, NULL, msg, n, sk);
	printf("%s\n", sodium_bin2base64(b, sizeof b, sk + 32, 32,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING));
	printf("%s\n", sodium_bin2base64(b, sizeof b, sig, 64,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING));
	return 0;
}
EOF
edsign=
${CC:-cc} -o edsign edsign.c $(pkg-config --cflags --libs libsodium 2>/dev/null || echo -lsodium) \
	2>/dev/null && edsign=$scratch/edsign
# tamper DESC PATTERN OP...: m.zip rebuilt with the OPs must not verify
# offline (65), with a line matching PATTERN.
tn=0
tamper() {
	_d=$1 _p=$2
	shift 2
	tn=$((tn + 1))
	if ! "$PYTHON" ztool.py m.zip "t$tn.zip" "$@" 2>ztool.err; then
		not_ok "$_d: (the test could not build the zip)"
		diag <ztool.err
		return
	fi
	run 65 "$_d: 65" verify "t$tn.zip"
	if cat out err | grep -Eq -- "$_p"; then
		ok "$_d: says what fails"
	else
		not_ok "$_d: says what fails"
		cat out err | diag
	fi
	check "$_d: and does not say verified" eval '! grep -q ": verified:" out'
}
run 0 "the zip rebuilt unchanged still verifies (the tool is sound)" \
	sh -c '"$0" ztool.py m.zip t0.zip && smail-fetch --verify t0.zip' "$PYTHON"
run 0 "and with --portal-key" verify --portal-key "$fp1" t0.zip
printf 'not what was sent\n' >evil.txt
tamper "an attachment's bytes changed" "^CHANGED	a1\\.txt" sub a1.txt first First
tamper "an attachment replaced" "^CHANGED	a2\\.bin" put a2.bin evil.txt
tamper "message.txt's body changed" "^CHANGED	message\\.txt" sub message.txt 'zipped message' 'zipped massage'
tamper "message.txt's headers changed" "^CHANGED	message\\.txt" sub message.txt "$subj" 'Zip subject Okapo'
tamper "a line of manifest.txt changed (the date)" "portal's signature" line date 2020-01-01T00:00:00Z
tamper "the sender line changed" "portal's signature" line sender $C
h=$(sha256sum x/a1.txt | cut -d ' ' -f 1)
h2=$(printf '%s' "$h" | tr 0-9a-f 1-9a-f0)
tamper "a file's hash in manifest.txt changed" "portal's signature" \
	sub manifest.txt "file: $h" "file: $h2"
tamper "an attachment dropped" "^MISSING	a2\\.bin" drop a2.bin
tamper "a file added" "^UNLISTED	evil\\.txt" put evil.txt evil.txt
tamper "a file added that only readers of a stream see" \
	"central directory and its entries do not name the same files" \
	put evil.txt evil.txt hide evil.txt
run 0 "(bsdtar reading a stream finds it)" sh -c "cat t$tn.zip | bsdtar -tf -"
out_has "(evil.txt)" '^evil\.txt$'
tamper "message.txt dropped" "^MISSING	message\\.txt" drop message.txt
tamper "manifest.txt dropped" "manifest" drop manifest.txt
sig2=$(bsdtar -xOf p2.zip manifest.txt | sed -n 's/^portal-signature: //p')
pk2=$(bsdtar -xOf p2.zip manifest.txt | sed -n 's/^portal-key: //p')
tamper "the portal signature replaced (another portal's)" "portal's signature" \
	line portal-signature "$sig2"
tamper "another portal's key swapped in" "portal's signature" line portal-key "$pk2"
tamper "another portal's key and signature swapped in" "portal's signature" \
	line portal-key "$pk2" line portal-signature "$sig2"
tamper "the sender's statement changed (its subject)" "statement" stmt-sub Okapi Okapo
tamper "the statement of another message swapped in" "portal's signature|statement" \
	stmt-from m2.zip

# A forger holding some portal key (here the second portal's) signs the
# manifest again after the change: the sender's signature still tells.
if [ -z "$edsign" ]; then
	skip "re-signed forgeries (no C compiler or libsodium for the signer)"
else
	k=$P2/portal.key
	tamper "re-signed: the statement's subject changed" \
		"sender's statement does not verify" stmt-sub Okapi Okapo resign "$edsign" "$k"
	tamper "re-signed: an attachment changed, its hash updated" \
		"^CHANGED	a1\\.txt" sub a1.txt first First rehash resign "$edsign" "$k"
	tamper "re-signed: the body changed, its hash updated" \
		"^CHANGED	message\\.txt" sub message.txt 'zipped message' 'zipped massage' \
		rehash resign "$edsign" "$k"
	tamper "re-signed: another message's statement swapped in" \
		"not this message's" stmt-from m2.zip resign "$edsign" "$k"
	tamper "re-signed: the second portal's alice's statement swapped in" \
		"statement" stmt-from p2.zip resign "$edsign" "$k"
	tamper "re-signed: the sender line changed" \
		"statement" line sender $C resign "$edsign" "$k"
	# The sender signed the subject, recipients and date: the headers of
	# message.txt and the manifest's date must agree with what she signed.
	# (Same-length changes, so that the body stays where the manifest
	# says it is.)
	tamper "re-signed: message.txt's Subject changed, its hash updated" \
		"^(CHANGED|BAD)	" \
		sub message.txt "Subject: $subj" 'Subject: Pay subject Okapi' rehash resign "$edsign" "$k"
	tamper "re-signed: message.txt's To changed, its hash updated" \
		"^(CHANGED|BAD)	" \
		sub message.txt "To: $B" 'To: eve@partner.example' rehash resign "$edsign" "$k"
	tamper "re-signed: the manifest's date changed" \
		"^(CHANGED|BAD)	" line date 2020-01-01T00:00:00Z resign "$edsign" "$k"

	# Files renamed, dropped or added, the manifest made to match and
	# signed again: every file must be one the sender's statement
	# accounts for, whoever signed the manifest, so these fail as
	# tampered with, and even with the key that signed them pinned.
	forged() {
		_d=$1 _p=$2
		shift 2
		tn=$((tn + 1))
		if ! "$PYTHON" ztool.py m.zip "t$tn.zip" "$@" resign "$edsign" "$k" \
		    2>ztool.err; then
			not_ok "$_d: (the test could not build the zip)"
			diag <ztool.err
			return
		fi
		for _pin in "" "$fp2"; do
			if [ -n "$_pin" ]; then
				_w=", with its signer's key pinned"
				run 65 "$_d: 65$_w" verify --portal-key "$_pin" "t$tn.zip"
			else
				_w=""
				run 65 "$_d: 65" verify "t$tn.zip"
			fi
			if cat out err | grep -Eq -- "$_p"; then
				ok "$_d: says what fails$_w"
			else
				not_ok "$_d: says what fails$_w"
				cat out err | diag
			fi
			check "$_d: and does not verify$_w" \
				eval '! grep -q ": verified:" out && ! grep -q "not pinned" out'
		done
	}
	forged "re-signed: an attachment and its line dropped" "^MISSING	a2\\.bin\$" \
		drop a2.bin unlist a2.bin
	forged "re-signed: an attachment renamed, and its line" "^MISSING	a1\\.txt\$" \
		rename a1.txt b1.txt
	out_has "and the new name is named" "^UNLISTED	b1\\.txt\$"
	forged "re-signed: a file added, listed" "^UNLISTED	evil\\.txt\$" \
		put evil.txt evil.txt list evil.txt -
	forged "re-signed: a file added, listed as a second attachment" \
		"^UNLISTED	evil\\.txt\$" put evil.txt evil.txt list evil.txt att=1
	forged "re-signed: a file added, listed as no attachment (att=-1)" \
		"malformed file line" put evil.txt evil.txt list evil.txt att=-1
	forged "re-signed: a file added under an attachment's name, unlisted" \
		"^UNLISTED	a1\\.txt \\(a second file of that name\\)\$" dup a1.txt evil.txt
	forged "re-signed: a second message.txt" \
		"^UNLISTED	message\\.txt \\(a second file of that name\\)\$" \
		dup message.txt evil.txt
	forged "re-signed: message.txt renamed" "^MISSING	message\\.txt\$" \
		rename message.txt note.txt
	forged "re-signed: message.txt listed as an attachment" \
		"does not list message\\.txt" unlist message.txt list message.txt att=0
	forged "re-signed: text added after the body" "^CHANGED	message\\.txt \\(the body\\)\$" \
		append message.txt 'Pay to account 12345.' rehash
	forged "re-signed: an attachment made a symbolic link" \
		"^UNLISTED	a1\\.txt \\(not a file\\)\$" link a1.txt /etc/passwd rehash
	printf 'x\n' >nl.txt
	forged "re-signed: a name with a newline and a TAB in it" \
		"^UNLISTED	evil OK message\\.txt\$" put "$(printf 'evil\nOK\tmessage.txt')" nl.txt
	check "which makes no line of its own" eval '[ "$(grep -c "^OK	message\.txt\$" out)" = 1 ]'

	# A zip made up from scratch: a statement for alice, a manifest,
	# both signed with another portal's key.
	cat >mkzip.py <<'EOF'
# mkzip.py SIGNER KEY OUT SENDER RCPT: a whole zip made up, signed by KEY
import base64, hashlib, struct, subprocess, sys, time, zipfile
signer, key, dst, sender, rcpt = sys.argv[1:6]
def b64e(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")
def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
def sign(msg):
    r = subprocess.run([signer, key], input=msg, stdout=subprocess.PIPE, check=True)
    return r.stdout.decode().split("\n")[:2]
def f(tag, v):
    return bytes([tag]) + struct.pack(">I", len(v)) + v
def ref(part, data):
    return struct.pack(">IQ", part, len(data)) + \
        hashlib.blake2b(data, digest_size=32).digest()
pk = sign(b"")[0]
mid, now = "madeupmadeup0001", int(time.time())
when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
body, att = b"Please pay the invoice today.\n", b"IBAN XX00 0000\n"
st = b"SMT1" + f(1, mid.encode()) + f(2, sender.encode()) + f(3, b"") + \
    f(4, b64d(pk)) + f(5, rcpt.encode()) + f(7, struct.pack(">Q", now)) + \
    f(8, b"Invoice") + f(9, ref(1, body)) + f(11, ref(2, att) + b"invoice.txt")
h = hashlib.blake2b(b"smail-stmt-v1" + st, digest_size=64).digest()
st += f(31, b64d(sign(h)[1]))
head = ("From: %s\nTo: %s\nDate: %s\nSubject: Invoice\n"
        "Attachments: invoice.txt (%d bytes)\n\n" % (sender, rcpt, when, len(att))).encode()
msg = head + body
mf = "smail-manifest-v1\nmessage: %s\nsender: %s\ndate: %s\nsender-key: %s\n" \
    "portal-key: %s\n" % (mid, sender, when, pk, pk)
mf += "file: %s - message.txt\n" % hashlib.sha256(msg).hexdigest()
mf += "file: %s att=0 invoice.txt\n" % hashlib.sha256(att).hexdigest()
mf += "body: message.txt %d %d\nstatement: %s\n" % (len(head), len(body), b64e(st))
mf = mf.encode()
mf += ("portal-signature: %s\n" % sign(mf)[1]).encode()
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("message.txt", msg)
    z.writestr("invoice.txt", att)
    z.writestr("manifest.txt", mf)
EOF
	if "$PYTHON" mkzip.py "$edsign" "$k" scratch.zip $A $B 2>ztool.err; then
		run 65 "a zip made up from scratch, unpinned: 65" verify scratch.zip
		out_has "consistent, but its key not pinned" \
			"^scratch\\.zip: not verified: message madeupmadeup0001 from $A .*not pinned"
		check "and it is not verified" eval '! grep -q ": verified:" out'
		run 0 "(the made-up zip is consistent: with its own key pinned, 0)" \
			verify --portal-key "$fp2" scratch.zip
		run 65 "made up from scratch, with this portal's key pinned: 65" \
			verify --portal-key "$fp1" scratch.zip
		out_has "another portal's key" "^BAD	signed by another portal's key"
		run 65 "made up from scratch, with this portal at hand: 65" \
			smail-fetch --verify scratch.zip
		out_has "another portal's key" "^BAD	signed by another portal's key"
		out_has "and not alice's key here" "^BAD	the sender key is not $A's"
		"$PYTHON" mkzip.py "$edsign" "$k" ghost.zip nobody@agency.gov $B 2>/dev/null
		run 65 "made up for a sender with no account, this portal at hand: 65" \
			smail-fetch --verify ghost.zip
		out_has "saying there is no such account" \
			"^BAD	the sender nobody@agency\\.gov has no account on this portal"
	else
		not_ok "a zip made up from scratch (the test could not build it)"
		diag <ztool.err
	fi

	"$PYTHON" ztool.py m.zip rs.zip resign "$edsign" "$k"
	run 65 "re-signed, nothing else changed: consistent, but not pinned: 65" verify rs.zip
	out_has "saying the portal key is not pinned" "not verified: .* is not pinned"
	check "naming the key that signed it, not this portal's" \
		eval '! grep -qF "$fp1" out && grep -qF "$fp2" out'
	run 65 "with SMAIL_DIR set, the key is pinned: 65" smail-fetch --verify rs.zip
	out_has "another portal's key" "another portal's key"
	run 65 "with --portal-key, the same: 65" verify --portal-key "$fp1" rs.zip
	out_has "another portal's key" "another portal's key"
fi

# --- several zips ---
run 65 "--verify of a good and a bad zip: 65" verify --portal-key "$fp1" m.zip t1.zip
out_has "the good one verified" "^m\\.zip: verified: message $M"
out_has "the bad one not" '^t1\.zip: does NOT verify'
run 0 "two good ones: 0" verify --portal-key "$fp1" m.zip m2.zip
same "two verified lines" 2 "$(grep -c ': verified: ' out)"
done_testing
