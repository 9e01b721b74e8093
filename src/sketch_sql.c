/*
 * sketch_sql.c
 *		SQL face of the quantile sketch: the perfstore.sketch type's I/O,
 *		the aggregates' transition, combine and final functions, and readers.
 *
 * The sketch core (sketch.c, with its codecs sketch_packed.c and
 * sketch_text.c) does the work; this file only adapts it to fmgr and turns
 * its error codes into errors with a SQLSTATE.
 *
 * Representations.  On disk, on the wire and as results of user-visible
 * functions a sketch is always in the packed form.  Inside an aggregate the
 * state is the core's dense form, updated in place: transition and combine
 * functions check AggCheckCallContext() and then modify their first argument
 * when it is a dense state.  A function not called as an aggregate never
 * modifies an input and returns the packed form, so a dense datum can only
 * travel between aggregate nodes (for example from a parallel worker).
 * Dense inputs are still checked structurally before use.
 *
 * Memory.  Everything is palloc'd in CurrentMemoryContext.  Inside an
 * aggregate that is the per-tuple context: when a state must grow, the new
 * block is returned and nodeAgg copies it into the aggregate context and
 * frees the old one, so the core's allocator never frees anything itself.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "nodes/nodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"

#include <math.h>

#include "sketch.h"

static void *
sketch_palloc(size_t size, void *ctx)
{
	return palloc(size);
}

static const sketch_allocator pg_allocator = {sketch_palloc, NULL, NULL};

/*
 * The core's reason (a lower-case phrase, "expected '{' near ...") as a
 * DETAIL sentence: capitalised, ending with a period.  palloc'd.
 */
static char *
sketch_detail_sentence(const char *reason)
{
	char	   *out;
	size_t		len;

	if (reason == NULL || reason[0] == '\0')
		reason = "malformed data";
	len = strlen(reason);
	out = psprintf("%s%s", reason, reason[len - 1] == '.' ? "" : ".");
	out[0] = pg_toupper((unsigned char) out[0]);
	return out;
}

/*
 * Raise the error matching a core error code; returns only for SKETCH_OK.
 * detail is the core's reason (NULL when there is none), shown as the
 * DETAIL of the mismatch and representation errors; binary says which input
 * failed for the representation errors: the packed form (true) or the text
 * form (false).
 */
static void
sketch_raise(sketch_error err, const char *detail, bool binary)
{
	switch (err)
	{
		case SKETCH_OK:
			return;
		case SKETCH_ENOMEM:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
			break;
		case SKETCH_ENOTFINITE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sketch values must be finite"),
					 errdetail("NaN and Infinity cannot be added to a sketch.")));
			break;
		case SKETCH_EALPHA:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sketch alpha must be between %g and %g",
							SKETCH_MIN_ALPHA, SKETCH_MAX_ALPHA)));
			break;
		case SKETCH_EQUANTILE:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("quantile must be between 0 and 1")));
			break;
		case SKETCH_EMISMATCH:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot merge sketches with different alpha or max_buckets"),
					 detail ? errdetail("%s", sketch_detail_sentence(detail)) : 0,
					 errhint("Build the sketches with the same alpha.")));
			break;
		case SKETCH_ECORRUPT:
		case SKETCH_EVERSION:
			if (binary)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						 errmsg("invalid binary sketch"),
						 errdetail("%s", sketch_detail_sentence(detail))));
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("invalid input syntax for type sketch"),
						 errdetail("%s", sketch_detail_sentence(detail))));
			break;
		case SKETCH_ERANGE:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("sketch sum is out of range for type double precision")));
			break;
		case SKETCH_ECOUNT:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("sketch count is out of range"),
					 errdetail("A merged sketch can hold at most 2^64 - 1 values.")));
			break;
	}
	elog(ERROR, "unrecognized sketch error %d", (int) err);
}

