/*
 * sketch_core_test.c
 *		Unit tests of the sketch core, without a server: accuracy against the
 *		exact order statistic, merge identity, encodings round trip, exact sum,
 *		collapsing, and the decoders on mutated input.
 *
 * Prints "ok N - what" / "not ok N - what" lines and a final
 * "sketch_core_test: N passed, N failed" line (tests/unit/unit.h); exits 1
 * if anything failed.  Built by tests/unit/unit.mk, run by
 * tests/suites/sketch_core.sh.
 */
#include "sketch.h"
#include "unit.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
check(int ok, const char *what)
{
	unit_report(ok, "%s", what);
}

static void *
test_alloc(size_t size, void *ctx)
{
	(void) ctx;
	return malloc(size);
}

static void
test_free(void *p, void *ctx)
{
	(void) ctx;
	free(p);
}

static const sketch_allocator A = {test_alloc, test_free, NULL};

/* xorshift for reproducible data */
static uint64_t rng_state = 88172645463325252ULL;

static double
urand(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (double) (rng_state >> 11) / 9007199254740992.0;
}

static double
nrand(void)
{
	double		u = urand(),
				v = urand();

	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2.0 * log(u)) * cos(2 * M_PI * v);
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : x > y;
}

/* exact percentile_disc */
static double
exact_q(const double *sorted, size_t n, double q)
{
	double		r = ceil(q * (double) n);
	size_t		rank = r < 1 ? 1 : (size_t) r;

	return sorted[rank - 1];
}

static const double QS[] = {0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1};

static int
accuracy(const char *name, double *v, size_t n, double alpha)
{
	struct sketch *s = sketch_create(&A, alpha);
	double	   *sorted = malloc(sizeof(double) * n);
	int			ok = 1;

	for (size_t i = 0; i < n; i++)
		if (sketch_add(&s, v[i], &A) != SKETCH_OK)
			ok = 0;
	memcpy(sorted, v, sizeof(double) * n);
	qsort(sorted, n, sizeof(double), cmp_double);
	for (size_t i = 0; i < sizeof(QS) / sizeof(QS[0]); i++)
	{
		double		e = exact_q(sorted, n, QS[i]);
		double		g = sketch_quantile(s, QS[i]);

		if (fabs(g - e) > alpha * fabs(e))
		{
			printf("# %s alpha %g q %g: got %.17g exact %.17g\n", name, alpha,
				   QS[i], g, e);
			ok = 0;
		}
	}
	if (sketch_quantile(s, 0) != sorted[0] || sketch_quantile(s, 1) != sorted[n - 1])
		ok = 0;
	free(sorted);
	free(s);
	return ok;
}

static char *
to_text(struct sketch *s)
{
	char	   *t = malloc(sketch_text_size(s));

	sketch_to_text(s, t);
	return t;
}

/* ---- recording in threads, as perfdriver does ---- */

#define NTHREADS 4
#define PER_THREAD 250000

typedef struct thread_arg
{
	int			id;
	struct sketch *s;
} thread_arg;

static double
thread_value(int id, int i)
{
	/* deterministic per (thread, i), a lognormal-ish latency in ms */
	uint64_t	x = (uint64_t) id * 1000003u + (uint64_t) i * 2654435761u;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 32;
	return 0.1 * exp(6.0 * (double) (x >> 11) / 9007199254740992.0);
}

static void *
thread_main(void *p)
{
	thread_arg *arg = p;

	for (int i = 0; i < PER_THREAD; i++)
		sketch_add(&arg->s, thread_value(arg->id, i), &A);
	return NULL;
}

static void
test_threads(void)
{
	pthread_t	th[NTHREADS];
	thread_arg	args[NTHREADS];
	struct sketch *merged = sketch_create(&A, 0.01);
	struct sketch *serial = sketch_create(&A, 0.01);
	char	   *t1,
			   *t2;

	sketch_prepare_alpha(0.01);
	for (int t = 0; t < NTHREADS; t++)
	{
		args[t].id = t;
		args[t].s = sketch_create(&A, 0.01);
		pthread_create(&th[t], NULL, thread_main, &args[t]);
	}
	for (int t = 0; t < NTHREADS; t++)
	{
		pthread_join(th[t], NULL);
		sketch_merge(&merged, args[t].s, &A);
		free(args[t].s);
	}
	for (int t = NTHREADS - 1; t >= 0; t--)
		for (int i = 0; i < PER_THREAD; i++)
			sketch_add(&serial, thread_value(t, i), &A);
	t1 = to_text(merged);
	t2 = to_text(serial);
	check(strcmp(t1, t2) == 0 && merged->count == (uint64_t) NTHREADS * PER_THREAD,
		  "sketches recorded in 4 threads merge into the serial sketch");
	free(t1);
	free(t2);
	free(merged);
	free(serial);
}

