/*
 * statement.c: part 0 of every message, the sender's signed statement:
 * From, To, Cc, Date, Subject, the size and hash of the body and of
 * each named attachment, and the id it replies to or forwards.  It is
 * signed on its own (besides the header's signature over its
 * ciphertext) so that a forward can embed the original statement and
 * the quoted original still shows as verified.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "smail.h"

#define STMT_MAGIC "SMT1"
enum { T_ID = 1, T_FROM, T_FROM_NAME, T_FROM_PK, T_TO, T_CC, T_DATE,
	T_SUBJECT, T_BODY, T_HTML, T_ATT, T_REPLY_TO, T_FORWARD_OF, T_ORIG,
	T_ORIG_OFFSET, T_ORIG_ATT, T_SIG = 31 };

/*
 * T_ORIG_ATT (a forward, since the field was added): for each
 * attachment in order, 4 bytes big-endian, 1 + the index of the
 * original's attachment it carries, or 0 for one the forwarder added.
 * Older forwards have no such field (orig_atts 0), and older readers
 * skip it.
 */
#define MAX_ATT 64

void
sm_stmt_free(struct sm_stmt *s)
{
	size_t i;

	free(s->from);
	free(s->from_name);
	for (i = 0; i < s->nto; i++)
		free(s->to[i]);
	free(s->to);
	for (i = 0; i < s->ncc; i++)
		free(s->cc[i]);
	free(s->cc);
	free(s->subject);
	for (i = 0; i < s->natt; i++)
		free(s->att[i].name);
	free(s->att);
	sm_buf_free(&s->orig);
	sodium_memzero(s, sizeof *s);
}

static void
part_field(sm_buf *b, unsigned tag, const struct sm_pref *r, const char *name)
{
	unsigned char v[4 + 8 + 32];
	uint64_t size = r->size;
	int i;

	v[0] = (unsigned char)(r->part >> 24);
	v[1] = (unsigned char)(r->part >> 16);
	v[2] = (unsigned char)(r->part >> 8);
	v[3] = (unsigned char)r->part;
	for (i = 11; i >= 4; i--, size >>= 8)
		v[i] = (unsigned char)size;
	memcpy(v + 12, r->hash, 32);
	if (!name) {
		sm_rec_bytes(b, tag, v, sizeof v);
		return;
	}
	{
		sm_buf t = { 0 };
		sm_buf_put(&t, v, sizeof v);
		sm_buf_puts(&t, name);
		sm_rec_bytes(b, tag, t.p, t.len);
		sm_buf_free(&t);
	}
}

static int
part_parse(struct sm_pref *r, const unsigned char *p, size_t n, char **name)
{
	size_t i;

	if (n < 44 || (!name && n != 44))
		return -1;
	r->part = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	r->size = 0;
	for (i = 4; i < 12; i++)
		r->size = r->size << 8 | p[i];
	memcpy(r->hash, p + 12, 32);
	if (name && !(*name = sm_rd_str(p + 44, n - 44)))
		return -1;
	return 0;
}

static void
stmt_sign_input(unsigned char out[64], const unsigned char *b, size_t n)
{
	crypto_generichash_state st;
	static const char label[] = "smail-stmt-v1";

	crypto_generichash_init(&st, NULL, 0, 64);
	crypto_generichash_update(&st, (const unsigned char *)label, sizeof label - 1);
	crypto_generichash_update(&st, b, n);
	crypto_generichash_final(&st, out, 64);
}