/* The packed form of s as a new varlena. */
static bytea *
sketch_to_varlena(struct sketch *s)
{
	size_t		bound = sketch_packed_size(s);
	bytea	   *result = palloc(VARHDRSZ + bound);
	size_t		len = sketch_pack(s, (uint8 *) VARDATA(result));

	SET_VARSIZE(result, VARHDRSZ + len);
	return result;
}

/*
 * Is this (detoasted, 4-byte header) datum a dense state that is safe to
 * read?  Checks alignment and that every offset and window lies inside the
 * block, so a corrupt datum cannot make the core read out of bounds.
 */
static bool
sketch_is_dense(const struct varlena *v)
{
	const struct sketch *s = (const struct sketch *) v;
	Size		size;

	if (!VARATT_IS_4B_U(v) || VARSIZE(v) < sizeof(struct sketch) + 1)
		return false;
	return s->magic == SKETCH_DENSE_MAGIC &&
		((uintptr_t) v % sizeof(double)) == 0 &&
		(size = VARSIZE(v)) == s->size;
}

/*
 * Raise an error unless dense state s can be read safely: every offset,
 * window and sparse entry inside its block (sketch_layout_violation()).
 */
static void
sketch_check_dense(const struct sketch *s)
{
	const char *why = sketch_layout_violation(s, s->size);

	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupt sketch aggregate state"),
				 errdetail("The state is malformed: %s.", why)));
}

/*
 * A readable dense sketch for argument datum d: the datum itself when it is
 * a dense state (*fresh = false: not to be modified), or a fresh dense copy
 * decoded from the packed form, validated (*fresh = true).
 */
static struct sketch *
sketch_fetch_ex(Datum d, bool *fresh)
{
	struct varlena *v = PG_DETOAST_DATUM(d);
	struct sketch *s = NULL;
	char		errbuf[256];
	sketch_error err;

	*fresh = false;
	if (sketch_is_dense(v))
	{
		sketch_check_dense((struct sketch *) v);
		return (struct sketch *) v;
	}
	*fresh = true;
	if (VARSIZE_ANY_EXHDR(v) >= 1 &&
		*(uint8 *) VARDATA_ANY(v) == SKETCH_DENSE_MAGIC)
	{
		/* a dense state that lost its alignment: copy it */
		struct varlena *c = palloc(VARSIZE_ANY(v));

		memcpy(c, v, VARSIZE_ANY(v));
		if (sketch_is_dense(c))
		{
			sketch_check_dense((struct sketch *) c);
			return (struct sketch *) c;
		}
	}
	err = sketch_unpack((const uint8 *) VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v),
						&s, &pg_allocator, errbuf, sizeof(errbuf));
	if (err != SKETCH_OK)
		sketch_raise(err, errbuf, true);
	return s;
}

/* A dense sketch for argument d, read-only. */
static struct sketch *
sketch_fetch(Datum d)
{
	bool		fresh;

	return sketch_fetch_ex(d, &fresh);
}

/* A dense sketch for argument d that the caller may modify. */
static struct sketch *
sketch_fetch_copy(Datum d)
{
	bool		fresh;
	struct sketch *s = sketch_fetch_ex(d, &fresh);

	return fresh ? s : sketch_copy(s, &pg_allocator);
}

/* Finish a dense state as a Datum: set its varlena length. */
static Datum
sketch_state_datum(struct sketch *s)
{
	SET_VARSIZE(s, s->size);
	return PointerGetDatum(s);
}