/* ---- size of a latency sketch ---- */

static void
test_size(void)
{
	struct sketch *s = sketch_create(&A, 0.01);
	uint8_t    *buf;
	size_t		len;
	char		what[128];

	/* 1M lognormal latencies: median 5 ms, sigma 1 (3+ orders of magnitude) */
	for (int i = 0; i < 1000000; i++)
		sketch_add(&s, exp(log(5.0) + nrand()), &A);
	buf = malloc(sketch_packed_size(s));
	len = sketch_pack(s, buf);
	snprintf(what, sizeof(what),
			 "1M lognormal latencies pack into %zu bytes (< 2048)", len);
	check(len < 2048, what);
	free(buf);
	free(s);
}

/* ---- a rising floor: many collapses, amortised ---- */

static long counted_allocs;

static void *
counting_alloc(size_t size, void *ctx)
{
	(void) ctx;
	counted_allocs++;
	return malloc(size);
}

static const sketch_allocator CA = {counting_alloc, test_free, NULL};

#define FLOOR_N 60000

/*
 * Value i of a stream whose magnitude grows steadily over hundreds of powers
 * of two, so with a small budget the collapse floor rises every few values.
 * Every third value lands a random distance below the top, some of them
 * under the floor (they must fold) and some in the window above it.
 */
static double
rising_value(int i)
{
	double		top = exp(i * 0.011 - 300.0);
	double		v = (i % 3 == 2) ? top * exp2(-4.5 * urand()) : top;

	return (i % 4 == 1) ? -v : v;
}

static int
sketch_from_unpacked(struct sketch *s, struct sketch **out)
{
	uint8_t    *buf = malloc(sketch_packed_size(s));
	size_t		len = sketch_pack(s, buf);
	char		err[128];
	int			ok = sketch_unpack(buf, len, out, &A, err, sizeof(err)) == SKETCH_OK;

	free(buf);
	return ok;
}

