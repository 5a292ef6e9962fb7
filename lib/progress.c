/*
 * progress.c: a progress line on standard error, for long work (batch
 * sends, flushes, purges, large fetches): the count, the rate and the
 * time left, redrawn at most ten times a second.  Only when standard
 * error is a terminal, and never with -q; a script's stderr sees
 * nothing of it.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smail.h"

struct sm_progress *sm_progress_now;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
sm_progress_begin(struct sm_progress *pr, const char *what, const char *unit,
    uint64_t total)
{
	memset(pr, 0, sizeof *pr);
	pr->what = what;
	pr->unit = unit;
	pr->total = total;
	pr->on = !sm_quiet && isatty(2);
	pr->start = pr->last = now();
	sm_progress_now = pr;
}

static void
amount(char *out, size_t n, const struct sm_progress *pr, double v)
{
	if (strcmp(pr->unit, "bytes") == 0) {
		if (v >= 1048576)
			snprintf(out, n, "%.1f MiB", v / 1048576);
		else
			snprintf(out, n, "%.0f KiB", v / 1024);
	} else
		snprintf(out, n, "%.0f", v);
}

static void
draw(struct sm_progress *pr, double t)
{
	char line[200], done[32], total[32], rate[32];
	double el = t - pr->start, r = el > 0 ? pr->done / el : 0;

	amount(done, sizeof done, pr, (double)pr->done);
	amount(rate, sizeof rate, pr, r);
	/* "3/200 lines", but "1.2 MiB/30.0 MiB": bytes carry their unit. */
	const char *sp = strcmp(pr->unit, "bytes") ? " " : "";
	const char *unit = *sp ? pr->unit : "";
	if (pr->total) {
		amount(total, sizeof total, pr, (double)pr->total);
		if (r > 0 && pr->total > pr->done)
			snprintf(line, sizeof line, "\r%s: %s %s/%s%s%s, %s/s, %.0fs left",
			    sm_progname, pr->what, done, total, sp, unit, rate,
			    (pr->total - pr->done) / r);
		else
			snprintf(line, sizeof line, "\r%s: %s %s/%s%s%s, %s/s",
			    sm_progname, pr->what, done, total, sp, unit, rate);
	} else
		snprintf(line, sizeof line, "\r%s: %s %s%s%s, %s/s", sm_progname,
		    pr->what, done, sp, unit, rate);
	fputs(line, stderr);
	fputs("\033[K", stderr);
	fflush(stderr);
	pr->drawn = 1;
	pr->last = t;
}

void
sm_progress_add(struct sm_progress *pr, uint64_t n)
{
	double t;

	if (!pr)
		return;
	pr->done += n;
	if (!pr->on)
		return;
	t = now();
	/* Nothing for quick work; then ten redraws a second at most. */
	if (t - pr->start < 0.5 || t - pr->last < 0.1)
		return;
	draw(pr, t);
}

void
sm_progress_end(struct sm_progress *pr)
{
	if (sm_progress_now == pr)
		sm_progress_now = NULL;
	if (pr->on && pr->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
}
