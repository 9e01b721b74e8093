/*
 * late.h
 *		The watermark as the ingest paths see it (src/late.c): a sample
 *		written below it is logged for maintain() to roll up.
 */
#ifndef PERFSTORE_LATE_H
#define PERFSTORE_LATE_H

#include "datatype/timestamp.h"

/*
 * The rollup watermark (DT_NOBEGIN before the first maintain()), cached per
 * backend until rollup_state changes.  May run a query through SPI (in a
 * connection of its own, so callers inside SPI may call it too).
 */
extern TimestampTz perfstore_late_watermark(void);

#endif							/* PERFSTORE_LATE_H */
