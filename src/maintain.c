/*
 * maintain.c
 *		The optional background workers that run perfstore.maintain()
 *		periodically when the library is preloaded (docs/store.md; the
 *		trust model is in docs/security.md).
 *
 * Owns: the GUCs perfstore.maintenance_interval and
 * perfstore.maintenance_database, and two workers:
 *   - the launcher, registered at server start and connected to no
 *     database.  It waits until perfstore.maintenance_database exists,
 *     starts the maintenance worker in it and waits for that worker to
 *     exit (the database was dropped, say), then waits again;
 *   - the maintenance worker, connected to that database.  Every round it
 *     calls maintain() and then, one partition per transaction, the
 *     partitions still pending, as the extension's owner.  When the library
 *     is preloaded it also reads the queue of record()'s asynchronous
 *     samples (src/record_queue.c) and has them written
 *     (src/record_flush.c) every perfstore.record_flush_interval, when a
 *     backend wakes it, before and after each round and between its
 *     partitions.  On SIGTERM (a fast or smart shutdown,
 *     pg_terminate_backend) it cancels a maintain() call in progress, lets
 *     a flush in progress finish (its lock waits are bounded), stops the
 *     queue accepting, writes what it holds and exits.  A cancel
 *     (pg_cancel_backend) cancels a maintain() call or a flush in progress,
 *     and nothing between them.
 * Both log at most once per state change: a missing database, a missing
 * extension and a failing maintain() are each logged when they begin and
 * when they end, not every round.
 *
 * Must not: do any maintenance itself (that is SQL); run any SQL before the
 * maintenance worker has set its own search_path (pg_catalog, pg_temp) and
 * default_transaction_read_only (off), because the database's owner
 * controls the database's settings; call any operator or function
 * unqualified; or fail the server when the database or the extension is
 * missing.
 *
 * Memory: each round's transactions release SPI's memory at SPI_finish and
 * their own at commit.  Nothing is kept between rounds but a few ints (and
 * the flush's buffer, record_flush.c).
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "perfstore_module.h"
#include "record_queue.h"

PGDLLEXPORT void perfstore_launcher_main(Datum main_arg);
PGDLLEXPORT void perfstore_maintain_worker_main(Datum main_arg);

/* seconds between rounds; 0 disables the worker's maintenance */
static int	maintain_interval = 60;
/* the database whose perfstore the worker maintains */
static char *maintain_database = NULL;

/* at most this many one-partition transactions follow a round's maintain() */
#define MAINTAIN_PENDING_PASSES		1000

/*
 * Set while the worker runs a maintain() call, which SIGTERM then cancels;
 * clear while it writes queued samples, which SIGTERM lets finish.
 */
static volatile sig_atomic_t maintain_cancel_on_term = false;

/* what the last round found; a message is logged only when it changes */
typedef enum MaintainState
{
	MAINTAIN_UNKNOWN,
	MAINTAIN_NO_DATABASE,
	MAINTAIN_NO_EXTENSION,
	MAINTAIN_OK,
	MAINTAIN_FAILING
} MaintainState;

/* the worker's wait between rounds, in ms */
static long
maintain_wait_ms(void)
{
	return (maintain_interval > 0 ? maintain_interval : 60) * 1000L;
}

/*
 * maintain_sigterm: the maintenance worker's SIGTERM (in place of die()):
 * ask the main loop to stop (ShutdownRequestPending), which writes the
 * queued samples first, and cancel a maintain() call in progress.
 */
static void
maintain_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	ShutdownRequestPending = true;
	if (maintain_cancel_on_term)
	{
		QueryCancelPending = true;
		InterruptPending = true;
	}
	SetLatch(MyLatch);
	errno = save_errno;
}

/*
 * maintain_cancel_off: leave a maintain() call's time: SIGTERM no longer
 * cancels, and a cancel it asked for and no call took is dropped (it would
 * otherwise fail the next statement, or be FATAL outside a transaction).
 */
static void
maintain_cancel_off(void)
{
	maintain_cancel_on_term = false;
	if (ShutdownRequestPending)
		QueryCancelPending = false;
}

/*
 * wait for the next round or a signal; rereads the configuration on SIGHUP.
 * A cancel (pg_cancel_backend) that finds no statement running is dropped,
 * as an idle backend drops it: taken here, outside a transaction, it would
 * be FATAL, and the worker would leave the queue unwritten until the
 * launcher starts another, a server stop meanwhile losing it unlogged.
 */
static void
maintain_sleep(long ms)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 ms, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	QueryCancelPending = false;
	CHECK_FOR_INTERRUPTS();
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
	}
}

