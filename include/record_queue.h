/*
 * record_queue.h
 *		The queue of record()'s asynchronous samples (src/record_queue.c) and
 *		the maintenance worker's flush of it (src/record_flush.c);
 *		docs/store.md, "Asynchronous record()".
 *
 * Must not: be included by the driver (it needs PostgreSQL's server
 * headers).
 */
#ifndef PERFSTORE_RECORD_QUEUE_H
#define PERFSTORE_RECORD_QUEUE_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* one queued sample: what record() would have inserted, and where */
typedef struct RecordQueueEntry
{
	int64		series_id;
	TimestampTz ts;
	float8		value;
	Oid			series_rel;		/* perfstore.series when it was queued */
	uint32		series_key;		/* the series' key hash, RECORD_SERIES_KEY_SQL */
} RecordQueueEntry;

/* perfstore.record_async: the session's record() calls may be queued */
extern PGDLLIMPORT bool perfstore_record_async;
/* perfstore.record_flush_interval: ms between the worker's flushes */
extern PGDLLIMPORT int perfstore_record_flush_interval;

/*
 * Define the GUCs; when preloading, request the shared memory and install
 * the hook that creates it.  Called from _PG_init.
 */
extern void perfstore_record_queue_init(void);

/*
 * Append one sample when the queue exists, its worker accepts, runs in this
 * backend's database and there is room; wakes the worker when the queue
 * fills past a quarter (or is full).  Returns whether it was queued; false
 * means the caller writes it itself.  Never raises.
 */
extern bool perfstore_record_enqueue(Oid series_rel, int64 series_id,
									 uint32 series_key, TimestampTz ts,
									 float8 value);

/*
 * The hash of a series' (metric, labels) that its queued samples carry:
 * hashtext(metric) # jsonb_hash(labels), the same for equal values however
 * they are written.  The flush writes a sample only to the series with its
 * id and this hash, so that a series id used again (TRUNCATE ... RESTART
 * IDENTITY, a sequence set back, an id given by hand) after its samples were
 * queued never takes them.  record.c computes it; record_flush.c compares it
 * in SQL with RECORD_SERIES_KEY_SQL.
 */
#define RECORD_SERIES_KEY_SQL(s) \
	"(pg_catalog.hashtext(" s ".metric) OPERATOR(pg_catalog.#) pg_catalog.jsonb_hash(" s ".labels))"

/*
 * The worker's side.  open: make the calling maintenance worker, connected
 * to its database, the queue's only reader and start accepting; entries
 * queued for another database are dropped and their number stored in
 * *dropped.  Returns false (and does nothing) when there is no queue or
 * another live process reads it.  It stops accepting by itself when the
 * process exits.
 */
extern bool perfstore_record_queue_open(uint64 *dropped);
/* stop accepting: later record() calls write synchronously */
extern void perfstore_record_queue_stop(void);
/* copy up to max entries from the oldest on into buf; returns how many */
extern uint64 perfstore_record_queue_peek(RecordQueueEntry *buf, uint64 max);
/* forget the n oldest entries (after they were written and committed) */
extern void perfstore_record_queue_release(uint64 n);
/* the number of entries queued */
extern uint64 perfstore_record_queue_length(void);
/* whether a backend woke the reader (filling the queue) since the last look */
extern bool perfstore_record_queue_woken(void);

/*
 * record_flush.c.  Write everything queued, one transaction per chunk, as
 * the extension's owner; see the file's header.  Returns false when a
 * chunk failed (its entries stay queued; the failure is logged once per
 * change of state), true when the queue was emptied.  Never raises.
 */
extern bool perfstore_record_flush(void);

#endif							/* PERFSTORE_RECORD_QUEUE_H */
