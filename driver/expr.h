/*
 * expr.h
 *		perfdriver's copy of the pgbench expression language: the parser
 *		and evaluator of the expressions used by \set, \if and \elif.
 *		Values and variables are in vars.h, the PRNG in prng.h.
 *
 * Owns: the pgbench 15 expression syntax and semantics (integer vs double
 * arithmetic, overflow and division-by-zero errors, the function set, the
 * argument checks of the random functions, hash() and its variants).
 *
 * Must not: talk to libpq or print anything except debug() output on stderr.
 *
 * Memory: parse trees are malloc'd.  Constructors return NULL only on a
 * syntax or argument error (message in err), and abort on out-of-memory
 * (util.c).  A parsed expression is immutable and may be shared by threads.
 *
 * Errors are written to err (errlen bytes, always NUL-terminated when
 * errlen > 0) in PostgreSQL message style: lower case, no final period.
 */
#ifndef PERFDRIVER_EXPR_H
#define PERFDRIVER_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prng.h"
#include "vars.h"

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
 * column 7' or 'unrecognized function "foo"' in err.  Nesting deeper than
 * 1000 (parentheses, calls, prefix operators, CASE) is 'expression is
 * nested too deeply (maximum depth is 1000)'; a long chain of operators is
 * not nesting.  Free with pgb_expr_free().
 */
struct pgb_expr *pgb_expr_parse(const char *text, char *err, size_t errlen);

void		pgb_expr_free(struct pgb_expr *e);

/*
 * pgb_expr_eval: evaluate e with the client's variables and PRNG.  Returns
 * false, with a message in err, on a runtime error: integer overflow,
 * division by zero, a double that is not finite (PostgreSQL's messages:
 * "value out of range: overflow", "cannot take square root of a negative
 * number"...), undefined or malformed variable, out-of-range argument to a
 * random function, wrong argument type.  *out is untouched on failure.
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

#endif							/* PERFDRIVER_EXPR_H */
