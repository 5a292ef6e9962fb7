/*
 * forge: a signed-in account tries to pass a message off as another
 * account's, with the library's own writing code.  Used by
 * t/0850-forgery.t, which expects every attempt to be caught.
 *
 *   forge impersonate VICTIM RCPT   a message whose header names VICTIM
 *                                   as the sender, signed with the
 *                                   forger's key
 *   forge forward VICTIM RCPT       a forward embedding an "original"
 *                                   from VICTIM signed with a made-up key
 *   forge ghost ADDR RCPT           a message from ADDR, which has no
 *                                   account, signed with a made-up key
 *   forge swap ID RCPT FILE         a forward of message ID whose first
 *                                   attachment holds FILE (of the same
 *                                   size) instead, said to be the
 *                                   original's, with the original's hash
 *   forge oldfwd ID RCPT FILE       a forward of ID as forwards were
 *                                   written before they said which
 *                                   attachments are the original's: its
 *                                   first attachment, then FILE under the
 *                                   same name
 *
 * Prints the new message id.
 */
#include <stdlib.h>
#include <string.h>

#include "smail.h"

static int
put_part(struct sm_msgw *w, unsigned part, const void *p, size_t n,
    struct sm_pref *ref)
{
	int rc;

	if ((rc = sm_msgw_part_begin(w, part)) != 0 ||
	    (rc = sm_msgw_part_write(w, p, n)) != 0)
		return rc;
	ref->part = part;
	ref->size = n;
	return sm_msgw_part_end(w, ref->hash);
}

/* The whole message written by hand: header "from" VICTIM, signed
 * with K (whose public key is PK). */
static int
impersonate(sm_portal *p, const char *victim, const char *rcpt,
    const struct sm_keys *k, const unsigned char pk[32])
{
	static const char body[] = "Please wire the fee today.\n";
	struct sm_msgw w;
	struct sm_stmt s;
	struct sm_account a;
	struct sm_pref ref;
	sm_buf st = { 0 };
	char *vc = NULL, *rc_canon = NULL, *to[1];
	int rc;

	if ((rc = sm_addr_canon(victim, &vc)) || (rc = sm_addr_canon(rcpt, &rc_canon)))
		return rc;
	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	if ((rc = sm_account_get(p, rc_canon, &a)) != 0)
		goto out;
	/* The victim's address, the forger's key. */
	if ((rc = sm_msgw_init(&w, p, vc, pk, k, 2)) != 0)
		goto out;
	memset(&s, 0, sizeof s);
	if ((rc = put_part(&w, 1, body, sizeof body - 1, &s.body)) != 0)
		goto out;
	memcpy(s.id, w.env.id, sizeof w.env.id);
	s.from = (char *)victim;
	s.from_name = "";
	memcpy(s.from_pk, pk, 32);
	to[0] = (char *)rcpt;
	s.to = to;
	s.nto = 1;
	s.date = w.env.date;
	s.subject = "Fee";
	sm_stmt_encode(&st, &s, k);
	if ((rc = put_part(&w, 0, st.p, st.len, &ref)) != 0)
		goto out;
	sm_msgw_rcpt(&w, rc_canon, a.pub.box_pk);
	if ((rc = sm_msgw_finish(&w)) == 0 &&
	    (rc = sm_holders_set(p, w.env.id, &rc_canon, 1)) == 0 &&
	    (rc = sm_deliver(p, w.env.id, rc_canon)) == 0 &&
	    (rc = sm_store_commit(p)) == 0)
		printf("%s\n", w.env.id);
	sm_msgw_free(&w);
	sm_account_free(&a);
	sm_buf_free(&st);
	free(vc);
	free(rc_canon);
	return rc;
out:
	sm_store_end(p);
	free(vc);
	free(rc_canon);
	return rc;
}

