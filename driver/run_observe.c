/*
 * run_observe.c
 *		The --observe and --advise phases of "perfdriver run": starting the
 *		observer before the load, and after it the server figures, the
 *		plans, the index advice and, with --advise=verify, creating and
 *		dropping the advised indexes (docs/perfdriver.md, "Server-side
 *		evidence" and "Index advice").
 *
 * Owns: the glue between struct run (client.h) and the observer and
 * advisor: which statements are advised on (each SQL statement of the run,
 * with the parameter values of its slowest call), the client-side totals
 * that rank them, and the names of the indexes --advise=verify creates.
 *
 * Must not: include libpq-fe.h, or run while the load threads run (except
 * run_observe_begin(), before the clock starts).
 *
 * Memory: the observer hangs off run->obs until run_observe_free().
 */
#include "run_observe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"
#include "report.h"

void
run_observe_begin(struct run *run)
{
	const struct run_opts *o = run->o;
	struct pd_observe_opts oo;

	if (o->observe == 0 && o->advise == 0)
		return;
	oo.analyze = o->observe == 2;
	oo.hz = o->observe_hz > 0 ? o->observe_hz : PD_OBS_DEFAULT_HZ;
	run->obs = pd_observe_new(run->params, o->scripts, o->nscripts, o->clients,
							  o->threads, &oo);
	pd_observe_start(run->obs);
}

/* The sketch of fingerprint fp merged over threads and scripts (caller frees). */
static struct sketch *
run_stmt_sketch(const struct run *run, uint64_t fp)
{
	const struct run_opts *o = run->o;
	struct sketch *s = pd_sketch_new();

	for (int t = 0; t < o->threads; t++)
		for (int i = 0; i < o->nscripts; i++)
			for (int k = 0; k < o->scripts[i]->ncommands; k++)
				if (o->scripts[i]->commands[k].type == PGB_CMD_SQL &&
					o->scripts[i]->commands[k].fingerprint == fp)
					pd_sketch_merge(&s, run->threads[t].stats.scripts[i].stmts[k].lat);
	return s;
}

double
run_stmt_p95(const struct run *run, uint64_t fp)
{
	struct sketch *s = run_stmt_sketch(run, fp);
	double		v = sketch_quantile(s, 0.95);

	free(s);
	return v;
}

void
run_observe_end(struct run *run, struct pd_advice_list *advice)
{
	struct pd_observe *ob = run->obs;
	double	   *total;
	struct pd_advise_input *in;
	int			n = 0;

	if (ob == NULL)
		return;
	pd_observe_stop(ob);
	total = pd_calloc(ob->nstmts + 1, sizeof(double));
	for (int i = 0; i < ob->nstmts; i++)
	{
		struct sketch *s = run_stmt_sketch(run, pd_observe_stmt_fingerprint(ob, i));
		sketch_error err = SKETCH_OK;
		double		sum = sketch_sum_value(s, &err);

		total[i] = err == SKETCH_OK && !isnan(sum) ? sum : 0;
		free(s);
	}
	pd_observe_explain(ob, total);
	if (run->o->advise == 0 || pd_observe_conn(ob) == NULL)
	{
		if (run->o->advise != 0)
		{
			advice->ran = true;
			pd_advice_note(advice, "no index advice: the observer could not connect");
		}
		free(total);
		return;
	}
	in = pd_calloc(ob->nstmts + 1, sizeof(*in));
	for (int i = 0; i < ob->nstmts; i++)
	{
		const struct pd_obs_slow *slow = pd_observe_slowest(ob, i);

		if (total[i] <= 0)
			continue;			/* never ran */
		in[n].fingerprint = pd_observe_stmt_fingerprint(ob, i);
		in[n].query = pd_observe_stmt_query(ob, i);
		in[n].sql = pd_observe_stmt_sql(ob, i);
		in[n].nparams = pd_observe_stmt_nparams(ob, i);
		in[n].values = slow && slow->nparams == in[n].nparams && in[n].nparams > 0
			? (const char *const *) slow->values : NULL;
		n++;
	}
	pd_advise(pd_observe_conn(ob), in, n, advice);
	free(in);
	free(total);
}

int
run_advice_apply(const struct run *run, struct pd_advice_list *advice, char **names)
{
	struct pgconn *c = pd_observe_conn(run->obs);
	int			made = 0;

	for (int i = 0; i < advice->n; i++)
	{
		const char *def = advice->a[i].create_index;
		const char *on = strstr(def, " ON ");
		char		name[64];
		char	   *sql;
		char		err[512];

		names[i] = NULL;
		if (c == NULL || on == NULL)
			continue;
		snprintf(name, sizeof(name), "perfdriver_advice_%d_%d", (int) getpid(), i + 1);
		sql = pd_malloc(strlen(def) + sizeof(name) + 32);
		sprintf(sql, "CREATE INDEX CONCURRENTLY %s%s", name, on);
		if (pgconn_exec(c, sql, NULL, err, sizeof(err)))
		{
			names[i] = pd_strdup(name);
			made++;
		}
		else
			pd_advice_note(advice, "could not create the advised index \"%s\": %s", def, err);
		free(sql);
	}
	return made;
}

void
run_advice_drop(const struct run *run, struct pd_advice_list *advice, char **names)
{
	struct pgconn *c = pd_observe_conn(run->obs);

	for (int i = 0; i < advice->n; i++)
	{
		char		sql[256];
		char		err[512];

		if (names[i] == NULL)
			continue;
		advice->a[i].kept = run->o->keep_indexes;
		if (!run->o->keep_indexes)
		{
			char	   *qs = pgconn_quote_ident(advice->a[i].schema);

			snprintf(sql, sizeof(sql), "DROP INDEX CONCURRENTLY %s.%s", qs, names[i]);
			free(qs);
			if (!pgconn_exec(c, sql, NULL, err, sizeof(err)))
				pd_advice_note(advice, "could not drop the index \"%s\" that --advise=verify created; drop it by hand",
							   names[i]);
		}
		else
			pd_advice_note(advice, "kept the index %s.%s (--keep-indexes)",
						   advice->a[i].schema, names[i]);
	}
}

void
run_observe_free(struct run *run)
{
	pd_observe_free(run->obs);
	run->obs = NULL;
}
