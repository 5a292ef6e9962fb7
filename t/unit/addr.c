/*
 * addr.c: e-mail addresses as identities: the domain compares
 * case-insensitively and is lowered in the canonical form, the local
 * part is kept exactly; malformed addresses are refused.
 */
#include <string.h>
#include <unistd.h>

#include "smail.h"
#include "tap.h"

static char errtext[8192];

/* sm_addr_canon with stderr captured. */
static int
canon(const char *addr, char **out)
{
	FILE *cap = tmpfile();
	int saved, rc;
	size_t n;

	fflush(stderr);
	saved = dup(2);
	dup2(fileno(cap), 2);
	rc = sm_addr_canon(addr, out);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(cap);
	n = fread(errtext, 1, sizeof errtext - 1, cap);
	errtext[n] = 0;
	fclose(cap);
	return rc;
}

static void
canon_is(const char *addr, const char *want, const char *what)
{
	char *c = NULL;
	int rc = canon(addr, &c);

	ok(rc == 0 && c && strcmp(c, want) == 0 && !errtext[0], "%s: %s", what, want);
	if (rc != 0 || !c || strcmp(c, want) != 0)
		printf("#   got rc %d, '%s'\n", rc, c ? c : "(null)");
	free(c);
}

static char *
repeat(int ch, size_t n)
{
	char *s = sm_xmalloc(n + 1);

	memset(s, ch, n);
	s[n] = 0;
	return s;
}

int
main(int argc, char **argv)
{
	static const char *const malformed[] = {
		"", "@", "alice", "alice@", "@agency.gov", "alice@@agency.gov",
		"a@b@agency.gov", "al ice@agency.gov", "al\tice@agency.gov",
		"al\nice@agency.gov", "alice@agency.gov\n", "alice@agency.gov ",
		" alice@agency.gov", "ali\x7f" "ce@agency.gov", "ali\x01" "ce@agency.gov",
		"al\xc3\xaf" "ce@agency.gov", "alice@ex\xc3\xa4mple.org",
		"a<b@agency.gov", "a>b@agency.gov", "a(b@agency.gov", "a)b@agency.gov",
		"a,b@agency.gov", "a;b@agency.gov", "a:b@agency.gov", "a\"b@agency.gov",
		"a\\b@agency.gov", "a[b@agency.gov", "a]b@agency.gov", "a/b@agency.gov",
		"../../etc@agency.gov", "-alice@agency.gov", ".alice@agency.gov",
		"alice.@agency.gov", "<alice@agency.gov>", "Alice <alice@agency.gov>",
		"alice@agency..gov", "alice@.agency.gov", "alice@agency.gov.",
		"alice@-agency.gov", "alice@agency-.gov", "alice@agen_cy.gov",
		"alice@agency.gov/x", "alice@agency gov",
		"alice@agency.gov:25", "alice@.", "alice@-", "alice@a..b",
	};
	char *c = NULL, *c2 = NULL, *local, *label, *addr;
	size_t i;
	int rc, bad;
	(void)argc;

	sm_init(argv[0]);

	/* ---- canonical forms ---- */
	canon_is("alice@agency.gov", "alice@agency.gov", "unchanged");
	canon_is("alice@AGENCY.GOV", "alice@agency.gov", "the domain is lowered");
	canon_is("Alice@Agency.Gov", "Alice@agency.gov", "the local part is kept");
	canon_is("ALICE.SMITH+Case-7@Sub.Agency.GOV", "ALICE.SMITH+Case-7@sub.agency.gov",
	    "dots, plus, hyphen and digits in the local part");
	canon_is("a@b.c", "a@b.c", "the shortest");
	canon_is("x@localhost", "x@localhost", "a one-label domain");
	canon_is("o'brien@agency.gov", "o'brien@agency.gov", "an apostrophe");
	canon_is("a_b=c!d#e$f%g&h*i?j^k`l{m|n}o~@x-1.example", "a_b=c!d#e$f%g&h*i?j^k`l{m|n}o~@x-1.example",
	    "the other atext characters");
	canon_is("bob@Partner.EXAMPLE", "bob@partner.example", "bob");

	/* ---- compare ---- */
	sm_addr_canon_quiet("alice@AGENCY.gov", &c);
	sm_addr_canon_quiet("alice@agency.GOV", &c2);
	ok(c && c2 && strcmp(c, c2) == 0, "domains compare case-insensitively");
	free(c);
	free(c2);
	sm_addr_canon_quiet("Alice@agency.gov", &c);
	sm_addr_canon_quiet("alice@agency.gov", &c2);
	ok(c && c2 && strcmp(c, c2) != 0, "local parts compare exactly");
	free(c);
	free(c2);

	/* ---- lengths ---- */
	local = repeat('l', 64);
	addr = sm_xasprintf("%s@agency.gov", local);
	ok(sm_addr_canon_quiet(addr, &c) == 0, "a 64-byte local part");
	free(c);
	free(addr);
	free(local);
	local = repeat('l', 65);
	addr = sm_xasprintf("%s@agency.gov", local);
	ok(sm_addr_canon_quiet(addr, &c) == -1 && !c, "a 65-byte local part refused");
	free(addr);
	free(local);
	label = repeat('d', 63);
	addr = sm_xasprintf("a@%s.gov", label);
	ok(sm_addr_canon_quiet(addr, &c) == 0, "a 63-byte label");
	free(c);
	free(addr);
	free(label);
	label = repeat('d', 64);
	addr = sm_xasprintf("a@%s.gov", label);
	ok(sm_addr_canon_quiet(addr, &c) == -1, "a 64-byte label refused");
	free(addr);
	free(label);
	label = repeat('d', 63);
	addr = sm_xasprintf("a@%s.%s.%s.%s", label, label, label, label + 2);
	ok(strlen(addr) - 2 == 253 && sm_addr_canon_quiet(addr, &c) == 0,
	    "a 253-byte domain");
	free(c);
	free(addr);
	addr = sm_xasprintf("a@%s.%s.%s.%s", label, label, label, label + 1);
	ok(sm_addr_canon_quiet(addr, &c) == -1, "a 254-byte domain refused");
	free(addr);
	free(label);

	/* ---- malformed ---- */
	bad = 0;
	for (i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
		c = (char *)1;
		rc = canon(malformed[i], &c);
		if (rc != EX_DATAERR || c != NULL || !strstr(errtext, "not an e-mail address")) {
			bad++;
			printf("#   accepted or misreported: '%s' (rc %d)\n", malformed[i], rc);
		}
		if (rc == 0)
			free(c);
	}
	ok(bad == 0, "%zu malformed addresses refused with 65, saying why",
	    sizeof malformed / sizeof malformed[0]);
	bad = 0;
	for (i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
		c = (char *)1;
		rc = sm_addr_canon_quiet(malformed[i], &c);
		if (rc != -1 || c != NULL)
			bad++;
		if (rc == 0)
			free(c);
	}
	ok(bad == 0, "and quietly refused with -1 and NULL");
	canon("evil\n\x1b[2Jx", &c);
	ok(!strchr(errtext, '\x1b') && strchr(errtext, '\n') == errtext + strlen(errtext) - 1,
	    "the error shows control characters as ? on one line");
	addr = repeat('x', 5000);
	canon(addr, &c);
	ok(strlen(errtext) < 200 && strstr(errtext, "..."),
	    "a 5000-byte non-address is shortened in the error");
	free(addr);

	plan(tap_n);
	return done();
}
