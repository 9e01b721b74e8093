/*
 * samples_write.c
 *		Resolved (series_id, ts, value) rows written straight into the
 *		partitions of perfstore.samples: the batch ingest's flush without
 *		an inner COPY (docs/store.md, "Batch ingest").
 *
 * Owns: SamplesWriter.  It does what COPY FROM does for a partitioned table
 * without triggers, with the parsing of COPY's input left out: an executor
 * state with samples as its one result relation, tuple routing, and per
 * partition a buffer of up to SAMPLES_WRITE_BUFFER_ROWS heap slots, written
 * with table_multi_insert and then entered into every index of the
 * partition (the (series_id, ts) index and any a user added: unique and
 * exclusion constraints are checked there).  Each row is checked against
 * the partition's constraints (NOT NULL, CHECK) before it is buffered, and
 * the default partition's constraint by the routing, as COPY does.
 *
 * Must not: write where COPY would do more than this: samples with a
 * trigger (row or statement, its own or a constraint's: deferred unique
 * keys and foreign keys are triggers), samples not partitioned or with
 * columns other than (bigint, timestamptz, float8) in this order (dropped
 * columns aside), and partitions with a trigger, that are foreign or not
 * heap tables, or whose columns need converting from samples' row.  Those
 * are refused (samples_write_begin returns NULL; samples_write_row returns
 * false at a partition's first row) and the caller writes with COPY.  It
 * checks no permission: the caller has (INSERT on samples, no row-level
 * security), and runs as the extension's owner.
 *
 * Memory: everything lives in the executor state's context, a child of the
 * caller's context at samples_write_begin, freed by samples_write_end; at
 * most SAMPLES_WRITE_MAX_BUFFERS buffers of SAMPLES_WRITE_BUFFER_ROWS rows
 * at a time, whatever the number of rows.  Work of one row (routing,
 * constraint expressions) and of one buffer's write (index entries) is in
 * the per-tuple context, reset for every row and after every write.  An
 * error leaves the cleanup to the (sub)transaction's abort, which releases
 * the relations, buffer pins and memory.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "executor/execPartition.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "nodes/parsenodes.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "samples_write.h"

/* rows buffered per partition before they are written (COPY: 1000) */
#define SAMPLES_WRITE_BUFFER_ROWS	1000
/* partitions with a buffer at a time; the oldest is written and dropped */
#define SAMPLES_WRITE_MAX_BUFFERS	16

/* the rows on their way to one partition */
typedef struct SamplesBuffer
{
	ResultRelInfo *rri;			/* the partition, owned by the routing */
	BulkInsertState bistate;
	int			nused;
	TupleTableSlot *slots[SAMPLES_WRITE_BUFFER_ROWS];	/* made when first needed */
} SamplesBuffer;

struct SamplesWriter
{
	EState	   *estate;
	ModifyTableState *mtstate;	/* what the routing needs of a plan */
	ResultRelInfo *root;		/* samples */
	PartitionTupleRouting *proute;
	TupleTableSlot *row;		/* virtual, in samples' row type */
	int			att[3];			/* indexes of series_id, ts and value in it */
	CommandId	cid;
	List	   *buffers;		/* SamplesBuffer *, oldest first */
	SamplesBuffer *last;		/* the buffer of the previous row, or NULL */
	bool		stopped;		/* a partition was refused: no more rows */
};

/*
 * samples_columns: the indexes of samples' three columns in its row, in
 * att, when its live columns are exactly (bigint, timestamptz, float8) and
 * none is generated (the columns a binary COPY of the three values fills).
 */
static bool
samples_columns(TupleDesc desc, int att[3])
{
	static const Oid want[3] = {INT8OID, TIMESTAMPTZOID, FLOAT8OID};
	int			n = 0;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);

		if (a->attisdropped)
			continue;
		if (n == 3 || a->atttypid != want[n] || a->attgenerated != '\0')
			return false;
		att[n++] = i;
	}
	return n == 3;
}

/*
 * samples_partition_ok: does this partition, as the routing opened it, take
 * rows exactly as COPY would write them into it without triggers?
 */
