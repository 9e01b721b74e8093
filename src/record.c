/*
 * record.c
 *		The one-sample write path: perfstore.record() (docs/store.md).
 *
 * Owns: perfstore_record (record()), perfstore_series_changed (the trigger
 * on perfstore.series that drops every backend's cache of series ids) and
 * that cache.  record() checks the sample as perfstore_internal.check_sample
 * does (the same refusals, SQLSTATEs and messages), finds the series id of
 * (metric, labels) in the backend's cache, or else looks it up or creates it
 * through SPI, inserts the sample through SPI into perfstore.samples (so that
 * the partition routing, and on a distributed store the shard routing, is
 * the planner's), and logs a sample below the rollup watermark in
 * perfstore.rollup_invalidations.  With perfstore.record_async on, a
 * sample whose series was in the cache before this transaction (so its row
 * is committed) goes to the maintenance worker's queue instead
 * (src/record_queue.c) when the queue takes it, with the hash of its
 * (metric, labels) that the flush checks; a refusal writes it as above.
 * Its statements run as the function's owner, the extension's owner, as a
 * SECURITY DEFINER function would, and under the search path pg_catalog
 * alone; nothing of the caller's runs meanwhile.  record() itself is not
 * SECURITY DEFINER: the GUC save and restore that a pinned search_path
 * costs per call was a tenth of its time.
 *
 * The cache maps the bytes of (metric, labels) to a series id.  An entry is
 * only ever wrong if its series row is gone, so the cache is dropped
 *   - when perfstore.series has a relcache invalidation: the trigger
 *     series_changed sends one at the end of every DELETE, TRUNCATE and
 *     UPDATE of id, metric or labels (TRUNCATE, DROP EXTENSION and a new
 *     extension send their own), which every backend reads before its next
 *     call (record() accepts invalidations first);
 *   - when a transaction or subtransaction that added an entry aborts or is
 *     prepared: a series it created, or saw created by its own writes, may
 *     never commit.
 * Label sets equal as jsonb but written differently are two entries for one
 * series.
 * Must not: write any table but through SPI, or run anything of the caller's
 * while it is the owner; queue a sample before all its checks passed, or
 * one of a series added to the cache in the current transaction.
 *
 * Memory: the cache lives in its own context under CacheMemoryContext and
 * holds at most RECORD_CACHE_MAX entries and RECORD_CACHE_BYTES bytes of
 * keys (it is emptied when either is reached); a key longer than
 * RECORD_CACHED_KEY_MAX (labels that compress well pass the stored-size
 * check at many times that length) is never cached.  The call's key is
 * built in the call's memory; SPI's memory goes with SPI_finish.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "late.h"
#include "perfstore_module.h"
#include "record_queue.h"

PG_FUNCTION_INFO_V1(perfstore_record);
PG_FUNCTION_INFO_V1(perfstore_series_changed);

/* entries and bytes of keys the cache holds before it is emptied */
#define RECORD_CACHE_MAX	65536
#define RECORD_CACHE_BYTES	(8 * 1024 * 1024)
/* the longest key cached: a metric and labels of PERFSTORE_KEY_MAX bytes, as text */
#define RECORD_CACHED_KEY_MAX	(2 * PERFSTORE_KEY_MAX + 64)

/* a cached series: the key's bytes (metric, NUL, labels' jsonb), its id */
typedef struct RecordKey
{
	const char *data;
	Size		len;
} RecordKey;

typedef struct RecordEntry
{
	RecordKey	key;			/* first: dynahash's key */
	int64		id;
	uint32		series_key;		/* record_series_key() of the key, for the queue */
} RecordEntry;

