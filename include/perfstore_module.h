/*
 * perfstore_module.h
 *		What the extension's server-side files share: the module's
 *		initialisation hooks and the extension's owner.
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

#endif							/* PERFSTORE_MODULE_H */
