/*
 * ingest.c
 *		The batch ingest path of the store: the foreign data wrapper behind
 *		the foreign table perfstore.ingest (docs/store.md), and the
 *		triggers of the view it replaced in 0.7.0, which a database not
 *		updated yet still runs.
 *
 * Owns: perfstore_ingest_fdw_handler and perfstore_ingest_fdw_validator
 * (the wrapper), perfstore_ingest_trigger (the one trigger function behind
 * the old view's three triggers).  A statement's rows never reach a table
 * of their own: the start of an INSERT or COPY (the wrapper's Begin
 * callbacks; the BEFORE STATEMENT trigger) opens a batch, each row (the
 * wrapper's ExecForeignInsert; the INSTEAD OF row trigger) is validated,
 * its series resolved through a hash table of
 * the statement's label sets, keyed by the bytes of the metric and of the
 * labels' text (JSON is parsed once per new label set, with one index
 * lookup on series; never per row) and
 * appended as (series_id, ts, value) to a buffer of rows, and the end of
 * the statement (the wrapper's End callbacks; the AFTER STATEMENT trigger)
 * creates the series that were missing (one INSERT ... ON
 * CONFLICT DO NOTHING, in a fixed order so that concurrent batches cannot
 * deadlock) and writes the buffer into perfstore.samples: straight into
 * its partitions, with the multi-row inserts, partition routing and index
 * maintenance COPY does (src/samples_write.c), and through COPY FROM, its
 * rows streamed in COPY's binary format, for what only COPY does (triggers
 * on samples or a partition, partitions it cannot write as COPY would);
 * when samples is distributed with Citus, through one INSERT ... SELECT
 * that Citus routes to the shards instead (docs/scale-out.md).  Full
 * buffers are flushed along the way.  A flush orders the rows by series (a
 * stable counting sort, so a series' rows keep their arrival order):
 * consecutive index insertions then land on the same (series_id, ts) leaf
 * pages, and the heap
 * keeps each series' rows of a batch together, which is what per-series
 * dashboard queries read.  Rows below the rollup watermark (read once per
 * statement, src/late.c) are noted per series and UTC hour and logged in
 * perfstore.rollup_invalidations at the end of the statement, for the next
 * maintain() to roll up.
 * Must not: keep anything between statements (a series may be deleted and
 * created again under another id), or let a failed statement leave rows
 * behind (they are discarded with its subtransaction or transaction).
 *
 * Memory: each batch has its own context under TopTransactionContext,
 * deleted when the batch ends, when the (sub)transaction that opened it
 * aborts, or with the transaction.  The buffer holds at most
 * INGEST_FLUSH_ROWS rows (a flush needs as much again to sort them), and
 * rows of series not created yet at most INGEST_PENDING_MAX before those
 * series are created.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/copy.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "foreign/fdwapi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "port/pg_bswap.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/float.h"
#include "utils/timestamp.h"

#include <math.h>

#include "late.h"
#include "perfstore_module.h"
#include "samples_write.h"

PG_FUNCTION_INFO_V1(perfstore_ingest_trigger);
PG_FUNCTION_INFO_V1(perfstore_ingest_fdw_handler);
PG_FUNCTION_INFO_V1(perfstore_ingest_fdw_validator);

/* flush the buffered rows into samples when this many are buffered */
#define INGEST_FLUSH_ROWS	(256 * 1024)
/* rows encoded in COPY's binary format at a time while a flush streams */
#define INGEST_ENCODE_ROWS	512
/* create the missing series when this many rows wait for them */
#define INGEST_PENDING_MAX	(1024 * 1024)
/* bytes of one (series_id, ts, value) row in COPY's binary format */
#define INGEST_ROW_BYTES	(2 + 3 * (4 + 8))

/* a label set: the bytes of the metric and of the labels, as a row has them */
typedef struct IngestKey
{
	const char *metric;
	const char *labels;
	uint32		mlen;
	uint32		llen;
} IngestKey;

/* one series seen by the batch; key first (dynahash) */
typedef struct IngestSeries
{
	IngestKey	key;
	bool		resolved;		/* id is valid */
	bool		missing;		/* queued on the batch's missing list */
	int32		num;			/* dense number in the batch, for sorting */
	int64		id;
	text	   *metric;			/* 4-byte-header copies, for SPI */
	Jsonb	   *labels;
} IngestSeries;

/* a buffered row, its series resolved */
typedef struct IngestRow
{
	int64		id;
	TimestampTz ts;
	float8		value;
	int32		num;			/* its IngestSeries' num */
} IngestRow;

/*
 * Late rows of one series in one UTC hour: what the batch logs in
 * perfstore.rollup_invalidations (key first, dynahash)
 */
typedef struct IngestLateKey
{
	IngestSeries *series;
	int64		hour;			/* ts / USECS_PER_HOUR, rounded down */
} IngestLateKey;

typedef struct IngestLate IngestLate;

struct IngestLate
{
	IngestLateKey key;
	TimestampTz lo;
	TimestampTz hi;
};

/* a row waiting for its series to be created */
typedef struct IngestPending
{
	IngestSeries *series;
	TimestampTz ts;
	float8		value;
} IngestPending;

/* the batch of one INSERT or COPY into perfstore.ingest */
typedef struct IngestBatch
{
	struct IngestBatch *outer;	/* the batch of an enclosing statement */
	Oid			owner;			/* the extension's owner: writes run as it */
	Oid			relid;			/* perfstore.ingest, whose statement opened it */
	bool		labels_text;	/* its labels are text (0.5.0), not jsonb */
	int			nestlevel;		/* transaction nest level that opened it */
	MemoryContext cxt;
	HTAB	   *series;			/* IngestKey -> IngestSeries */
	int32		nseries;		/* entries in series (their nums: 0..n-1) */
	IngestRow  *rows;			/* INGEST_FLUSH_ROWS buffered rows */
	IngestRow  *sorted;			/* scratch of a flush, allocated at the first */
	int			nrows;
	IngestPending *pending;
	int			npending;
	int			maxpending;
	List	   *missing;		/* IngestSeries * not found in series */
	TimestampTz late_before;	/* rows before this are late: the watermark */
	HTAB	   *late;			/* IngestLateKey -> IngestLate, or NULL */
	struct IngestLate *late_last;	/* the entry of the last late row */
} IngestBatch;