/* ----------------------------------------------------------------
 * Type I/O
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(perfstore_sketch_in);
PG_FUNCTION_INFO_V1(perfstore_sketch_out);
PG_FUNCTION_INFO_V1(perfstore_sketch_recv);
PG_FUNCTION_INFO_V1(perfstore_sketch_send);
PG_FUNCTION_INFO_V1(perfstore_sketch_to_bytea);
PG_FUNCTION_INFO_V1(perfstore_sketch_from_bytea);

/* sketch_in(cstring): parse and validate the text form. */
Datum
perfstore_sketch_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	struct sketch *s = NULL;
	char		errbuf[256];
	sketch_error err;

	err = sketch_from_text(str, &s, &pg_allocator, errbuf, sizeof(errbuf));
	if (err == SKETCH_ECORRUPT || err == SKETCH_EVERSION)
	{
		/* name the input, as PostgreSQL's own input functions do (cut at 60) */
		size_t		len = strlen(str);

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type sketch: \"%.*s%s\"",
						(int) pg_mbcliplen(str, len, Min(len, 60)), str, len > 60 ? "..." : ""),
				 errdetail("%s", sketch_detail_sentence(errbuf))));
	}
	if (err != SKETCH_OK)
		sketch_raise(err, errbuf, false);
	PG_RETURN_BYTEA_P(sketch_to_varlena(s));
}

/* sketch_out(sketch): the canonical text form. */
Datum
perfstore_sketch_out(PG_FUNCTION_ARGS)
{
	struct sketch *s = sketch_fetch(PG_GETARG_DATUM(0));
	char	   *out = palloc(sketch_text_size(s));

	sketch_to_text(s, out);
	PG_RETURN_CSTRING(out);
}

/* Decode and re-encode packed bytes: the canonical packed varlena. */
static bytea *
sketch_from_packed(const uint8 *data, Size len)
{
	struct sketch *s = NULL;
	char		errbuf[256];
	sketch_error err;

	err = sketch_unpack(data, len, &s, &pg_allocator, errbuf, sizeof(errbuf));
	if (err != SKETCH_OK)
		sketch_raise(err, errbuf, true);
	return sketch_to_varlena(s);
}

/* sketch_recv(internal): the packed form, validated; consumes the message. */
Datum
perfstore_sketch_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	bytea	   *result;

	result = sketch_from_packed((const uint8 *) buf->data + buf->cursor,
								buf->len - buf->cursor);
	buf->cursor = buf->len;
	PG_RETURN_BYTEA_P(result);
}

/* sketch_send(sketch): the packed form. */
Datum
perfstore_sketch_send(PG_FUNCTION_ARGS)
{
	struct sketch *s = sketch_fetch(PG_GETARG_DATUM(0));

	PG_RETURN_BYTEA_P(sketch_to_varlena(s));
}

/* sketch::bytea */
Datum
perfstore_sketch_to_bytea(PG_FUNCTION_ARGS)
{
	struct sketch *s = sketch_fetch(PG_GETARG_DATUM(0));

	PG_RETURN_BYTEA_P(sketch_to_varlena(s));
}

/* bytea::sketch, validated */
Datum
perfstore_sketch_from_bytea(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);

	PG_RETURN_BYTEA_P(sketch_from_packed((const uint8 *) VARDATA_ANY(b),
										 VARSIZE_ANY_EXHDR(b)));
}

/* ----------------------------------------------------------------
 * Aggregate support
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(perfstore_sketch_add);
PG_FUNCTION_INFO_V1(perfstore_sketch_add_alpha);
PG_FUNCTION_INFO_V1(perfstore_sketch_add_quantile);
PG_FUNCTION_INFO_V1(perfstore_sketch_add_quantiles);
PG_FUNCTION_INFO_V1(perfstore_sketch_combine);
PG_FUNCTION_INFO_V1(perfstore_sketch_final);
PG_FUNCTION_INFO_V1(perfstore_sketch_percentile_final);
PG_FUNCTION_INFO_V1(perfstore_sketch_percentiles_final);

/*
 * The state in argument 0, ready to be modified: the argument itself when
 * this is an aggregate call and it is our dense state, else a dense copy.
 * NULL when the argument is NULL.
 */
static struct sketch *
sketch_state_arg(FunctionCallInfo fcinfo, bool in_agg)
{
	struct varlena *v;

	if (PG_ARGISNULL(0))
		return NULL;
	v = (struct varlena *) DatumGetPointer(PG_GETARG_DATUM(0));
	if (in_agg && sketch_is_dense(v))
		return (struct sketch *) v;
	return sketch_fetch_copy(PG_GETARG_DATUM(0));
}

