/*
 * stats.c
 *		The perfstore.stats type and its aggregates: count, sum, mean,
 *		variance, standard deviation, min and max of float8 values, kept
 *		numerically stable and mergeable (docs/stats.md).
 *
 * Owns: the PerfstoreStats value, its text and binary forms, the transition
 * and combine functions of stats_agg(float8) and stats_agg(stats), and the
 * accessors.  Must not: hold state between calls, or modify an input value
 * outside aggregate context.  PG_MODULE_MAGIC lives in module.c.
 *
 * Memory: a value is a fixed-size 48-byte pass-by-reference datum.  The
 * transition and combine functions update their state in place when
 * AggCheckCallContext says they run in an aggregate, and otherwise work on a
 * palloc'd copy.  A new state is palloc'd in the current (per-call) context
 * only when the state is NULL; nodeAgg copies it into the aggregate context.
 * Every other palloc is the function result or error text.
 *
 * Numerics.  The sum is a Neumaier-compensated pair (sum, sumc) whose exact
 * value sum + sumc carries about twice float8 precision.  The mean is not
 * stored: it is derived from that pair as a double-double, and M2 (the sum
 * of squared deviations from the mean) is updated with Welford's recurrence
 * per value and Chan et al.'s formula per merge, both evaluated against the
 * double-double mean.  Textbook Welford keeps the mean rounded to float8,
 * and that rounding enters M2 at every step: for 10,000 values 1e9 + k/8
 * its M2 is off by about 2e-11 relative, this one by about 3e-16.
 *
 * Text form, canonical and exactly round-tripping (Citus ships partial
 * states through it, pg_dump restores through it):
 *
 *		(count:3,sum:6,sumc:0,m2:2,min:1,max:3)
 *
 * Fields come in this order.  count is a decimal int64; the others are
 * finite float8 values printed in the shortest form that reads back to the
 * same bits.  The empty value is count 0 with every other field 0.  Input
 * allows white space around the punctuation.
 *
 * Binary form (send/recv): a version byte (1), then count as int64 and sum,
 * sumc, m2, min, max as float8, in network byte order.
 */
#include "postgres.h"

#include <math.h>

#include "common/int.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/float.h"

#define STATS_BINARY_VERSION	1
#define STATS_BINARY_SIZE		(1 + 8 + 5 * 8)

/*
 * A sample of float8 values.  Invariants (stats_invalid_reason checks them
 * on input, AssertCheckStats after every change):
 *	- count >= 0 and every float8 field finite;
 *	- count == 0: every other field is zero (the empty value);
 *	- count == 1: m2 == 0 and min == max;
 *	- m2 >= 0, min <= max, and the mean (sum + sumc) / count lies in
 *	  [min, max] up to rounding.
 */
typedef struct PerfstoreStats
{
	int64		count;			/* number of values */
	double		sum;			/* running float8 sum of the values */
	double		sumc;			/* Neumaier compensation: the exact sum is
								 * close to sum + sumc */
	double		m2;				/* sum of squared deviations from the mean */
	double		min;			/* smallest value */
	double		max;			/* largest value */
} PerfstoreStats;

StaticAssertDecl(sizeof(PerfstoreStats) == 48,
				 "perfstore.stats is declared with INTERNALLENGTH = 48");
StaticAssertDecl(sizeof(long long) == sizeof(int64),
				 "the text input parses count with strtoll");

#define DatumGetStatsP(X)		((PerfstoreStats *) DatumGetPointer(X))
#define PG_GETARG_STATS_P(n)	DatumGetStatsP(PG_GETARG_DATUM(n))
#define PG_RETURN_STATS_P(x)	PG_RETURN_POINTER(x)

/* The text form's field names, in order. */
static const char *const stats_field_names[] = {
	"count", "sum", "sumc", "m2", "min", "max"
};

#define STATS_NFIELDS	lengthof(stats_field_names)

