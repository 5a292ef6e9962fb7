/*
 * record.c: the tag-length-value record codec (sm_rec_* / sm_rd_*), and
 * the account record decoded from damaged bytes: random bytes, every
 * truncation and every single-byte corruption must fail cleanly or
 * succeed, never crash or read past the end (run under SANITIZE=1 to
 * catch that too).
 */
#include <string.h>

#include <sodium.h>

#include "smail.h"
#include "tap.h"

/* A copy of P in a buffer of exactly N bytes, so that reading past the
 * end shows under AddressSanitizer. */
static unsigned char *
exact(const void *p, size_t n)
{
	unsigned char *c = sm_xmalloc(n ? n : 1);

	if (n)
		memcpy(c, p, n);
	return c;
}

/* Walks a record: the number of fields, or -1 when it is malformed. */
static int
walk(const unsigned char *p, size_t n, const char magic[4])
{
	const unsigned char *f;
	size_t fn;
	unsigned tag;
	sm_rd r;
	int rc, count = 0;

	if (sm_rd_begin(&r, p, n, magic) < 0)
		return -2;
	while ((rc = sm_rd_next(&r, &tag, &f, &fn)) == 1) {
		if (f < p || f + fn > p + n)
			return -3;      /* a field outside the record */
		count++;
	}
	return rc < 0 ? -1 : count;
}

static void
fill_account(struct sm_account *a, struct sm_keys *k)
{
	unsigned char b[100];

	memset(a, 0, sizeof *a);
	a->addr = sm_xstrdup("Alice@Agency.gov");
	a->canon = sm_xstrdup("Alice@agency.gov");
	a->first = sm_xstrdup("Alice");
	a->last = sm_xstrdup("Agent");
	a->state = SM_ACTIVE;
	a->created = 1795000000;
	a->failed = 2;
	a->lock_until = 1795001800;
	sm_keys_generate(a->canon, &a->pub, k);
	a->has_pw = 1;
	sm_pwparams_new(&a->pw, SM_PWHASH_INTERACTIVE);
	randombytes_buf(a->pw_wrap, sizeof a->pw_wrap);
	randombytes_buf(a->rec_seal, sizeof a->rec_seal);
	a->has_inv = 1;
	randombytes_buf(a->inv_hash, sizeof a->inv_hash);
	a->inv_expires = 1796000000;
	randombytes_buf(a->inv_wrap, sizeof a->inv_wrap);
	a->inv_renew = 1;
	randombytes_buf(b, sizeof b);
	sm_buf_put(&a->hist, b, 77);
	a->reset = SM_RESET_REQUESTED;
	randombytes_buf(a->rs_hash, sizeof a->rs_hash);
	a->rs_expires = 1795086400;
	sm_pwparams_new(&a->rs_pw, SM_PWHASH_MODERATE);
	randombytes_buf(a->rs_tpk, sizeof a->rs_tpk);
	sm_buf_put(&a->rs_tsk, b, 32 + 24 + 16);
	a->rs_mismatch = 1;
	sm_buf_put(&a->rs_skel, b, 60);
	sm_buf_put(&a->rs_xfer, b, 90);
	a->rs_mails[0] = 1795000100;
	a->rs_mails[1] = 1795000200;
	a->rs_mails[2] = 0;
	sm_buf_put(&a->sessions, b, 64);
	a->code_failed = 2;
	a->code_lock_until = 1795003600;
	a->code_locks = 3;
}

