/* config.c: the config parser (every key, values, errors) and durations. */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "smail.h"
#include "tap.h"

/* ---- stderr capture: what the library printed ---------------------- */

static char errtext[8192];
static int saved_fd = -1;
static FILE *capf;

static void
cap_begin(void)
{
	fflush(stderr);
	capf = tmpfile();
	saved_fd = dup(2);
	dup2(fileno(capf), 2);
}

static const char *
cap_end(void)
{
	size_t n;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	rewind(capf);
	n = fread(errtext, 1, sizeof errtext - 1, capf);
	errtext[n] = 0;
	fclose(capf);
	return errtext;
}

static int
lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Parses TEXT (LEN bytes; 0: strlen) into C from defaults; the error
 * output lands in errtext. */
static int
parse_n(struct sm_config *c, const char *text, size_t len)
{
	int rc;

	sm_config_defaults(c);
	cap_begin();
	rc = sm_config_parse(c, "cfg", text, len ? len : strlen(text));
	cap_end();
	return rc;
}

static int
parse(struct sm_config *c, const char *text)
{
	return parse_n(c, text, 0);
}

/* A text that must be refused with 78 and "cfg:LINE:" in one line. */
static void
refused(const char *text, int line, const char *what)
{
	struct sm_config c;
	char where[32];
	int rc = parse(&c, text);

	snprintf(where, sizeof where, "cfg:%d: ", line);
	ok(rc == EX_CONFIG && strstr(errtext, where) && lines(errtext) == 1,
	    "refused, naming cfg:%d: %s", line, what);
	sm_config_free(&c);
}

static int64_t
dur(const char *s)
{
	int64_t v = -42;

	if (sm_parse_duration(s, &v) < 0)
		return -1;
	return v;
}

static const char *
fmt(int64_t s)
{
	static char out[48];

	sm_fmt_duration(s, out);
	return out;
}