PG_FUNCTION_INFO_V1(perfstore_stats_in);
PG_FUNCTION_INFO_V1(perfstore_stats_out);
PG_FUNCTION_INFO_V1(perfstore_stats_recv);
PG_FUNCTION_INFO_V1(perfstore_stats_send);
PG_FUNCTION_INFO_V1(perfstore_stats_add);
PG_FUNCTION_INFO_V1(perfstore_stats_combine);
PG_FUNCTION_INFO_V1(perfstore_stats_count);
PG_FUNCTION_INFO_V1(perfstore_stats_sum);
PG_FUNCTION_INFO_V1(perfstore_stats_mean);
PG_FUNCTION_INFO_V1(perfstore_stats_var_pop);
PG_FUNCTION_INFO_V1(perfstore_stats_var_samp);
PG_FUNCTION_INFO_V1(perfstore_stats_stddev_pop);
PG_FUNCTION_INFO_V1(perfstore_stats_stddev_samp);
PG_FUNCTION_INFO_V1(perfstore_stats_min);
PG_FUNCTION_INFO_V1(perfstore_stats_max);

/* ----------------------------------------------------------------
 * Arithmetic
 * ----------------------------------------------------------------
 */

/*
 * stats_two_sum: *s + *e == a + b exactly, *s = fl(a + b) (Knuth's TwoSum,
 * no precondition on the magnitudes).  Needs strict IEEE evaluation, which
 * PostgreSQL's compiler flags guarantee.
 */
static inline void
stats_two_sum(double a, double b, double *s, double *e)
{
	double		t = a + b;
	double		bb = t - a;

	*e = (a - (t - bb)) + (b - bb);
	*s = t;
}

/*
 * stats_mean_dd: the mean (sum + sumc) / count of a non-empty value as a
 * double-double *hi + *lo, with *hi close to the correctly rounded mean.
 * The remainder of a float8 division is exactly representable, so fma
 * recovers it and the quotient's error can be carried in *lo.
 */
static inline void
stats_mean_dd(double sum, double sumc, int64 count, double *hi, double *lo)
{
	double		n = (double) count;
	double		t;
	double		e;
	double		q;
	double		r;

	stats_two_sum(sum, sumc, &t, &e);
	q = t / n;
	r = fma(-q, n, t) + e;
	*hi = q;
	*lo = r / n;
}

/*
 * stats_overflow_error: raise the error for a result that does not fit a
 * float8 (or an int64 count).  Does not return.
 */
pg_attribute_noreturn()
static void
stats_overflow_error(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("value out of range: overflow"),
			 errdetail("The count, sum or sum of squared deviations of the values does not fit the perfstore.stats type.")));
}

/*
 * stats_invalid_reason: NULL when s satisfies every invariant of
 * PerfstoreStats, otherwise a sentence saying which one it breaks (for
 * errdetail; static or palloc'd).  Shared by the text and binary input
 * paths, so both accept exactly the same values.
 *
 * The mean check allows 1e-9 of relative slack: the compensated sum is
 * accurate far beyond that, so every value stats_agg produces passes, while
 * a sum that does not belong to min and max is still caught.
 */
static const char *
stats_invalid_reason(const PerfstoreStats *s)
{
	const double fields[] = {s->sum, s->sumc, s->m2, s->min, s->max};
	int			i;

	if (s->count < 0)
		return "Field \"count\" must not be negative.";
	for (i = 0; i < (int) lengthof(fields); i++)
	{
		if (!isfinite(fields[i]))
			return psprintf("Field \"%s\" must be finite.",
							stats_field_names[i + 1]);
	}
	if (s->m2 < 0)
		return "Field \"m2\" must not be negative.";
	if (s->min > s->max)
		return "Field \"min\" must not be greater than field \"max\".";
	if (s->count == 0)
	{
		if (s->sum != 0 || s->sumc != 0 || s->m2 != 0 ||
			s->min != 0 || s->max != 0)
			return "A value with count 0 must have every other field 0.";
	}
	else if (s->count == 1 && (s->m2 != 0 || s->min != s->max))
		return "A value with count 1 must have m2 0 and min equal to max.";
	else
	{
		double		hi;
		double		lo;
		double		slack;
		double		half;
		double		m2max;

		stats_mean_dd(s->sum, s->sumc, s->count, &hi, &lo);
		slack = 1e-9 * Max(fabs(s->min), fabs(s->max)) + 1e-300;
		if (!(hi >= s->min - slack && hi <= s->max + slack))
			return "The mean, (sum + sumc) / count, must lie between min and max.";

		/*
		 * Values within [min, max] have a variance of at most
		 * ((max - min) / 2)^2, so m2 <= count * that (with room for
		 * rounding; an overflowing bound is no bound).
		 */
		half = s->max / 2 - s->min / 2;
		m2max = (double) s->count * (half * half * (1 + 1e-6) + slack * slack);
		if (s->m2 > m2max)
			return "Field \"m2\" is larger than values between min and max allow.";
	}
	return NULL;
}

