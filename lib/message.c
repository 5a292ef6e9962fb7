/*
 * message.c: the message container (SPEC §2, "Messages").
 *
 * A fresh random content key K per message.  Each part is a
 * secretstream under a subkey of K for its index, in 64 KiB chunks
 * stored as records "c:ID:PART:N", the message id and part index in
 * the first chunk's additional data, TAG_FINAL on the last.  The
 * header "m:ID" holds the id, the sender's address and Ed25519 key,
 * the dates, one stanza per recipient (K and the id sealed to the
 * recipient's X25519 key), and per part the secretstream header and
 * the BLAKE2b hash of every ciphertext chunk; the sender signs
 * "smail-env-v1" and the BLAKE2b hash of all of it.  A reader checks
 * the signature, its own place among the recipients, every chunk's
 * hash, the final tag and the part count: any failure is a tamper
 * error naming the message.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "smail.h"

#define ENV_MAGIC "SME1"
#define MAX_RCPT SM_MAX_RECIPIENTS
#define MAX_PARTS 32
#define SS_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define SS_HBYTES crypto_secretstream_xchacha20poly1305_HEADERBYTES
enum { E_ID = 1, E_FROM, E_FROM_PK, E_DATE, E_EXPIRES, E_KIND, E_RCPT,
	E_STANZA, E_PART, E_SIG = 15 };

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

void
sm_id_new(char id[SM_ID_CHARS + 1])
{
	unsigned char r[SM_ID_CHARS];
	int i;

	randombytes_buf(r, sizeof r);
	for (i = 0; i < SM_ID_CHARS; i++)
		id[i] = b32[r[i] & 31];
	id[SM_ID_CHARS] = 0;
}

int
sm_id_valid(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > 64 || id[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
		    (id[i] >= '0' && id[i] <= '9') || id[i] == '-' || id[i] == '_'))
			return 0;
	return 1;
}

char *
sm_chunk_key(const char *id, unsigned part, uint32_t n)
{
	return sm_xasprintf("c:%s:%u:%u", id, part, (unsigned)n);
}

void
sm_env_free(struct sm_env *e)
{
	size_t i;

	free(e->from);
	for (i = 0; i < e->nrcpt; i++)
		free(e->rcpt[i]);
	free(e->rcpt);
	free(e->stanzas);
	for (i = 0; i < e->nparts; i++)
		free(e->parts[i].hashes);
	free(e->parts);
	memset(e, 0, sizeof *e);
}

static void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
env_encode_body(sm_buf *b, const struct sm_env *e)
{
	size_t i;

	sm_rec_begin(b, ENV_MAGIC);
	sm_rec_str(b, E_ID, e->id);
	sm_rec_str(b, E_FROM, e->from);
	sm_rec_bytes(b, E_FROM_PK, e->from_pk, 32);
	sm_rec_u64(b, E_DATE, (uint64_t)e->date);
	sm_rec_u64(b, E_EXPIRES, (uint64_t)e->expires);
	sm_rec_u64(b, E_KIND, (uint64_t)e->kind);
	for (i = 0; i < e->nrcpt; i++) {
		sm_rec_str(b, E_RCPT, e->rcpt[i]);
		sm_rec_bytes(b, E_STANZA, e->stanzas + i * SM_STANZA_BYTES,
		    SM_STANZA_BYTES);
	}
	for (i = 0; i < e->nparts; i++) {
		const struct sm_part *pt = &e->parts[i];
		size_t n = 4 + 8 + SS_HBYTES + 32 * (size_t)pt->nchunks;
		unsigned char *v = sm_xmalloc(n);
		put_u32(v, pt->nchunks);
		put_u32(v + 4, (uint32_t)(pt->size >> 32));
		put_u32(v + 8, (uint32_t)pt->size);
		memcpy(v + 12, pt->ssh, SS_HBYTES);
		memcpy(v + 12 + SS_HBYTES, pt->hashes, 32 * (size_t)pt->nchunks);
		sm_rec_bytes(b, E_PART, v, n);
		free(v);
	}
}

static void
sign_input(unsigned char out[64], const unsigned char *body, size_t n)
{
	crypto_generichash_state st;
	static const char label[] = "smail-env-v1";

	crypto_generichash_init(&st, NULL, 0, 64);
	crypto_generichash_update(&st, (const unsigned char *)label, sizeof label - 1);
	crypto_generichash_update(&st, body, n);
	crypto_generichash_final(&st, out, 64);
}

int
sm_env_decode(struct sm_env *e, const unsigned char *v, size_t n)
{
	const unsigned char *f;
	size_t fn, signed_len = 0, nst = 0;
	unsigned tag;
	uint64_t u;
	sm_rd r;
	int rc, bad = 0, seen = 0;

	memset(e, 0, sizeof *e);
	if (sm_rd_begin(&r, v, n, ENV_MAGIC) < 0)
		return -1;
	while (!bad && (rc = sm_rd_next(&r, &tag, &f, &fn)) == 1) {
		if (seen & 64) {       /* nothing may follow the signature */
			bad = 1;
			break;
		}
		switch (tag) {
		case E_ID:
			if (fn != SM_ID_CHARS || seen & 1) {
				bad = 1;
				break;
			}
			memcpy(e->id, f, fn);
			e->id[fn] = 0;
			bad = !sm_id_valid(e->id);
			seen |= 1;
			break;
		case E_FROM:
			if (seen & 2 || !(e->from = sm_rd_str(f, fn)))
				bad = 1;
			seen |= 2;
			break;
		case E_FROM_PK:
			if (fn != 32) {
				bad = 1;
				break;
			}
			memcpy(e->from_pk, f, 32);
			seen |= 4;
			break;
		case E_DATE:
			bad = sm_rd_u64(f, fn, &u) < 0;
			e->date = (int64_t)u;
			seen |= 8;
			break;
		case E_EXPIRES:
			bad = sm_rd_u64(f, fn, &u) < 0;
			e->expires = (int64_t)u;
			break;
		case E_KIND:
			bad = sm_rd_u64(f, fn, &u) < 0 || u > 1;
			e->kind = (int)u;
			break;
		case E_RCPT:
			if (e->nrcpt >= MAX_RCPT) {
				bad = 1;
				break;
			}
			e->rcpt = sm_xrealloc(e->rcpt, (e->nrcpt + 1) * sizeof *e->rcpt);
			if (!(e->rcpt[e->nrcpt] = sm_rd_str(f, fn))) {
				bad = 1;
				break;
			}
			e->nrcpt++;
			break;
		case E_STANZA:
			if (fn != SM_STANZA_BYTES || nst >= e->nrcpt) {
				bad = 1;
				break;
			}
			e->stanzas = sm_xrealloc(e->stanzas, (nst + 1) * SM_STANZA_BYTES);
			memcpy(e->stanzas + nst * SM_STANZA_BYTES, f, fn);
			nst++;
			break;
		case E_PART: {
			struct sm_part *pt;
			uint32_t nc;
			if (fn < 12 + SS_HBYTES || e->nparts >= MAX_PARTS) {
				bad = 1;
				break;
			}
			nc = get_u32(f);
			if (nc == 0 || fn != 12 + SS_HBYTES + 32 * (size_t)nc) {
				bad = 1;
				break;
			}
			e->parts = sm_xrealloc(e->parts, (e->nparts + 1) * sizeof *e->parts);
			pt = &e->parts[e->nparts++];
			pt->nchunks = nc;
			pt->size = (uint64_t)get_u32(f + 4) << 32 | get_u32(f + 8);
			memcpy(pt->ssh, f + 12, SS_HBYTES);
			pt->hashes = sm_xmalloc(32 * (size_t)nc);
			memcpy(pt->hashes, f + 12 + SS_HBYTES, 32 * (size_t)nc);
			if (pt->size > (uint64_t)nc * SM_CHUNK)
				bad = 1;
			break;
		}
		case E_SIG:
			if (fn != 64) {
				bad = 1;
				break;
			}
			memcpy(e->sig, f, 64);
			signed_len = (size_t)(f - v) - 5;
			seen |= 64;
			break;
		default:
			break;
		}
	}
	if (bad || rc < 0 || (seen & 79) != 79 || nst != e->nrcpt || e->nparts < 2) {
		sm_env_free(e);
		return -1;
	}
	e->signed_len = signed_len;
	return 0;
}