static MemoryContext record_cxt = NULL;
static HTAB *record_cache = NULL;
static bool record_cache_valid = false;
static bool record_cache_enabled = false;	/* series_changed is in force */
static Size record_cache_bytes = 0;	/* bytes of the cached keys */
static uint64 record_inval_count = 0;	/* invalidations seen, ever */
static bool record_callbacks_registered = false;
static Oid	record_series_relid = InvalidOid;
static bool record_added_in_xact = false;	/* an entry came in this xact */
static OverrideSearchPath record_search_path = {NIL, true, false, 0};

static SPIPlanPtr record_lookup_plan = NULL;
static SPIPlanPtr record_create_plan = NULL;
static SPIPlanPtr record_insert_plan = NULL;
static SPIPlanPtr record_late_plan = NULL;

static uint32
record_key_hash(const void *key, Size keysize)
{
	const RecordKey *k = (const RecordKey *) key;

	return hash_bytes((const unsigned char *) k->data, (int) k->len);
}

static int
record_key_match(const void *key1, const void *key2, Size keysize)
{
	const RecordKey *a = (const RecordKey *) key1;
	const RecordKey *b = (const RecordKey *) key2;

	return (a->len == b->len && memcmp(a->data, b->data, a->len) == 0) ? 0 : 1;
}

/* a change of perfstore.series (or of every relation) drops the cache */
static void
record_relcache_callback(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == record_series_relid)
	{
		record_cache_valid = false;
		record_inval_count++;
	}
}

static void
record_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			if (record_added_in_xact)
				record_cache_valid = false;
			record_added_in_xact = false;
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			record_added_in_xact = false;
			break;
		default:
			break;
	}
}

static void
record_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	/* conservative: the entry may have come in an outer level */
	if (event == SUBXACT_EVENT_ABORT_SUB && record_added_in_xact)
		record_cache_valid = false;
}

/*
 * record_trigger_in_force: whether the trigger series_changed is on the
 * series table and enabled.  Without it (a store distributed with Citus,
 * where distribute() drops it, or a trigger disabled by hand) nothing tells
 * the sessions that a series changed, so nothing is cached.  Adding,
 * dropping or disabling the trigger invalidates the relation, which drops
 * the cache and brings a new look here.
 */
