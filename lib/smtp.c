/*
 * smtp.c: delivering a queued notification to a relay with libcurl
 * (SPEC §5).  One transaction per mail (each has one recipient); one
 * easy handle kept on the portal, so that a batch reuses the
 * connection.  TLS: smtps:// is implicit TLS; smtp:// asks for
 * STARTTLS, and insists on it when credentials are sent or when the
 * mail carries a token (unless the relay is on loopback: 127.0.0.0/8,
 * [::1] or localhost, nothing that merely looks like them).  The SMTP
 * password is read from smtp_password_file (0600) into secret memory;
 * libcurl's verbose output is never turned on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "smail.h"

struct sm_smtp {
	CURL *curl;
	char *password;                /* secret memory */
	char err[CURL_ERROR_SIZE];
};

void
sm_smtp_close(sm_portal *p)
{
	struct sm_smtp *s = p->smtp;

	if (!s)
		return;
	if (s->curl) {
		curl_easy_setopt(s->curl, CURLOPT_PASSWORD, "");
		curl_easy_cleanup(s->curl);
	}
	if (s->password)
		sm_secret_free(s->password);
	free(s);
	p->smtp = NULL;
	curl_global_cleanup();
}

/* An IPv4 literal in 127.0.0.0/8 in strict dotted-quad form: four
 * decimal numbers of at most 255, no leading zeros, nothing else. */
static int
loopback_ipv4(const char *h)
{
	unsigned v, part;
	const char *s = h;

	for (part = 0; part < 4; part++) {
		if (part && *s++ != '.')
			return 0;
		if (*s < '0' || *s > '9')
			return 0;
		if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
			return 0;
		for (v = 0; *s >= '0' && *s <= '9'; s++)
			if ((v = v * 10 + (unsigned)(*s - '0')) > 255)
				return 0;
		if (part == 0 && v != 127)
			return 0;
	}
	return *s == 0;
}

/* The host as written in smtp[s]://HOST[:PORT][/...] (NULL when the URL
 * has another form or user information), and whether it is loopback:
 * 1 an address literal, 2 localhost. */
static int
loopback_host(const char *url, char **host)
{
	const char *h = strstr(url, "://"), *e, *end;
	char *raw;
	int kind = 0;

	*host = NULL;
	if (!h || !((h - url == 4 && strncasecmp(url, "smtp", 4) == 0) ||
	    (h - url == 5 && strncasecmp(url, "smtps", 5) == 0)))
		return 0;
	h += 3;
	end = h + strcspn(h, "/?#");
	if (memchr(h, '@', (size_t)(end - h)))
		return 0;
	if (*h == '[') {
		if (!(e = memchr(h, ']', (size_t)(end - h))))
			return 0;
		e++;
	} else
		e = h + strcspn(h, ":/?#");
	if (e != end && *e != ':')
		return 0;
	raw = sm_xstrndup(h, (size_t)(e - h));
	if (strcmp(raw, "[::1]") == 0 || loopback_ipv4(raw))
		kind = 1;
	else if (strcasecmp(raw, "localhost") == 0)
		kind = 2;
	*host = raw;
	return kind;
}

/*
 * Is the relay on this machine, where a mail with a token may go
 * without TLS?  Only the literal addresses above and localhost, and
 * only when libcurl, which makes the connection, reads the same host
 * from the URL: whatever the two parsers disagree on is not loopback.
 */
static int
loopback_kind(const char *url)
{
	CURLU *u;
	char *raw, *host = NULL;
	int kind = loopback_host(url, &raw);

	if (kind && (u = curl_url())) {
		if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
		    strcasecmp(host, raw) != 0)
			kind = 0;
		curl_free(host);
		curl_url_cleanup(u);
	} else
		kind = 0;
	free(raw);
	return kind;
}

int
sm_smtp_loopback(const char *url)
{
	return loopback_kind(url) != 0;
}

/* The bare address of smtp_from ("Name <addr>" or "addr"), or ours. */
static char *
envelope_from(const sm_portal *p)
{
	const char *f = p->cfg.smtp_from, *lt, *gt;
	char host[256];

	if (f && (lt = strrchr(f, '<')) && (gt = strchr(lt, '>')) && gt > lt + 1)
		return sm_xasprintf("<%.*s>", (int)(gt - lt - 1), lt + 1);
	if (f && strchr(f, '@') && !strchr(f, ' '))
		return sm_xasprintf("<%s>", f);
	if (gethostname(host, sizeof host) < 0 || !host[0])
		strcpy(host, "localhost");
	host[sizeof host - 1] = 0;
	return sm_xasprintf("<smail@%s>", host);
}

static int
open_handle(sm_portal *p, struct sm_smtp **out)
{
	struct sm_smtp *s;
	int rc;

	if (p->smtp) {
		*out = p->smtp;
		return 0;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return sm_err(EX_SOFTWARE, "cannot initialise libcurl");
	s = sm_xcalloc(1, sizeof *s);
	if (p->cfg.smtp_user) {
		if (!p->cfg.smtp_password_file) {
			free(s);
			curl_global_cleanup();
			return sm_err(EX_CONFIG, "config: smtp_user is set but not "
			    "smtp_password_file");
		}
		if ((rc = sm_read_password_from(p->cfg.smtp_password_file, -1, NULL,
		    0, "smtp_password_file", &s->password)) != 0) {
			free(s);
			curl_global_cleanup();
			return rc == EX_NOINPUT ? EX_CONFIG : rc;
		}
	}
	if (!(s->curl = curl_easy_init())) {
		if (s->password)
			sm_secret_free(s->password);
		free(s);
		curl_global_cleanup();
		return sm_err(EX_SOFTWARE, "cannot initialise libcurl");
	}
	p->smtp = s;
	*out = s;
	return 0;
}

struct reader {
	const unsigned char *p;
	size_t len, off;
};

static size_t
read_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct reader *r = arg;
	size_t take = size * n;

	if (take > r->len - r->off)
		take = r->len - r->off;
	memcpy(buf, r->p + r->off, take);
	r->off += take;
	return take;
}

