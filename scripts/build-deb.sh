#!/usr/bin/env bash
# build-deb.sh: build the Debian packages postgresql-<v>-perfstore and
# perfdriver (debian/) from a copy of the source tree in a temporary
# directory, so the checkout is left as it was; copy the .deb files to OUTDIR
# and run lintian on them.
#
# Owns: how "make deb" builds.  The copy holds the files git knows of
# (tracked, and new files not ignored) when the tree is a git checkout, else
# the whole tree cleaned of build products.  Must not: write into the
# checkout except OUTDIR.
#
# Usage: scripts/build-deb.sh [OUTDIR]       (default dist/)
# Environment: DEB_BUILD_OPTIONS is passed on ("nocheck" and "noddebs" are
# added); PERFSTORE_LINTIAN=0 skips lintian.
# Exit status: 0 built (and lintian found no errors), 1 otherwise.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/dist}
# relative to where it was called from
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)

for tool in dpkg-buildpackage dh pg_buildext; do
	if ! command -v "$tool" >/dev/null; then
		echo "build-deb: $tool is missing (packages dpkg-dev, debhelper, postgresql-server-dev-all)" >&2
		exit 1
	fi
done

tmp=$(mktemp -d /tmp/perfstore-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
version=$(sed -n '1s/.*(\(.*\)-[^-]*).*/\1/p' "$ROOT/debian/changelog")
src="$tmp/perfstore-$version"
mkdir -p "$src"

if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			[ -e "$f" ] && printf '%s\0' "$f"
		done | tar --null -T - -cf -) | tar -C "$src" -xf -
else
	tar -C "$ROOT" --exclude=./.perfstore --exclude=./dist -cf - . | tar -C "$src" -xf -
	make -s -C "$src" clean >/dev/null 2>&1 || true
fi

cd "$src"
export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }nocheck noddebs parallel=$(nproc)"
# the copy is clean: no "debian/rules clean" first
if ! dpkg-buildpackage -b -us -uc --no-pre-clean >"$tmp/build.log" 2>&1; then
	tail -n 60 "$tmp/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed (log above)" >&2
	exit 1
fi

debs=("$tmp"/*.deb)
cp "${debs[@]}" "$OUT/"
for d in "${debs[@]}"; do
	echo "build-deb: $OUT/$(basename "$d")"
done

if [ "${PERFSTORE_LINTIAN:-1}" != 0 ] && command -v lintian >/dev/null; then
	if ! lintian --fail-on error "$tmp"/*.changes; then
		echo "build-deb: lintian found errors" >&2
		exit 1
	fi
fi