static void
floor_moves(void)
{
	double	   *v = malloc(sizeof(double) * FLOOR_N);
	struct sketch *s = sketch_create(&CA, 0.01);
	struct sketch *rev = sketch_create(&A, 0.01);
	struct sketch *half1 = sketch_create(&A, 0.01);
	struct sketch *half2 = sketch_create(&A, 0.01);
	struct sketch *merged = sketch_create(&A, 0.01);
	struct sketch *resumed = NULL;
	int32_t		last_floor = INT32_MIN;
	long		moves = 0;
	long		broken = 0;
	const char *why = NULL;
	char	   *t,
			   *t2;
	int			ok = 0;

	sketch_set_max_buckets(s, 64);
	sketch_set_max_buckets(rev, 64);
	sketch_set_max_buckets(half1, 64);
	sketch_set_max_buckets(half2, 64);
	sketch_set_max_buckets(merged, 64);
	counted_allocs = 0;
	for (int i = 0; i < FLOOR_N; i++)
	{
		const char *w;

		v[i] = rising_value(i);
		sketch_add(&s, v[i], &CA);
		sketch_add(i < FLOOR_N / 2 ? &half1 : &half2, v[i], &A);
		if ((w = sketch_invariant_violation(s)) != NULL)
		{
			broken++;
			why = w;
		}
		if (s->pos.collapsed > 0 && s->pos.hi - (int32_t) s->max_buckets + 1 != last_floor)
		{
			last_floor = s->pos.hi - (int32_t) s->max_buckets + 1;
			moves++;
		}
		if (i == FLOOR_N / 2 - 1)
			ok = sketch_from_unpacked(s, &resumed);
	}
	if (why)
		printf("# %s\n", why);
	check(broken == 0, "invariants hold after every value while the floor rises");
	printf("# %ld floor moves, %ld allocations\n", moves, counted_allocs);
	check(moves > 5000, "the stream moves the collapse floor thousands of times");
	check(counted_allocs < 64,
		  "raising the floor does not reallocate the sketch each time");
	check(sketch_collapsed(s) > FLOOR_N / 2 && s->count == FLOOR_N,
		  "most values folded, none lost");

	/* the same values largest first: the floor is placed once */
	for (int i = FLOOR_N - 1; i >= 0; i--)
		sketch_add(&rev, v[i], &A);
	t = to_text(s);
	t2 = to_text(rev);
	check(strcmp(t, t2) == 0, "a rising floor gives the sketch of the reversed input");
	free(t2);

	sketch_merge(&merged, half2, &A);
	sketch_merge(&merged, half1, &A);
	t2 = to_text(merged);
	check(strcmp(t, t2) == 0 && sketch_invariant_violation(merged) == NULL,
		  "a rising floor merges identically");
	free(t2);

	/* an unpacked sketch (window anchored exactly) keeps rising correctly */
	for (int i = FLOOR_N / 2; ok && i < FLOOR_N; i++)
		ok = sketch_add(&resumed, v[i], &A) == SKETCH_OK &&
			sketch_invariant_violation(resumed) == NULL;
	t2 = ok ? to_text(resumed) : NULL;
	check(ok && strcmp(t, t2) == 0, "an unpacked collapsed sketch continues identically");
	free(t2);

	/*
	 * Values that widen the range on alternate sides: the window follows the
	 * span (shifting in place when it can) instead of doubling on every
	 * change of side.
	 */
	{
		struct sketch *alt = sketch_create(&CA, 0.01);
		struct sketch *sorted = sketch_create(&A, 0.01);
		long		allocs_before = counted_allocs;
		int32_t		worst = 0;
		int			alt_ok = 1;

		for (int k = 0; k < 400; k++)
		{
			double		x = exp2((k % 2 ? 1 : -1) * (k / 2) / 30.0);
			int32_t		span;

			alt_ok &= sketch_add(&alt, x, &CA) == SKETCH_OK &&
				sketch_invariant_violation(alt) == NULL;
			span = alt->pos.hi - alt->pos.lo + 1;
			if (alt->pos.cap - 2 * span > worst)
				worst = alt->pos.cap - 2 * span;
		}
		for (int k = 398; k >= 0; k -= 2)
			sketch_add(&sorted, exp2(-(k / 2) / 30.0), &A);
		for (int k = 1; k < 400; k += 2)
			sketch_add(&sorted, exp2((k / 2) / 30.0), &A);
		t2 = to_text(alt);
		free(t);
		t = to_text(sorted);
		printf("# alternate sides: %ld allocations, window - 2 * span at most %d\n",
			   counted_allocs - allocs_before, (int) worst);
		check(alt_ok && worst <= 64 && counted_allocs - allocs_before <= 8,
			  "a range widening on alternate sides keeps a window near its span");
		check(strcmp(t, t2) == 0, "and gives the sketch of the sorted input");
		free(t2);
		free(alt);
		free(sorted);
	}
	free(t);
	free(v);
	free(s);
	free(rev);
	free(half1);
	free(half2);
	free(merged);
	free(resumed);
}

/* ---- sparse and dense stores ---- */

static int
same_text(struct sketch *a, struct sketch *b)
{
	char	   *ta = to_text(a);
	char	   *tb = to_text(b);
	int			same = strcmp(ta, tb) == 0;

	if (!same)
		printf("# %.200s\n# %.200s\n", ta, tb);
	free(ta);
	free(tb);
	return same;
}

static int
same_packed(struct sketch *a, struct sketch *b)
{
	uint8_t    *pa = malloc(sketch_packed_size(a));
	uint8_t    *pb = malloc(sketch_packed_size(b));
	size_t		la = sketch_pack(a, pa);
	size_t		lb = sketch_pack(b, pb);
	int			same = la == lb && memcmp(pa, pb, la) == 0;

	free(pa);
	free(pb);
	return same;
}

/* A copy of s through the packed form (sparse again when small). */
static struct sketch *
repacked(struct sketch *s)
{
	struct sketch *out = NULL;

	if (!sketch_from_unpacked(s, &out))
		return NULL;
	return out;
}

