/*
 * observe_report.c
 *		What "perfdriver run --observe" found, as the report shows it: the
 *		accessors of struct pd_observe's results, the JSON keys (per
 *		statement and top level) and the human sections (docs/diagnosis.md).
 *
 * Owns: the JSON shape of waits, server, plan, plan_params, plan_findings,
 * observe, lock_waits, wait_timeline and observe_notes, and the layout of
 * the human sections.
 *
 * Must not: talk to the server or run while the sampler runs (call after
 * pd_observe_stop()); include libpq-fe.h.
 *
 * Memory: allocates nothing that outlives a call.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "nplus1.h"
#include "observe_int.h"

/* ------------------------------------------------------------ results */

uint64_t
pd_observe_stmt_fingerprint(const struct pd_observe *ob, int stmt)
{
	return stmt >= 0 && stmt < ob->nstmts ? ob->st->fp[stmt] : 0;
}

const char *
pd_observe_stmt_query(const struct pd_observe *ob, int stmt)
{
	return stmt >= 0 && stmt < ob->nstmts ? ob->st->query[stmt] : NULL;
}

const char *
pd_observe_stmt_sql(const struct pd_observe *ob, int stmt)
{
	return stmt >= 0 && stmt < ob->nstmts ? ob->st->param_sql[stmt] : NULL;
}

int
pd_observe_stmt_nparams(const struct pd_observe *ob, int stmt)
{
	return stmt >= 0 && stmt < ob->nstmts ? ob->st->nparams[stmt] : 0;
}



const struct pd_obs_sample *
pd_observe_samples(const struct pd_observe *ob, size_t *n)
{
	*n = ob->st->nsamples;
	return ob->st->samples;
}

int64_t
pd_observe_period_ns(const struct pd_observe *ob)
{
	return 1000000000LL / ob->st->o.hz;
}

const char *
pd_observe_label_name(const struct pd_observe *ob, int label)
{
	if (label < 0 || label >= PD_OBS_MAX_LABELS || ob->st->labels[label] == NULL)
		return "?";
	return ob->st->labels[label];
}

const char *
pd_observe_plan(const struct pd_observe *ob, int stmt)
{
	return stmt >= 0 && stmt < ob->nstmts ? ob->st->plan[stmt] : NULL;
}

const struct pd_obs_server *
pd_observe_server(const struct pd_observe *ob, int stmt)
{
	return stmt >= 0 && stmt < ob->nstmts ? &ob->st->server[stmt] : NULL;
}

/* Label indexes of one counts row, by count descending; returns how many. */
static int
obs_sorted_labels(const uint64_t *row, int *idx, uint64_t *total)
{
	int			n = 0;

	*total = 0;
	for (int l = 0; l < PD_OBS_MAX_LABELS; l++)
		if (row[l] > 0)
		{
			idx[n++] = l;
			*total += row[l];
		}
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && row[idx[j]] > row[idx[j - 1]]; j--)
		{
			int			t = idx[j];

			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	return n;
}

static void
obs_json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else
		fprintf(f, "%.6f", v);
}

static void
obs_json_waits(FILE *f, const struct pd_observe *ob, const uint64_t *row)
{
	int			idx[PD_OBS_MAX_LABELS];
	uint64_t	total;
	int			n = obs_sorted_labels(row, idx, &total);

	fputc('{', f);
	for (int i = 0; i < n; i++)
	{
		fputs(i ? ", " : "", f);
		nplus1_json_string(f, pd_observe_label_name(ob, idx[i]));
		fputs(": ", f);
		obs_json_num(f, (double) row[idx[i]] / (double) total);
	}
	fputc('}', f);
}

void
pd_observe_json_statement(FILE *f, const struct pd_observe *ob,
						  uint64_t fingerprint, double client_mean_ms)
{
	const struct pd_observe_state *st = ob->st;
	int			i = pd_observe_find(ob, fingerprint);
	const uint64_t *row;
	uint64_t	total = 0;
	const struct pd_obs_server *sv;

	if (i < 0)
		return;
	row = &st->counts[(size_t) i * PD_OBS_MAX_LABELS];
	for (int l = 0; l < PD_OBS_MAX_LABELS; l++)
		total += row[l];
	fprintf(f, ", \"wait_samples\": %llu, \"waits\": ", (unsigned long long) total);
	obs_json_waits(f, ob, row);
	sv = &st->server[i];
	if (sv->present)
	{
		double		mean = sv->total_exec_ms / sv->calls;

		fprintf(f, ", \"server\": {\"calls\": %.0f, \"total_exec_ms\": ", sv->calls);
		obs_json_num(f, sv->total_exec_ms);
		fputs(", \"mean_exec_ms\": ", f);
		obs_json_num(f, mean);
		fprintf(f, ", \"rows\": %.0f, \"shared_blks_hit\": %.0f, \"shared_blks_read\": %.0f, \"temp_blks_written\": %.0f, \"wal_bytes\": %.0f, \"client_gap_ms\": ",
				sv->rows, sv->shared_blks_hit, sv->shared_blks_read,
				sv->temp_blks_written, sv->wal_bytes);
		obs_json_num(f, client_mean_ms - mean);
		fputc('}', f);
	}
	if (st->plan[i] != NULL)
	{
		const struct pd_obs_slow *slow = st->plan_slow[i] >= 0
			? &ob->slow[(size_t) st->plan_slow[i] * ob->nstmts + i] : NULL;

		fprintf(f, ", \"plan\": %s, \"plan_params\": [", st->plan[i]);
		for (int k = 0; slow && k < slow->nparams; k++)
		{
			fputs(k ? ", " : "", f);
			if (slow->values[k])
				nplus1_json_string(f, slow->values[k]);
			else
				fputs("null", f);
		}
		fputs("], \"plan_findings\": [", f);
		for (int k = 0; k < st->nfindings[i]; k++)
		{
			fputs(k ? ", " : "", f);
			nplus1_json_string(f, st->findings[i][k]);
		}
		fputc(']', f);
	}
}