static bool
samples_partition_ok(const ResultRelInfo *rri)
{
	Relation	rel = rri->ri_RelationDesc;

	return rri->ri_TrigDesc == NULL &&
		rri->ri_FdwRoutine == NULL &&
		rri->ri_RootToPartitionMap == NULL &&
		rel->rd_rel->relkind == RELKIND_RELATION &&
		rel->rd_rel->relam == HEAP_TABLE_AM_OID;
}

/* samples_write_begin: see samples_write.h */
SamplesWriter *
samples_write_begin(Relation samples)
{
	TupleDesc	desc = RelationGetDescr(samples);
	int			att[3];
	EState	   *estate;
	MemoryContext old;
	SamplesWriter *w;
	RangeTblEntry *rte;
	ModifyTableState *mtstate;

	if (samples->rd_rel->relkind != RELKIND_PARTITIONED_TABLE ||
		samples->trigdesc != NULL || !samples_columns(desc, att))
		return NULL;

	estate = CreateExecutorState();
	old = MemoryContextSwitchTo(estate->es_query_cxt);
	w = palloc0(sizeof(SamplesWriter));
	w->estate = estate;
	memcpy(w->att, att, sizeof(att));

	/* samples as an INSERT's target, locked by the caller */
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = RelationGetRelid(samples);
	rte->relkind = samples->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	rte->inh = true;
	rte->requiredPerms = ACL_INSERT;
	for (int i = 0; i < 3; i++)
		rte->insertedCols = bms_add_member(rte->insertedCols,
										   att[i] + 1 - FirstLowInvalidHeapAttributeNumber);
	ExecInitRangeTable(estate, list_make1(rte));
	w->root = makeNode(ResultRelInfo);
	ExecInitResultRelation(estate, w->root, 1);
	CheckValidResultRel(w->root, CMD_INSERT);

	mtstate = makeNode(ModifyTableState);
	mtstate->ps.plan = NULL;
	mtstate->ps.state = estate;
	mtstate->operation = CMD_INSERT;
	mtstate->mt_nrels = 1;
	mtstate->resultRelInfo = w->root;
	mtstate->rootResultRelInfo = w->root;
	w->mtstate = mtstate;
	w->proute = ExecSetupPartitionTupleRouting(estate, samples);

	w->row = ExecInitExtraTupleSlot(estate, desc, &TTSOpsVirtual);
	for (int i = 0; i < desc->natts; i++)
		w->row->tts_isnull[i] = true;	/* dropped columns */
	for (int i = 0; i < 3; i++)
		w->row->tts_isnull[att[i]] = false;
	w->cid = GetCurrentCommandId(true);
	MemoryContextSwitchTo(old);
	return w;
}

/*
 * samples_buffer_write: insert a buffer's rows into its partition, enter
 * them into its indexes and empty the buffer.  Errors (a unique or
 * exclusion constraint) propagate.
 */
static void
samples_buffer_write(SamplesWriter *w, SamplesBuffer *buf)
{
	EState	   *estate = w->estate;
	ResultRelInfo *rri = buf->rri;
	MemoryContext old;

	if (buf->nused == 0)
		return;
	/* table_multi_insert may leak into the current context */
	old = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
	table_multi_insert(rri->ri_RelationDesc, buf->slots, buf->nused, w->cid, 0,
					   buf->bistate);
	MemoryContextSwitchTo(old);
	for (int i = 0; i < buf->nused; i++)
	{
		if (rri->ri_NumIndices > 0)
		{
			List	   *recheck = ExecInsertIndexTuples(rri, buf->slots[i], estate,
														false, false, NULL, NIL);

			/*
			 * Only deferred unique or exclusion constraints ask for a
			 * recheck, and their trigger makes the partition COPY's
			 */
			if (recheck != NIL)
				elog(ERROR, "deferred index check on \"%s\" without its trigger",
					 RelationGetRelationName(rri->ri_RelationDesc));
		}
		ExecClearTuple(buf->slots[i]);
	}
	ResetPerTupleExprContext(estate);
	buf->nused = 0;
}

