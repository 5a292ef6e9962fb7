/*
 * statement.c: a forward's statement says which attachments it carries
 * from the original (and older ones, which do not, still decode), and a
 * forward is judged against the original statement it carries: the
 * quoted body and each attachment said to be the original's.
 */
#include <string.h>

#include <sodium.h>

#include "smail.h"
#include "tap.h"

static void
ref(struct sm_pref *r, unsigned part, const char *data)
{
	r->part = part;
	r->size = strlen(data);
	crypto_generichash(r->hash, 32, (const unsigned char *)data, r->size,
	    NULL, 0);
}

/* A statement from FROM with attachments NAMES[i] holding DATA[i]. */
static void
fill(struct sm_stmt *s, const char *from, const unsigned char pk[32],
    const char *body, size_t natt, const char *const *names,
    const char *const *data)
{
	static char *to[] = { "ben@partner.example" };
	size_t i;

	memset(s, 0, sizeof *s);
	sm_id_new(s->id);
	s->from = sm_xstrdup(from);
	s->from_name = sm_xstrdup("");
	memcpy(s->from_pk, pk, 32);
	s->to = to;
	s->nto = 1;
	s->date = 1795000000;
	s->subject = sm_xstrdup("Report");
	ref(&s->body, 1, body);
	s->att = sm_xcalloc(natt ? natt : 1, sizeof *s->att);
	for (i = 0; i < natt; i++) {
		s->att[i].name = sm_xstrdup(names[i]);
		ref(&s->att[i].ref, 2 + (unsigned)i, data[i]);
	}
	s->natt = natt;
}

static void
unfill(struct sm_stmt *s)
{
	size_t i;

	free(s->from);
	free(s->from_name);
	free(s->subject);
	for (i = 0; i < s->natt; i++)
		free(s->att[i].name);
	free(s->att);
	sm_buf_free(&s->orig);
}

/* Decodes B into OUT: the decoder's answer. */
static int
roundtrip(const sm_buf *b, struct sm_stmt *out)
{
	return sm_stmt_decode(out, b->p, b->len);
}