/*
 * A new empty state with room for nq carried quantiles, in one block of
 * sketch_size_empty(nq) bytes: a group of a few dozen values never grows it.
 */
static struct sketch *
sketch_new_state(double alpha, int nq)
{
	size_t		size = sketch_size_empty(nq);
	struct sketch *s = palloc(size);
	sketch_error err = sketch_init(s, size, alpha, nq);

	if (err != SKETCH_OK)
		sketch_raise(err, NULL, false);
	return s;
}

static void
check_quantile(double q)
{
	if (!(q >= 0.0 && q <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("quantile %g is not between 0 and 1", q)));
}

/* Return a state: dense inside an aggregate, packed otherwise. */
static Datum
sketch_return_state(struct sketch *s, bool in_agg)
{
	if (in_agg)
		return sketch_state_datum(s);
	return PointerGetDatum(sketch_to_varlena(s));
}

/*
 * Is this call inside an aggregate or window aggregate, where the state may
 * be modified in place?  AggCheckCallContext() without the call, for the
 * per-row fast paths below.
 */
static inline bool
in_aggregate(FunctionCallInfo fcinfo)
{
	return fcinfo->context != NULL &&
		(IsA(fcinfo->context, AggState) ||
		 IsA(fcinfo->context, WindowAggState));
}

/* Raise the error of adding value v to a sketch. */
static void
sketch_add_raise(sketch_error err, double v)
{
	if (err == SKETCH_ENOTFINITE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sketch values must be finite"),
				 errdetail("The value %s cannot be added to a sketch.",
						   float8out_internal(v))));
	sketch_raise(err, NULL, false);
}

/*
 * The per-row fast path of the float8 transitions: add argument 1 to the
 * dense state s in argument 0, inside an aggregate, and return the state.
 */
static inline Datum
sketch_transition_fast(FunctionCallInfo fcinfo, struct sketch *s)
{
	double		v = PG_GETARG_FLOAT8(1);
	sketch_error err = sketch_add(&s, v, &pg_allocator);

	if (unlikely(err != SKETCH_OK))
		sketch_add_raise(err, v);
	return sketch_state_datum(s);
}

/* Is argument 0 a state for the fast path (arguments 0 and 1 not NULL)? */
static inline struct sketch *
sketch_fast_state(FunctionCallInfo fcinfo)
{
	struct varlena *v;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || !in_aggregate(fcinfo))
		return NULL;
	v = (struct varlena *) DatumGetPointer(PG_GETARG_DATUM(0));
	return sketch_is_dense(v) ? (struct sketch *) v : NULL;
}

/* what sketch_transition() checks against an existing state */
#define CHECK_ALPHA		1		/* argument 2 is alpha; must match */
#define CHECK_QUANTILE	2		/* q[0] must be the carried quantile */

/*
 * Shared transition: add argument 1 (if not NULL) to the state, creating it
 * with alpha on the first non-NULL value.  q/nq, when given, are carried.
 * checks (CHECK_*) verify that per-group arguments stay the same.
 */
static Datum
sketch_transition(FunctionCallInfo fcinfo, double alpha, const double *q,
				  int nq, int checks)
{
	bool		in_agg = AggCheckCallContext(fcinfo, NULL) != 0;
	struct sketch *s = sketch_state_arg(fcinfo, in_agg);
	sketch_error err;

	if (s != NULL && checks != 0)
	{
		if ((checks & CHECK_ALPHA) && !PG_ARGISNULL(2) &&
			PG_GETARG_FLOAT8(2) != s->alpha)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sketch alpha must be the same for all rows of a group"),
					 errdetail("The group started with alpha %s and then got %s.",
							   float8out_internal(s->alpha),
							   float8out_internal(PG_GETARG_FLOAT8(2)))));
		if ((checks & CHECK_QUANTILE) &&
			(s->nq != 1 || sketch_quantiles_carried(s)[0] != q[0]))
		{
			check_quantile(q[0]);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("approx_percentile fraction must be the same for all rows of a group")));
		}
	}
	if (s == NULL)
	{
		if (PG_ARGISNULL(1))
			PG_RETURN_NULL();
		s = sketch_new_state(alpha, nq);
		if (nq > 0 && (err = sketch_set_quantiles(&s, q, nq, &pg_allocator)) != SKETCH_OK)
			sketch_raise(err, NULL, false);
	}
	if (!PG_ARGISNULL(1))
	{
		err = sketch_add(&s, PG_GETARG_FLOAT8(1), &pg_allocator);
		if (unlikely(err != SKETCH_OK))
			sketch_add_raise(err, PG_GETARG_FLOAT8(1));
	}
	return sketch_return_state(s, in_agg);
}

