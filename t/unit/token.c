/*
 * token.c: invitation and reset tokens: new, parse, the derived hash and
 * key, finding the token in a mail (quoted-printable soft line breaks
 * included), and reading it from -t or standard input.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "smail.h"
#include "tap.h"

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

static void
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
}

static int
b64url(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

/* sm_token_from_mail on TEXT (copied to an exact buffer), quietly. */
static int
from_mail(int type, const char *text, unsigned char raw[32])
{
	size_t n = strlen(text);
	char *c = sm_xmalloc(n ? n : 1);
	int rc;

	memcpy(c, text, n);
	cap_begin();
	rc = sm_token_from_mail(type, c, n, raw);
	cap_end();
	free(c);
	return rc;
}

/* sm_token_input with standard input holding TEXT. */
static int
input(int type, const char *arg, const char *text, unsigned char raw[32])
{
	FILE *f = tmpfile();
	int saved = dup(0), rc;

	fputs(text, f);
	fflush(f);
	rewind(f);
	lseek(fileno(f), 0, SEEK_SET);
	dup2(fileno(f), 0);
	cap_begin();
	rc = sm_token_input(type, arg, raw);
	cap_end();
	dup2(saved, 0);
	close(saved);
	fclose(f);
	return rc;
}

/* TOKEN with "=\n" (or SEP) after every STEP characters. */
static char *
soft_breaks(const char *token, size_t step, const char *sep)
{
	sm_buf b = { 0 };
	size_t i, n = strlen(token);

	for (i = 0; i < n; i++) {
		if (i && i % step == 0)
			sm_buf_puts(&b, sep);
		sm_buf_putc(&b, token[i]);
	}
	sm_buf_putc(&b, 0);
	return (char *)b.p;
}

