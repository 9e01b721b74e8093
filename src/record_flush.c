/*
 * record_flush.c
 *		The maintenance worker's writing of record()'s queued samples
 *		(docs/store.md, "Asynchronous record()").
 *
 * Owns: perfstore_record_flush(): take what the queue (src/record_queue.c)
 * holds, in chunks of at most FLUSH_CHUNK entries, and write each chunk in
 * one transaction as the extension's owner: one INSERT ... SELECT from the
 * unnest of three arrays into perfstore.samples, and the rows below the
 * rollup watermark logged in perfstore.rollup_invalidations per series and
 * UTC hour, as the batch ingest logs them (src/late.c has the rule).  The
 * entries leave the queue only after the commit, so a chunk that fails
 * (FLUSH_LOCK_TIMEOUT bounds its wait for a lock) stays queued and is tried
 * again at the next flush.  Rows whose series no longer exists, or whose id
 * now belongs to another (metric, labels) (RECORD_SERIES_KEY_SQL), are
 * skipped and counted (one LOG per flush); entries queued for a
 * perfstore.series that is gone (the extension was dropped, perhaps created
 * again, when its series ids start again at 1) are discarded with one
 * WARNING giving their number.
 *
 * Must not: run before the worker set its search_path (pg_catalog, pg_temp);
 * call an operator or function unqualified; run anything of a caller's (an
 * entry is three numbers and an oid); raise to its caller.
 *
 * Memory: one buffer of FLUSH_CHUNK entries in TopMemoryContext for the
 * worker's life; a chunk's arrays in its transaction's memory; the last
 * error message in TopMemoryContext.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "perfstore_module.h"
#include "record_queue.h"

/* entries written per transaction at most */
#define FLUSH_CHUNK		65536

/*
 * The longest a chunk waits for a lock (on samples, its partitions,
 * rollup_invalidations or series) before it fails and stays queued: a lock
 * held without end (a prepared transaction's) must not keep the worker, nor
 * a shutdown, waiting for ever.
 */
#define FLUSH_LOCK_TIMEOUT	"5s"

typedef struct FlushCounts
{
	uint64		written;		/* rows inserted into samples */
	uint64		skipped;		/* their series no longer exists */
	uint64		discarded;		/* their series table is gone */
} FlushCounts;

static RecordQueueEntry *flush_buf = NULL;
static SPIPlanPtr flush_insert_plan = NULL;
static SPIPlanPtr flush_late_plan = NULL;
static FlushCounts flush_counts;	/* of the current flush; static for PG_TRY */
static bool flush_failing = false;
static char *flush_last_error = NULL;

/* the two statements, prepared once, every name and operator qualified */
static void
flush_prepare_all(void)
{
	Oid			types[4] = {INT8ARRAYOID, TIMESTAMPTZARRAYOID, FLOAT8ARRAYOID,
		INT4ARRAYOID};

	if (flush_insert_plan == NULL)
		flush_insert_plan =
			perfstore_spi_prepare_kept("INSERT INTO perfstore.samples (series_id, ts, value)"
						  " SELECT u.i, u.t, u.v FROM ROWS FROM (pg_catalog.unnest($1),"
						  " pg_catalog.unnest($2), pg_catalog.unnest($3),"
						  " pg_catalog.unnest($4)) AS u(i, t, v, k)"
						  " WHERE EXISTS (SELECT FROM perfstore.series s"
						  " WHERE s.id OPERATOR(pg_catalog.=) u.i"
						  " AND " RECORD_SERIES_KEY_SQL("s") " OPERATOR(pg_catalog.=) u.k)",
						  4, types);
	if (flush_late_plan == NULL)
		flush_late_plan =
			perfstore_spi_prepare_kept("INSERT INTO perfstore.rollup_invalidations (series_id, lo, hi)"
						  " SELECT u.i, pg_catalog.min(u.t), pg_catalog.max(u.t)"
						  " FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
						  " pg_catalog.unnest($4)) AS u(i, t, k)"
						  " WHERE u.t OPERATOR(pg_catalog.<)"
						  " (SELECT pg_catalog.max(st.watermark) FROM perfstore.rollup_state st)"
						  " AND EXISTS (SELECT FROM perfstore.series s"
						  " WHERE s.id OPERATOR(pg_catalog.=) u.i"
						  " AND " RECORD_SERIES_KEY_SQL("s") " OPERATOR(pg_catalog.=) u.k)"
						  " GROUP BY u.i, pg_catalog.date_trunc('hour'::pg_catalog.text, u.t,"
						  " 'UTC'::pg_catalog.text)",
						  4, types);
}

/*
 * flush_chunk: write the n entries of flush_buf in one transaction, release
 * them from the queue right after the commit (no interrupt is taken in
 * between, so an entry is never written twice) and add to flush_counts.
 * Raises on error, the entries still queued (the caller aborts the
 * transaction).
 */
