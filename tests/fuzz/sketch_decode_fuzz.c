/*
 * sketch_decode_fuzz.c
 *		libFuzzer target for the sketch decoders: sketch_unpack() gets the
 *		input bytes as they are, sketch_from_text() gets them NUL-terminated.
 *
 * Every accepted sketch is then exercised as the extension would use it, and
 * checked against properties that hold for any sketch built by adding
 * values (the decoders promise that a decoded sketch behaves like a built
 * one):
 *	- the packed form is canonical: an accepted packed input re-encodes to the
 *	  very same bytes, and every re-encoding decodes to identical bytes;
 *	- the text form round-trips: from_text(to_text(s)) prints the same text
 *	  and packs to the same bytes;
 *	- readers: quantile is monotone, within [min, max], exact at 0 and 1;
 *	  rank is monotone and within [0, 1]; buckets ascend, lie within their
 *	  bounds and their counts add up to count; the exact sum lies within
 *	  [count * min, count * max];
 *	- merging with itself doubles every count and leaves every quantile
 *	  unchanged; merging with a fixed sketch is commutative and gives a
 *	  sketch that decodes again; a different alpha is refused;
 *	- the decoders survive allocation failures at every step.
 * A violated property aborts with a message on stderr, which libFuzzer
 * reports as a crash with the input saved.
 *
 * Memory: the decoders and merges run with a malloc/free allocator, so
 * AddressSanitizer sees every block; nothing outlives one input.
 *
 * Environment: SKETCH_FUZZ_REQUIRE_VALID=1 makes an input that neither
 * decoder accepts a failure (used to check that the seed corpus still
 * decodes).
 */
#include "sketch.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t *cur_data;
static size_t cur_size;
static const char *cur_path;
static int	require_valid;

/* Report a violated property with the input in hex, then abort. */
static void
fuzz_fail(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "sketch_decode_fuzz: property violated (%s decoder): ",
			cur_path ? cur_path : "?");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ninput (%zu bytes): ", cur_size);
	for (size_t i = 0; i < cur_size && i < 4096; i++)
		fprintf(stderr, "%02x", cur_data[i]);
	fprintf(stderr, "\n");
	abort();
}

#define CHECK(cond, ...) \
	do { if (!(cond)) fuzz_fail(__VA_ARGS__); } while (0)

/* ----------------------------------------------------------------
 * Allocators
 * ----------------------------------------------------------------
 */

static void *
fz_alloc(size_t size, void *ctx)
{
	(void) ctx;
	return malloc(size);
}

static void
fz_free(void *p, void *ctx)
{
	(void) ctx;
	free(p);
}

static const sketch_allocator A = {fz_alloc, fz_free, NULL};

/* An allocator that fails after ctx->left successful allocations. */
typedef struct failing
{
	int			left;
	int			made;
} failing;

static void *
fail_alloc(size_t size, void *ctx)
{
	failing    *f = ctx;

	if (f->left-- <= 0)
		return NULL;
	f->made++;
	return malloc(size);
}

/* ----------------------------------------------------------------
 * Helpers
 * ----------------------------------------------------------------
 */

/* Packed bytes of s in a buffer of exactly the advertised bound. */
static uint8_t *
pack_of(const struct sketch *s, size_t *len)
{
	size_t		bound = sketch_packed_size(s);
	uint8_t    *buf = malloc(bound);

	CHECK(buf != NULL, "out of memory");
	*len = sketch_pack(s, buf);
	CHECK(*len <= bound, "sketch_pack wrote %zu bytes, bound %zu", *len, bound);
	return buf;
}

/* Text of s in a buffer of exactly the advertised bound. */
static char *
text_of(const struct sketch *s)
{
	size_t		bound = sketch_text_size(s);
	char	   *buf = malloc(bound);
	size_t		len;

	CHECK(buf != NULL, "out of memory");
	len = sketch_to_text(s, buf);
	CHECK(len < bound, "sketch_to_text wrote %zu bytes, bound %zu", len, bound);
	CHECK(strlen(buf) == len, "sketch_to_text length mismatch");
	return buf;
}