static IngestBatch *ingest_batch = NULL;
static bool ingest_callbacks_registered = false;
static SPIPlanPtr ingest_lookup_plan = NULL;
static SPIPlanPtr ingest_create_plan = NULL;
static SPIPlanPtr ingest_resolve_plan = NULL;
static SPIPlanPtr ingest_late_plan = NULL;

static const char ingest_copy_header[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
#define INGEST_COPY_HEADER_BYTES 19

/*
 * What COPY FROM reads while a batch is flushed: the header, the rows
 * encoded INGEST_ENCODE_ROWS at a time into enc, then the trailer.
 */
typedef struct IngestStream
{
	const IngestRow *rows;
	int			nrows;
	int			next;			/* next row to encode */
	bool		trailer_sent;
	int			pos;			/* bytes of enc already read */
	int			len;			/* bytes in enc */
	char		enc[INGEST_COPY_HEADER_BYTES + INGEST_ENCODE_ROWS * INGEST_ROW_BYTES + 2];
} IngestStream;

static IngestStream *ingest_stream = NULL;


/*
 * ingest_key_hash, ingest_key_match: dynahash callbacks over the key's
 * bytes.  Two jsonb values equal as jsonb may differ in bytes (1 and 1.0);
 * they then get two entries that resolve to the same series, which costs a
 * lookup and nothing else.
 */
static uint32
ingest_key_hash(const void *key, Size keysize)
{
	const IngestKey *k = (const IngestKey *) key;

	return hash_combine(hash_bytes((const unsigned char *) k->metric, (int) k->mlen),
						hash_bytes((const unsigned char *) k->labels, (int) k->llen));
}

static int
ingest_key_match(const void *key1, const void *key2, Size keysize)
{
	const IngestKey *a = (const IngestKey *) key1;
	const IngestKey *b = (const IngestKey *) key2;

	return (a->mlen == b->mlen && a->llen == b->llen &&
			memcmp(a->labels, b->labels, a->llen) == 0 &&
			memcmp(a->metric, b->metric, a->mlen) == 0) ? 0 : 1;
}

/*
 * ingest_discard: forget batches opened at nest level `level` or deeper
 * (all of them for level 0), deleting their memory.
 */
static void
ingest_discard(int level)
{
	while (ingest_batch != NULL && ingest_batch->nestlevel >= level)
	{
		IngestBatch *b = ingest_batch;

		ingest_batch = b->outer;
		MemoryContextDelete(b->cxt);
	}
}

static void
ingest_xact_callback(XactEvent event, void *arg)
{
	/* TopTransactionContext goes away with the transaction */
	ingest_batch = NULL;
	ingest_stream = NULL;
}

static void
ingest_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		ingest_discard(GetCurrentTransactionNestLevel());
}

/*
 * ingest_open: start the batch of a statement.  Returns it; it lives until
 * ingest_close or the end of the (sub)transaction.
 */
