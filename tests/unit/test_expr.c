/*
 * test_expr.c
 *		Unit tests for driver/expr.c: the pgbench expression language,
 *		variables, PRNG and random distributions.
 *
 * Expected values of the expression table were cross-checked with
 * PostgreSQL 15's pgbench (debug() output of the same expressions), so a
 * difference here is a difference from pgbench.  No server needed.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "expr.h"
#include "unit.h"

/* Evaluate text; render "int 5", "double 2.5", "boolean true", "null" or
 * "ERROR: <message>" / "PARSE: <message>". */
static const char *
eval_text(const char *text, struct pgb_vars *vars, struct pgb_prng *rng)
{
	static char out[512];
	char		err[400];
	char		buf[64];
	struct pgb_expr *e = pgb_expr_parse(text, err, sizeof(err));
	pgb_value	v;
	static const char *names[] = {"null", "boolean", "int", "double"};

	if (e == NULL)
	{
		snprintf(out, sizeof(out), "PARSE: %s", err);
		return out;
	}
	if (!pgb_expr_eval(e, vars, rng, &v, err, sizeof(err)))
		snprintf(out, sizeof(out), "ERROR: %s", err);
	else if (v.type == PGB_NULL)
		snprintf(out, sizeof(out), "null");
	else
		snprintf(out, sizeof(out), "%s %s", names[v.type],
				 pgb_value_to_text(&v, buf, sizeof(buf)));
	pgb_expr_free(e);
	return out;
}