/* Decode packed bytes that must be valid (a re-encoding). */
static struct sketch *
must_unpack(const uint8_t *buf, size_t len, const char *what)
{
	struct sketch *s = NULL;
	char		err[256] = "";
	sketch_error e = sketch_unpack(buf, len, &s, &A, err, sizeof(err));

	CHECK(e == SKETCH_OK && s != NULL, "%s does not decode: %s (%s)", what,
		  sketch_strerror(e), err);
	return s;
}

static bool
same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof(double)) == 0;
}

/* |a - b| small relative to the magnitudes involved */
static bool
close_to(double a, double b, double scale)
{
	return fabs(a - b) <= 1e-9 * scale;
}

static const double qs[] = {0.0, 1e-9, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75,
0.9, 0.95, 0.99, 0.999, 1.0 - 1e-12, 1.0};
#define NQS (sizeof(qs) / sizeof(qs[0]))

/* ----------------------------------------------------------------
 * Properties of one sketch
 * ----------------------------------------------------------------
 */

static void
check_readers(const struct sketch *s)
{
	double		prev = -INFINITY;
	double		prev_rank = 0.0;
	uint64_t	total = 0;
	uint64_t	nbuckets = 0;
	sketch_bucket_iter it;
	sketch_bucket b;
	double		last_lower = -INFINITY;
	sketch_error err;
	double		sum;

	if (s->count == 0)
	{
		CHECK(isnan(sketch_quantile(s, 0.5)), "quantile of an empty sketch");
		CHECK(isnan(sketch_rank(s, 0.0)), "rank of an empty sketch");
		memset(&it, 0, sizeof(it));
		CHECK(!sketch_bucket_next(s, &it, &b), "bucket in an empty sketch");
		sum = sketch_sum_value(s, &err);
		CHECK(err == SKETCH_OK && sum == 0.0, "empty sketch with a sum");
		return;
	}

	CHECK(isfinite(s->min) && isfinite(s->max) && s->min <= s->max,
		  "min %g max %g", s->min, s->max);
	CHECK(same_double(sketch_quantile(s, 0.0), s->min), "quantile(0) != min");
	CHECK(same_double(sketch_quantile(s, 1.0), s->max), "quantile(1) != max");
	CHECK(isnan(sketch_quantile(s, 1.5)) && isnan(sketch_quantile(s, NAN)),
		  "quantile outside [0, 1] not NaN");
	for (size_t i = 0; i < NQS; i++)
	{
		double		v = sketch_quantile(s, qs[i]);

		CHECK(v >= s->min && v <= s->max,
			  "quantile(%g) = %g outside [%g, %g]", qs[i], v, s->min, s->max);
		CHECK(v >= prev, "quantile not monotone at q=%g: %g < %g", qs[i], v,
			  prev);
		prev = v;
	}

	/* rank at the quantile estimates and the extremes */
	CHECK(sketch_rank(s, s->max) == 1.0, "rank(max) != 1");
	CHECK(sketch_rank(s, nextafter(s->min, -INFINITY)) == 0.0,
		  "rank below min != 0");
	CHECK(isnan(sketch_rank(s, NAN)), "rank(NaN) not NaN");
	{
		double		xs[NQS + 3];
		size_t		n = 0;

		xs[n++] = s->min;
		for (size_t i = 0; i < NQS; i++)
			xs[n++] = sketch_quantile(s, qs[i]);
		xs[n++] = 0.0;
		xs[n++] = s->max;
		/* sort the probe points, then ranks must ascend */
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 && xs[j - 1] > xs[j]; j--)
			{
				double		t = xs[j];

				xs[j] = xs[j - 1];
				xs[j - 1] = t;
			}
		for (size_t i = 0; i < n; i++)
		{
			double		r = sketch_rank(s, xs[i]);

			CHECK(r >= 0.0 && r <= 1.0, "rank(%g) = %g", xs[i], r);
			CHECK(r >= prev_rank, "rank not monotone at %g", xs[i]);
			prev_rank = r;
		}
	}

	/* buckets */
	memset(&it, 0, sizeof(it));
	while (sketch_bucket_next(s, &it, &b))
	{
		nbuckets++;
		CHECK(nbuckets <= 2 * (uint64_t) s->max_buckets + 3,
			  "more buckets than max_buckets allows");
		CHECK(b.count > 0, "empty bucket reported");
		CHECK(!isnan(b.lower) && !isnan(b.upper) && b.lower <= b.upper,
			  "bucket [%g, %g]", b.lower, b.upper);
		CHECK(b.lower >= last_lower, "buckets not ascending: %g after %g",
			  b.lower, last_lower);
		CHECK(b.lower <= s->max && b.upper >= s->min,
			  "bucket [%g, %g] outside [min %g, max %g]", b.lower, b.upper,
			  s->min, s->max);
		last_lower = b.lower;
		CHECK(total + b.count >= total, "bucket counts overflow");
		total += b.count;
	}
	CHECK(total == s->count, "buckets add up to %llu, count is %llu",
		  (unsigned long long) total, (unsigned long long) s->count);

	/* the exact sum lies within count * [min, max] */
	sum = sketch_sum_value(s, &err);
	{
		double		lo = (double) s->count * s->min;
		double		hi = (double) s->count * s->max;

		if (err == SKETCH_ERANGE)
			CHECK(isinf(lo) || isinf(hi),
				  "sum out of range although count * min and count * max are finite");
		else
		{
			CHECK(err == SKETCH_OK, "sum error %d", (int) err);
			CHECK(sum >= lo - fabs(lo) * 1e-9 && sum <= hi + fabs(hi) * 1e-9,
				  "sum %.17g outside [count * min, count * max] = [%.17g, %.17g]",
				  sum, lo, hi);
			if (s->min > 0.0)
				CHECK(sum > 0.0, "all values positive but sum %.17g", sum);
			if (s->max < 0.0)
				CHECK(sum < 0.0, "all values negative but sum %.17g", sum);
		}
	}
	(void) sketch_mean(s, &err);
	(void) sketch_collapsed(s);
}

