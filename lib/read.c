/*
 * read.c: a message as its recipient sees it: opened from the
 * account's index, verified, marked read, deleted.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "smail.h"

void
sm_opened_free(struct sm_opened *o)
{
	sm_env_free(&o->env);
	sm_stmt_free(&o->stmt);
	sodium_memzero(o, sizeof *o);
}

/*
 * A message by its id, without the index, so that opening one costs
 * the same in an inbox of a million as in one of ten: the account holds
 * it when it is among the message's holders ("r:ID"), and its content
 * key comes from the account's sealed stanza.  Read-only.
 */
static int
msg_open_direct(sm_portal *p, const struct sm_ident *id, const char *mid,
    struct sm_opened *o)
{
	struct sm_index ix;
	struct sm_entry *e;
	int rc, listed = 0;

	if ((rc = sm_store_begin(p, 0)) != 0)
		return rc;
	if (!sm_holds(p, mid, id->canon)) {
		/* Recalled or expired and purged, deleted, or never ours; or
		 * a delete killed half-way let go of it but left it listed:
		 * the index says, and what it lists still reads. */
		if (sm_index_load(p, id, 'x', &ix) == 0) {
			if ((e = sm_index_find(&ix, mid))) {
				memcpy(o->K, e->K, 32);
				listed = 1;
			}
			sm_index_free(&ix);
		}
		if (!listed) {
			if ((rc = sm_dlv_over(p, mid, id->canon)) == 0)
				rc = sm_err(EX_NOINPUT, "%s: no such message", mid);
			goto out;
		}
	}
	rc = sm_env_get(p, mid, &o->env);
	if (rc == EX_NOINPUT) {
		if ((rc = sm_dlv_over(p, mid, id->canon)) == 0)
			rc = sm_err(EX_NOINPUT, "%s: no such message (it is gone)", mid);
		goto out;
	}
	if (rc)
		goto out;
	if ((rc = sm_env_check_sender(p, &o->env)) != 0)
		goto out;
	if (sm_env_rcpt(&o->env, id->canon) < 0) {
		rc = sm_err(EX_DATAERR, "%s: the message is tampered with (not "
		    "addressed to %s)", mid, id->addr);
		goto out;
	}
	if ((rc = sm_msg_over(p, mid, o->env.expires)) != 0)
		goto out;
	if (!listed && (rc = sm_env_key(p, &o->env, id->canon, id->keys, o->K)) != 0)
		goto out;
	rc = sm_stmt_load(p, &o->env, o->K, &o->stmt);
out:
	sm_store_end(p);
	if (rc) {
		sm_env_free(&o->env);
		sodium_memzero(o, sizeof *o);
	}
	return rc;
}

/*
 * Opens message MID of the acting account (WHICH: 'x' a message, 'y'
 * a draft): the header verified, the statement read and checked.
 * 66 when the account holds no such message, 65 when it is tampered.
 */
int
sm_msg_open(sm_portal *p, const struct sm_ident *id, const char *mid, int which,
    struct sm_opened *o)
{
	struct sm_index ix;
	struct sm_entry *e;
	int rc;

	memset(o, 0, sizeof *o);
	if (!sm_id_valid(mid))
		return sm_err(EX_NOINPUT, "%s: no such %s", mid,
		    which == 'x' ? "message" : "draft");
	if (which == 'x')
		return msg_open_direct(p, id, mid, o);
	/* A draft: from the account's draft index. */
	if ((rc = sm_store_begin(p, 0)) != 0)
		return rc;
	rc = sm_index_load(p, id, 'y', &ix);
	e = rc == 0 ? sm_index_find(&ix, mid) : NULL;
	if (rc == 0 && !e)
		rc = sm_err(EX_NOINPUT, "%s: no such draft", mid);
	if (rc == 0) {
		memcpy(o->K, e->K, 32);
		rc = sm_env_get(p, mid, &o->env);
		if (rc == EX_NOINPUT)
			rc = sm_err(EX_NOINPUT, "%s: no such draft (it is gone)", mid);
	}
	if (rc == 0 && (rc = sm_env_check_sender(p, &o->env)) != 0)
		sm_env_free(&o->env);
	if (rc == 0 && sm_env_rcpt(&o->env, id->canon) < 0) {
		sm_env_free(&o->env);
		rc = sm_err(EX_DATAERR, "%s: the message is tampered with (not "
		    "addressed to %s)", mid, id->addr);
	}
	if (rc == 0 && (rc = sm_stmt_load(p, &o->env, o->K, &o->stmt)) != 0)
		sm_env_free(&o->env);
	sm_index_free(&ix);
	sm_store_end(p);
	if (rc)
		sodium_memzero(o, sizeof *o);
	return rc;
}

