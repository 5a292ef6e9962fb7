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
	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	rc = which == 'x' ? sm_inbox_open(p, id, &ix, NULL) :
	    sm_index_load(p, id, 'y', &ix);
	if (rc == 0 && !(e = sm_index_find(&ix, mid))) {
		/* Still queued after the fold: it did not verify.  Or it was
		 * for us but went before we listed it: say why. */
		if (which == 'x' && sm_queued(p, id->canon, mid))
			rc = sm_err(EX_DATAERR, "%s: the message does not verify", mid);
		else if (which == 'x' && (rc = sm_dlv_over(p, mid, id->canon)) != 0)
			;
		else
			rc = sm_err(EX_NOINPUT, "%s: no such %s", mid,
			    which == 'x' ? "message" : "draft");
	}
	if (rc == 0 && which == 'x')
		rc = sm_msg_over(p, mid, e->expires);
	if (rc == 0) {
		memcpy(o->K, e->K, 32);
		o->was_read = (e->flags & SM_F_READ) != 0;
		rc = sm_env_get(p, mid, &o->env);
		if (rc == EX_NOINPUT)
			rc = sm_err(EX_NOINPUT, "%s: no such message (it is gone)", mid);
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
	if (rc) {
		sm_store_end(p);
		sodium_memzero(o, sizeof *o);
		return rc;
	}
	return sm_store_commit(p);
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

/* Marks the messages read in the account's index. */
int
sm_mark_read(sm_portal *p, const struct sm_ident *id, char *const *mids, size_t n)
{
	struct sm_index ix;
	struct sm_entry *e;
	size_t i;
	int rc, changed = 0;

	if ((rc = sm_store_begin(p, 1)) != 0)
		return rc;
	if ((rc = sm_index_load(p, id, 'x', &ix)) != 0) {
		sm_store_end(p);
		return rc;
	}
	for (i = 0; i < n && rc == 0; i++)
		if ((e = sm_index_find(&ix, mids[i]))) {
			if (!(e->flags & SM_F_READ)) {
				e->flags |= SM_F_READ;
				changed = 1;
			}
			rc = sm_audit(p, "read", id->canon, mids[i]);
			if (rc == 0)
				rc = sm_dlv_mark(p, mids[i], id->canon, "read");
		}
	if (rc == 0 && changed)
		rc = sm_index_save(p, id, 'x', &ix);
	sm_index_free(&ix);
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
	sm_index_free(&ix);
	sm_index_free(&dx);
	if (rc) {
		sm_store_end(p);
		free(unheld);
		return rc;
	}
	/* Unlisted first (committed), then wiped: a crash in between leaves
	 * only an unlisted message, which purge removes. */
	if ((rc = sm_store_commit(p)) == 0 && nu) {
		if ((rc = sm_store_begin(p, 1)) == 0) {
			for (i = 0; i < nu && rc == 0; i++)
				rc = sm_wipe_unheld(p, unheld[i]);
			if (rc == 0)
				rc = sm_store_commit(p);
			else
				sm_store_end(p);
		}
	}
	free(unheld);
	return rc ? rc : worst;
}
