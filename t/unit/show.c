/*
 * show.c: what smail shows: one-line fields lose every control
 * character (C0, DEL, C1, stray C1 bytes) to a space and keep the rest
 * of the text; a body for a terminal shows them as ^[, ^?, <U+009B> and
 * <9B>; JSON escapes every one; shell words paste safely.
 */
#include <string.h>

#include "smail.h"
#include "tap.h"

static int
field_is(const char *in, const char *want)
{
	sm_buf b = { 0 };
	int same;

	sm_field(&b, in);
	same = b.len == strlen(want) && memcmp(b.p, want, b.len) == 0;
	if (!same)
		printf("#   got '%.*s'\n", (int)b.len, b.p ? (char *)b.p : "");
	sm_buf_free(&b);
	return same;
}

static int
shown_is(const char *in, size_t n, const char *want)
{
	sm_buf b = { 0 };
	int same;

	sm_text_shown(&b, in, n);
	same = b.len == strlen(want) && memcmp(b.p, want, b.len) == 0;
	if (!same)
		printf("#   got '%.*s'\n", (int)b.len, b.p ? (char *)b.p : "");
	sm_buf_free(&b);
	return same;
}

static int
json_is(const char *in, const char *want)
{
	sm_buf b = { 0 };
	int same;

	sm_json_begin(&b);
	sm_json_str(&b, "s", in);
	sm_json_end(&b);
	same = b.len == strlen(want) && memcmp(b.p, want, b.len) == 0;
	if (!same)
		printf("#   got '%.*s'\n", (int)b.len, b.p ? (char *)b.p : "");
	sm_buf_free(&b);
	return same;
}

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
	char c0[40], *cmd;
	size_t i;
	int bad;
	sm_portal fake;

	/* ---- one-line fields ---- */
	ok(field_is("Quarterly report", "Quarterly report"), "plain text stays");
	ok(field_is("Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac \xf0\x9f\x93\x8e",
	    "Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac \xf0\x9f\x93\x8e"),
	    "UTF-8 text stays (continuation bytes 0x80-0x9f included)");
	ok(field_is("\xc4\x80\xc5\x9b\xc2\xa0", "\xc4\x80\xc5\x9b\xc2\xa0"),
	    "U+0100, U+015B and U+00A0 stay");
	ok(field_is("a\x1b[2Jb", "a [2Jb"), "ESC becomes a space");
	ok(field_is("a\tb\rc\nd", "a b c d"), "TAB, CR and LF become spaces");
	ok(field_is("bell\x07" "del\x7f", "bell del "), "BEL and DEL too");
	ok(field_is("csi\xc2\x9b" "2J", "csi 2J"), "C1 CSI (C2 9B) becomes one space");
	ok(field_is("\xc2\x80\xc2\x9f", "  "), "U+0080 and U+009F");
	ok(field_is("stray\x9b" "2J", "stray 2J"), "a stray byte 0x9b");
	ok(field_is("lat1 \xe9\xa0", "lat1 \xe9\xa0"),
	    "other bytes outside UTF-8 stay as they are");
	ok(field_is("end\xc2", "end\xc2"), "a cut sequence at the end stays");
	for (i = 0, bad = 0; i < 32; i++) {
		snprintf(c0, sizeof c0, "x%cy", (int)(i ? i : 1));
		if (!field_is(c0, "x y"))
			bad++;
	}
	ok(bad == 0, "every C0 byte becomes a space");
	{
		char line[] = "a\x1b[2J\xc2\x9bz\x7f";
		sm_field_str(line);
		ok(strcmp(line, "a [2J z ") == 0, "sm_field_str: the same, in place");
	}
	ok(!sm_has_ctrl("Zo\xc3\xab Ren\xc3\xa9") && sm_has_ctrl("a\xc2\x85") &&
	    sm_has_ctrl("a\x1b") && sm_has_ctrl("\x7f") && sm_has_ctrl("\x9b"),
	    "sm_has_ctrl: C1 and C0 yes, accented letters no");

	/* ---- a body for a terminal ---- */
	ok(shown_is("line 1\n\tline 2\r\n", 16, "line 1\n\tline 2\r\n"),
	    "TAB, LF and CR LF stay");
	ok(shown_is("a\x1b[2Jb", 6, "a^[[2Jb"), "ESC as ^[");
	ok(shown_is("\x07\x7f\x01\x1f", 4, "^G^?^A^_"), "BEL, DEL, ^A, ^_");
	ok(shown_is("over\rwrite", 10, "over^Mwrite"), "a lone CR as ^M");
	ok(shown_is("csi\xc2\x9b" "2J", 7, "csi<U+009B>2J"), "C1 as <U+009B>");
	ok(shown_is("raw\x9b", 4, "raw<9B>"), "a stray byte as <9B>");
	ok(shown_is("nul\0x", 5, "nul^@x"), "NUL as ^@");
	ok(shown_is("\xe2\x82\xac\xc3\xa9", 5, "\xe2\x82\xac\xc3\xa9"), "UTF-8 stays");

	/* ---- JSON: exact, every control character escaped ---- */
	ok(json_is("a\tb\nc\rd\be\ff\"g\\h", "{\"s\":\"a\\tb\\nc\\rd\\be\\ff\\\"g\\\\h\"}\n"),
	    "the short escapes");
	for (i = 1, bad = 0; i < 32; i++) {
		char want[64];
		if (strchr("\t\n\r\b\f", (int)i))
			continue;
		snprintf(c0, sizeof c0, "x%cy", (int)i);
		snprintf(want, sizeof want, "{\"s\":\"x\\u%04zxy\"}\n", i);
		if (!json_is(c0, want))
			bad++;
	}
	ok(bad == 0, "every other C0 byte as \\u00XX");
	ok(json_is("\x7f", "{\"s\":\"\\u007f\"}\n"), "DEL as \\u007f");
	ok(json_is("\xc2\x9b\xc2\x80\xc2\x9f", "{\"s\":\"\\u009b\\u0080\\u009f\"}\n"),
	    "C1 as \\u0080-\\u009f (the same string)");
	ok(json_is("\xc2\xa0\xc3\xa9", "{\"s\":\"\xc2\xa0\xc3\xa9\"}\n"),
	    "U+00A0 and U+00E9 stay raw");
	ok(json_is("\x9b", "{\"s\":\"\\ufffd\"}\n"), "a stray byte as U+FFFD");

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
