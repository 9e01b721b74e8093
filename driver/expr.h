/*
 * expr.h
 *		perfdriver's copy of the pgbench expression language: values,
 *		per-client variables, the per-client PRNG, and the parser and
 *		evaluator of the expressions used by \set, \if and \elif.
 *
 * Owns: the pgbench 15 expression syntax and semantics (integer vs double
 * arithmetic, overflow and division-by-zero errors, the function set and the
 * random distributions), the variable table with pgbench's lazy conversion
 * of text values, and the PRNG: xoroshiro128** with splitmix64 seeding,
 * bit for bit PostgreSQL's pg_prng, so that permute() and seeded sequences
 * give the same numbers as pgbench.
 *
 * Must not: talk to libpq or print anything except debug() output on stderr.
 *
 * Memory: everything is malloc'd.  Constructors return NULL only on a syntax
 * or argument error (message in err), and abort on out-of-memory.  A parsed
 * expression is immutable and may be shared by threads; a struct pgb_vars
 * and a struct pgb_prng belong to one client and are not shared.
 *
 * Errors are written to err (errlen bytes, always NUL-terminated when
 * errlen > 0) in PostgreSQL message style: lower case, no final period.
 */
#ifndef PERFDRIVER_EXPR_H
#define PERFDRIVER_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Values.  pgbench expressions have no string type: text stored in a
 * variable (from \gset or -D) is converted when an expression reads it.
 */
typedef enum pgb_value_type
{
	PGB_NULL,
	PGB_BOOLEAN,
	PGB_INT,
	PGB_DOUBLE
} pgb_value_type;

typedef struct pgb_value
{
	pgb_value_type type;
	union
	{
		bool		bval;
		int64_t		ival;
		double		dval;
	}			u;
} pgb_value;

/*
 * pgb_value_to_text: format v as pgbench does when it substitutes a variable
 * into SQL: integers in decimal, doubles with "%.*g" and DBL_DIG digits,
 * booleans as "true"/"false", NULL as "NULL".  Writes at most buflen bytes
 * (64 is always enough) and returns buf.
 */
char	   *pgb_value_to_text(const pgb_value *v, char *buf, size_t buflen);

/* pgbench's truth value: NULL is false, numbers are true when non-zero. */
bool		pgb_value_truth(const pgb_value *v);

/*
 * PRNG: xoroshiro128** (PostgreSQL's pg_prng), 128 bits of state per
 * client.  Seeding fills the state with splitmix64 from one 64-bit seed, as
 * pg_prng_seed().
 */
struct pgb_prng
{
	uint64_t	s[2];
};

void		pgb_prng_seed(struct pgb_prng *rng, uint64_t seed);

/* Next 64 random bits. */
uint64_t	pgb_prng_u64(struct pgb_prng *rng);

/* Uniform double in [0, 1), 52 random bits (as pg_prng_double). */
double		pgb_prng_double(struct pgb_prng *rng);

/*
 * Uniform integer in [min, max] without modulo bias (shift-and-reject, as
 * pg_prng_uint64_range).  Returns min when max <= min.  max - min must
 * not overflow (random() checks this before calling).
 */
int64_t		pgb_prng_range(struct pgb_prng *rng, int64_t min, int64_t max);

/*
 * Variables: one table per client, keyed by name (hash lookup).  A variable
 * holds either a value or text.  Text is converted on first use in an
 * expression as pgbench does: "null" (any case) is NULL; a prefix of
 * "true"/"yes", or "on", is true; a prefix of "false"/"no", "off" or "of" is
 * false; an integer literal is an integer; otherwise it must parse as a
 * double, else the expression fails with 'malformed variable "x" value: ...'.
 *
 * Names: letters, digits, underscores and non-ASCII bytes, not starting
 * with a digit (pgbench's rule).
 * Setters that take a user-supplied name check it; the _int/_double setters
 * take names chosen by the program (an invalid one is silently ignored).
 *
 * Like pgbench, the runner sets these in every client's table before the
 * first transaction: scale (pgbench's -s, used by the built-ins),
 * client_id (0-based), random_seed, and default_seed (the default seed of
 * hash() and permute(); pgbench draws it from its base random sequence).
 * -D NAME=VALUE definitions are applied with pgb_vars_define().
 */
struct pgb_vars;

struct pgb_vars *pgb_vars_create(void);
void		pgb_vars_free(struct pgb_vars *vars);

/* Deep copy, so that -D variables can be given to every client.  */
struct pgb_vars *pgb_vars_copy(const struct pgb_vars *vars);

/* True when name is a valid pgbench variable name. */
bool		pgb_var_name_valid(const char *name);