/*
 * maintain_database_oid: the oid of perfstore.maintenance_database, or
 * InvalidOid when no such database exists.  Reads only the shared catalog
 * pg_database, so it works in a worker connected to no database.
 */
static Oid
maintain_database_oid(void)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	Oid			dboid = InvalidOid;

	/* a plain heap scan, as the autovacuum launcher reads pg_database */
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (strcmp(NameStr(db->datname), maintain_database) == 0)
		{
			dboid = db->oid;
			break;
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return dboid;
}

/*
 * perfstore_launcher_main: the launcher's entry point (see the file
 * header).  Never returns; the postmaster stops it with SIGTERM.
 */
void
perfstore_launcher_main(Datum main_arg)
{
	MaintainState state = MAINTAIN_UNKNOWN;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	for (;;)
	{
		BackgroundWorker worker;
		BackgroundWorkerHandle *handle;
		pid_t		pid;
		Oid			dboid;

		CHECK_FOR_INTERRUPTS();
		if (maintain_interval <= 0)
		{
			maintain_sleep(maintain_wait_ms());
			continue;
		}
		dboid = maintain_database_oid();
		if (!OidIsValid(dboid))
		{
			if (state != MAINTAIN_NO_DATABASE)
				ereport(LOG,
						(errcode(ERRCODE_UNDEFINED_DATABASE),
						 errmsg("perfstore maintenance worker: database \"%s\" does not exist, waiting for it",
								maintain_database),
						 errhint("Create the database, or set perfstore.maintenance_database.")));
			state = MAINTAIN_NO_DATABASE;
			maintain_sleep(maintain_wait_ms());
			continue;
		}

		memset(&worker, 0, sizeof(worker));
		worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
		worker.bgw_restart_time = BGW_NEVER_RESTART;
		worker.bgw_main_arg = ObjectIdGetDatum(dboid);
		worker.bgw_notify_pid = MyProcPid;
		snprintf(worker.bgw_library_name, BGW_MAXLEN, "perfstore");
		snprintf(worker.bgw_function_name, BGW_MAXLEN, "perfstore_maintain_worker_main");
		snprintf(worker.bgw_name, BGW_MAXLEN, "perfstore maintenance worker");
		snprintf(worker.bgw_type, BGW_MAXLEN, "perfstore maintenance worker");
		if (!RegisterDynamicBackgroundWorker(&worker, &handle) ||
			WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
		{
			if (state != MAINTAIN_FAILING)
				ereport(WARNING,
						(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
						 errmsg("perfstore maintenance worker: could not start the worker for database \"%s\"",
								maintain_database),
						 errhint("Raise max_worker_processes.")));
			state = MAINTAIN_FAILING;
			maintain_sleep(maintain_wait_ms());
			continue;
		}
		if (state != MAINTAIN_OK)
			ereport(LOG,
					(errcode(ERRCODE_SUCCESSFUL_COMPLETION),
					 errmsg("perfstore maintenance worker started for database \"%s\", every %d s",
							maintain_database, maintain_interval)));
		state = MAINTAIN_OK;
		(void) WaitForBackgroundWorkerShutdown(handle);
		pfree(handle);
		/* it ends when its database goes away; look again after a while */
		maintain_sleep(maintain_wait_ms());
	}
}

/*
 * maintain_call: run one query that returns one int4 column (or none) in
 * its own transaction, as the extension's owner, and return that value
 * (0 when NULL or no row).  *installed is set to false, and nothing run,
 * when the extension is not installed.  Errors propagate.
 */
static int
maintain_call(const char *query, const char *fallback, bool *installed)
{
	Oid			save_user;
	int			save_sec;
	int			result = 0;
	int			ret;
	bool		isnull;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, query);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "perfstore maintenance worker: SPI_connect failed");
	ret = SPI_execute("SELECT 1 FROM pg_catalog.pg_extension e"
					  " WHERE e.extname OPERATOR(pg_catalog.=) 'perfstore'::pg_catalog.name",
					  true, 1);
	*installed = (ret == SPI_OK_SELECT && SPI_processed == 1);
	if (*installed)
	{
		/* a library newer than the installed extension: its plain call */
		ret = SPI_execute("SELECT 1 FROM pg_catalog.pg_proc p"
						  " WHERE p.oid OPERATOR(pg_catalog.=)"
						  " pg_catalog.to_regprocedure('perfstore.maintain_partitions(integer,integer)')",
						  true, 1);
		if (ret != SPI_OK_SELECT || SPI_processed != 1)
			query = fallback;

		GetUserIdAndSecContext(&save_user, &save_sec);
		SetUserIdAndSecContext(perfstore_extension_owner(),
							   save_sec | SECURITY_LOCAL_USERID_CHANGE);
		ret = SPI_execute(query, false, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "perfstore maintenance worker: query returned %d", ret);
		if (SPI_processed == 1 && SPI_tuptable->tupdesc->natts == 1)
		{
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull && SPI_gettypeid(SPI_tuptable->tupdesc, 1) == INT4OID)
				result = DatumGetInt32(d);
		}
		SetUserIdAndSecContext(save_user, save_sec);
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(true);
	pgstat_report_activity(STATE_IDLE, NULL);
	return result;
}