/* Decodes and verifies the header of message ID: 0, 66 (no such
 * message) or 65 (tampered). */
int
sm_env_get(sm_portal *p, const char *id, struct sm_env *e)
{
	char *key = sm_xasprintf("m:%s", id);
	unsigned char *v, h[64];
	size_t n;
	int rc;

	rc = sm_store_get(p, key, &v, &n);
	free(key);
	if (rc == 1)
		return EX_NOINPUT;
	if (rc)
		return rc;
	if (sm_all_zero(v, n)) {
		/* Zeroed by a wipe that a crash interrupted: gone. */
		free(v);
		return EX_NOINPUT;
	}
	if (sm_env_decode(e, v, n) < 0) {
		free(v);
		return sm_err(EX_DATAERR, "%s: the message is damaged or tampered "
		    "with (header does not decode)", id);
	}
	sign_input(h, v, e->signed_len);
	crypto_generichash(e->hash, 32, v, n, NULL, 0);
	free(v);
	if (strcmp(e->id, id) != 0 ||
	    crypto_sign_verify_detached(e->sig, h, 64, e->from_pk) != 0) {
		sm_env_free(e);
		return sm_err(EX_DATAERR, "%s: the message is tampered with (the "
		    "sender's signature does not verify)", id);
	}
	return 0;
}

