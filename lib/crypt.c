/*
 * crypt.c: account key pairs, the wraps that hold their secret halves,
 * symmetric AEAD, subkeys and tokens (SPEC §2).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "smail.h"

static void
pk_statement(sm_buf *b, const char *canon, const unsigned char box_pk[32])
{
	sm_buf_puts(b, "smail-acct-v1");
	sm_buf_putc(b, 0);
	sm_buf_put(b, box_pk, 32);
	sm_buf_puts(b, canon);
}

void
sm_keys_generate(const char *canon, struct sm_pubkeys *pub, struct sm_keys *k)
{
	sm_buf b = { 0 };

	crypto_sign_keypair(pub->sign_pk, k->sign_sk);
	crypto_box_keypair(pub->box_pk, k->box_sk);
	pk_statement(&b, canon, pub->box_pk);
	crypto_sign_detached(pub->sig, NULL, b.p, b.len, k->sign_sk);
	sm_buf_free(&b);
}

/*
 * Every account record read is checked, and a batch reads the same few
 * accounts again for each of its messages: the statements that checked
 * lately are remembered (a hash of the address and all three keys), so
 * that an Ed25519 verify (about 50 us) runs once per account a process.
 */
#define VERIFIED 32

int
sm_pubkeys_verify(const char *canon, const struct sm_pubkeys *pub)
{
	static unsigned char seen[VERIFIED][32];
	static unsigned nseen, next;
	crypto_generichash_state st;
	unsigned char h[32];
	sm_buf b = { 0 };
	unsigned i;
	int rc;

	pk_statement(&b, canon, pub->box_pk);
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, b.p, b.len);
	crypto_generichash_update(&st, pub->sign_pk, 32);
	crypto_generichash_update(&st, pub->sig, 64);
	crypto_generichash_final(&st, h, sizeof h);
	for (i = 0; i < nseen; i++)
		if (sodium_memcmp(seen[i], h, 32) == 0) {
			sm_buf_free(&b);
			return 0;
		}
	rc = crypto_sign_verify_detached(pub->sig, b.p, b.len, pub->sign_pk);
	sm_buf_free(&b);
	if (rc != 0)
		return -1;
	memcpy(seen[next], h, 32);
	next = (next + 1) % VERIFIED;
	if (nseen < VERIFIED)
		nseen++;
	return 0;
}

int
sm_keys_match(const struct sm_keys *k, const struct sm_pubkeys *pub)
{
	unsigned char pk[32];

	crypto_scalarmult_base(pk, k->box_sk);
	if (sodium_memcmp(pk, pub->box_pk, 32) != 0)
		return 0;
	/* An Ed25519 secret key carries its public key in its last half. */
	return sodium_memcmp(k->sign_sk + 32, pub->sign_pk, 32) == 0;
}

void
sm_pwparams_new(struct sm_pwparams *pp, int level)
{
	size_t mem;

	randombytes_buf(pp->salt, sizeof pp->salt);
	sm_pwhash_limits(level, &pp->ops, &mem);
	pp->mem = mem;
}

int
sm_pwhash_key(unsigned char key[32], const char *pw, const struct sm_pwparams *pp)
{
	if (pp->ops < crypto_pwhash_OPSLIMIT_MIN ||
	    pp->ops > crypto_pwhash_OPSLIMIT_SENSITIVE ||
	    pp->mem < crypto_pwhash_MEMLIMIT_MIN ||
	    pp->mem > crypto_pwhash_MEMLIMIT_SENSITIVE)
		return sm_err(EX_DATAERR, "stored password parameters out of range");
	if (crypto_pwhash(key, 32, pw, strlen(pw), pp->salt, pp->ops,
	    (size_t)pp->mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return sm_err(EX_OSERR, "out of memory for the password hash");
	return 0;
}

static void
wrap_ad(sm_buf *ad, const char *label, const char *canon,
    const struct sm_pubkeys *pub)
{
	sm_buf_puts(ad, label);
	sm_buf_putc(ad, 0);
	sm_buf_puts(ad, canon);
	sm_buf_putc(ad, 0);
	sm_buf_put(ad, pub->sign_pk, 32);
	sm_buf_put(ad, pub->box_pk, 32);
}

void
sm_wrap(unsigned char out[SM_WRAP_BYTES], const unsigned char key[32],
    const char *label, const char *canon, const struct sm_pubkeys *pub,
    const struct sm_keys *k)
{
	sm_buf ad = { 0 };

	wrap_ad(&ad, label, canon, pub);
	randombytes_buf(out, 24);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + 24, NULL,
	    (const unsigned char *)k, SM_BUNDLE_BYTES, ad.p, ad.len, NULL, out, key);
	sm_buf_free(&ad);
}

int
sm_unwrap(struct sm_keys *k, const unsigned char in[SM_WRAP_BYTES],
    const unsigned char key[32], const char *label, const char *canon,
    const struct sm_pubkeys *pub)
{
	sm_buf ad = { 0 };
	int rc;

	wrap_ad(&ad, label, canon, pub);
	rc = crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)k, NULL,
	    NULL, in + 24, SM_WRAP_BYTES - 24, ad.p, ad.len, in, key);
	sm_buf_free(&ad);
	if (rc != 0 || !sm_keys_match(k, pub)) {
		sodium_memzero(k, sizeof *k);
		return -1;
	}
	return 0;
}

