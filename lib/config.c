/* config.c: the portal's config file, "key = value" lines. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "smail.h"

const char sm_config_template[] =
    "# smail portal configuration: \"key = value\" lines; see smail(7).\n"
    "# Durations take a unit: s, m, h, d or w (30m, 14d).\n"
    "#lock_attempts = 3\n"
    "#lock_time = 30m\n"
    "#session_idle = 15m\n"
    "#session_max = 12h\n"
    "#invite_ttl = 14d\n"
    "#reset_ttl = 24h\n"
    "#store_wait = 10s\n"
    "#message_ttl = 30d\n"
    "#max_ttl = 365d\n"
    "#dictionary = /usr/share/dict/words\n"
    "#smtp_url = smtps://mail.example.org:465\n"
    "#smtp_user = portal\n"
    "#smtp_password_file = /etc/smail/smtp-password\n"
    "#smtp_cafile = /etc/ssl/certs/ca-certificates.crt\n"
    "#smtp_from = Secure Mail <portal@example.org>\n"
    "#audit_anchor = syslog\n";

void
sm_config_defaults(struct sm_config *c)
{
	memset(c, 0, sizeof *c);
	c->lock_attempts = 3;
	c->lock_time = 30 * 60;
	c->session_idle = 15 * 60;
	c->session_max = 12 * 3600;
	c->invite_ttl = 14 * 86400;
	c->reset_ttl = 24 * 3600;
	c->store_wait = 10;
	c->pwhash = SM_PWHASH_MODERATE;
	c->message_ttl = 30 * 86400;
	c->max_ttl = 0;
}

void
sm_config_free(struct sm_config *c)
{
	free(c->dictionary);
	free(c->smtp_url);
	free(c->smtp_user);
	free(c->smtp_password_file);
	free(c->smtp_cafile);
	free(c->smtp_from);
	free(c->audit_anchor);
	memset(c, 0, sizeof *c);
}

void
sm_pwhash_limits(int level, uint64_t *ops, size_t *mem)
{
	switch (level) {
	case SM_PWHASH_INTERACTIVE:
		*ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		*mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		break;
	case SM_PWHASH_SENSITIVE:
		*ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
		*mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
		break;
	default:
		*ops = crypto_pwhash_OPSLIMIT_MODERATE;
		*mem = crypto_pwhash_MEMLIMIT_MODERATE;
		break;
	}
}

enum kind { DUR, COUNT, PWHASH, STR, PATH, URL, ANCHOR };

static const struct key {
	const char *name;
	enum kind kind;
	size_t off;
} keys[] = {
	{ "lock_attempts", COUNT, offsetof(struct sm_config, lock_attempts) },
	{ "lock_time", DUR, offsetof(struct sm_config, lock_time) },
	{ "session_idle", DUR, offsetof(struct sm_config, session_idle) },
	{ "session_max", DUR, offsetof(struct sm_config, session_max) },
	{ "invite_ttl", DUR, offsetof(struct sm_config, invite_ttl) },
	{ "reset_ttl", DUR, offsetof(struct sm_config, reset_ttl) },
	{ "store_wait", DUR, offsetof(struct sm_config, store_wait) },
	{ "message_ttl", DUR, offsetof(struct sm_config, message_ttl) },
	{ "max_ttl", DUR, offsetof(struct sm_config, max_ttl) },
	{ "pwhash", PWHASH, offsetof(struct sm_config, pwhash) },
	{ "dictionary", PATH, offsetof(struct sm_config, dictionary) },
	{ "smtp_url", URL, offsetof(struct sm_config, smtp_url) },
	{ "smtp_user", STR, offsetof(struct sm_config, smtp_user) },
	{ "smtp_password_file", PATH, offsetof(struct sm_config, smtp_password_file) },
	{ "smtp_cafile", PATH, offsetof(struct sm_config, smtp_cafile) },
	{ "smtp_from", STR, offsetof(struct sm_config, smtp_from) },
	{ "audit_anchor", ANCHOR, offsetof(struct sm_config, audit_anchor) },
};

static int
set(struct sm_config *c, const struct key *k, const char *v, const char *where)
{
	char *field = (char *)c + k->off;
	int64_t d;
	size_t i;

	switch (k->kind) {
	case DUR:
		if (sm_parse_duration(v, &d) < 0)
			return sm_err(EX_CONFIG, "%s: %s: '%s' is not a duration "
			    "(a number and a unit: s, m, h, d, w)", where, k->name, v);
		if (d == 0 && strcmp(k->name, "max_ttl") != 0)
			return sm_err(EX_CONFIG, "%s: %s: must be more than 0",
			    where, k->name);
		*(int64_t *)field = d;
		return 0;
	case COUNT:
		d = 0;
		for (i = 0; v[i]; i++) {
			if (v[i] < '0' || v[i] > '9' || d > 100000)
				break;
			d = d * 10 + (v[i] - '0');
		}
		if (!*v || v[i] || d < 1 || d > 100000)
			return sm_err(EX_CONFIG, "%s: %s: '%s' is not a number "
			    "from 1 to 100000", where, k->name, v);
		*(int64_t *)field = d;
		return 0;
	case PWHASH:
		if (strcmp(v, "interactive") == 0)
			*(int *)field = SM_PWHASH_INTERACTIVE;
		else if (strcmp(v, "moderate") == 0)
			*(int *)field = SM_PWHASH_MODERATE;
		else if (strcmp(v, "sensitive") == 0)
			*(int *)field = SM_PWHASH_SENSITIVE;
		else
			return sm_err(EX_CONFIG, "%s: pwhash: '%s' is not "
			    "interactive, moderate or sensitive", where, v);
		return 0;
	case PATH:
		if (v[0] != '/')
			return sm_err(EX_CONFIG, "%s: %s: '%s' is not an "
			    "absolute path", where, k->name, v);
		break;
	case URL:
		if (strncmp(v, "smtp://", 7) != 0 && strncmp(v, "smtps://", 8) != 0)
			return sm_err(EX_CONFIG, "%s: smtp_url: '%s' is not "
			    "smtp://HOST:PORT or smtps://HOST:PORT", where, v);
		break;
	case ANCHOR:
		/* syslog (the default: NULL), none, or a file. */
		if (strcmp(v, "syslog") == 0) {
			free(*(char **)field);
			*(char **)field = NULL;
			return 0;
		}
		if (strcmp(v, "none") != 0 && v[0] != '/')
			return sm_err(EX_CONFIG, "%s: audit_anchor: '%s' is not "
			    "syslog, none or an absolute path", where, v);
		break;
	case STR:
		break;
	}
	free(*(char **)field);
	*(char **)field = *v ? sm_xstrdup(v) : NULL;
	return 0;
}

