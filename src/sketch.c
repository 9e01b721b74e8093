/*
 * sketch.c
 *		Core of the relative-error quantile sketch: bucket mapping, the
 *		block's layout, the exact sum, the stores, adding, merging and
 *		reading, and building a sketch from what a decoder read.  The packed
 *		form is sketch_packed.c, the text form sketch_text.c; what they share
 *		with this file is in sketch_int.h.
 *
 * Owns: the bucket mapping and its process-wide cache, the dense-magic
 * block (struct sketch) and every change to it, the invariants
 * (sketch_invariant_violation(), checked after every change when built with
 * -DSKETCH_CHECK_INVARIANTS) and the validation of decoded content
 * (sketch_decoded_build()).
 *
 * Must not: include PostgreSQL headers (perfdriver links this file too);
 * move sketch_add()'s path or its helpers into another file (the add path
 * is the hot path of every aggregate: its helpers are static and inlined).
 *
 * Memory: all of it comes from the caller's sketch_allocator; nothing is
 * kept between calls except the cache of bucket mappings (static storage).
 *
 * The mapping cache is safe for threads without pthread (the server build
 * has none): a slot is filled once, under a spin flag taken only to build,
 * and published with a release store; readers use acquire loads, plain
 * loads on x86, so the hot path costs what it did.  A published slot never
 * changes: when all slots are taken, further resolutions use the slow path,
 * which gives identical keys.
 *
 * Buckets.  For alpha, gamma = (1+alpha)/(1-alpha).  We use per_octave =
 * ceil(ln 2 / ln gamma) buckets per power of two, so the effective gamma
 * 2^(1/per_octave) is never larger than the requested one and the relative
 * error guarantee holds.  Key k covers [2^(k/per_octave), 2^((k+1)/per_octave))
 * and is computed without log(): the exponent bits give the octave and a
 * small table over the top mantissa bits gives the bucket inside it, with one
 * comparison against the single bucket boundary a table cell can hold.
 *
 * Collapsing.  A store keeps at most max_buckets consecutive keys.  When the
 * keys of one sign span more, every key below hi - max_buckets + 1 (the
 * "floor") is folded into one "collapsed" count.  The floor depends only on
 * the highest key and on whether any collapse happened, so adding and merging
 * in any order give identical sketches.  Raising the floor is amortised O(1):
 * a collapsed store's window has slack above max_buckets and is shifted in
 * place only when the top outgrows it (see store_collapse()).
 *
 * Sum.  Kept exactly as a fixed-point number in 32-bit digits held in int64
 * chunks (bit 0 is 2^-1074), with carries propagated lazily.
 */
#include "sketch_int.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUM_PENDING_LIMIT		(1u << 30)
#define MAPPING_SLOTS			8
#define MAPPING_MAX_CELLS		8192

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
/* for the rare paths of sketch_add(): keeps its own code small and fast */
#define SKETCH_NOINLINE __attribute__((noinline, cold))

/* ----------------------------------------------------------------
 * Bucket mapping
 * ----------------------------------------------------------------
 */

typedef struct sketch_mapping
{
	int32_t		per_octave;
	int			cell_bits;
	uint16_t   *base;			/* bucket index in the octave at cell start */
	double	   *bound;			/* mantissa at which base+1 starts */
} sketch_mapping;

static sketch_mapping mapping_slots[MAPPING_SLOTS];
static uint16_t mapping_base[MAPPING_SLOTS][MAPPING_MAX_CELLS];
static double mapping_bound[MAPPING_SLOTS][MAPPING_MAX_CELLS];
static int	mapping_used;		/* published slots; atomic */
static const sketch_mapping *mapping_last;	/* atomic */
static bool mapping_building;	/* spin flag of the build path */

static int32_t
per_octave_for(double alpha)
{
	double		gamma = (1.0 + alpha) / (1.0 - alpha);
	double		x = M_LN2 / log(gamma);

	/* Round up, leaving a margin when x is (nearly) an integer. */
	return (int32_t) ceil(x * (1.0 + 1e-9));
}

/* Lower boundary (as a mantissa in [1, 2]) of bucket j of an octave. */
static inline double
boundary(int32_t per_octave, int32_t j)
{
	if (j >= per_octave)
		return 2.0;
	return exp2((double) j / (double) per_octave);
}

/* Bucket of mantissa m in [1, 2) within its octave: largest j, B(j) <= m. */
static int32_t
octave_index_slow(int32_t per_octave, double m)
{
	int32_t		j = (int32_t) floor(log2(m) * per_octave);

	if (j < 0)
		j = 0;
	if (j > per_octave - 1)
		j = per_octave - 1;
	while (j + 1 < per_octave && m >= boundary(per_octave, j + 1))
		j++;
	while (j > 0 && m < boundary(per_octave, j))
		j--;
	return j;
}

/* The published slot for per_octave, or NULL. */
static const sketch_mapping *
mapping_find(int32_t per_octave)
{
	int			used = __atomic_load_n(&mapping_used, __ATOMIC_ACQUIRE);

	for (int i = 0; i < used; i++)
	{
		if (mapping_slots[i].per_octave == per_octave)
		{
			__atomic_store_n(&mapping_last, &mapping_slots[i], __ATOMIC_RELEASE);
			return &mapping_slots[i];
		}
	}
	return NULL;
}

/*
 * Mapping for per_octave, built on first use.  Returns NULL if every slot is
 * taken by another resolution, or the table would be too large; callers
 * then use the slow path, which gives identical keys.  Safe to call from
 * several threads at once (see the header comment).
 */
static SKETCH_NOINLINE const sketch_mapping *
mapping_get_slow(int32_t per_octave)
{
	const sketch_mapping *m;
	sketch_mapping *slot;
	int			cells;
	int			bits;

	if ((m = mapping_find(per_octave)) != NULL)
		return m;

	/* Two cells per bucket at least: a cell then holds one boundary. */
	bits = 1;
	while ((1 << bits) < 2 * per_octave)
		bits++;
	cells = 1 << bits;
	if (cells > MAPPING_MAX_CELLS)
		return NULL;

	while (__atomic_test_and_set(&mapping_building, __ATOMIC_ACQUIRE))
		;
	/* another thread may have built it meanwhile */
	if ((m = mapping_find(per_octave)) != NULL || mapping_used == MAPPING_SLOTS)
	{
		__atomic_clear(&mapping_building, __ATOMIC_RELEASE);
		return m;
	}
	slot = &mapping_slots[mapping_used];
	slot->cell_bits = bits;
	slot->base = mapping_base[mapping_used];
	slot->bound = mapping_bound[mapping_used];
	for (int c = 0; c < cells; c++)
	{
		double		start = 1.0 + (double) c / cells;
		int32_t		j = octave_index_slow(per_octave, start);

		slot->base[c] = (uint16_t) j;
		slot->bound[c] = boundary(per_octave, j + 1);
	}
	slot->per_octave = per_octave;
	__atomic_store_n(&mapping_used, mapping_used + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&mapping_last, slot, __ATOMIC_RELEASE);
	__atomic_clear(&mapping_building, __ATOMIC_RELEASE);
	return slot;
}

/* mapping_get_slow() behind the hot path: the last mapping used */
static inline const sketch_mapping *
mapping_get(int32_t per_octave)
{
	const sketch_mapping *m = __atomic_load_n(&mapping_last, __ATOMIC_ACQUIRE);

	if (likely(m != NULL && m->per_octave == per_octave))
		return m;
	return mapping_get_slow(per_octave);
}