static bool
record_trigger_in_force(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	bool		found = false;

	if (rel->trigdesc != NULL)
	{
		for (int i = 0; i < rel->trigdesc->numtriggers; i++)
		{
			Trigger    *tg = &rel->trigdesc->triggers[i];

			if (strcmp(tg->tgname, "series_changed") == 0 &&
				tg->tgenabled != TRIGGER_DISABLED)
				found = true;
		}
	}
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * record_cache_ready: make the cache usable: register the callbacks once,
 * and (re)build it empty when it was dropped.  Raises when the extension's
 * schema or series table is missing, leaving the cache dropped.  On return
 * record_cache is a table (perhaps already dropped again by an invalidation
 * that came during the build, when it stays empty).
 */
static void
record_cache_ready(void)
{
	HASHCTL		ctl;
	uint64		inval_before;

	if (!record_callbacks_registered)
	{
		CacheRegisterRelcacheCallback(record_relcache_callback, (Datum) 0);
		RegisterXactCallback(record_xact_callback, NULL);
		RegisterSubXactCallback(record_subxact_callback, NULL);
		record_callbacks_registered = true;
	}
	if (record_cache_valid && record_cache != NULL)
		return;

	/* dropped first: an error below leaves it dropped, never half built */
	record_cache_valid = false;
	record_cache = NULL;
	record_cache_bytes = 0;
	if (record_cxt == NULL)
		record_cxt = AllocSetContextCreate(CacheMemoryContext,
										   "perfstore record series cache",
										   ALLOCSET_DEFAULT_SIZES);
	else
		MemoryContextReset(record_cxt);

	inval_before = record_inval_count;
	record_series_relid = get_relname_relid("series",
											get_namespace_oid("perfstore", false));
	if (!OidIsValid(record_series_relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table perfstore.series does not exist"),
				 errhint("Reinstall the extension perfstore.")));
	record_cache_enabled = record_trigger_in_force(record_series_relid);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(RecordKey);
	ctl.entrysize = sizeof(RecordEntry);
	ctl.hash = record_key_hash;
	ctl.match = record_key_match;
	ctl.hcxt = record_cxt;
	record_cache = hash_create("perfstore record series cache", 1024, &ctl,
							   HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
	/* an invalidation during the look-ups: use it empty, rebuild next call */
	record_cache_valid = (record_inval_count == inval_before);
}

/*
 * record_cache_add: remember key -> id and its series key hash (the key's
 * bytes are copied)
 */
static void
record_cache_add(const RecordKey *key, int64 id, uint32 series_key)
{
	RecordEntry *e;
	bool		found;

	if (!record_cache_valid || record_cache == NULL || !record_cache_enabled)
		return;					/* dropped meanwhile: rebuilt by the next call */
	if (key->len > RECORD_CACHED_KEY_MAX)
		return;
	if (hash_get_num_entries(record_cache) >= RECORD_CACHE_MAX ||
		record_cache_bytes + key->len > RECORD_CACHE_BYTES)
	{
		record_cache_valid = false;
		return;
	}
	e = (RecordEntry *) hash_search(record_cache, key, HASH_ENTER, &found);
	if (!found)
	{
		char	   *copy = MemoryContextAlloc(record_cxt, key->len);

		memcpy(copy, key->data, key->len);
		e->key.data = copy;
		e->key.len = key->len;
		record_cache_bytes += key->len;
	}
	e->id = id;
	e->series_key = series_key;
	record_added_in_xact = true;
}

/*
 * record_check: raise the error perfstore_internal.check_sample raises for
 * a sample outside the accepted range (docs/store.md), in the same order;
 * return when it is accepted.  labels_raw is the argument as passed (its
 * stored size counts, as pg_column_size() counts it), labels the same
 * detoasted.
 */
static void
record_check(text *metric, float8 value, Datum labels_raw, Jsonb *labels,
			 TimestampTz ts)
{
	Size		keylen;

	if (!(value >= -PERFSTORE_VALUE_MAX && value <= PERFSTORE_VALUE_MAX))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot record value %s for metric \"%s\"",
						DatumGetCString(DirectFunctionCall1(float8out, Float8GetDatum(value))),
						text_to_cstring(metric)),
				 errdetail("Samples must be finite numbers from -1e100 to 1e100.")));
	if (!(ts >= PERFSTORE_TS_MIN && ts < PERFSTORE_TS_MAX))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_FIELD_OVERFLOW),
				 errmsg("cannot record a sample at %s for metric \"%s\"",
						DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(ts))),
						text_to_cstring(metric)),
				 errdetail("Samples must have timestamps from 1970-01-01 up to 2200-01-01 UTC.")));
	if (!JB_ROOT_IS_OBJECT(labels))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("labels must be a JSON object, not %s",
						TextDatumGetCString(DirectFunctionCall1(jsonb_typeof, PointerGetDatum(labels)))),
				 errhint("Pass labels like '{\"host\": \"db1\"}'.")));
	keylen = VARSIZE_ANY_EXHDR(metric) + toast_datum_size(labels_raw);
	if (keylen > PERFSTORE_KEY_MAX)
	{
		char	   *m = text_to_cstring(metric);

		m[pg_mbcharcliplen(m, strlen(m), 64)] = '\0';
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("labels of metric \"%s\" are too large", m),
				 errdetail("The metric name and labels take %zu bytes; at most %d are allowed.",
						   (size_t) keylen, PERFSTORE_KEY_MAX)));
	}
}

/*
 * record_prepare_all: the four statements, prepared once per backend.
 * Every name and operator is qualified, and they are prepared (and run)
 * under the search path pg_catalog alone.
 */
