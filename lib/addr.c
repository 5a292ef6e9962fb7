/* addr.c: e-mail addresses as identities. */
#include <string.h>

#include "smail.h"

/*
 * An address is LOCAL@DOMAIN: LOCAL of 1 to 64 printable ASCII bytes
 * without space, '@', '<', '>', '(', ')', ',', ';', ':', '"', '\\',
 * '[', ']' or '/'; DOMAIN of dot-separated labels of letters, digits
 * and '-'.  The domain compares case-insensitively, the local part
 * exactly; the canonical form lowers the domain.
 */
int
sm_addr_canon_quiet(const char *addr, char **canon)
{
	const char *at = strrchr(addr, '@'), *s;
	size_t llen, dlen, label = 0, i;
	char *c;

	if (!at)
		goto bad;
	llen = (size_t)(at - addr);
	dlen = strlen(at + 1);
	if (llen < 1 || llen > 64 || dlen < 1 || dlen > 253)
		goto bad;
	for (s = addr; s < at; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch <= 0x20 || ch >= 0x7f || strchr("@<>(),;:\"\\[]/", ch))
			goto bad;
	}
	if (addr[0] == '-' || addr[0] == '.' || at[-1] == '.')
		goto bad;
	for (s = at + 1; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '.') {
			if (label == 0 || s[-1] == '-')
				goto bad;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-'))
			goto bad;
		if (ch == '-' && label == 0)
			goto bad;
		if (++label > 63)
			goto bad;
	}
	if (label == 0 || s[-1] == '-')
		goto bad;
	c = sm_xstrdup(addr);
	for (i = llen + 1; c[i]; i++)
		if (c[i] >= 'A' && c[i] <= 'Z')
			c[i] = (char)(c[i] - 'A' + 'a');
	*canon = c;
	return 0;
bad:
	*canon = NULL;
	return -1;
}

/* S as it may be shown in a message: control characters as '?' (C1
 * ones become spaces in the message, show.c), cut with "..." to fit
 * SIZE bytes. */
const char *
sm_addr_shown(const char *s, char *out, size_t size)
{
	size_t n = strlen(s), i;

	for (i = 0; i < n && i + 4 < size; i++)
		out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	if (n > i)
		memcpy(out + i, "...", 4);
	else
		out[i] = 0;
	return out;
}

int
sm_addr_canon(const char *addr, char **canon)
{
	char shown[80];

	if (sm_addr_canon_quiet(addr, canon) == 0)
		return 0;
	return sm_err(EX_DATAERR, "%s: not an e-mail address",
	    sm_addr_shown(addr, shown, sizeof shown));
}