static IngestBatch *
ingest_open(void)
{
	MemoryContext cxt;
	MemoryContext old;
	IngestBatch *b;
	HASHCTL		ctl;

	if (!ingest_callbacks_registered)
	{
		RegisterXactCallback(ingest_xact_callback, NULL);
		RegisterSubXactCallback(ingest_subxact_callback, NULL);
		ingest_callbacks_registered = true;
	}
	cxt = AllocSetContextCreate(TopTransactionContext, "perfstore ingest",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	b = palloc0(sizeof(IngestBatch));
	b->cxt = cxt;
	b->nestlevel = GetCurrentTransactionNestLevel();
	b->owner = perfstore_extension_owner();
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(IngestKey);
	ctl.entrysize = sizeof(IngestSeries);
	ctl.hash = ingest_key_hash;
	ctl.match = ingest_key_match;
	ctl.hcxt = cxt;
	b->series = hash_create("perfstore ingest series", 256, &ctl,
							HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
	b->rows = palloc(sizeof(IngestRow) * INGEST_FLUSH_ROWS);
	MemoryContextSwitchTo(old);
	b->late_before = DT_NOBEGIN;	/* set by ingest_read_watermark() */
	b->outer = ingest_batch;
	ingest_batch = b;
	return b;
}

/*
 * The batch's writes (the series lookups and inserts, the COPY into
 * samples) run as the extension's owner, as a SECURITY DEFINER function
 * would: writers have INSERT on the view only (docs/security.md).  The
 * switch covers our own statements and nothing of the caller's; an error
 * in between is undone by the (sub)transaction's abort, which restores the
 * user as it does for SECURITY DEFINER functions.
 */
typedef struct IngestUser
{
	Oid			user;
	int			sec;
} IngestUser;

static void
ingest_become_owner(const IngestBatch *b, IngestUser *saved)
{
	GetUserIdAndSecContext(&saved->user, &saved->sec);
	SetUserIdAndSecContext(b->owner, saved->sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
}

static void
ingest_restore_user(const IngestUser *saved)
{
	SetUserIdAndSecContext(saved->user, saved->sec);
}

/* Rows of the batch before the watermark are late: read it as the owner. */
static void
ingest_read_watermark(IngestBatch *b)
{
	IngestUser	saved;

	ingest_become_owner(b, &saved);
	b->late_before = perfstore_late_watermark();
	ingest_restore_user(&saved);
}

static void ingest_flush(IngestBatch *b);

/* ingest_append: buffer one resolved row; flushes a full buffer */
static inline void
ingest_append(IngestBatch *b, const IngestSeries *s, TimestampTz ts,
			  float8 value)
{
	IngestRow  *r = &b->rows[b->nrows++];

	r->id = s->id;
	r->ts = ts;
	r->value = value;
	r->num = s->num;
	if (b->nrows == INGEST_FLUSH_ROWS)
		ingest_flush(b);
}

/* Encode the next rows of the stream into its buffer (emptied before). */
static void
ingest_stream_fill(IngestStream *st)
{
	char	   *p = st->enc;
	int			end = Min(st->nrows, st->next + INGEST_ENCODE_ROWS);
	uint16		nfields = pg_hton16(3);
	uint32		len8 = pg_hton32(8);

	for (; st->next < end; st->next++)
	{
		const IngestRow *r = &st->rows[st->next];
		uint64		v;
		union
		{
			float8		f;
			uint64		i;
		}			fv;

		memcpy(p, &nfields, 2);
		p += 2;
		memcpy(p, &len8, 4);
		v = pg_hton64((uint64) r->id);
		memcpy(p + 4, &v, 8);
		p += 12;
		memcpy(p, &len8, 4);
		v = pg_hton64((uint64) r->ts);
		memcpy(p + 4, &v, 8);
		p += 12;
		memcpy(p, &len8, 4);
		fv.f = r->value;
		v = pg_hton64(fv.i);
		memcpy(p + 4, &v, 8);
		p += 12;
	}
	if (st->next == st->nrows && !st->trailer_sent)
	{
		static const uint16 trailer = 0xffff;

		memcpy(p, &trailer, 2);
		p += 2;
		st->trailer_sent = true;
	}
	st->pos = 0;
	st->len = (int) (p - st->enc);
}

/* copy_data_source_cb for COPY FROM: reads ingest_stream */
static int
ingest_copy_read(void *outbuf, int minread, int maxread)
{
	IngestStream *st = ingest_stream;
	char	   *out = outbuf;
	int			done = 0;

	while (done < maxread)
	{
		int			n;

		if (st->pos == st->len)
		{
			if (st->trailer_sent)
				break;
			ingest_stream_fill(st);
		}
		n = Min(maxread - done, st->len - st->pos);
		memcpy(out + done, st->enc + st->pos, n);
		st->pos += n;
		done += n;
	}
	return done;
}

/*
 * ingest_sort: the buffered rows ordered by series (their num), each
 * series' rows in arrival order.  Returns b->sorted.
 */
static IngestRow *
ingest_sort(IngestBatch *b)
{
	int		   *start;

	if (b->sorted == NULL)
		b->sorted = MemoryContextAlloc(b->cxt, sizeof(IngestRow) * INGEST_FLUSH_ROWS);
	start = MemoryContextAllocZero(b->cxt, sizeof(int) * (b->nseries + 1));
	for (int i = 0; i < b->nrows; i++)
		start[b->rows[i].num + 1]++;
	for (int k = 1; k <= b->nseries; k++)
		start[k] += start[k - 1];
	for (int i = 0; i < b->nrows; i++)
		b->sorted[start[b->rows[i].num]++] = b->rows[i];
	pfree(start);
	return b->sorted;
}

/*
 * ingest_samples_distributed: whether perfstore.samples (relid) is a Citus
 * table (docs/scale-out.md).  Its shell on the coordinator holds no rows:
 * a COPY started here with BeginCopyFrom() would write into the shell and
 * bypass Citus, which routes only the COPY and INSERT statements that pass
 * through its hooks.  False, without a query, when Citus is not installed
 * in this database.
 */
static bool
ingest_samples_distributed(Oid relid)
{
	Datum		args[1];
	Oid			types[1] = {OIDOID};
	bool		found;
	int			rc;

	if (!OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE)))
		return false;
	args[0] = ObjectIdGetDatum(relid);
	SPI_connect();
	rc = SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_dist_partition p"
							   " WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1",
							   1, types, args, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	found = SPI_processed == 1;
	SPI_finish();
	return found;
}

/*
 * ingest_insert_distributed: the buffered rows, ordered by series, into a
 * distributed perfstore.samples with one INSERT ... SELECT over three
 * arrays, a statement that Citus plans: it routes every row to its shard
 * and copies them there in bulk.  Runs as the caller (the owner, see
 * ingest_flush); errors propagate.  The arrays live in the batch's
 * context until the batch ends.
 */
static void
ingest_insert_distributed(IngestBatch *b)
{
	IngestRow  *rows = ingest_sort(b);
	Datum	   *ids = MemoryContextAlloc(b->cxt, sizeof(Datum) * b->nrows);
	Datum	   *tss = MemoryContextAlloc(b->cxt, sizeof(Datum) * b->nrows);
	Datum	   *values = MemoryContextAlloc(b->cxt, sizeof(Datum) * b->nrows);
	Datum		args[3];
	Oid			types[3] = {INT8ARRAYOID, TIMESTAMPTZARRAYOID, FLOAT8ARRAYOID};
	MemoryContext old = MemoryContextSwitchTo(b->cxt);
	int			rc;

	for (int i = 0; i < b->nrows; i++)
	{
		ids[i] = Int64GetDatum(rows[i].id);
		tss[i] = TimestampTzGetDatum(rows[i].ts);
		values[i] = Float8GetDatum(rows[i].value);
	}
	args[0] = PointerGetDatum(construct_array(ids, b->nrows, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[1] = PointerGetDatum(construct_array(tss, b->nrows, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[2] = PointerGetDatum(construct_array(values, b->nrows, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	MemoryContextSwitchTo(old);

	SPI_connect();
	rc = SPI_execute_with_args("INSERT INTO perfstore.samples (series_id, ts, value)"
							   " SELECT u.s, u.t, u.v FROM ROWS FROM (pg_catalog.unnest($1),"
							   " pg_catalog.unnest($2), pg_catalog.unnest($3)) AS u(s, t, v)",
							   3, types, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	SPI_finish();
	pfree(DatumGetPointer(args[0]));
	pfree(DatumGetPointer(args[1]));
	pfree(DatumGetPointer(args[2]));
	pfree(ids);
	pfree(tss);
	pfree(values);
}

/*
 * ingest_write_direct: write rows into samples (rel, opened and locked by
 * the caller) without COPY, through src/samples_write.c.  Returns how many
 * of the first rows it wrote: all of them, or fewer when samples or the
 * partition of the next row is one the direct path leaves to COPY (a
 * trigger, a foreign table...).  Errors propagate.
 */
static int
ingest_write_direct(Relation rel, const IngestRow *rows, int nrows)
{
	SamplesWriter *w = samples_write_begin(rel);
	int			i;

	if (w == NULL)
		return 0;
	for (i = 0; i < nrows; i++)
		if (!samples_write_row(w, rows[i].id, rows[i].ts, rows[i].value))
			break;
	samples_write_end(w);
	return i;
}

/*
 * ingest_copy: COPY rows into samples (rel, opened and locked by the
 * caller), streamed in COPY's binary format.  Errors propagate.  The
 * stream lives in the batch's context while COPY runs.
 */
static void
ingest_copy(IngestBatch *b, Relation rel, const IngestRow *rows, int nrows)
{
	ParseState *pstate;
	CopyFromState cstate;
	List	   *options;
	IngestStream *st;
	IngestStream *volatile outer_stream;

	st = MemoryContextAlloc(b->cxt, sizeof(IngestStream));
	st->rows = rows;
	st->nrows = nrows;
	st->next = 0;
	st->trailer_sent = false;
	memcpy(st->enc, ingest_copy_header, INGEST_COPY_HEADER_BYTES);
	st->pos = 0;
	st->len = INGEST_COPY_HEADER_BYTES;

	pstate = make_parsestate(NULL);
	(void) addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock,
										 NULL, false, false);
	options = list_make1(makeDefElem("format", (Node *) makeString("binary"), -1));

	/*
	 * A trigger on samples may run another batch, whose flush runs inside
	 * this one's COPY: the stream being read is restored however it ends.
	 */
	outer_stream = ingest_stream;
	ingest_stream = st;
	PG_TRY();
	{
		cstate = BeginCopyFrom(pstate, rel, NULL, NULL, false, ingest_copy_read,
							   NIL, options);
		(void) CopyFrom(cstate);
		EndCopyFrom(cstate);
	}
	PG_FINALLY();
	{
		ingest_stream = outer_stream;
	}
	PG_END_TRY();
	free_parsestate(pstate);
	pfree(st);
}

/*
 * ingest_flush: store the buffered rows in perfstore.samples, ordered by
 * series, and empty the buffer.  They are written straight into the
 * partitions (ingest_write_direct), and handed to COPY FROM from the first
 * row the direct path leaves to it on (all of them when samples has a
 * trigger); a distributed samples gets them through Citus.  Errors
 * (permission, a row refused) propagate; the caller's statement fails with
 * them.
 */
static void
ingest_flush(IngestBatch *b)
{
	Oid			nsp;
	Oid			relid;
	Relation	rel;
	AclResult	aclresult;
	IngestRow  *rows;
	int			done;
	IngestUser	saved;

	if (b->nrows == 0)
		return;
	ingest_become_owner(b, &saved);
	nsp = get_namespace_oid("perfstore", false);
	relid = get_relname_relid("samples", nsp);
	if (!OidIsValid(relid))
		elog(ERROR, "table perfstore.samples does not exist");
	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_INSERT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_TABLE, "samples");
	/* as COPY FROM itself: it cannot apply row-level security policies */
	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("batch ingest is not supported with row-level security enabled on perfstore.samples"),
				 errhint("Use perfstore.record(), or disable row-level security on perfstore.samples.")));

	if (ingest_samples_distributed(relid))
	{
		ingest_insert_distributed(b);
		ingest_restore_user(&saved);
		b->nrows = 0;
		return;
	}

	rel = table_open(relid, RowExclusiveLock);
	rows = ingest_sort(b);
	done = ingest_write_direct(rel, rows, b->nrows);
	if (done < b->nrows)
		ingest_copy(b, rel, rows + done, b->nrows - done);
	table_close(rel, NoLock);
	ingest_restore_user(&saved);

	b->nrows = 0;
}

/* a 4-byte-header copy of a (possibly short-header) varlena's data */
static struct varlena *
ingest_varlena_copy(const char *data, Size len)
{
	struct varlena *v = palloc(VARHDRSZ + len);

	SET_VARSIZE(v, VARHDRSZ + len);
	memcpy(VARDATA(v), data, len);
	return v;
}

/*
 * ingest_lookup: the id of one series, or false when it does not exist.
 * One index lookup on series (metric, labels), with a new snapshot in READ
 * COMMITTED.
 */
static bool
ingest_lookup(IngestBatch *b, IngestSeries *s)
{
	Datum		args[2];
	bool		isnull;
	bool		found = false;
	int			rc;
	IngestUser	saved;

	ingest_become_owner(b, &saved);
	SPI_connect();
	if (ingest_lookup_plan == NULL)
	{
		Oid			types[2] = {TEXTOID, JSONBOID};

		ingest_lookup_plan =
			perfstore_spi_prepare_kept("SELECT s.id FROM perfstore.series s"
									   " WHERE s.metric OPERATOR(pg_catalog.=) $1"
									   " AND s.labels OPERATOR(pg_catalog.=) $2",
									   2, types);
	}
	args[0] = PointerGetDatum(s->metric);
	args[1] = PointerGetDatum(s->labels);
	rc = SPI_execute_plan(ingest_lookup_plan, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		s->id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											SPI_tuptable->tupdesc, 1, &isnull));
		s->resolved = !isnull;
		found = !isnull;
	}
	SPI_finish();
	ingest_restore_user(&saved);
	return found;
}

/*
 * ingest_create_missing: create every series on the batch's missing list
 * (one INSERT ... ON CONFLICT DO NOTHING ordered by metric and labels, so
 * that concurrent batches take the unique index's locks in the same order),
 * resolve their ids and move the rows waiting for them into the buffer.
 * Raises serialization_failure when a series stays invisible (REPEATABLE
 * READ and a concurrent creator).
 */
static void
ingest_create_missing(IngestBatch *b)
{
	int			n = list_length(b->missing);
	Datum	   *metrics;
	Datum	   *labels;
	ArrayType  *ametrics;
	ArrayType  *alabels;
	Datum		args[2];
	IngestSeries **byindex;
	ListCell   *lc;
	int			i;
	int			rc;
	MemoryContext old;
	IngestUser	saved;

	if (n == 0)
		return;
	old = MemoryContextSwitchTo(b->cxt);
	metrics = palloc(n * sizeof(Datum));
	labels = palloc(n * sizeof(Datum));
	byindex = palloc(n * sizeof(IngestSeries *));
	i = 0;
	foreach(lc, b->missing)
	{
		IngestSeries *s = (IngestSeries *) lfirst(lc);

		metrics[i] = PointerGetDatum(s->metric);
		labels[i] = PointerGetDatum(s->labels);
		byindex[i] = s;
		i++;
	}
	ametrics = construct_array(metrics, n, TEXTOID, -1, false, TYPALIGN_INT);
	alabels = construct_array(labels, n, JSONBOID, -1, false, TYPALIGN_INT);
	MemoryContextSwitchTo(old);

	ingest_become_owner(b, &saved);
	SPI_connect();
	if (ingest_create_plan == NULL || ingest_resolve_plan == NULL)
	{
		Oid			types[2] = {TEXTARRAYOID, JSONBARRAYOID};
		SPIPlanPtr	create;
		SPIPlanPtr	plan;

		/* both or neither: a failure between them must not leave one */
		create = SPI_prepare("INSERT INTO perfstore.series (metric, labels)"
							 " SELECT u.m, u.l FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS u(m, l)"
							 " ORDER BY 1, 2"
							 " ON CONFLICT (metric, labels) DO NOTHING",
							 2, types);
		if (create == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		plan = SPI_prepare("SELECT u.i, s.id FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) WITH ORDINALITY AS u(m, l, i)"
						   " JOIN perfstore.series s ON s.metric OPERATOR(pg_catalog.=) u.m"
						   " AND s.labels OPERATOR(pg_catalog.=) u.l",
						   2, types);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(create);
		SPI_keepplan(plan);
		ingest_create_plan = create;
		ingest_resolve_plan = plan;
	}
	args[0] = PointerGetDatum(ametrics);
	args[1] = PointerGetDatum(alabels);
	rc = SPI_execute_plan(ingest_create_plan, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	rc = SPI_execute_plan(ingest_resolve_plan, args, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		n1,
					n2;
		int64		ord = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r],
													  SPI_tuptable->tupdesc, 1, &n1));
		int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r],
													 SPI_tuptable->tupdesc, 2, &n2));

		if (!n1 && !n2 && ord >= 1 && ord <= n)
		{
			byindex[ord - 1]->id = id;
			byindex[ord - 1]->resolved = true;
		}
	}
	SPI_finish();
	ingest_restore_user(&saved);

	for (i = 0; i < n; i++)
	{
		IngestSeries *s = byindex[i];

		if (!s->resolved)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not resolve the series of metric \"%s\" with labels %s in batch ingest",
							text_to_cstring(s->metric),
							JsonbToCString(NULL, &s->labels->root, VARSIZE(s->labels))),
					 errhint("Retry the statement; in REPEATABLE READ a series created concurrently is not visible.")));
		s->missing = false;
	}
	list_free(b->missing);
	b->missing = NIL;

	for (i = 0; i < b->npending; i++)
	{
		IngestPending *p = &b->pending[i];

		ingest_append(b, p->series, p->ts, p->value);
	}
	b->npending = 0;
}

