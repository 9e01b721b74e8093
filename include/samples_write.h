/*
 * samples_write.h
 *		Writing resolved rows straight into the partitions of
 *		perfstore.samples (src/samples_write.c), for the batch ingest's
 *		flush (src/ingest.c).
 */
#ifndef PERFSTORE_SAMPLES_WRITE_H
#define PERFSTORE_SAMPLES_WRITE_H

#include "datatype/timestamp.h"
#include "utils/relcache.h"

typedef struct SamplesWriter SamplesWriter;

/*
 * A writer of (series_id, ts, value) rows into samples, which the caller
 * has opened and holds RowExclusiveLock on, and on which it has checked
 * INSERT permission and refused row-level security.  Returns NULL, having
 * opened nothing, when the writer cannot take samples at all (it is not a
 * partitioned table, has a trigger, or its columns are not (bigint,
 * timestamptz, float8) in that order): the caller writes with COPY.  Its
 * memory is a child of the current context, freed by samples_write_end.
 */
extern SamplesWriter *samples_write_begin(Relation samples);

/*
 * Route one row to its partition and buffer it, writing a partition's
 * buffer when it is full.  Returns false, keeping nothing of the row, when
 * the row's partition is one the writer does not write as COPY would (a
 * trigger, a foreign or non-heap table, columns in another order): the
 * caller ends the writer and hands this row and the ones after it to COPY.
 * The writer then takes no more rows.  Errors (no partition for the row, a
 * constraint, a unique index) are raised as COPY raises them; the caller's
 * (sub)transaction discards what was written.
 */
extern bool samples_write_row(SamplesWriter *w, int64 series_id, TimestampTz ts,
							  double value);

/*
 * Write the rows still buffered, close the partitions and free the writer.
 * The samples relation stays open and locked, as the caller had it.
 */
extern void samples_write_end(SamplesWriter *w);

#endif							/* PERFSTORE_SAMPLES_WRITE_H */