#ifdef USE_ASSERT_CHECKING
/*
 * AssertCheckStats: fail an assertion if s breaks an invariant of
 * PerfstoreStats.  Runs after every state change in assert-enabled builds.
 */
static void
AssertCheckStats(const PerfstoreStats *s)
{
	Assert(stats_invalid_reason(s) == NULL);
}
#else
#define AssertCheckStats(s)		((void) 0)
#endif

/*
 * stats_add_value: add the finite value x to s in place (Welford against
 * the double-double mean, Neumaier for the sum).  On overflow raises an
 * error and leaves s unchanged.
 */
static void
stats_add_value(PerfstoreStats *s, double x)
{
	int64		count;
	double		sum;
	double		sumc;
	double		err;
	double		hi;
	double		lo;
	double		delta;
	double		m2;

	Assert(isfinite(x));

	if (s->count == 0)
	{
		s->count = 1;
		s->sum = x;
		s->sumc = 0;
		s->m2 = 0;
		s->min = x;
		s->max = x;
		AssertCheckStats(s);
		return;
	}

	if (pg_add_s64_overflow(s->count, 1, &count))
		stats_overflow_error();

	stats_mean_dd(s->sum, s->sumc, s->count, &hi, &lo);
	delta = (x - hi) - lo;

	stats_two_sum(s->sum, x, &sum, &err);
	sumc = s->sumc + err;

	/*
	 * Welford's increment (x - old mean) * (x - new mean) equals
	 * delta^2 * (n - 1) / n, which needs one mean only and cannot be
	 * negative.
	 */
	m2 = s->m2 + delta * delta * ((double) s->count / (double) count);

	if (!isfinite(sum) || !isfinite(sumc) || !isfinite(m2))
		stats_overflow_error();

	s->count = count;
	s->sum = sum;
	s->sumc = sumc;
	s->m2 = m2;
	if (x < s->min)
		s->min = x;
	if (x > s->max)
		s->max = x;
	AssertCheckStats(s);
}

/*
 * stats_merge: merge b into a in place (Chan et al.), so that a describes
 * the union of both samples.  The result is the same, up to rounding, in
 * either order.  On overflow raises an error and leaves a unchanged.
 */
static void
stats_merge(PerfstoreStats *a, const PerfstoreStats *b)
{
	int64		count;
	double		ahi;
	double		alo;
	double		bhi;
	double		blo;
	double		delta;
	double		weight;
	double		sum;
	double		sumc;
	double		err;
	double		m2;

	if (b->count == 0)
		return;
	if (a->count == 0)
	{
		*a = *b;
		AssertCheckStats(a);
		return;
	}

	if (pg_add_s64_overflow(a->count, b->count, &count))
		stats_overflow_error();

	stats_mean_dd(a->sum, a->sumc, a->count, &ahi, &alo);
	stats_mean_dd(b->sum, b->sumc, b->count, &bhi, &blo);
	delta = (bhi - ahi) + (blo - alo);
	/* na * nb / n, written so that swapping a and b gives the same bits */
	weight = (double) a->count * (double) b->count / (double) count;
	m2 = a->m2 + b->m2 + delta * delta * weight;

	stats_two_sum(a->sum, b->sum, &sum, &err);
	sumc = a->sumc + b->sumc + err;

	if (!isfinite(sum) || !isfinite(sumc) || !isfinite(m2))
		stats_overflow_error();

	a->count = count;
	a->sum = sum;
	a->sumc = sumc;
	a->m2 = m2;
	if (b->min < a->min)
		a->min = b->min;
	if (b->max > a->max)
		a->max = b->max;
	AssertCheckStats(a);
}

