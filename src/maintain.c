/*
 * maintain.c
 *		The optional background worker that runs perfstore.maintain()
 *		periodically when the library is preloaded (docs/store.md).
 *
 *
 * Owns: _PG_init (the GUCs perfstore.maintenance_interval and
 * perfstore.maintenance_database, and the worker's registration when
 * loaded through shared_preload_libraries) and the worker's main loop.
 * Must not: do any maintenance itself (that is SQL: perfstore.maintain()),
 * or fail the server when the database or the extension is missing: the
 * worker then logs at most once per state change and waits for the next
 * round.  PG_MODULE_MAGIC lives in sketch_sql.c.
 *
 * Memory: each round runs in its own transaction; SPI's memory is released
 * at SPI_finish and the transaction's at commit.  Nothing is kept between
 * rounds but two ints.
 */
#include "postgres.h"

#include "access/xact.h"
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
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"

void		_PG_init(void);
PGDLLEXPORT void perfstore_maintain_worker_main(Datum main_arg);

/* seconds between rounds; 0 disables the worker's maintenance */
static int	maintain_interval = 60;
/* the database whose perfstore the worker maintains */
static char *maintain_database = NULL;

/*
 * maintain_round: one call of perfstore.maintain() in its own transaction,
 * if the extension is installed.  Errors (for example a lock timeout in
 * maintain() itself, which it handles, or a dropped extension) are caught,
 * logged as a WARNING and the transaction aborted; the worker lives on.
 * Returns true when maintain() ran.
 */
static bool
maintain_round(void)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	bool		ran = false;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "SELECT perfstore.maintain()");

	PG_TRY();
	{
		int			ret;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "perfstore maintenance worker: SPI_connect failed");
		ret = SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'perfstore'",
						  true, 1);
		if (ret == SPI_OK_SELECT && SPI_processed == 1)
		{
			ret = SPI_execute("SELECT perfstore.maintain()", false, 0);
			if (ret != SPI_OK_SELECT)
				elog(ERROR, "perfstore maintenance worker: maintain() returned %d", ret);
			ran = true;
		}
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("perfstore maintenance worker: maintain() failed: %s", edata->message)));
		FreeErrorData(edata);
		ran = false;
	}
	PG_END_TRY();

	pgstat_report_stat(true);
	pgstat_report_activity(STATE_IDLE, NULL);
	return ran;
}

/*
 * perfstore_maintain_worker_main: the worker's entry point.  Connects to
 * perfstore.maintenance_database and calls maintain_round() every
 * perfstore.maintenance_interval seconds until the postmaster asks it to
 * stop (SIGTERM).  SIGHUP rereads the configuration.
 */
void
perfstore_maintain_worker_main(Datum main_arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(maintain_database, NULL, 0);
	ereport(LOG,
			(errcode(ERRCODE_SUCCESSFUL_COMPLETION),
			 errmsg("perfstore maintenance worker started for database \"%s\", every %d s",
					maintain_database, maintain_interval)));

	for (;;)
	{
		long		wait_ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (maintain_interval > 0)
			(void) maintain_round();

		wait_ms = (maintain_interval > 0 ? maintain_interval : 60) * 1000L;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 wait_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * _PG_init: define the GUCs; when loaded from shared_preload_libraries,
 * register the maintenance worker.  Loaded any other way (CREATE
 * EXTENSION, a function call) it only defines the GUCs, which therefore
 * must not be PGC_POSTMASTER (defining one after startup is FATAL).
 */
void
_PG_init(void)
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
							   "Read when the worker starts: a change takes effect at the next server start.",
							   &maintain_database,
							   "postgres",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("perfstore");
#else
	EmitWarningsOnPlaceholders("perfstore");
#endif

	if (!process_shared_preload_libraries_in_progress)
		return;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "perfstore");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "perfstore_maintain_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "perfstore maintenance worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "perfstore maintenance worker");
	RegisterBackgroundWorker(&worker);
}
