/*
 * vars.h
 *		The values of pgbench scripts and the per-client variable table.
 *
 * Owns: pgbench 15's value types (NULL, boolean, integer, double; no
 * string type), their text form as substituted into SQL, and the variable
 * table with pgbench's lazy conversion of text values.
 *
 * Must not: talk to libpq or print anything.
 *
 * Memory: a struct pgb_vars is malloc'd and owns its names and texts;
 * pgb_vars_free() releases it.  Allocation failure aborts (util.c).  A
 * table belongs to one client and is not shared between threads.
 *
 * Errors are written to err (errlen bytes, always NUL-terminated when
 * errlen > 0) in PostgreSQL message style: lower case, no final period.
 */
#ifndef PERFDRIVER_VARS_H
#define PERFDRIVER_VARS_H

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

/* Value constructors (inline: the evaluator builds one per operation). */
static inline void
pgb_value_set_null(pgb_value *v)
{
	v->type = PGB_NULL;
	v->u.ival = 0;
}

static inline void
pgb_value_set_bool(pgb_value *v, bool b)
{
	v->type = PGB_BOOLEAN;
	v->u.ival = 0;
	v->u.bval = b;
}

static inline void
pgb_value_set_int(pgb_value *v, int64_t i)
{
	v->type = PGB_INT;
	v->u.ival = i;
}

static inline void
pgb_value_set_double(pgb_value *v, double d)
{
	v->type = PGB_DOUBLE;
	v->u.dval = d;
}

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

#endif							/* PERFDRIVER_VARS_H */
