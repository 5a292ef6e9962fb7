/*
 * loopback.c: which smtp_url relays count as loopback, where a mail
 * with a token may go without TLS: an IPv4 literal in 127.0.0.0/8 in
 * strict dotted-quad form, [::1] and localhost, as libcurl parses the
 * URL; nothing that merely starts with "127." or hides a host behind
 * user information.
 */
#include <string.h>

#include "smail.h"
#include "tap.h"

int
main(void)
{
	static const char *loop[] = {
		"smtp://127.0.0.1", "smtp://127.0.0.1:2525", "smtps://127.0.0.1:465/",
		"smtp://127.0.0.1/ehlo.example", "smtp://127.1.2.3:25",
		"smtp://127.255.255.255", "smtp://[::1]", "smtp://[::1]:2525",
		"smtp://localhost", "smtp://localhost:25", "SMTP://LOCALHOST:25",
		"smtps://localhost/ehlo",
	};
	static const char *notloop[] = {
		"smtp://127.attacker.example", "smtp://127.attacker.example:25",
		"smtp://127.0.0.1.nip.example", "smtp://127.0.0.1.nip.example:25",
		"smtp://127.0.0.1.localhost:25", "smtp://127.0.0.1x",
		"smtp://127.0.0.1.", "smtp://localhost.", "smtp://localhost.example",
		"smtp://sub.localhost", "smtp://127.0.0", "smtp://127.1",
		"smtp://127.0.0.1.5", "smtp://127.0.0.256", "smtp://127.0.0.01",
		"smtp://0127.0.0.1", "smtp://0x7f.0.0.1", "smtp://2130706433",
		"smtp://128.0.0.1", "smtp://10.0.0.1", "smtp://[::2]", "smtp://[::1",
		"smtp://[0:0:0:0:0:0:0:1]", "smtp://[::ffff:127.0.0.1]",
		"smtp://127.0.0.1@evil.example", "smtp://user@127.0.0.1",
		"smtp://127.0.0.1:25@evil.example", "smtp://evil.example#@127.0.0.1",
		"smtp://evil.example?127.0.0.1", "smtp://127.0.0.1%2eevil.example",
		"smtp://127.0.0.1\\@evil.example", "smtp://relay.example",
		"http://127.0.0.1", "127.0.0.1", "smtp:/127.0.0.1", "",
		"smtp://", "smtp://:25",
	};
	size_t i;
	int bad;

	for (i = 0, bad = 0; i < sizeof loop / sizeof loop[0]; i++)
		if (sm_smtp_loopback(loop[i]) != 1) {
			bad++;
			printf("#   not loopback: %s\n", loop[i]);
		}
	ok(bad == 0, "%zu loopback relays", sizeof loop / sizeof loop[0]);
	for (i = 0, bad = 0; i < sizeof notloop / sizeof notloop[0]; i++)
		if (sm_smtp_loopback(notloop[i]) != 0) {
			bad++;
			printf("#   taken for loopback: %s\n", notloop[i]);
		}
	ok(bad == 0, "%zu others that are not (127.attacker.example among them)",
	    sizeof notloop / sizeof notloop[0]);

	plan(tap_n);
	return done();
}
