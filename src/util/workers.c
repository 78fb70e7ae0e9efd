/*
 * workers.c - helper threads for byte-parallel jobs (see workers.h).
 *
 * One mutex and two condition variables: a job is published by bumping a
 * generation counter under the mutex; each thread runs its shares of the
 * job once per generation (thread K: shares K, K + N, ... below the
 * job's count) and counts itself done; the waiter sleeps until the count
 * reaches the number of threads. Nothing here allocates after
 * workers_new(), so a job may run while a target is stopped.
 */
#include "config.h"
#include "util/workers.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>

/* The jobs are loops of system calls and memcpy: a small stack will do. */
#define WORKER_STACK (256u << 10)

struct workers;

struct worker_slot {
	struct workers *w;
	unsigned idx;
	pthread_t th;
};

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t go, done;
	unsigned n;
	unsigned shares;		/* of the current job */
	unsigned long gen;		/* job generation */
	unsigned finished;		/* threads done with the current job */
	bool busy, quit;
	void (*fn)(void *arg, unsigned i);
	void *arg;
	struct worker_slot slot[WORKERS_MAX];
};

unsigned workers_cpus(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	n = CPU_COUNT(&set);
	return n < 1 ? 1 : (unsigned)n;
}

unsigned workers_forced(void)
{
	const char *s = getenv("HEAPGRAB_THREADS");
	unsigned long v;
	char *e;

	if (!s || !*s)
		return 0;
	v = strtoul(s, &e, 10);
	return !*e && v >= 1 && v <= WORKERS_MAX ? (unsigned)v : 0;
}

static void *worker_main(void *arg)
{
	struct worker_slot *s = arg;
	struct workers *w = s->w;
	unsigned long seen = 0;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		void (*fn)(void *arg, unsigned i);
		void *job_arg;
		unsigned shares, n;

		while (!w->quit && w->gen == seen)
			pthread_cond_wait(&w->go, &w->lock);
		if (w->quit)
			break;
		seen = w->gen;
		fn = w->fn;
		job_arg = w->arg;
		shares = w->shares;
		n = w->n;
		pthread_mutex_unlock(&w->lock);
		for (unsigned i = s->idx; i < shares; i += n)
			fn(job_arg, i);
		pthread_mutex_lock(&w->lock);
		if (++w->finished == w->n)
			pthread_cond_signal(&w->done);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct workers *workers_new(unsigned n)
{
	struct workers *w;
	pthread_attr_t attr;
	sigset_t all, old;
	unsigned made = 0;

	if (n < 1)
		n = 1;
	if (n > WORKERS_MAX)
		n = WORKERS_MAX;
	w = xcalloc(1, sizeof(*w));
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->go, NULL);
	pthread_cond_init(&w->done, NULL);
	pthread_attr_init(&attr);
	(void)pthread_attr_setstacksize(&attr, WORKER_STACK);
	/* The threads inherit this mask: every signal goes to the caller. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; i < n; i++) {
		w->slot[i].w = w;
		w->slot[i].idx = i;
		if (pthread_create(&w->slot[i].th, &attr, worker_main, &w->slot[i]))
			break;
		made++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	w->n = made;
	if (!made) {
		workers_free(w);
		return NULL;
	}
	return w;
}

unsigned workers_count(const struct workers *w)
{
	return w ? w->n : 0;
}

void workers_start_shares(struct workers *w, unsigned nr, void (*fn)(void *arg, unsigned i),
			  void *arg)
{
	pthread_mutex_lock(&w->lock);
	while (w->busy && w->finished < w->n)	/* the last job, not waited for */
		pthread_cond_wait(&w->done, &w->lock);
	w->fn = fn;
	w->arg = arg;
	w->shares = nr;
	w->finished = 0;
	w->busy = true;
	w->gen++;
	pthread_cond_broadcast(&w->go);
	pthread_mutex_unlock(&w->lock);
}

void workers_start(struct workers *w, void (*fn)(void *arg, unsigned i), void *arg)
{
	workers_start_shares(w, w->n, fn, arg);
}

void workers_wait(struct workers *w)
{
	pthread_mutex_lock(&w->lock);
	while (w->busy && w->finished < w->n)
		pthread_cond_wait(&w->done, &w->lock);
	w->busy = false;
	pthread_mutex_unlock(&w->lock);
}

void workers_run(struct workers *w, void (*fn)(void *arg, unsigned i), void *arg)
{
	workers_start(w, fn, arg);
	workers_wait(w);
}

void workers_run_shares(struct workers *w, unsigned nr, void (*fn)(void *arg, unsigned i),
			void *arg)
{
	if (!w) {
		for (unsigned i = 0; i < nr; i++)
			fn(arg, i);
		return;
	}
	workers_start_shares(w, nr, fn, arg);
	workers_wait(w);
}

void workers_free(struct workers *w)
{
	unsigned n;

	if (!w)
		return;
	workers_wait(w);
	pthread_mutex_lock(&w->lock);
	w->quit = true;
	n = w->n;
	pthread_cond_broadcast(&w->go);
	pthread_mutex_unlock(&w->lock);
	for (unsigned i = 0; i < n; i++)
		pthread_join(w->slot[i].th, NULL);
	pthread_cond_destroy(&w->go);
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
