# unit.mk: the one make rule for every C test program, built into tests/bin/.
#
#   make -f tests/unit/unit.mk [ROOT=/path/to/checkout] [SANITIZE=1|thread] [TARGET...]
#
# A TARGET is all or the absolute path of a program, $(ROOT)/tests/bin/NAME
# ($(ROOT)/tests/bin/asan/NAME with SANITIZE=1, $(ROOT)/tests/bin/thread/NAME
# with SANITIZE=thread).
#
# Every program uses the harness tests/unit/unit.h and is built by the one
# pattern rule below from its source, found in tests/unit, tests/nplus1,
# tests/core or tests/clients, plus what LINK_<program> names (default:
# the driver's workload layer) and FLAGS_<program>.  SANITIZE=1 builds
# with AddressSanitizer and UBSan into tests/bin/asan/, SANITIZE=thread with
# ThreadSanitizer into tests/bin/thread/.
#
#   all (default)                 the driver's unit tests, tests/unit/test_*.c
#                                 (tests/suites/driver_unit.sh)
#   test_nplus1                   the N+1 detector alone (nplus1.sh)
#   sketch_core_test              the sketch core (sketch_core.sh, SANITIZE=1)
#   sketch_threads_test           the core's mapping cache from several
#                                 threads (driver_tsan.sh, SANITIZE=thread)
#   sketch_binary_client          the server's decoders over libpq
#                                 (sketch_binary.sh)
#
# The fuzz target (tests/fuzz/run.sh) needs clang's libFuzzer and is built
# there.
ROOT     ?= $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../..)
CC       ?= gcc
CFLAGS   := -std=gnu11 -O2 -g -Wall -Wextra -Werror
CPPFLAGS := -I$(ROOT)/include -I$(ROOT)/driver -I$(ROOT)/tests/unit
BINDIR   := $(ROOT)/tests/bin

ifeq ($(SANITIZE),1)
CFLAGS   += -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined
BINDIR   := $(ROOT)/tests/bin/asan
endif
ifeq ($(SANITIZE),thread)
CFLAGS   += -O1 -fsanitize=thread
BINDIR   := $(ROOT)/tests/bin/thread
endif

vpath %.c $(ROOT)/tests/unit $(ROOT)/tests/nplus1 $(ROOT)/tests/core $(ROOT)/tests/clients

PQ_INCLUDE := $(shell pg_config --includedir 2>/dev/null)
PQ_LIBDIR  := $(shell pg_config --libdir 2>/dev/null)

# the sketch core: every src/sketch*.c but the SQL face (no PostgreSQL
# headers, as the driver links it)
CORE     := $(filter-out %_sql.c,$(wildcard $(ROOT)/src/sketch*.c))
# the driver's workload layer, which needs no server
WORKLOAD := $(addprefix $(ROOT)/driver/,expr.c vars.c prng.c script.c builtin.c \
            normalize.c util.c)
# the report, JUnit and store layers (libpq links; no server is contacted)
STORE    := $(addprefix $(ROOT)/driver/,report.c nplus1.c junit.c cmd_compare.c \
            store.c pgconn.c affinity.c targets.c gate.c observe.c observe_report.c \
            advise.c flamerun.c profile.c flamegraph.c flamesvg.c) $(CORE)

LINK_default            := $(WORKLOAD) -lpg_query -lm
LINK_test_store_doc     := $(WORKLOAD) $(STORE) -lpg_query -lpq -ljansson -lz -lm -pthread
FLAGS_test_store_doc    := -I$(PQ_INCLUDE)
# the noise model on synthetic series (the store layer, no server)
LINK_test_gate          := $(LINK_test_store_doc)
FLAGS_test_gate         := -I$(PQ_INCLUDE)
# collapsing, the folded format, packing (zlib) and the SVG (the store layer)
LINK_test_flamegraph    := $(LINK_test_store_doc)
FLAGS_test_flamegraph   := -I$(PQ_INCLUDE)
# the observe and advise layers (no server is contacted)
LINK_test_observe       := $(LINK_test_store_doc)
FLAGS_test_observe      := -I$(PQ_INCLUDE)
# the HTML report's renderer (pages written to /tmp, no browser)
LINK_test_html          := $(WORKLOAD) $(STORE) $(addprefix $(ROOT)/driver/,html.c html_run.c \
                           html_chart.c cmd_report.c) -lpg_query -lpq -ljansson -lz -lm -pthread
FLAGS_test_html         := -I$(PQ_INCLUDE)
# the assertions' grammar and evaluation (libjansson)
LINK_test_targets       := $(WORKLOAD) $(ROOT)/driver/targets.c -lpg_query -ljansson -lm
LINK_test_logparse      := $(WORKLOAD) $(ROOT)/driver/logparse.c -lpg_query -lm
# binds its own thread and opens sockets
LINK_test_affinity      := $(WORKLOAD) $(ROOT)/driver/affinity.c -lpg_query -lm -pthread
LINK_test_nplus1        := $(ROOT)/driver/nplus1.c $(ROOT)/driver/util.c -lm
LINK_sketch_core_test   := $(CORE) -lm -pthread
FLAGS_sketch_core_test  := -DSKETCH_CHECK_INVARIANTS
LINK_sketch_threads_test := $(CORE) -lm -pthread
LINK_sketch_binary_client := -L$(PQ_LIBDIR) -lpq -lm
FLAGS_sketch_binary_client := -I$(PQ_INCLUDE)

# what a program links, its sources and flags
link      = $(if $(filter undefined,$(origin LINK_$(1))),$(LINK_default),$(LINK_$(1)))
link_srcs = $(filter %.c,$(call link,$(1)))

HDRS     := $(wildcard $(ROOT)/driver/*.h $(ROOT)/include/*.h) $(ROOT)/src/sketch_int.h \
            $(ROOT)/tests/unit/unit.h
TESTS    := $(patsubst $(ROOT)/tests/unit/%.c,$(BINDIR)/%,$(wildcard $(ROOT)/tests/unit/test_*.c))

.PHONY: all
all: $(TESTS)

.SECONDEXPANSION:
$(BINDIR)/%: %.c $(HDRS) $$(call link_srcs,$$*)
	@mkdir -p $(BINDIR)
	$(CC) $(CPPFLAGS) $(FLAGS_$*) $(CFLAGS) -o $@ $< $(call link,$*)
