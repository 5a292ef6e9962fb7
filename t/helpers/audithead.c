/*
 * audithead: rewrites a portal's audit log as someone who can write the
 * store would, for t/1600-audit.t.  The hash and the head's signed form
 * are computed here from what smail(7) says of them, not with the
 * library's own code.
 *
 *   audithead DIR cut N unsigned|badsig|sign|short
 *           removes the entries after N and writes a head naming entry
 *           N: without a signature, with a wrong one, signed with the
 *           portal's own portal.key (as its Unix user could), or one
 *           byte longer than a head without a signature
 *   audithead DIR head
 *           prints the head's entry number and its size in bytes
 *   audithead DIR legacy [keep]
 *           the head as a portal from before heads were signed wrote
 *           it, without a signature, and no portal.key (with "keep",
 *           portal.key stays, as in such a portal that exported a zip)
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smail.h"

static void
hash_of(unsigned char out[32], const unsigned char *v, size_t n)
{
	static const char label[] = "smail-audit-v1";

	crypto_generichash(out, 32, v, n, (const unsigned char *)label,
	    sizeof label - 1);
}

static void
be64(unsigned char *out, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		out[i] = (unsigned char)v;
}

static char *
key_of(uint64_t seq)
{
	return sm_xasprintf("a:%016llx", (unsigned long long)seq);
}

struct seqs {
	uint64_t max;
};

static int
highest(sm_portal *p, const char *key, void *arg)
{
	struct seqs *s = arg;
	uint64_t u;

	(void)p;
	if (strlen(key) == 18 && (u = strtoull(key + 2, NULL, 16)) > s->max)
		s->max = u;
	return 0;
}

static int
cut(sm_portal *p, uint64_t n, const char *mode)
{
	unsigned char head[104], h[32], m[19 + 56], *v, *sk;
	struct seqs s = { 0 };
	uint64_t i;
	size_t len;
	char *k;
	int rc;

	if ((rc = sm_store_each(p, "a:", highest, &s)) != 0)
		return rc;
	for (i = n + 1; i <= s.max; i++) {
		k = key_of(i);
		rc = sm_store_remove(p, k);
		free(k);
		if (rc)
			return rc;
	}
	k = key_of(n);
	rc = sm_store_get(p, k, &v, &len);
	free(k);
	if (rc)
		return 66;
	hash_of(h, v, len);
	free(v);
	memset(head, 0, sizeof head);
	be64(head, n);
	memcpy(head + 8, h, 32);
	if (strcmp(mode, "unsigned") == 0 || strcmp(mode, "short") == 0)
		return sm_store_put(p, "a:head", head, mode[0] == 's' ? 41 : 40);
	if (strcmp(mode, "badsig") == 0)
		randombytes_buf(head + 40, 64);
	else if (strcmp(mode, "sign") == 0) {
		sk = sm_secret_alloc(64);
		if ((rc = sm_portal_signkey(p, sk, 0)) != 0) {
			sm_secret_free(sk);
			return rc;
		}
		memcpy(m, "smail-audit-head-v1", 19);
		memcpy(m + 19, p->id, 16);
		be64(m + 35, n);
		memcpy(m + 43, h, 32);
		crypto_sign_detached(head + 40, NULL, m, sizeof m, sk);
		sm_secret_free(sk);
	} else
		return 64;
	return sm_store_put(p, "a:head", head, sizeof head);
}

/* The head without its signature, and portal.key removed unless KEEP. */
static int
legacy(sm_portal *p, int keep)
{
	unsigned char *v;
	size_t len;
	char *k;
	int rc;

	if ((rc = sm_store_get(p, "a:head", &v, &len)) != 0 || len != 104) {
		if (rc == 0)
			free(v);
		return 65;
	}
	rc = sm_store_put(p, "a:head", v, 40);
	free(v);
	if (rc || keep)
		return rc;
	k = sm_portal_path(p, "portal.key");
	rc = unlink(k) == 0 ? 0 : 74;
	free(k);
	return rc;
}

int
main(int argc, char **argv)
{
	sm_portal *p;
	int rc;

	sm_init(argv[0]);
	if (argc < 3)
		return 64;
	if ((rc = sm_portal_open(argv[1], &p)) != 0)
		return rc;
	if (strcmp(argv[2], "head") == 0) {
		unsigned char *v;
		size_t len;
		uint64_t seq = 0;
		if ((rc = sm_store_begin(p, 0)) == 0) {
			if ((rc = sm_store_get(p, "a:head", &v, &len)) == 0) {
				sm_rd_u64(v, 8, &seq);
				printf("%llu %zu\n", (unsigned long long)seq, len);
				free(v);
			}
			sm_store_end(p);
		}
	} else if ((rc = sm_store_begin(p, 1)) == 0) {
		if (strcmp(argv[2], "cut") == 0 && argc == 5)
			rc = cut(p, strtoull(argv[3], NULL, 10), argv[4]);
		else if (strcmp(argv[2], "legacy") == 0 && argc <= 4)
			rc = legacy(p, argc == 4 && strcmp(argv[3], "keep") == 0);
		else
			rc = 64;
		if (rc == 0)
			rc = sm_store_commit(p);
		else
			sm_store_end(p);
	}
	sm_portal_close(p);
	return rc;
}