/* The recipient from the "To: <addr>" line the queue wrote. */
char *
sm_mail_rcpt(const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end && *p != '\n') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 5 && strncasecmp(p, "To: <", 5) == 0 && p[n - 1] == '>')
			return sm_xstrndup(p + 5, n - 6);
		if (!nl)
			break;
		p = nl + 1;
	}
	return NULL;
}

static int
carries_token(const char *text, size_t len)
{
	size_t i;

	for (i = 0; i + 4 <= len; i++)
		if (text[i] == 's' && text[i + 1] == 'm' &&
		    (text[i + 2] == 'i' || text[i + 2] == 'r') && text[i + 3] == '-')
			return 1;
	return 0;
}

/*
 * Sends one queued mail (TEXT, LF line ends).  0 delivered; 75 try
 * again later (relay down, 4xx, authentication); 65 refused for good
 * (5xx), with the relay's answer in REASON.
 */
int
sm_smtp_send(sm_portal *p, const char *text, size_t len, char **reason)
{
	struct sm_smtp *s;
	struct curl_slist *rcpt = NULL, *pin = NULL;
	struct reader r = { 0 };
	sm_buf crlf = { 0 };
	char *to, *from, *url, *slot;
	long code = 0;
	CURLcode cc;
	size_t i;
	int rc, secret, loop;

	*reason = NULL;
	if ((rc = open_handle(p, &s)) != 0)
		return rc;
	if (!(to = sm_mail_rcpt(text, len)))
		return sm_err(EX_DATAERR, "queued mail without a To: line");
	for (i = 0; i < len; i++) {
		if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
			sm_buf_putc(&crlf, '\r');
		sm_buf_putc(&crlf, text[i]);
	}
	r.p = crlf.p;
	r.len = crlf.len;
	from = envelope_from(p);
	slot = sm_xasprintf("<%s>", to);
	rcpt = curl_slist_append(NULL, slot);
	loop = loopback_kind(p->cfg.smtp_url);
	secret = p->cfg.smtp_user || (carries_token(text, len) && !loop);
	/* The URL's path is the EHLO name: ours, unless one is given. */
	{
		const char *rest = strstr(p->cfg.smtp_url, "://");
		char host[256];
		if (gethostname(host, sizeof host) < 0 || !host[0])
			strcpy(host, "localhost");
		host[sizeof host - 1] = 0;
		url = rest && strchr(rest + 3, '/') ? sm_xstrdup(p->cfg.smtp_url) :
		    sm_xasprintf("%s/%s", p->cfg.smtp_url, host);
	}
	curl_easy_reset(s->curl);
	s->err[0] = 0;
	curl_easy_setopt(s->curl, CURLOPT_URL, url);
	/* localhost is loopback whatever DNS or /etc/hosts would say. */
	if (loop == 2) {
		pin = curl_slist_append(NULL, "::127.0.0.1:");
		curl_easy_setopt(s->curl, CURLOPT_CONNECT_TO, pin);
	}
	curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(s->curl, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->err);
	curl_easy_setopt(s->curl, CURLOPT_USE_SSL,
	    secret ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
	if (p->cfg.smtp_cafile)
		curl_easy_setopt(s->curl, CURLOPT_CAINFO, p->cfg.smtp_cafile);
	if (p->cfg.smtp_user) {
		curl_easy_setopt(s->curl, CURLOPT_USERNAME, p->cfg.smtp_user);
		curl_easy_setopt(s->curl, CURLOPT_PASSWORD, s->password);
	}
	curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(s->curl, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(s->curl, CURLOPT_READDATA, &r);
	curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)crlf.len);
	cc = curl_easy_perform(s->curl);
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	/* A 5xx for this recipient or this mail is final; one for the
	 * sender, the login or TLS is the relay's set-up, and waits. */
	if (cc == CURLE_OK)
		rc = 0;
	else if (code >= 500 && code < 600 && cc != CURLE_LOGIN_DENIED &&
	    cc != CURLE_USE_SSL_FAILED && strncmp(s->err, "MAIL failed", 11) != 0) {
		*reason = sm_xasprintf("%ld %s", code, s->err[0] ? s->err :
		    curl_easy_strerror(cc));
		rc = EX_DATAERR;
	} else {
		const char *why = cc == CURLE_LOGIN_DENIED ? "the relay refused the "
		    "login (smtp_user, smtp_password_file)" :
		    cc == CURLE_USE_SSL_FAILED ? "the relay offers no STARTTLS, and "
		    "this mail needs TLS" : s->err[0] ? s->err : curl_easy_strerror(cc);
		sm_warn("%s: %s", to, why);
		rc = EX_TEMPFAIL;
	}
	/* No copy of the password in our handle beyond this call. */
	curl_easy_setopt(s->curl, CURLOPT_PASSWORD, "");
	curl_easy_setopt(s->curl, CURLOPT_CONNECT_TO, NULL);
	curl_slist_free_all(rcpt);
	curl_slist_free_all(pin);
	sm_buf_free(&crlf);
	free(slot);
	free(url);
	free(from);
	free(to);
	return rc;
}