static int
same_account(const struct sm_account *x, const struct sm_account *y)
{
	return strcmp(x->addr, y->addr) == 0 &&
	    strcmp(x->first, y->first) == 0 && strcmp(x->last, y->last) == 0 &&
	    x->state == y->state && x->created == y->created &&
	    x->failed == y->failed && x->lock_until == y->lock_until &&
	    memcmp(&x->pub, &y->pub, sizeof x->pub) == 0 &&
	    x->has_pw == y->has_pw &&
	    memcmp(x->pw.salt, y->pw.salt, 16) == 0 && x->pw.ops == y->pw.ops &&
	    x->pw.mem == y->pw.mem &&
	    memcmp(x->pw_wrap, y->pw_wrap, sizeof x->pw_wrap) == 0 &&
	    memcmp(x->rec_seal, y->rec_seal, sizeof x->rec_seal) == 0 &&
	    x->has_inv == y->has_inv &&
	    memcmp(x->inv_hash, y->inv_hash, 32) == 0 &&
	    x->inv_expires == y->inv_expires &&
	    memcmp(x->inv_wrap, y->inv_wrap, sizeof x->inv_wrap) == 0 &&
	    x->inv_renew == y->inv_renew &&
	    x->hist.len == y->hist.len &&
	    memcmp(x->hist.p, y->hist.p, x->hist.len) == 0 &&
	    x->reset == y->reset && memcmp(x->rs_hash, y->rs_hash, 32) == 0 &&
	    x->rs_expires == y->rs_expires &&
	    memcmp(&x->rs_pw, &y->rs_pw, sizeof x->rs_pw) == 0 &&
	    memcmp(x->rs_tpk, y->rs_tpk, 32) == 0 &&
	    x->rs_tsk.len == y->rs_tsk.len &&
	    memcmp(x->rs_tsk.p, y->rs_tsk.p, x->rs_tsk.len) == 0 &&
	    x->rs_mismatch == y->rs_mismatch &&
	    x->rs_skel.len == y->rs_skel.len &&
	    memcmp(x->rs_skel.p, y->rs_skel.p, x->rs_skel.len) == 0 &&
	    x->rs_xfer.len == y->rs_xfer.len &&
	    memcmp(x->rs_xfer.p, y->rs_xfer.p, x->rs_xfer.len) == 0 &&
	    memcmp(x->rs_mails, y->rs_mails, sizeof x->rs_mails) == 0 &&
	    x->sessions.len == y->sessions.len &&
	    memcmp(x->sessions.p, y->sessions.p, x->sessions.len) == 0 &&
	    x->code_failed == y->code_failed &&
	    x->code_lock_until == y->code_lock_until &&
	    x->code_locks == y->code_locks;
}

/* Decodes N bytes at P (copied to an exact buffer): -1 refused, 0 decoded
 * (and encoded again without trouble), 2 decoded into something odd. */
static int
try_decode(const unsigned char *p, size_t n)
{
	struct sm_account a;
	unsigned char *c = exact(p, n);
	sm_buf again = { 0 };
	int rc;

	rc = sm_account_decode(&a, c, n);
	if (rc == 0) {
		if (!a.addr || (a.state != SM_INVITED && a.state != SM_ACTIVE) ||
		    a.sessions.len % 32 != 0)
			rc = 2;
		sm_account_encode(&again, &a);
		sm_buf_free(&again);
		sm_account_free(&a);
	} else if (rc != -1)
		rc = 3;
	free(c);
	return rc;
}