static void
obs_json_stmt_ref(FILE *f, const struct pd_observe *ob, const char *key, int stmt)
{
	fprintf(f, "\"%s\": ", key);
	if (stmt >= 0)
		nplus1_json_string(f, ob->st->query[stmt]);
	else
		fputs("null", f);
	fprintf(f, ", \"%s_fingerprint\": ", key);
	if (stmt >= 0)
		fprintf(f, "\"%016llx\"", (unsigned long long) ob->st->fp[stmt]);
	else
		fputs("null", f);
}

/*
 * obs_json_timeline: the active samples per wait label in slices of the
 * run (one second, or longer so that there are at most
 * PD_OBS_TIMELINE_SLICES), from the time-ordered sample list.
 */
static void
obs_json_timeline(FILE *f, const struct pd_observe *ob)
{
	const struct pd_observe_state *st = ob->st;
	int64_t		slice = 1000000000LL;
	int64_t		span;
	uint64_t	counts[PD_OBS_MAX_LABELS];
	size_t		i = 0;
	int			nout = 0;

	fputc('[', f);
	if (st->nsamples == 0)
	{
		fputc(']', f);
		return;
	}
	span = st->samples[st->nsamples - 1].t_ns - st->t0_ns;
	while (span / slice >= PD_OBS_TIMELINE_SLICES)
		slice *= 2;
	while (i < st->nsamples)
	{
		int64_t		k = (st->samples[i].t_ns - st->t0_ns) / slice;
		bool		first = true;

		memset(counts, 0, sizeof(counts));
		for (; i < st->nsamples && (st->samples[i].t_ns - st->t0_ns) / slice == k; i++)
			counts[st->samples[i].label]++;
		fprintf(f, "%s\n    {\"t_s\": %.3f, \"length_s\": %.3f, \"samples\": {",
				nout++ ? "," : "", (double) (k * slice) / 1e9, (double) slice / 1e9);
		for (int l = 0; l < PD_OBS_MAX_LABELS; l++)
		{
			if (counts[l] == 0)
				continue;
			fputs(first ? "" : ", ", f);
			first = false;
			nplus1_json_string(f, pd_observe_label_name(ob, l));
			fprintf(f, ": %llu", (unsigned long long) counts[l]);
		}
		fputs("}}", f);
	}
	fputs("\n  ]", f);
}

void
pd_observe_json_top(FILE *f, const struct pd_observe *ob)
{
	const struct pd_observe_state *st = ob->st;
	uint64_t	all[PD_OBS_MAX_LABELS] = {0};

	for (int i = 0; i <= ob->nstmts; i++)
		for (int l = 0; l < PD_OBS_MAX_LABELS; l++)
			all[l] += st->counts[(size_t) i * PD_OBS_MAX_LABELS + l];
	fprintf(f, ",\n  \"observe\": {\"hz\": %d, \"analyze\": %s, \"ticks\": %llu, \"missed_ticks\": %llu, \"active_samples\": %llu, \"pg_stat_statements\": %s}",
			st->o.hz, st->o.analyze ? "true" : "false",
			(unsigned long long) st->ticks, (unsigned long long) st->missed_ticks,
			(unsigned long long) st->active, st->pgss_schema ? "true" : "false");
	fputs(",\n  \"waits\": ", f);
	obs_json_waits(f, ob, all);
	fputs(",\n  \"lock_waits\": [", f);
	for (int i = 0; i < st->npairs; i++)
	{
		fputs(i ? ", " : "", f);
		fputc('{', f);
		obs_json_stmt_ref(f, ob, "blocker", st->pairs[i].blocker);
		fputs(", ", f);
		obs_json_stmt_ref(f, ob, "waiter", st->pairs[i].waiter);
		fprintf(f, ", \"samples\": %llu}", (unsigned long long) st->pairs[i].n);
	}
	fputs("],\n  \"wait_timeline\": ", f);
	obs_json_timeline(f, ob);
	fputs(",\n  \"observe_notes\": [", f);
	for (int i = 0; i < st->nnotes; i++)
	{
		fputs(i ? ", " : "", f);
		nplus1_json_string(f, st->notes[i]);
	}
	fputc(']', f);
}