/* Reads every part through but those SKIP marks (an array of nparts
 * flags, or NULL), so that a tampered attachment is caught even when
 * only the text is shown. */
int
sm_msg_verify(sm_portal *p, struct sm_opened *o, const unsigned char *skip)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < o->env.nparts && rc == 0; i++)
		if (!skip || !skip[i])
			rc = sm_part_read(p, &o->env, o->K, (unsigned)i, NULL, NULL, NULL);
	return rc;
}

/* Marks the messages read: a mark for the next listing to fold into
 * the index, the delivery record and the audit log; none of it grows
 * with the inbox. */
int
sm_mark_read(sm_portal *p, const struct sm_ident *id, char *const *mids, size_t n)
{
	size_t i;
	int rc;

	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		if ((rc = sm_read_mark(p, id, mids[i])) == 0 &&
		    (rc = sm_audit(p, "read", id->canon, mids[i])) == 0)
			rc = sm_dlv_mark(p, mids[i], id->canon, "read");
	}
	if (rc) {
		sm_store_end(p);
		return rc;
	}
	return sm_store_commit(p);
}

/*
 * Deletes messages or drafts of the acting account, each id on its
 * own: an unknown one is reported (66) and the others still go.  The
 * message data goes when no recipient holds it any more.
 */
int
sm_delete(sm_portal *p, const struct sm_ident *id, char *const *mids, size_t n)
{
	struct sm_index ix, dx;
	struct sm_entry *e;
	char **unheld = sm_xcalloc(n ? n : 1, sizeof *unheld);
	size_t i, nu = 0;
	int rc, worst = 0, cx = 0, cy = 0, last;

	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	if ((rc = sm_inbox_open(p, id, &ix, NULL)) != 0) {
		sm_store_end(p);
		return rc;
	}
	if ((rc = sm_index_load(p, id, 'y', &dx)) != 0) {
		sm_index_free(&ix);
		sm_store_end(p);
		return rc;
	}
	for (i = 0; i < n; i++) {
		if ((e = sm_index_find(&ix, mids[i]))) {
			sm_index_drop(&ix, e);
			cx = 1;
		} else if ((e = sm_index_find(&dx, mids[i]))) {
			sm_index_drop(&dx, e);
			cy = 1;
		} else if (sm_queued(p, id->canon, mids[i])) {
			/* Queued still: it did not verify.  It goes all the same. */
			if ((rc = sm_unqueue(p, id->canon, mids[i])) != 0)
				break;
		} else {
			worst = sm_err(EX_NOINPUT, "%s: no such message or draft",
			    mids[i]);
			continue;
		}
		if ((rc = sm_release(p, mids[i], id->canon, &last)) != 0 ||
		    (rc = sm_audit(p, "delete", id->canon, mids[i])) != 0 ||
		    (rc = sm_dlv_mark(p, mids[i], id->canon, "deleted")) != 0)
			break;
		if (last)
			unheld[nu++] = mids[i];
	}
	if (rc == 0 && cx)
		rc = sm_index_save(p, id, 'x', &ix);
	if (rc == 0 && cy)
		rc = sm_index_save(p, id, 'y', &dx);
	/* The messages nobody holds any more go in the same transaction:
	 * it happens whole or not at all. */
	for (i = 0; i < nu && rc == 0; i++)
		rc = sm_wipe_unheld(p, unheld[i]);
	sm_index_free(&ix);
	sm_index_free(&dx);
	free(unheld);
	if (rc) {
		sm_store_end(p);
		return rc;
	}
	rc = sm_store_commit(p);
	return rc ? rc : worst;
}
