# perfstore: the PostgreSQL extension (PGXS) and the perfdriver load driver.
#
#   make          build the extension and the driver
#   make demo     install what is missing, build, start a throwaway cluster,
#                 run the demo
#   make test     install what is missing, build, run every test suite
#   make bench    benchmarks with ratios against their anchors
#   make fuzz     run the fuzz targets (sketch decoders, script parser and
#                 expressions, analyze --log) for a bounded time each
#   make deb      build the Debian packages (postgresql-15-perfstore,
#                 perfdriver) into dist/ from a copy of the tree
#   make install  the extension, and perfdriver with its man page into
#                 PostgreSQL's bindir and mandir (DESTDIR honoured)

EXTENSION  = perfstore
MODULE_big = perfstore
OBJS       = src/module.o src/sketch.o src/sketch_packed.o src/sketch_text.o src/sketch_sql.o \
             src/stats.o src/maintain.o src/ingest.o src/record.o src/late.o \
             src/record_queue.o src/record_flush.o src/samples_write.o
# A fresh install runs one script, perfstore--0.7.0.sql, built from the
# released chain with the upgrade script's schema check in front of it, so
# that the check runs before any object is created (docs/security.md).
DATA_built = perfstore--0.7.0.sql
DATA       = $(filter-out $(DATA_built),$(wildcard perfstore--*.sql))
REGRESS    = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=perfstore
PG_CPPFLAGS = -I$(srcdir)/include
# -Wextra, less three warnings that PostgreSQL's own headers and macros
# set off: unused fmgr parameters, partly initialised structs, and
# variables that PG_TRY's longjmp might clobber.
PG_CFLAGS  = -Wall -Wextra -Werror -Wno-unused-parameter \
             -Wno-missing-field-initializers -Wno-clobbered

PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

.PHONY: deps test demo bench fuzz check-driver deb


ifneq ($(wildcard $(PGXS)),)
# an assert-enabled server also checks the sketch's invariants after changes
ifneq ($(findstring enable-cassert,$(shell $(PG_CONFIG) --configure 2>/dev/null)),)
PG_CPPFLAGS += -DSKETCH_CHECK_INVARIANTS
endif
include $(PGXS)

perfstore--0.7.0.sql: perfstore--0.2.0.sql perfstore--0.2.0--0.3.0.sql perfstore--0.3.0--0.4.0.sql \
                      perfstore--0.4.0--0.5.0.sql perfstore--0.5.0--0.6.0.sql \
                      perfstore--0.6.0--0.7.0.sql
	{ printf '%s\n' '\echo Use "CREATE EXTENSION perfstore" to load this file. \quit'; \
	  sed -n '/^DO \$$guard\$$/,/^\$$guard\$$;/p' perfstore--0.3.0--0.4.0.sql; \
	  cat $^; } >$@
-include driver/driver.mk
else
# PostgreSQL's development files are not installed yet: the front-door
# targets install them and then run again with PGXS available.
all:
	@echo "PostgreSQL development files are missing: run 'make deps' first" >&2
	@exit 2
endif

deps:
	@scripts/install-deps.sh

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory install >/dev/null
	@tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory install >/dev/null
	@scripts/demo.sh

bench:
	@scripts/install-deps.sh --bench
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory install >/dev/null
	@bench/run.sh

fuzz: deps
	@tests/fuzz/run.sh

DEB_DIR ?= dist
deb:
	@scripts/build-deb.sh $(DEB_DIR)
