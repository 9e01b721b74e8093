/*
 * sketch_packed.c
 *		The packed form of a sketch: a versioned, compact, canonical byte
 *		string (delta and varint encoded), used on disk, on the wire and by
 *		the bytea cast.  Its encoder and its validating decoder.
 *
 * Owns: the packed format (described below) and its bounds-checked reader.
 *
 * Must not: include PostgreSQL headers (perfdriver links this file too);
 * trust a byte of its input (every length, count and key is checked before
 * use, and sketch_decoded_build() in sketch.c validates the whole); change
 * the bytes written for a sketch (stored sketches must compare equal).
 *
 * Memory: sketch_pack() writes into the caller's buffer.  sketch_unpack()
 * allocates its working state and the new sketch from the caller's
 * allocator and, when the allocator can free, frees everything but the
 * sketch it returns.
 */
#include "sketch_int.h"

#include <string.h>

/* ----------------------------------------------------------------
 * Packed form
 * ----------------------------------------------------------------
 *
 * version 1:
 *	u8 version, u8 flags (1 pos, 2 neg, 4 quantiles)
 *	f64 alpha, varint max_buckets, varint count
 *	if count > 0: f64 min, f64 max
 *	varint zero
 *	sum: varint ndigits; if > 0: u8 sign, varint low chunk, ndigits varints
 *	per present store: varint collapsed, zigzag lowest key, varint nruns,
 *		per run: varint gap (0 for the first), varint length, then the first
 *		count as varint and the others as zigzag deltas from the previous
 *	if quantiles: varint nq, nq f64
 * All f64 little-endian.  Everything is canonical (no choice is left).
 */

#define FLAG_POS	1
#define FLAG_NEG	2
#define FLAG_Q		4

static inline uint8_t *
put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80)
	{
		*p++ = (uint8_t) (v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t) v;
	return p;
}

static inline uint64_t
zigzag(int64_t v)
{
	return ((uint64_t) v << 1) ^ (uint64_t) (v >> 63);
}

static inline int64_t
unzigzag(uint64_t v)
{
	return (int64_t) (v >> 1) ^ -(int64_t) (v & 1);
}

static inline uint8_t *
put_f64(uint8_t *p, double d)
{
	uint64_t	bits;

	memcpy(&bits, &d, sizeof(bits));
	for (int i = 0; i < 8; i++)
		*p++ = (uint8_t) (bits >> (8 * i));
	return p;
}

size_t
sketch_packed_size(const struct sketch *s)
{
	size_t		n = 2 + 8 + 10 + 10 + 16 + 10;

	n += 12 + 10 * (SUM_CHUNKS_MAX + 2);
	for (int side = 0; side < 2; side++)
	{
		const struct sketch_store *st = side ? &s->neg : &s->pos;

		if (st->bucketed > 0)
			n += 40 + 30 * (size_t) (st->hi - st->lo + 1);
	}
	n += 10 + 8 * (size_t) s->nq;
	return n;
}

/*
 * Position just past the run of non-empty buckets with consecutive keys that
 * starts at non-empty position i (of npos).
 */
static int32_t
store_run_end(const struct sketch *s, const struct sketch_store *st,
			  int32_t i, int32_t npos)
{
	int32_t		k;
	int32_t		next;

	(void) store_at(s, st, i, &k);
	for (i++; i < npos; i++, k++)
		if (store_at(s, st, i, &next) == 0 || next != k + 1)
			break;
	return i;
}

static uint8_t *
pack_store(const struct sketch *s, const struct sketch_store *st, uint8_t *p)
{
	int32_t		npos = store_positions(st);
	uint64_t	nruns = 0;
	int32_t		prev_end = st->lo;
	int32_t		k;

	p = put_varint(p, st->collapsed);
	p = put_varint(p, zigzag(st->lo));
	/* count runs first: the varint needs its value before the runs */
	for (int32_t i = 0; i < npos;)
	{
		if (store_at(s, st, i, &k) == 0)
		{
			i++;
			continue;
		}
		nruns++;
		i = store_run_end(s, st, i, npos);
	}
	p = put_varint(p, nruns);
	for (int32_t i = 0; i < npos;)
	{
		int32_t		end;
		int32_t		start;
		uint64_t	prev = store_at(s, st, i, &start);

		if (prev == 0)
		{
			i++;
			continue;
		}
		end = store_run_end(s, st, i, npos);
		p = put_varint(p, (uint64_t) (start - prev_end));
		p = put_varint(p, (uint64_t) (end - i));
		p = put_varint(p, prev);
		prev_end = start + (end - i);
		for (i++; i < end; i++)
		{
			uint64_t	c = store_at(s, st, i, &k);

			p = put_varint(p, zigzag((int64_t) (c - prev)));
			prev = c;
		}
	}
	return p;
}

