/*
 * history.c: the last four passwords, kept as Argon2id strings of
 * their skeletons (digits removed, case folded) in a list encrypted
 * under a subkey of the account's keys.  "Password1!" and "Password2!"
 * share the skeleton "password!", so an increment is a reuse.
 */
#include <string.h>

#include <sodium.h>

#include "smail.h"

#define HIST_MAX 4
#define HIST_LABEL "smail-history-v1"

void
sm_skeleton(const char *pw, char **out)
{
	size_t n = strlen(pw), i, j = 0;
	char *s = sm_xmalloc(n + 1);

	for (i = 0; i < n; i++) {
		char c = pw[i];
		if (c >= '0' && c <= '9')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		s[j++] = c;
	}
	s[j] = 0;
	*out = s;
}

int
sm_history_entry(const char *skel, char out[128])
{
	/* The list is itself encrypted under the account's key, so the
	 * interactive cost is enough here; it keeps a password change to
	 * a few Argon2id runs. */
	if (crypto_pwhash_str(out, skel, strlen(skel),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return sm_err(EX_OSERR, "out of memory for the password hash");
	return 0;
}

static int
open_list(const struct sm_account *a, const struct sm_keys *k, sm_buf *out)
{
	unsigned char key[32];
	int rc;

	if (!a->hist.len)
		return 0;
	sm_account_subkey(key, k, HIST_LABEL);
	rc = sm_aead_open(out, key, a->canon, strlen(a->canon), a->hist.p,
	    a->hist.len);
	sodium_memzero(key, sizeof key);
	if (rc < 0)
		return sm_err(EX_DATAERR, "%s: the password history does not "
		    "decrypt", a->addr);
	sm_buf_putc(out, 0);
	out->len--;
	return 0;
}

int
sm_history_check(const struct sm_account *a, const struct sm_keys *k,
    const char *skel)
{
	sm_buf list = { 0 };
	char *line, *save = NULL;
	int rc;

	if ((rc = open_list(a, k, &list)) != 0)
		return rc;
	if (list.p)
		for (line = strtok_r((char *)list.p, "\n", &save); line;
		    line = strtok_r(NULL, "\n", &save))
			if (crypto_pwhash_str_verify(line, skel, strlen(skel)) == 0) {
				rc = sm_err(EX_DATAERR, "password: too close to one "
				    "of your previous four passwords (only digits "
				    "or case differ)");
				break;
			}
	sm_buf_free(&list);
	return rc;
}

int
sm_history_add(struct sm_account *a, const struct sm_keys *k, const char *entry)
{
	sm_buf list = { 0 }, keep = { 0 };
	unsigned char key[32];
	char *lines[HIST_MAX + 1], *line, *save = NULL;
	int n = 0, i, rc;

	if ((rc = open_list(a, k, &list)) != 0)
		return rc;
	lines[n++] = (char *)entry;
	if (list.p)
		for (line = strtok_r((char *)list.p, "\n", &save);
		    line && n < HIST_MAX; line = strtok_r(NULL, "\n", &save))
			lines[n++] = line;
	for (i = 0; i < n; i++) {
		sm_buf_puts(&keep, lines[i]);
		sm_buf_putc(&keep, '\n');
	}
	sm_account_subkey(key, k, HIST_LABEL);
	sm_buf_free(&a->hist);
	sm_aead_seal(&a->hist, key, a->canon, strlen(a->canon), keep.p, keep.len);
	sodium_memzero(key, sizeof key);
	sm_buf_free(&keep);
	sm_buf_free(&list);
	return 0;
}
