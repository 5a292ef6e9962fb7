/*
 * wrapscan: an attacker's search for a superseded key wrap.  Given a
 * secret that no longer opens anything (a spent invitation token, an
 * old password), the account's record as it was (from a copy of the
 * portal taken before the change), and the files of the portal now, it
 * tries every offset of every file for a wrap that opens under that
 * secret.  Used by t/0610-superseded.t.
 *
 *   wrapscan token TOKEN ADDR BEFORE FILE...     the invitation wrap
 *   wrapscan password PWFILE ADDR BEFORE FILE... the password wrap
 *
 * BEFORE is the copy of the portal the record is read from; prints how
 * many offsets open, and exits 0 when none does, 1 when some does.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smail.h"

static unsigned long
scan(const char *path, const unsigned char key[32], const char *label,
    const char *canon, const struct sm_pubkeys *pub, struct sm_keys *k)
{
	unsigned long hits = 0;
	char *data;
	size_t n, i;

	if (sm_read_file(path, (size_t)1 << 31, &data, &n) != 0)
		return 0;
	for (i = 0; i + SM_WRAP_BYTES <= n; i++)
		if (sm_unwrap(k, (const unsigned char *)data + i, key, label,
		    canon, pub) == 0) {
			printf("%s: opens at offset %zu\n", path, i);
			hits++;
		}
	free(data);
	return hits;
}

int
main(int argc, char **argv)
{
	struct sm_account a;
	struct sm_keys *k;
	sm_portal *p;
	unsigned char *key;
	unsigned long hits = 0;
	const char *label;
	char *canon = NULL;
	int rc, i;

	sm_init("wrapscan");
	if (argc < 6)
		return EX_USAGE;
	if ((rc = sm_addr_canon(argv[3], &canon)) != 0 ||
	    (rc = sm_portal_open(argv[4], &p)) != 0)
		return rc;
	if ((rc = sm_store_begin(p, 0)) != 0 ||
	    (rc = sm_account_get(p, canon, &a)) != 0)
		return rc;
	sm_store_end(p);
	key = sm_secret_alloc(32);
	k = sm_secret_alloc(sizeof *k);
	if (strcmp(argv[1], "token") == 0) {
		unsigned char raw[32];
		if (sm_token_parse(SM_TOKEN_INVITE, argv[2], raw) != 0)
			return EX_DATAERR;
		sm_token_key(key, SM_TOKEN_INVITE, canon, raw);
		label = "smail-invite-v1";
	} else if (strcmp(argv[1], "password") == 0) {
		char *pw;
		if ((rc = sm_read_password_from(argv[2], -1, NULL, 0, "a file",
		    &pw)) != 0 || (rc = sm_pwhash_key(key, pw, &a.pw)) != 0)
			return rc;
		sm_secret_free(pw);
		label = "smail-pw-v1";
	} else
		return EX_USAGE;
	for (i = 5; i < argc; i++)
		hits += scan(argv[i], key, label, canon, &a.pub, k);
	printf("%lu\n", hits);
	sm_secret_free(k);
	sm_secret_free(key);
	sm_account_free(&a);
	sm_portal_close(p);
	free(canon);
	return hits ? 1 : 0;
}