/* ---- writing ---- */

static void
part_key(unsigned char out[32], const unsigned char *K, unsigned part)
{
	crypto_kdf_derive_from_key(out, 32, part, "smailprt", K);
}

#define AD_BYTES (13 + SM_ID_CHARS + 4)

static void
first_ad(unsigned char ad[AD_BYTES], const char *id, unsigned part)
{
	memcpy(ad, "smail-part-v1", 13);
	memcpy(ad + 13, id, SM_ID_CHARS);
	put_u32(ad + 13 + SM_ID_CHARS, part);
}

int
sm_msgw_init(struct sm_msgw *w, sm_portal *p, const char *from_canon,
    const unsigned char from_pk[32], const struct sm_keys *k, size_t nparts)
{
	memset(w, 0, sizeof *w);
	if (nparts < 2 || nparts > MAX_PARTS)
		return sm_err(EX_SOFTWARE, "message: %zu parts", nparts);
	w->p = p;
	w->keys = k;
	sm_id_new(w->env.id);
	w->env.from = sm_xstrdup(from_canon);
	memcpy(w->env.from_pk, from_pk, 32);
	w->env.date = sm_now();
	w->env.nparts = nparts;
	w->env.parts = sm_xcalloc(nparts, sizeof *w->env.parts);
	w->K = sm_secret_alloc(32);
	crypto_secretstream_xchacha20poly1305_keygen(w->K);
	w->buf = sm_scratch(SM_SCRATCH_WRITE, SM_CHUNK);
	w->ct = sm_xmalloc(SM_CHUNK + SS_ABYTES);
	w->cur = -1;
	return 0;
}

int
sm_msgw_part_begin(struct sm_msgw *w, unsigned part)
{
	struct sm_part *pt;
	unsigned char key[32];

	if (part >= w->env.nparts || w->cur >= 0 || w->env.parts[part].nchunks)
		return sm_err(EX_SOFTWARE, "message: bad part %u", part);
	pt = &w->env.parts[part];
	part_key(key, w->K, part);
	crypto_secretstream_xchacha20poly1305_init_push(&w->st, pt->ssh, key);
	sodium_memzero(key, sizeof key);
	crypto_generichash_init(&w->ph, NULL, 0, 32);
	w->cur = (int)part;
	w->buflen = 0;
	return 0;
}

