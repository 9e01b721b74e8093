/*
 * prng.c
 *		The per-client pseudo-random generator of pgbench scripts and the
 *		random distributions and permutation built on it.
 *
 * Owns: xoroshiro128** seeded by splitmix64, bit for bit PostgreSQL's
 * pg_prng.c, so that seeded runs, permute() and the random functions give
 * pgbench's numbers; the uniform (shift-and-reject), exponential, gaussian
 * (Box-Muller) and zipfian (Devroye's rejection) draws; pgbench 15's
 * permute().
 *
 * Must not: keep any state of its own (a struct pgb_prng belongs to its
 * caller: one per client, one per thread), talk to libpq or print.
 *
 * Memory: none allocated.
 */
#include <math.h>
#include <stdint.h>

#include "prng.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

uint64_t
pgb_splitmix64(uint64_t *state)
{
	uint64_t	v = (*state += UINT64_C(0x9E3779B97F4A7C15));

	v = (v ^ (v >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	v = (v ^ (v >> 27)) * UINT64_C(0x94D049BB133111EB);
	return v ^ (v >> 31);
}

void
pgb_prng_seed(struct pgb_prng *rng, uint64_t seed)
{
	rng->s[0] = pgb_splitmix64(&seed);
	rng->s[1] = pgb_splitmix64(&seed);
	/* all-zero is a fixed point of the generator */
	if (rng->s[0] == 0 && rng->s[1] == 0)
	{
		rng->s[0] = UINT64_C(0x5851F42D4C957F2D);
		rng->s[1] = UINT64_C(0x14057B7EF767814F);
	}
}

/* Offset in [0, range], rejecting values above range after a shift. */
static uint64_t
prng_offset(struct pgb_prng *rng, uint64_t range)
{
	uint64_t	v;
	int			shift;

	if (range == 0)
		return 0;
	shift = __builtin_clzll(range);
	do
	{
		v = pgb_prng_u64(rng) >> shift;
	} while (v > range);
	return v;
}

int64_t
pgb_prng_range(struct pgb_prng *rng, int64_t min, int64_t max)
{
	if (max <= min)
		return min;
	return (int64_t) ((uint64_t) min +
					  prng_offset(rng, (uint64_t) max - (uint64_t) min));
}

/* Box-Muller, one normal deviate with mean 0 and stddev 1. */
static double
prng_normal(struct pgb_prng *rng)
{
	double		u1 = 1.0 - pgb_prng_double(rng);
	double		u2 = 1.0 - pgb_prng_double(rng);

	return sqrt(-2.0 * log(u1)) * sin(2.0 * M_PI * u2);
}

/* exponential distribution on [min, max]: the density at max is exp(-param) */
int64_t
pgb_random_exponential(struct pgb_prng *rng, int64_t min, int64_t max,
						double param)
{
	double		cut = exp(-param);
	double		uniform = 1.0 - pgb_prng_double(rng);
	double		r = -log(cut + (1.0 - cut) * uniform) / param;

	return min + (int64_t) ((double) (max - min + 1) * r);
}

/* gaussian on [min, max], cut at +-param standard deviations */
int64_t
pgb_random_gaussian(struct pgb_prng *rng, int64_t min, int64_t max,
					 double param)
{
	double		stdev;
	double		r;

	do
	{
		stdev = prng_normal(rng);
	} while (stdev < -param || stdev >= param);
	r = (stdev + param) / (param * 2.0);
	return min + (int64_t) ((double) (max - min + 1) * r);
}

/*
 * zipfian on [min, max] with parameter s > 1: Devroye's rejection method
 * ("Non-Uniform Random Variate Generation", p. 550), as pgbench.
 */
int64_t
pgb_random_zipfian(struct pgb_prng *rng, int64_t min, int64_t max, double s)
{
	int64_t		n = max - min + 1;
	double		b = pow(2.0, s - 1.0);
	double		x;

	if (n <= 1)
		return min;
	for (;;)
	{
		double		u = pgb_prng_double(rng);
		double		v = pgb_prng_double(rng);
		double		t;

		x = floor(pow(u, -1.0 / (s - 1.0)));
		t = pow(1.0 + 1.0 / x, s - 1.0);
		if (v * x * (t - 1.0) / (b - 1.0) <= t / b && x <= (double) n)
			break;
	}
	return min - 1 + (int64_t) x;
}

/*
 * pgb_permute: pgbench's pseudorandom permutation of [0, size).  Six rounds
 * of bijections seeded from seed: on the low and on the high part of the
 * range (overlapping windows the size of the largest power of two <= size),
 * multiply by a random odd number, xor, and rotate by one bit; then add a
 * random offset modulo size.  Each step is a bijection, so the whole is.
 */
int64_t
pgb_permute(int64_t val, int64_t isize, int64_t seed)
{
	struct pgb_prng rng;
	uint64_t	size;
	uint64_t	v;
	uint64_t	mask;
	int			masklen;

	if (isize < 2)
		return 0;
	pgb_prng_seed(&rng, (uint64_t) seed);
	size = (uint64_t) isize;
	v = (uint64_t) val % size;
	masklen = 63 - __builtin_clzll(size);
	mask = (UINT64_C(1) << masklen) - 1;

	for (int round = 0; round < 6; round++)
	{
		uint64_t	m,
					r,
					t;

		m = (pgb_prng_u64(&rng) & mask) | 1;
		r = pgb_prng_u64(&rng) & mask;
		if (v <= mask)
		{
			v = ((v * m) ^ r) & mask;
			v = ((v << 1) & mask) | (v >> (masklen - 1));
		}

		m = (pgb_prng_u64(&rng) & mask) | 1;
		r = pgb_prng_u64(&rng) & mask;
		t = size - 1 - v;
		if (t <= mask)
		{
			t = ((t * m) ^ r) & mask;
			t = ((t << 1) & mask) | (t >> (masklen - 1));
			v = size - 1 - t;
		}

		r = prng_offset(&rng, size - 1);
		v = (v + r) % size;
	}
	return (int64_t) v;
}