/*
 * stats_copy: a palloc'd copy of s, owned by the caller.
 */
static PerfstoreStats *
stats_copy(const PerfstoreStats *s)
{
	PerfstoreStats *copy = palloc(sizeof(PerfstoreStats));

	memcpy(copy, s, sizeof(PerfstoreStats));
	return copy;
}

/* ----------------------------------------------------------------
 * Text and binary forms
 * ----------------------------------------------------------------
 */

/*
 * stats_syntax_error: raise the error for malformed text input, with detail
 * saying what was wrong.  Does not return.
 */
pg_attribute_noreturn()
static void
stats_syntax_error(const char *input, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"",
					"perfstore.stats", input),
			 errdetail("%s", detail)));
}

/*
 * stats_skip_space: the first character at or after p that is not white
 * space.
 */
static const char *
stats_skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
		   *p == '\f' || *p == '\v')
		p++;
	return p;
}

/*
 * perfstore_stats_in: parse the text form (see the file header).  Raises
 * ERRCODE_INVALID_TEXT_REPRESENTATION on any syntax error, out-of-range or
 * non-finite field, trailing garbage or broken invariant.  Returns a
 * palloc'd value.
 */
Datum
perfstore_stats_in(PG_FUNCTION_ARGS)
{
	const char *input = PG_GETARG_CSTRING(0);
	PerfstoreStats *s = palloc0(sizeof(PerfstoreStats));
	double	   *fields[] = {&s->sum, &s->sumc, &s->m2, &s->min, &s->max};
	const char *p = stats_skip_space(input);
	const char *reason;
	int			i;

	if (*p != '(')
		stats_syntax_error(input, "Expected \"(\" at the start.");
	p++;

	for (i = 0; i < (int) STATS_NFIELDS; i++)
	{
		const char *name = stats_field_names[i];
		size_t		len = strlen(name);
		char	   *end;

		p = stats_skip_space(p);
		if (strncmp(p, name, len) != 0)
			stats_syntax_error(input,
							   psprintf("Expected field \"%s\".", name));
		p = stats_skip_space(p + len);
		if (*p != ':')
			stats_syntax_error(input,
							   psprintf("Expected \":\" after field \"%s\".",
										name));
		p = stats_skip_space(p + 1);

		errno = 0;
		if (i == 0)
		{
			long long	count = strtoll(p, &end, 10);

			if (errno == ERANGE)
				stats_syntax_error(input,
								   "Field \"count\" is out of range for type bigint.");
			s->count = (int64) count;
		}
		else
		{
			*fields[i - 1] = strtod(p, &end);
			if (!isfinite(*fields[i - 1]))
				stats_syntax_error(input,
								   psprintf("Field \"%s\" must be finite.",
											name));
		}
		if (end == p)
			stats_syntax_error(input,
							   psprintf("Field \"%s\" must be a number.",
										name));
		p = stats_skip_space(end);

		if (i < (int) STATS_NFIELDS - 1)
		{
			if (*p != ',')
				stats_syntax_error(input,
								   psprintf("Expected \",\" after field \"%s\".",
											name));
		}
		else if (*p != ')')
			stats_syntax_error(input,
							   psprintf("Expected \")\" after field \"%s\".",
										name));
		p++;
	}

	p = stats_skip_space(p);
	if (*p != '\0')
		stats_syntax_error(input, "Unexpected characters after \")\".");

	reason = stats_invalid_reason(s);
	if (reason != NULL)
		stats_syntax_error(input, reason);

	PG_RETURN_STATS_P(s);
}

/*
 * perfstore_stats_out: the canonical text form (see the file header), every
 * float8 in the shortest form that reads back to the same bits whatever
 * extra_float_digits says.  Returns a palloc'd string.
 */