int
sm_config_parse(struct sm_config *c, const char *name, const char *text,
    size_t len)
{
	const char *p = text, *end = text + len;
	unsigned lineno = 0;
	char where[300];
	int rc = 0;

	while (p < end && rc == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *ks, *ke, *vs, *ve, *eq;
		char *key, *val;
		size_t i;

		lineno++;
		snprintf(where, sizeof where, "%s:%u", name, lineno);
		for (ks = p; ks < le && (*ks == ' ' || *ks == '\t'); ks++)
			;
		ve = le;
		while (ve > ks && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
			ve--;
		p = nl ? nl + 1 : end;
		if (ks == ve || *ks == '#')
			continue;
		if (memchr(ks, 0, (size_t)(ve - ks))) {
			rc = sm_err(EX_CONFIG, "%s: NUL byte in line", where);
			break;
		}
		eq = memchr(ks, '=', (size_t)(ve - ks));
		if (!eq) {
			rc = sm_err(EX_CONFIG, "%s: expected 'key = value'", where);
			break;
		}
		for (ke = eq; ke > ks && (ke[-1] == ' ' || ke[-1] == '\t'); ke--)
			;
		for (vs = eq + 1; vs < ve && (*vs == ' ' || *vs == '\t'); vs++)
			;
		key = sm_xstrndup(ks, (size_t)(ke - ks));
		val = sm_xstrndup(vs, (size_t)(ve - vs));
		for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
			if (strcmp(keys[i].name, key) == 0)
				break;
		if (i == sizeof keys / sizeof keys[0]) {
			size_t j;
			for (j = 0; key[j]; j++)
				if ((unsigned char)key[j] < 0x20 || key[j] == 0x7f)
					key[j] = '?';
			rc = sm_err(EX_CONFIG, "%s: unknown key '%s'", where, key);
		} else {
			for (size_t j = 0; val[j]; j++)
				if ((unsigned char)val[j] < 0x20 || val[j] == 0x7f) {
					rc = sm_err(EX_CONFIG, "%s: %s: control character "
					    "in value", where, key);
					break;
				}
			if (rc == 0)
				rc = set(c, &keys[i], val, where);
		}
		free(key);
		free(val);
	}
	return rc;
}