/*
 * Merge properties.  Returns nothing; every failure aborts.  fixed has the
 * same alpha and max_buckets as s when compatible is true.
 */
static void
check_merge_pair(const struct sketch *s, const struct sketch *fixed,
				 const char *what)
{
	struct sketch *ab = sketch_copy(s, &A);
	struct sketch *ba = sketch_copy(fixed, &A);
	sketch_error e1,
				e2;
	uint8_t    *p1,
			   *p2;
	size_t		l1,
				l2;
	struct sketch *r;

	CHECK(ab != NULL && ba != NULL, "out of memory");
	e1 = sketch_merge(&ab, fixed, &A);
	e2 = sketch_merge(&ba, s, &A);
	CHECK(e1 == SKETCH_OK && e2 == SKETCH_OK, "merge with %s failed: %s / %s",
		  what, sketch_strerror(e1), sketch_strerror(e2));
	CHECK(ab->count == s->count + fixed->count || s->count + fixed->count < s->count,
		  "merged count wrong");
	p1 = pack_of(ab, &l1);
	p2 = pack_of(ba, &l2);
	CHECK(l1 == l2 && memcmp(p1, p2, l1) == 0,
		  "merge with %s is not commutative", what);
	r = must_unpack(p1, l1, "merge result");
	free(r);
	free(p1);
	free(p2);
	free(ab);
	free(ba);
}

/*
 * A fixed sketch of mixed data at alpha and max_buckets, carrying like's
 * quantiles (merging leaves carried quantiles alone, so both sides of a
 * commutativity check must carry the same).
 */
static struct sketch *
fixed_sketch(double alpha, uint32_t max_buckets, const struct sketch *like)
{
	static const double vals[] = {0.0, 1.0, 2.5, 1e-3, 7e6, -3.25, -1e-7,
	42.0, 1e12, -9e9, 0.0, 3.0e-300, 123.456};
	struct sketch *f = sketch_create(&A, alpha);

	CHECK(f != NULL, "sketch_create(%g) failed", alpha);
	CHECK(sketch_set_max_buckets(f, max_buckets) == SKETCH_OK,
		  "sketch_set_max_buckets(%u) failed", max_buckets);
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		CHECK(sketch_add(&f, vals[i], &A) == SKETCH_OK, "sketch_add failed");
	CHECK(sketch_set_quantiles(&f, sketch_quantiles_carried(like), like->nq,
							   &A) == SKETCH_OK, "sketch_set_quantiles failed");
	return f;
}

