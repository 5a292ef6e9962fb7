/*
 * code.c: access codes (SPEC §7).  A sender may require an invited
 * recipient to give a code agreed by phone, so that a stolen mailbox
 * alone opens nothing.  The code goes through Argon2id and its output
 * is mixed into the invitation's key; after registration a small proof
 * stays (a random value sealed under that output) so that a password
 * reset can ask for the code again.  The code itself is never stored,
 * nor any fast hash of it.  Wrong codes are counted apart from wrong
 * passwords (auth.c), before the code's Argon2id runs: so the code is
 * read first, and its key derived only once the attempt is counted.
 */
#include <string.h>

#include <sodium.h>

#include "smail.h"

int
sm_code_get(const char *file, char **code)
{
	return sm_read_password_from(file, -1, "Access code: ", 0,
	    "--access-code-file for the access code", code);
}

int
sm_code_key(const sm_portal *p, const char *code, struct sm_code *c,
    const struct sm_pwparams *pw)
{
	if (pw)
		c->pw = *pw;
	else
		sm_pwparams_new(&c->pw, p->cfg.pwhash);
	return sm_pwhash_key(c->A, code, &c->pw);
}

int
sm_code_read(const sm_portal *p, const char *file, struct sm_code *c,
    const struct sm_pwparams *pw)
{
	char *code = NULL;
	int rc;

	if ((rc = sm_code_get(file, &code)) != 0)
		return rc;
	rc = sm_code_key(p, code, c, pw);
	sm_secret_free(code);
	return rc;
}

void
sm_code_mix(unsigned char key[32], const unsigned char A[32])
{
	unsigned char out[32];

	crypto_generichash(out, 32, key, 32, A, 32);
	memcpy(key, out, 32);
	sodium_memzero(out, sizeof out);
}

void
sm_code_check_make(struct sm_account *a, const unsigned char A[32])
{
	unsigned char r[32];

	randombytes_buf(r, sizeof r);
	sm_buf_free(&a->code_check);
	sm_aead_seal(&a->code_check, A, a->canon, strlen(a->canon), r, sizeof r);
	sodium_memzero(r, sizeof r);
}

int
sm_code_check_open(const struct sm_account *a, const unsigned char A[32])
{
	sm_buf out = { 0 };
	int rc;

	rc = sm_aead_open(&out, A, a->canon, strlen(a->canon), a->code_check.p,
	    a->code_check.len);
	sm_buf_free(&out);
	return rc;
}
