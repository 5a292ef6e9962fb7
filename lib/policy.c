/*
 * policy.c: the password policy (SPEC §3).  Every broken rule is
 * reported on its own line; the history rule lives in history.c
 * because it needs the account's keys.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "smail.h"

extern const char *const sm_common_passwords[];
extern const size_t sm_common_passwords_n;

#define DEFAULT_DICTIONARY "/usr/share/dict/words"

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
is_special(unsigned char c)
{
	/* Anything but a letter, a digit or a control character; the seed
	 * rules out '*' and '.'.  A character beyond ASCII (é, €) counts. */
	if (c < 0x20 || c == 0x7f || c == '*' || c == '.')
		return 0;
	return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'));
}

/* Case-insensitive (ASCII) substring test. */
static int
contains(const char *hay, const char *needle, size_t nlen)
{
	size_t hlen = strlen(hay), i, j;

	if (nlen == 0 || nlen > hlen)
		return 0;
	for (i = 0; i + nlen <= hlen; i++) {
		for (j = 0; j < nlen; j++)
			if (lower((unsigned char)hay[i + j]) !=
			    lower((unsigned char)needle[j]))
				break;
		if (j == nlen)
			return 1;
	}
	return 0;
}

/* Does PW contain a run of 3 or more letters of S (split at anything
 * that is not a letter)? */
static int
contains_parts(const char *pw, const char *s)
{
	const char *p = s;

	while (p && *p) {
		size_t n = 0;
		while (*p && !((unsigned char)*p >= 0x80 ||
		    ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')))
			p++;
		while (p[n] && ((unsigned char)p[n] >= 0x80 ||
		    ((p[n] | 0x20) >= 'a' && (p[n] | 0x20) <= 'z')))
			n++;
		if (n >= 3 && contains(pw, p, n))
			return 1;
		p += n;
	}
	return 0;
}

/* Letters only, case folded: digits and special characters removed. */
static size_t
letters(const char *s, size_t n, char *out)
{
	size_t i, j = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
			out[j++] = (char)lower(c);
	}
	out[j] = 0;
	return j;
}

/* 1 if WORD (already reduced to letters) is in the dictionary, 0 if
 * not, -1 if the dictionary cannot be read. */
static int
in_dictionary(const char *path, const char *word, size_t wlen)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, *tmp = NULL;
	size_t cap = 0, tcap = 0;
	ssize_t n;
	int found = 0;

	if (!f)
		return -1;
	while (!found && (n = getline(&line, &cap, f)) > 0) {
		/* Cheap length filter before reducing the line. */
		if ((size_t)n < wlen || (size_t)n > wlen + 5)
			continue;
		if (tcap < (size_t)n + 1)
			tmp = sm_xrealloc(tmp, tcap = (size_t)n + 1);
		if (letters(line, (size_t)n, tmp) == wlen && memcmp(tmp, word, wlen) == 0)
			found = 1;
	}
	if (ferror(f))
		found = -1;
	fclose(f);
	free(line);
	free(tmp);
	return found;
}

static int
is_common(const char *pw)
{
	size_t i, n = strlen(pw);

	for (i = 0; i < sm_common_passwords_n; i++) {
		const char *c = sm_common_passwords[i];
		if (strlen(c) == n && contains(pw, c, n))
			return 1;
	}
	return 0;
}

int
sm_policy_check(const sm_portal *p, const char *pw, const char *addr,
    const char *first, const char *last)
{
	const char *dict = p && p->cfg.dictionary ? p->cfg.dictionary :
	    DEFAULT_DICTIONARY;
	size_t n = strlen(pw), chars = 0, i, llen;
	int digit = 0, up = 0, low = 0, special = 0, ctrl = 0, broken = 0, d;
	const char *at = strrchr(addr, '@');
	char *word, *local;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)pw[i];
		if ((c & 0xc0) != 0x80)
			chars++;
		if (c >= '0' && c <= '9')
			digit = 1;
		else if (c >= 'A' && c <= 'Z')
			up = 1;
		else if (c >= 'a' && c <= 'z')
			low = 1;
		else if (c < 0x20 || c == 0x7f)
			ctrl = 1;
		else if (is_special(c))
			special = 1;
	}
#define RULE(cond, msg) do { if (cond) { sm_err(EX_DATAERR, "password: " msg); broken = 1; } } while (0)
	RULE(chars < 10, "shorter than 10 characters");
	RULE(ctrl, "contains a control character");
	RULE(!digit, "needs a digit");
	RULE(!up, "needs an uppercase letter");
	RULE(!low, "needs a lowercase letter");
	RULE(!special, "needs a special character such as ~!@#$?^& "
	    "(* and . do not count)");
	llen = at ? (size_t)(at - addr) : strlen(addr);
	local = sm_xstrndup(addr, llen);
	RULE(contains(pw, addr, strlen(addr)), "contains your e-mail address");
	RULE(!contains(pw, addr, strlen(addr)) &&
	    ((llen >= 3 && contains(pw, local, llen)) || contains_parts(pw, local)),
	    "contains the name in your e-mail address");
	free(local);
	RULE((first && contains_parts(pw, first)) || (last && contains_parts(pw, last)),
	    "contains your name");
	word = sm_xmalloc(n + 1);
	if (letters(pw, n, word) > 0) {
		d = in_dictionary(dict, word, strlen(word));
		if (d < 0) {
			sm_freestr(word);
			return sm_err(EX_CONFIG, "%s: cannot read the dictionary: "
			    "%s (install wamerican or set 'dictionary' in config)",
			    dict, strerror(errno));
		}
		RULE(d, "is a dictionary word once digits and special "
		    "characters are removed");
	}
	sm_freestr(word);
	RULE(is_common(pw), "is a common password");
#undef RULE
	return broken ? EX_DATAERR : 0;
}