static void
record_prepare_all(void)
{
	Oid			key_types[2] = {TEXTOID, JSONBOID};
	Oid			row_types[3] = {INT8OID, TIMESTAMPTZOID, FLOAT8OID};
	Oid			late_types[2] = {INT8OID, TIMESTAMPTZOID};

	if (record_lookup_plan == NULL)
		record_lookup_plan =
			perfstore_spi_prepare_kept("SELECT s.id FROM perfstore.series s"
						   " WHERE s.metric OPERATOR(pg_catalog.=) $1"
						   " AND s.labels OPERATOR(pg_catalog.=) $2",
						   2, key_types);
	if (record_create_plan == NULL)
		record_create_plan =
			perfstore_spi_prepare_kept("INSERT INTO perfstore.series (metric, labels) VALUES ($1, $2)"
						   " ON CONFLICT ON CONSTRAINT series_metric_labels DO NOTHING"
						   " RETURNING id",
						   2, key_types);
	if (record_insert_plan == NULL)
		record_insert_plan =
			perfstore_spi_prepare_kept("INSERT INTO perfstore.samples (series_id, ts, value)"
						   " VALUES ($1, $2, $3)",
						   3, row_types);
	if (record_late_plan == NULL)
		record_late_plan =
			perfstore_spi_prepare_kept("INSERT INTO perfstore.rollup_invalidations (series_id, lo, hi)"
						   " VALUES ($1, $2, $2)",
						   2, late_types);
}

/*
 * record_find_series: the id of the series (metric, labels), created when
 * missing, through SPI (connected, as the owner).  Raises 40001 when a
 * series created concurrently is not visible (REPEATABLE READ).
 */
static int64
record_find_series(text *metric, Jsonb *labels)
{
	Datum		args[2];
	bool		isnull;
	int			rc;

	args[0] = PointerGetDatum(metric);
	args[1] = PointerGetDatum(labels);
	for (int attempt = 0; attempt < 3; attempt++)
	{
		SPIPlanPtr	plan = (attempt == 1) ? record_create_plan : record_lookup_plan;

		rc = SPI_execute_plan(plan, args, NULL, false, 1);
		if (rc != (attempt == 1 ? SPI_OK_INSERT_RETURNING : SPI_OK_SELECT))
			elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
		if (SPI_processed == 1)
		{
			Datum		id = SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
				return DatumGetInt64(id);
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not resolve the series of metric \"%s\" with labels %s",
					text_to_cstring(metric),
					JsonbToCString(NULL, &labels->root, VARSIZE(labels))),
			 errhint("Retry the call; in REPEATABLE READ a series created concurrently is not visible.")));
	return 0;					/* not reached */
}

/*
 * record_series_key: the key hash a queued sample carries (record_queue.h,
 * RECORD_SERIES_KEY_SQL): hashtext(metric) # jsonb_hash(labels), computed as
 * the flush computes it from the series row.  Computed once per cache entry
 * (it walks the whole jsonb), not per queued call.
 */
static uint32
record_series_key(text *metric, Jsonb *labels)
{
	uint32		h;

	h = DatumGetUInt32(DirectFunctionCall1Coll(hashtext, DEFAULT_COLLATION_OID,
											   PointerGetDatum(metric)));
	h ^= DatumGetUInt32(DirectFunctionCall1(jsonb_hash, PointerGetDatum(labels)));
	return h;
}

/*
 * record_owner: the owner of the function being called (the extension's
 * owner, who created it), cached for the call site.
 */
static Oid
record_owner(FunctionCallInfo fcinfo)
{
	FmgrInfo   *flinfo = fcinfo->flinfo;

	if (flinfo->fn_extra == NULL)
	{
		HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(flinfo->fn_oid));
		Oid		   *owner;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for function %u", flinfo->fn_oid);
		owner = MemoryContextAlloc(flinfo->fn_mcxt, sizeof(Oid));
		*owner = ((Form_pg_proc) GETSTRUCT(tup))->proowner;
		ReleaseSysCache(tup);
		flinfo->fn_extra = owner;
	}
	return *(Oid *) flinfo->fn_extra;
}

