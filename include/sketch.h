/*
 * sketch.h
 *		The relative-error quantile sketch shared by the extension and the
 *		driver (DDSketch family: logarithmic buckets, gamma = (1+a)/(1-a)).
 *
 * No PostgreSQL headers here: perfdriver links the core (src/sketch.c,
 * sketch_packed.c, sketch_text.c) too.  Memory comes from a caller-supplied
 * allocator, so the extension uses palloc and the driver malloc on the same
 * code.
 *
 * Two representations:
 *
 *	- struct sketch, the in-memory ("dense-magic") form: one flat, mutable
 *	  block holding the header and every array.  Operations that must grow
 *	  it reallocate the whole block through the allocator and hand back the
 *	  new pointer.  Its first four bytes are reserved for a PostgreSQL
 *	  varlena header, which the core never reads or writes; "size" holds the
 *	  block's length.  Each sign's buckets are a dense window of counts or,
 *	  while they are few, a sparse list (see struct sketch_store).
 *	- the packed form: a versioned, compact byte string (delta and varint
 *	  encoded) used on disk, on the wire and by the bytea cast.  The text form
 *	  is a JSON object with the same content.  Both are canonical: equal
 *	  sketches encode to identical bytes and text.
 *
 * Exactness: count, min, max and sum are exact.  The sum is kept in an exact
 * fixed-point accumulator, so merging is associative and commutative: merged
 * per-part sketches are identical to the sketch of the union.
 *
 * Thread safety: a sketch is not shared between threads without locking.  The
 * bucket mapping for an alpha is cached process-wide, built on first use
 * and safe to build from any thread; sketch_prepare_alpha() builds it ahead,
 * so that threads do not pay for it (perfdriver calls it in its main thread
 * before starting threads).
 */
#ifndef PERFSTORE_SKETCH_H
#define PERFSTORE_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SKETCH_DEFAULT_ALPHA		0.01
#define SKETCH_MIN_ALPHA			0.0001
#define SKETCH_MAX_ALPHA			0.1
#define SKETCH_DEFAULT_MAX_BUCKETS	2048
/* the bounds of a sketch's max_buckets (per sign), checked by every decoder */
#define SKETCH_MIN_MAX_BUCKETS	16
#define SKETCH_MAX_MAX_BUCKETS	(1 << 18)
#define SKETCH_MAX_QUANTILES		255
#define SKETCH_PACKED_VERSION		1

/* Error codes returned by the core; sketch_strerror() describes them. */
typedef enum sketch_error
{
	SKETCH_OK = 0,
	SKETCH_ENOMEM,				/* the allocator returned NULL */
	SKETCH_ENOTFINITE,			/* NaN or +-Infinity given as a value */
	SKETCH_EALPHA,				/* alpha outside [MIN_ALPHA, MAX_ALPHA] */
	SKETCH_EQUANTILE,			/* q outside [0, 1] or NaN */
	SKETCH_EMISMATCH,			/* merging sketches with different alpha */
	SKETCH_ECORRUPT,			/* malformed packed or text input */
	SKETCH_EVERSION,			/* packed input of an unknown version */
	SKETCH_ERANGE,				/* result does not fit a double */
	SKETCH_ECOUNT				/* merged count would exceed 2^64 - 1 */
} sketch_error;

/*
 * The allocator: alloc returns size bytes aligned for double, or NULL (the
 * extension's palloc never returns NULL, it raises an error).  free may be
 * NULL when the caller frees memory in bulk (PostgreSQL memory contexts).
 */
typedef struct sketch_allocator
{
	void	   *(*alloc) (size_t size, void *ctx);
	void		(*free) (void *ptr, void *ctx);
	void	   *ctx;
} sketch_allocator;

/*
 * One sign's buckets, in one of two forms.
 *
 *	- Dense: counts[k - offset] (uint64) for key k in [offset, offset+cap).
 *	  Once something has collapsed, the window starts at or below the floor
 *	  and may hold up to sketch_window_limit() slots: the slack above
 *	  max_buckets lets the floor rise many times before the counts have to
 *	  be shifted.
 *	- Sparse (sparse_cap > 0, cap 0): nsparse entries of struct
 *	  sketch_sparse_entry sorted by key, key = offset + delta, for a store
 *	  with few distinct keys (a sketch of a few values).  A sparse store
 *	  never has collapsed values, spans at most max_buckets keys and holds
 *	  counts below 2^16; it turns dense when it would break one of these or
 *	  when dense pays (see store_add_sparse() in sketch.c).
 *
 * A store with neither form yet (cap and sparse_cap 0) is empty.  The form
 * is a matter of memory and speed only: both give the same readings and
 * encodings, and the packed and text forms do not record it.
 */