static void
seal_binding(unsigned char out[32], const char *canon,
    const struct sm_pubkeys *pub)
{
	sm_buf b = { 0 };

	wrap_ad(&b, "smail-seal-v1", canon, pub);
	crypto_generichash(out, 32, b.p, b.len, NULL, 0);
	sm_buf_free(&b);
}

void
sm_seal(unsigned char out[SM_SEAL_BYTES], const unsigned char pk[32],
    const char *canon, const struct sm_pubkeys *pub, const struct sm_keys *k)
{
	unsigned char *m = sm_secret_alloc(32 + SM_BUNDLE_BYTES);

	seal_binding(m, canon, pub);
	memcpy(m + 32, k, SM_BUNDLE_BYTES);
	crypto_box_seal(out, m, 32 + SM_BUNDLE_BYTES, pk);
	sm_secret_free(m);
}

int
sm_unseal(struct sm_keys *k, const unsigned char in[SM_SEAL_BYTES],
    const unsigned char pk[32], const unsigned char sk[32],
    const char *canon, const struct sm_pubkeys *pub)
{
	unsigned char *m = sm_secret_alloc(32 + SM_BUNDLE_BYTES), bind[32];
	int rc = -1;

	seal_binding(bind, canon, pub);
	if (crypto_box_seal_open(m, in, SM_SEAL_BYTES, pk, sk) == 0 &&
	    sodium_memcmp(m, bind, 32) == 0) {
		memcpy(k, m + 32, SM_BUNDLE_BYTES);
		rc = sm_keys_match(k, pub) ? 0 : -1;
	}
	if (rc)
		sodium_memzero(k, sizeof *k);
	sm_secret_free(m);
	return rc;
}

void
sm_aead_seal(sm_buf *out, const unsigned char key[32], const void *ad,
    size_t adlen, const void *m, size_t mlen)
{
	unsigned char nonce[24];
	size_t off;

	randombytes_buf(nonce, sizeof nonce);
	sm_buf_put(out, nonce, sizeof nonce);
	off = out->len;
	sm_buf_put(out, m, mlen);       /* room, overwritten in place */
	sm_buf_put(out, nonce, 16);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out->p + off, NULL,
	    out->p + off, mlen, ad, adlen, NULL, nonce, key);
}

int
sm_aead_open(sm_buf *out, const unsigned char key[32], const void *ad,
    size_t adlen, const unsigned char *c, size_t clen)
{
	size_t off = out->len;

	if (clen < 24 + 16)
		return -1;
	sm_buf_put(out, c + 24, clen - 24 - 16);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out->p + off, NULL, NULL,
	    c + 24, clen - 24, ad, adlen, c, key) != 0) {
		sodium_memzero(out->p + off, out->len - off);
		out->len = off;
		return -1;
	}
	return 0;
}

void
sm_account_subkey(unsigned char out[32], const struct sm_keys *k,
    const char *label)
{
	crypto_generichash(out, 32, (const unsigned char *)label, strlen(label),
	    k->box_sk, 32);
}

/* ---- tokens ---- */

static const char *
token_prefix(int type)
{
	return type == SM_TOKEN_INVITE ? "smi-" : "smr-";
}

void
sm_token_new(int type, unsigned char raw[32], char text[SM_TOKEN_CHARS + 1])
{
	char *b;

	randombytes_buf(raw, 32);
	b = sm_b64(raw, 32);
	snprintf(text, SM_TOKEN_CHARS + 1, "%s%s", token_prefix(type), b);
	sm_freestr(b);
}

int
sm_token_parse(int type, const char *text, unsigned char raw[32])
{
	size_t n = strlen(text);

	if (n != SM_TOKEN_CHARS || memcmp(text, token_prefix(type), 4) != 0)
		return -1;
	return sm_unb64(raw, 32, text + 4, n - 4);
}

