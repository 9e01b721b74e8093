#!/usr/bin/env bash
# install-deps.sh: install the Debian packages perfstore needs to build,
# test and benchmark, but only those that are missing.
#
# Owns: the list of system dependencies.  Must not: download anything from
# outside the distribution's package archive.
#
# Usage: scripts/install-deps.sh [--bench]
#   --bench also installs the benchmark anchors that tests do not need.
set -euo pipefail

pkgs=(
	postgresql-15
	postgresql-server-dev-15
	postgresql-contrib
	libpq-dev
	libpg-query-dev
	libjansson-dev
	postgresql-15-tdigest
	postgresql-15-hypopg
	make
	gcc
	clang
	libclang-rt-14-dev
	zlib1g-dev
	linux-perf
	libxml2-utils
	# the Debian packages (make deb, tests/suites/zz_packages.sh) and the
	# man page checks (tests/suites/driver_help.sh)
	dpkg-dev
	debhelper
	postgresql-server-dev-all
	lintian
	man-db
	groff-base
	bsdextrautils
	# the HTML reports opened in headless Chromium (tests/suites/report_html.sh)
	chromium
	python3
	# building Citus from ../shared/vendor/ (scripts/build-citus.sh): the
	# libraries it links against, and the GSSAPI headers that PostgreSQL's
	# server headers include
	liblz4-dev
	libzstd-dev
	libkrb5-dev
)
if [ "${1:-}" = "--bench" ]; then
	pkgs+=(pgbadger sysbench)
fi

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The server's own cluster is not wanted: tests run a throwaway one.
$SUDO mkdir -p /etc/postgresql-common
if [ ! -f /etc/postgresql-common/createcluster.conf ] || \
   ! grep -q '^create_main_cluster *= *false' /etc/postgresql-common/createcluster.conf; then
	echo 'create_main_cluster = false' | $SUDO tee -a /etc/postgresql-common/createcluster.conf >/dev/null
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