Datum
perfstore_stats_out(PG_FUNCTION_ARGS)
{
	PerfstoreStats *s = PG_GETARG_STATS_P(0);
	char		buf[5][DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(s->sum, buf[0]);
	double_to_shortest_decimal_buf(s->sumc, buf[1]);
	double_to_shortest_decimal_buf(s->m2, buf[2]);
	double_to_shortest_decimal_buf(s->min, buf[3]);
	double_to_shortest_decimal_buf(s->max, buf[4]);

	PG_RETURN_CSTRING(psprintf("(count:" INT64_FORMAT
							   ",sum:%s,sumc:%s,m2:%s,min:%s,max:%s)",
							   s->count, buf[0], buf[1], buf[2], buf[3],
							   buf[4]));
}

/*
 * perfstore_stats_recv: decode the binary form (see the file header).
 * Raises ERRCODE_INVALID_BINARY_REPRESENTATION on a wrong length, an
 * unknown version or a broken invariant.  Returns a palloc'd value.
 */
Datum
perfstore_stats_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	PerfstoreStats *s;
	int			version;
	const char *reason;

	if (buf->len - buf->cursor != STATS_BINARY_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary perfstore.stats value"),
				 errdetail("The value has %d bytes, expected %d.",
						   buf->len - buf->cursor, STATS_BINARY_SIZE)));

	version = pq_getmsgbyte(buf);
	if (version != STATS_BINARY_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unrecognized binary perfstore.stats version %d",
						version),
				 errdetail("This version of perfstore reads version %d.",
						   STATS_BINARY_VERSION)));

	s = palloc(sizeof(PerfstoreStats));
	s->count = pq_getmsgint64(buf);
	s->sum = pq_getmsgfloat8(buf);
	s->sumc = pq_getmsgfloat8(buf);
	s->m2 = pq_getmsgfloat8(buf);
	s->min = pq_getmsgfloat8(buf);
	s->max = pq_getmsgfloat8(buf);

	reason = stats_invalid_reason(s);
	if (reason != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary perfstore.stats value"),
				 errdetail("%s", reason)));

	PG_RETURN_STATS_P(s);
}

/*
 * perfstore_stats_send: the binary form (see the file header) as a
 * palloc'd bytea.
 */
Datum
perfstore_stats_send(PG_FUNCTION_ARGS)
{
	PerfstoreStats *s = PG_GETARG_STATS_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, STATS_BINARY_VERSION);
	pq_sendint64(&buf, s->count);
	pq_sendfloat8(&buf, s->sum);
	pq_sendfloat8(&buf, s->sumc);
	pq_sendfloat8(&buf, s->m2);
	pq_sendfloat8(&buf, s->min);
	pq_sendfloat8(&buf, s->max);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ----------------------------------------------------------------
 * Aggregate support
 * ----------------------------------------------------------------
 */

/*
 * perfstore_stats_add: transition function of stats_agg(float8), non-strict.
 * Returns the state with the value added; a NULL value leaves the state as
 * it is (NULL stays NULL).  A NaN or infinite value raises
 * ERRCODE_INVALID_PARAMETER_VALUE.  In aggregate context the state is
 * updated in place; elsewhere the input is left alone and a palloc'd value
 * is returned.
 */
Datum
perfstore_stats_add(PG_FUNCTION_ARGS)
{
	PerfstoreStats *state;
	double		x;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}

	x = PG_GETARG_FLOAT8(1);
	if (!isfinite(x))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("value must be finite"),
				 errdetail("stats_agg does not accept %s.",
						   float8out_internal(x))));

	if (PG_ARGISNULL(0))
		state = palloc0(sizeof(PerfstoreStats));	/* the empty value */
	else if (AggCheckCallContext(fcinfo, NULL))
		state = PG_GETARG_STATS_P(0);
	else
		state = stats_copy(PG_GETARG_STATS_P(0));

	stats_add_value(state, x);
	PG_RETURN_STATS_P(state);
}

/*
 * perfstore_stats_combine: combine function of both aggregates and
 * transition function of stats_agg(stats), non-strict.  Returns the merge
 * of both values; a NULL on one side returns the other side as it is, NULL
 * on both returns NULL.  In aggregate context the first argument is updated
 * in place; elsewhere neither input is modified and a palloc'd value is
 * returned.
 */