/*
 * ingest_note_late: remember that the batch writes a row of series s at ts,
 * below the watermark: per series and UTC hour, the lowest and highest ts.
 */
static void
ingest_note_late(IngestBatch *b, IngestSeries *s, TimestampTz ts)
{
	IngestLateKey key;
	IngestLate *l = b->late_last;
	int64		hour = ts / USECS_PER_HOUR - (ts % USECS_PER_HOUR < 0 ? 1 : 0);
	bool		found;

	/* a backfill's rows come in runs of one series and hour */
	if (l != NULL && l->key.series == s && l->key.hour == hour)
	{
		if (ts < l->lo)
			l->lo = ts;
		else if (ts > l->hi)
			l->hi = ts;
		return;
	}
	if (b->late == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(IngestLateKey);
		ctl.entrysize = sizeof(IngestLate);
		ctl.hcxt = b->cxt;
		b->late = hash_create("perfstore ingest late rows", 64, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	memset(&key, 0, sizeof(key));
	key.series = s;
	key.hour = hour;
	l = (IngestLate *) hash_search(b->late, &key, HASH_ENTER, &found);
	if (!found)
		l->lo = l->hi = ts;
	else if (ts < l->lo)
		l->lo = ts;
	else if (ts > l->hi)
		l->hi = ts;
	b->late_last = l;
}

/*
 * ingest_log_late: write the batch's late rows to
 * perfstore.rollup_invalidations, one row per series and hour, so that the
 * next maintain() rolls them up (docs/store.md).  Every series is resolved
 * by now.
 */
static void
ingest_log_late(IngestBatch *b)
{
	HASH_SEQ_STATUS seq;
	IngestLate *l;
	long		n;
	Datum	   *ids;
	Datum	   *los;
	Datum	   *his;
	Datum		args[3];
	int			i = 0;
	int			rc;
	MemoryContext old;
	IngestUser	saved;

	if (b->late == NULL || (n = hash_get_num_entries(b->late)) == 0)
		return;
	old = MemoryContextSwitchTo(b->cxt);
	ids = palloc(n * sizeof(Datum));
	los = palloc(n * sizeof(Datum));
	his = palloc(n * sizeof(Datum));
	hash_seq_init(&seq, b->late);
	while ((l = (IngestLate *) hash_seq_search(&seq)) != NULL)
	{
		ids[i] = Int64GetDatum(l->key.series->id);
		los[i] = TimestampTzGetDatum(l->lo);
		his[i] = TimestampTzGetDatum(l->hi);
		i++;
	}
	args[0] = PointerGetDatum(construct_array(ids, i, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[1] = PointerGetDatum(construct_array(los, i, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[2] = PointerGetDatum(construct_array(his, i, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	MemoryContextSwitchTo(old);

	ingest_become_owner(b, &saved);
	SPI_connect();
	if (ingest_late_plan == NULL)
	{
		Oid			types[3] = {INT8ARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID};

		ingest_late_plan =
			perfstore_spi_prepare_kept("INSERT INTO perfstore.rollup_invalidations (series_id, lo, hi)"
									   " SELECT u.i, u.l, u.h FROM ROWS FROM (pg_catalog.unnest($1),"
									   " pg_catalog.unnest($2), pg_catalog.unnest($3)) AS u(i, l, h)",
									   3, types);
	}
	rc = SPI_execute_plan(ingest_late_plan, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	SPI_finish();
	ingest_restore_user(&saved);
}

/*
 * ingest_labels_parse: the jsonb of a row's labels given as text (the
 * view's column since 0.5.0).  A leading byte 1 is dropped: it is jsonb's
 * binary format version, which a binary COPY written for the jsonb column
 * sends, and JSON text never starts with it.  Raises jsonb_in's error
 * (22P02) for text that is not JSON.  Returns a new 4-byte-header Jsonb.
 */
static Jsonb *
ingest_labels_parse(struct varlena *text)
{
	const char *data = VARDATA_ANY(text);
	int			len = VARSIZE_ANY_EXHDR(text);
	char	   *str;

	if (len > 0 && data[0] == 1)
	{
		data++;
		len--;
	}
	str = pnstrdup(data, len);
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(str)));
}

/*
 * ingest_bad_row: raise 22023 for an invalid row of a batch.  Labels given
 * as text are shown as jsonb shows them, as when the column was jsonb.
 */
static void
ingest_bad_row(Datum *values, bool *nulls, TupleDesc desc)
{
	const char *shown[4];
	int			i;

	for (i = 0; i < 4; i++)
	{
		Oid			typoutput;
		bool		isvarlena;

		if (nulls[i])
		{
			shown[i] = "NULL";
			continue;
		}
		if (i == 1 && TupleDescAttr(desc, i)->atttypid == TEXTOID)
		{
			Jsonb	   *j = ingest_labels_parse(pg_detoast_datum_packed((struct varlena *) DatumGetPointer(values[i])));

			shown[i] = JsonbToCString(NULL, &j->root, VARSIZE(j));
			continue;
		}
		getTypeOutputInfo(TupleDescAttr(desc, i)->atttypid, &typoutput, &isvarlena);
		shown[i] = OidOutputFunctionCall(typoutput, values[i]);
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid row in batch ingest: metric %s, labels %s, ts %s, value %s",
					shown[0], shown[1], shown[2], shown[3]),
			 errdetail("Metric, ts and value must not be NULL, the value must be finite and the labels a JSON object."),
			 errhint("No row of this statement was stored.")));
}

/* is this jsonb an object (not an array, a scalar or too short)? */
static bool
ingest_jsonb_is_object(struct varlena *labels)
{
	uint32		root;

	if (VARSIZE_ANY_EXHDR(labels) < sizeof(uint32))
		return false;
	memcpy(&root, VARDATA_ANY(labels), sizeof(uint32));
	return (root & JB_FOBJECT) != 0;
}

/*
 * ingest_row: validate one row, resolve its series and buffer it.
 *
 * The series of a row is found by the bytes of its metric and labels, as
 * the row has them.  With labels as text (the view's column since 0.5.0)
 * the text is parsed into jsonb once per distinct text in the statement,
 * when it is first seen: the per-row path hashes bytes and never parses
 * JSON.  The checks run in the order they always had: NULLs and values that
 * are not finite, labels that are not an object, the value's range, the
 * timestamp's, the series key's size.
 */
static void
ingest_row(IngestBatch *b, TupleTableSlot *slot, HeapTuple tuple, TupleDesc desc)
{
	Datum		buf_values[4];
	bool		buf_nulls[4];
	Datum	   *values = buf_values;
	bool	   *nulls = buf_nulls;
	struct varlena *metric;
	struct varlena *labels;
	Jsonb	   *parsed = NULL;
	float8		value;
	TimestampTz ts;
	IngestKey	key;
	IngestSeries *s;
	bool		found;
	Size		keysize;

	/* COPY's slot has the row's values already: no need to deform it */
	if (slot != NULL)
	{
		slot_getallattrs(slot);
		values = slot->tts_values;
		nulls = slot->tts_isnull;
	}
	else
		heap_deform_tuple(tuple, desc, values, nulls);
	if (nulls[0] || nulls[1] || nulls[2] || nulls[3])
		ingest_bad_row(values, nulls, desc);
	value = DatumGetFloat8(values[3]);
	if (isnan(value) || isinf(value))
		ingest_bad_row(values, nulls, desc);
	labels = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(values[1]));
	metric = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(values[0]));
	ts = DatumGetTimestampTz(values[2]);

	key.metric = VARDATA_ANY(metric);
	key.mlen = VARSIZE_ANY_EXHDR(metric);
	key.labels = VARDATA_ANY(labels);
	key.llen = VARSIZE_ANY_EXHDR(labels);
	s = (IngestSeries *) hash_search(b->series, &key, HASH_FIND, NULL);
	if (s == NULL)
	{
		/* a label set new to the statement: check it as jsonb */
		if (b->labels_text)
			parsed = ingest_labels_parse(labels);
		else
			parsed = (Jsonb *) labels;
		if (!ingest_jsonb_is_object((struct varlena *) parsed))
			ingest_bad_row(values, nulls, desc);
		keysize = VARSIZE_ANY_EXHDR(metric) + VARSIZE_ANY_EXHDR(parsed) + VARHDRSZ;
	}
	else
		keysize = VARSIZE_ANY_EXHDR(metric) + VARSIZE(s->labels);
	if (value < -PERFSTORE_VALUE_MAX || value > PERFSTORE_VALUE_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot record value %s for metric \"%s\"",
						float8out_internal(value), text_to_cstring((text *) metric)),
				 errdetail("Samples must be finite numbers from -1e100 to 1e100."),
				 errhint("No row of this statement was stored.")));
	if (ts < PERFSTORE_TS_MIN || ts >= PERFSTORE_TS_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_FIELD_OVERFLOW),
				 errmsg("cannot record a sample at %s for metric \"%s\"",
						timestamptz_to_str(ts), text_to_cstring((text *) metric)),
				 errdetail("Samples must have timestamps from 1970-01-01 up to 2200-01-01 UTC."),
				 errhint("No row of this statement was stored.")));
	if (keysize > PERFSTORE_KEY_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("labels of metric \"%s\" are too large",
						text_to_cstring((text *) metric)),
				 errdetail("The metric name and labels take %zu bytes; at most %d are allowed.",
						   (size_t) keysize, PERFSTORE_KEY_MAX),
				 errhint("No row of this statement was stored.")));

	if (s == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(b->cxt);
		char	   *copy = palloc(key.mlen + key.llen + 1);

		memcpy(copy, key.metric, key.mlen);
		memcpy(copy + key.mlen, key.labels, key.llen);
		MemoryContextSwitchTo(old);
		key.metric = copy;
		key.labels = copy + key.mlen;
		s = (IngestSeries *) hash_search(b->series, &key, HASH_ENTER, &found);
		old = MemoryContextSwitchTo(b->cxt);
		s->resolved = false;
		s->missing = false;
		s->num = b->nseries++;
		s->id = 0;
		s->metric = (text *) ingest_varlena_copy(VARDATA_ANY(metric), VARSIZE_ANY_EXHDR(metric));
		s->labels = (Jsonb *) ingest_varlena_copy(VARDATA_ANY(parsed), VARSIZE_ANY_EXHDR(parsed));
		MemoryContextSwitchTo(old);
		if (!ingest_lookup(b, s))
		{
			old = MemoryContextSwitchTo(b->cxt);
			b->missing = lappend(b->missing, s);
			MemoryContextSwitchTo(old);
			s->missing = true;
		}
	}

	if (unlikely(ts < b->late_before) && !TIMESTAMP_NOT_FINITE(ts))
		ingest_note_late(b, s, ts);
	if (s->resolved)
	{
		ingest_append(b, s, ts, value);
		return;
	}
	/* its series is created with the batch's other missing ones */
	if (b->npending == b->maxpending)
	{
		int			grow = b->maxpending == 0 ? 1024 : b->maxpending * 2;

		if (b->pending == NULL)
			b->pending = MemoryContextAlloc(b->cxt, grow * sizeof(IngestPending));
		else
			b->pending = repalloc(b->pending, grow * sizeof(IngestPending));
		b->maxpending = grow;
	}
	b->pending[b->npending].series = s;
	b->pending[b->npending].ts = ts;
	b->pending[b->npending].value = value;
	b->npending++;
	if (b->npending >= INGEST_PENDING_MAX)
		ingest_create_missing(b);
}

