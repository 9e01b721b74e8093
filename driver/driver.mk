# driver.mk: build rules for perfdriver, included by the top Makefile
# (-include driver/driver.mk).  Also usable alone:
#   make -f driver/driver.mk driver/perfdriver
#
# The driver links the shared sketch core, every src/sketch*.c but the SQL
# face (sketch.c, sketch_packed.c, sketch_text.c), compiled here as
# driver/sketch*.o without -fPIC (PGXS builds src/sketch*.o for the
# extension).  Only driver/pgconn.c includes libpq-fe.h: the load's
# connections and the blocking sessions of init and --store go through it.
# libjansson reads JSON: plans and parse trees (observe.c, advise.c) and
# stored reports (cmd_advise.c).
#
# make install puts perfdriver into PostgreSQL's bindir (pg_config --bindir,
# beside pgbench) and its man page into PostgreSQL's mandir, both under
# DESTDIR; PD_BINDIR and PD_MANDIR override the directories.  The man page
# is generated from the driver's own --help texts (scripts/perfdriver-man.sh).

PD_PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PD_PQ_INCLUDE := $(shell $(PD_PG_CONFIG) --includedir 2>/dev/null || pg_config --includedir)
PD_CC      ?= gcc
PD_CFLAGS  := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Iinclude -Idriver -pthread
PD_LIBS    := -lpq -lpg_query -ljansson -lpthread -lm -lz
# packagers' flags (debian/rules passes dpkg-buildflags' hardening flags)
PD_CFLAGS  += $(PD_EXTRA_CFLAGS)
PD_LDFLAGS ?=

PD_SRCS    := $(filter-out driver/unit_%.c,$(wildcard driver/*.c))
PD_CORE_OBJS := $(patsubst src/%.c,driver/%.o,$(filter-out %_sql.c,$(wildcard src/sketch*.c)))
PD_OBJS    := $(PD_SRCS:.c=.o) $(PD_CORE_OBJS)
PD_HDRS    := $(wildcard driver/*.h) $(wildcard include/*.h)
# one version for the extension and the driver
PD_VERSION := $(shell sed -n "s/^default_version *= *'\(.*\)'.*/\1/p" perfstore.control)

all: driver/perfdriver driver/perfdriver.1

driver/perfdriver: $(PD_OBJS)
	$(PD_CC) $(PD_CFLAGS) $(PD_LDFLAGS) -o $@ $(PD_OBJS) $(PD_LIBS)

$(PD_CORE_OBJS): driver/%.o: src/%.c src/sketch_int.h $(PD_HDRS)
	$(PD_CC) $(PD_CFLAGS) -c -o $@ $<

driver/pgconn.o: driver/pgconn.c $(PD_HDRS)
	$(PD_CC) $(PD_CFLAGS) -I$(PD_PQ_INCLUDE) -c -o $@ $<

driver/version.o: driver/version.c perfstore.control $(PD_HDRS)
	$(PD_CC) $(PD_CFLAGS) -DPD_VERSION='"$(PD_VERSION)"' -c -o $@ $<

driver/%.o: driver/%.c $(PD_HDRS)
	$(PD_CC) $(PD_CFLAGS) -c -o $@ $<

driver/perfdriver.1: driver/perfdriver scripts/perfdriver-man.sh
	scripts/perfdriver-man.sh driver/perfdriver > $@.tmp && mv $@.tmp $@

PD_BINDIR ?= $(bindir)
PD_MANDIR ?= $(mandir)

.PHONY: install-driver uninstall-driver
install: install-driver
uninstall: uninstall-driver

install-driver: driver/perfdriver driver/perfdriver.1
	$(MKDIR_P) '$(DESTDIR)$(PD_BINDIR)' '$(DESTDIR)$(PD_MANDIR)/man1'
	$(INSTALL_PROGRAM) driver/perfdriver '$(DESTDIR)$(PD_BINDIR)/perfdriver'
	$(INSTALL_DATA) driver/perfdriver.1 '$(DESTDIR)$(PD_MANDIR)/man1/perfdriver.1'

uninstall-driver:
	rm -f '$(DESTDIR)$(PD_BINDIR)/perfdriver' '$(DESTDIR)$(PD_MANDIR)/man1/perfdriver.1'

.PHONY: driver-clean
driver-clean:
	rm -f driver/*.o driver/perfdriver driver/perfdriver.1 driver/perfdriver.1.tmp

clean: driver-clean