int
main(int argc, char **argv)
{
	sm_buf b = { 0 }, b2 = { 0 };
	sm_rd r;
	unsigned tag;
	const unsigned char *f;
	size_t fn, i, j;
	uint64_t u;
	unsigned char *c, big[70000];
	char *s = NULL;
	int rc;
	(void)argc;

	sm_init(argv[0]);

	/* ---- the layout ---- */
	sm_rec_begin(&b, "TST1");
	sm_rec_bytes(&b, 1, "abc", 3);
	ok(b.len == 4 + 5 + 3 && memcmp(b.p, "TST1\x01\x00\x00\x00\x03" "abc", 12) == 0,
	    "magic, tag, big-endian 4-byte length, data");
	sm_buf_free(&b);
	sm_rec_begin(&b, "TST1");
	sm_rec_u64(&b, 7, 0x0102030405060708ULL);
	ok(b.len == 17 && memcmp(b.p + 4, "\x07\x00\x00\x00\x08"
	    "\x01\x02\x03\x04\x05\x06\x07\x08", 13) == 0, "a u64 is 8 bytes, big-endian");
	sm_buf_free(&b);
	sm_rec_begin(&b, "TST1");
	sm_rec_str(&b, 2, NULL);
	ok(b.len == 4, "a NULL string writes no field");
	sm_buf_free(&b);

	/* ---- round trip ---- */
	memset(big, 0xa5, sizeof big);
	sm_rec_begin(&b, "TST1");
	sm_rec_bytes(&b, 1, "abc", 3);
	sm_rec_str(&b, 2, "hello, world");
	sm_rec_u64(&b, 3, 0x0102030405060708ULL);
	sm_rec_u64(&b, 4, UINT64_MAX);
	sm_rec_u64(&b, 5, 0);
	sm_rec_bytes(&b, 6, "", 0);
	sm_rec_str(&b, 7, "");
	sm_rec_bytes(&b, 255, big, sizeof big);
	sm_rec_bytes(&b, 0, "\0\1\2", 3);
	c = exact(b.p, b.len);
	ok(sm_rd_begin(&r, c, b.len, "TST1") == 0, "begin with the right magic");
	ok(sm_rd_next(&r, &tag, &f, &fn) == 1 && tag == 1 && fn == 3 &&
	    memcmp(f, "abc", 3) == 0, "bytes field back");
	ok(sm_rd_next(&r, &tag, &f, &fn) == 1 && tag == 2 &&
	    (s = sm_rd_str(f, fn)) && strcmp(s, "hello, world") == 0,
	    "string field back");
	free(s);
	s = NULL;
	ok(sm_rd_next(&r, &tag, &f, &fn) == 1 && tag == 3 &&
	    sm_rd_u64(f, fn, &u) == 0 && u == 0x0102030405060708ULL, "u64 back");
	ok(sm_rd_next(&r, &tag, &f, &fn) == 1 && tag == 4 &&
	    sm_rd_u64(f, fn, &u) == 0 && u == UINT64_MAX, "UINT64_MAX back");
	ok(sm_rd_next(&r, &tag, &f, &fn) == 1 && tag == 5 &&
	    sm_rd_u64(f, fn, &u) == 0 && u == 0, "0 back");
	ok(sm_rd_next(&r, &tag, &f, &fn) == 1 && tag == 6 && fn == 0,
	    "an empty field back");
	ok(sm_rd_next(&r, &tag, &f, &fn) == 1 && tag == 7 &&
	    (s = sm_rd_str(f, fn)) && s[0] == 0, "an empty string back");
	free(s);
	s = NULL;
	ok(sm_rd_next(&r, &tag, &f, &fn) == 1 && tag == 255 && fn == sizeof big &&
	    memcmp(f, big, sizeof big) == 0, "a 70000-byte field with tag 255 back");
	ok(sm_rd_next(&r, &tag, &f, &fn) == 1 && tag == 0 && fn == 3 &&
	    memcmp(f, "\0\1\2", 3) == 0, "tag 0 and NUL bytes back");
	ok(sm_rd_next(&r, &tag, &f, &fn) == 0, "then the end");
	ok(sm_rd_next(&r, &tag, &f, &fn) == 0, "and the end again");
	free(c);

	/* ---- magic ---- */
	c = exact(b.p, b.len);
	ok(sm_rd_begin(&r, c, b.len, "TST2") < 0, "wrong magic refused");
	ok(sm_rd_begin(&r, c, 3, "TST1") < 0, "3 bytes: no room for the magic");
	ok(sm_rd_begin(&r, c, 0, "TST1") < 0, "0 bytes refused");
	ok(sm_rd_begin(&r, c, 4, "TST1") == 0 && sm_rd_next(&r, &tag, &f, &fn) == 0,
	    "the magic alone is an empty record");
	free(c);

	/* ---- every truncation ---- */
	{
		size_t bounds[16], nb = 0, off = 4;
		int good = 1, clean = 1;
		/* Field boundaries of b. */
		bounds[nb++] = 4;
		while (off < b.len) {
			size_t len = (size_t)b.p[off + 1] << 24 | (size_t)b.p[off + 2] << 16 |
			    (size_t)b.p[off + 3] << 8 | b.p[off + 4];
			off += 5 + len;
			bounds[nb++] = off;
		}
		ok(bounds[nb - 1] == b.len && nb == 10, "nine fields found by hand");
		for (i = 4; i < b.len; i++) {
			int at_bound = 0, w;
			for (j = 0; j < nb; j++)
				if (bounds[j] == i)
					at_bound = (int)j + 1;
			c = exact(b.p, i);
			w = walk(c, i, "TST1");
			free(c);
			if (at_bound ? w != at_bound - 1 : w != -1)
				good = 0;
			if (w < -1)
				clean = 0;
		}
		ok(good, "every truncation: malformed mid-field, fewer fields at a boundary");
		ok(clean, "no field ever reaches past the end");
	}

	/* ---- lengths past the end ---- */
	sm_buf_free(&b2);
	sm_rec_begin(&b2, "TST1");
	sm_buf_put(&b2, "\x01\xff\xff\xff\xff" "abc", 8);
	c = exact(b2.p, b2.len);
	ok(walk(c, b2.len, "TST1") == -1, "length 0xffffffff refused");
	free(c);
	sm_buf_free(&b2);
	sm_rec_begin(&b2, "TST1");
	sm_buf_put(&b2, "\x01\x00\x00\x00\x04" "abc", 8);
	c = exact(b2.p, b2.len);
	ok(walk(c, b2.len, "TST1") == -1, "length one past the end refused");
	free(c);
	sm_buf_free(&b2);
	sm_rec_begin(&b2, "TST1");
	sm_buf_put(&b2, "\x01\x00\x00\x00\x03" "abc", 8);
	c = exact(b2.p, b2.len);
	ok(walk(c, b2.len, "TST1") == 1, "length exactly to the end accepted");
	free(c);
	sm_buf_free(&b2);
	sm_rec_begin(&b2, "TST1");
	sm_buf_put(&b2, "\x01\x00\x00\x00\x00" "\x02\x80\x00\x00", 9);
	c = exact(b2.p, b2.len);
	ok(walk(c, b2.len, "TST1") == -1, "a header cut short after a good field refused");
	free(c);
	sm_buf_free(&b2);
	sm_rec_begin(&b2, "TST1");
	sm_buf_put(&b2, "\x01\x7f\xff\xff\xfb", 5);
	c = exact(b2.p, b2.len);
	ok(walk(c, b2.len, "TST1") == -1, "a length that would wrap an offset refused");
	free(c);

	/* ---- field readers ---- */
	ok(sm_rd_u64((const unsigned char *)"1234567", 7, &u) < 0, "u64 of 7 bytes refused");
	ok(sm_rd_u64((const unsigned char *)"123456789", 9, &u) < 0, "u64 of 9 bytes refused");
	ok(sm_rd_u64((const unsigned char *)"", 0, &u) < 0, "u64 of 0 bytes refused");
	ok(sm_rd_str((const unsigned char *)"a\0b", 3) == NULL, "a string with NUL refused");
	s = sm_rd_str((const unsigned char *)"abcdef", 3);
	ok(s && strcmp(s, "abc") == 0, "a string is exactly its length");
	free(s);

	/* ---- random bytes into the record reader ---- */
	{
		int good = 1;
		for (i = 0; i < 20000; i++) {
			unsigned char rnd[64];
			size_t n = randombytes_uniform(sizeof rnd + 1);
			randombytes_buf(rnd, sizeof rnd);
			if (n >= 4 && (i & 1))
				memcpy(rnd, "TST1", 4);
			c = exact(rnd, n);
			if (walk(c, n, "TST1") < -2)
				good = 0;
			free(c);
		}
		ok(good, "20000 random buffers: every field inside its record");
	}
	sm_buf_free(&b);
	sm_buf_free(&b2);

	/* ---- the account record ---- */
	{
		struct sm_account a, d;
		struct sm_keys *k = sm_secret_alloc(sizeof *k);
		sm_buf enc = { 0 }, enc2 = { 0 };
		int odd = 0, cut_ok = 0, cut_bad = 0, magic_ok = 1;
		size_t n;

		fill_account(&a, k);
		sm_account_encode(&enc, &a);
		c = exact(enc.p, enc.len);
		ok(sm_account_decode(&d, c, enc.len) == 0, "an encoded account decodes");
		ok(same_account(&a, &d), "with every field as it was");
		sm_account_encode(&enc2, &d);
		ok(enc2.len == enc.len && memcmp(enc.p, enc2.p, enc.len) == 0,
		    "and encodes to the same bytes");
		sm_buf_free(&enc2);
		sm_account_free(&d);
		free(c);

		/* A minimal invited account with no optional field. */
		{
			struct sm_account m;
			memset(&m, 0, sizeof m);
			m.addr = sm_xstrdup("bob@partner.example");
			m.state = SM_INVITED;
			memcpy(&m.pub, &a.pub, sizeof m.pub);
			sm_account_encode(&enc2, &m);
			c = exact(enc2.p, enc2.len);
			ok(sm_account_decode(&d, c, enc2.len) == 0 && d.state == SM_INVITED &&
			    !d.has_pw && !d.has_inv && d.reset == SM_RESET_NONE &&
			    !d.first && !d.last, "a minimal invited account round-trips");
			ok(!d.failed && !d.lock_until && !d.code_failed &&
			    !d.code_lock_until && !d.code_locks,
			    "with no count and no lock (a record from before the "
			    "access code's own lock reads the same)");
			sm_account_free(&d);
			free(c);
			sm_buf_free(&enc2);
			sm_account_free(&m);
		}

		/* A field this version does not know (a newer one's) is
		 * skipped: the account reads as it was. */
		sm_buf_put(&enc2, enc.p, enc.len);
		sm_rec_u64(&enc2, 200, 42);
		c = exact(enc2.p, enc2.len);
		ok(sm_account_decode(&d, c, enc2.len) == 0 && same_account(&a, &d),
		    "an unknown tag is skipped");
		sm_account_free(&d);
		free(c);
		sm_buf_free(&enc2);

		/* Every truncation. */
		for (n = 0; n < enc.len; n++) {
			rc = try_decode(enc.p, n);
			if (rc == 0)
				cut_ok++;
			else if (rc == -1)
				cut_bad++;
			else
				odd++;
		}
		ok(odd == 0, "every truncation (%zu) fails cleanly or decodes sanely", enc.len);
		ok(cut_bad > 0 && cut_ok < (int)enc.len / 10,
		    "and nearly all fail (%d decoded, %d refused)", cut_ok, cut_bad);
		rc = try_decode(enc.p, enc.len - 1);
		ok(rc == -1, "losing the last byte is refused");

		/* Every single-byte corruption, three ways. */
		odd = 0;
		for (n = 0; n < enc.len; n++) {
			static const unsigned char x[] = { 0x01, 0x80, 0xff };
			for (j = 0; j < sizeof x; j++) {
				c = exact(enc.p, enc.len);
				c[n] ^= x[j];
				rc = try_decode(c, enc.len);
				if (rc != 0 && rc != -1)
					odd++;
				if (n < 4 && rc != -1)
					magic_ok = 0;
				free(c);
			}
		}
		ok(odd == 0, "every single-byte corruption (%zu x 3) fails cleanly or "
		    "decodes sanely", enc.len);
		ok(magic_ok, "a corrupted magic is always refused");

		/* Random bytes, some behind the right magic, some shaped as
		 * fields with the account's tags. */
		odd = 0;
		for (i = 0; i < 20000; i++) {
			unsigned char rnd[600];
			size_t len = randombytes_uniform(sizeof rnd + 1);
			randombytes_buf(rnd, sizeof rnd);
			if (len >= 4 && i % 3)
				memcpy(rnd, "SMA1", 4);
			if (i % 3 == 2) {
				/* Plausible fields: small tags, small lengths. */
				size_t off = 4;
				while (off + 5 <= len) {
					size_t fl = randombytes_uniform(100);
					rnd[off] = (unsigned char)randombytes_uniform(60);
					rnd[off + 1] = rnd[off + 2] = rnd[off + 3] = 0;
					rnd[off + 4] = (unsigned char)fl;
					off += 5 + fl;
				}
			}
			rc = try_decode(rnd, len);
			if (rc != 0 && rc != -1)
				odd++;
		}
		ok(odd == 0, "20000 random records fail cleanly or decode sanely");
		ok(try_decode((const unsigned char *)"SMA1", 4) == -1,
		    "the magic alone is not an account");

		/* Particular bad values.  Tags written by hand are the
		 * on-disk format of account.c: 1 address, 4 state, 8-10 the
		 * public keys and signature, 30 the reset state. */
		{
			struct sm_account m;
			static const struct { uint64_t state; int reset; size_t sess, tsk;
			    const char *what; } bad[] = {
				{ 3, 0, 0, 0, "state 3" },
				{ 0, 0, 0, 0, "state 0" },
				{ SM_ACTIVE, 0, 33, 0, "a session list not a multiple of 32" },
				{ SM_ACTIVE, SM_RESET_REQUESTED, 0, 71, "a reset with a short tsk" },
			};
			for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
				unsigned char zero[100] = { 0 };
				memset(&m, 0, sizeof m);
				m.addr = sm_xstrdup("carol@example.org");
				m.state = (int)bad[i].state;
				memcpy(&m.pub, &a.pub, sizeof m.pub);
				m.reset = bad[i].reset;
				sm_buf_put(&m.sessions, zero, bad[i].sess);
				sm_buf_put(&m.rs_tsk, zero, bad[i].tsk);
				sm_account_encode(&enc2, &m);
				ok(try_decode(enc2.p, enc2.len) == -1, "refused: %s", bad[i].what);
				sm_buf_free(&enc2);
				sm_account_free(&m);
			}
			/* A reset state out of range, written by hand. */
			memset(&m, 0, sizeof m);
			m.addr = sm_xstrdup("carol@example.org");
			m.state = SM_ACTIVE;
			memcpy(&m.pub, &a.pub, sizeof m.pub);
			sm_account_encode(&enc2, &m);
			sm_rec_u64(&enc2, 30, 9);
			ok(try_decode(enc2.p, enc2.len) == -1, "refused: reset state 9");
			sm_buf_free(&enc2);
			/* An unknown tag is skipped. */
			sm_account_encode(&enc2, &m);
			sm_rec_bytes(&enc2, 200, "future", 6);
			ok(try_decode(enc2.p, enc2.len) == 0, "an unknown tag is skipped");
			sm_buf_free(&enc2);
			/* A repeated address: the last one, and no leak. */
			sm_account_encode(&enc2, &m);
			sm_rec_str(&enc2, 1, "dave@example.org");
			c = exact(enc2.p, enc2.len);
			ok(sm_account_decode(&d, c, enc2.len) == 0 &&
			    strcmp(d.addr, "dave@example.org") == 0,
			    "a repeated field: the last wins");
			sm_account_free(&d);
			free(c);
			sm_buf_free(&enc2);
			/* An address with a NUL byte. */
			sm_account_encode(&enc2, &m);
			sm_rec_bytes(&enc2, 1, "eve\0@example.org", 16);
			ok(try_decode(enc2.p, enc2.len) == -1, "refused: an address with NUL");
			sm_buf_free(&enc2);
			/* A required field missing: no recovery seal. */
			sm_buf_free(&enc2);
			sm_rec_begin(&enc2, "SMA1");
			sm_rec_str(&enc2, 1, m.addr);
			sm_rec_u64(&enc2, 4, SM_ACTIVE);
			sm_rec_bytes(&enc2, 8, a.pub.sign_pk, 32);
			sm_rec_bytes(&enc2, 9, a.pub.box_pk, 32);
			sm_rec_bytes(&enc2, 10, a.pub.sig, 64);
			ok(try_decode(enc2.p, enc2.len) == -1, "refused: no recovery seal");
			sm_buf_free(&enc2);
			sm_account_free(&m);
		}

		sm_buf_free(&enc);
		sm_account_free(&a);
		sm_secret_free(k);
	}

	plan(tap_n);
	return done();
}
