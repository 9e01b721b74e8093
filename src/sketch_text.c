/*
 * sketch_text.c
 *		The text form of a sketch: a JSON object with the packed form's
 *		content, canonical on output, read back by a small strict parser.
 *
 * Owns: the text format (described below) and its parser.
 *
 * Must not: include PostgreSQL headers (perfdriver links this file too);
 * accept anything but the format below (no NaN, Infinity or hexadecimal
 * numbers, no field out of order); change the text written for a sketch.
 *
 * Memory: sketch_to_text() writes into the caller's buffer (at least
 * sketch_text_size() bytes).  sketch_from_text() allocates its working
 * state and the new sketch from the caller's allocator and, when the
 * allocator can free, frees everything but the sketch it returns.
 */
#include "sketch_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------
 * Text form
 * ----------------------------------------------------------------
 *
 * {"version":1,"alpha":A,"max_buckets":M,"count":N,"min":X,"max":Y,
 *  "sum":"S","zero":Z,"positive":STORE,"negative":STORE,"quantiles":[...]}
 *
 * min and max are null when count is 0.  STORE is null or
 * {"collapsed":C,"lo":K,"counts":[c,...]} with dense counts from key lo.
 * S is "0" or an optional '-', hexadecimal digits and "p" with the binary
 * exponent of the last digit: the exact sum.  "quantiles" is present only
 * when quantiles are carried.  Doubles are printed with the fewest digits
 * that read back to the same bits.  Whitespace between tokens is allowed on
 * input; the fields must come in this order.
 */

