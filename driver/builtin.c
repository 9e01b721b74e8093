/*
 * builtin.c
 *		The built-in scripts (-b): pgbench 15's tpcb-like, simple-update and
 *		select-only, with exactly pgbench's SQL, so results compare.
 *
 * Owns: the script texts and name lookup by unique prefix (pgbench's
 * findBuiltin).  The scripts use :scale, which the runner sets.  Also
 * perfdriver's own workloads on the store's tables (workflow,
 * workflow-nplus1, workflow-batched, workflow-init, ingest), found by
 * pgb_builtin_script() but not listed by pgb_builtin_name() or returned by
 * pgb_builtin_text(), which stay pgbench's three (they need no :scale).
 *
 * Must not: talk to libpq.
 *
 * Memory: the texts are static; pgb_builtin_script() returns a malloc'd
 * script the caller frees with pgb_script_free().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"

/* pgbench's row counts per scale unit: naccounts, nbranches, ntellers */
#define BUILTIN_TPCB_HEADER \
	"\\set aid random(1, 100000 * :scale)\n" \
	"\\set bid random(1, 1 * :scale)\n" \
	"\\set tid random(1, 10 * :scale)\n" \
	"\\set delta random(-5000, 5000)\n"

static const struct
{
	const char *name;
	const char *description;
	const char *text;
}			builtin_scripts[] =
{
	{
		"tpcb-like",
		"<builtin: TPC-B (sort of)>",
		BUILTIN_TPCB_HEADER
		"BEGIN;\n"
		"UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;\n"
		"SELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n"
		"UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;\n"
		"UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;\n"
		"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);\n"
		"END;\n"
	},
	{
		"simple-update",
		"<builtin: simple update>",
		BUILTIN_TPCB_HEADER
		"BEGIN;\n"
		"UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;\n"
		"SELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n"
		"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);\n"
		"END;\n"
	},
	{
		"select-only",
		"<builtin: select only>",
		"\\set aid random(1, 100000 * :scale)\n"
		"SELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n"
	},
};

#define BUILTIN_COUNT ((int) (sizeof(builtin_scripts) / sizeof(builtin_scripts[0])))

/*
 * perfdriver's own workloads (not pgbench's): they read and fill the
 * store's tables (the extension at version 0.2.0 or later, created with
 * CREATE EXTENSION perfstore).  Kept apart from the pgbench built-ins,
 * which pgb_builtin_name() lists and which must stay exactly pgbench's.
 * workflow-nplus1 and workflow-batched read the same ten runs; the first
 * fetches their tasks with one query per run (an N+1 pattern the report
 * flags), the second with one "= ANY" query.  workflow is the realistic mix
 * of workers calling the workflow API and UI pages reading through indexes;
 * ingest is a metrics agent calling perfstore.record() with an occasional
 * batch through perfstore.ingest.  Each row workflow and ingest add is
 * counted in the report: the rows of start_workflow_run and start_task are the runs
 * and tasks added, and the rows of record() and of the INSERT into
 * perfstore.ingest are the samples added.
 */
