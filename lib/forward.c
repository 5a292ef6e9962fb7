/*
 * forward.c: a forward's original, checked.  A forward carries the
 * original's signed statement, which names the hash and size of the
 * original body and of each of its attachments under its name, and says
 * in its own statement which of its attachments it carries from the
 * original (statement.c).  Its reader is told whether the quoted text
 * is the original body, and of each attachment whether it is the
 * original's or one the forwarder added.
 *
 * Nothing the forwarder signs is taken on trust: the hashes are of what
 * the forward holds, computed as it is read, and compared with the
 * original's statement, whose key must be its sender's account key.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "smail.h"

/* The original's attachment that attachment I of S is: its index, or
 * -1 when S says the forwarder added it.  A forward from before S said
 * so names none; there an attachment is the original's when its name,
 * size and content are one of the original's. */
static int
claimed(const struct sm_stmt *s, size_t i, const struct sm_stmt *orig,
    const unsigned char (*ah)[32], const unsigned char *have)
{
	size_t j;

	if (s->orig_atts)
		return s->att[i].from_orig ? (int)s->att[i].from_orig - 1 : -1;
	if (!orig || !have[i])
		return -1;
	for (j = 0; j < orig->natt; j++)
		if (strcmp(orig->att[j].name, s->att[i].name) == 0 &&
		    orig->att[j].ref.size == s->att[i].ref.size &&
		    sodium_memcmp(orig->att[j].ref.hash, ah[i], 32) == 0)
			return (int)j;
	return -1;
}

void
sm_forward_judge(struct sm_opened *o, const struct sm_stmt *orig, int signer_ok,
    const unsigned char *body, size_t blen, const unsigned char (*ah)[32],
    const unsigned char *have)
{
	const struct sm_stmt *s = &o->stmt;
	unsigned char h[32];
	size_t i;
	int ok;

	static const unsigned char none[1];

	memset(o->fwd_att, SM_FWD_UNCHECKED, sizeof o->fwd_att);
	o->orig_verified = 0;
	if (!s->forward_of[0])
		return;
	if (!body)
		body = none, blen = 0;
	if (!signer_ok)
		orig = NULL;
	/* The quoted text: exactly the body the original names. */
	ok = orig && s->orig_offset <= blen &&
	    blen - s->orig_offset == orig->body.size;
	if (ok) {
		crypto_generichash(h, 32, body + s->orig_offset,
		    blen - s->orig_offset, NULL, 0);
		ok = sodium_memcmp(h, orig->body.hash, 32) == 0;
	}
	/* Every attachment said to be the original's must be, under its
	 * name; one the forwarder added is shown as such. */
	for (i = 0; i < s->natt && i < sizeof o->fwd_att; i++) {
		int j = claimed(s, i, orig, ah, have);
		const struct sm_att *t;
		if (j < 0) {
			o->fwd_att[i] = SM_FWD_ADDED;
			continue;
		}
		t = orig && (size_t)j < orig->natt ? &orig->att[j] : NULL;
		if (t && have[i] && strcmp(t->name, s->att[i].name) == 0 &&
		    t->ref.size == s->att[i].ref.size &&
		    sodium_memcmp(t->ref.hash, ah[i], 32) == 0)
			o->fwd_att[i] = SM_FWD_ORIGINAL;
		else {
			o->fwd_att[i] = SM_FWD_UNVERIFIED;
			ok = 0;
		}
	}
	if (s->natt > sizeof o->fwd_att)
		ok = 0;
	o->orig_verified = ok;
}

const char *
sm_forward_mark(const struct sm_opened *o, size_t i)
{
	if (!o->stmt.forward_of[0])
		return "";
	switch (i < sizeof o->fwd_att ? o->fwd_att[i] : SM_FWD_UNCHECKED) {
	case SM_FWD_ORIGINAL: return ", from the original, verified";
	case SM_FWD_ADDED: return ", added by the forwarder";
	default: return ", from the original, NOT verified";
	}
}

/* Is KEY the signing key of ADDR's account here? */
static int
signer_is_sender(sm_portal *p, const char *addr, const unsigned char key[32])
{
	struct sm_account a;
	char *canon = NULL;
	int same = 0;

	if (sm_addr_canon_quiet(addr, &canon) == 0 && sm_store_begin(p, 0) == 0) {
		if (sm_account_get(p, canon, &a) == 0) {
			same = sodium_memcmp(a.pub.sign_pk, key, 32) == 0;
			sm_account_free(&a);
		}
		sm_store_end(p);
	}
	free(canon);
	return same;
}

void
sm_forward_verify(sm_portal *p, struct sm_opened *o)
{
	const struct sm_stmt *s = &o->stmt;
	struct sm_stmt orig;
	sm_buf body = { 0 };
	unsigned char (*ah)[32], *have;
	size_t i;
	int dec = -1, signer_ok = 0;

	if (!s->forward_of[0]) {
		sm_forward_judge(o, NULL, 0, NULL, 0, NULL, NULL);
		return;
	}
	ah = sm_xcalloc(s->natt ? s->natt : 1, sizeof *ah);
	have = sm_xcalloc(s->natt ? s->natt : 1, 1);
	if (s->orig.len)
		dec = sm_stmt_decode(&orig, s->orig.p, s->orig.len);
	/* Signed, but by whom?  The key must be the sender's account key. */
	if (dec == 0)
		signer_ok = signer_is_sender(p, orig.from, orig.from_pk);
	if (signer_ok && sm_part_load(p, &o->env, o->K, 1, &body, NULL) != 0)
		signer_ok = 0;
	/* The content of each attachment that may be the original's: one
	 * the forward says is, or (an older forward) one with the name and
	 * size of one of the original's. */
	for (i = 0; signer_ok && i < s->natt; i++) {
		size_t j;
		int want = 0;
		if (s->orig_atts)
			want = s->att[i].from_orig > 0 &&
			    s->att[i].from_orig <= orig.natt;
		else
			for (j = 0; j < orig.natt && !want; j++)
				want = orig.att[j].ref.size == s->att[i].ref.size &&
				    strcmp(orig.att[j].name, s->att[i].name) == 0;
		if (want && sm_part_read(p, &o->env, o->K, s->att[i].ref.part, NULL,
		    NULL, ah[i]) == 0)
			have[i] = 1;
	}
	sm_forward_judge(o, dec == 0 ? &orig : NULL, signer_ok, body.p, body.len,
	    (const unsigned char (*)[32])ah, have);
	if (dec == 0)
		sm_stmt_free(&orig);
	sm_buf_free(&body);
	free(ah);
	free(have);
}
