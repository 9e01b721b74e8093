/*
 * script_expr_fuzz.c
 *		libFuzzer target for perfdriver's script parser and expression
 *		evaluator (driver/script.c, driver/expr.c).
 *
 * The input, NUL-terminated, is used twice:
 *	- as a script: pgb_script_parse(); a parsed script is then run once the
 *	  way a client runs it, with no server: \set and \if/\elif/\else/\endif
 *	  are executed (pgb_script_exec_set, pgb_script_branch), \sleep
 *	  durations computed, and every SQL command's parameters and -M simple
 *	  text built;
 *	- as one expression (the rest of a \set line): pgb_expr_parse() and,
 *	  when it parses, pgb_expr_eval().
 * Properties checked besides the sanitizers' (a violation aborts with a
 * message, which libFuzzer reports as a crash with the input saved):
 *	- a failed parse or evaluation leaves a non-empty message;
 *	- a double produced by an expression is finite, and the text of a
 *	  variable set by \set is never "inf" or "nan": such text would reach
 *	  the SQL;
 *	- a script's control flow stays within its commands.
 *
 * Memory: everything is freed before the next input, so LeakSanitizer
 * finds any leak of the parser or evaluator.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "expr.h"
#include "prng.h"
#include "script.h"
#include "vars.h"

/* Steps of a script run; a \if loop cannot happen, this bounds the work. */
#define FUZZ_MAX_STEPS	2000

static const uint8_t *cur_data;
static size_t cur_size;

static void
fuzz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "script_expr_fuzz: property violated: %s: %s\ninput (%zu bytes): ",
			what, detail ? detail : "", cur_size);
	for (size_t i = 0; i < cur_size && i < 4096; i++)
		fprintf(stderr, "%02x", cur_data[i]);
	fprintf(stderr, "\n");
	abort();
}

/* A number's text must not be an infinity or a NaN. */
static void
check_number_text(const char *text, const char *what)
{
	const char *p = text;

	if (p == NULL)
		return;
	if (*p == '-' || *p == '+')
		p++;
	if (strncasecmp(p, "inf", 3) == 0 || strncasecmp(p, "nan", 3) == 0)
		fuzz_fail(what, text);
}

static void
check_value(const pgb_value *v, const char *what)
{
	char		buf[64];

	if (v->type == PGB_DOUBLE && !isfinite(v->u.dval))
		fuzz_fail(what, "a double that is not finite");
	check_number_text(pgb_value_to_text(v, buf, sizeof(buf)), what);
}

static struct pgb_vars *
fuzz_vars(void)
{
	struct pgb_vars *vars = pgb_vars_create();

	pgb_vars_set_int(vars, "scale", 1);
	pgb_vars_set_int(vars, "client_id", 0);
	pgb_vars_set_int(vars, "random_seed", 42);
	pgb_vars_set_int(vars, "default_seed", 7);
	return vars;
}

static void
fuzz_expression(const char *text)
{
	char		err[512];
	struct pgb_expr *e;
	struct pgb_vars *vars;
	struct pgb_prng rng;
	pgb_value	v;

	err[0] = '\0';
	e = pgb_expr_parse(text, err, sizeof(err));
	if (e == NULL)
	{
		if (err[0] == '\0')
			fuzz_fail("expression parse error without a message", NULL);
		return;
	}
	vars = fuzz_vars();
	pgb_prng_seed(&rng, 1);
	err[0] = '\0';
	if (pgb_expr_eval(e, vars, &rng, &v, err, sizeof(err)))
		check_value(&v, "expression value");
	else if (err[0] == '\0')
		fuzz_fail("evaluation error without a message", NULL);
	pgb_expr_free(e);
	pgb_vars_free(vars);
}

/* Run the script once, as a client would, without a server. */
static void
fuzz_run_script(const struct pgb_script *s)
{
	struct pgb_vars *vars = fuzz_vars();
	struct pgb_prng rng;
	char		err[512];
	char	   *sqlbuf = NULL;
	size_t		sqlsize = 0;
	int			idx = 0;

	pgb_prng_seed(&rng, 1);
	for (int steps = 0; idx < s->ncommands && steps < FUZZ_MAX_STEPS; steps++)
	{
		const struct pgb_command *c = &s->commands[idx];

		err[0] = '\0';
		switch (c->type)
		{
			case PGB_CMD_SQL:
				{
					const char **values = malloc(sizeof(char *) * (size_t) (c->nparams + 1));

					pgb_command_params(c, vars, values);
					for (int i = 0; i < c->nparams; i++)
						check_number_text(values[i], "parameter value");
					(void) pgb_command_simple_sql(c, values, &sqlbuf, &sqlsize);
					free(values);
					idx++;
				}
				break;
			case PGB_CMD_SET:
				if (!pgb_script_exec_set(s, c, vars, &rng, err, sizeof(err)))
				{
					if (err[0] == '\0')
						fuzz_fail("\\set error without a message", NULL);
					goto done;
				}
				check_number_text(pgb_vars_get_text(vars, c->varname), "\\set result");
				idx++;
				break;
			case PGB_CMD_SLEEP:
				{
					int64_t		usec;

					if (!pgb_command_sleep_usec(c, vars, &usec, err, sizeof(err)) &&
						err[0] == '\0')
						fuzz_fail("\\sleep error without a message", NULL);
					idx++;
				}
				break;
			case PGB_CMD_IF:
			case PGB_CMD_ELIF:
			case PGB_CMD_ELSE:
			case PGB_CMD_ENDIF:
				idx = pgb_script_branch(s, idx, vars, &rng, err, sizeof(err));
				if (idx < 0)
				{
					if (err[0] == '\0')
						fuzz_fail("condition error without a message", NULL);
					goto done;
				}
				if (idx > s->ncommands)
					fuzz_fail("branch beyond the script's end", NULL);
				break;
			default:
				idx++;
				break;
		}
	}
done:
	free(sqlbuf);
	pgb_vars_free(vars);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = malloc(size + 1);
	char		err[512];
	struct pgb_script *s;

	cur_data = data;
	cur_size = size;
	memcpy(text, data, size);
	text[size] = '\0';

	err[0] = '\0';
	s = pgb_script_parse("fuzz.sql", text, err, sizeof(err));
	if (s == NULL)
	{
		if (strncmp(err, "fuzz.sql", 8) != 0)
			fuzz_fail("script error does not name the script", err);
	}
	else
	{
		fuzz_run_script(s);
		pgb_script_free(s);
	}
	fuzz_expression(text);
	free(text);
	return 0;
}