/* sketch_add(sketch, float8): sketch_agg(float8) with the default alpha */
Datum
perfstore_sketch_add(PG_FUNCTION_ARGS)
{
	struct sketch *s = sketch_fast_state(fcinfo);

	if (likely(s != NULL))
		return sketch_transition_fast(fcinfo, s);
	return sketch_transition(fcinfo, SKETCH_DEFAULT_ALPHA, NULL, 0, 0);
}

/* sketch_add(sketch, float8, alpha): sketch_agg(float8, alpha) */
Datum
perfstore_sketch_add_alpha(PG_FUNCTION_ARGS)
{
	double		alpha = SKETCH_DEFAULT_ALPHA;
	struct sketch *s = sketch_fast_state(fcinfo);

	if (likely(s != NULL && !PG_ARGISNULL(2) && PG_GETARG_FLOAT8(2) == s->alpha))
		return sketch_transition_fast(fcinfo, s);
	/* on every row with a value, not only the group's first */
	if (PG_ARGISNULL(2) && !PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("sketch alpha must not be null")));
	if (PG_ARGISNULL(0) && !PG_ARGISNULL(1))
	{
		alpha = PG_GETARG_FLOAT8(2);
		if (sketch_check_alpha(alpha) != SKETCH_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sketch alpha must be between %g and %g",
							SKETCH_MIN_ALPHA, SKETCH_MAX_ALPHA),
					 errdetail("The alpha given was %s.",
							   float8out_internal(alpha))));
	}
	return sketch_transition(fcinfo, alpha, NULL, 0, CHECK_ALPHA);
}

/*
 * sketch_add_quantile(sketch, float8, q): approx_percentile's transition.
 * q is validated once and carried in the state, so the final function needs
 * no extra argument (distributed planners call it with none).
 */
Datum
perfstore_sketch_add_quantile(PG_FUNCTION_ARGS)
{
	double		q;
	struct sketch *s = sketch_fast_state(fcinfo);

	if (likely(s != NULL && !PG_ARGISNULL(2) && s->nq == 1 &&
			   sketch_quantiles_carried(s)[0] == PG_GETARG_FLOAT8(2)))
		return sketch_transition_fast(fcinfo, s);
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("quantile must not be null")));
	q = PG_GETARG_FLOAT8(2);
	if (PG_ARGISNULL(0))
		check_quantile(q);
	return sketch_transition(fcinfo, SKETCH_DEFAULT_ALPHA, &q, 1, CHECK_QUANTILE);
}

/*
 * The quantiles of array argument 2, validated: each in [0, 1], none NULL,
 * one dimension, 1 to SKETCH_MAX_QUANTILES of them.
 */
static double *
quantiles_arg(FunctionCallInfo fcinfo, int *nq)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(2);
	Datum	   *elems;
	bool	   *nulls;
	double	   *q;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("quantiles must be a one-dimensional array")));
	deconstruct_array(arr, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, nq);
	if (*nq == 0 || *nq > SKETCH_MAX_QUANTILES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("between 1 and %d quantiles must be given",
						SKETCH_MAX_QUANTILES)));
	q = palloc(sizeof(double) * *nq);
	for (int i = 0; i < *nq; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("quantiles must not be null")));
		q[i] = DatumGetFloat8(elems[i]);
		check_quantile(q[i]);
	}
	return q;
}