static void
test_sparse(void)
{
	struct sketch *small = sketch_create(&CA, 0.01);
	struct sketch *big = sketch_create(&A, 0.01);
	struct sketch *all = sketch_create(&A, 0.01);
	struct sketch *m1 = sketch_create(&A, 0.01);
	struct sketch *m2;
	struct sketch *back;
	double		vals[50];
	long		allocs_before;
	int			ok = 1;

	/* 50 lognormal latencies: one 512-byte block, no growth */
	counted_allocs = 0;
	allocs_before = counted_allocs;
	for (int i = 0; i < 50; i++)
	{
		vals[i] = exp(1.5 + 0.8 * nrand());
		ok &= sketch_add(&small, vals[i], &CA) == SKETCH_OK;
		ok &= sketch_add(&all, vals[i], &A) == SKETCH_OK;
	}
	check(ok && small->pos.sparse_cap > 0 && small->pos.cap == 0 &&
		  small->size <= 512 && counted_allocs == allocs_before,
		  "a sketch of 50 latencies stays sparse in its first 512-byte block");
	check(sketch_invariant_violation(small) == NULL &&
		  sketch_layout_violation(small, small->size) == NULL,
		  "a sparse sketch passes the invariant and layout checks");

	/* accuracy is the same: the quantiles of the sorted values */
	{
		double		sorted[50];

		memcpy(sorted, vals, sizeof(sorted));
		qsort(sorted, 50, sizeof(double), cmp_double);
		ok = 1;
		for (size_t i = 0; i < sizeof(QS) / sizeof(QS[0]); i++)
		{
			double		e = exact_q(sorted, 50, QS[i]);

			ok &= fabs(sketch_quantile(small, QS[i]) - e) <= 0.01 * e;
		}
		check(ok, "a sparse sketch keeps the relative error guarantee");
	}

	/* many distinct values: dense, and the same sketch as built any way */
	for (int i = 0; i < 100000; i++)
	{
		double		x = exp(1.5 + 1.2 * nrand());

		sketch_add(&big, x, &A);
		sketch_add(&all, x, &A);
	}
	check(big->pos.cap > 0 && big->pos.sparse_cap == 0 &&
		  sketch_invariant_violation(big) == NULL,
		  "a sketch with hundreds of distinct buckets turns dense");

	/* merge identity across representations, both ways and through packing */
	m2 = sketch_copy(small, &A);
	sketch_merge(&m1, big, &A);
	sketch_merge(&m1, small, &A);
	sketch_merge(&m2, big, &A);
	check(same_text(m1, all) && same_text(m2, all) && same_packed(m2, all),
		  "sparse into dense and dense into sparse merge to the sketch of the union");
	free(m2);
	back = repacked(small);
	check(back != NULL && back->pos.sparse_cap > 0 && same_text(back, small) &&
		  same_packed(back, small),
		  "a small sketch decodes sparse and re-encodes to the same bytes");
	m2 = sketch_create(&A, 0.01);
	sketch_merge(&m2, back, &A);
	free(back);
	back = repacked(big);
	sketch_merge(&m2, back, &A);
	check(back->pos.cap > 0 && same_packed(m2, all),
		  "decoded sparse and dense sketches merge identically");
	free(back);
	free(m2);

	/* counts beyond 16 bits in one bucket: dense, nothing lost */
	{
		struct sketch *c = sketch_create(&A, 0.01);
		struct sketch *h1 = sketch_create(&A, 0.01);
		struct sketch *h2 = sketch_create(&A, 0.01);

		for (int i = 0; i < 70000; i++)
		{
			sketch_add(&c, 2.0, &A);
			sketch_add(i % 2 ? &h1 : &h2, 2.0, &A);
		}
		check(h1->pos.sparse_cap > 0 && c->pos.cap > 0 && c->count == 70000 &&
			  sketch_invariant_violation(c) == NULL,
			  "a bucket count past 65535 turns the store dense");
		sketch_merge(&h1, h2, &A);
		check(h1->pos.cap > 0 && same_packed(h1, c),
			  "merging two sparse halves past 65535 gives the dense sketch");
		free(c);
		free(h1);
		free(h2);
	}

	/* negative values and zeros, sparse on both sides, any order */
	{
		struct sketch *f = sketch_create(&A, 0.01);
		struct sketch *r = sketch_create(&A, 0.01);
		double		x[40];

		for (int i = 0; i < 40; i++)
			x[i] = i % 7 == 0 ? 0.0 : (i % 3 == 0 ? -1 : 1) * exp(nrand() * 3);
		for (int i = 0; i < 40; i++)
			sketch_add(&f, x[i], &A);
		for (int i = 39; i >= 0; i--)
			sketch_add(&r, x[i], &A);
		check(f->neg.sparse_cap > 0 && f->pos.sparse_cap > 0 && same_packed(f, r) &&
			  sketch_invariant_violation(f) == NULL,
			  "mixed signs stay sparse on both sides and ignore the order");
		free(f);
		free(r);
	}

	/* keys further apart than 16 bits of delta: dense (with a wide budget) */
	{
		struct sketch *w = sketch_create(&A, 0.01);
		struct sketch *wr = sketch_create(&A, 0.01);
		static const double wide[] = {1e-300, 1.0, 1e300, 3.0, 1e-200};

		sketch_set_max_buckets(w, 1 << 18);
		sketch_set_max_buckets(wr, 1 << 18);
		for (int i = 0; i < 5; i++)
			sketch_add(&w, wide[i], &A);
		for (int i = 4; i >= 0; i--)
			sketch_add(&wr, wide[i], &A);
		check(w->pos.cap > 0 && sketch_collapsed(w) == 0 && same_packed(w, wr) &&
			  sketch_quantile(w, 0.5) > 0.99 && sketch_quantile(w, 0.5) < 1.01,
			  "keys 70000 buckets apart turn the store dense without collapsing");
		free(w);
		free(wr);
	}

	/* a collapsed source merged into a sparse sketch */
	{
		struct sketch *col = sketch_create(&A, 0.01);
		struct sketch *sp = sketch_create(&A, 0.01);
		struct sketch *u = sketch_create(&A, 0.01);

		sketch_set_max_buckets(col, 64);
		sketch_set_max_buckets(sp, 64);
		sketch_set_max_buckets(u, 64);
		for (int i = 0; i < 200; i++)
		{
			double		x = exp2(i / 10.0);

			sketch_add(&col, x, &A);
			sketch_add(&u, x, &A);
		}
		sketch_add(&sp, 500.0, &A);
		sketch_add(&u, 500.0, &A);
		sketch_merge(&sp, col, &A);
		check(sketch_collapsed(col) > 0 && same_packed(sp, u) &&
			  sketch_invariant_violation(sp) == NULL,
			  "a collapsed sketch merges into a sparse one identically");
		free(col);
		free(sp);
		free(u);
	}

	/* the layout check refuses a corrupt sparse store */
	{
		struct sketch *bad = sketch_copy(small, &A);
		struct sketch_sparse_entry *e =
			(struct sketch_sparse_entry *) ((char *) bad + bad->pos.data);
		struct sketch_sparse_entry t = e[0];

		e[0] = e[1];
		e[1] = t;
		check(sketch_layout_violation(bad, bad->size) != NULL,
			  "entries out of order are refused by the layout check");
		bad->pos.nsparse = bad->pos.sparse_cap + 2;
		check(sketch_layout_violation(bad, bad->size) != NULL,
			  "more entries than capacity are refused by the layout check");
		free(bad);
	}
	free(small);
	free(big);
	free(all);
	free(m1);
}