static void
check_merges(const struct sketch *s)
{
	struct sketch *d = sketch_copy(s, &A);
	struct sketch *f;
	sketch_error e;

	CHECK(d != NULL, "out of memory");
	/* with itself: every count doubles, every quantile stays */
	e = sketch_merge(&d, s, &A);
	CHECK(e == SKETCH_OK, "merge with itself failed: %s", sketch_strerror(e));
	if (s->count <= UINT64_MAX / 2)
	{
		CHECK(d->count == 2 * s->count, "self-merge count");
		CHECK(d->zero == 2 * s->zero, "self-merge zero count");
		CHECK(sketch_collapsed(d) == 2 * sketch_collapsed(s),
			  "self-merge collapsed count");
		CHECK(same_double(d->min, s->min) && same_double(d->max, s->max),
			  "self-merge changed min or max");
		for (size_t i = 0; i < NQS; i++)
			CHECK(same_double(sketch_quantile(d, qs[i]), sketch_quantile(s, qs[i])),
				  "self-merge changed quantile(%g): %.17g vs %.17g", qs[i],
				  sketch_quantile(d, qs[i]), sketch_quantile(s, qs[i]));
		{
			sketch_error e1,
						e2;
			double		s1 = sketch_sum_value(s, &e1);
			double		s2 = sketch_sum_value(d, &e2);

			if (e1 == SKETCH_OK && e2 == SKETCH_OK)
				CHECK(same_double(2.0 * s1, s2) || close_to(2.0 * s1, s2, fabs(s2)),
					  "self-merge sum %.17g, expected %.17g", s2, 2.0 * s1);
		}
		{
			size_t		len;
			uint8_t    *p = pack_of(d, &len);
			struct sketch *r = must_unpack(p, len, "self-merge result");

			check_readers(r);
			free(r);
			free(p);
		}
	}
	free(d);

	/* with a fixed sketch of the same alpha and max_buckets */
	f = fixed_sketch(s->alpha, s->max_buckets, s);
	check_merge_pair(s, f, "a fixed sketch");
	free(f);

	/* with the default-alpha fixed sketch: works iff parameters match */
	f = fixed_sketch(SKETCH_DEFAULT_ALPHA, SKETCH_DEFAULT_MAX_BUCKETS, s);
	if (s->alpha == f->alpha && s->max_buckets == f->max_buckets)
		check_merge_pair(s, f, "the default fixed sketch");
	else
	{
		struct sketch *c = sketch_copy(s, &A);

		e = sketch_merge(&c, f, &A);
		CHECK(e == SKETCH_EMISMATCH, "merge of different alpha gave %s",
			  sketch_strerror(e));
		free(c);
	}
	free(f);

	/* adding values after decoding keeps the sketch valid */
	{
		struct sketch *c = sketch_copy(s, &A);
		size_t		len;
		uint8_t    *p;
		struct sketch *r;

		CHECK(sketch_add(&c, s->count ? s->max * 0.5 : 1.0, &A) == SKETCH_OK,
			  "sketch_add after decode failed");
		CHECK(sketch_add(&c, -2.0, &A) == SKETCH_OK, "sketch_add failed");
		CHECK(sketch_add(&c, NAN, &A) == SKETCH_ENOTFINITE, "NaN accepted");
		p = pack_of(c, &len);
		r = must_unpack(p, len, "sketch with added values");
		free(r);
		free(p);
		free(c);
	}
}

/* Both encodings round-trip and are canonical. */
static void
check_encodings(const struct sketch *s)
{
	size_t		l1,
				l2;
	uint8_t    *p1 = pack_of(s, &l1);
	struct sketch *s2 = must_unpack(p1, l1, "re-encoding");
	uint8_t    *p2 = pack_of(s2, &l2);
	char	   *t1 = text_of(s);
	char	   *t2;
	struct sketch *s3 = NULL;
	char		err[256] = "";
	sketch_error e;

	CHECK(l1 == l2 && memcmp(p1, p2, l1) == 0,
		  "packed re-encoding does not decode to identical bytes");
	t2 = text_of(s2);
	CHECK(strcmp(t1, t2) == 0, "text differs after a packed round trip");
	free(t2);

	e = sketch_from_text(t1, &s3, &A, err, sizeof(err));
	CHECK(e == SKETCH_OK, "text form does not parse: %s (%s): %s",
		  sketch_strerror(e), err, t1);
	t2 = text_of(s3);
	CHECK(strcmp(t1, t2) == 0, "text round trip differs:\n%s\n%s", t1, t2);
	free(t2);
	{
		size_t		l3;
		uint8_t    *p3 = pack_of(s3, &l3);

		CHECK(l1 == l3 && memcmp(p1, p3, l1) == 0,
			  "text round trip packs to different bytes");
		free(p3);
	}
	free(s3);
	free(s2);
	free(p1);
	free(p2);
	free(t1);
}

