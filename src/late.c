/*
 * late.c
 *		Late data: the watermark as the ingest paths see it, so that they can
 *		log the samples they write below it (docs/store.md, "Late data").
 *
 * Owns: perfstore_late_watermark() (the cached watermark, for record() and
 * the batch ingest triggers in ingest.c), perfstore_rollup_state_changed()
 * (the trigger on perfstore.rollup_state that tells every backend the
 * watermark moved) and perfstore_watermark_moved(), the same message sent
 * by maintain() itself: once the store is distributed with Citus, writes to
 * rollup_state go to its shards and the trigger on the coordinator's table
 * no longer fires (docs/scale-out.md).
 *
 * The rule the cache keeps: a sample whose ts is below the watermark is
 * logged in perfstore.rollup_invalidations by the transaction that writes
 * it.  The watermark only rises, so a cached value that is too low only logs
 * more than needed; it is dropped when rollup_state changes (the trigger
 * sends a relcache invalidation for the table at commit, which every backend
 * processes before its next transaction reads anything), so a backend never
 * keeps a stale value past the transaction in which maintain() committed.
 * A writer whose transaction stays open while maintain() moves the watermark
 * past its samples' minute relies on the late window, as before.
 *
 * Must not: read the watermark once per row (one read per invalidation).
 *
 * Memory: two statics; nothing else outlives a call.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "late.h"
#include "perfstore_module.h"

PG_FUNCTION_INFO_V1(perfstore_late_watermark_sql);
PG_FUNCTION_INFO_V1(perfstore_rollup_state_changed);
PG_FUNCTION_INFO_V1(perfstore_watermark_moved);

static bool late_cache_valid = false;
static bool late_callback_registered = false;
static Oid	late_state_relid = InvalidOid;
static TimestampTz late_cached = DT_NOBEGIN;
static SPIPlanPtr late_plan = NULL;

/* relcache callback: any invalidation of rollup_state (or of all) drops it */
static void
late_relcache_callback(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == late_state_relid ||
		!OidIsValid(late_state_relid))
		late_cache_valid = false;
}

/*
 * The rollup watermark (-infinity before the first maintain()), from the
 * backend's cache, read again after rollup_state changed.  Raises on SPI
 * failure only.
 */
TimestampTz
perfstore_late_watermark(void)
{
	Oid			nsp;
	bool		isnull;
	int			rc;

	if (late_cache_valid)
		return late_cached;
	if (!late_callback_registered)
	{
		CacheRegisterRelcacheCallback(late_relcache_callback, (Datum) 0);
		late_callback_registered = true;
	}

	/*
	 * Valid from before the read: an invalidation that arrives while the
	 * read takes its locks clears the flag again, and the next call reads
	 * once more.
	 */
	late_cache_valid = true;
	nsp = get_namespace_oid("perfstore", false);
	late_state_relid = get_relname_relid("rollup_state", nsp);
	SPI_connect();
	if (late_plan == NULL)
	{
		late_plan = perfstore_spi_prepare_kept("SELECT pg_catalog.max(st.watermark) FROM perfstore.rollup_state st",
											   0, NULL);
	}
	rc = SPI_execute_plan(late_plan, NULL, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	late_cached = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
													SPI_tuptable->tupdesc, 1,
													&isnull));
	if (isnull)
		late_cached = DT_NOBEGIN;
	SPI_finish();
	return late_cached;
}

/* late_watermark(): perfstore_late_watermark() for record() */
Datum
perfstore_late_watermark_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(perfstore_late_watermark());
}

/*
 * The AFTER STATEMENT trigger on perfstore.rollup_state: every backend drops
 * its cached watermark when this transaction commits.
 */
Datum
perfstore_rollup_state_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("perfstore_rollup_state_changed: not called by trigger manager")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

/*
 * watermark_moved(): every backend drops its cached watermark when the
 * calling transaction commits, as the trigger above does.  Returns void.
 */
Datum
perfstore_watermark_moved(PG_FUNCTION_ARGS)
{
	Oid			nsp = get_namespace_oid("perfstore", false);
	Oid			relid = get_relname_relid("rollup_state", nsp);

	if (!OidIsValid(relid))
		elog(ERROR, "table perfstore.rollup_state does not exist");
	CacheInvalidateRelcacheByRelid(relid);
	PG_RETURN_VOID();
}