/*
 * perfstore_record: record(metric text, value float8, labels jsonb, ts
 * timestamptz).  Stores one sample, or queues it (see the file header);
 * returns void.  Raises 22004 for a NULL argument and check_sample's errors
 * (22023, 22008, 54000) for a sample outside the accepted range, storing
 * and queueing nothing.
 */
Datum
perfstore_record(PG_FUNCTION_ARGS)
{
	text	   *metric;
	float8		value;
	Datum		labels_raw;
	Jsonb	   *labels;
	TimestampTz ts;
	RecordKey	key;
	char	   *keydata;
	Size		metric_len;
	RecordEntry *e;
	int64		id;
	Oid			owner;
	Oid			save_user;
	int			save_sec;
	Datum		args[3];
	int			rc;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("metric, value, labels and ts must not be NULL")));
	metric = PG_GETARG_TEXT_PP(0);
	value = PG_GETARG_FLOAT8(1);
	labels_raw = PG_GETARG_DATUM(2);
	labels = DatumGetJsonbP(labels_raw);
	ts = PG_GETARG_TIMESTAMPTZ(3);
	record_check(metric, value, labels_raw, labels, ts);
	owner = record_owner(fcinfo);

	/* a series deleted by a transaction committed since: see it now */
	AcceptInvalidationMessages();
	record_cache_ready();

	/*
	 * The key in this call's memory: a trigger on series that calls record()
	 * again runs in the middle of this call.
	 */
	metric_len = VARSIZE_ANY_EXHDR(metric);
	key.len = metric_len + 1 + VARSIZE(labels);
	keydata = palloc(key.len);
	memcpy(keydata, VARDATA_ANY(metric), metric_len);
	keydata[metric_len] = '\0';
	memcpy(keydata + metric_len + 1, labels, VARSIZE(labels));
	key.data = keydata;
	e = (RecordEntry *) hash_search(record_cache, &key, HASH_FIND, NULL);
	id = (e != NULL) ? e->id : 0;

	/*
	 * Asynchronous (docs/store.md): a series found in the cache, with no
	 * entry added in this transaction, is committed; its sample is queued
	 * for the maintenance worker when it takes it.  A read-only
	 * transaction writes (and fails) as before.
	 */
	if (e != NULL && perfstore_record_async && !record_added_in_xact &&
		!XactReadOnly &&
		perfstore_record_enqueue(record_series_relid, id, e->series_key, ts, value))
	{
		pfree(keydata);
		PG_RETURN_VOID();
	}

	/*
	 * Our statements run as the owner, in a restricted operation, under
	 * pg_catalog alone; an error in between is undone by the abort, which
	 * restores the user and the search path as for SECURITY DEFINER.
	 */
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	PushOverrideSearchPath(&record_search_path);
	SPI_connect();
	record_prepare_all();
	if (e == NULL)
	{
		id = record_find_series(metric, labels);
		record_cache_add(&key, id, record_series_key(metric, labels));
	}
	args[0] = Int64GetDatum(id);
	args[1] = TimestampTzGetDatum(ts);
	args[2] = Float8GetDatum(value);
	rc = SPI_execute_plan(record_insert_plan, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	if (unlikely(ts < perfstore_late_watermark()))
	{
		rc = SPI_execute_plan(record_late_plan, args, NULL, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	}
	SPI_finish();
	PopOverrideSearchPath();
	SetUserIdAndSecContext(save_user, save_sec);
	PG_RETURN_VOID();
}

/*
 * perfstore_series_changed: the AFTER STATEMENT trigger on perfstore.series
 * (DELETE, TRUNCATE, UPDATE of id, metric or labels): every backend drops
 * its cache of series ids when this command ends, and the others when the
 * transaction commits.
 */
Datum
perfstore_series_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("perfstore_series_changed: not called by trigger manager")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}
