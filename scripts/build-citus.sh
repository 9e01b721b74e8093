#!/usr/bin/env bash
# build-citus.sh: build Citus from its vendored source archive and install
# it into a PostgreSQL (docs/scale-out.md).  CI runs it from .ci/run when
# ../shared/vendor/ exists; tests/suites/citus.sh skips without Citus.
#
# Owns: the Citus build (configure flags, the Debian packages it links
# against).  Must not: download anything but Debian packages, or install
# into another PostgreSQL than $PG_CONFIG's.
#
# Usage: scripts/build-citus.sh VENDOR_DIR
#   VENDOR_DIR holds citus-*.tar.gz (one version; the newest is taken).
#   PG_CONFIG picks the PostgreSQL (default: Debian's PostgreSQL 15).
# Exits non-zero, with the reason, when the archive is missing or the build
# fails.
set -euo pipefail
vendor=${1:?usage: scripts/build-citus.sh VENDOR_DIR}
archive=$(ls "$vendor"/citus-*.tar.gz 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$archive" ]; then
	echo "build-citus: error: no citus-*.tar.gz in $vendor" >&2
	exit 2
fi
# PostgreSQL's development files first: pg_config comes with them
"$(dirname "$0")/install-deps.sh"
PG_CONFIG=${PG_CONFIG:-$(command -v /usr/lib/postgresql/15/bin/pg_config || command -v pg_config)}
libdir=$("$PG_CONFIG" --pkglibdir)
version=$(basename "$archive" .tar.gz)
version=${version#citus-}
if [ -f "$libdir/citus.so" ] &&
	grep -q "default_version = '${version%.*}" "$("$PG_CONFIG" --sharedir)/extension/citus.control" 2>/dev/null; then
	echo "build-citus: Citus $version is installed in $libdir already"
	exit 0
fi

work=$(mktemp -d /tmp/citus-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
tar -xzf "$archive" -C "$work"
cd "$work"/citus-*
echo "build-citus: building Citus $version for $("$PG_CONFIG" --version) into $libdir"
if ! { ./configure --without-libcurl PG_CONFIG="$PG_CONFIG" >"$work/configure.log" 2>&1 &&
	make -j"$(nproc)" >"$work/make.log" 2>&1 &&
	make install >"$work/install.log" 2>&1; }; then
	tail -n 40 "$work"/*.log >&2
	echo "build-citus: error: building Citus $version failed (the logs' ends above)" >&2
	exit 1
fi
echo "build-citus: Citus $version installed"