static const struct
{
	const char *name;
	const char *description;
	const char *text;
}			workload_scripts[] =
{
	{
		"workflow-nplus1",
		"<builtin: workflow UI, tasks fetched one query per run (N+1)>",
		"-- the ten most recent workflow runs, as a monitoring UI lists them\n"
		"SELECT coalesce(ids[1], 0) AS r1, coalesce(ids[2], 0) AS r2, coalesce(ids[3], 0) AS r3, coalesce(ids[4], 0) AS r4, coalesce(ids[5], 0) AS r5, coalesce(ids[6], 0) AS r6, coalesce(ids[7], 0) AS r7, coalesce(ids[8], 0) AS r8, coalesce(ids[9], 0) AS r9, coalesce(ids[10], 0) AS r10\n"
		"  FROM (SELECT array_agg(id ORDER BY started_at DESC, id DESC) AS ids\n"
		"          FROM (SELECT id, started_at FROM perfstore.workflow_runs\n"
		"                 ORDER BY started_at DESC, id DESC LIMIT 10) recent) a \\gset\n"
		"-- then the tasks of each run, one query per run (N+1)\n"
		"SELECT id, task, agent, status, started_at, finished_at FROM perfstore.task_executions WHERE run_id = :r1 ORDER BY started_at, id;\n"
		"SELECT id, task, agent, status, started_at, finished_at FROM perfstore.task_executions WHERE run_id = :r2 ORDER BY started_at, id;\n"
		"SELECT id, task, agent, status, started_at, finished_at FROM perfstore.task_executions WHERE run_id = :r3 ORDER BY started_at, id;\n"
		"SELECT id, task, agent, status, started_at, finished_at FROM perfstore.task_executions WHERE run_id = :r4 ORDER BY started_at, id;\n"
		"SELECT id, task, agent, status, started_at, finished_at FROM perfstore.task_executions WHERE run_id = :r5 ORDER BY started_at, id;\n"
		"SELECT id, task, agent, status, started_at, finished_at FROM perfstore.task_executions WHERE run_id = :r6 ORDER BY started_at, id;\n"
		"SELECT id, task, agent, status, started_at, finished_at FROM perfstore.task_executions WHERE run_id = :r7 ORDER BY started_at, id;\n"
		"SELECT id, task, agent, status, started_at, finished_at FROM perfstore.task_executions WHERE run_id = :r8 ORDER BY started_at, id;\n"
		"SELECT id, task, agent, status, started_at, finished_at FROM perfstore.task_executions WHERE run_id = :r9 ORDER BY started_at, id;\n"
		"SELECT id, task, agent, status, started_at, finished_at FROM perfstore.task_executions WHERE run_id = :r10 ORDER BY started_at, id;\n"
	},
	{
		"workflow-batched",
		"<builtin: workflow UI, tasks of all runs in one = ANY query>",
		"-- the ten most recent workflow runs, as a monitoring UI lists them\n"
		"SELECT coalesce(ids[1], 0) AS r1, coalesce(ids[2], 0) AS r2, coalesce(ids[3], 0) AS r3, coalesce(ids[4], 0) AS r4, coalesce(ids[5], 0) AS r5, coalesce(ids[6], 0) AS r6, coalesce(ids[7], 0) AS r7, coalesce(ids[8], 0) AS r8, coalesce(ids[9], 0) AS r9, coalesce(ids[10], 0) AS r10\n"
		"  FROM (SELECT array_agg(id ORDER BY started_at DESC, id DESC) AS ids\n"
		"          FROM (SELECT id, started_at FROM perfstore.workflow_runs\n"
		"                 ORDER BY started_at DESC, id DESC LIMIT 10) recent) a \\gset\n"
		"-- then the tasks of all ten runs in one query\n"
		"SELECT run_id, id, task, agent, status, started_at, finished_at FROM perfstore.task_executions WHERE run_id = ANY (ARRAY[:r1, :r2, :r3, :r4, :r5, :r6, :r7, :r8, :r9, :r10]::bigint[]) ORDER BY run_id, started_at, id;\n"
	},
	{
		"workflow-init",
		"<builtin: fill perfstore's workflow tables with sample data>",
		"-- sample data for the workflow workloads: 200 finished runs of 5\n"
		"-- workflows with 8 tasks each, added only while there are fewer than 200\n"
		"INSERT INTO perfstore.workflow_runs (workflow, started_at, finished_at, status, labels)\n"
		"SELECT 'workflow-' || (g % 5), now() - g * interval '1 minute', now() - g * interval '1 minute' + interval '40 seconds', CASE WHEN g % 17 = 0 THEN 'failed' ELSE 'success' END, jsonb_build_object('branch', 'main', 'trigger', CASE WHEN g % 3 = 0 THEN 'schedule' ELSE 'push' END)\n"
		"  FROM generate_series(1, 200) g\n"
		" WHERE (SELECT count(*) FROM perfstore.workflow_runs) < 200;\n"
		"INSERT INTO perfstore.task_executions (run_id, agent, task, started_at, finished_at, status, parallel, attrs)\n"
		"SELECT r.id, 'agent-' || (t % 4), 'task-' || t, r.started_at + t * interval '2 seconds', r.started_at + t * interval '2 seconds' + interval '1500 milliseconds', 'success', 1 + t % 2, jsonb_build_object('attempt', 1)\n"
		"  FROM perfstore.workflow_runs r CROSS JOIN generate_series(1, 8) t\n"
		" WHERE NOT EXISTS (SELECT 1 FROM perfstore.task_executions x WHERE x.run_id = r.id);\n"
	},
	{
		"workflow",
		"<builtin: workflow workers and monitoring UI on perfstore's workflow API>",
		"-- a CI system on the store's workflow API: 3 transactions in 10 are a\n"
		"-- worker running one workflow (start_workflow_run, four tasks, two of them side\n"
		"-- by side, finish_workflow_run; 1 run in 20 fails), 7 in 10 a monitoring UI page\n"
		"-- (a workflow's ten latest runs, their tasks in one query, the open\n"
		"-- runs, an agent's latest tasks).  Every read uses an index.\n"
		"\\set wf random(0, 4)\n"
		"\\set agent random(0, 3)\n"
		"\\set kind random(1, 10)\n"
		"\\if :kind <= 3\n"
		"\\set fail random(1, 20)\n"
		"SELECT perfstore.start_workflow_run('workflow-' || :wf, jsonb_build_object('branch', 'main', 'trigger', 'push')) AS run_id \\gset\n"
		"SELECT perfstore.start_task(:run_id, 'agent-' || :agent, 'checkout') AS task_id \\gset\n"
		"SELECT perfstore.finish_task(:task_id, 'success');\n"
		"SELECT perfstore.start_task(:run_id, 'agent-' || :agent, 'build', 2, jsonb_build_object('cache', 'warm')) AS build_id \\gset\n"
		"SELECT perfstore.start_task(:run_id, 'agent-' || ((:agent + 1) % 4), 'lint') AS lint_id \\gset\n"
		"SELECT perfstore.finish_task(:lint_id, 'success');\n"
		"SELECT perfstore.finish_task(:build_id, 'success');\n"
		"SELECT perfstore.start_task(:run_id, 'agent-' || :agent, 'test') AS test_id \\gset\n"
		"SELECT perfstore.finish_task(:test_id, CASE WHEN :fail = 1 THEN 'failed' ELSE 'success' END);\n"
		"SELECT perfstore.finish_workflow_run(:run_id, CASE WHEN :fail = 1 THEN 'failed' ELSE 'success' END);\n"
		"\\else\n"
		"SELECT coalesce(ids[1], 0) AS r1, coalesce(ids[2], 0) AS r2, coalesce(ids[3], 0) AS r3, coalesce(ids[4], 0) AS r4, coalesce(ids[5], 0) AS r5, coalesce(ids[6], 0) AS r6, coalesce(ids[7], 0) AS r7, coalesce(ids[8], 0) AS r8, coalesce(ids[9], 0) AS r9, coalesce(ids[10], 0) AS r10\n"
		"  FROM (SELECT array_agg(id ORDER BY started_at DESC, id DESC) AS ids\n"
		"          FROM (SELECT id, started_at FROM perfstore.workflow_runs\n"
		"                 WHERE workflow = 'workflow-' || :wf\n"
		"                 ORDER BY started_at DESC, id DESC LIMIT 10) recent) a \\gset\n"
		"SELECT run_id, id, task, agent, status, started_at, finished_at FROM perfstore.task_executions WHERE run_id = ANY (ARRAY[:r1, :r2, :r3, :r4, :r5, :r6, :r7, :r8, :r9, :r10]::bigint[]) ORDER BY run_id, started_at, id;\n"
		"SELECT id, workflow, started_at, labels FROM perfstore.workflow_runs WHERE finished_at IS NULL ORDER BY started_at LIMIT 50;\n"
		"SELECT id, run_id, task, status, started_at, finished_at FROM perfstore.task_executions WHERE agent = 'agent-' || :agent ORDER BY started_at DESC LIMIT 20;\n"
		"\\endif\n"
	},
	{
		"ingest",
		"<builtin: metric samples into perfstore, one by one and in batches>",
		"-- a metrics agent feeding the store: three samples of a host through\n"
		"-- perfstore.record() (series created on first use), and in 1\n"
		"-- transaction of 10 a batch of 20 queue samples through perfstore.ingest\n"
		"-- (moved into perfstore.samples by its statement trigger)\n"
		"\\set host random(1, 16)\n"
		"\\set cpu random(0, 10000)\n"
		"\\set mem random(1000000, 8000000)\n"
		"\\set lat random_exponential(1, 50000, 5.0)\n"
		"\\set batch random(1, 10)\n"
		"SELECT perfstore.record('cpu_busy_pct', :cpu / 100.0, jsonb_build_object('host', 'host-' || :host));\n"
		"SELECT perfstore.record('mem_used_kb', :mem, jsonb_build_object('host', 'host-' || :host));\n"
		"SELECT perfstore.record('http_latency_ms', :lat / 100.0, jsonb_build_object('host', 'host-' || :host, 'route', '/api/orders'));\n"
		"\\if :batch = 1\n"
		"INSERT INTO perfstore.ingest (metric, labels, value)\n"
		"SELECT 'queue_depth', jsonb_build_object('host', 'host-' || :host, 'queue', 'q' || g % 4), (g * 7 + :cpu) % 100\n"
		"  FROM generate_series(1, 20) g;\n"
		"\\endif\n"
	},
};