/*
 * The quantiles array last verified by approx_percentiles' transition
 * (fn_extra): the array datum itself and its fractions.
 */
typedef struct QuantilesSeen
{
	struct varlena *arr;		/* copy of the array datum */
	int			nq;
	double		q[FLEXIBLE_ARRAY_MEMBER];
} QuantilesSeen;

/* Does state s carry the fractions of seen? */
static inline bool
quantiles_match(const QuantilesSeen *seen, const struct sketch *s)
{
	return s->nq == seen->nq &&
		memcmp(sketch_quantiles_carried(s), seen->q, sizeof(double) * seen->nq) == 0;
}

/*
 * sketch_add_quantiles(sketch, float8, q[]): approx_percentiles' transition.
 * The array must be the same for every row of a group; to keep that check
 * cheap, the last array seen is remembered (fn_extra), compared bytewise
 * with the argument and its fractions compared with the state's.
 */
Datum
perfstore_sketch_add_quantiles(PG_FUNCTION_ARGS)
{
	QuantilesSeen *seen = fcinfo->flinfo->fn_extra;
	struct sketch *s = sketch_fast_state(fcinfo);
	struct varlena *arr;
	double	   *q = NULL;
	int			nq = 0;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("quantiles must not be null")));
	arr = PG_DETOAST_DATUM(PG_GETARG_DATUM(2));
	if (seen == NULL || VARSIZE(seen->arr) != VARSIZE(arr) ||
		memcmp(seen->arr, arr, VARSIZE(arr)) != 0)
	{
		q = quantiles_arg(fcinfo, &nq);
		if (seen != NULL)
		{
			pfree(seen->arr);
			pfree(seen);
			fcinfo->flinfo->fn_extra = NULL;
		}
		seen = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt,
								  offsetof(QuantilesSeen, q) + sizeof(double) * nq);
		seen->arr = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, VARSIZE(arr));
		memcpy(seen->arr, arr, VARSIZE(arr));
		seen->nq = nq;
		memcpy(seen->q, q, sizeof(double) * nq);
		fcinfo->flinfo->fn_extra = seen;
	}
	if (likely(s != NULL && quantiles_match(seen, s)))
		return sketch_transition_fast(fcinfo, s);
	if (!PG_ARGISNULL(0))
	{
		const struct sketch *cur = sketch_fetch(PG_GETARG_DATUM(0));

		if (!quantiles_match(seen, cur))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("approx_percentiles fractions must be the same for all rows of a group")));
		return sketch_transition(fcinfo, SKETCH_DEFAULT_ALPHA, NULL, 0, 0);
	}
	return sketch_transition(fcinfo, SKETCH_DEFAULT_ALPHA, seen->q, seen->nq, 0);
}

/* Do two lists of carried fractions hold the same values? */
static bool
quantiles_equal(int na, const double *a, int nb, const double *b)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/*
 * sketch_combine(sketch, sketch): merge the second into the first.  Used as
 * the combine function of every sketch aggregate and as the transition of
 * sketch_agg(sketch).  NULL on either side is allowed.
 */
