#!/bin/sh
# smail-fetch -z: the zip holds manifest.txt (the SHA-256 of every
# file, the message id, sender and date, the sender's signed statement,
# the portal's signature); smail-fetch --verify checks it offline,
# names the signer, and pins the keys when a portal is at hand.  Every
# kind of tampering exits 65 with a line naming what fails.
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

# --- verified offline ---
run 0 "--verify with no portal at hand: 0" verify m.zip
cp out verified
out_has "names the message and its sender" "verified: message $M from $A"
out_has "with the sender's key and the portal's" "\\(key $fp\\).*signed by the portal \\(key $fp\\)"
check "lists each file as ok" test "$(grep -ic '^ok	' out)" = 3
check "says nothing of this portal" eval '! grep -q "this portal" out'
check "made no portal in HOME" test -z "$(ls -A nohome)"
run 0 "with SMAIL_DIR set: 0" smail-fetch --verify m.zip
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
run 0 "verifies offline: 0" verify p2.zip
out_has "naming its sender" "verified: message $id from $A"
k1=$(grep -Eo "signed by the portal \\(key $fp\\)" verified)
k2=$(grep -Eo "signed by the portal \\(key $fp\\)" out)
check "and a portal key that is not the first portal's" test -n "$k1" -a "$k1" != "$k2"
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
import base64, hashlib, subprocess, sys, zipfile

def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

def b64e(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")

src, dst, ops = sys.argv[1], sys.argv[2], sys.argv[3:]
z = zipfile.ZipFile(src)
names = z.namelist()
data = {n: z.read(n) for n in names}

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

with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
    for n in names:
        out.writestr(n, data[n])
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
	"$PYTHON" ztool.py m.zip rs.zip resign "$edsign" "$k"
	run 0 "re-signed, nothing else changed: the content verifies offline" verify rs.zip
	check "naming the key that signed it, not this portal's" \
		eval '! grep -qF "$k1" out && grep -qF "$k2" out'
	run 65 "with SMAIL_DIR set, the key is pinned: 65" smail-fetch --verify rs.zip
	out_has "another portal's key" "another portal's key"
fi

# --- several zips ---
run 65 "--verify of a good and a bad zip: 65" verify m.zip t1.zip
out_has "the good one verified" "^m\\.zip: verified: message $M"
out_has "the bad one not" '^t1\.zip: does NOT verify'
run 0 "two good ones: 0" verify m.zip m2.zip
same "two verified lines" 2 "$(grep -c ': verified: ' out)"
done_testing