#define WORKLOAD_COUNT ((int) (sizeof(workload_scripts) / sizeof(workload_scripts[0])))

const char *
pgb_builtin_name(int i)
{
	return (i >= 0 && i < BUILTIN_COUNT) ? builtin_scripts[i].name : NULL;
}

const char *
pgb_builtin_description(int i)
{
	return (i >= 0 && i < BUILTIN_COUNT) ? builtin_scripts[i].description : NULL;
}

const char *
pgb_builtin_text(const char *name)
{
	for (int i = 0; i < BUILTIN_COUNT; i++)
		if (strcmp(builtin_scripts[i].name, name) == 0)
			return builtin_scripts[i].text;
	return NULL;
}

/*
 * pgb_builtin_script: see script.h.  An exact name wins over prefixes, so
 * a future built-in whose name prefixes another's stays reachable.
 */
struct pgb_script *
pgb_builtin_script(const char *arg, char *err, size_t errlen)
{
	int			weight;
	char	   *name = pgb_script_split_weight(arg, &weight, err, errlen);
	size_t		len;
	int			found = -1;
	int			nfound = 0;
	struct pgb_script *script;

	if (name == NULL)
		return NULL;
	len = strlen(name);
	for (int i = 0; i < BUILTIN_COUNT + WORKLOAD_COUNT && len > 0; i++)
	{
		const char *bn = i < BUILTIN_COUNT ? builtin_scripts[i].name
			: workload_scripts[i - BUILTIN_COUNT].name;

		if (strcmp(bn, name) == 0)
		{
			found = i;
			nfound = 1;
			break;
		}
		if (strncmp(bn, name, len) == 0)
		{
			found = i;
			nfound++;
		}
	}
	if (nfound == 0)
	{
		snprintf(err, errlen, "no built-in script found for name \"%s\"", name);
		free(name);
		return NULL;
	}
	if (nfound > 1)
	{
		snprintf(err, errlen,
				 "ambiguous built-in name: %d built-in scripts found for prefix \"%s\"",
				 nfound, name);
		free(name);
		return NULL;
	}
	free(name);
	if (found < BUILTIN_COUNT)
		script = pgb_script_parse(builtin_scripts[found].name,
								  builtin_scripts[found].text, err, errlen);
	else
		script = pgb_script_parse(workload_scripts[found - BUILTIN_COUNT].name,
								  workload_scripts[found - BUILTIN_COUNT].text, err, errlen);
	if (script != NULL)
		script->weight = weight;
	return script;
}
