# unit.mk: build perfdriver's server-less unit tests into tests/bin/.
#
#   make -f tests/unit/unit.mk [ROOT=/path/to/checkout] [SANITIZE=1]
#
# One binary per tests/unit/test_*.c, linked with the driver's workload
# layer (expr, script, builtin, normalize) and libpg_query.  SANITIZE=1
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
            $(ROOT)/driver/builtin.c $(ROOT)/driver/normalize.c
HDRS     := $(wildcard $(ROOT)/driver/expr.h $(ROOT)/driver/script.h \
            $(ROOT)/driver/normalize.h $(ROOT)/tests/unit/unit.h)
TESTS    := $(patsubst $(ROOT)/tests/unit/%.c,$(BINDIR)/%,$(wildcard $(ROOT)/tests/unit/test_*.c))

.PHONY: all
all: $(TESTS)

$(BINDIR)/%: $(ROOT)/tests/unit/%.c $(SRCS) $(HDRS)
	@mkdir -p $(BINDIR)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(SRCS) $(LDLIBS)
