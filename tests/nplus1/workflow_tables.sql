-- workflow_tables.sql: the two workflow tables of perfstore--0.2.0.sql
-- (columns and constraints as there), for testing the workflow built-ins
-- in a database where CREATE EXTENSION perfstore is not possible (the
-- extension's library needs shared_preload_libraries).  Used by
-- tests/suites/nplus1.sh only.
CREATE SCHEMA IF NOT EXISTS perfstore;
CREATE TABLE perfstore.workflow_runs (
	id bigserial PRIMARY KEY,
	workflow text NOT NULL,
	started_at timestamptz NOT NULL DEFAULT now(),
	finished_at timestamptz,
	status text NOT NULL DEFAULT 'running'
		CHECK (status IN ('running', 'success', 'failed', 'cancelled')),
	labels jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
	CONSTRAINT workflow_runs_finished CHECK
		((finished_at IS NULL) = (status = 'running') AND finished_at >= started_at)
);
CREATE INDEX ON perfstore.workflow_runs (workflow, started_at);
CREATE TABLE perfstore.task_executions (
	id bigserial PRIMARY KEY,
	run_id bigint NOT NULL REFERENCES perfstore.workflow_runs (id) ON DELETE CASCADE,
	agent text NOT NULL,
	task text NOT NULL,
	started_at timestamptz NOT NULL DEFAULT now(),
	finished_at timestamptz,
	status text NOT NULL DEFAULT 'running'
		CHECK (status IN ('running', 'success', 'failed', 'cancelled')),
	parallel integer NOT NULL DEFAULT 1 CHECK (parallel >= 1),
	attrs jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attrs) = 'object'),
	CONSTRAINT task_executions_finished CHECK
		((finished_at IS NULL) = (status = 'running') AND finished_at >= started_at)
);
CREATE INDEX ON perfstore.task_executions (run_id);