void
sm_stmt_encode(sm_buf *b, const struct sm_stmt *s, const struct sm_keys *k)
{
	unsigned char h[64], sig[64];
	size_t i;

	sm_rec_begin(b, STMT_MAGIC);
	sm_rec_str(b, T_ID, s->id);
	sm_rec_str(b, T_FROM, s->from);
	sm_rec_str(b, T_FROM_NAME, s->from_name);
	sm_rec_bytes(b, T_FROM_PK, s->from_pk, 32);
	for (i = 0; i < s->nto; i++)
		sm_rec_str(b, T_TO, s->to[i]);
	for (i = 0; i < s->ncc; i++)
		sm_rec_str(b, T_CC, s->cc[i]);
	sm_rec_u64(b, T_DATE, (uint64_t)s->date);
	sm_rec_str(b, T_SUBJECT, s->subject ? s->subject : "");
	part_field(b, T_BODY, &s->body, NULL);
	if (s->has_html)
		part_field(b, T_HTML, &s->html, NULL);
	for (i = 0; i < s->natt; i++)
		part_field(b, T_ATT, &s->att[i].ref, s->att[i].name);
	if (s->reply_to[0])
		sm_rec_str(b, T_REPLY_TO, s->reply_to);
	if (s->forward_of[0])
		sm_rec_str(b, T_FORWARD_OF, s->forward_of);
	if (s->orig.len) {
		sm_rec_bytes(b, T_ORIG, s->orig.p, s->orig.len);
		sm_rec_u64(b, T_ORIG_OFFSET, s->orig_offset);
	}
	if (s->orig_atts) {
		unsigned char *v = sm_xcalloc(s->natt ? s->natt : 1, 4);
		for (i = 0; i < s->natt; i++) {
			v[4 * i] = (unsigned char)(s->att[i].from_orig >> 24);
			v[4 * i + 1] = (unsigned char)(s->att[i].from_orig >> 16);
			v[4 * i + 2] = (unsigned char)(s->att[i].from_orig >> 8);
			v[4 * i + 3] = (unsigned char)s->att[i].from_orig;
		}
		sm_rec_bytes(b, T_ORIG_ATT, v, 4 * s->natt);
		free(v);
	}
	stmt_sign_input(h, b->p, b->len);
	crypto_sign_detached(sig, NULL, h, 64, k->sign_sk);
	sm_rec_bytes(b, T_SIG, sig, 64);
}

static int
add_str(char ***v, size_t *n, const unsigned char *p, size_t len)
{
	char *s;

	if (*n >= 1000 || !(s = sm_rd_str(p, len)))
		return -1;
	*v = sm_xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = s;
	return 0;
}

static void
copy_id(char dst[65], const unsigned char *p, size_t n, int *bad)
{
	if (n == 0 || n > 64) {
		*bad = 1;
		return;
	}
	memcpy(dst, p, n);
	dst[n] = 0;
	if (!sm_id_valid(dst))
		*bad = 1;
}