int
main(void)
{
	size_t		n = 200000;
	double	   *v = malloc(sizeof(double) * n);
	char		err[256];
	static const double alphas[] = {0.01, 0.001};

	for (int ai = 0; ai < 2; ai++)
	{
		double		alpha = alphas[ai];
		char		what[128];

#define DATASET(label, expr) \
		do { \
			for (size_t i = 0; i < n; i++) \
				v[i] = (expr); \
			snprintf(what, sizeof(what), "accuracy %s alpha %g", label, alpha); \
			check(accuracy(label, v, n, alpha), what); \
		} while (0)

		DATASET("uniform", urand() * 1000.0);
		DATASET("lognormal", exp(nrand() * 1.0 + 1.5));
		DATASET("pareto", pow(urand() + 1e-12, -1.0 / 1.5));
		DATASET("bimodal", urand() < 0.7 ? 1.0 + nrand() * 0.1 : 100.0 + nrand() * 5.0);
		DATASET("constant", 1.0);
		DATASET("all-negative", -exp(nrand()));
		DATASET("mixed-sign-zeros", urand() < 0.2 ? 0.0 : (urand() < 0.5 ? -1 : 1) * exp(nrand() * 2));
		DATASET("tiny", 1e-9 * exp(nrand() * 0.5));
		DATASET("huge", 1e12 * exp(nrand() * 0.5));
		DATASET("subnormal", 4.9e-324 * (1 + floor(urand() * 1000)));
	}

	/* constant answers exactly */
	{
		struct sketch *s = sketch_create(&A, 0.01);

		for (int i = 0; i < 1000; i++)
			sketch_add(&s, 1.0, &A);
		check(sketch_quantile(s, 0.5) == 1.0 && sketch_quantile(s, 0.99) == 1.0,
			  "constant 1.0 answers exactly 1.0");
		free(s);
	}

	/* merge identity and round trips */
	{
		struct sketch *all = sketch_create(&A, 0.01);
		struct sketch *parts[7];
		struct sketch *merged = sketch_create(&A, 0.01);
		struct sketch *merged2 = sketch_create(&A, 0.01);
		char	   *t1,
				   *t2,
				   *t3;
		uint8_t    *b1;
		size_t		len;
		struct sketch *back = NULL;
		sketch_error e;

		for (int p = 0; p < 7; p++)
			parts[p] = sketch_create(&A, 0.01);
		for (size_t i = 0; i < n; i++)
		{
			double		x = (urand() < 0.1 ? -1 : 1) * exp(nrand() * 3) * (urand() < 0.05 ? 0 : 1);

			sketch_add(&all, x, &A);
			sketch_add(&parts[i % 7], x, &A);
		}
		for (int p = 0; p < 7; p++)
			sketch_merge(&merged, parts[p], &A);
		for (int p = 6; p >= 0; p--)
			sketch_merge(&merged2, parts[p], &A);
		t1 = to_text(all);
		t2 = to_text(merged);
		t3 = to_text(merged2);
		check(strcmp(t1, t2) == 0 && strcmp(t1, t3) == 0,
			  "merged parts give the identical text form in any order");
		if (strcmp(t1, t2) != 0)
			printf("# all:    %.300s\n# merged: %.300s\n", t1, t2);

		e = sketch_from_text(t1, &back, &A, err, sizeof(err));
		check(e == SKETCH_OK, "text form parses");
		if (e != SKETCH_OK)
			printf("# %s\n", err);
		else
		{
			char	   *t4 = to_text(back);

			check(strcmp(t1, t4) == 0, "text form round trips exactly");
			free(t4);
			free(back);
		}
		b1 = malloc(sketch_packed_size(all));
		len = sketch_pack(all, b1);
		back = NULL;
		e = sketch_unpack(b1, len, &back, &A, err, sizeof(err));
		check(e == SKETCH_OK, "packed form decodes");
		if (e != SKETCH_OK)
			printf("# %s\n", err);
		else
		{
			char	   *t4 = to_text(back);

			check(strcmp(t1, t4) == 0, "packed form round trips exactly");
			free(t4);
			free(back);
		}
		printf("# packed size of a mixed-sign sketch: %zu bytes\n", len);

		/* mutations: every decoder survives and mostly rejects */
		{
			int			survived = 1;
			int			accepted = 0;
			uint8_t    *m = malloc(len + 16);

			for (int iter = 0; iter < 20000; iter++)
			{
				size_t		mlen = len;
				int			kind = iter % 4;

				memcpy(m, b1, len);
				if (kind == 0)
					m[(size_t) (urand() * len)] ^= (uint8_t) (1 + urand() * 255);
				else if (kind == 1)
					mlen = (size_t) (urand() * len);
				else if (kind == 2)
				{
					for (int k = 0; k < 4; k++)
						m[(size_t) (urand() * len)] = (uint8_t) (urand() * 256);
				}
				else
				{
					size_t		at = (size_t) (urand() * len);

					m[at] = 0xff;
				}
				back = NULL;
				if (sketch_unpack(m, mlen, &back, &A, err, sizeof(err)) == SKETCH_OK)
				{
					accepted++;
					/* an accepted sketch must be usable */
					(void) sketch_quantile(back, 0.5);
					free(back);
				}
			}
			check(survived, "20000 mutated packed sketches decoded without a crash");
			printf("# mutated packed inputs accepted: %d of 20000\n", accepted);
			free(m);
		}
		{
			size_t		tl = strlen(t1);
			char	   *m = malloc(tl + 1);
			int			accepted = 0;

			for (int iter = 0; iter < 5000; iter++)
			{
				memcpy(m, t1, tl + 1);
				if (iter % 2)
					m[(size_t) (urand() * tl)] = "0123456789,:{}[]\"-x"[(int) (urand() * 19)];
				else
					m[(size_t) (urand() * tl)] = '\0';
				back = NULL;
				if (sketch_from_text(m, &back, &A, err, sizeof(err)) == SKETCH_OK)
				{
					accepted++;
					free(back);
				}
			}
			check(1, "5000 mutated text sketches parsed without a crash");
			printf("# mutated text inputs accepted: %d of 5000\n", accepted);
			free(m);
		}
		free(t1);
		free(t2);
		free(t3);
		free(b1);
		free(all);
		free(merged);
		free(merged2);
		for (int p = 0; p < 7; p++)
			free(parts[p]);
	}

	/* exact sum: 1e16 + 1 - 1e16 style cancellation, and 0.1 * 10 */
	{
		struct sketch *s = sketch_create(&A, 0.01);
		sketch_error e;

		sketch_add(&s, 1e16, &A);
		for (int i = 0; i < 1000; i++)
			sketch_add(&s, 1.0, &A);
		sketch_add(&s, -1e16, &A);
		check(sketch_sum_value(s, &e) == 1000.0, "exact sum survives cancellation");
		free(s);
		s = sketch_create(&A, 0.01);
		for (int i = 0; i < 10; i++)
			sketch_add(&s, 0.1, &A);
		/* the exact sum of ten copies of the double 0.1, rounded once */
		check(sketch_sum_value(s, &e) == 1.0000000000000000555 &&
			  fabs(sketch_sum_value(s, &e) - 1.0) < 1e-15,
			  "sum of ten 0.1 is correctly rounded");
		free(s);
	}

	/* collapsing: a span wider than max_buckets */
	{
		struct sketch *s = sketch_create(&A, 0.0001);
		struct sketch *p1 = sketch_create(&A, 0.0001);
		struct sketch *p2 = sketch_create(&A, 0.0001);
		struct sketch *m = sketch_create(&A, 0.0001);
		char	   *t1,
				   *t2;
		double		sorted_hi;

		sketch_set_max_buckets(s, 8192);
		sketch_set_max_buckets(p1, 8192);
		sketch_set_max_buckets(p2, 8192);
		sketch_set_max_buckets(m, 8192);
		for (size_t i = 0; i < n; i++)
		{
			double		x = exp(nrand() * 0.5);

			v[i] = x;
			sketch_add(&s, x, &A);
			sketch_add(i % 2 ? &p1 : &p2, x, &A);
		}
		sketch_merge(&m, p2, &A);
		sketch_merge(&m, p1, &A);
		check(sketch_collapsed(s) > 0, "a wide span collapses low buckets");
		t1 = to_text(s);
		t2 = to_text(m);
		check(strcmp(t1, t2) == 0, "collapsed sketches still merge identically");
		qsort(v, n, sizeof(double), cmp_double);
		sorted_hi = exact_q(v, n, 0.99);
		check(fabs(sketch_quantile(s, 0.99) - sorted_hi) <= 0.0001 * sorted_hi,
			  "p99 keeps the guarantee after collapsing");
		free(t1);
		free(t2);
		free(s);
		free(p1);
		free(p2);
		free(m);
	}

	floor_moves();
	test_sparse();

	/* errors */
	{
		struct sketch *s = sketch_create(&A, 0.01);
		struct sketch *o = sketch_create(&A, 0.02);

		check(sketch_add(&s, NAN, &A) == SKETCH_ENOTFINITE, "NaN rejected");
		check(sketch_add(&s, INFINITY, &A) == SKETCH_ENOTFINITE, "Infinity rejected");
		check(sketch_create(&A, 0.5) == NULL, "alpha 0.5 rejected");
		sketch_add(&o, 1.0, &A);
		check(sketch_merge(&s, o, &A) == SKETCH_EMISMATCH, "different alpha refused");
		free(s);
		free(o);
	}

	test_threads();
	test_size();

	free(v);
	return UNIT_DONE("sketch_core_test");
}
