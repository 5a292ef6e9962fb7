/*
 * policy.c: the password policy (SPEC §3) through sm_policy_check with
 * no portal (the default dictionary), and sm_skeleton.
 */
#include <string.h>
#include <unistd.h>

#include "smail.h"
#include "tap.h"

static char errtext[8192];

/* sm_policy_check with its stderr captured into errtext. */
static int
policy(const sm_portal *p, const char *pw, const char *addr, const char *first,
    const char *last)
{
	FILE *cap = tmpfile();
	int saved, rc;
	size_t n;

	fflush(stderr);
	saved = dup(2);
	dup2(fileno(cap), 2);
	rc = sm_policy_check(p, pw, addr, first, last);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(cap);
	n = fread(errtext, 1, sizeof errtext - 1, cap);
	errtext[n] = 0;
	fclose(cap);
	return rc;
}

static int
lines(void)
{
	int n = 0;
	const char *s;

	for (s = errtext; *s; s++)
		n += *s == '\n';
	return n;
}

static int
has(const char *word)
{
	return strstr(errtext, word) != NULL;
}

/* Refused with 65, one line, holding WORD. */
static void
one_rule(const char *pw, const char *addr, const char *first, const char *last,
    const char *word, const char *what)
{
	int rc = policy(NULL, pw, addr, first, last);

	ok(rc == EX_DATAERR && lines() == 1 && has(word),
	    "%s: refused, one line, \"%s\"", what, word);
	if (rc != EX_DATAERR || lines() != 1 || !has(word))
		printf("#   rc %d, stderr:\n#   %s", rc, errtext);
}

static void
passes(const char *pw, const char *addr, const char *first, const char *last,
    const char *what)
{
	int rc = policy(NULL, pw, addr, first, last);

	ok(rc == 0 && errtext[0] == 0, "%s: accepted, silently", what);
	if (rc != 0)
		printf("#   rc %d, stderr:\n#   %s", rc, errtext);
}

static int
skel_is(const char *pw, const char *want)
{
	char *s;
	int r;

	sm_skeleton(pw, &s);
	r = strcmp(s, want) == 0;
	if (!r)
		printf("#   skeleton of '%s': '%s', want '%s'\n", pw, s, want);
	sm_freestr(s);
	return r;
}