static const struct
{
	const char *expr;
	const char *want;			/* exact result, or prefix for errors */
}			cases[] =
{
	/* cross-checked with pgbench 15 */
	{"hash(10, 0)", "int -7188666914263997357"},
	{"hash_fnv1a(10, 0)", "int -2408371864701034737"},
	{"hash_murmur2(-1, 12345)", "int 6450241028426015414"},
	{"hash_fnv1a(-7, 99)", "int 4753769516686241720"},
	{"permute(0, 10, 5)", "int 6"},
	{"permute(1, 10, 5)", "int 4"},
	{"permute(7, 1000, 42)", "int 440"},
	{"permute(123456, 10000000, -3)", "int 7994393"},
	{"~1 + 2", "int -4"},
	{"1 + ~2 + 3", "int -5"},
	{"-2 * 3 + 7 % 4", "int -3"},
	{"5 / 2", "int 2"},
	{"5.0 / 2", "double 2.5"},
	{"7 % -1", "int 0"},
	{"1 < 2 AND NOT 3 = 4", "boolean true"},
	{"NULL IS NULL", "boolean true"},
	{"2 IS NOT NULL", "boolean true"},
	{"CASE WHEN 1 > 2 THEN 10 WHEN 2 > 1 THEN 20 ELSE 30 END", "int 20"},
	{"int(2.5) + int(3.5)", "int 6"},
	{"1 << 3 | 1", "int 9"},
	{"least(3, 2.5, 7)", "double 2.5"},
	{"greatest(1, 9, 4)", "int 9"},
	{"pi() * 2", "double 6.28318530717959"},
	{"-9223372036854775808", "int -9223372036854775808"},
	{"sqrt(2)", "double 1.4142135623731"},
	{"abs(-5) + mod(17, 5)", "int 7"},
	{"NOT true OR true", "boolean true"},
	{"true IS TRUE", "boolean true"},
	{"5 # 3 & 1", "int 0"},
	{"1 + 2 * 3 - 4 / 2", "int 5"},
	{"double(7) / 2", "double 3.5"},
	{"exp(ln(10))", "double 10"},
	{"pow(2, 10)", "double 1024"},
	{"CASE WHEN false THEN 1 END", "null"},
	{"1 = 1.0", "boolean true"},
	{"10 >> 1 << 2", "int 20"},
	{"2 + 3 = 5", "boolean true"},
	{"0.5e1 + .5", "double 5.5"},
	{"12345678912 * 1000", "int 12345678912000"},
	/* more semantics */
	{"power(2, 0.5) * power(2, 0.5)", "double 2"},
	{"(1 + 2) * 3", "int 9"},
	{"1 + 2 * 3", "int 7"},
	{"-(-3)", "int 3"},
	{"+4", "int 4"},
	{"7 % 3", "int 1"},
	{"-7 % 3", "int -1"},
	{"-7 / 2", "int -3"},
	{"1 <> 2", "boolean true"},
	{"1 != 1", "boolean false"},
	{"3 >= 3 AND 2 <= 1", "boolean false"},
	{"NULL AND false", "null"},
	{"false AND NULL", "boolean false"},
	{"true OR NULL", "boolean true"},
	{"1 + NULL", "null"},
	{"NULL ISNULL", "boolean true"},
	{"1 NOTNULL", "boolean true"},
	{"false IS NOT TRUE", "boolean true"},
	{"1 IS TRUE", "boolean false"},
	{"CASE WHEN NULL THEN 1 ELSE 2 END", "int 2"},
	{"CASE WHEN 0 THEN 1 WHEN 3 THEN 2 END", "int 2"},
	{"abs(-2.5)", "double 2.5"},
	{"int(-2.5)", "int -2"},
	{"TRUE", "boolean true"},
	{"nOt FaLsE", "boolean true"},
	{"RANDOM(3, 3)", "int 3"},
	{"hash(10)", "int -7188666914263997357"},	/* :default_seed = 0 */
	{"permute(0, 10) = permute(0, 10, 0)", "boolean true"},
	{"permute(5, 1, 7)", "int 0"},
	{"debug(:scale) * 2", "int 20"},
	{":scale * 100000", "int 1000000"},
	{":x + 1", "int 43"},
	{":d * 2", "double 5"},
	{":b AND true", "boolean true"},
	{"1 + \\\n 2", "int 3"},
	/* runtime errors */
	{"9223372036854775807 + 1", "ERROR: bigint add out of range"},
	{"-9223372036854775807 - 2", "ERROR: bigint sub out of range"},
	{"4611686018427387904 * 2", "ERROR: bigint mul out of range"},
	{"-9223372036854775808 / -1", "ERROR: bigint div out of range"},
	{"-(-9223372036854775808)", "ERROR: bigint sub out of range"},
	{"1 / 0", "ERROR: division by zero"},
	{"1 % 0", "ERROR: division by zero"},
	{"mod(5, 0)", "ERROR: division by zero"},
	{"random(5, 1)", "ERROR: empty range given to random"},
	{"random(-9223372036854775808, 9223372036854775807)", "ERROR: random range is too large"},
	{"random_gaussian(1, 10, 1.5)", "ERROR: gaussian parameter must be at least"},
	{"random_exponential(1, 10, 0)", "ERROR: exponential parameter must be greater than zero"},
	{"random_zipfian(1, 10, 0.5)", "ERROR: zipfian parameter must be in range"},
	{"random_zipfian(1, 10, 1001)", "ERROR: zipfian parameter must be in range"},
	{"permute(1, 0)", "ERROR: permute size parameter must be greater than zero"},
	{":nosuch + 1", "ERROR: undefined variable \"nosuch\""},
	{":bad + 1", "ERROR: malformed variable \"bad\" value: \"abc\""},
	{"true + 1", "ERROR: cannot coerce boolean to int"},
	{"NOT 1", "ERROR: cannot coerce int to boolean"},
	{"int(1e30)", "ERROR: double to int overflow"},
	{"1 << 64", "ERROR: shift count 64 out of range"},
	/* a double is finite or an error: no inf or nan reaches the SQL */
	{"1.0 / 0", "ERROR: division by zero"},
	{"1 / 0.0", "ERROR: division by zero"},
	{"pow(10, 400)", "ERROR: value out of range: overflow"},
	{"power(-10, 309)", "ERROR: value out of range: overflow"},
	{"sqrt(-1)", "ERROR: cannot take square root of a negative number"},
	{"ln(0)", "ERROR: cannot take logarithm of zero"},
	{"ln(-1)", "ERROR: cannot take logarithm of a negative number"},
	{"exp(1000)", "ERROR: value out of range: overflow"},
	{"pow(0, -1)", "ERROR: zero raised to a negative power is undefined"},
	{"pow(-8, 0.5)", "ERROR: a negative number raised to a non-integer power yields a complex result"},
	{"1e308 * 10", "ERROR: value out of range: overflow"},
	{"-1e308 - 1e308", "ERROR: value out of range: overflow"},
	{"1e308 + 1e308 - 1e308", "ERROR: value out of range: overflow"},
	{":inf + 0", "ERROR: value out of range: overflow"},
	{":inf", "ERROR: value out of range: overflow"},
	{"double(:nan)", "ERROR: double value is not a number"},
	{"greatest(1, :inf)", "ERROR: value out of range: overflow"},
	{"random_gaussian(1, 10, :inf)", "ERROR: gaussian parameter must be a finite number (not inf)"},
	{"random_zipfian(1, 10, :nan)", "ERROR: zipfian parameter must be a finite number"},
	{"random_exponential(1, 10, :nan)", "ERROR: exponential parameter must be a finite number"},
	{"pow(-8, 1.0/3) IS NULL", "ERROR: a negative number raised"},
	{"pow(-2, 3)", "double -8"},
	{"pow(0, 0)", "double 1"},
	{"exp(-1000)", "double 0"},
	{"sqrt(0)", "double 0"},
	{"1e308 + 0", "double 1e+308"},
	/* parse errors */
	{"1 +", "PARSE: unexpected end of expression"},
	{"foo(1)", "PARSE: unrecognized function \"foo\""},
	{"random(1)", "PARSE: unexpected number of arguments for function \"random\""},
	{"least()", "PARSE: at least one argument expected"},
	{"1 < 2 < 3", "PARSE: syntax error"},
	{"1 IS NULL IS NULL", "PARSE: syntax error"},
	{"(1", "PARSE: syntax error"},
	{"1 2", "PARSE: syntax error"},
	{"1 @ 2", "PARSE: unexpected character \"@\""},
	{"CASE 1 END", "PARSE: syntax error"},
	{"9223372036854775808", "PARSE: bigint constant overflow"},
	{"1e400", "PARSE: double constant overflow at column 1"},
	{"1 + 1e999", "PARSE: double constant overflow at column 5"},
	{"", "PARSE: missing expression"},
	{"abs", "PARSE: syntax error"},
	{"hash(1, 2, 3)", "PARSE: unexpected number of arguments for function \"hash\""},
};