/* ------------------------------------------------------------- human */

static void
obs_print_short(FILE *out, const char *q, int width)
{
	int			len = (int) strlen(q);

	if (len <= width)
		fprintf(out, "%-*s", width, q);
	else
		fprintf(out, "%.*s...", width - 3, q);
}

static void
obs_print_waits_line(FILE *out, const struct pd_observe *ob, const uint64_t *row)
{
	int			idx[PD_OBS_MAX_LABELS];
	uint64_t	total;
	int			n = obs_sorted_labels(row, idx, &total);

	for (int i = 0; i < n && i < 4; i++)
		fprintf(out, "%s%s %.0f%%", i ? ", " : "", pd_observe_label_name(ob, idx[i]),
				100.0 * row[idx[i]] / total);
	if (n > 4)
		fprintf(out, ", ...");
}

void
pd_observe_print(FILE *out, const struct pd_observe *ob)
{
	const struct pd_observe_state *st = ob->st;
	uint64_t	all[PD_OBS_MAX_LABELS] = {0};
	bool		any_server = false;
	bool		any_plan = false;

	for (int i = 0; i <= ob->nstmts; i++)
		for (int l = 0; l < PD_OBS_MAX_LABELS; l++)
			all[l] += st->counts[(size_t) i * PD_OBS_MAX_LABELS + l];

	fprintf(out, "\nwait profile (%llu active samples at %d Hz; share of each statement's active samples):\n",
			(unsigned long long) st->active, st->o.hz);
	fprintf(out, "  %-48s %8s  %s\n", "statement", "samples", "waits");
	fprintf(out, "  %-48s %8llu  ", "(whole run)", (unsigned long long) st->active);
	obs_print_waits_line(out, ob, all);
	fputc('\n', out);
	for (int i = 0; i < ob->nstmts; i++)
	{
		const uint64_t *row = &st->counts[(size_t) i * PD_OBS_MAX_LABELS];
		uint64_t	total = 0;

		for (int l = 0; l < PD_OBS_MAX_LABELS; l++)
			total += row[l];
		if (total == 0)
			continue;
		fputs("  ", out);
		obs_print_short(out, st->query[i], 48);
		fprintf(out, " %8llu  ", (unsigned long long) total);
		obs_print_waits_line(out, ob, row);
		fputc('\n', out);
	}

	if (st->npairs > 0)
	{
		fprintf(out, "\nlock contention (blocker -> waiter, samples):\n");
		for (int i = 0; i < st->npairs; i++)
		{
			fputs("  ", out);
			obs_print_short(out, st->pairs[i].blocker >= 0 ? st->query[st->pairs[i].blocker]
							: "(a session outside the run)", 36);
			fputs(" -> ", out);
			obs_print_short(out, st->pairs[i].waiter >= 0 ? st->query[st->pairs[i].waiter] : "(unknown)", 36);
			fprintf(out, " %8llu\n", (unsigned long long) st->pairs[i].n);
		}
	}

	for (int i = 0; i < ob->nstmts; i++)
		any_server |= st->server[i].present;
	if (any_server)
	{
		fprintf(out, "\nserver (pg_stat_statements deltas):\n");
		fprintf(out, "  %-40s %9s %11s %9s %10s %10s %10s %9s %11s\n", "statement", "calls",
				"total ms", "mean ms", "rows", "blks hit", "blks read", "temp wr", "wal bytes");
		for (int i = 0; i < ob->nstmts; i++)
		{
			const struct pd_obs_server *sv = &st->server[i];

			if (!sv->present)
				continue;
			fputs("  ", out);
			obs_print_short(out, st->query[i], 40);
			fprintf(out, " %9.0f %11.1f %9.3f %10.0f %10.0f %10.0f %9.0f %11.0f\n",
					sv->calls, sv->total_exec_ms, sv->total_exec_ms / sv->calls, sv->rows,
					sv->shared_blks_hit, sv->shared_blks_read, sv->temp_blks_written,
					sv->wal_bytes);
		}
	}

	for (int i = 0; i < ob->nstmts; i++)
		any_plan |= st->plan[i] != NULL;
	if (any_plan)
	{
		fprintf(out, "\nplans (%s, slowest statements by total time):\n",
				st->o.analyze ? "EXPLAIN ANALYZE" : "EXPLAIN");
		for (int i = 0; i < ob->nstmts; i++)
		{
			if (st->plan[i] == NULL)
				continue;
			if (strlen(st->query[i]) <= 76)
				fprintf(out, "  %s\n", st->query[i]);
			else
				fprintf(out, "  %.73s...\n", st->query[i]);
			if (st->nfindings[i] == 0)
				fprintf(out, "      no seq scan over a large table, no rows removed by a filter\n");
			for (int k = 0; k < st->nfindings[i]; k++)
				fprintf(out, "      %s\n", st->findings[i][k]);
		}
	}

	if (st->nnotes > 0)
	{
		fprintf(out, "\nobserve notes:\n");
		for (int i = 0; i < st->nnotes; i++)
			fprintf(out, "  %s\n", st->notes[i]);
	}
}
