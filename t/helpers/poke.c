/*
 * poke: the tests' hands inside the store of the portal at $SMAIL_DIR,
 * through the library's own transactions, so that a change reaches
 * both copies as a commit would (an attacker who can write the store
 * file changes what every command reads).
 *
 *   poke keys PREFIX           the keys that start with PREFIX
 *   poke count PREFIX          how many there are
 *   poke flip KEY [OFFSET]     one bit of a record's byte changed (the
 *                              middle one without OFFSET, or "mid")
 *   poke del KEY               a record removed
 *   poke get KEY               a record's value, in hex
 *   poke dump PREFIX           KEY<TAB>HEX for every record under PREFIX
 */
#include <stdlib.h>
#include <string.h>

#include "smail.h"

struct seen {
	const char *op;
	unsigned long n;
};

static void
hex(const unsigned char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", v[i]);
	printf("\n");
}

static int
each(sm_portal *p, const char *key, void *arg)
{
	struct seen *s = arg;
	unsigned char *v;
	size_t n;

	if (strcmp(s->op, "keys") == 0)
		printf("%s\n", key);
	else if (strcmp(s->op, "dump") == 0 && sm_store_get(p, key, &v, &n) == 0) {
		printf("%s\t", key);
		hex(v, n);
		free(v);
	}
	s->n++;
	return 0;
}

int
main(int argc, char **argv)
{
	sm_portal *p;
	unsigned char *v;
	size_t n;
	int rc, write;

	sm_init("poke");
	if (argc < 3)
		return EX_USAGE;
	write = strcmp(argv[1], "flip") == 0 || strcmp(argv[1], "del") == 0;
	if ((rc = sm_portal_open(getenv("SMAIL_DIR"), &p)) != 0)
		return rc;
	if ((rc = sm_store_begin(p, write)) != 0)
		goto out;
	if (strcmp(argv[1], "keys") == 0 || strcmp(argv[1], "count") == 0 ||
	    strcmp(argv[1], "dump") == 0) {
		struct seen s = { argv[1], 0 };
		rc = sm_store_each(p, argv[2], each, &s);
		if (rc == 0 && strcmp(argv[1], "count") == 0)
			printf("%lu\n", s.n);
	} else if (strcmp(argv[1], "del") == 0) {
		rc = sm_store_exists(p, argv[2]) ? sm_store_remove(p, argv[2]) :
		    EX_NOINPUT;
	} else if ((rc = sm_store_get(p, argv[2], &v, &n)) == 1) {
		fprintf(stderr, "poke: %s: no such key\n", argv[2]);
		rc = EX_NOINPUT;
	} else if (rc == 0 && strcmp(argv[1], "get") == 0) {
		hex(v, n);
		free(v);
	} else if (rc == 0 && strcmp(argv[1], "flip") == 0) {
		long off = argc < 4 || strcmp(argv[3], "mid") == 0 ? (long)(n / 2) :
		    atol(argv[3]);
		if (off < 0 || (size_t)off >= n)
			rc = EX_DATAERR;
		else {
			v[off] ^= 0x01;
			rc = sm_store_put(p, argv[2], v, n);
		}
		free(v);
	} else if (rc == 0) {
		free(v);
		rc = EX_USAGE;
	}
	if (rc == 0)
		rc = sm_store_commit(p);
	else
		sm_store_end(p);
out:
	sm_portal_close(p);
	return rc;
}