static void
test_table(void)
{
	struct pgb_vars *vars = pgb_vars_create();
	struct pgb_prng rng;
	char		err[200];

	pgb_prng_seed(&rng, 1);
	pgb_vars_set_int(vars, "scale", 10);
	pgb_vars_set_int(vars, "default_seed", 0);
	CHECK(pgb_vars_set_text(vars, "x", "42", err, sizeof(err)), "%s", err);
	CHECK(pgb_vars_set_text(vars, "d", "2.5", err, sizeof(err)), "%s", err);
	CHECK(pgb_vars_set_text(vars, "b", "yes", err, sizeof(err)), "%s", err);
	CHECK(pgb_vars_set_text(vars, "bad", "abc", err, sizeof(err)), "%s", err);
	CHECK(pgb_vars_set_text(vars, "inf", "inf", err, sizeof(err)), "%s", err);
	CHECK(pgb_vars_set_text(vars, "nan", "nan", err, sizeof(err)), "%s", err);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		const char *got = eval_text(cases[i].expr, vars, &rng);
		bool		is_err = strncmp(cases[i].want, "ERROR", 5) == 0 ||
			strncmp(cases[i].want, "PARSE", 5) == 0;
		bool		ok = is_err ? strncmp(got, cases[i].want, strlen(cases[i].want)) == 0
			: strcmp(got, cases[i].want) == 0;

		CHECK(ok, "%s: got \"%s\", want \"%s\"", cases[i].expr, got, cases[i].want);
	}
	/* parse errors say where */
	CHECK(strstr(eval_text("1 + foo", vars, &rng), "column 5") != NULL,
		  "column in message: %s", eval_text("1 + foo", vars, &rng));
	/* hash() without a seed needs :default_seed */
	{
		struct pgb_vars *empty = pgb_vars_create();

		CHECK_STR(eval_text("hash(1)", empty, &rng),
				  "ERROR: undefined variable \"default_seed\"");
		CHECK_STR(eval_text("random(1, 2)", empty, NULL),
				  "ERROR: no random state to evaluate random functions");
		pgb_vars_free(empty);
	}
	pgb_vars_free(vars);
}