/*
 * maintain_round: maintain() once, then the partitions it left pending, one
 * per transaction so that the lock on samples is held for one partition at
 * a time.  Returns the state found.  An error is caught and reported as a
 * WARNING with its SQLSTATE and DETAIL when the state changes (or its
 * message does); the transaction is aborted and the worker lives on.
 */
static MaintainState
maintain_round(MaintainState state, char **last_error)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	MaintainState result = MAINTAIN_OK;

	PG_TRY();
	{
		bool		installed;
		int			pending;
		int			passes = 0;

		maintain_cancel_on_term = true;
		pending = maintain_call("SELECT (m OPERATOR(pg_catalog.->>) 'partitions_pending'::pg_catalog.text)::pg_catalog.int4"
								" FROM perfstore.maintain(200, 1) m",
								"SELECT 0::pg_catalog.int4 FROM perfstore.maintain() m",
								&installed);
		if (!installed)
			result = MAINTAIN_NO_EXTENSION;
		while (installed && pending > 0 && passes++ < MAINTAIN_PENDING_PASSES &&
			   !ShutdownRequestPending)
		{
			/* the queue's samples between the partitions' transactions */
			maintain_cancel_off();
			(void) perfstore_record_flush();
			maintain_cancel_on_term = true;
			CHECK_FOR_INTERRUPTS();
			pending = maintain_call("SELECT (m OPERATOR(pg_catalog.->>) 'partitions_pending'::pg_catalog.text)::pg_catalog.int4"
									" FROM perfstore.maintain_partitions(200, 1) m",
									"SELECT 0::pg_catalog.int4",
									&installed);
		}
		maintain_cancel_off();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		maintain_cancel_off();
		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		pgstat_report_activity(STATE_IDLE, NULL);
		if (ShutdownRequestPending && edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
		{
			/* stopped by SIGTERM: not a failure; the next start runs it again */
			FreeErrorData(edata);
			return state;
		}
		if (state != MAINTAIN_FAILING || *last_error == NULL ||
			strcmp(*last_error, edata->message) != 0)
		{
			ereport(WARNING,
					(errcode(edata->sqlerrcode),
					 errmsg("perfstore maintenance worker: maintain() failed: %s", edata->message),
					 edata->detail ? errdetail_internal("%s", edata->detail) : 0,
					 edata->hint ? errhint("%s", edata->hint) : 0));
			if (*last_error)
				pfree(*last_error);
			*last_error = MemoryContextStrdup(TopMemoryContext, edata->message);
		}
		FreeErrorData(edata);
		result = MAINTAIN_FAILING;
	}
	PG_END_TRY();

	if (result != state)
	{
		if (result == MAINTAIN_NO_EXTENSION)
			ereport(LOG,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("perfstore maintenance worker: extension perfstore is not installed in database \"%s\", waiting for it",
							maintain_database)));
		else if (result == MAINTAIN_OK && state == MAINTAIN_FAILING)
			ereport(LOG,
					(errcode(ERRCODE_SUCCESSFUL_COMPLETION),
					 errmsg("perfstore maintenance worker: maintain() succeeded again")));
	}
	return result;
}

/* ms from since to now (LONG_MAX when since is 0: never) */
static long
maintain_ms_since(TimestampTz since)
{
	if (since == 0)
		return LONG_MAX;
	return TimestampDifferenceMilliseconds(since, GetCurrentTimestamp());
}

/*
 * maintain_worker_wait_ms: how long the worker may sleep, in ms: until the
 * next round (maintenance_interval after the end of the last, at once
 * before the first) and, while it reads the queue, until the next flush
 * (perfstore.record_flush_interval after the last).  A minute when it has
 * nothing to do (a reload or a backend wakes it anyway).
 */