Datum
perfstore_stats_combine(PG_FUNCTION_ARGS)
{
	PerfstoreStats *state;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}

	/*
	 * Returning the second argument itself is safe: nodeAgg copies a state
	 * that is not the previous one into the aggregate context before it is
	 * updated in place.
	 */
	if (PG_ARGISNULL(0))
		PG_RETURN_DATUM(PG_GETARG_DATUM(1));

	if (AggCheckCallContext(fcinfo, NULL))
		state = PG_GETARG_STATS_P(0);
	else
		state = stats_copy(PG_GETARG_STATS_P(0));

	stats_merge(state, PG_GETARG_STATS_P(1));
	PG_RETURN_STATS_P(state);
}

/* ----------------------------------------------------------------
 * Accessors.  All are strict; an empty value (count 0) gives NULL for
 * everything but count, as PostgreSQL's aggregates do over no rows.
 * ----------------------------------------------------------------
 */

/* perfstore_stats_count: the number of values. */
Datum
perfstore_stats_count(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(PG_GETARG_STATS_P(0)->count);
}

/* perfstore_stats_sum: the compensated sum of the values. */
Datum
perfstore_stats_sum(PG_FUNCTION_ARGS)
{
	PerfstoreStats *s = PG_GETARG_STATS_P(0);

	if (s->count == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(s->sum + s->sumc);
}

/*
 * perfstore_stats_mean: the mean of the values, from the double-double
 * mean, clamped to [min, max] so that rounding cannot leave that range.
 */
Datum
perfstore_stats_mean(PG_FUNCTION_ARGS)
{
	PerfstoreStats *s = PG_GETARG_STATS_P(0);
	double		hi;
	double		lo;
	double		mean;

	if (s->count == 0)
		PG_RETURN_NULL();
	stats_mean_dd(s->sum, s->sumc, s->count, &hi, &lo);
	mean = hi + lo;
	if (mean < s->min)
		mean = s->min;
	if (mean > s->max)
		mean = s->max;
	PG_RETURN_FLOAT8(mean);
}

/*
 * stats_variance: m2 / (count - ddof) in *result; false when that is
 * undefined (count <= ddof).
 */
static bool
stats_variance(const PerfstoreStats *s, int ddof, double *result)
{
	if (s->count <= ddof)
		return false;
	*result = s->m2 / (double) (s->count - ddof);
	return true;
}

/* perfstore_stats_var_pop: the population variance; NULL when empty. */
Datum
perfstore_stats_var_pop(PG_FUNCTION_ARGS)
{
	double		v;

	if (!stats_variance(PG_GETARG_STATS_P(0), 0, &v))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(v);
}

/* perfstore_stats_var_samp: the sample variance; NULL below two values. */
Datum
perfstore_stats_var_samp(PG_FUNCTION_ARGS)
{
	double		v;

	if (!stats_variance(PG_GETARG_STATS_P(0), 1, &v))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(v);
}

/* perfstore_stats_stddev_pop: the population standard deviation. */
Datum
perfstore_stats_stddev_pop(PG_FUNCTION_ARGS)
{
	double		v;

	if (!stats_variance(PG_GETARG_STATS_P(0), 0, &v))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(sqrt(v));
}

/* perfstore_stats_stddev_samp: the sample standard deviation. */
Datum
perfstore_stats_stddev_samp(PG_FUNCTION_ARGS)
{
	double		v;

	if (!stats_variance(PG_GETARG_STATS_P(0), 1, &v))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(sqrt(v));
}

/* perfstore_stats_min: the smallest value; NULL when empty. */
Datum
perfstore_stats_min(PG_FUNCTION_ARGS)
{
	PerfstoreStats *s = PG_GETARG_STATS_P(0);

	if (s->count == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(s->min);
}

/* perfstore_stats_max: the largest value; NULL when empty. */
Datum
perfstore_stats_max(PG_FUNCTION_ARGS)
{
	PerfstoreStats *s = PG_GETARG_STATS_P(0);

	if (s->count == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(s->max);
}