size_t
sketch_pack(const struct sketch *s, uint8_t *out)
{
	uint8_t    *p = out;
	uint8_t		flags = 0;
	int			negative;
	int32_t		low;
	uint32_t	digits[SUM_CHUNKS_MAX + 2];
	int			nd;

	if (s->pos.bucketed > 0)
		flags |= FLAG_POS;
	if (s->neg.bucketed > 0)
		flags |= FLAG_NEG;
	if (s->nq > 0)
		flags |= FLAG_Q;
	*p++ = SKETCH_PACKED_VERSION;
	*p++ = flags;
	p = put_f64(p, s->alpha);
	p = put_varint(p, s->max_buckets);
	p = put_varint(p, s->count);
	if (s->count > 0)
	{
		p = put_f64(p, s->min);
		p = put_f64(p, s->max);
	}
	p = put_varint(p, s->zero);
	sketch_sum_digits(s, &negative, &low, digits, &nd);
	p = put_varint(p, (uint64_t) nd);
	if (nd > 0)
	{
		*p++ = (uint8_t) negative;
		p = put_varint(p, (uint64_t) low);
		for (int i = 0; i < nd; i++)
			p = put_varint(p, digits[i]);
	}
	if (flags & FLAG_POS)
		p = pack_store(s, &s->pos, p);
	if (flags & FLAG_NEG)
		p = pack_store(s, &s->neg, p);
	if (flags & FLAG_Q)
	{
		p = put_varint(p, s->nq);
		for (int i = 0; i < s->nq; i++)
			p = put_f64(p, sketch_quantiles_carried(s)[i]);
	}
	return (size_t) (p - out);
}

/* A bounds-checked reader for the decoders. */
typedef struct reader
{
	const uint8_t *p;
	const uint8_t *end;
	char	   *errbuf;
	size_t		errlen;
	bool		failed;
	bool		oom;			/* the failure was the allocator's */
} reader;

static void
reader_fail(reader *r, const char *what)
{
	if (!r->failed && r->errbuf != NULL && r->errlen > 0)
		snprintf(r->errbuf, r->errlen, "%s", what);
	r->failed = true;
}

static uint64_t
get_varint(reader *r)
{
	uint64_t	v = 0;

	for (int shift = 0; shift < 64; shift += 7)
	{
		uint8_t		b;

		if (r->p >= r->end)
		{
			reader_fail(r, "truncated data");
			return 0;
		}
		b = *r->p++;
		if (shift == 63 && (b & 0x7e) != 0)
			break;
		v |= (uint64_t) (b & 0x7f) << shift;
		if ((b & 0x80) == 0)
		{
			/* canonical: no redundant trailing zero groups */
			if (b == 0 && shift > 0)
				reader_fail(r, "non-canonical integer encoding");
			return v;
		}
	}
	reader_fail(r, "integer too large");
	return 0;
}

static double
get_f64(reader *r)
{
	uint64_t	bits = 0;
	double		d;

	if (r->end - r->p < 8)
	{
		reader_fail(r, "truncated data");
		return 0.0;
	}
	for (int i = 0; i < 8; i++)
		bits |= (uint64_t) r->p[i] << (8 * i);
	r->p += 8;
	memcpy(&d, &bits, sizeof(d));
	return d;
}

static void
unpack_store(reader *r, decoded_store *st, uint64_t max_buckets,
			 const sketch_allocator *a)
{
	uint64_t	nruns;
	int64_t		key;
	int64_t		lo;
	uint64_t	filled = 0;

	st->present = true;
	st->collapsed = get_varint(r);
	lo = unzigzag(get_varint(r));
	nruns = get_varint(r);
	if (r->failed)
		return;
	if (lo < INT32_MIN / 2 || lo > INT32_MAX / 2)
	{
		reader_fail(r, "bucket index out of range");
		return;
	}
	if (nruns == 0 || nruns > max_buckets)
	{
		reader_fail(r, "bad number of bucket runs");
		return;
	}
	st->counts = a->alloc(sizeof(uint64_t) * max_buckets, a->ctx);
	if (st->counts == NULL)
	{
		reader_fail(r, "out of memory");
		r->oom = true;
		return;
	}
	memset(st->counts, 0, sizeof(uint64_t) * max_buckets);
	key = lo;
	for (uint64_t run = 0; run < nruns && !r->failed; run++)
	{
		uint64_t	gap = get_varint(r);
		uint64_t	len = get_varint(r);
		uint64_t	prev;

		if (r->failed)
			return;
		if ((run == 0) != (gap == 0) || len == 0 ||
			gap > max_buckets || len > max_buckets ||
			(uint64_t) (key - lo) + gap + len > max_buckets)
		{
			reader_fail(r, "bucket runs overlap, are out of order or exceed max_buckets");
			return;
		}
		key += (int64_t) gap;
		prev = get_varint(r);
		if (prev == 0)
		{
			reader_fail(r, "zero count inside a bucket run");
			return;
		}
		st->counts[key - lo] = prev;
		for (uint64_t i = 1; i < len && !r->failed; i++)
		{
			int64_t		delta = unzigzag(get_varint(r));
			uint64_t	c = prev + (uint64_t) delta;

			/* c must stay >= 1 and must not wrap (delta may be INT64_MIN) */
			if ((delta < 0 && (uint64_t) 0 - (uint64_t) delta >= prev) ||
				(delta > 0 && c < prev))
			{
				reader_fail(r, "zero or overflowing count inside a bucket run");
				return;
			}
			st->counts[key - lo + (int64_t) i] = c;
			prev = c;
		}
		key += (int64_t) len;
		filled = (uint64_t) (key - lo);
	}
	st->lo = (int32_t) lo;
	st->hi = (int32_t) (lo + (int64_t) filled - 1);
}