int
main(void)
{
	static const char *onames[] = { "report.pdf", "notes.txt" };
	static const char *odata[] = { "the real report", "the notes" };
	static const char obody[] = "The original text.\n";
	struct sm_pubkeys pa, pe;
	struct sm_keys *ka, *ke;
	struct sm_stmt orig, fwd, got, dorig;
	struct sm_opened o;
	sm_buf ob = { 0 }, fb = { 0 }, body = { 0 };
	unsigned char ah[3][32], have[3] = { 1, 1, 1 };
	const char *fnames[3], *fdata[3];
	size_t i;

	if (sodium_init() < 0)
		return 1;
	ka = sm_secret_alloc(sizeof *ka);
	ke = sm_secret_alloc(sizeof *ke);
	sm_keys_generate("ada@agency.example", &pa, ka);
	sm_keys_generate("eve@mallory.example", &pe, ke);

	/* The original, from ada, with two attachments. */
	fill(&orig, "ada@agency.example", pa.sign_pk, obody, 2, onames, odata);
	sm_stmt_encode(&ob, &orig, ka);
	ok(roundtrip(&ob, &dorig) == 0, "the original statement decodes");
	ok(!dorig.orig_atts, "and says nothing of carried attachments");

	/* Eve's forward: ada's report, ada's notes dropped, her own
	 * report.pdf added. */
	fnames[0] = "report.pdf", fdata[0] = "the real report";
	fnames[1] = "report.pdf", fdata[1] = "a doctored one!";
	sm_buf_puts(&body, "FYI\nOriginally sent by <ada@agency.example>:\n");
	fill(&fwd, "eve@mallory.example", pe.sign_pk, "", 2, fnames, fdata);
	fwd.orig_offset = body.len;
	sm_buf_puts(&body, obody);
	snprintf(fwd.forward_of, sizeof fwd.forward_of, "%s", orig.id);
	sm_buf_put(&fwd.orig, ob.p, ob.len);
	fwd.orig_atts = 1;
	fwd.att[0].from_orig = 1;
	fwd.att[1].from_orig = 0;
	sm_stmt_encode(&fb, &fwd, ke);
	ok(roundtrip(&fb, &got) == 0, "the forward's statement decodes");
	ok(got.orig_atts && got.natt == 2 && got.att[0].from_orig == 1 &&
	    got.att[1].from_orig == 0, "and says which attachment is the original's");

	for (i = 0; i < 2; i++)
		crypto_generichash(ah[i], 32, (const unsigned char *)fdata[i],
		    strlen(fdata[i]), NULL, 0);
	memset(&o, 0, sizeof o);
	o.stmt = got;
	sm_forward_judge(&o, &dorig, 1, body.p, body.len,
	    (const unsigned char (*)[32])ah, have);
	ok(o.orig_verified, "the quoted text and the kept report: verified");
	ok(o.fwd_att[0] == SM_FWD_ORIGINAL, "the kept report is the original's");
	ok(o.fwd_att[1] == SM_FWD_ADDED, "the added one of the same name is added");
	ok(strcmp(sm_forward_mark(&o, 1), ", added by the forwarder") == 0,
	    "and the view says so");

	sm_forward_judge(&o, &dorig, 0, body.p, body.len,
	    (const unsigned char (*)[32])ah, have);
	ok(!o.orig_verified && o.fwd_att[0] == SM_FWD_UNVERIFIED,
	    "an original not signed by its sender's key: nothing verified");

	/* The forwarder says the doctored one is the original's. */
	o.stmt.att[1].from_orig = 1;
	sm_forward_judge(&o, &dorig, 1, body.p, body.len,
	    (const unsigned char (*)[32])ah, have);
	ok(!o.orig_verified && o.fwd_att[1] == SM_FWD_UNVERIFIED,
	    "a file said to be the original's that is not: NOT verified");
	o.stmt.att[1].from_orig = 9;
	sm_forward_judge(&o, &dorig, 1, body.p, body.len,
	    (const unsigned char (*)[32])ah, have);
	ok(!o.orig_verified && o.fwd_att[1] == SM_FWD_UNVERIFIED,
	    "one said to be an attachment the original lacks: NOT verified");
	o.stmt.att[1].from_orig = 0;

	/* The kept report renamed. */
	{
		char *keep = o.stmt.att[0].name, other[] = "renamed.pdf";
		o.stmt.att[0].name = other;
		sm_forward_judge(&o, &dorig, 1, body.p, body.len,
		    (const unsigned char (*)[32])ah, have);
		ok(!o.orig_verified && o.fwd_att[0] == SM_FWD_UNVERIFIED,
		    "the original's attachment under another name: NOT verified");
		o.stmt.att[0].name = keep;
	}
	/* The quoted text changed. */
	body.p[body.len - 2] ^= 1;
	sm_forward_judge(&o, &dorig, 1, body.p, body.len,
	    (const unsigned char (*)[32])ah, have);
	ok(!o.orig_verified && o.fwd_att[0] == SM_FWD_ORIGINAL,
	    "a changed quote: the original NOT verified, the report still is");
	body.p[body.len - 2] ^= 1;

	/* As forwards were before they said which attachments they carry:
	 * the one with the original's name, size and content is its. */
	o.stmt.orig_atts = 0;
	sm_forward_judge(&o, &dorig, 1, body.p, body.len,
	    (const unsigned char (*)[32])ah, have);
	ok(o.orig_verified && o.fwd_att[0] == SM_FWD_ORIGINAL &&
	    o.fwd_att[1] == SM_FWD_ADDED,
	    "an older forward: matched by content, the other one added");
	sm_stmt_free(&got);

	/* A field that does not give one entry per attachment is refused. */
	{
		sm_buf b = { 0 };
		unsigned char v[4] = { 0, 0, 0, 1 }, sig[64] = { 0 }, part[44];
		struct sm_stmt bad;
		memset(part, 0, sizeof part);
		sm_rec_begin(&b, "SMT1");
		sm_rec_str(&b, 1, "abcdefghijklmnop");
		sm_rec_str(&b, 2, "eve@mallory.example");
		sm_rec_bytes(&b, 4, pe.sign_pk, 32);
		sm_rec_u64(&b, 7, 1795000000);
		sm_rec_bytes(&b, 9, part, sizeof part);
		sm_rec_bytes(&b, 16, v, sizeof v);      /* one entry, no attachment */
		sm_rec_bytes(&b, 31, sig, sizeof sig);
		ok(sm_stmt_decode(&bad, b.p, b.len) == -1,
		    "an entry for an attachment there is not: malformed");
		b.len = 0;
		sm_rec_begin(&b, "SMT1");
		sm_rec_str(&b, 1, "abcdefghijklmnop");
		sm_rec_str(&b, 2, "eve@mallory.example");
		sm_rec_bytes(&b, 4, pe.sign_pk, 32);
		sm_rec_u64(&b, 7, 1795000000);
		sm_rec_bytes(&b, 9, part, sizeof part);
		sm_rec_bytes(&b, 16, v, 0);
		sm_rec_bytes(&b, 31, sig, sizeof sig);
		ok(sm_stmt_decode(&bad, b.p, b.len) == -2,
		    "an empty one with no attachment: well formed (the signature "
		    "is what fails here)");
		sm_buf_free(&b);
	}

	sm_stmt_free(&dorig);
	unfill(&orig);
	fwd.to = NULL;
	unfill(&fwd);
	sm_buf_free(&ob);
	sm_buf_free(&fb);
	sm_buf_free(&body);
	sm_secret_free(ka);
	sm_secret_free(ke);
	plan(tap_n);
	return done();
}
