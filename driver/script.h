/*
 * script.h
 *		pgbench-compatible workload scripts: parsing script files and the
 *		built-in scripts into a list of commands the runner executes.
 *
 * Owns: the pgbench 15 script syntax (SQL commands split at semicolons,
 * "--" comments, quotes and dollar quotes, :var references, "\;" compound
 * statements, and the meta-commands \set \sleep \if \elif \else \endif
 * \gset \aset \startpipeline \endpipeline), the control-flow jump targets,
 * the -M simple text substitution, and the built-in scripts.
 *
 * Difference from pgbench: :var references inside quoted strings, quoted
 * identifiers and comments are not substituted (pgbench substitutes them,
 * which breaks literals such as '12:30').
 *
 * Must not: talk to libpq.  The runner executes commands; this module only
 * says what to execute.  \setshell and \shell are rejected at parse time.
 *
 * Memory: a struct pgb_script and everything it points to is malloc'd and
 * freed by pgb_script_free().  A parsed script is immutable and may be
 * shared by all threads; per-client state lives in struct pgb_vars and
 * struct pgb_prng (expr.h).
 *
 * Errors: functions that can fail take (char *err, size_t errlen) and write
 * a message naming the file and line, e.g.
 *	script.sql:3: unrecognized meta-command "\foo"
 */
#ifndef PERFDRIVER_SCRIPT_H
#define PERFDRIVER_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "expr.h"

typedef enum pgb_command_type
{
	PGB_CMD_SQL,				/* one SQL statement (or a "\;" compound) */
	PGB_CMD_SET,				/* \set varname expr */
	PGB_CMD_SLEEP,				/* \sleep n|:var [us|ms|s] */
	PGB_CMD_IF,					/* \if expr */
	PGB_CMD_ELIF,				/* \elif expr */
	PGB_CMD_ELSE,				/* \else */
	PGB_CMD_ENDIF,				/* \endif */
	PGB_CMD_STARTPIPELINE,		/* \startpipeline */
	PGB_CMD_ENDPIPELINE			/* \endpipeline */
} pgb_command_type;

typedef enum pgb_gset_kind
{
	PGB_GSET_NONE,
	PGB_GSET_GSET,				/* \gset: last result must have exactly one row */
	PGB_GSET_ASET				/* \aset: every result, zero or more rows */
} pgb_gset_kind;

/* Where a variable reference sits in pgb_command.sql (for -M simple). */
struct pgb_param_ref
{
	int			offset;			/* of the ':' in sql */
	int			length;			/* bytes of the reference (":x", ":'x'") */
	bool		literal;		/* :'x' form: substitute as a quoted literal */
};

struct pgb_command
{
	pgb_command_type type;
	int			line;			/* 1-based line where the command starts */
	char	   *text;			/* the command as written (SQL without the
								 * final ";", or the meta-command line) */

	/* PGB_CMD_SQL */
	char	   *sql;			/* same as text: the SQL with :var refs */
	char	   *param_sql;		/* :var replaced by $1..$n, for -M
								 * extended/prepared */
	int			nparams;
	char	  **param_names;	/* nparams variable names; the same variable
								 * used twice gets two parameters, as in
								 * pgbench */
	struct pgb_param_ref *param_refs;	/* nparams references, in order */
	bool		multi;			/* contains "\;": several statements in one
								 * query string (simple protocol only) */
	pgb_gset_kind gset;
	char	   *gset_prefix;	/* "" when none; NULL when gset is NONE */
	uint64_t	fingerprint;	/* of param_sql, from normalize.c */
	char	   *normalized;		/* normalized param_sql, for reports */

	/* PGB_CMD_SET: varname = expr.  PGB_CMD_IF / PGB_CMD_ELIF: expr */
	char	   *varname;
	struct pgb_expr *expr;

	/* PGB_CMD_SLEEP: sleep_value or :sleep_var, times sleep_mult usec */
	int64_t		sleep_value;
	char	   *sleep_var;		/* NULL for a constant */
	int64_t		sleep_mult;		/* 1, 1000 or 1000000 */

	/*
	 * PGB_CMD_IF / ELIF / ELSE / ENDIF: precomputed jumps (command indexes).
	 * jump_false (IF, ELIF): where to go when the condition is false: the
	 * next \elif (whose condition must then be evaluated), the command after
	 * the \else, or the command after the \endif.  jump_end (IF, ELIF, ELSE,
	 * ENDIF): the command after the matching \endif.  An ELIF or ELSE reached
	 * in sequence ends a branch that ran, so execution continues at jump_end.
	 * pgb_script_branch() applies these rules.
	 */
	int			jump_false;
	int			jump_end;
};

struct pgb_script
{
	char	   *name;			/* file name or built-in name */
	int			weight;			/* from "@weight", default 1 */
	int			ncommands;
	struct pgb_command *commands;
};

