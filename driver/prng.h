/*
 * prng.h
 *		pgbench's pseudo-random generator: xoroshiro128** with splitmix64
 *		seeding (PostgreSQL's pg_prng), its draws and permute().
 *
 * Owns: the generator's algorithm and the distributions of pgbench 15's
 * random functions; see prng.c.
 *
 * Must not: hold state outside a struct pgb_prng, talk to libpq or print.
 *
 * Memory: none allocated.  A struct pgb_prng belongs to one client (or one
 * thread) and is not shared; copying it saves and restores a sequence.
 */
#ifndef PERFDRIVER_PRNG_H
#define PERFDRIVER_PRNG_H

#include <math.h>
#include <stdint.h>

/* 128 bits of state.  Seeding fills them with splitmix64 from one seed. */
struct pgb_prng
{
	uint64_t	s[2];
};

/* Next value of the splitmix64 sequence at *state (advances *state). */
uint64_t	pgb_splitmix64(uint64_t *state);

/* Seed rng from one 64-bit seed, as pg_prng_seed(). */
void		pgb_prng_seed(struct pgb_prng *rng, uint64_t seed);

static inline uint64_t
pgb_prng_rotl(uint64_t x, int bits)
{
	return (x << bits) | (x >> (64 - bits));
}

/* Next 64 random bits (inline: every random() of a script draws here). */
static inline uint64_t
pgb_prng_u64(struct pgb_prng *rng)
{
	uint64_t	s0 = rng->s[0];
	uint64_t	sx = rng->s[1] ^ s0;
	uint64_t	val = pgb_prng_rotl(s0 * 5, 7) * 9;

	rng->s[0] = pgb_prng_rotl(s0, 24) ^ sx ^ (sx << 16);
	rng->s[1] = pgb_prng_rotl(sx, 37);
	return val;
}

/* Uniform double in [0, 1), 52 random bits (as pg_prng_double). */
static inline double
pgb_prng_double(struct pgb_prng *rng)
{
	uint64_t	v = pgb_prng_u64(rng);

	return ldexp((double) (v >> 12), -52);
}

/*
 * Uniform integer in [min, max] without modulo bias (shift-and-reject, as
 * pg_prng_uint64_range).  Returns min when max <= min.  max - min must
 * not overflow (random() checks this before calling).
 */
int64_t		pgb_prng_range(struct pgb_prng *rng, int64_t min, int64_t max);

/*
 * pgbench's random_exponential(min, max, param): param > 0 (the caller
 * checks); the density at max is exp(-param) of the density at min.
 */
int64_t		pgb_random_exponential(struct pgb_prng *rng, int64_t min,
								   int64_t max, double param);

/*
 * pgbench's random_gaussian(min, max, param): a normal draw cut at +-param
 * standard deviations around the middle of [min, max]; param >= 2 (the
 * caller checks).
 */
int64_t		pgb_random_gaussian(struct pgb_prng *rng, int64_t min, int64_t max,
								double param);

/*
 * pgbench's random_zipfian(min, max, s): s in [1.001, 1000] (the caller
 * checks); returns min when the range holds one value.
 */
int64_t		pgb_random_zipfian(struct pgb_prng *rng, int64_t min, int64_t max,
							   double s);

/*
 * pgb_permute: permute(val, size, seed) of pgbench 15.  Returns val's image
 * in [0, size), a bijection for a fixed size and seed; 0 when size < 2.
 */
int64_t		pgb_permute(int64_t val, int64_t size, int64_t seed);

#endif							/* PERFDRIVER_PRNG_H */
