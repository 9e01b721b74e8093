/*
 * perfstore_module.h
 *		What the extension's server-side files share: the module's
 *		initialisation hooks, the extension's owner, keeping an SPI plan
 *		and the accepted range of a sample.
 *
 * Must not: be included by the driver (it needs PostgreSQL's server
 * headers).
 */
#ifndef PERFSTORE_MODULE_H
#define PERFSTORE_MODULE_H

#include "postgres.h"

/* maintain.c: define the worker's GUCs; register it when preloading */
extern void perfstore_worker_init(void);

/*
 * perfstore_extension_owner: the role that owns the perfstore extension in
 * the current database.  Raises an error when the extension is missing.
 */
extern Oid	perfstore_extension_owner(void);

/*
 * perfstore_spi_prepare_kept: SPI_prepare() and SPI_keepplan() one
 * statement (connected to SPI), or raise.  The plan lives until the backend
 * exits.
 */
extern struct _SPI_plan *perfstore_spi_prepare_kept(const char *sql, int nargs,
													Oid *types);

/*
 * The accepted range of a sample, checked by both write paths (record.c,
 * ingest.c) and by perfstore_internal.check_sample (docs/store.md,
 * "Accepted samples"): timestamps from 1970-01-01 up to 2200-01-01 UTC
 * (in microseconds from 2000-01-01), values within 1e100, and a series key
 * (metric and labels) of at most 2000 bytes.
 */
#define PERFSTORE_TS_MIN		INT64CONST(-946684800000000)
#define PERFSTORE_TS_MAX		INT64CONST(6311433600000000)
#define PERFSTORE_VALUE_MAX		1e100
#define PERFSTORE_KEY_MAX		2000

#endif							/* PERFSTORE_MODULE_H */