static long
maintain_worker_wait_ms(TimestampTz last_round, TimestampTz last_flush,
						bool queue_open)
{
	long		wait = 60000;

	if (maintain_interval > 0)
		wait = Max(maintain_interval * 1000L - maintain_ms_since(last_round), 0);
	if (queue_open)
		wait = Min(wait, Max(perfstore_record_flush_interval -
							 maintain_ms_since(last_flush), 0));
	return wait;
}

/*
 * perfstore_maintain_worker_main: the maintenance worker's entry point,
 * started by the launcher with the database's oid.  Sets a safe
 * search_path for the session before any SQL, opens the queue of record()'s
 * samples, then calls maintain_round() every perfstore.maintenance_interval
 * seconds and flushes the queue (see the file header) until the postmaster
 * asks it to stop (SIGTERM) or its database goes away.  On SIGTERM it
 * writes what is queued and exits.
 */
void
perfstore_maintain_worker_main(Datum main_arg)
{
	MaintainState state = MAINTAIN_UNKNOWN;
	char	   *last_error = NULL;
	TimestampTz last_round = 0;
	TimestampTz last_flush;
	bool		flush_ok = true;
	bool		queue_open;
	uint64		dropped;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, maintain_sigterm);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnectionByOid(DatumGetObjectId(main_arg), InvalidOid, 0);
	/*
	 * The session's own settings beat ALTER DATABASE ... SET: search_path,
	 * and default_transaction_read_only, which would fail every round and
	 * flush (and lose the queue at the next stop) while callers turn it off.
	 */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_SESSION);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_SESSION);

	queue_open = perfstore_record_queue_open(&dropped);
	if (dropped > 0)
		ereport(WARNING,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("perfstore maintenance worker: discarded %llu queued samples of record() of another database",
						(unsigned long long) dropped),
				 errdetail("perfstore.maintenance_database changed while they were queued.")));

	last_flush = GetCurrentTimestamp();
	while (!ShutdownRequestPending)
	{
		if (maintain_interval > 0 &&
			maintain_ms_since(last_round) >= maintain_interval * 1000L)
		{
			(void) perfstore_record_flush();
			state = maintain_round(state, &last_error);
			flush_ok = perfstore_record_flush();
			last_round = last_flush = GetCurrentTimestamp();
		}
		if (ShutdownRequestPending)
			break;
		maintain_sleep(maintain_worker_wait_ms(last_round, last_flush, queue_open));

		/*
		 * Not at every wake (a reload, a catch-up signal): when the interval
		 * is up, or a backend found the queue filling, unless the last flush
		 * failed: a full queue wakes the worker at every call, and a failing
		 * flush is retried once per interval only.
		 */
		if (queue_open &&
			((perfstore_record_queue_woken() && flush_ok) ||
			 maintain_ms_since(last_flush) >= perfstore_record_flush_interval))
		{
			flush_ok = perfstore_record_flush();
			last_flush = GetCurrentTimestamp();
		}
	}

	if (queue_open)
	{
		uint64		lost;

		/* later record() calls write synchronously; write what is queued */
		perfstore_record_queue_stop();
		maintain_cancel_off();
		(void) perfstore_record_flush();
		lost = perfstore_record_queue_length();
		if (lost > 0)
			ereport(WARNING,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("perfstore maintenance worker: %llu queued samples of record() could not be written before it stopped",
							(unsigned long long) lost),
					 errdetail("They stay queued until the worker starts again; a server shutdown loses them.")));
	}
	proc_exit(0);
}

/*
 * perfstore_worker_init: define the GUCs; when loaded from
 * shared_preload_libraries, register the launcher.  Loaded any other way
 * (CREATE EXTENSION, a function call) it only defines the GUCs, which
 * therefore must not be PGC_POSTMASTER (defining one after startup is
 * FATAL).
 */
void
perfstore_worker_init(void)
{
	BackgroundWorker worker;

	DefineCustomIntVariable("perfstore.maintenance_interval",
							"Seconds between perfstore.maintain() calls of the background worker.",
							"0 disables the worker's calls.  The worker runs only when perfstore is in shared_preload_libraries.",
							&maintain_interval,
							60, 0, 86400,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomStringVariable("perfstore.maintenance_database",
							   "Database whose perfstore the background worker maintains.",
							   "Read when the worker starts: a change takes effect at the next server start.  Only a superuser sets it; the worker runs maintain() there as the extension's owner.",
							   &maintain_database,
							   "postgres",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "perfstore");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "perfstore_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "perfstore maintenance launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "perfstore maintenance launcher");
	RegisterBackgroundWorker(&worker);
}