static int
flush_chunk(struct sm_msgw *w, int final)
{
	struct sm_part *pt = &w->env.parts[w->cur];
	unsigned char ad[AD_BYTES];
	unsigned long long clen;
	char *key;
	int rc;

	/* The plaintext's hash (for the statement) on the helper, while
	 * this thread encrypts, hashes the ciphertext and stores it. */
	sm_hash_post(&w->ph, w->buf, w->buflen, NULL);
	first_ad(ad, w->env.id, (unsigned)w->cur);
	crypto_secretstream_xchacha20poly1305_push(&w->st, w->ct, &clen, w->buf,
	    w->buflen, pt->nchunks == 0 ? ad : NULL, pt->nchunks == 0 ? sizeof ad : 0,
	    final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
	pt->hashes = sm_xrealloc(pt->hashes, 32 * ((size_t)pt->nchunks + 1));
	crypto_generichash(pt->hashes + 32 * (size_t)pt->nchunks, 32, w->ct,
	    (size_t)clen, NULL, 0);
	key = sm_chunk_key(w->env.id, (unsigned)w->cur, pt->nchunks);
	rc = sm_store_put(w->p, key, w->ct, (size_t)clen);
	free(key);
	sm_hash_wait();
	if (rc)
		return rc;
	pt->nchunks++;
	w->stored++;
	sodium_memzero(w->buf, w->buflen);
	w->buflen = 0;
	return 0;
}

int
sm_msgw_part_write(struct sm_msgw *w, const void *data, size_t n)
{
	const unsigned char *s = data;
	int rc;

	if (w->cur < 0)
		return sm_err(EX_SOFTWARE, "message: write outside a part");
	w->env.parts[w->cur].size += n;
	while (n > 0) {
		size_t take = SM_CHUNK - w->buflen;
		if (take > n)
			take = n;
		memcpy(w->buf + w->buflen, s, take);
		w->buflen += take;
		s += take;
		n -= take;
		/* A full chunk goes out only when more follows, so that the
		 * last chunk always carries TAG_FINAL. */
		if (w->buflen == SM_CHUNK && n > 0 && (rc = flush_chunk(w, 0)) != 0)
			return rc;
	}
	return 0;
}

int
sm_msgw_part_end(struct sm_msgw *w, unsigned char hash[32])
{
	int rc;

	if (w->cur < 0)
		return sm_err(EX_SOFTWARE, "message: end outside a part");
	if ((rc = flush_chunk(w, 1)) != 0)
		return rc;
	crypto_generichash_final(&w->ph, hash, 32);
	sodium_memzero(&w->st, sizeof w->st);
	w->cur = -1;
	return 0;
}

void
sm_msgw_rcpt(struct sm_msgw *w, const char *canon, const unsigned char box_pk[32])
{
	struct sm_env *e = &w->env;
	unsigned char *m = sm_secret_alloc(32 + SM_ID_CHARS);

	e->rcpt = sm_xrealloc(e->rcpt, (e->nrcpt + 1) * sizeof *e->rcpt);
	e->rcpt[e->nrcpt] = sm_xstrdup(canon);
	e->stanzas = sm_xrealloc(e->stanzas, (e->nrcpt + 1) * SM_STANZA_BYTES);
	memcpy(m, w->K, 32);
	memcpy(m + 32, e->id, SM_ID_CHARS);
	crypto_box_seal(e->stanzas + e->nrcpt * SM_STANZA_BYTES, m,
	    32 + SM_ID_CHARS, box_pk);
	sm_secret_free(m);
	e->nrcpt++;
}

int
sm_msgw_finish(struct sm_msgw *w)
{
	sm_buf b = { 0 };
	unsigned char h[64], sig[64];
	char *key;
	size_t i;
	int rc;

	for (i = 0; i < w->env.nparts; i++)
		if (!w->env.parts[i].nchunks)
			return sm_err(EX_SOFTWARE, "message: part %zu missing", i);
	env_encode_body(&b, &w->env);
	sign_input(h, b.p, b.len);
	crypto_sign_detached(sig, NULL, h, 64, w->keys->sign_sk);
	sm_rec_bytes(&b, E_SIG, sig, 64);
	key = sm_xasprintf("m:%s", w->env.id);
	rc = sm_store_put(w->p, key, b.p, b.len);
	free(key);
	sm_buf_free(&b);
	return rc;
}

void
sm_msgw_abort(struct sm_msgw *w)
{
	size_t i;
	uint32_t n;

	/* Remove what was stored, so that nothing half-written stays. */
	for (i = 0; i < w->env.nparts; i++)
		for (n = 0; n < w->env.parts[i].nchunks; n++) {
			char *key = sm_chunk_key(w->env.id, (unsigned)i, n);
			sm_store_remove(w->p, key);
			free(key);
		}
	if (w->cur >= 0 && w->env.parts) {
		char *key = sm_chunk_key(w->env.id, (unsigned)w->cur,
		    w->env.parts[w->cur].nchunks);
		sm_store_remove(w->p, key);
		free(key);
	}
}

void
sm_msgw_free(struct sm_msgw *w)
{
	if (w->K)
		sm_secret_free(w->K);
	if (w->buf)
		sm_scratch_done(SM_SCRATCH_WRITE, SM_CHUNK);
	free(w->ct);
	sm_env_free(&w->env);
	memset(w, 0, sizeof *w);
}

/* ---- reading ---- */

int
sm_env_rcpt(const struct sm_env *e, const char *canon)
{
	size_t i;

	for (i = 0; i < e->nrcpt; i++)
		if (strcmp(e->rcpt[i], canon) == 0)
			return (int)i;
	return -1;
}

int
sm_env_key(sm_portal *p, const struct sm_env *e, const char *canon,
    const struct sm_keys *k, unsigned char K[32])
{
	unsigned char pk[32], *m, *v = NULL;
	const unsigned char *stanza;
	char *key;
	size_t n;
	int i, rc;

	if ((i = sm_env_rcpt(e, canon)) < 0)
		return sm_err(EX_NOINPUT, "%s: not addressed to %s", e->id, canon);
	/* A stanza re-sealed at registration takes the place of the one
	 * in the signed header. */
	key = sm_xasprintf("k:%s:%s", e->id, canon);
	rc = sm_store_get(p, key, &v, &n);
	free(key);
	if (rc == 0 && n == SM_STANZA_BYTES)
		stanza = v;
	else if (rc == 0 || rc == 1)
		stanza = e->stanzas + (size_t)i * SM_STANZA_BYTES;
	else
		return rc;
	crypto_scalarmult_base(pk, k->box_sk);
	m = sm_secret_alloc(32 + SM_ID_CHARS);
	rc = 0;
	if (crypto_box_seal_open(m, stanza, SM_STANZA_BYTES, pk, k->box_sk) != 0 ||
	    memcmp(m + 32, e->id, SM_ID_CHARS) != 0)
		rc = sm_err(EX_DATAERR, "%s: the message key does not open for %s "
		    "(tampered with?)", e->id, canon);
	else
		memcpy(K, m, 32);
	sm_secret_free(m);
	free(v);
	return rc;
}

int
sm_env_reseal(sm_portal *p, const struct sm_env *e, const char *canon,
    const struct sm_keys *old, const unsigned char new_pk[32])
{
	unsigned char *K = sm_secret_alloc(32 + SM_ID_CHARS);
	unsigned char stanza[SM_STANZA_BYTES];
	char *key;
	int rc;

	if ((rc = sm_env_key(p, e, canon, old, K)) == 0) {
		memcpy(K + 32, e->id, SM_ID_CHARS);
		crypto_box_seal(stanza, K, 32 + SM_ID_CHARS, new_pk);
		key = sm_xasprintf("k:%s:%s", e->id, canon);
		rc = sm_store_put(p, key, stanza, sizeof stanza);
		free(key);
	}
	sm_secret_free(K);
	return rc;
}

/*
 * Streams part PART of message E to OUT, checking every chunk's hash,
 * the AEAD tags and the final tag.  Outside a transaction, chunks are
 * read under short read locks, so that a slow reader of the output
 * never keeps writers waiting.
 */
int
sm_part_read(sm_portal *p, const struct sm_env *e, const unsigned char K[32],
    unsigned part, int (*out)(void *, const void *, size_t), void *arg,
    unsigned char hash[32])
{
	const struct sm_part *pt;
	crypto_secretstream_xchacha20poly1305_state st;
	crypto_generichash_state ph;
	unsigned char key[32], h[32], ad[AD_BYTES], tag = 0;
	unsigned char *plain = NULL, *v = NULL;
	unsigned long long plen;
	uint64_t total = 0;
	uint32_t i;
	size_t n;
	int rc = 0, own = !p->st, bad;

	if (part >= e->nparts)
		return sm_err(EX_DATAERR, "%s: tampered with (part %u missing)",
		    e->id, part);
	pt = &e->parts[part];
	part_key(key, K, part);
	if (crypto_secretstream_xchacha20poly1305_init_pull(&st, pt->ssh, key) != 0) {
		sodium_memzero(key, sizeof key);
		return sm_err(EX_DATAERR, "%s: tampered with (part %u header)",
		    e->id, part);
	}
	sodium_memzero(key, sizeof key);
	first_ad(ad, e->id, part);
	crypto_generichash_init(&ph, NULL, 0, 32);
	plain = sm_scratch(SM_SCRATCH_READ, SM_CHUNK);
	for (i = 0; i < pt->nchunks && rc == 0; i++) {
		char *ck = sm_chunk_key(e->id, part, i);
		if (own && (i % 16) == 0 && (rc = sm_store_begin(p, 0)) != 0) {
			free(ck);
			break;
		}
		rc = sm_store_get(p, ck, &v, &n);
		free(ck);
		if (own && ((i % 16) == 15 || i + 1 == pt->nchunks || rc))
			sm_store_end(p);
		if (rc == 1) {
			rc = sm_err(EX_DATAERR, "%s: tampered with (chunk %u of part "
			    "%u missing)", e->id, (unsigned)i, part);
			break;
		}
		if (rc)
			break;
		/* The chunk's hash on the helper while this thread decrypts;
		 * nothing of it leaves before both checks passed. */
		sm_hash_post(NULL, v, n, h);
		bad = n < SS_ABYTES || n > SM_CHUNK + SS_ABYTES ||
		    crypto_secretstream_xchacha20poly1305_pull(&st, plain, &plen, &tag,
		    v, n, i == 0 ? ad : NULL, i == 0 ? sizeof ad : 0) != 0;
		sm_hash_wait();
		if (bad || sodium_memcmp(h, pt->hashes + 32 * (size_t)i, 32) != 0 ||
		    (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) !=
		    (i + 1 == pt->nchunks)) {
			rc = sm_err(EX_DATAERR, "%s: the message is tampered with "
			    "(chunk %u of part %u does not verify)", e->id,
			    (unsigned)i, part);
			break;
		}
		free(v);
		v = NULL;
		total += plen;
		if (hash)
			crypto_generichash_update(&ph, plain, (size_t)plen);
		if (out && plen && (rc = out(arg, plain, (size_t)plen)) != 0)
			break;
	}
	if (own && p->st)
		sm_store_end(p);
	free(v);
	if (rc == 0 && total != pt->size)
		rc = sm_err(EX_DATAERR, "%s: tampered with (part %u has the wrong "
		    "size)", e->id, part);
	if (rc == 0 && hash)
		crypto_generichash_final(&ph, hash, 32);
	sm_scratch_done(SM_SCRATCH_READ, SM_CHUNK);
	sodium_memzero(&st, sizeof st);
	return rc;
}

/* Reads a whole (small) part into OUT. */
static int
to_buf(void *arg, const void *p, size_t n)
{
	sm_buf *b = arg;

	if (b->len + n > (16u << 20))
		return sm_err(EX_DATAERR, "part too large to hold in memory");
	sm_buf_put(b, p, n);
	return 0;
}

int
sm_part_load(sm_portal *p, const struct sm_env *e, const unsigned char K[32],
    unsigned part, sm_buf *out, unsigned char hash[32])
{
	return sm_part_read(p, e, K, part, to_buf, out, hash);
}

/* Applies FN to every record of message E: the header first, so that
 * a wipe interrupted anywhere leaves a zeroed header, which reads as
 * gone (and never a live header over zeroed chunks), then the sealed
 * keys, then the chunks. */
static int
each_record(sm_portal *p, const struct sm_env *e, int (*fn)(sm_portal *, const char *))
{
	size_t i;
	uint32_t n;
	char *key;
	int rc;

	key = sm_xasprintf("m:%s", e->id);
	rc = fn(p, key);
	free(key);
	for (i = 0; i < e->nrcpt && rc == 0; i++) {
		key = sm_xasprintf("k:%s:%s", e->id, e->rcpt[i]);
		rc = fn(p, key);
		free(key);
	}
	for (i = 0; i < e->nparts && rc == 0; i++)
		for (n = 0; n < e->parts[i].nchunks && rc == 0; n++) {
			key = sm_chunk_key(e->id, (unsigned)i, n);
			rc = fn(p, key);
			free(key);
		}
	return rc;
}

/* Removes every record of message E (the store writes zeros over each
 * first). */
int
sm_msg_wipe(sm_portal *p, const struct sm_env *e)
{
	return each_record(p, e, sm_store_remove);
}