int
main(int argc, char **argv)
{
	struct sm_config c;
	uint64_t ops;
	size_t mem;
	int64_t v;
	char buf[256];
	(void)argc;

	sm_init(argv[0]);

	/* ---- defaults ---- */
	sm_config_defaults(&c);
	ok(c.lock_attempts == 3 && c.lock_time == 1800 && c.session_idle == 900 &&
	    c.session_max == 12 * 3600, "defaults: lock_attempts 3, lock_time 30m, "
	    "session_idle 15m, session_max 12h");
	ok(c.invite_ttl == 14 * 86400 && c.reset_ttl == 86400 &&
	    c.store_wait == 10 && c.message_ttl == 30 * 86400 && c.max_ttl == 0,
	    "defaults: invite_ttl 14d, reset_ttl 24h, store_wait 10s, "
	    "message_ttl 30d, max_ttl none");
	ok(c.pwhash == SM_PWHASH_MODERATE, "defaults: pwhash moderate");
	ok(!c.dictionary && !c.smtp_url && !c.smtp_user && !c.smtp_password_file &&
	    !c.smtp_cafile && !c.smtp_from, "defaults: no strings set");

	/* ---- every key ---- */
	ok(parse(&c,
	    "lock_attempts = 5\n"
	    "lock_time = 2s\n"
	    "session_idle = 3m\n"
	    "session_max = 4h\n"
	    "invite_ttl = 5d\n"
	    "reset_ttl = 6h\n"
	    "store_wait = 7s\n"
	    "message_ttl = 2w\n"
	    "max_ttl = 365d\n"
	    "pwhash = interactive\n"
	    "dictionary = /usr/share/dict/words\n"
	    "smtp_url = smtps://mail.example.org:465\n"
	    "smtp_user = portal\n"
	    "smtp_password_file = /etc/smail/smtp-password\n"
	    "smtp_cafile = /etc/ssl/certs/ca-certificates.crt\n"
	    "smtp_from = Secure Mail <portal@example.org>\n") == 0 && !errtext[0],
	    "every key parses, silently");
	ok(c.lock_attempts == 5, "lock_attempts = 5");
	ok(c.lock_time == 2, "lock_time = 2s");
	ok(c.session_idle == 180, "session_idle = 3m");
	ok(c.session_max == 4 * 3600, "session_max = 4h");
	ok(c.invite_ttl == 5 * 86400, "invite_ttl = 5d");
	ok(c.reset_ttl == 6 * 3600, "reset_ttl = 6h");
	ok(c.store_wait == 7, "store_wait = 7s");
	ok(c.message_ttl == 14 * 86400, "message_ttl = 2w");
	ok(c.max_ttl == 365 * 86400, "max_ttl = 365d");
	ok(c.pwhash == SM_PWHASH_INTERACTIVE, "pwhash = interactive");
	ok(c.dictionary && strcmp(c.dictionary, "/usr/share/dict/words") == 0,
	    "dictionary");
	ok(c.smtp_url && strcmp(c.smtp_url, "smtps://mail.example.org:465") == 0,
	    "smtp_url");
	ok(c.smtp_user && strcmp(c.smtp_user, "portal") == 0, "smtp_user");
	ok(c.smtp_password_file &&
	    strcmp(c.smtp_password_file, "/etc/smail/smtp-password") == 0,
	    "smtp_password_file");
	ok(c.smtp_cafile &&
	    strcmp(c.smtp_cafile, "/etc/ssl/certs/ca-certificates.crt") == 0,
	    "smtp_cafile");
	ok(c.smtp_from && strcmp(c.smtp_from, "Secure Mail <portal@example.org>") == 0,
	    "smtp_from keeps inner spaces and <>");
	sm_config_free(&c);

	ok(parse(&c, "pwhash = moderate\n") == 0 && c.pwhash == SM_PWHASH_MODERATE,
	    "pwhash = moderate");
	sm_config_free(&c);
	ok(parse(&c, "pwhash = sensitive\n") == 0 && c.pwhash == SM_PWHASH_SENSITIVE,
	    "pwhash = sensitive");
	sm_config_free(&c);
	ok(parse(&c, "smtp_url = smtp://127.0.0.1:2525\n") == 0 &&
	    strcmp(c.smtp_url, "smtp://127.0.0.1:2525") == 0, "smtp_url smtp://");
	sm_config_free(&c);
	ok(parse(&c, "lock_attempts = 100000\n") == 0 && c.lock_attempts == 100000,
	    "lock_attempts = 100000 (the most)");
	sm_config_free(&c);
	ok(parse(&c, "lock_attempts = 1\n") == 0 && c.lock_attempts == 1,
	    "lock_attempts = 1 (the least)");
	sm_config_free(&c);
	ok(parse(&c, "max_ttl = 0s\n") == 0 && c.max_ttl == 0,
	    "max_ttl = 0s means none");
	sm_config_free(&c);
	ok(!c.audit_anchor, "audit_anchor: syslog by default (NULL)");
	ok(parse(&c, "audit_anchor = /var/log/smail/anchors\n") == 0 &&
	    c.audit_anchor && strcmp(c.audit_anchor, "/var/log/smail/anchors") == 0,
	    "audit_anchor = FILE");
	sm_config_free(&c);
	ok(parse(&c, "audit_anchor = none\n") == 0 && c.audit_anchor &&
	    strcmp(c.audit_anchor, "none") == 0, "audit_anchor = none");
	sm_config_free(&c);
	ok(parse(&c, "audit_anchor = /a\naudit_anchor = syslog\n") == 0 &&
	    !c.audit_anchor, "audit_anchor = syslog after a file: the last wins");
	sm_config_free(&c);

	/* ---- durations in config, each unit ---- */
	ok(parse(&c, "lock_time = 45s\n") == 0 && c.lock_time == 45, "unit s");
	sm_config_free(&c);
	ok(parse(&c, "lock_time = 45m\n") == 0 && c.lock_time == 45 * 60, "unit m");
	sm_config_free(&c);
	ok(parse(&c, "lock_time = 45h\n") == 0 && c.lock_time == 45 * 3600, "unit h");
	sm_config_free(&c);
	ok(parse(&c, "lock_time = 45d\n") == 0 && c.lock_time == 45 * 86400, "unit d");
	sm_config_free(&c);
	ok(parse(&c, "lock_time = 45w\n") == 0 && c.lock_time == 45 * 604800, "unit w");
	sm_config_free(&c);

	/* ---- layout: comments, blanks, spaces, CRLF, repeats ---- */
	ok(parse(&c, "# a comment\n\n   \n\t\n  # indented comment = 5\n"
	    "lock_attempts = 4\n# lock_attempts = 9\n") == 0 &&
	    c.lock_attempts == 4, "comments and blank lines are skipped");
	sm_config_free(&c);
	ok(parse(&c, "lock_attempts=6\n") == 0 && c.lock_attempts == 6,
	    "no spaces around =");
	sm_config_free(&c);
	ok(parse(&c, "\t lock_attempts \t=\t 7 \t\n") == 0 && c.lock_attempts == 7,
	    "tabs and spaces around key and value");
	sm_config_free(&c);
	ok(parse(&c, "lock_attempts = 8\r\nlock_time = 9m\r\n") == 0 &&
	    c.lock_attempts == 8 && c.lock_time == 540, "CRLF lines");
	sm_config_free(&c);
	ok(parse(&c, "lock_time = 2m") == 0 && c.lock_time == 120,
	    "a last line without a newline");
	sm_config_free(&c);
	ok(parse(&c, "lock_attempts = 4\nlock_attempts = 9\n") == 0 &&
	    c.lock_attempts == 9, "a repeated key: the last wins");
	sm_config_free(&c);
	ok(parse(&c, "smtp_user = a\nsmtp_user = b\nsmtp_user = c\n") == 0 &&
	    strcmp(c.smtp_user, "c") == 0, "a repeated string key: the last wins");
	sm_config_free(&c);
	ok(parse(&c, "pwhash = sensitive\npwhash = interactive\n") == 0 &&
	    c.pwhash == SM_PWHASH_INTERACTIVE, "a repeated pwhash: the last wins");
	sm_config_free(&c);
	ok(parse_n(&c, "", 0) == 0 && c.lock_attempts == 3, "an empty file: defaults");
	sm_config_free(&c);
	ok(parse(&c, sm_config_template) == 0 && c.lock_attempts == 3 &&
	    c.pwhash == SM_PWHASH_MODERATE && !c.smtp_url && !errtext[0],
	    "the template init writes parses to the defaults");
	sm_config_free(&c);
	ok(parse(&c, "smtp_from = a = b\n") == 0 && strcmp(c.smtp_from, "a = b") == 0,
	    "the value runs from the first =");
	sm_config_free(&c);

	/* ---- errors: 78 naming the line ---- */
	refused("lock_attempts = 3\ncolour = blue\n", 2, "an unknown key");
	refused("# c\n\nlock_time = 30\n", 3, "a duration without a unit");
	refused("lock_time = m\n", 1, "a unit without a number");
	refused("lock_time = -5m\n", 1, "a negative duration");
	refused("lock_time = 5x\n", 1, "an unknown unit");
	refused("lock_time = 5mm\n", 1, "two units");
	refused("lock_time = 1.5h\n", 1, "a fraction");
	refused("lock_time = 5 m\n", 1, "a space before the unit");
	refused("lock_time =\n", 1, "an empty duration");
	refused("lock_time = 0s\n", 1, "a zero lock_time");
	refused("store_wait = 0m\n", 1, "a zero store_wait");
	refused("lock_time = 99999999999999999999s\n", 1, "an overflowing number");
	refused("invite_ttl = 9223372036854775807s\n", 1, "INT64_MAX seconds");
	refused("invite_ttl = 3000000000000000w\n", 1, "a unit that overflows");
	refused("lock_attempts = 0\n", 1, "lock_attempts 0");
	refused("lock_attempts = 100001\n", 1, "lock_attempts over 100000");
	refused("lock_attempts = three\n", 1, "lock_attempts not a number");
	refused("lock_attempts = 3x\n", 1, "lock_attempts with a suffix");
	refused("lock_attempts = -3\n", 1, "lock_attempts negative");
	refused("lock_attempts = 99999999999999999999\n", 1, "lock_attempts overflowing");
	refused("lock_attempts =\n", 1, "lock_attempts empty");
	refused("pwhash = fast\n", 1, "a bad pwhash");
	refused("dictionary = words\n", 1, "a relative path");
	refused("smtp_cafile = ca.pem\n", 1, "a relative smtp_cafile");
	refused("smtp_url = http://mail.example.org\n", 1, "an smtp_url not smtp(s)://");
	refused("audit_anchor = anchors.log\n", 1, "a relative audit_anchor");
	refused("audit_anchor = Syslog\n", 1, "an audit_anchor of another kind");
	refused("audit_anchor =\n", 1, "an empty audit_anchor");
	refused("lock_time 30m\n", 1, "a line without =");
	refused("lock_attempts = 3\njust words\nlock_time = 1m\n", 2,
	    "a line without = between good ones");
	refused("= 5\n", 1, "an empty key");
	refused("smtp_user = a\x01" "b\n", 1, "a control character in a value");
	refused("smtp_user = a\x7f" "b\n", 1, "DEL in a value");
	refused("lock_time = 1m\r\r\nbad\n", 2, "a line count that goes on after CR");
	{
		static const char nul1[] = "lock_attempts = 4\nlock_time = 3\0m\n";
		static const char nul2[] = "lock_attempts = 4\nsmtp_user = a\0b\n";
		static const char nul3[] = "lock_at\0tempts = 4\n";
		static const char nul4[] = "# com\0ment\nlock_attempts = 4\n";

		ok(parse_n(&c, nul1, sizeof nul1 - 1) == EX_CONFIG &&
		    strstr(errtext, "cfg:2: "), "a NUL byte in a duration: 78 at line 2");
		sm_config_free(&c);
		ok(parse_n(&c, nul2, sizeof nul2 - 1) == EX_CONFIG &&
		    strstr(errtext, "cfg:2: "), "a NUL byte in a string value: 78");
		sm_config_free(&c);
		ok(parse_n(&c, nul3, sizeof nul3 - 1) == EX_CONFIG &&
		    strstr(errtext, "cfg:1: "), "a NUL byte in a key: 78");
		sm_config_free(&c);
		ok(parse_n(&c, nul4, sizeof nul4 - 1) == 0 && c.lock_attempts == 4,
		    "a NUL byte in a comment is harmless");
		sm_config_free(&c);
	}
	ok(parse(&c, "colour\x1b[31m = red\n") == EX_CONFIG &&
	    !strchr(errtext, '\x1b'), "an unknown key with an escape is shown without it");
	sm_config_free(&c);
	{
		/* A long line is reported, not overflowed. */
		char big[5000];
		memset(big, 'k', sizeof big);
		memcpy(big + sizeof big - 5, " = 1", 4);
		big[sizeof big - 1] = '\n';
		ok(parse_n(&c, big, sizeof big) == EX_CONFIG && lines(errtext) == 1,
		    "a 5000-byte unknown key: one line of error");
		sm_config_free(&c);
	}

	/* ---- pwhash limits ---- */
	sm_pwhash_limits(SM_PWHASH_INTERACTIVE, &ops, &mem);
	ok(ops == 2 && mem == 64u << 20, "interactive: ops 2, 64 MiB");
	sm_pwhash_limits(SM_PWHASH_MODERATE, &ops, &mem);
	ok(ops == 3 && mem == 256u << 20, "moderate: ops 3, 256 MiB");
	sm_pwhash_limits(SM_PWHASH_SENSITIVE, &ops, &mem);
	ok(ops == 4 && mem == 1024u << 20, "sensitive: ops 4, 1 GiB");

	/* ---- sm_parse_duration ---- */
	ok(dur("30m") == 1800, "30m is 1800");
	ok(dur("2s") == 2, "2s is 2");
	ok(dur("1h") == 3600, "1h is 3600");
	ok(dur("14d") == 14 * 86400, "14d");
	ok(dur("1w") == 604800, "1w");
	ok(dur("0s") == 0, "0s is 0");
	ok(dur("007m") == 420, "leading zeros");
	ok(dur("1000000w") == 1000000LL * 604800, "a million weeks");
	ok(dur("30") == -1, "30 (no unit) is refused");
	ok(dur("") == -1, "empty is refused");
	ok(dur("m") == -1, "m alone is refused");
	ok(dur("-1s") == -1, "-1s is refused");
	ok(dur("+1s") == -1, "+1s is refused");
	ok(dur(" 1s") == -1, "a leading space is refused");
	ok(dur("1s ") == -1, "a trailing space is refused");
	ok(dur("1M") == -1, "1M (upper case) is refused");
	ok(dur("1ms") == -1, "1ms is refused");
	ok(dur("1.5h") == -1, "1.5h is refused");
	ok(dur("1y") == -1, "1y is refused");
	ok(dur("99999999999999999999s") == -1, "20 digits: refused, no wrap");
	ok(dur("9223372036854775807s") == -1, "INT64_MAX seconds refused");
	ok(dur("9223372036854775807w") == -1, "INT64_MAX weeks refused");
	ok(dur("15250284452472w") == -1, "weeks past INT64_MAX refused");
	{
		/* Any number of digits is handled without overflow. */
		char many[400];
		memset(many, '9', sizeof many - 2);
		many[sizeof many - 2] = 's';
		many[sizeof many - 1] = 0;
		ok(dur(many) == -1, "398 digits refused");
	}
	v = 5;
	ok(sm_parse_duration("bad", &v) < 0 && v == 5, "a refused duration leaves OUT alone");

	/* ---- sm_fmt_duration ---- */
	ok(strcmp(fmt(1800), "30 minutes") == 0, "1800: 30 minutes");
	ok(strcmp(fmt(60), "1 minute") == 0, "60: 1 minute");
	ok(strcmp(fmt(1), "1 second") == 0, "1: 1 second");
	ok(strcmp(fmt(2), "2 seconds") == 0, "2: 2 seconds");
	ok(strcmp(fmt(90), "90 seconds") == 0, "90: 90 seconds");
	ok(strcmp(fmt(3600), "1 hour") == 0, "3600: 1 hour");
	ok(strcmp(fmt(43200), "12 hours") == 0, "43200: 12 hours");
	ok(strcmp(fmt(86400), "1 day") == 0, "86400: 1 day");
	ok(strcmp(fmt(3 * 86400), "3 days") == 0, "3 days");
	ok(strcmp(fmt(604800), "1 week") == 0, "1 week");
	ok(strcmp(fmt(14 * 86400), "2 weeks") == 0, "14d: 2 weeks");
	ok(strcmp(fmt(3660), "61 minutes") == 0, "3660: 61 minutes");
	ok(strcmp(fmt(0), "0 seconds") == 0, "0: 0 seconds");
	sm_fmt_duration(INT64_MAX, buf);
	ok(strlen(buf) > 0 && strlen(buf) < 48, "INT64_MAX formats within 48 bytes");
	{
		static const char *const rt[] = { "1s", "59s", "1m", "45m", "1h",
		    "23h", "1d", "6d", "1w", "52w" };
		static const char *const words[] = { "1 second", "59 seconds",
		    "1 minute", "45 minutes", "1 hour", "23 hours", "1 day",
		    "6 days", "1 week", "52 weeks" };
		size_t i;
		int good = 1;
		for (i = 0; i < sizeof rt / sizeof rt[0]; i++)
			if (strcmp(fmt(dur(rt[i])), words[i]) != 0)
				good = 0;
		ok(good, "parse then format: each unit reads back in words");
	}

	plan(tap_n);
	return done();
}