Datum
perfstore_sketch_combine(PG_FUNCTION_ARGS)
{
	bool		in_agg = AggCheckCallContext(fcinfo, NULL) != 0;
	struct sketch *s;
	struct sketch *other;
	sketch_error err;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		s = sketch_state_arg(fcinfo, in_agg);
		return sketch_return_state(s, in_agg);
	}
	s = sketch_state_arg(fcinfo, in_agg);
	if (s == NULL)
	{
		/* the new state must be a block we own */
		other = sketch_fetch_copy(PG_GETARG_DATUM(1));
		return sketch_return_state(other, in_agg);
	}
	other = sketch_fetch(PG_GETARG_DATUM(1));
	err = sketch_merge(&s, other, &pg_allocator);
	if (err == SKETCH_EMISMATCH)
	{
		char		detail[128];

		snprintf(detail, sizeof(detail),
				 "One sketch has alpha %g and %u buckets, the other alpha %g and %u buckets.",
				 s->alpha, s->max_buckets, other->alpha, other->max_buckets);
		sketch_raise(err, detail, false);
	}
	else if (err != SKETCH_OK)
		sketch_raise(err, NULL, false);
	if (s->nq == 0 && other->nq > 0)
	{
		err = sketch_set_quantiles(&s, sketch_quantiles_carried(other),
								   other->nq, &pg_allocator);
		if (err != SKETCH_OK)
			sketch_raise(err, NULL, false);
	}
	else if (other->nq > 0 &&
			 !quantiles_equal(s->nq, sketch_quantiles_carried(s),
							  other->nq, sketch_quantiles_carried(other)))
	{
		/* what a serial plan refuses row by row, partial states refuse here */
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("percentile fractions must be the same for all rows of a group"),
				 errdetail("Two partial states of the group carry different fractions.")));
	}
	return sketch_return_state(s, in_agg);
}

/* sketch_final(sketch): the packed, canonical sketch. */
Datum
perfstore_sketch_final(PG_FUNCTION_ARGS)
{
	struct sketch *s = sketch_fetch(PG_GETARG_DATUM(0));

	PG_RETURN_BYTEA_P(sketch_to_varlena(s));
}