sketch_error
sketch_unpack(const uint8_t *buf, size_t len, struct sketch **out,
			  const sketch_allocator *a, char *errbuf, size_t errlen)
{
	reader		r = {buf, buf + len, errbuf, errlen, false, false};
	decoded    *d;
	uint8_t		flags;
	uint64_t	nd;
	sketch_error err;

	if (len < 2)
		return fail(errbuf, errlen, SKETCH_ECORRUPT, "truncated data");
	if (buf[0] != SKETCH_PACKED_VERSION)
	{
		if (errbuf != NULL && errlen > 0)
			snprintf(errbuf, errlen, "unsupported version %u", (unsigned) buf[0]);
		return SKETCH_EVERSION;
	}
	d = a->alloc(sizeof(decoded), a->ctx);
	if (d == NULL)
		return fail(errbuf, errlen, SKETCH_ENOMEM, "out of memory");
	memset(d, 0, sizeof(decoded));
	r.p = buf + 1;
	flags = *r.p++;
	if (flags & ~(FLAG_POS | FLAG_NEG | FLAG_Q))
		reader_fail(&r, "unrecognized flags");
	d->alpha = get_f64(&r);
	d->max_buckets = get_varint(&r);
	d->count = get_varint(&r);
	if (!r.failed && (d->max_buckets < SKETCH_MIN_MAX_BUCKETS ||
					  d->max_buckets > SKETCH_MAX_MAX_BUCKETS))
		reader_fail(&r, "max_buckets out of range");
	if (!r.failed && sketch_check_alpha(d->alpha) != SKETCH_OK)
		reader_fail(&r, "alpha out of range");
	if (d->count > 0)
	{
		d->min = get_f64(&r);
		d->max = get_f64(&r);
	}
	d->zero = get_varint(&r);
	nd = get_varint(&r);
	if (!r.failed && nd > SUM_CHUNKS_MAX)
		reader_fail(&r, "malformed sum");
	if (!r.failed && nd > 0)
	{
		if (r.p >= r.end)
			reader_fail(&r, "truncated data");
		else
		{
			uint8_t		sign = *r.p++;
			uint64_t	low;

			if (sign > 1)
				reader_fail(&r, "malformed sum");
			d->sum_negative = sign;
			low = get_varint(&r);
			if (low > SUM_CHUNKS_MAX)
				reader_fail(&r, "malformed sum");
			d->sum_low = (int64_t) low;
			d->sum_ndigits = (int) nd;
			for (uint64_t i = 0; i < nd && !r.failed; i++)
			{
				uint64_t	v = get_varint(&r);

				if (v > UINT32_MAX)
					reader_fail(&r, "malformed sum");
				d->sum_digits[i] = (uint32_t) v;
			}
		}
	}
	if (!r.failed && (flags & FLAG_POS))
		unpack_store(&r, &d->pos, d->max_buckets, a);
	if (!r.failed && (flags & FLAG_NEG))
		unpack_store(&r, &d->neg, d->max_buckets, a);
	if (!r.failed && (flags & FLAG_Q))
	{
		uint64_t	nq = get_varint(&r);

		if (nq == 0 || nq > SKETCH_MAX_QUANTILES)
			reader_fail(&r, "bad number of carried quantiles");
		for (uint64_t i = 0; i < nq && !r.failed; i++)
			d->q[i] = get_f64(&r);
		d->nq = (int) nq;
	}
	if (!r.failed && r.p != r.end)
		reader_fail(&r, "trailing bytes after the sketch");

	if (r.failed)
		err = r.oom ? SKETCH_ENOMEM : SKETCH_ECORRUPT;
	else
		err = sketch_decoded_build(d, out, a, errbuf, errlen);
	decoded_free(d, a);
	if (a->free)
		a->free(d, a->ctx);
	return err;
}