struct sketch_store
{
	int32_t		offset;			/* key of the first slot / of delta 0 */
	int32_t		cap;			/* dense slots allocated; 0 while sparse */
	int32_t		lo;				/* lowest non-empty key (if any) */
	int32_t		hi;				/* highest non-empty key (if any) */
	uint16_t	nsparse;		/* sparse entries in use */
	uint16_t	sparse_cap;		/* sparse entries allocated; 0 if dense */
	uint32_t	data;			/* byte offset of the counts or entries */
	uint64_t	bucketed;		/* values in the buckets */
	uint64_t	collapsed;		/* values below floor, folded together */
};

/* One bucket of a sparse store. */
struct sketch_sparse_entry
{
	uint16_t	delta;			/* key - offset */
	uint16_t	count;			/* at least 1 */
};

/* Most slots a store's window may have: max_buckets and half as much slack. */
static inline int64_t
sketch_window_limit(uint32_t max_buckets)
{
	return (int64_t) max_buckets + max_buckets / 2;
}

/* Exact sum: sum of chunk[i] * 2^(32*(base+i) - 1074), chunks int64. */
struct sketch_sum
{
	int32_t		base;
	int32_t		cap;
	uint32_t	data;			/* byte offset of the int64 chunks */
	uint32_t	pending;		/* additions since the last carry pass */
};

struct sketch
{
	char		vl_len_[4];		/* reserved for PostgreSQL; not touched */
	uint8_t		magic;			/* SKETCH_DENSE_MAGIC */
	uint8_t		nq;				/* quantiles carried (approx_percentile) */
	uint16_t	reserved;
	uint32_t	size;			/* bytes in this block */
	uint32_t	max_buckets;	/* per sign */
	int32_t		per_octave;		/* buckets per power of two */
	double		alpha;			/* as requested */
	uint64_t	count;			/* all values */
	uint64_t	zero;			/* values equal to zero */
	double		min;
	double		max;
	struct sketch_sum sum;
	struct sketch_store pos;	/* values > 0, key of v */
	struct sketch_store neg;	/* values < 0, key of -v */
	uint32_t	qdata;			/* byte offset of nq doubles */
	uint32_t	pad;
};

#define SKETCH_DENSE_MAGIC 0xD5

/* One bucket as reported by sketch_bucket_next(). */
typedef struct sketch_bucket
{
	double		lower;
	double		upper;
	uint64_t	count;
} sketch_bucket;

/* Iterator state for sketch_bucket_next(); zero it to start. */
typedef struct sketch_bucket_iter
{
	int			phase;
	int64_t		key;
} sketch_bucket_iter;

extern const char *sketch_strerror(sketch_error err);

/* SKETCH_OK if alpha is allowed, else SKETCH_EALPHA. */
extern sketch_error sketch_check_alpha(double alpha);

/*
 * Build (once) the bucket mapping for alpha, ahead of its first use.  Every
 * other entry point builds it lazily, safely from any thread.
 */
extern sketch_error sketch_prepare_alpha(double alpha);

/*
 * Bucket budget per sign for alpha: SKETCH_DEFAULT_MAX_BUCKETS at the default
 * alpha, scaled so that finer alphas cover the same dynamic range (about
 * 2^58 between the lowest and highest exact bucket).  0 for a bad alpha.
 */
extern uint32_t sketch_default_max_buckets(double alpha);

/* Change the bucket budget of an empty sketch (16 to 2^18). */
extern sketch_error sketch_set_max_buckets(struct sketch *s,
										   uint32_t max_buckets);

/*
 * Bytes to allocate for an empty sketch with nq quantiles: a power of two
 * (allocators round small requests up to one anyway) of at least 512, so a
 * sketch of a few dozen values never has to grow; see sketch_init().
 */