/* samples_buffer_free: drop an empty buffer; its partition stays open */
static void
samples_buffer_free(SamplesWriter *w, SamplesBuffer *buf)
{
	Assert(buf->nused == 0);
	FreeBulkInsertState(buf->bistate);
	table_finish_bulk_insert(buf->rri->ri_RelationDesc, 0);
	for (int i = 0; i < SAMPLES_WRITE_BUFFER_ROWS && buf->slots[i] != NULL; i++)
		ExecDropSingleTupleTableSlot(buf->slots[i]);
	if (w->last == buf)
		w->last = NULL;
	pfree(buf);
}

/*
 * samples_buffer_for: the buffer of the partition rri, made when the
 * partition first gets a row; NULL when the writer refuses the partition.
 * With SAMPLES_WRITE_MAX_BUFFERS buffers already, the oldest is written and
 * dropped first.
 */
static SamplesBuffer *
samples_buffer_for(SamplesWriter *w, ResultRelInfo *rri)
{
	ListCell   *lc;
	SamplesBuffer *buf;

	foreach(lc, w->buffers)
	{
		buf = (SamplesBuffer *) lfirst(lc);
		if (buf->rri == rri)
			return buf;
	}
	if (!samples_partition_ok(rri))
		return NULL;
	if (list_length(w->buffers) >= SAMPLES_WRITE_MAX_BUFFERS)
	{
		buf = (SamplesBuffer *) linitial(w->buffers);
		samples_buffer_write(w, buf);
		samples_buffer_free(w, buf);
		w->buffers = list_delete_first(w->buffers);
	}
	buf = MemoryContextAllocZero(w->estate->es_query_cxt, sizeof(SamplesBuffer));
	buf->rri = rri;
	buf->bistate = GetBulkInsertState();
	w->buffers = lappend(w->buffers, buf);
	return buf;
}

/* samples_write_row: see samples_write.h */
bool
samples_write_row(SamplesWriter *w, int64 series_id, TimestampTz ts, double value)
{
	EState	   *estate = w->estate;
	TupleTableSlot *row = w->row;
	ResultRelInfo *rri;
	SamplesBuffer *buf;
	TupleTableSlot *slot;

	if (w->stopped)
		return false;
	CHECK_FOR_INTERRUPTS();
	ResetPerTupleExprContext(estate);

	ExecClearTuple(row);
	row->tts_values[w->att[0]] = Int64GetDatum(series_id);
	row->tts_values[w->att[1]] = TimestampTzGetDatum(ts);
	row->tts_values[w->att[2]] = Float8GetDatum(value);
	ExecStoreVirtualTuple(row);
	row->tts_tableOid = RelationGetRelid(w->root->ri_RelationDesc);

	/* raises COPY's error when no partition takes the row */
	rri = ExecFindPartition(w->mtstate, w->root, w->proute, row, estate);
	buf = w->last;
	if (buf == NULL || buf->rri != rri)
	{
		buf = samples_buffer_for(w, rri);
		if (buf == NULL)
		{
			w->stopped = true;
			return false;
		}
		w->last = buf;
	}

	/* the partition's row is samples' row: no conversion (checked) */
	row->tts_tableOid = RelationGetRelid(rri->ri_RelationDesc);
	if (rri->ri_RelationDesc->rd_att->constr != NULL)
		ExecConstraints(rri, row, estate);

	slot = buf->slots[buf->nused];
	if (slot == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);

		slot = buf->slots[buf->nused] = table_slot_create(rri->ri_RelationDesc, NULL);
		MemoryContextSwitchTo(old);
	}
	ExecCopySlot(slot, row);
	slot->tts_tableOid = row->tts_tableOid;
	if (++buf->nused == SAMPLES_WRITE_BUFFER_ROWS)
		samples_buffer_write(w, buf);
	return true;
}

/* samples_write_end: see samples_write.h */
void
samples_write_end(SamplesWriter *w)
{
	EState	   *estate = w->estate;
	ListCell   *lc;

	foreach(lc, w->buffers)
	{
		SamplesBuffer *buf = (SamplesBuffer *) lfirst(lc);

		samples_buffer_write(w, buf);
		samples_buffer_free(w, buf);
	}
	list_free(w->buffers);
	w->buffers = NIL;

	ExecCleanupTupleRouting(w->mtstate, w->proute);
	ExecCloseResultRelations(estate);
	ExecCloseRangeTableRelations(estate);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);	/* w with it */
}