int
main(int argc, char **argv)
{
	const char *A = "alice@agency.gov";
	sm_portal fake;
	char dict[] = "/tmp/smail-unit-dict.XXXXXX";
	int fd, rc;
	(void)argc;

	sm_init(argv[0]);

	/* ---- good passwords ---- */
	passes("Kite#Zebra42x", A, "Alice", "Agent", "Kite#Zebra42x");
	passes("Tulip&River77q", A, "Alice", "Agent", "Tulip&River77q");
	passes("Maple@Stone31z", A, NULL, NULL, "Maple@Stone31z with no name");
	passes("Cedar!Brook55k", "bob@partner.example", "Bob", "Partner",
	    "Cedar!Brook55k");
	passes("Kite#Zebra4", A, NULL, NULL, "exactly 11 characters");
	passes("Kite#Zeb42", A, NULL, NULL, "exactly 10 characters");
	passes("K\xc3\xaete#Zeb42", A, NULL, NULL,
	    "10 characters, one of them two bytes (UTF-8)");
	passes("Kite~Zebra42x", A, NULL, NULL, "~ is special");
	passes("Al#Kite#Zebra42x", "q7@agency.gov", "Al", "Bo",
	    "name parts under 3 letters do not count");

	/* ---- each rule on its own ---- */
	one_rule("Kite#Ze42", A, NULL, NULL, "10 characters", "9 characters");
	one_rule("K\xc3\xaete#Ze42", A, NULL, NULL, "10 characters",
	    "9 characters in 10 bytes");
	one_rule("Kite#Zebraxx", A, NULL, NULL, "digit", "no digit");
	one_rule("kite#zebra42x", A, NULL, NULL, "uppercase", "no uppercase letter");
	one_rule("KITE#ZEBRA42X", A, NULL, NULL, "lowercase", "no lowercase letter");
	one_rule("KiteZebra42x", A, NULL, NULL, "special", "no special character");
	one_rule("Kite*Zebra42x", A, NULL, NULL, "special", "* is not special");
	one_rule("Kite.Zebra42x", A, NULL, NULL, "special", ". is not special");
	one_rule("Kite*.Zebra42x", A, NULL, NULL, "special", "* and . together");
	one_rule("Kite#Zebra\t42x", A, NULL, NULL, "control",
	    "a control character");
	one_rule("Xalice@agency.gov9!", A, NULL, NULL, "e-mail address",
	    "the whole address");
	one_rule("x9!ALICE@AGENCY.GOV", A, NULL, NULL, "e-mail address",
	    "the whole address, another case");
	one_rule("Alice#Zebra42x", A, NULL, NULL, "e-mail address",
	    "the local part");
	one_rule("Kite#aLiCe42x", A, NULL, NULL, "e-mail address",
	    "the local part, mixed case");
	one_rule("Kite#Jones42x", "mary.jones@agency.gov", NULL, NULL,
	    "e-mail address", "a 3+ letter part of the local part");
	one_rule("Kite#Robert42x", "rb@agency.gov", "Robert", "Brown",
	    "your name", "the first name");
	one_rule("Kite#BROWN42x", "rb@agency.gov", "Robert", "Brown",
	    "your name", "the last name, upper case");
	one_rule("Kite#Ann42xyz", "rb@agency.gov", "Mary Ann", "Smith",
	    "your name", "a part of a two-word first name");
	one_rule("Elephant123!", A, NULL, NULL, "dictionary", "Elephant123!");
	one_rule("E1l2e3p4h5a6n7t!", A, NULL, NULL, "dictionary",
	    "a word with digits between its letters");
	one_rule("!123Asdf1234", A, NULL, NULL, "common", "a common password");
	one_rule("!123QWERTYuiop", A, NULL, NULL, "common",
	    "a common password in another case");
	ok(policy(NULL, "Password123!", A, NULL, NULL) == EX_DATAERR,
	    "Password123! is refused");

	/* ---- every broken rule, each on its own line ---- */
	rc = policy(NULL, "abc", A, NULL, NULL);
	ok(rc == EX_DATAERR, "abc: refused");
	ok(has("10 characters") && has("digit") && has("uppercase") &&
	    has("special"), "naming length, digit, uppercase and special");
	ok(!has("lowercase"), "but not the rule it keeps (lowercase)");
	ok(lines() >= 4, "each on its own line (%d lines)", lines());
	{
		const char *s = errtext;
		size_t pl = strlen(sm_progname);
		int prefixed = 1;
		while (*s) {
			if (strncmp(s, sm_progname, pl) != 0 || s[pl] != ':')
				prefixed = 0;
			if (!(s = strchr(s, '\n')))
				break;
			s++;
		}
		ok(prefixed, "every line starts with the program's name");
	}
	rc = policy(NULL, "ALICE@AGENCY.GOV", A, "Alice", "Agent");
	ok(rc == EX_DATAERR && has("digit") && has("lowercase") && !has("special") &&
	    has("e-mail address") && has("your name") && lines() == 4,
	    "ALICE@AGENCY.GOV breaks digit, lowercase, address and name, "
	    "four lines");
	rc = policy(NULL, "", A, NULL, NULL);
	ok(rc == EX_DATAERR && has("10 characters") && has("digit") &&
	    has("uppercase") && has("lowercase") && has("special"),
	    "the empty password breaks every character rule");

	/* ---- the dictionary from config ---- */
	memset(&fake, 0, sizeof fake);
	sm_config_defaults(&fake.cfg);
	fd = mkstemp(dict);
	if (write(fd, "aardvark\nkitezebrax\n", 20) != 20)
		printf("# cannot write %s\n", dict);
	close(fd);
	fake.cfg.dictionary = dict;
	rc = policy(&fake, "Kite#Zebra42x", A, NULL, NULL);
	ok(rc == EX_DATAERR && has("dictionary") && lines() == 1,
	    "a portal's own dictionary is used");
	rc = policy(&fake, "Elephant123!", A, NULL, NULL);
	ok(rc == 0, "and the default one is not");
	unlink(dict);
	rc = policy(&fake, "Kite#Zebra42x", A, NULL, NULL);
	ok(rc == EX_CONFIG && has(dict), "a missing dictionary: 78, naming it");
	fake.cfg.dictionary = NULL;

	/* ---- sm_skeleton ---- */
	ok(skel_is("Password1!", "password!"), "Password1! -> password!");
	ok(skel_is("Password2!", "password!"), "Password2! has the same skeleton");
	ok(skel_is("PASSWORD!99", "password!"), "case and digits anywhere");
	ok(skel_is("Kite#Zebra42x", "kite#zebrax"), "Kite#Zebra42x -> kite#zebrax");
	ok(skel_is("1234567890", ""), "all digits -> empty");
	ok(skel_is("", ""), "empty -> empty");
	ok(skel_is("a b\tc", "a b\tc"), "spaces and tabs are kept");
	ok(skel_is("\xc3\x9c" "ber1", "\xc3\x9c" "ber"),
	    "non-ASCII bytes are kept as they are");

	plan(tap_n);
	return done();
}