extern size_t sketch_size_empty(int nq);

/*
 * Initialise an empty sketch in a block of size bytes, at least
 * sketch_size_empty(nq); the room left after the header is given to the
 * positive store's sparse entries.  Returns SKETCH_EALPHA for a bad alpha
 * (the block is then unusable) and SKETCH_ECORRUPT for a bad nq or size.
 */
extern sketch_error sketch_init(struct sketch *s, size_t size, double alpha,
								int nq);

/* Allocate and initialise an empty sketch; NULL on a bad alpha or ENOMEM. */
extern struct sketch *sketch_create(const sketch_allocator *a, double alpha);

/* Copy a sketch into a new block from a; NULL on ENOMEM. */
extern struct sketch *sketch_copy(const struct sketch *s,
								  const sketch_allocator *a);

/*
 * Add one value.  May replace *sp by a larger block allocated from a (the old
 * block is passed to a->free if set).  On error *sp is unchanged.
 */
extern sketch_error sketch_add(struct sketch **sp, double v,
							   const sketch_allocator *a);

/*
 * Merge src into *dst (same alpha required).  May replace *dst as
 * sketch_add() does.  src is not modified.
 */
extern sketch_error sketch_merge(struct sketch **dst, const struct sketch *src,
								 const sketch_allocator *a);

/* Replace the carried quantiles (used by approx_percentile states). */
extern sketch_error sketch_set_quantiles(struct sketch **sp, const double *q,
										 int nq, const sketch_allocator *a);

static inline const double *
sketch_quantiles_carried(const struct sketch *s)
{
	return (const double *) ((const char *) s + s->qdata);
}

/* Readers.  Quantile and rank of an empty sketch are NaN. */
extern double sketch_quantile(const struct sketch *s, double q);
extern double sketch_rank(const struct sketch *s, double x);
extern double sketch_sum_value(const struct sketch *s, sketch_error *err);
extern double sketch_mean(const struct sketch *s, sketch_error *err);
extern uint64_t sketch_collapsed(const struct sketch *s);

/*
 * NULL if the size bytes at s are a dense-magic sketch whose header, offsets
 * and windows every reader can follow without leaving the block, else what
 * is wrong.  For blocks that come from outside (a corrupt aggregate state
 * must raise an error, not crash).  O(sparse entries).
 */
extern const char *sketch_layout_violation(const struct sketch *s, size_t size);

/*
 * NULL if every structural invariant of s holds, else what is broken.  Built
 * with -DSKETCH_CHECK_INVARIANTS, the core checks this after every change.
 */
extern const char *sketch_invariant_violation(const struct sketch *s);

/* Next bucket in ascending value order; false when done. */
extern bool sketch_bucket_next(const struct sketch *s, sketch_bucket_iter *it,
							   sketch_bucket *out);

/* Lower and upper bound of a key's bucket (positive side). */
extern void sketch_key_bounds(const struct sketch *s, int32_t key,
							  double *lower, double *upper);

/*
 * Packed form.  sketch_packed_size() is an upper bound on what sketch_pack()
 * writes; sketch_pack() returns the bytes written.
 */
extern size_t sketch_packed_size(const struct sketch *s);
extern size_t sketch_pack(const struct sketch *s, uint8_t *out);

/*
 * Decode a packed sketch, validating everything.  On success *out is a new
 * dense sketch from a.  On failure returns SKETCH_ECORRUPT, SKETCH_EVERSION,
 * SKETCH_EALPHA or SKETCH_ENOMEM and writes a one-line reason into errbuf.
 */
extern sketch_error sketch_unpack(const uint8_t *buf, size_t len,
								  struct sketch **out,
								  const sketch_allocator *a,
								  char *errbuf, size_t errlen);

/*
 * Text form.  sketch_text_size() bounds what sketch_to_text() writes,
 * including the terminating NUL; sketch_to_text() returns the length.
 */
extern size_t sketch_text_size(const struct sketch *s);
extern size_t sketch_to_text(const struct sketch *s, char *out);

/* Parse the text form; same contract as sketch_unpack(). */
extern sketch_error sketch_from_text(const char *str, struct sketch **out,
									 const sketch_allocator *a,
									 char *errbuf, size_t errlen);

#endif							/* PERFSTORE_SKETCH_H */
