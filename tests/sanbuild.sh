#!/usr/bin/env bash
# sanbuild.sh: build perfdriver with a sanitizer, for the suites that run it.
#
#   tests/sanbuild.sh thread      ThreadSanitizer     -> tests/bin/thread/perfdriver
#   tests/sanbuild.sh undefined   UBSan, every report fatal -> tests/bin/undefined/perfdriver
#   tests/sanbuild.sh address     ASan + UBSan        -> tests/bin/address/perfdriver
#
# Compiles the driver's sources (driver/*.c and the sketch core: every
# src/sketch*.c but the SQL face) in one compiler call into its own
# directory, so the plain build's objects are left alone.  Rebuilds only when a source or header is newer than the
# binary.  Prints the binary's path on success; exit status 2 when it could
# not be built (the message on stderr).
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
mode=${1:-}
case "$mode" in
	thread) flags=(-O1 -fsanitize=thread) ;;
	undefined) flags=(-O1 -fsanitize=undefined -fno-sanitize-recover=all) ;;
	address) flags=(-O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined) ;;
	*)
		echo "usage: tests/sanbuild.sh thread|undefined|address" >&2
		exit 2
		;;
esac
PGC=${PD_PG_CONFIG:-$(command -v pg_config)}
inc=$("$PGC" --includedir 2>/dev/null || pg_config --includedir)
out="$ROOT/tests/bin/$mode/perfdriver"
mkdir -p "$(dirname "$out")"
srcs=()
for f in "$ROOT"/driver/*.c; do
	case "$(basename "$f")" in unit_*) continue ;; esac
	srcs+=("$f")
done
for f in "$ROOT"/src/sketch*.c; do
	case "$f" in *_sql.c) continue ;; esac
	srcs+=("$f")
done
stale=0
if [ ! -x "$out" ]; then
	stale=1
else
	for f in "${srcs[@]}" "$ROOT"/driver/*.h "$ROOT"/include/*.h "$ROOT"/src/sketch_int.h; do
		if [ "$f" -nt "$out" ]; then
			stale=1
			break
		fi
	done
fi
# the driver's version, as driver/driver.mk passes it to version.c
PD_VERSION=$(sed -n "s/^default_version *= *'\(.*\)'.*/\1/p" "$ROOT/perfstore.control")
if [ "$stale" -eq 1 ]; then
	# -O1 with a sanitizer sees format truncations -O2 does not: not errors here
	if ! ${PD_CC:-gcc} -std=gnu11 -g -fno-omit-frame-pointer -Wall -Wextra -Werror -Wno-format-truncation \
		"${flags[@]}" -I"$ROOT/include" -I"$ROOT/driver" -I"$inc" -pthread \
		-DPD_VERSION="\"$PD_VERSION\"" "${srcs[@]}" -o "$out.tmp" -lpq -lpg_query -ljansson -lpthread -lm -lz; then
		echo "sanbuild: error: could not build perfdriver with -fsanitize=$mode" >&2
		rm -f "$out.tmp"
		exit 2
	fi
	mv "$out.tmp" "$out"
fi
echo "$out"
