/*
 * hashwork.c: BLAKE2b on a second core.  Writing or reading a message
 * hashes every chunk as well as encrypting or decrypting it, and the
 * hash is the slower of the two; one helper thread, started on first
 * use, hashes a chunk while the caller does the rest of its work, and
 * the caller waits for it before it touches the chunk again.  Where no
 * thread can be started the work is done in line, with the same result.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include <sodium.h>

#include "smail.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t posted = PTHREAD_COND_INITIALIZER;
static pthread_cond_t finished = PTHREAD_COND_INITIALIZER;
static int state;                       /* 0 not started, 1 running, -1 none */
static int pending;                     /* a job posted and not done */
static struct {
	crypto_generichash_state *st;   /* update this ... */
	unsigned char *out;             /* ... or hash into this */
	const unsigned char *p;
	size_t n;
} job;

static void
run(void)
{
	if (job.st)
		crypto_generichash_update(job.st, job.p, job.n);
	else
		crypto_generichash(job.out, 32, job.p, job.n, NULL, 0);
}

static void *
worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;) {
		while (!pending)
			pthread_cond_wait(&posted, &mu);
		pthread_mutex_unlock(&mu);
		run();
		pthread_mutex_lock(&mu);
		pending = 0;
		pthread_cond_signal(&finished);
	}
	return NULL;
}

/* A child of fork has no helper: it starts its own when it needs one. */
static void
forked(void)
{
	state = 0;
	pending = 0;
	pthread_mutex_init(&mu, NULL);
	pthread_cond_init(&posted, NULL);
	pthread_cond_init(&finished, NULL);
}

static int
start(void)
{
	static int atfork;
	pthread_attr_t a;
	pthread_t t;
	sigset_t all, old;

	if (!atfork) {
		pthread_atfork(NULL, NULL, forked);
		atfork = 1;
	}
	/* The helper takes no signals: they stay with the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	state = pthread_create(&t, &a, worker, NULL) == 0 ? 1 : -1;
	pthread_attr_destroy(&a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return state;
}

/*
 * Hashes N bytes at P into ST (an update) or, when ST is NULL, into
 * OUT (a 32-byte BLAKE2b of P alone), on the helper.  P, ST and OUT
 * must stay untouched until sm_hash_wait; one job at a time.
 */
void
sm_hash_post(crypto_generichash_state *st, const void *p, size_t n,
    unsigned char out[32])
{
	job.st = st;
	job.out = out;
	job.p = p;
	job.n = n;
	if (n < 4096 || (state == 0 ? start() : state) < 0) {
		run();
		return;
	}
	pthread_mutex_lock(&mu);
	pending = 1;
	pthread_cond_signal(&posted);
	pthread_mutex_unlock(&mu);
}

/* Waits until the job posted last is done. */
void
sm_hash_wait(void)
{
	if (state <= 0)
		return;
	pthread_mutex_lock(&mu);
	while (pending)
		pthread_cond_wait(&finished, &mu);
	pthread_mutex_unlock(&mu);
}