/*
 * ingest_relation_ok: does rel have the columns of perfstore.ingest, in
 * order: (metric text, labels text, ts timestamptz, value float8), or labels
 * jsonb as before 0.5.0 (a database not updated yet runs this library too)?
 * The row trigger reads them as those types, so any other relation (a view
 * of a user's own with the function attached) is refused before a row is
 * read.
 */
static bool
ingest_relation_ok(Relation rel)
{
	static const Oid want[4] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, FLOAT8OID};
	TupleDesc	desc = RelationGetDescr(rel);

	if (desc->natts != 4)
		return false;
	for (int i = 0; i < 4; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped ||
			(att->atttypid != want[i] && !(i == 1 && att->atttypid == JSONBOID)))
			return false;
	}
	return true;
}

/*
 * ingest_finish: end a statement's batch: create its missing series, store
 * its rows, log its late rows, then forget it and its memory.  Errors
 * propagate; the (sub)transaction's abort then discards the batch.
 */
static void
ingest_finish(IngestBatch *b)
{
	IngestBatch **link;

	ingest_create_missing(b);
	ingest_flush(b);
	ingest_log_late(b);
	/* batches of one plan (two inserts in a WITH) may end in any order */
	for (link = &ingest_batch; *link != NULL; link = &(*link)->outer)
	{
		if (*link == b)
		{
			*link = b->outer;
			break;
		}
	}
	MemoryContextDelete(b->cxt);
}