int
main(int argc, char **argv)
{
	unsigned char raw[32], raw2[32], got[32], h1[32], h2[32], h3[32], k1[32];
	char tok[SM_TOKEN_CHARS + 1], tok2[SM_TOKEN_CHARS + 1], rtok[SM_TOKEN_CHARS + 1];
	char bad[SM_TOKEN_CHARS + 8], *mail, *qp;
	size_t i;
	int good;
	(void)argc;

	sm_init(argv[0]);

	/* ---- new and parse ---- */
	sm_token_new(SM_TOKEN_INVITE, raw, tok);
	ok(strlen(tok) == SM_TOKEN_CHARS && SM_TOKEN_CHARS == 47,
	    "an invitation token is 47 characters");
	ok(strncmp(tok, "smi-", 4) == 0, "starting smi-");
	ok(b64url(tok + 4), "then base64url");
	memset(got, 0, sizeof got);
	ok(sm_token_parse(SM_TOKEN_INVITE, tok, got) == 0 &&
	    memcmp(got, raw, 32) == 0, "parses back to its 32 bytes");
	sm_token_new(SM_TOKEN_RESET, raw2, rtok);
	ok(strncmp(rtok, "smr-", 4) == 0 && strlen(rtok) == 47 && b64url(rtok + 4),
	    "a reset token: smr- and 43 base64url characters");
	ok(sm_token_parse(SM_TOKEN_RESET, rtok, got) == 0 &&
	    memcmp(got, raw2, 32) == 0, "parses back to its 32 bytes");
	ok(memcmp(raw, raw2, 32) != 0, "two tokens differ");
	{
		unsigned char z[32] = { 0 };
		ok(memcmp(raw, z, 32) != 0, "and are not zero");
	}

	/* ---- refused text ---- */
	ok(sm_token_parse(SM_TOKEN_RESET, tok, got) < 0, "an smi- token is not a reset token");
	ok(sm_token_parse(SM_TOKEN_INVITE, rtok, got) < 0, "an smr- token is not an invitation");
	snprintf(bad, sizeof bad, "smx-%s", tok + 4);
	ok(sm_token_parse(SM_TOKEN_INVITE, bad, got) < 0, "smx- refused");
	snprintf(bad, sizeof bad, "SMI-%s", tok + 4);
	ok(sm_token_parse(SM_TOKEN_INVITE, bad, got) < 0, "SMI- refused");
	snprintf(bad, sizeof bad, "%s", tok + 4);
	ok(sm_token_parse(SM_TOKEN_INVITE, bad, got) < 0, "no prefix refused");
	snprintf(bad, sizeof bad, "%.46s", tok);
	ok(sm_token_parse(SM_TOKEN_INVITE, bad, got) < 0, "one character short refused");
	snprintf(bad, sizeof bad, "%sA", tok);
	ok(sm_token_parse(SM_TOKEN_INVITE, bad, got) < 0, "one character long refused");
	snprintf(bad, sizeof bad, "%s=", tok);
	ok(sm_token_parse(SM_TOKEN_INVITE, bad, got) < 0, "padding refused");
	snprintf(bad, sizeof bad, "%s ", tok);
	ok(sm_token_parse(SM_TOKEN_INVITE, bad, got) < 0, "a trailing space refused");
	ok(sm_token_parse(SM_TOKEN_INVITE, "", got) < 0, "empty refused");
	ok(sm_token_parse(SM_TOKEN_INVITE, "smi-", got) < 0, "the prefix alone refused");
	good = 1;
	for (i = 4; i < SM_TOKEN_CHARS; i++) {
		static const char nasty[] = "+/=.!~ \t\"'";
		size_t j;
		for (j = 0; j < sizeof nasty - 1; j++) {
			memcpy(bad, tok, sizeof tok);
			bad[i] = nasty[j];
			if (sm_token_parse(SM_TOKEN_INVITE, bad, got) == 0)
				good = 0;
		}
	}
	ok(good, "an ASCII character outside base64url, anywhere: refused");
	good = 1;
	for (i = 4; i < SM_TOKEN_CHARS; i++) {
		int ch;
		for (ch = 0x80; ch <= 0xff; ch++) {
			memcpy(bad, tok, sizeof tok);
			bad[i] = (char)ch;
			if (sm_token_parse(SM_TOKEN_INVITE, bad, got) == 0)
				good = 0;
		}
	}
	ok(good, "a byte 0x80-0xff anywhere: refused (malformed)");
	good = 0;
	for (i = 0; i < 64; i++) {
		static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_";
		memcpy(bad, tok, sizeof tok);
		bad[SM_TOKEN_CHARS - 1] = b64[i];
		good += sm_token_parse(SM_TOKEN_INVITE, bad, got) == 0;
	}
	ok(good == 16, "the last character: only the 16 with zero spare bits (%d)", good);

	/* ---- hash and key: bound to type and address ---- */
	sm_token_hash(h1, SM_TOKEN_INVITE, "alice@agency.gov", raw);
	sm_token_hash(h2, SM_TOKEN_RESET, "alice@agency.gov", raw);
	sm_token_hash(h3, SM_TOKEN_INVITE, "bob@agency.gov", raw);
	sm_token_key(k1, SM_TOKEN_INVITE, "alice@agency.gov", raw);
	ok(memcmp(h1, h2, 32) != 0, "the hash depends on the token type");
	ok(memcmp(h1, h3, 32) != 0, "the hash depends on the address");
	ok(memcmp(h1, k1, 32) != 0, "the key is not the hash");
	ok(memcmp(h1, raw, 32) != 0 && memcmp(k1, raw, 32) != 0,
	    "neither is the token");
	sm_token_hash(h2, SM_TOKEN_INVITE, "alice@agency.gov", raw);
	ok(memcmp(h1, h2, 32) == 0, "the hash is deterministic");
	sm_token_hash(h2, SM_TOKEN_INVITE, "alice@agency.gov", raw2);
	ok(memcmp(h1, h2, 32) != 0, "another token, another hash");

	/* ---- from a mail ---- */
	sm_token_new(SM_TOKEN_INVITE, raw2, tok2);
	mail = sm_xasprintf("Subject: Invitation\n\nTo register run:\n\n"
	    "    smail-register -t %s bob@partner.example\n\nYour token:\n\n    %s\n",
	    tok, tok);
	memset(got, 0, sizeof got);
	ok(from_mail(SM_TOKEN_INVITE, mail, got) == 0 && memcmp(got, raw, 32) == 0,
	    "the same token twice in a mail: found");
	ok(from_mail(SM_TOKEN_RESET, mail, got) == EX_DATAERR,
	    "looking for a reset token in an invitation: 65");
	free(mail);
	mail = sm_xasprintf("Your token: %s.\n", tok);
	ok(from_mail(SM_TOKEN_INVITE, mail, got) == 0 && memcmp(got, raw, 32) == 0,
	    "one token in a sentence: found");
	free(mail);
	ok(from_mail(SM_TOKEN_INVITE, tok, got) == 0 && memcmp(got, raw, 32) == 0,
	    "a mail that is only the token: found");
	mail = sm_xasprintf("x\n%s", tok);
	ok(from_mail(SM_TOKEN_INVITE, mail, got) == 0 && memcmp(got, raw, 32) == 0,
	    "the token at the very end: found");
	free(mail);
	ok(from_mail(SM_TOKEN_INVITE, "Subject: hi\n\nno token here\n", got) ==
	    EX_DATAERR && strstr(errtext, "no invitation token"),
	    "no token: 65, saying so");
	ok(from_mail(SM_TOKEN_INVITE, "", got) == EX_DATAERR, "an empty mail: 65");
	ok(from_mail(SM_TOKEN_INVITE, "smi-", got) == EX_DATAERR, "the prefix alone: 65");
	mail = sm_xasprintf("first %s\nsecond %s\n", tok, tok2);
	ok(from_mail(SM_TOKEN_INVITE, mail, got) == EX_DATAERR &&
	    strstr(errtext, "more than one"), "two different tokens: 65, saying so");
	free(mail);
	mail = sm_xasprintf("%s %s %s\n", tok, tok, tok2);
	ok(from_mail(SM_TOKEN_INVITE, mail, got) == EX_DATAERR,
	    "the same one twice and another: 65");
	free(mail);
	mail = sm_xasprintf("x%s\n", tok);
	ok(from_mail(SM_TOKEN_INVITE, mail, got) == EX_DATAERR,
	    "glued to a letter before it: not a token");
	free(mail);
	mail = sm_xasprintf("%sA\n", tok);
	ok(from_mail(SM_TOKEN_INVITE, mail, got) == EX_DATAERR,
	    "one character too long: not a token");
	free(mail);
	mail = sm_xasprintf("%.46s\n", tok);
	ok(from_mail(SM_TOKEN_INVITE, mail, got) == EX_DATAERR,
	    "one character short: not a token");
	free(mail);
	mail = sm_xasprintf("reset %s and invite %s\n", rtok, tok);
	ok(from_mail(SM_TOKEN_INVITE, mail, got) == 0 && memcmp(got, raw, 32) == 0,
	    "a reset token beside an invitation is ignored");
	free(mail);

	/* Quoted-printable soft line breaks, as a relay may add. */
	qp = soft_breaks(tok, 10, "=\n");
	mail = sm_xasprintf("Content-Transfer-Encoding: quoted-printable\n\n"
	    "Your token: %s\n", qp);
	ok(from_mail(SM_TOKEN_INVITE, mail, got) == 0 && memcmp(got, raw, 32) == 0,
	    "soft line breaks (=LF) inside the token: found");
	free(mail);
	free(qp);
	qp = soft_breaks(tok, 1, "=\r\n");
	mail = sm_xasprintf("Your token: %s\r\n", qp);
	ok(from_mail(SM_TOKEN_INVITE, mail, got) == 0 && memcmp(got, raw, 32) == 0,
	    "a soft line break (=CRLF) after every character: found");
	free(mail);
	free(qp);
	qp = soft_breaks(tok, 4, "=\n");
	mail = sm_xasprintf("-t %s x\n\nYour token:\n\n    %s\n", qp, tok);
	ok(from_mail(SM_TOKEN_INVITE, mail, got) == 0 && memcmp(got, raw, 32) == 0,
	    "the same token broken once and whole once: found");
	free(mail);
	free(qp);
	qp = soft_breaks(tok2, 20, "=\n");
	mail = sm_xasprintf("%s\n%s\n", tok, qp);
	ok(from_mail(SM_TOKEN_INVITE, mail, got) == EX_DATAERR,
	    "a second, different token behind soft breaks: 65");
	free(mail);
	free(qp);
	qp = soft_breaks(tok, 20, "\n");
	mail = sm_xasprintf("%s\n", qp);
	ok(from_mail(SM_TOKEN_INVITE, mail, got) == EX_DATAERR,
	    "a hard line break inside the token: not a token");
	free(mail);
	free(qp);
	mail = sm_xasprintf("%.30s=", tok);
	ok(from_mail(SM_TOKEN_INVITE, mail, got) == EX_DATAERR,
	    "a mail ending in = after part of a token: 65, no overread");
	free(mail);

	/* ---- sm_token_input: -t TOKEN, -t -, the mail on stdin ---- */
	ok(input(SM_TOKEN_INVITE, tok, "", got) == 0 && memcmp(got, raw, 32) == 0,
	    "-t TOKEN");
	ok(input(SM_TOKEN_INVITE, "smi-nope", "", got) == EX_NOPERM,
	    "-t with a malformed token: 77");
	ok(input(SM_TOKEN_INVITE, rtok, "", got) == EX_NOPERM,
	    "-t with the other type: 77");
	mail = sm_xasprintf("  %s \t\r\nmore\n", tok);
	ok(input(SM_TOKEN_INVITE, "-", mail, got) == 0 && memcmp(got, raw, 32) == 0,
	    "-t - reads the first line of stdin");
	free(mail);
	ok(input(SM_TOKEN_INVITE, "-", "garbage\n", got) == EX_NOPERM,
	    "-t - with a malformed line: 77");
	mail = sm_xasprintf("Subject: x\n\ntoken %s\n", tok);
	ok(input(SM_TOKEN_INVITE, NULL, mail, got) == 0 && memcmp(got, raw, 32) == 0,
	    "the mail on stdin");
	free(mail);
	ok(input(SM_TOKEN_INVITE, NULL, "", got) == 2, "empty stdin: 2 (no mail)");
	ok(input(SM_TOKEN_INVITE, NULL, " \n\t\r\n", got) == 2, "blank stdin: 2");
	ok(input(SM_TOKEN_INVITE, NULL, "Subject: x\n\nnothing\n", got) == EX_DATAERR,
	    "a mail with no token on stdin: 65");

	plan(tap_n);
	return done();
}