static void
flush_chunk(uint64 n)
{
	Oid			nsp;
	Oid			series_rel = InvalidOid;
	Datum	   *ids;
	Datum	   *tss;
	Datum	   *vals;
	Datum	   *keys;
	int			m = 0;
	uint64		written = 0;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	(void) set_config_option("lock_timeout", FLUSH_LOCK_TIMEOUT, PGC_SUSET,
							 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "perfstore: writing the queued samples of record()");
	if (OidIsValid(get_extension_oid("perfstore", true)) &&
		OidIsValid(nsp = get_namespace_oid("perfstore", true)))
		series_rel = get_relname_relid("series", nsp);

	ids = palloc(n * sizeof(Datum));
	tss = palloc(n * sizeof(Datum));
	vals = palloc(n * sizeof(Datum));
	keys = palloc(n * sizeof(Datum));
	for (uint64 i = 0; i < n; i++)
	{
		if (!OidIsValid(series_rel) || flush_buf[i].series_rel != series_rel)
			continue;
		ids[m] = Int64GetDatum(flush_buf[i].series_id);
		tss[m] = TimestampTzGetDatum(flush_buf[i].ts);
		vals[m] = Float8GetDatum(flush_buf[i].value);
		keys[m] = Int32GetDatum((int32) flush_buf[i].series_key);
		m++;
	}
	if (m > 0)
	{
		Datum		args[4];
		Oid			save_user;
		int			save_sec;
		int			rc;

		args[0] = PointerGetDatum(construct_array(ids, m, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		args[1] = PointerGetDatum(construct_array(tss, m, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		args[2] = PointerGetDatum(construct_array(vals, m, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		args[3] = PointerGetDatum(construct_array(keys, m, INT4OID, 4, true, TYPALIGN_INT));

		/* as the extension's owner, as record() writes; undone by an abort */
		GetUserIdAndSecContext(&save_user, &save_sec);
		SetUserIdAndSecContext(perfstore_extension_owner(),
							   save_sec | SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "perfstore maintenance worker: SPI_connect failed");
		flush_prepare_all();
		rc = SPI_execute_plan(flush_insert_plan, args, NULL, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
		written = SPI_processed;
		rc = SPI_execute_plan(flush_late_plan, args, NULL, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
		SPI_finish();
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	perfstore_record_queue_release(n);
	flush_counts.written += written;
	flush_counts.skipped += (uint64) m - written;
	flush_counts.discarded += n - (uint64) m;
	(void) pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * perfstore_record_flush: see record_queue.h.  Writes at most what was
 * queued when it began, so that a steady stream of calls cannot keep the
 * worker here.
 */
bool
perfstore_record_flush(void)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	uint64		limit = perfstore_record_queue_length();
	bool		ok = true;

	if (limit == 0)
		return true;
	if (flush_buf == NULL)
		flush_buf = MemoryContextAlloc(TopMemoryContext,
									   FLUSH_CHUNK * sizeof(RecordQueueEntry));
	memset(&flush_counts, 0, sizeof(flush_counts));
	PG_TRY();
	{
		while (limit > 0)
		{
			uint64		n = perfstore_record_queue_peek(flush_buf, Min(limit, FLUSH_CHUNK));

			if (n == 0)
				break;
			flush_chunk(n);
			limit -= n;
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		pgstat_report_activity(STATE_IDLE, NULL);
		if (!flush_failing || flush_last_error == NULL ||
			strcmp(flush_last_error, edata->message) != 0)
		{
			ereport(WARNING,
					(errcode(edata->sqlerrcode),
					 errmsg("perfstore maintenance worker: could not write the queued samples of record(): %s",
							edata->message),
					 edata->detail ? errdetail_internal("%s", edata->detail) : 0,
					 errhint("They stay queued and are tried again; meanwhile record() writes synchronously once the queue is full.")));
			if (flush_last_error)
				pfree(flush_last_error);
			flush_last_error = MemoryContextStrdup(TopMemoryContext, edata->message);
		}
		FreeErrorData(edata);
		flush_failing = true;
		ok = false;
	}
	PG_END_TRY();

	if (ok && flush_failing)
	{
		ereport(LOG,
				(errcode(ERRCODE_SUCCESSFUL_COMPLETION),
				 errmsg("perfstore maintenance worker: writing the queued samples of record() succeeded again")));
		flush_failing = false;
	}
	if (flush_counts.discarded > 0)
		ereport(WARNING,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("perfstore maintenance worker: discarded %llu queued samples of record()",
						(unsigned long long) flush_counts.discarded),
				 errdetail("The table perfstore.series they were recorded for no longer exists (the extension was dropped after they were queued).")));
	if (flush_counts.skipped > 0)
		ereport(LOG,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("perfstore maintenance worker: skipped %llu queued samples of record() whose series no longer exists",
						(unsigned long long) flush_counts.skipped)));
	return ok;
}
