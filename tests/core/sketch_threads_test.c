/*
 * sketch_threads_test.c
 *		The sketch core's process-wide mapping cache used from several
 *		threads at once, with nothing prepared ahead: built for ThreadSanitizer
 *		by tests/unit/unit.mk (SANITIZE=thread) for
 *		tests/suites/driver_tsan.sh, where any data race fails the suite.
 *
 * Each thread adds the same values to sketches of 12 alphas, more than
 * the cache has slots, in a thread-specific order, so that threads build
 * the mappings concurrently and some alphas take the slow path.  The
 * results must be identical to the same sketches built afterwards in the
 * main thread.  Prints "ok N - what" / "not ok N - what" lines and a final
 * "sketch_threads_test: N passed, N failed" line (tests/unit/unit.h); exits
 * 1 if anything failed.
 */
#include "sketch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define NTHREADS	6
#define NALPHAS		12
#define NVALUES		20000

static const double alphas[NALPHAS] = {
	0.01, 0.02, 0.005, 0.001, 0.05, 0.0001, 0.03, 0.1, 0.002, 0.015, 0.0005, 0.07
};

static void *
t_alloc(size_t size, void *ctx)
{
	(void) ctx;
	return malloc(size);
}

static void
t_free(void *p, void *ctx)
{
	(void) ctx;
	free(p);
}

static const sketch_allocator A = {t_alloc, t_free, NULL};

struct worker
{
	int			id;
	char	   *text[NALPHAS];	/* text form of each alpha's sketch */
};

static double
value_at(int i)
{
	return 0.001 * (double) ((i * 7919) % 100003 + 1);
}

/* Sketch of the NVALUES values at alphas[a], as text (malloc'd). */
static char *
build(int a)
{
	struct sketch *s = sketch_create(&A, alphas[a]);
	char	   *t;

	for (int i = 0; i < NVALUES && s != NULL; i++)
		if (sketch_add(&s, value_at(i), &A) != SKETCH_OK)
			return NULL;
	if (s == NULL)
		return NULL;
	t = malloc(sketch_text_size(s));
	sketch_to_text(s, t);
	free(s);
	return t;
}

static void *
worker_main(void *p)
{
	struct worker *w = p;

	for (int k = 0; k < NALPHAS; k++)
	{
		int			a = (k + w->id * 5) % NALPHAS;

		w->text[a] = build(a);
	}
	return NULL;
}

int
main(void)
{
	pthread_t	th[NTHREADS];
	struct worker w[NTHREADS];

	for (int t = 0; t < NTHREADS; t++)
	{
		w[t].id = t;
		pthread_create(&th[t], NULL, worker_main, &w[t]);
	}
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	for (int a = 0; a < NALPHAS; a++)
	{
		char	   *want = build(a);
		int			same = want != NULL;

		for (int t = 0; t < NTHREADS; t++)
		{
			same = same && w[t].text[a] != NULL && strcmp(w[t].text[a], want) == 0;
			free(w[t].text[a]);
		}
		unit_report(same, "alpha %g: %d threads built the serial sketch",
					alphas[a], NTHREADS);
		free(want);
	}
	return UNIT_DONE("sketch_threads_test");
}