/*
 * ingest_begin: open the batch of a statement writing into rel, which must
 * be perfstore.ingest: its writes run as the extension's owner.
 */
static IngestBatch *
ingest_begin(Relation rel)
{
	IngestBatch *b;

	if (RelationGetNamespace(rel) != get_namespace_oid("perfstore", false) ||
		strcmp(RelationGetRelationName(rel), "ingest") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("batch ingest writes only through perfstore.ingest, not %s",
						quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												   RelationGetRelationName(rel)))));
	/* an ALTER FOREIGN TABLE by its owner: rows would be misread */
	if (!ingest_relation_ok(rel))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("perfstore.ingest does not have the columns of batch ingest"),
				 errdetail("Batch ingest needs the columns (metric text, labels text, ts timestamptz, value float8), in this order and no others."),
				 errhint("Give perfstore.ingest these columns again with ALTER FOREIGN TABLE.")));
	b = ingest_open();
	b->relid = RelationGetRelid(rel);
	b->labels_text = TupleDescAttr(RelationGetDescr(rel), 1)->atttypid == TEXTOID;
	ingest_read_watermark(b);
	return b;
}

/*
 * perfstore_ingest_trigger: the triggers of perfstore.ingest.
 *   BEFORE INSERT FOR EACH STATEMENT: open the statement's batch;
 *   INSTEAD OF INSERT FOR EACH ROW: validate and buffer the row (22023 for
 *     a NULL metric, ts or value, a value that is not finite, labels that
 *     are not a JSON object: the whole statement fails);
 *   AFTER INSERT FOR EACH STATEMENT: create the missing series, store the
 *     rows in perfstore.samples and close the batch.
 * Returns a copy of the row for the row trigger (so that the command tag
 * counts it), NULL otherwise.
 */
