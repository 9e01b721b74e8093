/*
 * module.c
 *		The perfstore shared library as a module: its magic block, its
 *		initialisation, and the extension facts the other files share.
 *
 * Owns: PG_MODULE_MAGIC, _PG_init (which hands over to the files that have
 * something to set up, then reserves the prefix "perfstore."),
 * perfstore_extension_owner() and perfstore_spi_prepare_kept().
 * Must not: hold per-session state of its own.
 *
 * Memory: nothing is allocated here beyond a catalog scan's, released
 * before returning.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/rel.h"

#include "perfstore_module.h"
#include "record_queue.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * _PG_init: loaded by CREATE EXTENSION, by a function call or from
 * shared_preload_libraries.  The queue of record()'s asynchronous samples
 * defines its GUCs (and requests its shared memory when preloading), the
 * maintenance worker its own (and registers itself when preloading); then
 * no other perfstore.* setting may be defined.
 */
void
_PG_init(void)
{
	perfstore_record_queue_init();
	perfstore_worker_init();
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("perfstore");
#else
	EmitWarningsOnPlaceholders("perfstore");
#endif
}

Oid
perfstore_extension_owner(void)
{
	Oid			extoid = get_extension_oid("perfstore", false);
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "could not find the pg_extension row of extension %u", extoid);
	owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return owner;
}

SPIPlanPtr
perfstore_spi_prepare_kept(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, types);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	return plan;
}
