#!/usr/bin/env bash
# sketch_core: unit tests of the shared sketch core, no server needed.
# Built with AddressSanitizer and UBSan so a decoder bug fails loudly.
set -euo pipefail
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
mkdir -p "$ROOT/tests/bin"
gcc -std=gnu11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-Wall -Wextra -Werror -DSKETCH_CHECK_INVARIANTS -I"$ROOT/include" \
	"$ROOT/src/sketch.c" "$ROOT/tests/core/sketch_core_test.c" -lm -pthread \
	-o "$ROOT/tests/bin/sketch_core_test"
"$ROOT/tests/bin/sketch_core_test"