Datum
perfstore_ingest_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TriggerEvent ev;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("perfstore_ingest_trigger: not called by trigger manager")));
	ev = trigdata->tg_event;
	if (!TRIGGER_FIRED_BY_INSERT(ev) || !ingest_relation_ok(trigdata->tg_relation))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("perfstore_ingest_trigger: must fire on INSERT into perfstore.ingest")));

	if (TRIGGER_FIRED_FOR_ROW(ev))
	{
		if (!TRIGGER_FIRED_INSTEAD(ev))
			ereport(ERROR,
					(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
					 errmsg("perfstore_ingest_trigger: row trigger must be INSTEAD OF")));
		if (ingest_batch == NULL ||
			ingest_batch->relid != RelationGetRelid(trigdata->tg_relation))
			ereport(ERROR,
					(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
					 errmsg("perfstore_ingest_trigger: must fire on INSERT into perfstore.ingest")));
		ingest_row(ingest_batch, trigdata->tg_trigslot, trigdata->tg_trigtuple,
				   RelationGetDescr(trigdata->tg_relation));

		/*
		 * Return a copy, made in the per-tuple context the trigger manager
		 * calls us in: the caller then frees its own copy of the row, which
		 * COPY FROM made in the statement's context and would otherwise keep
		 * until the statement ends (memory growing with every row).
		 */
		return PointerGetDatum(heap_copytuple(trigdata->tg_trigtuple));
	}
	if (TRIGGER_FIRED_BEFORE(ev))
	{
		Relation	rel = trigdata->tg_relation;

		/* only on the extension's own view: its writes run as the owner */
		if (RelationGetNamespace(rel) != get_namespace_oid("perfstore", false) ||
			strcmp(RelationGetRelationName(rel), "ingest") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
					 errmsg("perfstore_ingest_trigger: must fire on INSERT into perfstore.ingest")));
		(void) ingest_begin(rel);
		return PointerGetDatum(NULL);
	}
	if (ingest_batch == NULL || ingest_batch->relid != RelationGetRelid(trigdata->tg_relation))
		elog(ERROR, "perfstore_ingest_trigger: no batch open for this statement");
	ingest_finish(ingest_batch);
	return PointerGetDatum(NULL);
}


