/*
 * sketch_int.h
 *		Internals shared by the files of the sketch core: sketch.c (mapping,
 *		stores, adding, merging, reading), sketch_packed.c (the packed form)
 *		and sketch_text.c (the text form).  Not installed: the public API is
 *		include/sketch.h alone.
 *
 * Owns: the accessors of the dense-magic block's arrays, the decoded form
 * both decoders fill (struct decoded) and its helpers, and the prototypes of
 * the two core functions the codecs call.
 *
 * Must not: be included by anything but src/sketch*.c (sketch_sql.c and the
 * driver use include/sketch.h); include PostgreSQL headers (the driver
 * compiles these files too); export a symbol: helpers are static inline,
 * and the functions declared here have hidden visibility, so the
 * extension's shared library exports the same symbols as before.
 *
 * Memory: nothing here allocates.  A decoder allocates a decoded's counts
 * from the caller's allocator; decoded_free() gives them back.
 */
#ifndef PERFSTORE_SKETCH_INT_H
#define PERFSTORE_SKETCH_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sketch.h"

/* for functions shared between the core's files only */
#define SKETCH_INTERNAL __attribute__((visibility("hidden")))

#define SUM_CHUNKS_MAX			70		/* 2098 bits of range + carries */

/* ----------------------------------------------------------------
 * Layout accessors: a store's counts or sparse entries, the sum's chunks
 * ----------------------------------------------------------------
 */

static inline uint64_t *
store_counts(struct sketch *s, struct sketch_store *st)
{
	return (uint64_t *) ((char *) s + st->data);
}

static inline const uint64_t *
store_counts_c(const struct sketch *s, const struct sketch_store *st)
{
	return (const uint64_t *) ((const char *) s + st->data);
}

static inline struct sketch_sparse_entry *
sparse_entries(struct sketch *s, struct sketch_store *st)
{
	return (struct sketch_sparse_entry *) ((char *) s + st->data);
}

static inline const struct sketch_sparse_entry *
sparse_entries_c(const struct sketch *s, const struct sketch_store *st)
{
	return (const struct sketch_sparse_entry *) ((const char *) s + st->data);
}

/*
 * Readers see a non-empty store as positions 0 .. store_positions() - 1 in
 * ascending key order, whatever its form: a dense store's position i is key
 * lo + i (its count may be 0), a sparse store's is its entry i.
 */
static inline int32_t
store_positions(const struct sketch_store *st)
{
	if (st->bucketed == 0)
		return 0;
	return st->sparse_cap > 0 ? st->nsparse : st->hi - st->lo + 1;
}

/* Count and key (*key) at position i of a non-empty store. */
static inline uint64_t
store_at(const struct sketch *s, const struct sketch_store *st, int32_t i,
		 int32_t *key)
{
	if (st->sparse_cap > 0)
	{
		const struct sketch_sparse_entry *e = sparse_entries_c(s, st) + i;

		*key = st->offset + e->delta;
		return e->count;
	}
	*key = st->lo + i;
	return store_counts_c(s, st)[st->lo + i - st->offset];
}

static inline int64_t *
sum_chunks(struct sketch *s)
{
	return (int64_t *) ((char *) s + s->sum.data);
}

static inline const int64_t *
sum_chunks_c(const struct sketch *s)
{
	return (const int64_t *) ((const char *) s + s->sum.data);
}

/*
 * The sum as sign and magnitude digits: digits[0..ndigits) little-endian
 * 32-bit digits, digits[0] being chunk 'low'.  Leading and trailing zero
 * digits are stripped; a zero sum gives ndigits = 0.  s is not modified.
 * digits must hold SUM_CHUNKS_MAX + 2 entries.  (sketch.c)
 */
SKETCH_INTERNAL void sketch_sum_digits(const struct sketch *s, int *negative,
									   int32_t *low, uint32_t *digits,
									   int *ndigits);

/* ----------------------------------------------------------------
 * The decoded form, between a decoder and the core
 * ----------------------------------------------------------------
 */

/*
 * Everything a decoder reads, before it is turned into a dense sketch: the
 * text and packed decoders both fill this, and sketch_decoded_build()
 * validates it as a whole.
 */
typedef struct decoded_store
{
	bool		present;
	uint64_t	collapsed;
	int32_t		lo;
	int32_t		hi;
	uint64_t   *counts;			/* hi - lo + 1 entries, from a */
} decoded_store;

typedef struct decoded
{
	double		alpha;
	uint64_t	max_buckets;
	uint64_t	count;
	double		min;
	double		max;
	uint64_t	zero;
	int			sum_negative;
	int64_t		sum_low;
	int			sum_ndigits;
	uint32_t	sum_digits[SUM_CHUNKS_MAX + 2];
	decoded_store pos;
	decoded_store neg;
	int			nq;
	double		q[SKETCH_MAX_QUANTILES];
} decoded;

/* Free what a decoder allocated into d (not d itself). */
static inline void
decoded_free(decoded *d, const sketch_allocator *a)
{
	if (a->free == NULL)
		return;
	if (d->pos.counts)
		a->free(d->pos.counts, a->ctx);
	if (d->neg.counts)
		a->free(d->neg.counts, a->ctx);
}

/* Write the reason what into errbuf (if any) and return err. */
static inline sketch_error
fail(char *errbuf, size_t errlen, sketch_error err, const char *what)
{
	if (errbuf != NULL && errlen > 0)
		snprintf(errbuf, errlen, "%s", what);
	return err;
}

/*
 * Validate a decoded sketch and build it in *out, a new block from a.
 * Returns SKETCH_OK, or SKETCH_ECORRUPT (or SKETCH_ENOMEM) with the reason
 * in errbuf; d is left for the caller to free (decoded_free()).  (sketch.c)
 */
SKETCH_INTERNAL sketch_error sketch_decoded_build(decoded *d,
												  struct sketch **out,
												  const sketch_allocator *a,
												  char *errbuf, size_t errlen);

#endif							/* PERFSTORE_SKETCH_INT_H */