/* A forward whose embedded original claims VICTIM, under a made-up key. */
static int
forward(sm_portal *p, const struct sm_ident *me, const char *victim,
    const char *rcpt)
{
	static const char fake[] = "Please wire the fee to account 12345.\n";
	struct sm_compose c;
	struct sm_stmt s;
	struct sm_pubkeys pub;
	struct sm_keys *k;
	sm_buf st = { 0 };
	char newid[SM_ID_CHARS + 1], *to[1], *vc = NULL;
	int rc;

	if ((rc = sm_addr_canon(victim, &vc)) != 0)
		return rc;
	k = sm_secret_alloc(sizeof *k);
	sm_keys_generate(vc, &pub, k);
	memset(&s, 0, sizeof s);
	sm_id_new(s.id);
	s.from = (char *)victim;
	s.from_name = "";
	memcpy(s.from_pk, pub.sign_pk, 32);
	to[0] = (char *)rcpt;
	s.to = to;
	s.nto = 1;
	s.date = sm_now();
	s.subject = "Fee";
	s.body.part = 1;
	s.body.size = sizeof fake - 1;
	crypto_generichash(s.body.hash, 32, (const unsigned char *)fake,
	    sizeof fake - 1, NULL, 0);
	sm_stmt_encode(&st, &s, k);

	memset(&c, 0, sizeof c);
	sm_compose_addr(&c.to, &c.nto, rcpt);
	c.subject = sm_xstrdup("Fwd: Fee");
	sm_buf_printf(&c.body, "FYI.\nOriginally sent by <%s> on "
	    "2026-11-28T12:00:00Z:\n", victim);
	c.orig_offset = c.body.len;
	sm_buf_puts(&c.body, fake);
	sm_buf_put(&c.orig, st.p, st.len);
	memcpy(c.forward_of, s.id, sizeof s.id);
	if ((rc = sm_send(p, me, &c, SM_KIND_MESSAGE, newid)) == 0)
		printf("%s\n", newid);
	sm_compose_free(&c);
	sm_buf_free(&st);
	sm_secret_free(k);
	free(vc);
	return rc;
}

/* A message from ADDR, which has no account here, under a key made up
 * for it. */
static int
ghost(sm_portal *p, const char *addr, const char *rcpt)
{
	struct sm_pubkeys pub;
	struct sm_keys *k = sm_secret_alloc(sizeof *k);
	char *c = NULL;
	int rc;

	if ((rc = sm_addr_canon(addr, &c)) == 0) {
		sm_keys_generate(c, &pub, k);
		rc = impersonate(p, addr, rcpt, k, pub.sign_pk);
	}
	free(c);
	sm_secret_free(k);
	return rc;
}

/*
 * A forward of message MID written by hand, signed with the forger's
 * own key: the body quotes the original exactly; the attachments are
 * per MODE ("swap" or "oldfwd", see the top).
 */