/*
 * The decoders under allocation failure: each run ends in ENOMEM or in the
 * outcome 'expected' of the unrestricted run, never in a crash or a leak.
 */
static void
check_enomem(const uint8_t *data, size_t size, const char *text,
			 sketch_error expected)
{
	for (int k = 0; k < 8; k++)
	{
		failing		f = {k, 0};
		sketch_allocator fa = {fail_alloc, fz_free, &f};
		struct sketch *s = NULL;
		char		err[256];
		sketch_error e;

		if (text)
			e = sketch_from_text(text, &s, &fa, err, sizeof(err));
		else
			e = sketch_unpack(data, size, &s, &fa, err, sizeof(err));
		if (e == SKETCH_OK)
			free(s);
		/*
		 * The bucket arrays' allocations inside the decoders report failure
		 * as ECORRUPT with the reason "out of memory" rather than ENOMEM;
		 * tolerated, as long as the reason says so.
		 */
		if (e == SKETCH_ECORRUPT && f.left < 0 &&
			strncmp(err, "out of memory", 13) == 0)
			e = SKETCH_ENOMEM;
		CHECK(e == expected || e == SKETCH_ENOMEM,
			  "decoder gave %s with %d allocations allowed, %s without limit",
			  sketch_strerror(e), k, sketch_strerror(expected));
		if (f.left >= 0)
		{
			/* no allocation was refused: the run was complete */
			CHECK(e == expected, "decoder result depends on the allocator");
			break;
		}
	}
}

static void
exercise(const struct sketch *s)
{
	CHECK(s->magic == SKETCH_DENSE_MAGIC, "decoded sketch without magic");
	CHECK(sketch_check_alpha(s->alpha) == SKETCH_OK, "decoded bad alpha");
	check_readers(s);
	check_encodings(s);
	check_merges(s);
}

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *v = getenv("SKETCH_FUZZ_REQUIRE_VALID");

	(void) argc;
	(void) argv;
	require_valid = v != NULL && *v == '1';
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sketch *s = NULL;
	char		err[256];
	char	   *text;
	sketch_error e;
	int			accepted = 0;

	cur_data = data;
	cur_size = size;

	/* packed */
	cur_path = "packed";
	err[0] = '\0';
	e = sketch_unpack(data, size, &s, &A, err, sizeof(err));
	if (e == SKETCH_OK)
	{
		size_t		len;
		uint8_t    *p;

		accepted++;
		CHECK(s != NULL, "accepted without a sketch");
		p = pack_of(s, &len);
		CHECK(len == size && memcmp(p, data, size) == 0,
			  "accepted packed input is not canonical: re-encodes to %zu bytes",
			  len);
		free(p);
		exercise(s);
		free(s);
	}
	else
	{
		CHECK(e == SKETCH_ECORRUPT || e == SKETCH_EVERSION ||
			  e == SKETCH_EALPHA, "unpack returned %s", sketch_strerror(e));
		CHECK(err[0] != '\0', "rejected without a reason");
	}
	check_enomem(data, size, NULL, e);

	/* text */
	cur_path = "text";
	text = malloc(size + 1);
	CHECK(text != NULL, "out of memory");
	memcpy(text, data, size);
	text[size] = '\0';
	s = NULL;
	err[0] = '\0';
	e = sketch_from_text(text, &s, &A, err, sizeof(err));
	if (e == SKETCH_OK)
	{
		accepted++;
		CHECK(s != NULL, "accepted without a sketch");
		exercise(s);
		free(s);
	}
	else
	{
		CHECK(e == SKETCH_ECORRUPT || e == SKETCH_EVERSION ||
			  e == SKETCH_EALPHA, "from_text returned %s", sketch_strerror(e));
		CHECK(err[0] != '\0', "rejected without a reason");
	}
	check_enomem(NULL, 0, text, e);
	free(text);

	cur_path = "either";
	if (require_valid)
		CHECK(accepted > 0, "seed rejected by both decoders");
	return 0;
}