int
sm_stmt_decode(struct sm_stmt *s, const unsigned char *v, size_t n)
{
	const unsigned char *f, *oa = NULL;
	size_t fn, oan = 0, i, signed_len = 0;
	unsigned tag;
	uint64_t u;
	sm_rd r;
	int rc, bad = 0, seen = 0;
	unsigned char h[64];

	memset(s, 0, sizeof *s);
	if (sm_rd_begin(&r, v, n, STMT_MAGIC) < 0)
		return -1;
	while (!bad && (rc = sm_rd_next(&r, &tag, &f, &fn)) == 1) {
		if (seen & 64) {
			bad = 1;
			break;
		}
		switch (tag) {
		case T_ID:
			copy_id(s->id, f, fn, &bad);
			seen |= 1;
			break;
		case T_FROM:
			free(s->from);
			bad = !(s->from = sm_rd_str(f, fn));
			seen |= 2;
			break;
		case T_FROM_NAME:
			free(s->from_name);
			bad = !(s->from_name = sm_rd_str(f, fn));
			break;
		case T_FROM_PK:
			if (fn != 32)
				bad = 1;
			else
				memcpy(s->from_pk, f, 32);
			seen |= 4;
			break;
		case T_TO: bad = add_str(&s->to, &s->nto, f, fn); break;
		case T_CC: bad = add_str(&s->cc, &s->ncc, f, fn); break;
		case T_DATE:
			bad = sm_rd_u64(f, fn, &u) < 0;
			s->date = (int64_t)u;
			seen |= 8;
			break;
		case T_SUBJECT:
			free(s->subject);
			bad = !(s->subject = sm_rd_str(f, fn));
			break;
		case T_BODY:
			bad = part_parse(&s->body, f, fn, NULL);
			seen |= 16;
			break;
		case T_HTML:
			bad = part_parse(&s->html, f, fn, NULL);
			s->has_html = 1;
			break;
		case T_ATT:
			if (s->natt >= MAX_ATT) {
				bad = 1;
				break;
			}
			s->att = sm_xrealloc(s->att, (s->natt + 1) * sizeof *s->att);
			memset(&s->att[s->natt], 0, sizeof s->att[0]);
			bad = part_parse(&s->att[s->natt].ref, f, fn, &s->att[s->natt].name);
			if (!bad)
				s->natt++;
			break;
		case T_REPLY_TO: copy_id(s->reply_to, f, fn, &bad); break;
		case T_FORWARD_OF: copy_id(s->forward_of, f, fn, &bad); break;
		case T_ORIG:
			s->orig.len = 0;
			sm_buf_put(&s->orig, f, fn);
			break;
		case T_ORIG_OFFSET:
			bad = sm_rd_u64(f, fn, &s->orig_offset) < 0;
			break;
		case T_ORIG_ATT:
			oa = f;
			oan = fn;
			s->orig_atts = 1;
			break;
		case T_SIG:
			if (fn != 64) {
				bad = 1;
				break;
			}
			memcpy(s->sig, f, 64);
			signed_len = (size_t)(f - v) - 5;
			seen |= 64;
			break;
		default:
			break;
		}
	}
	/* One entry per attachment, each naming one of the original's. */
	if (!bad && s->orig_atts) {
		if (oan != 4 * s->natt)
			bad = 1;
		for (i = 0; !bad && i < s->natt; i++) {
			const unsigned char *q = oa + 4 * i;
			uint32_t k = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
			    (uint32_t)q[2] << 8 | q[3];
			if (k > MAX_ATT)
				bad = 1;
			s->att[i].from_orig = k;
		}
	}
	if (bad || rc < 0 || (seen & 95) != 95) {
		sm_stmt_free(s);
		return -1;
	}
	if (!s->subject)
		s->subject = sm_xstrdup("");
	stmt_sign_input(h, v, signed_len);
	if (crypto_sign_verify_detached(s->sig, h, 64, s->from_pk) != 0) {
		sm_stmt_free(s);
		return -2;
	}
	return 0;
}

/* The number of parts a statement describes, and whether they fit the
 * header's count. */
size_t
sm_stmt_nparts(const struct sm_stmt *s)
{
	return 2 + (s->has_html ? 1 : 0) + s->natt;
}

int
sm_stmt_load(sm_portal *p, const struct sm_env *e, const unsigned char K[32],
    struct sm_stmt *s)
{
	sm_buf b = { 0 };
	size_t i;
	int rc;

	if ((rc = sm_part_load(p, e, K, 0, &b, NULL)) != 0)
		return rc;
	rc = sm_stmt_decode(s, b.p, b.len);
	sm_buf_free(&b);
	if (rc < 0)
		return sm_err(EX_DATAERR, "%s: the message is tampered with (its "
		    "statement does not %s)", e->id, rc == -1 ? "decode" : "verify");
	if (strcmp(s->id, e->id) != 0 || sodium_memcmp(s->from_pk, e->from_pk, 32) != 0 ||
	    sm_stmt_nparts(s) != e->nparts || s->body.part != 1 ||
	    e->parts[1].size != s->body.size)
		goto bad;
	for (i = 0; i < s->natt; i++)
		if (s->att[i].ref.part >= e->nparts ||
		    e->parts[s->att[i].ref.part].size != s->att[i].ref.size)
			goto bad;
	if (s->has_html && (s->html.part >= e->nparts ||
	    e->parts[s->html.part].size != s->html.size))
		goto bad;
	{
		char *c = NULL;
		int same = sm_addr_canon_quiet(s->from, &c) == 0 && strcmp(c, e->from) == 0;
		free(c);
		if (!same)
			goto bad;
	}
	return 0;
bad:
	sm_stmt_free(s);
	return sm_err(EX_DATAERR, "%s: the message is tampered with (its "
	    "statement does not match its header)", e->id);
}