static int
forward_by_hand(sm_portal *p, const struct sm_ident *me, const char *mid,
    const char *rcpt, const char *file, const char *mode)
{
	struct sm_opened o;
	struct sm_msgw w;
	struct sm_stmt s;
	struct sm_account a;
	struct sm_att att[2];
	struct sm_pref ref;
	sm_buf body = { 0 }, orig = { 0 }, first = { 0 }, st = { 0 };
	char *data = NULL, *rc_canon = NULL, *to[1], when[32];
	size_t len, natt, i;
	int rc, old = strcmp(mode, "oldfwd") == 0;

	if ((rc = sm_msg_open(p, me, mid, 'x', &o)) != 0)
		return rc;
	if (!o.stmt.natt) {
		sm_opened_free(&o);
		return sm_err(EX_DATAERR, "%s: no attachment to swap", mid);
	}
	if ((rc = sm_read_file(file, 1 << 20, &data, &len)) != 0 ||
	    (rc = sm_addr_canon(rcpt, &rc_canon)) != 0)
		goto done;
	sm_fmt_time(o.stmt.date, when);
	sm_buf_printf(&body, "FYI.\nOriginally sent by <%s> on %s:\n",
	    o.stmt.from, when);
	memset(&s, 0, sizeof s);
	s.orig_offset = body.len;
	if ((rc = sm_part_load(p, &o.env, o.K, 1, &body, NULL)) != 0 ||
	    (rc = sm_part_load(p, &o.env, o.K, 0, &orig, NULL)) != 0 ||
	    (rc = sm_part_load(p, &o.env, o.K, o.stmt.att[0].ref.part, &first,
	    NULL)) != 0)
		goto done;
	if (!old && len != o.stmt.att[0].ref.size) {
		rc = sm_err(EX_DATAERR, "%s: not the size of the original's", file);
		goto done;
	}
	memset(att, 0, sizeof att);
	memset(&w, 0, sizeof w);
	natt = old ? 2 : 1;
	if ((rc = sm_store_begin(p, 1)) != 0)
		goto done;
	if ((rc = sm_account_get(p, rc_canon, &a)) != 0) {
		sm_store_end(p);
		goto done;
	}
	if ((rc = sm_msgw_init(&w, p, me->canon, me->pub.sign_pk, me->keys,
	    2 + natt)) != 0 ||
	    (rc = put_part(&w, 1, body.p, body.len, &s.body)) != 0)
		goto abort;
	for (i = 0; i < natt; i++) {
		/* "swap": FILE as the original's first attachment, with its
		 * hash.  "oldfwd": the original's first, then FILE. */
		int theirs = old && i == 0;
		att[i].name = o.stmt.att[0].name;
		if ((rc = put_part(&w, 2 + (unsigned)i, theirs ? (char *)first.p : data,
		    theirs ? first.len : len, &att[i].ref)) != 0)
			goto abort;
		if (!old) {
			memcpy(att[i].ref.hash, o.stmt.att[0].ref.hash, 32);
			att[i].from_orig = 1;          /* new statements only */
		}
	}
	memcpy(s.id, w.env.id, sizeof w.env.id);
	s.from = me->addr;
	s.from_name = "";
	memcpy(s.from_pk, me->pub.sign_pk, 32);
	to[0] = (char *)rcpt;
	s.to = to;
	s.nto = 1;
	s.date = w.env.date;
	s.subject = "Fwd: Report";
	s.att = att;
	s.natt = natt;
	snprintf(s.forward_of, sizeof s.forward_of, "%s", mid);
	s.orig = orig;
	s.orig_atts = !old;                        /* new statements only */
	sm_stmt_encode(&st, &s, me->keys);
	if ((rc = put_part(&w, 0, st.p, st.len, &ref)) != 0)
		goto abort;
	sm_msgw_rcpt(&w, rc_canon, a.pub.box_pk);
	if ((rc = sm_msgw_finish(&w)) == 0 &&
	    (rc = sm_holders_set(p, w.env.id, &rc_canon, 1)) == 0 &&
	    (rc = sm_deliver(p, w.env.id, rc_canon)) == 0 &&
	    (rc = sm_store_commit(p)) == 0)
		printf("%s\n", w.env.id);
	sm_msgw_free(&w);
	sm_account_free(&a);
	goto done;
abort:
	sm_msgw_abort(&w);
	sm_msgw_free(&w);
	sm_account_free(&a);
	sm_store_end(p);
done:
	sm_buf_free(&body);
	sm_buf_free(&orig);
	sm_buf_free(&first);
	sm_buf_free(&st);
	free(data);
	free(rc_canon);
	sm_opened_free(&o);
	return rc;
}

int
main(int argc, char **argv)
{
	struct sm_opts o;
	struct sm_ident me = { 0 };
	sm_portal *p = NULL;
	int rc;

	sm_init(argv[0]);
	sm_opts_init(&o);
	if (argc != 4 && argc != 5)
		sm_die(EX_USAGE, "usage: forge impersonate|forward|ghost VICTIM RCPT, "
		    "forge swap|oldfwd ID RCPT FILE");
	if ((rc = sm_portal_open(o.dir, &p)) != 0 || (rc = sm_auth(p, &o, &me)) != 0)
		return rc;
	if (strcmp(argv[1], "impersonate") == 0)
		rc = impersonate(p, argv[2], argv[3], me.keys, me.pub.sign_pk);
	else if (strcmp(argv[1], "forward") == 0)
		rc = forward(p, &me, argv[2], argv[3]);
	else if (strcmp(argv[1], "ghost") == 0)
		rc = ghost(p, argv[2], argv[3]);
	else if (argc == 5 && (strcmp(argv[1], "swap") == 0 ||
	    strcmp(argv[1], "oldfwd") == 0))
		rc = forward_by_hand(p, &me, argv[2], argv[3], argv[4], argv[1]);
	else
		rc = sm_err(EX_USAGE, "%s: unknown mode", argv[1]);
	sm_ident_free(&me);
	sm_portal_close(p);
	return rc;
}