/*
 * pgb_vars_set_text: set name to a text value (as \gset and -D do).  Returns
 * false, with 'invalid variable name: "x"' in err, when name is not valid.
 * The text is copied.
 */
bool		pgb_vars_set_text(struct pgb_vars *vars, const char *name,
							  const char *text, char *err, size_t errlen);

/*
 * pgb_vars_set_prefixed: set prefix||name to text, or to NULL when text is
 * NULL (a NULL column).  This is what \gset [prefix] / \aset [prefix] do for
 * each result column.  Returns false with a message in err when the joined
 * name is not a valid variable name.
 */
bool		pgb_vars_set_prefixed(struct pgb_vars *vars, const char *prefix,
								  const char *name, const char *text,
								  char *err, size_t errlen);

/* pgb_vars_set_value: set name to a copy of *v.  Same name check. */
bool		pgb_vars_set_value(struct pgb_vars *vars, const char *name,
							   const pgb_value *v, char *err, size_t errlen);

void		pgb_vars_set_int(struct pgb_vars *vars, const char *name, int64_t v);
void		pgb_vars_set_double(struct pgb_vars *vars, const char *name, double v);

/*
 * pgb_vars_define: parse a -D "NAME=VALUE" argument and set NAME to the text
 * VALUE.  Returns false with 'invalid variable definition: "..."' or an
 * invalid-name message in err.
 */
bool		pgb_vars_define(struct pgb_vars *vars, const char *assignment,
							char *err, size_t errlen);

/*
 * pgb_vars_get_text: the variable's text as substituted into SQL, or NULL
 * when it is not defined.  The pointer stays valid until that variable is
 * set again, a variable is added or the table is freed.
 */
const char *pgb_vars_get_text(struct pgb_vars *vars, const char *name);

/*
 * pgb_vars_get_value: the variable's value, converting text as described
 * above.  Returns false with 'undefined variable "x"' or 'malformed variable
 * "x" value: "..."' in err.
 */
bool		pgb_vars_get_value(struct pgb_vars *vars, const char *name,
							   pgb_value *out, char *err, size_t errlen);

/* Number of variables and their names, for listing (index 0..count-1). */
int			pgb_vars_count(const struct pgb_vars *vars);
const char *pgb_vars_name_at(const struct pgb_vars *vars, int i);

/*
 * Expressions.  Syntax and semantics of pgbench 15: integer and double
 * constants, TRUE/FALSE/NULL, :var references, unary - + ~ NOT, * / %, + -,
 * << >>, & | #, comparisons = <> != < <= > >=, IS [NOT] NULL / TRUE /
 * FALSE, ISNULL/NOTNULL, AND OR, CASE WHEN .. THEN .. [ELSE ..] END,
 * parentheses, and the functions abs, debug, double, exp, greatest, hash,
 * hash_fnv1a, hash_murmur2, int, least, ln, mod, permute, pi, pow, power,
 * random, random_exponential, random_gaussian, random_zipfian, sqrt.
 * hash(), permute() and the hash_* functions default their seed to
 * the variable :default_seed, which the runner must set (pgbench sets it
 * from its random seed).
 */
struct pgb_expr;

/*
 * pgb_expr_parse: parse text (the rest of a \set, \if or \elif line).
 * Returns the expression, or NULL with a message such as 'syntax error at
 * column 7' or 'unrecognized function "foo"' in err.  Free with
 * pgb_expr_free().
 */
struct pgb_expr *pgb_expr_parse(const char *text, char *err, size_t errlen);

void		pgb_expr_free(struct pgb_expr *e);

/*
 * pgb_expr_eval: evaluate e with the client's variables and PRNG.  Returns
 * false, with a message in err, on a runtime error: integer overflow,
 * division by zero, undefined or malformed variable, out-of-range argument
 * to a random function, wrong argument type.  *out is untouched on failure.
 */
bool		pgb_expr_eval(const struct pgb_expr *e, struct pgb_vars *vars,
						  struct pgb_prng *rng, pgb_value *out,
						  char *err, size_t errlen);

/*
 * The hash and permutation primitives, exposed for tests and for runners
 * that need them directly.  Same results as pgbench 15.
 */
int64_t		pgb_hash_fnv1a(int64_t val, uint64_t seed);
int64_t		pgb_hash_murmur2(int64_t val, uint64_t seed);

/* permute(val, size, seed); size must be > 0.  Returns val's image in
 * [0, size), a bijection for a fixed size and seed. */
int64_t		pgb_permute(int64_t val, int64_t size, int64_t seed);

#endif							/* PERFDRIVER_EXPR_H */