static int
put_double(char *out, double d)
{
	int			n = 0;

	for (int prec = 15; prec <= 17; prec++)
	{
		n = sprintf(out, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			break;
	}
	return n;
}

size_t
sketch_text_size(const struct sketch *s)
{
	size_t		n = 400 + 8 * (SUM_CHUNKS_MAX + 2) + 30 * (size_t) s->nq;

	for (int side = 0; side < 2; side++)
	{
		const struct sketch_store *st = side ? &s->neg : &s->pos;

		if (st->bucketed > 0)
			n += 80 + 21 * (size_t) (st->hi - st->lo + 1);
	}
	return n;
}

/* Write v in decimal at p; returns the end (no NUL).  sprintf is slow here. */
static char *
put_uint(char *p, uint64_t v)
{
	char		tmp[20];
	int			n = 0;

	do
	{
		tmp[n++] = (char) ('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

static char *
text_store(const struct sketch *s, const struct sketch_store *st, char *p)
{
	int32_t		npos = store_positions(st);
	int32_t		next = st->lo;

	if (st->bucketed == 0)
		return p + sprintf(p, "null");
	p += sprintf(p, "{\"collapsed\":%llu,\"lo\":%d,\"counts\":[",
				 (unsigned long long) st->collapsed, st->lo);
	/* every key from lo to hi: a sparse store's missing keys count 0 */
	for (int32_t i = 0; i < npos; i++)
	{
		int32_t		k;
		uint64_t	c = store_at(s, st, i, &k);

		for (; next < k; next++)
		{
			*p++ = '0';
			*p++ = ',';
		}
		p = put_uint(p, c);
		*p++ = ',';
		next = k + 1;
	}
	p[-1] = ']';
	*p++ = '}';
	*p = '\0';
	return p;
}

size_t
sketch_to_text(const struct sketch *s, char *out)
{
	char	   *p = out;
	int			negative;
	int32_t		low;
	uint32_t	digits[SUM_CHUNKS_MAX + 2];
	int			nd;

	p += sprintf(p, "{\"version\":%d,\"alpha\":", SKETCH_PACKED_VERSION);
	p += put_double(p, s->alpha);
	p += sprintf(p, ",\"max_buckets\":%u,\"count\":%llu,\"min\":",
				 s->max_buckets, (unsigned long long) s->count);
	if (s->count > 0)
	{
		p += put_double(p, s->min);
		p += sprintf(p, ",\"max\":");
		p += put_double(p, s->max);
	}
	else
		p += sprintf(p, "null,\"max\":null");
	p += sprintf(p, ",\"sum\":\"");
	sketch_sum_digits(s, &negative, &low, digits, &nd);
	if (nd == 0)
		*p++ = '0';
	else
	{
		if (negative)
			*p++ = '-';
		p += sprintf(p, "%x", digits[nd - 1]);
		for (int i = nd - 2; i >= 0; i--)
			p += sprintf(p, "%08x", digits[i]);
		p += sprintf(p, "p%d", 32 * low - 1074);
	}
	p += sprintf(p, "\",\"zero\":%llu,\"positive\":",
				 (unsigned long long) s->zero);
	p = text_store(s, &s->pos, p);
	p += sprintf(p, ",\"negative\":");
	p = text_store(s, &s->neg, p);
	if (s->nq > 0)
	{
		p += sprintf(p, ",\"quantiles\":[");
		for (int i = 0; i < s->nq; i++)
		{
			if (i > 0)
				*p++ = ',';
			p += put_double(p, sketch_quantiles_carried(s)[i]);
		}
		*p++ = ']';
	}
	*p++ = '}';
	*p = '\0';
	return (size_t) (p - out);
}

/* A small strict parser for exactly the text form above. */
typedef struct tparser
{
	const char *p;
	char	   *errbuf;
	size_t		errlen;
	bool		failed;
	bool		oom;			/* the failure was the allocator's */
} tparser;

static void
tp_fail(tparser *t, const char *what)
{
	if (!t->failed && t->errbuf != NULL && t->errlen > 0)
		snprintf(t->errbuf, t->errlen, "%s near \"%.20s\"", what, t->p);
	t->failed = true;
}

static void
tp_ws(tparser *t)
{
	while (*t->p == ' ' || *t->p == '\t' || *t->p == '\n' || *t->p == '\r')
		t->p++;
}

/* Expect a literal token (after optional whitespace). */
static bool
tp_lit(tparser *t, const char *lit)
{
	size_t		n = strlen(lit);

	if (t->failed)
		return false;
	tp_ws(t);
	if (strncmp(t->p, lit, n) != 0)
	{
		char		msg[64];

		snprintf(msg, sizeof(msg), "expected '%s'", lit);
		tp_fail(t, msg);
		return false;
	}
	t->p += n;
	return true;
}

static bool
tp_try(tparser *t, const char *lit)
{
	size_t		n = strlen(lit);

	if (t->failed)
		return false;
	tp_ws(t);
	if (strncmp(t->p, lit, n) == 0)
	{
		t->p += n;
		return true;
	}
	return false;
}

static uint64_t
tp_uint(tparser *t)
{
	uint64_t	v = 0;
	const char *start;

	if (t->failed)
		return 0;
	tp_ws(t);
	start = t->p;
	while (*t->p >= '0' && *t->p <= '9')
	{
		uint64_t	d = (uint64_t) (*t->p - '0');

		if (v > (UINT64_MAX - d) / 10)
		{
			tp_fail(t, "integer out of range");
			return 0;
		}
		v = v * 10 + d;
		t->p++;
	}
	if (t->p == start)
		tp_fail(t, "expected an integer");
	return v;
}

static int64_t
tp_int(tparser *t)
{
	bool		negative = tp_try(t, "-");
	uint64_t	v = tp_uint(t);

	if (v > (uint64_t) INT32_MAX + 1)
	{
		tp_fail(t, "integer out of range");
		return 0;
	}
	return negative ? -(int64_t) v : (int64_t) v;
}

static double
tp_double(tparser *t)
{
	char	   *end;
	double		d;

	if (t->failed)
		return 0.0;
	tp_ws(t);
	/* strtod would also take "nan", "inf" and hex: insist on JSON numbers */
	if (!(*t->p == '-' || (*t->p >= '0' && *t->p <= '9')))
	{
		tp_fail(t, "expected a number");
		return 0.0;
	}
	d = strtod(t->p, &end);
	if (end == t->p || !isfinite(d))
	{
		tp_fail(t, "expected a finite number");
		return 0.0;
	}
	for (const char *c = t->p; c < end; c++)
		if (!((*c >= '0' && *c <= '9') || *c == '-' || *c == '+' ||
			  *c == '.' || *c == 'e' || *c == 'E'))
		{
			tp_fail(t, "expected a decimal number");
			return 0.0;
		}
	t->p = end;
	return d;
}

static void
tp_sum(tparser *t, decoded *d)
{
	const char *start;
	const char *digits_end;
	size_t		nhex;
	int64_t		exp;

	if (!tp_lit(t, "\""))
		return;
	if (*t->p == '0' && t->p[1] == '"')
	{
		t->p += 2;
		return;
	}
	if (*t->p == '-')
	{
		d->sum_negative = 1;
		t->p++;
	}
	start = t->p;
	while ((*t->p >= '0' && *t->p <= '9') || (*t->p >= 'a' && *t->p <= 'f'))
		t->p++;
	digits_end = t->p;
	nhex = (size_t) (digits_end - start);
	if (nhex == 0 || *start == '0' || nhex > 8 * (SUM_CHUNKS_MAX))
	{
		tp_fail(t, "malformed sum");
		return;
	}
	if (!tp_lit(t, "p"))
		return;
	exp = tp_int(t);
	if (t->failed)
		return;
	if ((exp + 1074) % 32 != 0 || exp < -1074)
	{
		tp_fail(t, "malformed sum exponent");
		return;
	}
	d->sum_low = (exp + 1074) / 32;
	d->sum_ndigits = (int) ((nhex + 7) / 8);
	for (size_t i = 0; i < nhex; i++)
	{
		char		c = digits_end[-1 - (ptrdiff_t) i];
		uint32_t	v = (uint32_t) (c <= '9' ? c - '0' : c - 'a' + 10);

		d->sum_digits[i / 8] |= v << (4 * (i % 8));
	}
	tp_lit(t, "\"");
}

static void
tp_store(tparser *t, decoded_store *st, uint64_t max_buckets,
		 const sketch_allocator *a)
{
	int64_t		lo;
	uint64_t	n = 0;

	if (tp_try(t, "null"))
		return;
	st->present = true;
	tp_lit(t, "{");
	tp_lit(t, "\"collapsed\"");
	tp_lit(t, ":");
	st->collapsed = tp_uint(t);
	tp_lit(t, ",");
	tp_lit(t, "\"lo\"");
	tp_lit(t, ":");
	lo = tp_int(t);
	tp_lit(t, ",");
	tp_lit(t, "\"counts\"");
	tp_lit(t, ":");
	tp_lit(t, "[");
	if (t->failed)
		return;
	st->counts = a->alloc(sizeof(uint64_t) * max_buckets, a->ctx);
	if (st->counts == NULL)
	{
		tp_fail(t, "out of memory");
		t->oom = true;
		return;
	}
	do
	{
		if (n >= max_buckets)
		{
			tp_fail(t, "more buckets than max_buckets");
			return;
		}
		st->counts[n++] = tp_uint(t);
	} while (!t->failed && tp_try(t, ","));
	tp_lit(t, "]");
	tp_lit(t, "}");
	st->lo = (int32_t) lo;
	st->hi = (int32_t) (lo + (int64_t) n - 1);
	if (lo + (int64_t) n - 1 > INT32_MAX)
		tp_fail(t, "bucket index out of range");
}

sketch_error
sketch_from_text(const char *str, struct sketch **out,
				 const sketch_allocator *a, char *errbuf, size_t errlen)
{
	tparser		t = {str, errbuf, errlen, false, false};
	decoded    *d;
	uint64_t	version;
	sketch_error err;

	d = a->alloc(sizeof(decoded), a->ctx);
	if (d == NULL)
		return fail(errbuf, errlen, SKETCH_ENOMEM, "out of memory");
	memset(d, 0, sizeof(decoded));

	tp_lit(&t, "{");
	tp_lit(&t, "\"version\"");
	tp_lit(&t, ":");
	version = tp_uint(&t);
	if (!t.failed && version != SKETCH_PACKED_VERSION)
	{
		if (a->free)
			a->free(d, a->ctx);
		if (errbuf != NULL && errlen > 0)
			snprintf(errbuf, errlen, "unsupported version %llu",
					 (unsigned long long) version);
		return SKETCH_EVERSION;
	}
	tp_lit(&t, ",");
	tp_lit(&t, "\"alpha\"");
	tp_lit(&t, ":");
	d->alpha = tp_double(&t);
	tp_lit(&t, ",");
	tp_lit(&t, "\"max_buckets\"");
	tp_lit(&t, ":");
	d->max_buckets = tp_uint(&t);
	if (!t.failed && (d->max_buckets < SKETCH_MIN_MAX_BUCKETS ||
					  d->max_buckets > SKETCH_MAX_MAX_BUCKETS))
		tp_fail(&t, "max_buckets out of range");
	tp_lit(&t, ",");
	tp_lit(&t, "\"count\"");
	tp_lit(&t, ":");
	d->count = tp_uint(&t);
	tp_lit(&t, ",");
	tp_lit(&t, "\"min\"");
	tp_lit(&t, ":");
	if (d->count == 0)
	{
		tp_lit(&t, "null");
		tp_lit(&t, ",");
		tp_lit(&t, "\"max\"");
		tp_lit(&t, ":");
		tp_lit(&t, "null");
	}
	else
	{
		d->min = tp_double(&t);
		tp_lit(&t, ",");
		tp_lit(&t, "\"max\"");
		tp_lit(&t, ":");
		d->max = tp_double(&t);
	}
	tp_lit(&t, ",");
	tp_lit(&t, "\"sum\"");
	tp_lit(&t, ":");
	if (!t.failed)
		tp_sum(&t, d);
	tp_lit(&t, ",");
	tp_lit(&t, "\"zero\"");
	tp_lit(&t, ":");
	d->zero = tp_uint(&t);
	tp_lit(&t, ",");
	tp_lit(&t, "\"positive\"");
	tp_lit(&t, ":");
	if (!t.failed)
		tp_store(&t, &d->pos, d->max_buckets, a);
	tp_lit(&t, ",");
	tp_lit(&t, "\"negative\"");
	tp_lit(&t, ":");
	if (!t.failed)
		tp_store(&t, &d->neg, d->max_buckets, a);
	if (tp_try(&t, ","))
	{
		tp_lit(&t, "\"quantiles\"");
		tp_lit(&t, ":");
		tp_lit(&t, "[");
		do
		{
			if (d->nq >= SKETCH_MAX_QUANTILES)
			{
				tp_fail(&t, "too many carried quantiles");
				break;
			}
			d->q[d->nq++] = tp_double(&t);
		} while (!t.failed && tp_try(&t, ","));
		tp_lit(&t, "]");
	}
	tp_lit(&t, "}");
	tp_ws(&t);
	if (!t.failed && *t.p != '\0')
		tp_fail(&t, "trailing characters after the sketch");

	if (t.failed)
		err = t.oom ? SKETCH_ENOMEM : SKETCH_ECORRUPT;
	else
		err = sketch_decoded_build(d, out, a, errbuf, errlen);
	decoded_free(d, a);
	if (a->free)
		a->free(d, a->ctx);
	return err;
}
