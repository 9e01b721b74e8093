# driver.mk: build rules for perfdriver, included by the top Makefile
# (-include driver/driver.mk).  Also usable alone:
#   make -f driver/driver.mk driver/perfdriver
#
# The driver links the shared sketch core src/sketch.c, compiled here as
# driver/sketch.o without -fPIC (PGXS builds src/sketch.o for the
# extension).  Only driver/pgconn.c includes libpq-fe.h: the load's
# connections and the blocking sessions of init and --store go through it.

PD_PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PD_PQ_INCLUDE := $(shell $(PD_PG_CONFIG) --includedir 2>/dev/null || pg_config --includedir)
PD_CC      ?= gcc
PD_CFLAGS  := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Iinclude -Idriver -pthread
PD_LIBS    := -lpq -lpg_query -lpthread -lm -lz

PD_SRCS    := $(filter-out driver/unit_%.c,$(wildcard driver/*.c))
PD_OBJS    := $(PD_SRCS:.c=.o) driver/sketch.o
PD_HDRS    := $(wildcard driver/*.h) $(wildcard include/*.h)

all: driver/perfdriver

driver/perfdriver: $(PD_OBJS)
	$(PD_CC) $(PD_CFLAGS) -o $@ $(PD_OBJS) $(PD_LIBS)

driver/sketch.o: src/sketch.c $(PD_HDRS)
	$(PD_CC) $(PD_CFLAGS) -c -o $@ $<

driver/pgconn.o: driver/pgconn.c $(PD_HDRS)
	$(PD_CC) $(PD_CFLAGS) -I$(PD_PQ_INCLUDE) -c -o $@ $<

driver/%.o: driver/%.c $(PD_HDRS)
	$(PD_CC) $(PD_CFLAGS) -c -o $@ $<

.PHONY: driver-clean
driver-clean:
	rm -f driver/*.o driver/perfdriver

clean: driver-clean