static inline int32_t
floor_div(int32_t a, int32_t b)
{
	int32_t		q = a / b;

	if ((a % b) != 0 && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Key of a finite x > 0 for per_octave buckets per octave. */
static inline int32_t
key_of(int32_t per_octave, double x)
{
	uint64_t	bits;
	int			exp;
	const sketch_mapping *m;

	memcpy(&bits, &x, sizeof(bits));
	exp = (int) ((bits >> 52) & 0x7ff);
	m = mapping_get(per_octave);
	if (likely(exp != 0 && m != NULL))
	{
		uint64_t	mant = bits & ((UINT64_C(1) << 52) - 1);
		uint64_t	cell = mant >> (52 - m->cell_bits);
		uint64_t	sbits = mant | (UINT64_C(1023) << 52);
		double		s;

		memcpy(&s, &sbits, sizeof(s));
		return (exp - 1023) * per_octave + m->base[cell] + (s >= m->bound[cell]);
	}
	else
	{
		int			e;
		double		f = frexp(x, &e);	/* x = f * 2^e, f in [0.5, 1) */

		return (e - 1) * per_octave + octave_index_slow(per_octave, 2.0 * f);
	}
}

static inline int32_t
key_min(int32_t per_octave)
{
	return -1074 * per_octave;
}

static inline int32_t
key_max(int32_t per_octave)
{
	return 1024 * per_octave - 1;
}

void
sketch_key_bounds(const struct sketch *s, int32_t key, double *lower,
				  double *upper)
{
	int32_t		e = floor_div(key, s->per_octave);
	int32_t		j = key - e * s->per_octave;

	*lower = ldexp(boundary(s->per_octave, j), e);
	*upper = ldexp(boundary(s->per_octave, j + 1), e);
}

/* The value within alpha of every value of key's bucket (positive side). */
static double
key_value(const struct sketch *s, int32_t key)
{
	int32_t		e = floor_div(key, s->per_octave);
	int32_t		j = key - e * s->per_octave;
	double		lo = boundary(s->per_octave, j);
	double		hi = boundary(s->per_octave, j + 1);

	return ldexp(2.0 * lo * hi / (lo + hi), e);
}

static double
key_lower(const struct sketch *s, int32_t key)
{
	double		lower,
				upper;

	sketch_key_bounds(s, key, &lower, &upper);
	return lower;
}

/* ----------------------------------------------------------------
 * Layout (the accessors of the block's arrays, which the codecs use too,
 * are in sketch_int.h)
 * ----------------------------------------------------------------
 */

#define HEADER_SIZE (((sizeof(struct sketch)) + 7) & ~((size_t) 7))

static inline int32_t
store_floor(const struct sketch *s, const struct sketch_store *st)
{
	return st->collapsed > 0 ? st->hi - (int32_t) s->max_buckets + 1 : INT32_MIN;
}

const char *
sketch_strerror(sketch_error err)
{
	switch (err)
	{
		case SKETCH_OK:
			return "no error";
		case SKETCH_ENOMEM:
			return "out of memory";
		case SKETCH_ENOTFINITE:
			return "value must be finite";
		case SKETCH_EALPHA:
			return "alpha must be between 0.0001 and 0.1";
		case SKETCH_EQUANTILE:
			return "quantile must be between 0 and 1";
		case SKETCH_EMISMATCH:
			return "cannot merge sketches with different alpha or max_buckets";
		case SKETCH_ECORRUPT:
			return "malformed sketch";
		case SKETCH_EVERSION:
			return "unsupported sketch version";
		case SKETCH_ERANGE:
			return "value out of range";
		case SKETCH_ECOUNT:
			return "sketch count out of range";
	}
	return "unrecognized error";
}

sketch_error
sketch_check_alpha(double alpha)
{
	/* Written so that NaN fails too. */
	if (!(alpha >= SKETCH_MIN_ALPHA && alpha <= SKETCH_MAX_ALPHA))
		return SKETCH_EALPHA;
	return SKETCH_OK;
}

/*
 * Default bucket budget: 2048 at the default alpha, and the same dynamic range
 * (2048 buckets of alpha 0.01, about 2^58) at finer resolutions.
 */
static uint32_t
default_max_buckets(int32_t per_octave)
{
	int32_t		ref = per_octave_for(SKETCH_DEFAULT_ALPHA);
	int64_t		m = ((int64_t) SKETCH_DEFAULT_MAX_BUCKETS * per_octave + ref - 1) / ref;

	return (uint32_t) (m < SKETCH_DEFAULT_MAX_BUCKETS ? SKETCH_DEFAULT_MAX_BUCKETS : m);
}

uint32_t
sketch_default_max_buckets(double alpha)
{
	if (sketch_check_alpha(alpha) != SKETCH_OK)
		return 0;
	return default_max_buckets(per_octave_for(alpha));
}

sketch_error
sketch_set_max_buckets(struct sketch *s, uint32_t max_buckets)
{
	if (s->count != 0 || max_buckets < SKETCH_MIN_MAX_BUCKETS ||
		max_buckets > SKETCH_MAX_MAX_BUCKETS)
		return SKETCH_ECORRUPT;
	s->max_buckets = max_buckets;
	return SKETCH_OK;
}

sketch_error
sketch_prepare_alpha(double alpha)
{
	if (sketch_check_alpha(alpha) != SKETCH_OK)
		return SKETCH_EALPHA;
	(void) mapping_get(per_octave_for(alpha));
	return SKETCH_OK;
}

/*
 * The shape of one store in a layout: a dense window of cap slots from key
 * offset, or sparse_cap sparse entries relative to offset (one of the two
 * capacities is 0; both are 0 for an empty store without a form).
 */
typedef struct store_plan
{
	int32_t		offset;
	int32_t		cap;
	int32_t		sparse_cap;
} store_plan;

static inline store_plan
store_plan_of(const struct sketch_store *st)
{
	store_plan	p = {st->offset, st->cap, st->sparse_cap};

	return p;
}

static inline store_plan
store_plan_dense(int32_t offset, int32_t cap)
{
	store_plan	p = {offset, cap, 0};

	return p;
}

/* Bytes of a store's array; sparse capacities are even, keeping 8-alignment. */
static inline size_t
plan_bytes(store_plan p)
{
	return sizeof(uint64_t) * (size_t) p.cap +
		sizeof(struct sketch_sparse_entry) * (size_t) p.sparse_cap;
}

static size_t
layout_size(int nq, int32_t sum_cap, store_plan pos, store_plan neg)
{
	return HEADER_SIZE + sizeof(double) * (size_t) nq +
		sizeof(int64_t) * (size_t) sum_cap + plan_bytes(pos) + plan_bytes(neg);
}

#define INITIAL_SUM_CAP 5
#define INITIAL_SPARSE_CAP 8
#define INITIAL_BLOCK	512

/*
 * Sparse stores.  Deltas and counts are uint16; a store turns dense before
 * either would overflow, and when doubling its entries would take it past
 * SPARSE_MAX_ENTRIES, where a lookup and an insertion cost much more than a
 * dense slot (a 512-byte first block holds 76 entries, the next block 204).
 */
#define SPARSE_DELTA_MAX	UINT16_MAX
#define SPARSE_COUNT_MAX	UINT16_MAX
#define SPARSE_MAX_ENTRIES	256

/* The largest even number of sparse entries that fit in bytes. */
static inline int32_t
sparse_cap_for_bytes(size_t bytes)
{
	size_t		n = bytes / sizeof(struct sketch_sparse_entry);

	if (n > SPARSE_DELTA_MAX - 1)
		n = SPARSE_DELTA_MAX - 1;
	return (int32_t) (n & ~(size_t) 1);
}

size_t
sketch_size_empty(int nq)
{
	store_plan	pos = {0, 0, INITIAL_SPARSE_CAP};
	store_plan	none = {0, 0, 0};
	size_t		need = layout_size(nq, INITIAL_SUM_CAP, pos, none);
	size_t		size = INITIAL_BLOCK;

	while (size < need)
		size *= 2;
	return size;
}

/* Set the data offsets of s for the given shapes (after the header). */
static void
layout_assign(struct sketch *s, int nq, int32_t sum_cap, store_plan pos,
			  store_plan neg)
{
	uint32_t	off = HEADER_SIZE;

	s->nq = (uint8_t) nq;
	s->qdata = off;
	off += sizeof(double) * nq;
	s->sum.data = off;
	s->sum.cap = sum_cap;
	off += sizeof(int64_t) * sum_cap;
	s->pos.data = off;
	s->pos.cap = pos.cap;
	s->pos.sparse_cap = (uint16_t) pos.sparse_cap;
	off += plan_bytes(pos);
	s->neg.data = off;
	s->neg.cap = neg.cap;
	s->neg.sparse_cap = (uint16_t) neg.sparse_cap;
	off += plan_bytes(neg);
	s->size = off;
}

sketch_error
sketch_init(struct sketch *s, size_t size, double alpha, int nq)
{
	store_plan	pos = {0, 0, 0};
	store_plan	none = {0, 0, 0};

	if (sketch_check_alpha(alpha) != SKETCH_OK)
		return SKETCH_EALPHA;
	if (nq < 0 || nq > SKETCH_MAX_QUANTILES || size < sketch_size_empty(nq) ||
		size > UINT32_MAX)
		return SKETCH_ECORRUPT;
	memset((char *) s + sizeof(s->vl_len_), 0, size - sizeof(s->vl_len_));
	s->magic = SKETCH_DENSE_MAGIC;
	s->alpha = alpha;
	s->per_octave = per_octave_for(alpha);
	s->max_buckets = default_max_buckets(s->per_octave);
	s->min = 0.0;
	s->max = 0.0;
	pos.sparse_cap = sparse_cap_for_bytes(size - layout_size(nq, INITIAL_SUM_CAP,
															  none, none));
	layout_assign(s, nq, INITIAL_SUM_CAP, pos, none);
	s->sum.base = 0;
	return SKETCH_OK;
}

struct sketch *
sketch_create(const sketch_allocator *a, double alpha)
{
	size_t		size = sketch_size_empty(0);
	struct sketch *s;

	if (sketch_check_alpha(alpha) != SKETCH_OK)
		return NULL;
	s = a->alloc(size, a->ctx);
	if (s == NULL)
		return NULL;
	(void) sketch_init(s, size, alpha, 0);
	return s;
}

struct sketch *
sketch_copy(const struct sketch *s, const sketch_allocator *a)
{
	struct sketch *c = a->alloc(s->size, a->ctx);

	if (c != NULL)
		memcpy(c, s, s->size);
	return c;
}

/*
 * Copy store ost of old into nst of s, whose shape is already assigned.  A
 * sparse store may move to a dense window or to more entries with the same
 * offset; a dense window to another dense window.  Every non-empty bucket
 * must fit the new shape.
 */
static void
relayout_store(struct sketch *s, struct sketch_store *nst,
			   const struct sketch *old, const struct sketch_store *ost)
{
	if (ost->bucketed == 0)
	{
		nst->nsparse = 0;
		return;
	}
	if (ost->sparse_cap > 0)
	{
		const struct sketch_sparse_entry *e = sparse_entries_c(old, ost);

		if (nst->sparse_cap > 0)
		{
			/* callers keep the offset of a sparse store */
			memcpy(sparse_entries(s, nst), e,
				   sizeof(struct sketch_sparse_entry) * ost->nsparse);
			return;
		}
		for (int32_t i = 0; i < ost->nsparse; i++)
			store_counts(s, nst)[ost->offset + e[i].delta - nst->offset] = e[i].count;
		nst->nsparse = 0;
		return;
	}
	memcpy(store_counts(s, nst) + (ost->lo - nst->offset),
		   store_counts_c(old, ost) + (ost->lo - ost->offset),
		   sizeof(uint64_t) * (size_t) (ost->hi - ost->lo + 1));
}

/*
 * Move *sp into a new block with the given shapes.  Every non-empty bucket
 * of the old block must fit the new shapes (see relayout_store()).  Returns
 * SKETCH_ENOMEM (leaving *sp alone) if the allocator fails.
 */
static sketch_error
relayout(struct sketch **sp, const sketch_allocator *a, int nq,
		 int32_t sum_base, int32_t sum_cap, store_plan pos, store_plan neg)
{
	struct sketch *old = *sp;
	size_t		size = layout_size(nq, sum_cap, pos, neg);
	struct sketch *s = a->alloc(size, a->ctx);

	if (s == NULL)
		return SKETCH_ENOMEM;
	memset(s, 0, size);
	memcpy(s, old, sizeof(struct sketch));
	layout_assign(s, nq, sum_cap, pos, neg);

	memcpy((char *) s + s->qdata, (char *) old + old->qdata,
		   sizeof(double) * (nq < old->nq ? nq : old->nq));

	s->sum.base = sum_base;
	for (int32_t i = 0; i < old->sum.cap; i++)
	{
		int64_t		v = sum_chunks(old)[i];

		if (v != 0)
			sum_chunks(s)[old->sum.base + i - sum_base] = v;
	}

	s->pos.offset = pos.offset;
	s->neg.offset = neg.offset;
	relayout_store(s, &s->pos, old, &old->pos);
	relayout_store(s, &s->neg, old, &old->neg);

	if (a->free)
		a->free(old, a->ctx);
	*sp = s;
	return SKETCH_OK;
}

/* ----------------------------------------------------------------
 * Exact sum
 * ----------------------------------------------------------------
 */

/* Propagate carries so chunks below the top are in [0, 2^32). */
static SKETCH_NOINLINE void
sum_normalize(struct sketch *s)
{
	int64_t    *c = sum_chunks(s);

	for (int32_t i = 0; i + 1 < s->sum.cap; i++)
	{
		int64_t		carry = c[i] >> 32;	/* arithmetic: floor division */

		c[i] -= carry * ((int64_t) 1 << 32);
		c[i + 1] += carry;
	}
	s->sum.pending = 0;
}

/*
 * Make chunks [lo, hi] (within [0, SUM_CHUNKS_MAX)) addressable.  May
 * relayout; the window at least doubles so that growth is amortised.  An
 * all-zero window is just moved.
 */
static SKETCH_NOINLINE sketch_error
sum_reserve(struct sketch **sp, const sketch_allocator *a, int32_t lo,
			int32_t hi)
{
	struct sketch *s = *sp;
	int32_t		base = s->sum.base;
	int32_t		top = s->sum.base + s->sum.cap - 1;
	int32_t		nbase,
				ntop;
	bool		zero = true;

	if (lo >= base && hi <= top)
		return SKETCH_OK;
	for (int32_t i = 0; i < s->sum.cap && zero; i++)
		zero = sum_chunks(s)[i] == 0;
	if (zero && hi - lo + 1 <= s->sum.cap)
	{
		s->sum.base = lo + s->sum.cap <= SUM_CHUNKS_MAX ? lo :
			SUM_CHUNKS_MAX - s->sum.cap;
		return SKETCH_OK;
	}
	if (zero)
	{
		base = lo;
		top = hi;
	}
	nbase = lo < base ? lo : base;
	ntop = hi > top ? hi : top;
	if (ntop - nbase + 1 < 2 * s->sum.cap)
	{
		if (hi > top)
			ntop = nbase + 2 * s->sum.cap - 1;
		else
			nbase = ntop - 2 * s->sum.cap + 1;
	}
	if (nbase < 0)
		nbase = 0;
	if (ntop > SUM_CHUNKS_MAX - 1)
		ntop = SUM_CHUNKS_MAX - 1;
	if (zero)
		memset(sum_chunks(s), 0, sizeof(int64_t) * s->sum.cap);
	return relayout(sp, a, s->nq, nbase, ntop - nbase + 1,
					store_plan_of(&s->pos), store_plan_of(&s->neg));
}

/* Decompose finite x != 0 into sign, 53-bit integer m and bit position. */
static inline void
sum_decompose(double x, int *negative, uint64_t *m, int32_t *bitpos)
{
	uint64_t	bits;
	int			exp;

	memcpy(&bits, &x, sizeof(bits));
	*negative = (int) (bits >> 63);
	exp = (int) ((bits >> 52) & 0x7ff);
	*m = bits & ((UINT64_C(1) << 52) - 1);
	if (exp == 0)
		*bitpos = 0;			/* subnormal: m * 2^-1074 */
	else
	{
		*m |= UINT64_C(1) << 52;
		*bitpos = exp - 1;		/* m * 2^(exp - 1075) */
	}
}

static inline sketch_error
sum_add(struct sketch **sp, const sketch_allocator *a, double x)
{
	struct sketch *s = *sp;
	int			negative;
	uint64_t	m;
	int32_t		bitpos;
	int32_t		c;
	unsigned __int128 wide;
	int64_t    *chunk;
	int64_t		p0,
				p1,
				p2;

	if (x == 0.0)
		return SKETCH_OK;
	sum_decompose(x, &negative, &m, &bitpos);
	c = bitpos >> 5;
	/* Chunks c..c+2 receive the digits, c+3 the carries. */
	if (unlikely(c < s->sum.base || c + 3 > s->sum.base + s->sum.cap - 1))
	{
		/*
		 * One chunk more, on the side nearer to x's bits: an empty window
		 * of INITIAL_SUM_CAP chunks placed here holds every value within 16
		 * octaves of x, so the sum of a small group never has to grow.
		 */
		int32_t		lo = (bitpos & 31) < 16 && c > 0 ? c - 1 : c;
		sketch_error err = sum_reserve(sp, a, lo, lo + 4);

		if (err != SKETCH_OK)
			return err;
		s = *sp;
	}
	wide = (unsigned __int128) m << (bitpos & 31);
	p0 = (int64_t) (uint32_t) wide;
	p1 = (int64_t) (uint32_t) (wide >> 32);
	p2 = (int64_t) (uint32_t) (wide >> 64);
	chunk = sum_chunks(s) + (c - s->sum.base);
	if (negative)
	{
		chunk[0] -= p0;
		chunk[1] -= p1;
		chunk[2] -= p2;
	}
	else
	{
		chunk[0] += p0;
		chunk[1] += p1;
		chunk[2] += p2;
	}
	if (unlikely(++s->sum.pending >= SUM_PENDING_LIMIT))
		sum_normalize(s);
	return SKETCH_OK;
}

/*
 * The sum as sign and magnitude digits: digits[0..ndigits) little-endian
 * 32-bit digits, digits[0] being chunk 'low'.  Leading and trailing zero
 * digits are stripped; a zero sum gives ndigits = 0.  s is not modified.
 * digits must hold SUM_CHUNKS_MAX + 2 entries.
 */
void
sketch_sum_digits(const struct sketch *s, int *negative, int32_t *low,
		   uint32_t *digits, int *ndigits)
{
	int64_t		c[SUM_CHUNKS_MAX];
	int32_t		cap = s->sum.cap;
	uint64_t	tmp[SUM_CHUNKS_MAX + 2];
	int			n = 0;
	int			first;

	memcpy(c, sum_chunks_c(s), sizeof(int64_t) * cap);
	for (int32_t i = 0; i + 1 < cap; i++)
	{
		int64_t		carry = c[i] >> 32;

		c[i] -= carry * ((int64_t) 1 << 32);
		c[i + 1] += carry;
	}
	*negative = cap > 0 && c[cap - 1] < 0;
	if (!*negative)
	{
		for (int32_t i = 0; i < cap - 1; i++)
			tmp[n++] = (uint64_t) c[i];
		if (cap > 0)
		{
			uint64_t	top = (uint64_t) c[cap - 1];

			tmp[n++] = top & 0xffffffffu;
			tmp[n++] = top >> 32;
		}
	}
	else
	{
		int64_t		borrow = 0;

		for (int32_t i = 0; i < cap - 1; i++)
		{
			int64_t		t = -c[i] - borrow;

			borrow = 0;
			if (t < 0)
			{
				t += (int64_t) 1 << 32;
				borrow = 1;
			}
			tmp[n++] = (uint64_t) t;
		}
		{
			uint64_t	top = (uint64_t) (-(c[cap - 1]) - borrow);

			tmp[n++] = top & 0xffffffffu;
			tmp[n++] = top >> 32;
		}
	}
	first = 0;
	while (first < n && tmp[first] == 0)
		first++;
	while (n > first && tmp[n - 1] == 0)
		n--;
	*ndigits = n - first;
	*low = s->sum.base + first;
	for (int i = first; i < n; i++)
		digits[i - first] = (uint32_t) tmp[i];
	if (*ndigits == 0)
	{
		*negative = 0;
		*low = 0;
	}
}

static inline int
digit_bit(const uint32_t *digits, int64_t pos)
{
	return (int) ((digits[pos >> 5] >> (pos & 31)) & 1);
}

/*
 * Correctly rounded double of sign and digits (digits[n-1] != 0); sets
 * *err to SKETCH_ERANGE on overflow.
 */
static double
digits_to_double(int negative, int32_t low, const uint32_t *digits, int n,
				 sketch_error *err)
{
	int64_t		msb;
	int64_t		lowpos;
	uint64_t	top = 0;
	double		r;

	*err = SKETCH_OK;
	if (n == 0)
		return 0.0;
	msb = (int64_t) 32 * (n - 1) + (31 - __builtin_clz(digits[n - 1]));
	lowpos = msb - 63;			/* bit position of top's lowest bit */
	for (int64_t b = msb; b >= 0 && b >= lowpos; b--)
		top = (top << 1) | (uint64_t) digit_bit(digits, b);
	if (lowpos < 0)
		top <<= -lowpos;
	else
	{
		/* a sticky bit far below the rounding bit keeps rounding exact */
		int64_t		b;

		for (int64_t d = 0; d < (lowpos >> 5); d++)
			if (digits[d] != 0)
			{
				top |= 1;
				break;
			}
		for (b = lowpos & ~(int64_t) 31; b < lowpos; b++)
			if (digit_bit(digits, b))
				top |= 1;
	}
	r = ldexp((double) top, (int) (lowpos + 32 * (int64_t) low - 1074));
	if (isinf(r))
	{
		*err = SKETCH_ERANGE;
		return negative ? -HUGE_VAL : HUGE_VAL;
	}
	return negative ? -r : r;
}

double
sketch_sum_value(const struct sketch *s, sketch_error *err)
{
	int			negative;
	int32_t		low;
	uint32_t	digits[SUM_CHUNKS_MAX + 2];
	int			n;

	sketch_sum_digits(s, &negative, &low, digits, &n);
	return digits_to_double(negative, low, digits, n, err);
}

double
sketch_mean(const struct sketch *s, sketch_error *err)
{
	double		sum;

	if (s->count == 0)
	{
		*err = SKETCH_OK;
		return NAN;
	}
	sum = sketch_sum_value(s, err);
	if (*err == SKETCH_ERANGE)
	{
		/* the mean lies in [min, max], so it fits: scale the sum down */
		int			negative;
		int32_t		low;
		uint32_t	digits[SUM_CHUNKS_MAX + 2];
		int			n;

		sketch_sum_digits(s, &negative, &low, digits, &n);
		sum = digits_to_double(negative, low - 2, digits, n, err);	/* sum / 2^64 */
		return ldexp(sum / (double) s->count, 64);
	}
	return sum / (double) s->count;
}

/* ----------------------------------------------------------------
 * Stores
 * ----------------------------------------------------------------
 */

/*
 * Fold every key below new_floor into the collapsed count and make sure the
 * window covers [new_floor, new_floor + max_buckets - 1], the keys that stay
 * exact (the highest key, current or about to be added, is the top one).
 *
 * The floor only ever rises, once per new highest key, so this must not cost
 * O(max_buckets) each time: an input that grows steadily over many orders of
 * magnitude raises it on almost every value.  A window that already covers
 * the range is left alone (only the folded slots are zeroed).  Otherwise the
 * window is re-anchored at new_floor: in place with memmove when it already
 * has sketch_window_limit() slots, else by one relayout to that size.  The
 * slack of max_buckets / 2 slots above the top means a shift happens at most
 * once every max_buckets / 2 floor steps, and the block only grows once.
 */
static sketch_error
store_collapse(struct sketch **sp, const sketch_allocator *a, int side,
			   int32_t new_floor)
{
	struct sketch *s = *sp;
	struct sketch_store *st = side ? &s->neg : &s->pos;
	uint64_t   *counts = store_counts(s, st);
	uint64_t	folded = 0;
	int32_t		maxb = (int32_t) s->max_buckets;
	int32_t		limit = (int32_t) sketch_window_limit(s->max_buckets);
	int32_t		k;

	for (k = st->lo; k < new_floor && k <= st->hi; k++)
	{
		folded += counts[k - st->offset];
		counts[k - st->offset] = 0;
	}
	st->collapsed += folded;
	st->bucketed -= folded;
	if (st->lo < new_floor)
	{
		st->lo = new_floor;
		while (st->lo <= st->hi && counts[st->lo - st->offset] == 0)
			st->lo++;
	}
	/* The floor rule needs some collapsed value; callers guarantee one. */
	if (st->offset <= new_floor &&
		(int64_t) new_floor + maxb <= (int64_t) st->offset + st->cap)
		return SKETCH_OK;

	if (st->cap == limit)
	{
		/* shift [lo, hi] down to the new anchor, zero everything else */
		if (st->bucketed > 0)
		{
			int32_t		n = st->hi - st->lo + 1;

			memmove(counts + (st->lo - new_floor), counts + (st->lo - st->offset),
					sizeof(uint64_t) * (size_t) n);
			memset(counts, 0, sizeof(uint64_t) * (size_t) (st->lo - new_floor));
			memset(counts + (st->hi - new_floor + 1), 0,
				   sizeof(uint64_t) * (size_t) (limit - (st->hi - new_floor + 1)));
		}
		else
			memset(counts, 0, sizeof(uint64_t) * (size_t) limit);
		st->offset = new_floor;
		return SKETCH_OK;
	}
	if (side)
		return relayout(sp, a, s->nq, s->sum.base, s->sum.cap,
						store_plan_of(&s->pos), store_plan_dense(new_floor, limit));
	return relayout(sp, a, s->nq, s->sum.base, s->sum.cap,
					store_plan_dense(new_floor, limit), store_plan_of(&s->neg));
}

/*
 * A dense window for a store holding [lo, hi]: 1.5 times the span (at least
 * 8 slots, at most max_buckets), rounded up so that the whole block of the
 * other shapes in other_bytes fills a power of two (allocators such as
 * PostgreSQL's round small requests up to one anyway), and centred on the
 * span.
 */
static store_plan
dense_plan(const struct sketch *s, int32_t lo, int32_t hi, size_t other_bytes)
{
	int32_t		maxb = (int32_t) s->max_buckets;
	int32_t		span = hi - lo + 1;
	int32_t		cap = span + span / 2;
	size_t		size,
				rounded;

	if (cap < 8)
		cap = 8;
	if (cap > maxb)
		cap = maxb;
	size = other_bytes + sizeof(uint64_t) * (size_t) cap;
	for (rounded = 256; rounded < size; rounded *= 2)
		;
	cap += (int32_t) ((rounded - size) / sizeof(uint64_t));
	if (cap > maxb)
		cap = maxb;
	if (cap < span)
		cap = span;				/* a collapsed store's window may exceed maxb */
	return store_plan_dense(lo - (cap - span) / 2, cap);
}

/* Bytes of s without one side's store array. */
static inline size_t
other_bytes(const struct sketch *s, int side)
{
	return side ? layout_size(s->nq, s->sum.cap, store_plan_of(&s->pos),
							  (store_plan) {0, 0, 0})
		: layout_size(s->nq, s->sum.cap, (store_plan) {0, 0, 0},
					  store_plan_of(&s->neg));
}

/*
 * Turn a sparse (or formless empty) store dense, with a window that also
 * covers key when the span then stays within max_buckets (otherwise the
 * dense path collapses and re-anchors it).  May relayout *sp.
 */
static SKETCH_NOINLINE sketch_error
store_make_dense(struct sketch **sp, const sketch_allocator *a, int side,
				 int32_t key)
{
	struct sketch *s = *sp;
	struct sketch_store *st = side ? &s->neg : &s->pos;
	int32_t		lo = key,
				hi = key;
	store_plan	plan;

	if (st->bucketed > 0)
	{
		lo = key < st->lo ? key : st->lo;
		hi = key > st->hi ? key : st->hi;
		if ((int64_t) hi - lo + 1 > (int64_t) s->max_buckets)
		{
			lo = st->lo;
			hi = st->hi;
		}
	}
	plan = dense_plan(s, lo, hi, other_bytes(s, side));
	if (side)
		return relayout(sp, a, s->nq, s->sum.base, s->sum.cap,
						store_plan_of(&s->pos), plan);
	return relayout(sp, a, s->nq, s->sum.base, s->sum.cap,
					plan, store_plan_of(&s->neg));
}

/*
 * Index of the first entry of a sparse store whose delta is >= delta (n if
 * none).  The arrays are short; a plain binary search.
 */
static inline int32_t
sparse_search(const struct sketch_sparse_entry *e, int32_t n, uint32_t delta)
{
	int32_t		lo = 0,
				hi = n;

	while (lo < hi)
	{
		int32_t		mid = (lo + hi) >> 1;

		if (e[mid].delta < delta)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Add count values at key to a non-empty sparse store when that needs no
 * new memory and keeps it sparse; false (nothing changed) otherwise.
 */
static inline bool
sparse_add_inplace(struct sketch *s, struct sketch_store *st, int32_t key,
				   uint64_t count)
{
	struct sketch_sparse_entry *e = sparse_entries(s, st);
	uint32_t	delta = (uint32_t) key - (uint32_t) st->offset;
	int32_t		i;

	if (delta > SPARSE_DELTA_MAX)
		return false;
	i = sparse_search(e, st->nsparse, delta);
	if (i < st->nsparse && e[i].delta == delta)
	{
		if (count > (uint64_t) (SPARSE_COUNT_MAX - e[i].count))
			return false;
		e[i].count += (uint16_t) count;
	}
	else
	{
		int32_t		lo = key < st->lo ? key : st->lo;
		int32_t		hi = key > st->hi ? key : st->hi;

		if (st->nsparse == st->sparse_cap || count > SPARSE_COUNT_MAX ||
			(int64_t) hi - lo + 1 > (int64_t) s->max_buckets)
			return false;
		memmove(e + i + 1, e + i,
				sizeof(struct sketch_sparse_entry) * (size_t) (st->nsparse - i));
		e[i].delta = (uint16_t) delta;
		e[i].count = (uint16_t) count;
		st->nsparse++;
		st->lo = lo;
		st->hi = hi;
	}
	st->bucketed += count;
	return true;
}

/*
 * Add count values at key to a sparse or formless empty store, growing it
 * or turning it dense as needed.  Returns with the store sparse when the
 * values were added, dense (and the values not yet added) otherwise.  It
 * stays sparse while a new entry fits: deltas and counts in 16 bits, a span
 * of at most max_buckets (a sparse store never collapses), a doubled
 * capacity within SPARSE_MAX_ENTRIES, and a grown sparse block no larger
 * than the block with a dense window for the span ("dense when it pays": a
 * few keys close together cost less as counts).  May relayout *sp.
 */
static SKETCH_NOINLINE sketch_error
store_add_sparse(struct sketch **sp, const sketch_allocator *a, int side,
				 int32_t key, uint64_t count)
{
	struct sketch *s = *sp;
	struct sketch_store *st = side ? &s->neg : &s->pos;
	sketch_error err;

	if (st->bucketed == 0 && count <= SPARSE_COUNT_MAX)
	{
		/* anchor the deltas so keys on either side of the first one fit */
		st->offset = key - SPARSE_DELTA_MAX / 2;
		st->lo = st->hi = key;
		st->nsparse = 0;
		if (st->sparse_cap > 0)
		{
			sparse_entries(s, st)[0].delta = (uint16_t) (key - st->offset);
			sparse_entries(s, st)[0].count = (uint16_t) count;
			st->nsparse = 1;
			st->bucketed = count;
			return SKETCH_OK;
		}
	}
	else if (sparse_add_inplace(s, st, key, count))
		return SKETCH_OK;

	/* grow the sparse array, if staying sparse is still worth it */
	if (count <= SPARSE_COUNT_MAX && 2 * st->sparse_cap <= SPARSE_MAX_ENTRIES &&
		(st->bucketed == 0 || st->nsparse == st->sparse_cap))
	{
		int32_t		lo = st->bucketed == 0 || key < st->lo ? key : st->lo;
		int32_t		hi = st->bucketed == 0 || key > st->hi ? key : st->hi;
		uint32_t	delta = (uint32_t) key - (uint32_t) st->offset;
		size_t		base = other_bytes(s, side);
		int32_t		want = st->sparse_cap < INITIAL_SPARSE_CAP / 2 ?
			INITIAL_SPARSE_CAP : 2 * st->sparse_cap;
		size_t		sparse_size = base + sizeof(struct sketch_sparse_entry) * want;
		size_t		rounded;
		store_plan	dense = dense_plan(s, lo, hi, base);
		store_plan	plan = {st->offset, 0, 0};

		for (rounded = 256; rounded < sparse_size; rounded *= 2)
			;
		plan.sparse_cap = sparse_cap_for_bytes(rounded - base);
		if (delta <= SPARSE_DELTA_MAX &&
			(int64_t) hi - lo + 1 <= (int64_t) s->max_buckets &&
			rounded <= base + plan_bytes(dense))
		{
			err = side ? relayout(sp, a, s->nq, s->sum.base, s->sum.cap,
								  store_plan_of(&s->pos), plan)
				: relayout(sp, a, s->nq, s->sum.base, s->sum.cap,
						   plan, store_plan_of(&s->neg));
			if (err != SKETCH_OK)
				return err;
			s = *sp;
			st = side ? &s->neg : &s->pos;
			if (st->bucketed == 0)
			{
				sparse_entries(s, st)[0].delta = (uint16_t) delta;
				sparse_entries(s, st)[0].count = (uint16_t) count;
				st->nsparse = 1;
				st->bucketed = count;
				return SKETCH_OK;
			}
			if (sparse_add_inplace(s, st, key, count))
				return SKETCH_OK;
		}
	}
	if ((err = store_make_dense(sp, a, side, key)) != SKETCH_OK)
		return err;
	return SKETCH_OK;
}

/*
 * Add count values at key to one store: the slow path, which handles an
 * empty store, growth and collapsing.  May relayout *sp.
 */
static SKETCH_NOINLINE sketch_error
store_add_slow(struct sketch **sp, const sketch_allocator *a, int side,
			   int32_t key, uint64_t count)
{
	struct sketch *s = *sp;
	struct sketch_store *st = side ? &s->neg : &s->pos;
	int32_t		maxb = (int32_t) s->max_buckets;
	int32_t		lo,
				hi;
	sketch_error err;

	if (st->sparse_cap > 0 || (st->cap == 0 && st->bucketed == 0))
	{
		if ((err = store_add_sparse(sp, a, side, key, count)) != SKETCH_OK)
			return err;
		s = *sp;
		st = side ? &s->neg : &s->pos;
		if (st->sparse_cap > 0)
			return SKETCH_OK;	/* added: a store stays sparse only then */
	}

	/* collapsed > 0 implies bucketed > 0: the highest key is never folded */
	if (st->bucketed == 0)
	{
		lo = hi = key;
		if (st->cap > 0)
			st->offset = key - st->cap / 2;		/* nothing to move */
	}
	else
	{
		lo = key < st->lo ? key : st->lo;
		hi = key > st->hi ? key : st->hi;
	}

	if (st->collapsed > 0 || (int64_t) hi - lo + 1 > maxb)
	{
		int32_t		new_floor = hi - maxb + 1;

		if (key < new_floor)
		{
			/* the value folds; hi is unchanged */
			bool		first = st->collapsed == 0;

			st->collapsed += count;
			if (first)
				return store_collapse(sp, a, side, new_floor);
			return SKETCH_OK;
		}
		if (st->collapsed == 0 || new_floor != store_floor(s, st) ||
			key < st->offset || key >= st->offset + st->cap)
		{
			/*
			 * Raise the floor.  When nothing was collapsed before, the span
			 * exceeds maxb with key >= new_floor, so the old lo is below
			 * new_floor and at least one value folds, as the rule requires.
			 */
			if ((err = store_collapse(sp, a, side, new_floor)) != SKETCH_OK)
				return err;
			s = *sp;
			st = side ? &s->neg : &s->pos;
		}
		store_counts(s, st)[key - st->offset] += count;
		st->bucketed += count;
		if (st->bucketed == count || key < st->lo)
			st->lo = key;
		if (st->bucketed == count || key > st->hi)
			st->hi = key;
		return SKETCH_OK;
	}

	/*
	 * No collapse: make the window cover [lo, hi].  The slack is split evenly
	 * between both ends, so values arriving on alternate sides do not make
	 * the window grow without need.  When [lo, hi] still fits with a quarter
	 * of the window to spare (or the window is at max_buckets) the counts are
	 * shifted in place; each shift at least halves the spare slots, so shifts
	 * stay rare.  Otherwise the block grows to 1.5 times the span, rounded up
	 * so that the whole block fills a power of two (allocators such as
	 * PostgreSQL's round small requests up to one anyway).
	 */
	if (st->cap == 0 || lo < st->offset || hi >= st->offset + st->cap)
	{
		int32_t		span = hi - lo + 1;
		int32_t		offset;

		if (st->bucketed > 0 && span <= st->cap &&
			(span <= st->cap - st->cap / 4 || st->cap >= maxb))
		{
			uint64_t   *counts = store_counts(s, st);
			int32_t		n = st->hi - st->lo + 1;

			offset = lo - (st->cap - span) / 2;
			memmove(counts + (st->lo - offset), counts + (st->lo - st->offset),
					sizeof(uint64_t) * (size_t) n);
			memset(counts, 0, sizeof(uint64_t) * (size_t) (st->lo - offset));
			memset(counts + (st->hi - offset + 1), 0,
				   sizeof(uint64_t) * (size_t) (st->cap - (st->hi - offset + 1)));
			st->offset = offset;
		}
		else
		{
			store_plan	plan = dense_plan(s, lo, hi, other_bytes(s, side));

			if (side)
				err = relayout(sp, a, s->nq, s->sum.base, s->sum.cap,
							   store_plan_of(&s->pos), plan);
			else
				err = relayout(sp, a, s->nq, s->sum.base, s->sum.cap,
							   plan, store_plan_of(&s->neg));
			if (err != SKETCH_OK)
				return err;
			s = *sp;
			st = side ? &s->neg : &s->pos;
		}
	}
	store_counts(s, st)[key - st->offset] += count;
	st->bucketed += count;
	st->lo = lo;
	st->hi = hi;
	return SKETCH_OK;
}

/*
 * Add count values at key to one store.  The common case, a key inside the
 * window of a non-empty store, is handled inline; the rest goes to
 * store_add_slow().  May relayout *sp.
 */
static inline sketch_error
store_add(struct sketch **sp, const sketch_allocator *a, int side,
		  int32_t key, uint64_t count)
{
	struct sketch *s = *sp;
	struct sketch_store *st = side ? &s->neg : &s->pos;

	/* one unsigned comparison: offset <= key < offset + cap */
	if (likely(st->bucketed > 0 &&
			   (uint32_t) key - (uint32_t) st->offset < (uint32_t) st->cap &&
			   (st->collapsed == 0 ||
				(key <= st->hi && key > st->hi - (int32_t) s->max_buckets))))
	{
		store_counts(s, st)[key - st->offset] += count;
		st->bucketed += count;
		if (key < st->lo)
			st->lo = key;
		if (key > st->hi)
			st->hi = key;
		return SKETCH_OK;
	}
	return store_add_slow(sp, a, side, key, count);
}

/* ----------------------------------------------------------------
 * Invariants
 * ----------------------------------------------------------------
 */

/* The invariants of a dense store's window and counts; NULL if they hold. */
static const char *
dense_store_violation(const struct sketch *s, const struct sketch_store *st)
{
	const uint64_t *counts = store_counts_c(s, st);
	uint64_t	inside = 0;

	if (st->cap < 0 || st->cap > sketch_window_limit(s->max_buckets))
		return "store window larger than its limit";
	if (st->nsparse != 0)
		return "dense store with sparse entries";
	if (st->bucketed > 0 &&
		(st->lo > st->hi || st->lo < st->offset ||
		 (int64_t) st->hi >= (int64_t) st->offset + st->cap))
		return "[lo, hi] outside the window";
	for (int32_t i = 0; i < st->cap; i++)
	{
		int32_t		k = st->offset + i;

		if (counts[i] != 0 && (st->bucketed == 0 || k < st->lo || k > st->hi))
			return "non-empty bucket outside [lo, hi]";
		inside += counts[i];
	}
	if (inside != st->bucketed)
		return "bucketed does not match the counts";
	if (st->bucketed > 0 &&
		(counts[st->lo - st->offset] == 0 || counts[st->hi - st->offset] == 0))
		return "empty bucket at lo or hi";
	return NULL;
}

/* The invariants of a sparse store's entries; NULL if they hold. */
static const char *
sparse_store_violation(const struct sketch *s, const struct sketch_store *st)
{
	const struct sketch_sparse_entry *e = sparse_entries_c(s, st);
	uint64_t	inside = 0;

	if (st->cap != 0)
		return "sparse store with a dense window";
	if (st->nsparse > st->sparse_cap || (st->sparse_cap & 1) != 0)
		return "sparse entries beyond their capacity";
	if (st->collapsed != 0)
		return "sparse store with collapsed values";
	if ((st->bucketed == 0) != (st->nsparse == 0))
		return "sparse entries do not match bucketed";
	for (int32_t i = 0; i < st->nsparse; i++)
	{
		if (e[i].count == 0)
			return "empty sparse entry";
		if (i > 0 && e[i].delta <= e[i - 1].delta)
			return "sparse entries out of order";
		inside += e[i].count;
	}
	if (inside != st->bucketed)
		return "bucketed does not match the counts";
	if (st->nsparse > 0 &&
		((int64_t) st->lo != (int64_t) st->offset + e[0].delta ||
		 (int64_t) st->hi != (int64_t) st->offset + e[st->nsparse - 1].delta))
		return "lo or hi is not a sparse entry's key";
	return NULL;
}

const char *
sketch_layout_violation(const struct sketch *s, size_t size)
{
	if (size < sizeof(struct sketch) || s->magic != SKETCH_DENSE_MAGIC ||
		s->size != size)
		return "not a sketch state";
	if (s->qdata + sizeof(double) * (size_t) s->nq > size)
		return "quantiles outside the block";
	if (s->sum.cap < 0 || s->sum.cap > SUM_CHUNKS_MAX || s->sum.base < 0 ||
		s->sum.base + s->sum.cap > SUM_CHUNKS_MAX ||
		s->sum.data + sizeof(int64_t) * (size_t) s->sum.cap > size)
		return "sum outside the block";
	if (sketch_check_alpha(s->alpha) != SKETCH_OK ||
		s->per_octave != per_octave_for(s->alpha))
		return "alpha and per_octave disagree";
	if (s->max_buckets < SKETCH_MIN_MAX_BUCKETS ||
		s->max_buckets > SKETCH_MAX_MAX_BUCKETS)
		return "max_buckets out of range";
	for (int side = 0; side < 2; side++)
	{
		const struct sketch_store *st = side ? &s->neg : &s->pos;
		const char *why;

		if (st->cap > 0 && st->sparse_cap > 0)
			return "store both dense and sparse";
		if (st->data % sizeof(uint64_t) != 0 ||
			st->data + sizeof(uint64_t) * (size_t) (st->cap < 0 ? 0 : st->cap) +
			sizeof(struct sketch_sparse_entry) * (size_t) st->sparse_cap > size)
			return "store outside the block";
		if (st->sparse_cap > 0)
			why = sparse_store_violation(s, st);
		else if (st->cap < 0 || st->cap > sketch_window_limit(s->max_buckets) ||
				 (st->bucketed > 0 &&
				  (st->lo > st->hi || st->lo < st->offset ||
				   (int64_t) st->hi >= (int64_t) st->offset + st->cap)))
			why = "[lo, hi] outside the window";
		else
			why = NULL;
		if (why != NULL)
			return why;
	}
	return NULL;
}

/*
 * Check every structural invariant of a dense sketch; returns NULL when they
 * hold, else a description of the first broken one.  O(buckets): the core
 * calls it after each change only when built with SKETCH_CHECK_INVARIANTS
 * (unit tests, fuzzing, assert-enabled servers).
 */
const char *
sketch_invariant_violation(const struct sketch *s)
{
	uint64_t	total = s->zero;

	if (s->magic != SKETCH_DENSE_MAGIC)
		return "bad magic";
	if (sketch_check_alpha(s->alpha) != SKETCH_OK ||
		s->per_octave != per_octave_for(s->alpha))
		return "alpha and per_octave disagree";
	if (s->sum.base < 0 || s->sum.cap < 0 ||
		s->sum.base + s->sum.cap > SUM_CHUNKS_MAX)
		return "sum window out of range";
	for (int side = 0; side < 2; side++)
	{
		const struct sketch_store *st = side ? &s->neg : &s->pos;
		const char *why = st->sparse_cap > 0 ? sparse_store_violation(s, st)
			: dense_store_violation(s, st);

		if (why != NULL)
			return why;
		if (st->bucketed > 0 &&
			(int64_t) st->hi - st->lo + 1 > (int64_t) s->max_buckets)
			return "span larger than max_buckets";
		if (st->collapsed > 0)
		{
			if (st->bucketed == 0)
				return "collapsed values without buckets";
			if (st->offset > store_floor(s, st) || st->lo < store_floor(s, st))
				return "collapsed store window above its floor";
		}
		total += st->bucketed + st->collapsed;
	}
	if (total != s->count)
		return "counts do not add up";
	if (s->count > 0 && !(s->min <= s->max))
		return "min above max";
	if (s->pos.bucketed > 0 && key_of(s->per_octave, s->max) != s->pos.hi)
		return "max not in the highest bucket";
	if (s->neg.bucketed > 0 && key_of(s->per_octave, -s->min) != s->neg.hi)
		return "min not in the highest negative bucket";
	return NULL;
}

#ifdef SKETCH_CHECK_INVARIANTS
#define CHECK_INVARIANTS(s) \
	do { \
		const char *why_ = sketch_invariant_violation(s); \
		if (why_ != NULL) \
		{ \
			fprintf(stderr, "sketch invariant broken: %s\n", why_); \
			abort(); \
		} \
	} while (0)
#else
#define CHECK_INVARIANTS(s) ((void) 0)
#endif

/* ----------------------------------------------------------------
 * Adding and merging
 * ----------------------------------------------------------------
 */

/*
 * sparse_add_inplace() of one value, out of line: keeps the dense fast path
 * of sketch_add() as short as it was.
 */
static __attribute__((noinline)) bool
sparse_add_one(struct sketch *s, struct sketch_store *st, int32_t key)
{
	return sparse_add_inplace(s, st, key, 1);
}

/* Every case of sketch_add(); the common one is also handled inline below. */
static __attribute__((noinline)) sketch_error
sketch_add_general(struct sketch **sp, double v, const sketch_allocator *a)
{
	struct sketch *s = *sp;
	sketch_error err;

	if (unlikely(!isfinite(v)))
		return SKETCH_ENOTFINITE;

	if (v > 0.0)
	{
		if ((err = store_add(sp, a, 0, key_of(s->per_octave, v), 1)) != SKETCH_OK)
			return err;
	}
	else if (v < 0.0)
	{
		if ((err = store_add(sp, a, 1, key_of(s->per_octave, -v), 1)) != SKETCH_OK)
			return err;
	}
	else
	{
		(*sp)->zero++;
		v = 0.0;				/* -0.0 counts as 0 */
	}

	if ((err = sum_add(sp, a, v)) != SKETCH_OK)
		return err;
	s = *sp;
	if (s->count == 0)
		s->min = s->max = v;
	else if (v < s->min)
		s->min = v;
	else if (v > s->max)
		s->max = v;
	s->count++;
#ifdef SKETCH_CHECK_INVARIANTS
	/* the full check is O(buckets): every value early on, then sampled */
	if (s->count < 4096 || (s->count & 4095) == 0)
		CHECK_INVARIANTS(s);
#endif
	return SKETCH_OK;
}

/*
 * Add one value.  The common case, a positive normal value whose bucket is
 * inside the dense window or fits the sparse store without growing it, and
 * whose sum digits are inside the sum window, is done here in one pass over the value's bits (key and sum digits share the
 * decomposition) and performs exactly the updates sketch_add_general() would;
 * everything else goes there.
 */
sketch_error
sketch_add(struct sketch **sp, double v, const sketch_allocator *a)
{
	struct sketch *s = *sp;
	uint64_t	bits;
	int			exp;

	memcpy(&bits, &v, sizeof(bits));
	exp = (int) (bits >> 52);	/* sign bit clear: the biased exponent */
	if (likely(exp != 0 && exp < 0x7ff))
	{
		const sketch_mapping *m = mapping_get(s->per_octave);
		struct sketch_store *st = &s->pos;
		uint64_t	mant = bits & ((UINT64_C(1) << 52) - 1);
		int32_t		c = (exp - 1) >> 5;

		if (likely(m != NULL && st->bucketed > 0 && st->collapsed == 0 &&
				   c >= s->sum.base && c + 3 <= s->sum.base + s->sum.cap - 1 &&
				   s->sum.pending + 1 < SUM_PENDING_LIMIT))
		{
			uint64_t	cell = mant >> (52 - m->cell_bits);
			uint64_t	sbits = mant | (UINT64_C(1023) << 52);
			double		frac;
			int32_t		key;

			memcpy(&frac, &sbits, sizeof(frac));
			key = (exp - 1023) * s->per_octave + m->base[cell] +
				(frac >= m->bound[cell]);
			/* a dense window holding key, or room in a sparse store */
			if (likely((uint32_t) key - (uint32_t) st->offset < (uint32_t) st->cap))
			{
				store_counts(s, st)[key - st->offset]++;
				st->bucketed++;
				if (key < st->lo)
					st->lo = key;
				if (key > st->hi)
					st->hi = key;
			}
			else if (st->sparse_cap == 0 || !sparse_add_one(s, st, key))
				return sketch_add_general(sp, v, a);
			{
				unsigned __int128 wide;
				int64_t    *chunk = sum_chunks(s) + (c - s->sum.base);

				/* as sum_add(): m * 2^(exp - 1075), in 32-bit digits */
				wide = (unsigned __int128) (mant | (UINT64_C(1) << 52)) << ((exp - 1) & 31);
				chunk[0] += (int64_t) (uint32_t) wide;
				chunk[1] += (int64_t) (uint32_t) (wide >> 32);
				chunk[2] += (int64_t) (uint32_t) (wide >> 64);
				s->sum.pending++;
				/* bucketed > 0, so count > 0 and min, max are set */
				if (v < s->min)
					s->min = v;
				else if (v > s->max)
					s->max = v;
				s->count++;
#ifdef SKETCH_CHECK_INVARIANTS
				if (s->count < 4096 || (s->count & 4095) == 0)
					CHECK_INVARIANTS(s);
#endif
				return SKETCH_OK;
			}
		}
	}
	return sketch_add_general(sp, v, a);
}

sketch_error
sketch_merge(struct sketch **dst, const struct sketch *src,
			 const sketch_allocator *a)
{
	struct sketch *s = *dst;
	sketch_error err;

	if (s->alpha != src->alpha || s->max_buckets != src->max_buckets)
		return SKETCH_EMISMATCH;
	if (src->count == 0)
		return SKETCH_OK;
	if (s->count + src->count < s->count)
		return SKETCH_ECOUNT;

	/* sum: make room for src's window, add chunks, normalise */
	if (src->sum.cap > 0)
	{
		err = sum_reserve(dst, a, src->sum.base,
						  src->sum.base + src->sum.cap - 1);
		if (err != SKETCH_OK)
			return err;
		s = *dst;
		/*
		 * After normalising, dst's chunks are below 2^32 and src's below
		 * 2^62 in magnitude, so the sums cannot overflow.
		 */
		sum_normalize(s);
		for (int32_t i = 0; i < src->sum.cap; i++)
			sum_chunks(s)[src->sum.base + i - s->sum.base] += sum_chunks_c(src)[i];
		sum_normalize(s);
	}

	for (int side = 0; side < 2; side++)
	{
		const struct sketch_store *sst = side ? &src->neg : &src->pos;

		if (sst->bucketed == 0 && sst->collapsed == 0)
			continue;
		/* highest key first: establishes hi, so collapsing happens once */
		for (int32_t i = store_positions(sst) - 1; i >= 0; i--)
		{
			int32_t		k;
			uint64_t	c = store_at(src, sst, i, &k);

			if (c == 0)
				continue;
			if ((err = store_add(dst, a, side, k, c)) != SKETCH_OK)
				return err;
		}
		if (sst->collapsed > 0)
		{
			struct sketch_store *st;

			s = *dst;
			st = side ? &s->neg : &s->pos;
			if (st->sparse_cap > 0)
			{
				/* collapsed values live only in dense stores */
				if ((err = store_make_dense(dst, a, side, st->hi)) != SKETCH_OK)
					return err;
				s = *dst;
				st = side ? &s->neg : &s->pos;
			}
			if (st->collapsed == 0)
			{
				/* the floor rule now applies to dst as well */
				int32_t		new_floor = st->hi - (int32_t) s->max_buckets + 1;

				st->collapsed += sst->collapsed;
				if ((err = store_collapse(dst, a, side, new_floor)) != SKETCH_OK)
					return err;
			}
			else
				st->collapsed += sst->collapsed;
		}
	}

	s = *dst;
	if (s->count == 0)
	{
		s->min = src->min;
		s->max = src->max;
	}
	else
	{
		if (src->min < s->min)
			s->min = src->min;
		if (src->max > s->max)
			s->max = src->max;
	}
	s->count += src->count;
	s->zero += src->zero;
	CHECK_INVARIANTS(s);
	return SKETCH_OK;
}

sketch_error
sketch_set_quantiles(struct sketch **sp, const double *q, int nq,
					 const sketch_allocator *a)
{
	struct sketch *s = *sp;
	sketch_error err;

	if (nq < 0 || nq > SKETCH_MAX_QUANTILES)
		return SKETCH_EQUANTILE;
	for (int i = 0; i < nq; i++)
		if (!(q[i] >= 0.0 && q[i] <= 1.0))
			return SKETCH_EQUANTILE;
	if (nq != s->nq)
	{
		err = relayout(sp, a, nq, s->sum.base, s->sum.cap,
					   store_plan_of(&s->pos), store_plan_of(&s->neg));
		if (err != SKETCH_OK)
			return err;
		s = *sp;
	}
	memcpy((char *) s + s->qdata, q, sizeof(double) * nq);
	return SKETCH_OK;
}

uint64_t
sketch_collapsed(const struct sketch *s)
{
	return s->pos.collapsed + s->neg.collapsed;
}

/* ----------------------------------------------------------------
 * Reading
 * ----------------------------------------------------------------
 */

static inline double
clamp(const struct sketch *s, double v)
{
	if (v < s->min)
		return s->min;
	if (v > s->max)
		return s->max;
	return v;
}

/*
 * Value of the rank-th smallest value (1-based), as its bucket's value.
 */
static double
value_at_rank(const struct sketch *s, uint64_t rank)
{
	uint64_t	seen = 0;
	const struct sketch_store *st = &s->neg;
	int32_t		k;

	/* negative values, most negative (highest key) first */
	for (int32_t i = store_positions(st) - 1; i >= 0; i--)
	{
		seen += store_at(s, st, i, &k);
		if (seen >= rank)
			return -key_value(s, k);
	}
	seen += st->collapsed;
	if (seen >= rank)
		return -key_lower(s, store_floor(s, st));
	seen += s->zero;
	if (seen >= rank)
		return 0.0;
	st = &s->pos;
	seen += st->collapsed;
	if (seen >= rank)
		return key_lower(s, store_floor(s, st));
	for (int32_t i = 0; i < store_positions(st); i++)
	{
		seen += store_at(s, st, i, &k);
		if (seen >= rank)
			return key_value(s, k);
	}
	return s->max;
}

double
sketch_quantile(const struct sketch *s, double q)
{
	double		r;
	uint64_t	rank;

	if (s->count == 0 || !(q >= 0.0 && q <= 1.0))
		return NAN;
	if (q == 0.0)
		return s->min;
	if (q == 1.0)
		return s->max;
	/* the same rank as percentile_disc: ceil(q * n), at least 1 */
	r = ceil(q * (double) s->count);
	rank = r < 1.0 ? 1 : (uint64_t) r;
	if (rank > s->count)
		rank = s->count;
	return clamp(s, value_at_rank(s, rank));
}

double
sketch_rank(const struct sketch *s, double x)
{
	uint64_t	below = 0;
	const struct sketch_store *st;
	int32_t		k;

	if (s->count == 0 || isnan(x))
		return NAN;
	if (x < s->min)
		return 0.0;
	if (x >= s->max)
		return 1.0;

	/* count every bucket whose value is <= x */
	st = &s->neg;
	for (int32_t i = store_positions(st) - 1; i >= 0; i--)
	{
		uint64_t	c = store_at(s, st, i, &k);

		if (clamp(s, -key_value(s, k)) <= x)
			below += c;
	}
	if (st->collapsed > 0 && clamp(s, -key_lower(s, store_floor(s, st))) <= x)
		below += st->collapsed;
	if (x >= 0.0)
		below += s->zero;
	st = &s->pos;
	if (st->collapsed > 0 && clamp(s, key_lower(s, store_floor(s, st))) <= x)
		below += st->collapsed;
	for (int32_t i = 0; i < store_positions(st); i++)
	{
		uint64_t	c = store_at(s, st, i, &k);

		if (clamp(s, key_value(s, k)) > x)
			break;
		below += c;
	}
	return (double) below / (double) s->count;
}

bool
sketch_bucket_next(const struct sketch *s, sketch_bucket_iter *it,
				   sketch_bucket *out)
{
	/*
	 * A simple state machine: phase 0 negatives (key counts down from
	 * neg.hi), 1 negative collapsed, 2 zero, 3 positive collapsed, 4
	 * positives (key counts up from pos.lo), 5 done.  it->key holds the next
	 * store position (see store_positions()) counted from the start of the
	 * phase's range.
	 */
	while (it->phase < 5)
	{
		switch (it->phase)
		{
			case 0:
				{
					const struct sketch_store *st = &s->neg;
					int32_t		npos = store_positions(st);

					while (it->key < npos)
					{
						int32_t		k;
						uint64_t	c = store_at(s, st, npos - 1 - (int32_t) it->key, &k);
						double		lower,
									upper;

						it->key++;
						if (c == 0)
							continue;
						sketch_key_bounds(s, k, &lower, &upper);
						out->lower = -upper;
						out->upper = -lower;
						out->count = c;
						return true;
					}
					it->phase = 1;
					it->key = 0;
					break;
				}
			case 1:
				it->phase = 2;
				if (s->neg.collapsed > 0)
				{
					out->lower = -key_lower(s, store_floor(s, &s->neg));
					out->upper = 0.0;
					if (out->lower < s->min)
						out->lower = s->min;
					out->count = s->neg.collapsed;
					return true;
				}
				break;
			case 2:
				it->phase = 3;
				if (s->zero > 0)
				{
					out->lower = 0.0;
					out->upper = 0.0;
					out->count = s->zero;
					return true;
				}
				break;
			case 3:
				it->phase = 4;
				it->key = 0;
				if (s->pos.collapsed > 0)
				{
					out->lower = s->min > 0.0 ? s->min : 0.0;
					out->upper = key_lower(s, store_floor(s, &s->pos));
					out->count = s->pos.collapsed;
					return true;
				}
				break;
			case 4:
				{
					const struct sketch_store *st = &s->pos;
					int32_t		npos = store_positions(st);

					while (it->key < npos)
					{
						int32_t		k;
						uint64_t	c = store_at(s, st, (int32_t) it->key, &k);

						it->key++;
						if (c == 0)
							continue;
						sketch_key_bounds(s, k, &out->lower, &out->upper);
						out->count = c;
						return true;
					}
					it->phase = 5;
					break;
				}
		}
	}
	return false;
}

/* ----------------------------------------------------------------
 * Building a decoded sketch (for both decoders: sketch_packed.c and
 * sketch_text.c fill a struct decoded; this validates and lays it out)
 * ----------------------------------------------------------------
 */

/*
 * The shape a decoded store is built in: sparse, with just enough entries
 * and centred deltas, when a sparse store could hold it (see
 * store_add_sparse()), else a dense window over its span (max_buckets when
 * collapsed).  A sketch read from disk to be merged into, as rollups do,
 * then stays as small as the sketch it came from.
 */
static store_plan
decoded_plan(const decoded_store *ds, uint64_t max_buckets)
{
	int32_t		span;
	int32_t		n = 0;
	bool		sparse;
	store_plan	p = {0, 0, 0};

	if (!ds->present)
		return p;
	span = ds->hi - ds->lo + 1;
	sparse = ds->collapsed == 0 && span <= SPARSE_DELTA_MAX;
	for (int32_t i = 0; sparse && i < span; i++)
	{
		if (ds->counts[i] > SPARSE_COUNT_MAX)
			sparse = false;
		n += ds->counts[i] != 0;
	}
	if (sparse && n <= SPARSE_MAX_ENTRIES)
	{
		p.offset = ds->lo - (SPARSE_DELTA_MAX - (span - 1)) / 2;
		p.sparse_cap = (n + 1) & ~1;
		return p;
	}
	p.cap = ds->collapsed > 0 ? (int32_t) max_buckets : span;
	p.offset = ds->collapsed > 0 ? ds->hi - (int32_t) max_buckets + 1 : ds->lo;
	return p;
}

/*
 * Validate a decoded sketch and build it in *out (in the dense-magic block;
 * small stores sparse, see decoded_plan()).  Checks that
 * make a sketch impossible to have been produced by adding values are all
 * errors, so a decoded sketch behaves exactly like a built one.
 */
sketch_error
sketch_decoded_build(decoded *d, struct sketch **out, const sketch_allocator *a,
			  char *errbuf, size_t errlen)
{
	int32_t		per_octave;
	uint64_t	total;
	struct sketch *s;
	size_t		size;
	int32_t		sum_cap;

	if (sketch_check_alpha(d->alpha) != SKETCH_OK)
		return fail(errbuf, errlen, SKETCH_ECORRUPT,
					"alpha out of range");
	if (d->max_buckets < SKETCH_MIN_MAX_BUCKETS ||
		d->max_buckets > SKETCH_MAX_MAX_BUCKETS)
		return fail(errbuf, errlen, SKETCH_ECORRUPT,
					"max_buckets out of range");
	per_octave = per_octave_for(d->alpha);

	if (d->count == 0)
	{
		if (d->zero != 0 || d->pos.present || d->neg.present ||
			d->sum_ndigits != 0)
			return fail(errbuf, errlen, SKETCH_ECORRUPT,
						"empty sketch with buckets or a sum");
	}
	else
	{
		if (!isfinite(d->min) || !isfinite(d->max) || d->min > d->max)
			return fail(errbuf, errlen, SKETCH_ECORRUPT,
						"min and max must be finite and in order");
		if (d->pos.present != (d->max > 0.0))
			return fail(errbuf, errlen, SKETCH_ECORRUPT,
						"positive buckets do not match max");
		if (d->neg.present != (d->min < 0.0))
			return fail(errbuf, errlen, SKETCH_ECORRUPT,
						"negative buckets do not match min");
		if (d->zero > 0 && !(d->min <= 0.0 && d->max >= 0.0))
			return fail(errbuf, errlen, SKETCH_ECORRUPT,
						"zero count outside [min, max]");
		if (d->zero == 0 && !d->pos.present && !d->neg.present)
			return fail(errbuf, errlen, SKETCH_ECORRUPT,
						"sketch with a count but no values");
		/* min and max are values added: 0 only when a 0 was (never -0) */
		if ((d->min == 0.0 || d->max == 0.0) && d->zero == 0)
			return fail(errbuf, errlen, SKETCH_ECORRUPT,
						"min or max of 0 without a zero count");
		if ((d->min == 0.0 && signbit(d->min)) ||
			(d->max == 0.0 && signbit(d->max)))
			return fail(errbuf, errlen, SKETCH_ECORRUPT,
						"min or max is -0");
	}

	total = d->zero;
	for (int side = 0; side < 2; side++)
	{
		decoded_store *st = side ? &d->neg : &d->pos;
		uint64_t	sum = st->collapsed;

		if (!st->present)
			continue;
		if (st->lo < key_min(per_octave) || st->hi > key_max(per_octave) ||
			st->lo > st->hi)
			return fail(errbuf, errlen, SKETCH_ECORRUPT,
						"bucket index out of range");
		if ((uint64_t) ((int64_t) st->hi - st->lo + 1) > d->max_buckets)
			return fail(errbuf, errlen, SKETCH_ECORRUPT,
						"more buckets than max_buckets");
		if (st->counts[0] == 0 || st->counts[st->hi - st->lo] == 0)
			return fail(errbuf, errlen, SKETCH_ECORRUPT,
						"empty bucket at the edge of a store");
		for (int32_t i = 0; i <= st->hi - st->lo; i++)
		{
			if (sum + st->counts[i] < sum)
				return fail(errbuf, errlen, SKETCH_ECORRUPT,
							"bucket counts overflow");
			sum += st->counts[i];
		}
		if (total + sum < total)
			return fail(errbuf, errlen, SKETCH_ECORRUPT,
						"bucket counts overflow");
		total += sum;
		/* the extreme values must lie in the extreme buckets */
		if (side == 0)
		{
			if (key_of(per_octave, d->max) != st->hi)
				return fail(errbuf, errlen, SKETCH_ECORRUPT,
							"max is not in the highest bucket");
			if (d->min > 0.0 && st->collapsed == 0 &&
				key_of(per_octave, d->min) != st->lo)
				return fail(errbuf, errlen, SKETCH_ECORRUPT,
							"min is not in the lowest bucket");
		}
		else
		{
			if (key_of(per_octave, -d->min) != st->hi)
				return fail(errbuf, errlen, SKETCH_ECORRUPT,
							"min is not in the highest negative bucket");
			if (d->max < 0.0 && st->collapsed == 0 &&
				key_of(per_octave, -d->max) != st->lo)
				return fail(errbuf, errlen, SKETCH_ECORRUPT,
							"max is not in the lowest negative bucket");
		}
		if (st->collapsed > 0)
		{
			int64_t		floor = (int64_t) st->hi - (int64_t) d->max_buckets + 1;

			if (st->lo < floor)
				return fail(errbuf, errlen, SKETCH_ECORRUPT,
							"bucket below the collapse floor");

			/*
			 * Collapsed values lie below the floor, so the extreme value on
			 * that side (when the side holds it) must lie there too.
			 */
			if (side == 0 && d->min > 0.0 &&
				key_of(per_octave, d->min) >= floor)
				return fail(errbuf, errlen, SKETCH_ECORRUPT,
							"collapsed values above min");
			if (side == 1 && d->max < 0.0 &&
				key_of(per_octave, -d->max) >= floor)
				return fail(errbuf, errlen, SKETCH_ECORRUPT,
							"collapsed values above max");
		}
	}
	if (total != d->count)
		return fail(errbuf, errlen, SKETCH_ECORRUPT,
					"bucket counts do not add up to count");

	/* sum: digits canonical, and within count * [min, max] */
	if (d->sum_ndigits > 0)
	{
		double		v;
		sketch_error err;
		double		lo_bound,
					hi_bound;

		if (d->sum_low < 0 ||
			d->sum_low + d->sum_ndigits > SUM_CHUNKS_MAX ||
			d->sum_digits[0] == 0 || d->sum_digits[d->sum_ndigits - 1] == 0)
			return fail(errbuf, errlen, SKETCH_ECORRUPT,
						"malformed sum");
		/*
		 * |sum| <= count * max(|min|, |max|): first by magnitude, which
		 * also works when the sum does not fit a double.
		 */
		{
			int64_t		msb = 32 * (d->sum_low + d->sum_ndigits - 1) +
				(31 - __builtin_clz(d->sum_digits[d->sum_ndigits - 1])) - 1074;
			double		m = fabs(d->min) > fabs(d->max) ? fabs(d->min) : fabs(d->max);
			int			em;
			int			ec = 64 - __builtin_clzll(d->count);

			(void) frexp(m, &em);	/* m < 2^em */
			if (m == 0.0 || msb >= (int64_t) em + ec)
				return fail(errbuf, errlen, SKETCH_ECORRUPT,
							"sum inconsistent with count, min and max");
		}
		v = digits_to_double(d->sum_negative, (int32_t) d->sum_low,
							 d->sum_digits, d->sum_ndigits, &err);
		lo_bound = (double) d->count * d->min;
		hi_bound = (double) d->count * d->max;
		if (err == SKETCH_OK &&
			(v < lo_bound - fabs(lo_bound) * 1e-9 ||
			 v > hi_bound + fabs(hi_bound) * 1e-9))
			return fail(errbuf, errlen, SKETCH_ECORRUPT,
						"sum inconsistent with count, min and max");
	}
	for (int i = 0; i < d->nq; i++)
		if (!(d->q[i] >= 0.0 && d->q[i] <= 1.0))
			return fail(errbuf, errlen, SKETCH_ECORRUPT,
						"carried quantile outside [0, 1]");

	/* build */
	sum_cap = d->sum_ndigits > 0 ? d->sum_ndigits + 1 : INITIAL_SUM_CAP;
	if (d->sum_ndigits > 0 && d->sum_low + sum_cap > SUM_CHUNKS_MAX)
		sum_cap = SUM_CHUNKS_MAX - (int32_t) d->sum_low;
	{
		store_plan	pos = decoded_plan(&d->pos, d->max_buckets);
		store_plan	neg = decoded_plan(&d->neg, d->max_buckets);

		size = layout_size(d->nq, sum_cap, pos, neg);
		s = a->alloc(size, a->ctx);
		if (s == NULL)
			return fail(errbuf, errlen, SKETCH_ENOMEM, "out of memory");
		memset(s, 0, size);
		s->magic = SKETCH_DENSE_MAGIC;
		s->max_buckets = (uint32_t) d->max_buckets;
		s->per_octave = per_octave;
		s->alpha = d->alpha;
		s->count = d->count;
		s->zero = d->zero;
		s->min = d->count > 0 ? d->min : 0.0;
		s->max = d->count > 0 ? d->max : 0.0;
		layout_assign(s, d->nq, sum_cap, pos, neg);
		s->pos.offset = pos.offset;
		s->neg.offset = neg.offset;
	}
	memcpy((char *) s + s->qdata, d->q, sizeof(double) * d->nq);
	s->sum.base = d->sum_ndigits > 0 ? (int32_t) d->sum_low : 0;
	for (int i = 0; i < d->sum_ndigits; i++)
		sum_chunks(s)[i] = d->sum_negative ? -(int64_t) d->sum_digits[i]
			: (int64_t) d->sum_digits[i];
	sum_normalize(s);
	for (int side = 0; side < 2; side++)
	{
		decoded_store *ds = side ? &d->neg : &d->pos;
		struct sketch_store *st = side ? &s->neg : &s->pos;

		if (!ds->present)
			continue;
		st->lo = ds->lo;
		st->hi = ds->hi;
		st->collapsed = ds->collapsed;
		for (int32_t i = 0; i <= ds->hi - ds->lo; i++)
		{
			uint64_t	c = ds->counts[i];

			if (c == 0)
				continue;
			if (st->sparse_cap > 0)
			{
				struct sketch_sparse_entry *e = sparse_entries(s, st) + st->nsparse++;

				e->delta = (uint16_t) (ds->lo + i - st->offset);
				e->count = (uint16_t) c;
			}
			else
				store_counts(s, st)[ds->lo + i - st->offset] = c;
			st->bucketed += c;
		}
	}
	CHECK_INVARIANTS(s);
	*out = s;
	return SKETCH_OK;
}