/* approx_percentile's final function: the quantile carried in the state. */
Datum
perfstore_sketch_percentile_final(PG_FUNCTION_ARGS)
{
	struct sketch *s = sketch_fetch(PG_GETARG_DATUM(0));

	if (s->count == 0 || s->nq == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(sketch_quantile(s, sketch_quantiles_carried(s)[0]));
}

/* approx_percentiles' final function: the quantiles carried in the state. */
Datum
perfstore_sketch_percentiles_final(PG_FUNCTION_ARGS)
{
	struct sketch *s = sketch_fetch(PG_GETARG_DATUM(0));
	Datum	   *values;

	if (s->count == 0 || s->nq == 0)
		PG_RETURN_NULL();
	values = palloc(sizeof(Datum) * s->nq);
	for (int i = 0; i < s->nq; i++)
		values[i] = Float8GetDatum(sketch_quantile(s, sketch_quantiles_carried(s)[i]));
	PG_RETURN_ARRAYTYPE_P(construct_array(values, s->nq, FLOAT8OID, 8,
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* ----------------------------------------------------------------
 * Readers
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(perfstore_sketch_quantile);
PG_FUNCTION_INFO_V1(perfstore_sketch_quantiles);
PG_FUNCTION_INFO_V1(perfstore_sketch_rank);
PG_FUNCTION_INFO_V1(perfstore_sketch_count);
PG_FUNCTION_INFO_V1(perfstore_sketch_sum);
PG_FUNCTION_INFO_V1(perfstore_sketch_mean);
PG_FUNCTION_INFO_V1(perfstore_sketch_min);
PG_FUNCTION_INFO_V1(perfstore_sketch_max);
PG_FUNCTION_INFO_V1(perfstore_sketch_alpha);
PG_FUNCTION_INFO_V1(perfstore_sketch_collapsed);
PG_FUNCTION_INFO_V1(perfstore_sketch_buckets);

/* quantile(sketch, q): NULL for an empty sketch */
Datum
perfstore_sketch_quantile(PG_FUNCTION_ARGS)
{
	struct sketch *s = sketch_fetch(PG_GETARG_DATUM(0));
	double		q = PG_GETARG_FLOAT8(1);

	check_quantile(q);
	if (s->count == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(sketch_quantile(s, q));
}

/* quantiles(sketch, q[]): one estimate per q, in order */
Datum
perfstore_sketch_quantiles(PG_FUNCTION_ARGS)
{
	struct sketch *s = sketch_fetch(PG_GETARG_DATUM(0));
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("quantiles must be a one-dimensional array")));
	deconstruct_array(arr, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("quantiles must not be null")));
		check_quantile(DatumGetFloat8(elems[i]));
	}
	if (s->count == 0)
		PG_RETURN_NULL();
	for (int i = 0; i < n; i++)
		elems[i] = Float8GetDatum(sketch_quantile(s, DatumGetFloat8(elems[i])));
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, FLOAT8OID, 8,
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* rank(sketch, x): estimated fraction of values <= x */
Datum
perfstore_sketch_rank(PG_FUNCTION_ARGS)
{
	struct sketch *s = sketch_fetch(PG_GETARG_DATUM(0));
	double		x = PG_GETARG_FLOAT8(1);

	if (isnan(x))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rank of NaN is undefined")));
	if (s->count == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(sketch_rank(s, x));
}

Datum
perfstore_sketch_count(PG_FUNCTION_ARGS)
{
	struct sketch *s = sketch_fetch(PG_GETARG_DATUM(0));

	if (s->count > (uint64) PG_INT64_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("sketch count is out of range for type bigint")));
	PG_RETURN_INT64((int64) s->count);
}

Datum
perfstore_sketch_sum(PG_FUNCTION_ARGS)
{
	struct sketch *s = sketch_fetch(PG_GETARG_DATUM(0));
	sketch_error err;
	double		sum = sketch_sum_value(s, &err);

	sketch_raise(err, NULL, false);
	PG_RETURN_FLOAT8(sum);
}

Datum
perfstore_sketch_mean(PG_FUNCTION_ARGS)
{
	struct sketch *s = sketch_fetch(PG_GETARG_DATUM(0));
	sketch_error err;
	double		mean;

	if (s->count == 0)
		PG_RETURN_NULL();
	mean = sketch_mean(s, &err);
	sketch_raise(err, NULL, false);
	PG_RETURN_FLOAT8(mean);
}

Datum
perfstore_sketch_min(PG_FUNCTION_ARGS)
{
	struct sketch *s = sketch_fetch(PG_GETARG_DATUM(0));

	if (s->count == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(s->min);
}

Datum
perfstore_sketch_max(PG_FUNCTION_ARGS)
{
	struct sketch *s = sketch_fetch(PG_GETARG_DATUM(0));

	if (s->count == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(s->max);
}

Datum
perfstore_sketch_alpha(PG_FUNCTION_ARGS)
{
	struct sketch *s = sketch_fetch(PG_GETARG_DATUM(0));

	PG_RETURN_FLOAT8(s->alpha);
}

Datum
perfstore_sketch_collapsed(PG_FUNCTION_ARGS)
{
	struct sketch *s = sketch_fetch(PG_GETARG_DATUM(0));

	PG_RETURN_INT64((int64) sketch_collapsed(s));
}

typedef struct buckets_ctx
{
	struct sketch *s;
	sketch_bucket_iter it;
} buckets_ctx;

/* buckets(sketch): (lower, upper, count) per non-empty bucket, ascending */
Datum
perfstore_sketch_buckets(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	buckets_ctx *ctx;
	sketch_bucket b;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext oldcontext;
		TupleDesc	tupdesc;

		funcctx = SRF_FIRSTCALL_INIT();
		oldcontext = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		funcctx->tuple_desc = BlessTupleDesc(tupdesc);
		ctx = palloc0(sizeof(buckets_ctx));
		ctx->s = sketch_fetch_copy(PG_GETARG_DATUM(0));
		funcctx->user_fctx = ctx;
		MemoryContextSwitchTo(oldcontext);
	}
	funcctx = SRF_PERCALL_SETUP();
	ctx = funcctx->user_fctx;
	if (sketch_bucket_next(ctx->s, &ctx->it, &b))
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		HeapTuple	tuple;

		values[0] = Float8GetDatum(b.lower);
		values[1] = Float8GetDatum(b.upper);
		values[2] = Int64GetDatum((int64) b.count);
		tuple = heap_form_tuple(funcctx->tuple_desc, values, nulls);
		SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(tuple));
	}
	SRF_RETURN_DONE(funcctx);
}