static void
test_vars(void)
{
	struct pgb_vars *vars = pgb_vars_create();
	struct pgb_vars *copy;
	char		err[200];
	pgb_value	v;
	static const struct
	{
		const char *text;
		pgb_value_type type;
		const char *render;
	}			conv[] =
	{
		{"42", PGB_INT, "42"}, {" -7", PGB_INT, "-7"}, {"3.5", PGB_DOUBLE, "3.5"},
		{"1e3", PGB_DOUBLE, "1000"}, {"TRUE", PGB_BOOLEAN, "true"},
		{"y", PGB_BOOLEAN, "true"}, {"on", PGB_BOOLEAN, "true"},
		{"of", PGB_BOOLEAN, "false"}, {"n", PGB_BOOLEAN, "false"},
		{"FALSE", PGB_BOOLEAN, "false"}, {"NuLL", PGB_NULL, "NULL"},
	};

	for (size_t i = 0; i < sizeof(conv) / sizeof(conv[0]); i++)
	{
		char		buf[64];

		CHECK(pgb_vars_set_text(vars, "v", conv[i].text, err, sizeof(err)), "%s", err);
		CHECK(pgb_vars_get_value(vars, "v", &v, err, sizeof(err)), "%s: %s",
			  conv[i].text, err);
		CHECK(v.type == conv[i].type, "%s: type %d", conv[i].text, (int) v.type);
		CHECK_STR(pgb_value_to_text(&v, buf, sizeof(buf)), conv[i].render);
		/* text stays exactly as set, for SQL substitution */
		CHECK_STR(pgb_vars_get_text(vars, "v"), conv[i].text);
	}
	CHECK(pgb_vars_set_text(vars, "v", "", err, sizeof(err)), "%s", err);
	CHECK(!pgb_vars_get_value(vars, "v", &v, err, sizeof(err)), "empty is malformed");
	CHECK(pgb_vars_set_text(vars, "v", "99999999999999999999", err, sizeof(err)), "%s", err);
	CHECK(!pgb_vars_get_value(vars, "v", &v, err, sizeof(err)), "int overflow is malformed");

	pgb_vars_set_int(vars, "i", -12);
	CHECK_STR(pgb_vars_get_text(vars, "i"), "-12");
	pgb_vars_set_double(vars, "f", 0.1);
	CHECK_STR(pgb_vars_get_text(vars, "f"), "0.1");
	v.type = PGB_BOOLEAN;
	v.u.bval = false;
	CHECK(pgb_vars_set_value(vars, "bo", &v, err, sizeof(err)), "%s", err);
	CHECK_STR(pgb_vars_get_text(vars, "bo"), "false");
	CHECK(pgb_vars_get_text(vars, "nosuch") == NULL, "undefined is NULL");

	/* names */
	CHECK(pgb_var_name_valid("a_1"), "a_1");
	CHECK(pgb_var_name_valid("_x"), "_x");
	CHECK(pgb_var_name_valid("\xc3\xa9t\xc3\xa9"), "utf-8 name");
	CHECK(!pgb_var_name_valid("1a"), "leading digit");
	CHECK(!pgb_var_name_valid(""), "empty");
	CHECK(!pgb_var_name_valid("a-b"), "dash");
	CHECK(!pgb_vars_set_text(vars, "a b", "1", err, sizeof(err)) &&
		  strstr(err, "invalid variable name") != NULL, "bad name: %s", err);

	/* -D */
	CHECK(pgb_vars_define(vars, "dd=a=b", err, sizeof(err)), "%s", err);
	CHECK_STR(pgb_vars_get_text(vars, "dd"), "a=b");
	CHECK(!pgb_vars_define(vars, "=3", err, sizeof(err)) &&
		  strstr(err, "invalid variable definition") != NULL, "%s", err);
	CHECK(!pgb_vars_define(vars, "noequals", err, sizeof(err)), "no =");

	/* \gset with prefix; NULL column */
	CHECK(pgb_vars_set_prefixed(vars, "p_", "one", "1", err, sizeof(err)), "%s", err);
	CHECK_STR(pgb_vars_get_text(vars, "p_one"), "1");
	CHECK(pgb_vars_set_prefixed(vars, "", "n", NULL, err, sizeof(err)), "%s", err);
	CHECK(pgb_vars_get_value(vars, "n", &v, err, sizeof(err)) && v.type == PGB_NULL,
		  "NULL column");
	CHECK(!pgb_vars_set_prefixed(vars, "", "?column?", "1", err, sizeof(err)),
		  "?column? is not a valid name");

	/* setting a variable to its own text */
	CHECK(pgb_vars_set_text(vars, "self", "abc", err, sizeof(err)), "%s", err);
	CHECK(pgb_vars_set_text(vars, "self", pgb_vars_get_text(vars, "self"),
							err, sizeof(err)), "%s", err);
	CHECK_STR(pgb_vars_get_text(vars, "self"), "abc");

	/* integers in text form, at the extremes */
	pgb_vars_set_int(vars, "imin", INT64_MIN);
	CHECK_STR(pgb_vars_get_text(vars, "imin"), "-9223372036854775808");
	pgb_vars_set_int(vars, "imax", INT64_MAX);
	CHECK_STR(pgb_vars_get_text(vars, "imax"), "9223372036854775807");
	pgb_vars_set_int(vars, "izero", 0);
	CHECK_STR(pgb_vars_get_text(vars, "izero"), "0");
	pgb_vars_set_int(vars, "izero", -7);
	CHECK_STR(pgb_vars_get_text(vars, "izero"), "-7");
	/* a new variable set from another one's text while the table grows */
	for (int i = 0; i < 64; i++)
	{
		char		name[32];

		snprintf(name, sizeof(name), "grow%d", i);
		CHECK(pgb_vars_set_text(vars, name, pgb_vars_get_text(vars, "imin"),
								err, sizeof(err)), "%s", err);
	}
	CHECK_STR(pgb_vars_get_text(vars, "grow63"), "-9223372036854775808");

	/* many variables (rehashing) and copies are independent */
	for (int i = 0; i < 2000; i++)
	{
		char		name[32];

		snprintf(name, sizeof(name), "v%d", i);
		pgb_vars_set_int(vars, name, i);
	}
	copy = pgb_vars_copy(vars);
	pgb_vars_set_int(vars, "v7", 700);
	{
		bool		all = true;

		for (int i = 0; i < 2000; i++)
		{
			char		name[32];
			char		want[32];

			snprintf(name, sizeof(name), "v%d", i);
			snprintf(want, sizeof(want), "%d", i);
			if (strcmp(pgb_vars_get_text(copy, name), want) != 0)
				all = false;
		}
		CHECK(all, "copy keeps all 2000 values");
	}
	CHECK_STR(pgb_vars_get_text(vars, "v7"), "700");
	CHECK_STR(pgb_vars_get_text(copy, "v7"), "7");
	CHECK(pgb_vars_count(copy) == pgb_vars_count(vars), "count");
	CHECK(pgb_vars_name_at(vars, pgb_vars_count(vars)) == NULL, "name_at bound");
	pgb_vars_free(copy);
	pgb_vars_free(vars);
}

