/*
 * show.c: the words of a command a person pastes into a shell.
 *
 * Notifications and hints tell a person what to run, and the words in
 * them (an address, the portal's directory) are not all plain: the
 * local part of an address may hold ` $ ' | & # and more.  Each word
 * that is not plain goes in single quotes, so that pasting the line
 * runs that command and nothing else.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "smail.h"

/* Bytes a shell never treats specially, wherever they stand in a word
 * (sh, bash and zsh alike: no '=', '~', '#', '!' or globs). */
static const char shell_plain[] = "abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./@+:,%";

void
sm_shell_word(sm_buf *b, const char *s)
{
	if (*s && strspn(s, shell_plain) == strlen(s)) {
		sm_buf_puts(b, s);
		return;
	}
	sm_buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			sm_buf_puts(b, "'\\''");
		else
			sm_buf_putc(b, *s);
	}
	sm_buf_putc(b, '\'');
}

char *
sm_command_line(const sm_portal *p, const char *cmd, ...)
{
	char *def = p ? sm_portal_default_dir() : NULL;
	const char *a;
	sm_buf b = { 0 };
	va_list ap;

	sm_buf_puts(&b, cmd);
	if (p && !(def && strcmp(def, p->dir) == 0)) {
		sm_buf_puts(&b, " -d ");
		sm_shell_word(&b, p->dir);
	}
	free(def);
	va_start(ap, cmd);
	while ((a = va_arg(ap, const char *))) {
		sm_buf_putc(&b, ' ');
		sm_shell_word(&b, a);
	}
	va_end(ap);
	sm_buf_putc(&b, 0);
	return (char *)b.p;
}
