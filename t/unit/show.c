/*
 * show.c: shell words paste safely: plain words stay as they are, any
 * other goes in single quotes with ' as '\''; a command line quotes
 * -d DIR and every argument.
 */
#include <string.h>

#include "smail.h"
#include "tap.h"

static int
word_is(const char *in, const char *want)
{
	sm_buf b = { 0 };
	int same;

	sm_shell_word(&b, in);
	same = b.len == strlen(want) && memcmp(b.p, want, b.len) == 0;
	if (!same)
		printf("#   got '%.*s'\n", (int)b.len, b.p ? (char *)b.p : "");
	sm_buf_free(&b);
	return same;
}

int
main(void)
{
	char *cmd;
	sm_portal fake;

	/* ---- shell words ---- */
	ok(word_is("bob@partner.example", "bob@partner.example"), "a plain address stays");
	ok(word_is("smi-AbC_09-x", "smi-AbC_09-x"), "a token stays");
	ok(word_is("/tmp/smail-t.x/portal", "/tmp/smail-t.x/portal"), "a plain path stays");
	ok(word_is("o'brien@x.example", "'o'\\''brien@x.example'"), "' as '\\''");
	ok(word_is("a`touch${IFS}p`b@x", "'a`touch${IFS}p`b@x'"), "backticks and $ quoted");
	ok(word_is("c|d&e#f*g?h~i!j=k", "'c|d&e#f*g?h~i!j=k'"), "| & # * ? ~ ! = quoted");
	ok(word_is("", "''"), "the empty word as ''");
	ok(word_is("two words", "'two words'"), "a space");
	memset(&fake, 0, sizeof fake);
	fake.dir = (char *)"/srv/it's $(x)";
	cmd = sm_command_line(&fake, "smail-register", "-t", "smi-t",
	    "a`b`@x.example", (char *)NULL);
	ok(strcmp(cmd, "smail-register -d '/srv/it'\\''s $(x)' -t smi-t "
	    "'a`b`@x.example'") == 0, "sm_command_line quotes -d and each argument");
	if (strcmp(cmd, "smail-register -d '/srv/it'\\''s $(x)' -t smi-t "
	    "'a`b`@x.example'") != 0)
		printf("#   got %s\n", cmd);
	sm_freestr(cmd);

	plan(tap_n);
	return done();
}