/* Mean of n draws of expr, checking every draw lies in [lo, hi]. */
static double
draw_mean(const char *text, int n, int64_t lo, int64_t hi, int64_t *counts,
		  bool *in_range)
{
	char		err[200];
	struct pgb_expr *e = pgb_expr_parse(text, err, sizeof(err));
	struct pgb_vars *vars = pgb_vars_create();
	struct pgb_prng rng;
	double		sum = 0;

	*in_range = (e != NULL);
	pgb_prng_seed(&rng, 12345);
	for (int i = 0; e != NULL && i < n; i++)
	{
		pgb_value	v;

		if (!pgb_expr_eval(e, vars, &rng, &v, err, sizeof(err)) ||
			v.type != PGB_INT || v.u.ival < lo || v.u.ival > hi)
		{
			*in_range = false;
			break;
		}
		if (counts)
			counts[v.u.ival - lo]++;
		sum += (double) v.u.ival;
	}
	pgb_expr_free(e);
	pgb_vars_free(vars);
	return sum / n;
}

static void
test_random(void)
{
	struct pgb_prng a,
				b;
	bool		same = true;
	bool		ok;
	double		mean;
	int64_t		counts[1000];

	/* seeded reproducibility */
	pgb_prng_seed(&a, 42);
	pgb_prng_seed(&b, 42);
	for (int i = 0; i < 100; i++)
		same &= (pgb_prng_u64(&a) == pgb_prng_u64(&b));
	CHECK(same, "same seed, same sequence");
	pgb_prng_seed(&b, 43);
	CHECK(pgb_prng_u64(&a) != pgb_prng_u64(&b), "different seed, different sequence");
	{
		/* splitmix64(0) first outputs, a published test vector */
		struct pgb_prng z;

		pgb_prng_seed(&z, 0);
		CHECK(z.s[0] == UINT64_C(0xe220a8397b1dcdaf) &&
			  z.s[1] == UINT64_C(0x6e789e6aa1b965f4),
			  "splitmix64 seeding: %016" PRIx64 " %016" PRIx64, z.s[0], z.s[1]);
	}
	{
		bool		inrange = true;

		for (int i = 0; i < 10000; i++)
		{
			double		d = pgb_prng_double(&a);
			int64_t		r = pgb_prng_range(&a, -3, 3);

			inrange &= (d >= 0.0 && d < 1.0 && r >= -3 && r <= 3);
		}
		CHECK(inrange, "double in [0,1), range in [-3,3]");
		CHECK(pgb_prng_range(&a, 5, 5) == 5, "empty range gives min");
	}

	/* uniform: mean 50.5, sd of the mean ~ 28.9/sqrt(1e5) = 0.09 */
	memset(counts, 0, sizeof(counts));
	mean = draw_mean("random(1, 100)", 100000, 1, 100, counts, &ok);
	CHECK(ok, "random in range");
	CHECK(fabs(mean - 50.5) < 0.5, "random mean %f", mean);
	CHECK(counts[0] > 0 && counts[99] > 0, "random reaches both ends");

	/* gaussian, symmetric around the middle */
	mean = draw_mean("random_gaussian(1, 100, 2.5)", 100000, 1, 100, NULL, &ok);
	CHECK(ok, "gaussian in range");
	CHECK(fabs(mean - 50.5) < 0.5, "gaussian mean %f", mean);

	/*
	 * exponential with parameter 5 on [1,100]: r has density ~ exp(-5r) on
	 * [0,1), mean 1/5 - e^-5/(1-e^-5) = 0.19317; value = 1 + floor(100 r),
	 * mean about 1 + 19.317 - 0.5 = 19.82
	 */
	mean = draw_mean("random_exponential(1, 100, 5)", 100000, 1, 100, NULL, &ok);
	CHECK(ok, "exponential in range");
	CHECK(fabs(mean - 19.82) < 0.5, "exponential mean %f", mean);

	/*
	 * zipfian s=1.5 on [1,1000]: P(k) = k^-1.5 / H, H = sum k^-1.5 ~ 2.5495,
	 * so P(1) ~ 0.3922 and P(2)/P(1) = 2^-1.5 = 0.354
	 */
	memset(counts, 0, sizeof(counts));
	mean = draw_mean("random_zipfian(1, 1000, 1.5)", 100000, 1, 1000, counts, &ok);
	CHECK(ok, "zipfian in range");
	{
		double		h = 0;

		for (int k = 1; k <= 1000; k++)
			h += pow(k, -1.5);
		CHECK(fabs(counts[0] / 100000.0 - 1.0 / h) < 0.01,
			  "zipfian P(1) %f want %f", counts[0] / 100000.0, 1.0 / h);
		CHECK(fabs((double) counts[1] / counts[0] - pow(2, -1.5)) < 0.02,
			  "zipfian P(2)/P(1) %f", (double) counts[1] / counts[0]);
		CHECK(counts[0] > counts[1] && counts[1] > counts[2], "zipfian decreasing");
	}

	/* permute is a permutation for many sizes and seeds */
	for (int64_t size = 1; size <= 70; size++)
	{
		for (int64_t seed = -2; seed <= 2; seed++)
		{
			bool		seen[70] = {false};
			bool		perm = true;

			for (int64_t i = 0; i < size; i++)
			{
				int64_t		p = pgb_permute(i, size, seed);

				if (p < 0 || p >= size || seen[p])
					perm = false;
				else
					seen[p] = true;
			}
			CHECK(perm, "permute size %" PRId64 " seed %" PRId64, size, seed);
		}
	}
	{
		static bool seen[100000];
		bool		perm = true;
		int			fixed = 0;

		for (int64_t i = 0; i < 100000; i++)
		{
			int64_t		p = pgb_permute(i, 100000, 7);

			if (p < 0 || p >= 100000 || seen[p])
				perm = false;
			else
				seen[p] = true;
			fixed += (p == i);
		}
		CHECK(perm, "permute of 100000 is a bijection");
		CHECK(fixed < 20, "permute moves values (%d fixed points)", fixed);
		/* values outside [0,size) wrap modulo size, as pgbench */
		CHECK(pgb_permute(100003, 100000, 7) == pgb_permute(3, 100000, 7), "wraps");
	}
	/* the documented zipfian + permute usage */
	{
		char		err[200];
		struct pgb_expr *e = pgb_expr_parse("1 + permute(random_zipfian(1, :size, 1.07), :size)",
											err, sizeof(err));
		struct pgb_vars *vars = pgb_vars_create();
		struct pgb_prng rng;
		pgb_value	v;
		bool		good = e != NULL;

		pgb_vars_set_int(vars, "size", 1000);
		pgb_vars_set_int(vars, "default_seed", 99);
		pgb_prng_seed(&rng, 5);
		for (int i = 0; good && i < 1000; i++)
			good = pgb_expr_eval(e, vars, &rng, &v, err, sizeof(err)) &&
				v.type == PGB_INT && v.u.ival >= 1 && v.u.ival <= 1000;
		CHECK(good, "zipfian+permute example: %s", e ? "out of range" : err);
		pgb_expr_free(e);
		pgb_vars_free(vars);
	}
}

