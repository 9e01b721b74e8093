# unit.mk: build perfdriver's server-less unit tests into tests/bin/.
#
#   make -f tests/unit/unit.mk [ROOT=/path/to/checkout] [SANITIZE=1]
#
# One binary per tests/unit/test_*.c, linked with the driver's workload
# layer (expr, vars, prng, script, builtin, normalize, util) and
# libpg_query.  SANITIZE=1
# builds with AddressSanitizer and UBSan into tests/bin/asan/.
ROOT     ?= $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../..)
CC       ?= gcc
CFLAGS   := -std=gnu11 -O2 -g -Wall -Wextra -Werror
CPPFLAGS := -I$(ROOT)/include -I$(ROOT)/driver -I$(ROOT)/tests/unit
LDLIBS   := -lpg_query -lm
BINDIR   := $(ROOT)/tests/bin

ifeq ($(SANITIZE),1)
CFLAGS   += -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined
BINDIR   := $(ROOT)/tests/bin/asan
endif

SRCS     := $(ROOT)/driver/expr.c $(ROOT)/driver/script.c \
            $(ROOT)/driver/builtin.c $(ROOT)/driver/normalize.c \
            $(ROOT)/driver/vars.c $(ROOT)/driver/prng.c $(ROOT)/driver/util.c
HDRS     := $(wildcard $(ROOT)/driver/expr.h $(ROOT)/driver/vars.h \
            $(ROOT)/driver/prng.h $(ROOT)/driver/script.h $(ROOT)/driver/driver.h \
            $(ROOT)/driver/normalize.h $(ROOT)/tests/unit/unit.h)
# test_store_doc needs the report, JUnit and store layers as well (and
# libpq, which pgconn.c links; no server is contacted)
PQ_INCLUDE := $(shell pg_config --includedir 2>/dev/null)
STORE_SRCS := $(ROOT)/driver/report.c $(ROOT)/driver/nplus1.c \
            $(ROOT)/driver/junit.c $(ROOT)/driver/cmd_compare.c \
            $(ROOT)/driver/store.c $(ROOT)/driver/pgconn.c $(ROOT)/src/sketch.c \
            $(ROOT)/driver/affinity.c $(ROOT)/driver/targets.c $(ROOT)/driver/gate.c \
            $(ROOT)/driver/flamerun.c $(ROOT)/driver/profile.c \
            $(ROOT)/driver/flamegraph.c $(ROOT)/driver/flamesvg.c
EXTRA_test_store_doc := $(STORE_SRCS) -I$(PQ_INCLUDE) -lpq -ljansson -lz -pthread
# test_gate: the noise model on synthetic series (the store layer, no server)
EXTRA_test_gate := $(STORE_SRCS) -I$(PQ_INCLUDE) -lpq -ljansson -lz -pthread
# test_targets: the assertions' grammar and evaluation (libjansson)
EXTRA_test_targets := $(ROOT)/driver/targets.c -ljansson
EXTRA_test_logparse := $(ROOT)/driver/logparse.c
# test_flamegraph: collapsing, the folded format, packing (zlib) and the SVG
EXTRA_test_flamegraph := $(STORE_SRCS) -I$(PQ_INCLUDE) -lpq -ljansson -lz -pthread
# test_affinity binds its own thread and opens sockets
EXTRA_test_affinity := $(ROOT)/driver/affinity.c -pthread
TESTS    := $(patsubst $(ROOT)/tests/unit/%.c,$(BINDIR)/%,$(wildcard $(ROOT)/tests/unit/test_*.c))

.PHONY: all
all: $(TESTS)

$(BINDIR)/%: $(ROOT)/tests/unit/%.c $(SRCS) $(HDRS)
	@mkdir -p $(BINDIR)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(SRCS) $(EXTRA_$*) $(LDLIBS)

$(BINDIR)/test_store_doc: $(STORE_SRCS) $(wildcard $(ROOT)/driver/*.h)
$(BINDIR)/test_flamegraph: $(STORE_SRCS)
$(BINDIR)/test_gate: $(STORE_SRCS) $(wildcard $(ROOT)/driver/*.h)
$(BINDIR)/test_targets: $(ROOT)/driver/targets.c $(ROOT)/driver/targets.h
$(BINDIR)/test_affinity: $(ROOT)/driver/affinity.c $(ROOT)/driver/affinity.h
$(BINDIR)/test_logparse: $(ROOT)/driver/logparse.c $(ROOT)/driver/logparse.h