/*
 * pgb_script_parse: parse script text.  name is used in error messages and
 * kept in the script.  Returns the script (weight 1), or NULL with
 * "name:line: message" in err.  Errors include unrecognized meta-commands,
 * missing or extra arguments, expression syntax errors, \gset not after an
 * SQL command, unbalanced \if/\elif/\else/\endif, \setshell and \shell
 * ("not supported"), and an empty script.
 */
struct pgb_script *pgb_script_parse(const char *name, const char *text,
									char *err, size_t errlen);

/*
 * pgb_script_load: read and parse "file[@weight]" ("-" reads stdin).  As in
 * pgbench, the part after the last '@' is the weight, an integer in
 * [0, INT_MAX] ('invalid weight specification: "..."' otherwise), so a
 * file whose name contains '@' needs an explicit weight.  Returns NULL with
 * a message in err on a read, weight or parse error.
 */
struct pgb_script *pgb_script_load(const char *arg, char *err, size_t errlen);

void		pgb_script_free(struct pgb_script *script);

/*
 * pgb_script_split_weight: split "name[@weight]" as pgbench does (the part
 * after the last '@' must be an integer in [0, INT_MAX]).  Returns the
 * malloc'd name and sets *weight (1 when absent), or returns NULL with
 * 'invalid weight specification: "..."' in err.
 */
char	   *pgb_script_split_weight(const char *arg, int *weight,
									char *err, size_t errlen);

/*
 * pgb_builtin_script: the built-in script named by "name[@weight]", where
 * name may be any unique prefix of a built-in name (as pgbench's -b).
 * Returns NULL with 'no built-in script found for name "x"' or
 * 'ambiguous built-in name: 2 built-in scripts found for prefix "s"' in err.
 * The built-ins use :scale, which the runner must set.  Also finds
 * perfdriver's own workloads (workflow-nplus1, workflow-batched,
 * workflow-init), which pgb_builtin_name() and pgb_builtin_text() leave out.
 */
struct pgb_script *pgb_builtin_script(const char *arg, char *err, size_t errlen);

/* pgbench's built-in names and one-line descriptions, i = 0.. until NULL. */
const char *pgb_builtin_name(int i);
const char *pgb_builtin_description(int i);

/* The text of the pgbench built-in with exactly this name, or NULL. */
const char *pgb_builtin_text(const char *name);

/*
 * pgb_script_branch: control flow.  Call it when the command at idx is IF,
 * ELIF, ELSE or ENDIF and execution reached it in sequence.  Evaluates the
 * condition(s) and returns the index of the next command to run (which may
 * be script->ncommands, the end): for IF, idx + 1 when true, otherwise the
 * first following branch whose \elif condition is true, or the command after
 * \else, or after \endif.  For ELIF and ELSE reached in sequence the
 * previous branch ran, so it returns jump_end.  For ENDIF, idx + 1.
 * Returns -1 with "name:line: message" in err when a condition fails to
 * evaluate.
 */
int			pgb_script_branch(const struct pgb_script *script, int idx,
							  struct pgb_vars *vars, struct pgb_prng *rng,
							  char *err, size_t errlen);

/*
 * pgb_script_exec_set: run the \set at cmd: evaluate and assign.  Returns
 * false with "name:line: message" in err on an evaluation error.
 */
bool		pgb_script_exec_set(const struct pgb_script *script,
								const struct pgb_command *cmd,
								struct pgb_vars *vars, struct pgb_prng *rng,
								char *err, size_t errlen);

/*
 * pgb_command_sleep_usec: the duration of the \sleep at cmd in
 * microseconds.  Returns false with a message in err when its variable is
 * undefined or not an integer.
 */
bool		pgb_command_sleep_usec(const struct pgb_command *cmd,
								   struct pgb_vars *vars, int64_t *usec,
								   char *err, size_t errlen);

/*
 * pgb_command_params: the parameter values for -M extended/prepared:
 * values[i] is the text of variable param_names[i], or NULL (SQL NULL) when
 * undefined, as pgbench.  values must have room for cmd->nparams entries;
 * the pointers stay valid until those variables are set again.
 */
void		pgb_command_params(const struct pgb_command *cmd,
							   struct pgb_vars *vars, const char **values);

/*
 * pgb_command_simple_sql: the query text for -M simple: cmd->sql with each
 * :var replaced by its value from pgb_command_params() (unquoted, as
 * pgbench) and each :'var' by the value quoted as a literal; references
 * whose value is NULL (undefined variables) are left as written.  Writes
 * into *buf, growing it with realloc as needed (the caller keeps *buf and
 * *bufsize across calls and frees *buf at the end), and returns *buf.
 */
const char *pgb_command_simple_sql(const struct pgb_command *cmd,
								   const char *const *values,
								   char **buf, size_t *bufsize);

/* Name of a command type, for messages: "SQL", "\set", "\sleep"... */
const char *pgb_command_type_name(pgb_command_type type);

#endif							/* PERFDRIVER_SCRIPT_H */