/*
 * The foreign data wrapper behind perfstore.ingest (since 0.7.0; before it,
 * a view with the triggers above).  COPY and INSERT hand each row to
 * ingest_fdw_insert() as the values of a slot: no trigger call and no heap
 * tuple per row, which is most of what the view's row trigger cost
 * (docs/store.md, "Benchmark").  A statement's batch is opened by
 * BeginForeignModify (INSERT) or BeginForeignInsert (COPY) and stored by
 * the matching End callback, when the executor shuts the statement down.
 * Reading the table returns no rows.  Only INSERT is supported.
 */

static void
ingest_fdw_rel_size(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	/* the table is always empty when read */
	baserel->rows = 0;
}

static void
ingest_fdw_paths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	add_path(baserel, (Path *) create_foreignscan_path(root, baserel, NULL,
													   baserel->rows, 0, 0, NIL,
													   baserel->lateral_relids,
													   NULL, NIL));
}

static ForeignScan *
ingest_fdw_plan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
				ForeignPath *best_path, List *tlist, List *scan_clauses,
				Plan *outer_plan)
{
	scan_clauses = extract_actual_clauses(scan_clauses, false);
	return make_foreignscan(tlist, scan_clauses, baserel->relid, NIL, NIL,
							NIL, NIL, outer_plan);
}

static void
ingest_fdw_begin_scan(ForeignScanState *node, int eflags)
{
}

static TupleTableSlot *
ingest_fdw_iterate(ForeignScanState *node)
{
	return ExecClearTuple(node->ss.ss_ScanTupleSlot);
}

static void
ingest_fdw_rescan(ForeignScanState *node)
{
}

static void
ingest_fdw_end_scan(ForeignScanState *node)
{
}

static int
ingest_fdw_updatable(Relation rel)
{
	return 1 << CMD_INSERT;
}

/* ON CONFLICT would promise what the batch does not check: refused */
static List *
ingest_fdw_plan_modify(PlannerInfo *root, ModifyTable *plan,
					   Index resultRelation, int subplan_index)
{
	if (plan->onConflictAction != ONCONFLICT_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("INSERT with ON CONFLICT is not supported on perfstore.ingest")));
	return NIL;
}

static void
ingest_fdw_begin_modify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
						List *fdw_private, int subplan_index, int eflags)
{
	if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0)
		rinfo->ri_FdwState = ingest_begin(rinfo->ri_RelationDesc);
}

static void
ingest_fdw_begin_insert(ModifyTableState *mtstate, ResultRelInfo *rinfo)
{
	rinfo->ri_FdwState = ingest_begin(rinfo->ri_RelationDesc);
}

/*
 * ingest_fdw_insert: one row of a COPY or INSERT: validated, resolved and
 * buffered in the per-row memory context, which the executor resets before
 * the next row.  Returns the slot (the command tag counts it).
 */
static TupleTableSlot *
ingest_fdw_insert(EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot,
				  TupleTableSlot *planSlot)
{
	IngestBatch *b = (IngestBatch *) rinfo->ri_FdwState;
	MemoryContext old;

	if (b == NULL)
		elog(ERROR, "perfstore ingest: no batch open for this statement");
	old = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
	ingest_row(b, slot, NULL, RelationGetDescr(rinfo->ri_RelationDesc));
	MemoryContextSwitchTo(old);
	return slot;
}

static void
ingest_fdw_end(EState *estate, ResultRelInfo *rinfo)
{
	IngestBatch *b = (IngestBatch *) rinfo->ri_FdwState;

	if (b == NULL)
		return;
	rinfo->ri_FdwState = NULL;
	ingest_finish(b);
}

/* perfstore_ingest_fdw_handler: the wrapper's callbacks */
Datum
perfstore_ingest_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *r = makeNode(FdwRoutine);

	r->GetForeignRelSize = ingest_fdw_rel_size;
	r->GetForeignPaths = ingest_fdw_paths;
	r->GetForeignPlan = ingest_fdw_plan;
	r->BeginForeignScan = ingest_fdw_begin_scan;
	r->IterateForeignScan = ingest_fdw_iterate;
	r->ReScanForeignScan = ingest_fdw_rescan;
	r->EndForeignScan = ingest_fdw_end_scan;
	r->IsForeignRelUpdatable = ingest_fdw_updatable;
	r->PlanForeignModify = ingest_fdw_plan_modify;
	r->BeginForeignModify = ingest_fdw_begin_modify;
	r->ExecForeignInsert = ingest_fdw_insert;
	r->EndForeignModify = ingest_fdw_end;
	r->BeginForeignInsert = ingest_fdw_begin_insert;
	r->EndForeignInsert = ingest_fdw_end;
	PG_RETURN_POINTER(r);
}

/*
 * perfstore_ingest_fdw_validator: the wrapper, its server and its table
 * take no options.
 */
Datum
perfstore_ingest_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));

	if (options != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid option \"%s\"", ((DefElem *) linitial(options))->defname),
				 errhint("The perfstore ingest wrapper takes no options.")));
	PG_RETURN_VOID();
}