static void
token_derive(unsigned char out[32], const char *label, int type,
    const char *canon, const unsigned char raw[32])
{
	crypto_generichash_state st;
	unsigned char t = (unsigned char)type;

	crypto_generichash_init(&st, raw, 32, 32);
	crypto_generichash_update(&st, (const unsigned char *)label, strlen(label) + 1);
	crypto_generichash_update(&st, &t, 1);
	crypto_generichash_update(&st, (const unsigned char *)canon, strlen(canon));
	crypto_generichash_final(&st, out, 32);
	sodium_memzero(&st, sizeof st);
}

void
sm_token_hash(unsigned char out[32], int type, const char *canon,
    const unsigned char raw[32])
{
	token_derive(out, "smail-token-hash-v1", type, canon, raw);
}

void
sm_token_key(unsigned char out[32], int type, const char *canon,
    const unsigned char raw[32])
{
	token_derive(out, "smail-token-key-v1", type, canon, raw);
}

static int
b64char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Scans TEXT for PREFIX followed by exactly 43 base64url characters. */
static int
scan(int type, const char *text, size_t len, unsigned char raw[32], int *found)
{
	const char *pfx = token_prefix(type);
	size_t i, j;

	for (i = 0; i + SM_TOKEN_CHARS <= len; i++) {
		unsigned char cand[32];
		if (memcmp(text + i, pfx, 4) != 0)
			continue;
		if (i > 0 && b64char((unsigned char)text[i - 1]))
			continue;
		for (j = 4; j < SM_TOKEN_CHARS && b64char((unsigned char)text[i + j]); j++)
			;
		if (j != SM_TOKEN_CHARS)
			continue;
		if (i + j < len && b64char((unsigned char)text[i + j]))
			continue;
		if (sm_unb64(cand, 32, text + i + 4, SM_TOKEN_CHARS - 4) != 0)
			continue;
		if (*found && sodium_memcmp(cand, raw, 32) != 0)
			return -1;  /* two different tokens */
		memcpy(raw, cand, 32);
		*found = 1;
		sodium_memzero(cand, sizeof cand);
	}
	return 0;
}

int
sm_token_from_mail(int type, const char *mail, size_t len, unsigned char raw[32])
{
	sm_buf flat = { 0 };
	size_t i;
	int found = 0, rc;

	/* Also read it through quoted-printable soft line breaks, which a
	 * relay may have added. */
	for (i = 0; i < len; i++) {
		if (mail[i] == '=' && i + 1 < len && mail[i + 1] == '\n') {
			i++;
			continue;
		}
		if (mail[i] == '=' && i + 2 < len && mail[i + 1] == '\r' &&
		    mail[i + 2] == '\n') {
			i += 2;
			continue;
		}
		sm_buf_putc(&flat, mail[i]);
	}
	rc = scan(type, mail, len, raw, &found);
	if (rc == 0)
		rc = scan(type, (const char *)flat.p, flat.len, raw, &found);
	sm_buf_free(&flat);
	if (rc < 0)
		return sm_err(EX_DATAERR, "the mail on standard input holds more "
		    "than one token");
	if (!found)
		return sm_err(EX_DATAERR, "no %s token in the mail on standard "
		    "input", type == SM_TOKEN_INVITE ? "invitation" : "reset");
	return 0;
}

int
sm_token_input(int type, const char *arg, unsigned char raw[32])
{
	char *text;
	size_t len, n;
	int rc;

	if (arg && strcmp(arg, "-") != 0) {
		if (sm_token_parse(type, arg, raw) != 0)
			return sm_err(EX_NOPERM, "wrong token (malformed)");
		return 0;
	}
	if (!arg && isatty(0))
		return 1;
	if ((rc = sm_read_fd(0, "standard input", 1 << 20, &text, &len)) != 0)
		return rc;
	if (arg) {
		/* -t -: the token alone, on the first line. */
		n = strcspn(text, "\r\n");
		while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
			n--;
		text[n] = 0;
		rc = sm_token_parse(type, text + strspn(text, " \t"), raw) != 0 ?
		    sm_err(EX_NOPERM, "wrong token (malformed)") : 0;
	} else if (strspn(text, " \t\r\n") == len)
		rc = 2;        /* empty: no mail */
	else
		rc = sm_token_from_mail(type, text, len, raw);
	sodium_memzero(text, len);
	free(text);
	return rc;
}