/* Text of n copies of head, then middle, then n copies of tail (malloc'd). */
static char *
repeat3(const char *head, int n, const char *middle, const char *tail)
{
	size_t		hl = strlen(head),
				ml = strlen(middle),
				tl = strlen(tail);
	char	   *s = malloc((hl + tl) * (size_t) n + ml + 1);
	char	   *p = s;

	for (int i = 0; i < n; i++, p += hl)
		memcpy(p, head, hl);
	memcpy(p, middle, ml);
	p += ml;
	for (int i = 0; i < n; i++, p += tl)
		memcpy(p, tail, tl);
	*p = '\0';
	return s;
}

/*
 * Nesting is limited with a parse error that says where; chains of binary
 * operators of any length parse, evaluate and free without recursion.  The
 * inputs are those that used to overflow the stack.
 */
static void
test_depth(void)
{
	struct pgb_vars *vars = pgb_vars_create();
	struct pgb_prng rng;
	char	   *text;
	const char *got;
	static const char nested_msg[] =
		"PARSE: expression is nested too deeply (maximum depth is 1000) at column ";

	pgb_prng_seed(&rng, 1);
	pgb_vars_set_int(vars, "one", 1);

	/* 50,000 nested parentheses */
	text = repeat3("(", 50000, "1", ")");
	got = eval_text(text, vars, &rng);
	CHECK(strncmp(got, nested_msg, strlen(nested_msg)) == 0, "parens: %s", got);
	/* where: the 1001st '(' would open the 1001st level */
	CHECK(strstr(got, "at column 1001 of expression \"((((") != NULL, "parens column: %s", got);
	/* the expression is cut in the message, not copied whole */
	CHECK(strlen(got) < 300, "message length %zu", strlen(got));
	free(text);

	/* 100,000 unary minus signs */
	text = repeat3("-", 100000, "1", "");
	got = eval_text(text, vars, &rng);
	CHECK(strncmp(got, nested_msg, strlen(nested_msg)) == 0, "unary minus: %s", got);
	free(text);
	/* ... and other prefix operators */
	text = repeat3("NOT ", 20000, "true", "");
	got = eval_text(text, vars, &rng);
	CHECK(strncmp(got, nested_msg, strlen(nested_msg)) == 0, "NOT: %s", got);
	free(text);
	text = repeat3("~", 20000, "1", "");
	got = eval_text(text, vars, &rng);
	CHECK(strncmp(got, nested_msg, strlen(nested_msg)) == 0, "~: %s", got);
	free(text);

	/* abs( nested 20,000 deep */
	text = repeat3("abs(", 20000, "-1", ")");
	got = eval_text(text, vars, &rng);
	CHECK(strncmp(got, nested_msg, strlen(nested_msg)) == 0, "abs: %s", got);
	free(text);
	text = repeat3("CASE WHEN true THEN ", 20000, "1", " END");
	got = eval_text(text, vars, &rng);
	CHECK(strncmp(got, nested_msg, strlen(nested_msg)) == 0, "CASE: %s", got);
	free(text);

	/* just under the limit works (999 levels: the outer one is the 1000th) */
	text = repeat3("abs(", 998, "-1", ")");
	CHECK_STR(eval_text(text, vars, &rng), "int 1");
	free(text);
	text = repeat3("(", 999, "7", ")");
	CHECK_STR(eval_text(text, vars, &rng), "int 7");
	free(text);

	/* a flat sum of 20,000 terms: 1 + 1 + ... = 20000 */
	text = repeat3("1 + ", 19999, "1", "");
	CHECK_STR(eval_text(text, vars, &rng), "int 20000");
	free(text);
	/* 200,000 terms, variables, mixed operators at one level */
	text = repeat3(":one + ", 199999, ":one", "");
	CHECK_STR(eval_text(text, vars, &rng), "int 200000");
	free(text);
	text = repeat3("2 * 3 - 5 + ", 20000, "0", "");
	CHECK_STR(eval_text(text, vars, &rng), "int 20000");
	free(text);
	/* errors inside a long chain are found, in order */
	text = repeat3("1 + ", 20000, "1 / 0", "");
	CHECK_STR(eval_text(text, vars, &rng), "ERROR: division by zero");
	free(text);
	text = repeat3("9223372036854775807 + ", 1, "1", "");
	CHECK_STR(eval_text(text, vars, &rng), "ERROR: bigint add out of range");
	free(text);
	/* a long AND/OR chain keeps its laziness: the 1/0 is never evaluated */
	text = repeat3("true AND ", 20000, "false OR true OR 1/0 = 1", "");
	CHECK_STR(eval_text(text, vars, &rng), "boolean true");
	free(text);
	text = repeat3("NULL AND ", 20000, "1/0 = 1", "");
	CHECK_STR(eval_text(text, vars, &rng), "null");
	free(text);
	/*
	 * IS NOT wraps a NOT around the chain: alternating IS NOT and = make a
	 * chain through NOT nodes (pgbench's grammar accepts it; comparing the
	 * boolean fails at run time, cleanly)
	 */
	{
		size_t		n = 20000;
		char	   *t = malloc(n * 20 + 8);
		char	   *p = t;

		p += sprintf(p, "1");
		for (size_t i = 0; i < n; i++)
			p += sprintf(p, " IS NOT NULL = true");
		got = eval_text(t, vars, &rng);
		CHECK_STR(got, "ERROR: cannot coerce boolean to int");
		free(t);
	}
	pgb_vars_free(vars);
}

int
main(void)
{
	test_table();
	test_depth();
	test_vars();
	test_random();
	return UNIT_DONE("test_expr");
}
