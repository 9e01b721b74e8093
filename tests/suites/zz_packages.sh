#!/usr/bin/env bash
# zz_packages.sh: the ways perfstore is installed: make install, the Debian
# packages and PGXN.  Named to run last: it is the slowest suite, and the
# only one that touches the system's PostgreSQL tree.
#
# Checks, without a server:
#   - META.json against the PGXN Meta Spec 1.0.0: its required fields and
#     their forms, prereqs and resources; one version in perfstore.control,
#     META.json and debian/changelog; the license stated in LICENSE,
#     META.json and debian/copyright; debian/control generated from
#     debian/control.in;
#   - make install / make uninstall with DESTDIR: the extension, perfdriver
#     in PostgreSQL's bindir and its man page in PostgreSQL's mandir, and
#     nothing left behind.
# Then, when dpkg-buildpackage is installed ("skip" with the reason when not):
#   - "make deb" (scripts/build-deb.sh) builds postgresql-15-perfstore and
#     perfdriver from a copy, the checkout unchanged; their fields
#     (dependencies, recommends), their files (every perfstore--*.sql of the
#     tree), lintian without errors;
#   - as root (or with password-less sudo), and when neither package is
#     installed already: apt-get install ./...deb, CREATE EXTENSION perfstore
#     on a throwaway cluster of the system's PostgreSQL 15
#     (/usr/lib/postgresql/15/bin, socket only, in a temporary directory),
#     the upgrade path from 0.1.0, a short run of the installed
#     /usr/bin/perfdriver stored with --store, then dpkg --purge.  Files of
#     an earlier "make install" into the system tree (not owned by a package)
#     are moved aside for the test and put back; the suite checks that the
#     system's perfstore files are the same before and after.  A lock
#     (/run/lock/perfstore-packages.lock) keeps two checkouts from
#     installing at once.
# Prints how long it took.  The last line is "N passed, N failed"; the exit
# status is non-zero on failure.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 2
. "$ROOT/tests/lib.sh"
SECONDS=0
SYS_PGBIN=/usr/lib/postgresql/15/bin
PORT=${PACKAGES_PORT:-54398}

CHECK_TIMES=1				# ok and not_ok show the seconds so far
skip=0
skip() {
	echo "skip - $1"
	skip=$((skip + 1))
}
TMP=$(mktemp -d /tmp/perfstore_packages.XXXXXX)
chmod 755 "$TMP"
installed=0
started=0
lintian_pid=
BACKUP="$TMP/stale"
SUDO=
restore_stale() {
	[ -f "$BACKUP.list" ] || return 0
	while IFS= read -r f; do
		[ -e "$BACKUP$f" ] || continue
		$SUDO mkdir -p "$(dirname "$f")"
		$SUDO mv "$BACKUP$f" "$f"
	done <"$BACKUP.list"
	rm -f "$BACKUP.list"
}
cleanup() {
	if [ -n "$lintian_pid" ]; then
		kill "$lintian_pid" 2>/dev/null
		wait "$lintian_pid" 2>/dev/null
	fi
	if [ "$started" -eq 1 ]; then
		as_postgres "$SYS_PGBIN/pg_ctl" -D "$TMP/cluster/data" -m immediate -w stop >/dev/null 2>&1
	fi
	if [ "$installed" -eq 1 ]; then
		$SUDO dpkg --purge perfdriver postgresql-15-perfstore >/dev/null 2>&1
	fi
	restore_stale
	$SUDO rm -rf "$TMP"
}
trap cleanup EXIT
# the server runs as postgres
as_postgres() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		sudo -n -u postgres -- "$@"
	fi
}
lintian_result() {
	[ -n "$lintian_pid" ] || return 0
	wait "$lintian_pid"
	rc=$?
	lintian_pid=
	if [ "$rc" -eq 0 ] && ! grep -q '^E:' "$TMP/lintian.out"; then
		ok "lintian: no errors ($(grep -c '^W:' "$TMP/lintian.out") warnings)"
	else
		not_ok "lintian finds no errors" "$(grep '^E:' "$TMP/lintian.out")"
	fi
}
packages_finish() {
	lintian_result
	# CPU time of this shell's children (user + system), "XmY.Zs" each
	times >"$TMP/times"
	cpu=$(tail -n 1 "$TMP/times" | awk '{ for (i = 1; i <= 2; i++) { split($i, t, "m"); s += t[1] * 60 + t[2] } } END { printf "%.0f", s }')
	echo "zz_packages: ${SECONDS}s${build_s:+ (the package build ${build_s}s)}, ${cpu}s of CPU, $skip skipped"
	finish
}

control=$(sed -n "s/^default_version *= *'\(.*\)'.*/\1/p" perfstore.control)

# ---- META.json against the PGXN Meta Spec 1.0.0 -------------------------
out=$(python3 - "$control" <<'PY' 2>&1
import json, os, re, sys

control = sys.argv[1]
semver = re.compile(r'^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)'
                    r'(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$')
licenses = {'agpl_3', 'apache_1_1', 'apache_2_0', 'artistic_1', 'artistic_2',
            'bsd', 'freebsd', 'gfdl_1_2', 'gfdl_1_3', 'gpl_1', 'gpl_2', 'gpl_3',
            'lgpl_2_1', 'lgpl_3_0', 'mit', 'mozilla_1_0', 'mozilla_1_1',
            'openssl', 'perl_5', 'postgresql', 'qpl_1_0', 'ssleay', 'sun',
            'zlib', 'open_source', 'restricted', 'unrestricted', 'unknown'}
problems = []

def need(cond, what):
    if not cond:
        problems.append(what)

def term(v):
    return isinstance(v, str) and len(v) >= 2 and not re.search(r'[\s/\\:]|[\x00-\x1f]', v)

def version_range(v):
    # 0, a version, or operators with versions ("> 1.0.0, < 2.0.0")
    if v == 0 or v == '0':
        return True
    if not isinstance(v, str):
        return False
    return all(re.match(r'^(==|!=|>=|<=|>|<)?\s*\d+\.\d+\.\d+', p.strip())
               for p in v.split(','))

m = json.load(open('META.json'))
for f in ('name', 'abstract', 'version', 'maintainer', 'license', 'provides', 'meta-spec'):
    need(f in m, 'required field %s is missing' % f)
need(term(m.get('name')), 'name is not a term: %r' % m.get('name'))
need(isinstance(m.get('abstract'), str) and m.get('abstract', '').strip() != '', 'abstract is empty')
need(isinstance(m.get('version'), str) and semver.match(m['version']), 'version is not SemVer')
mt = m.get('maintainer')
need((isinstance(mt, str) and mt) or (isinstance(mt, list) and mt and all(isinstance(x, str) and x for x in mt)),
     'maintainer is not a string or a list of strings')
lic = m.get('license')
need((isinstance(lic, str) and lic in licenses) or
     (isinstance(lic, list) and lic and all(x in licenses for x in lic)) or
     (isinstance(lic, dict) and lic), 'license %r is not one of the spec\'s' % (lic,))
spec = m.get('meta-spec', {})
need(isinstance(spec, dict) and spec.get('version') == '1.0.0', 'meta-spec.version is not 1.0.0')
prov = m.get('provides', {})
need(isinstance(prov, dict) and prov, 'provides is empty')
for ext, p in (prov.items() if isinstance(prov, dict) else []):
    need(term(ext), 'provides key %r is not a term' % ext)
    need(isinstance(p.get('file'), str) and os.path.isfile(p['file']), 'provides.%s.file is not a file of the tree' % ext)
    need(isinstance(p.get('version'), str) and semver.match(p['version']), 'provides.%s.version is not SemVer' % ext)
    if 'docfile' in p:
        need(os.path.isfile(p['docfile']), 'provides.%s.docfile is not a file of the tree' % ext)
need('perfstore' in prov, 'provides has no perfstore')
for phase, rels in m.get('prereqs', {}).items():
    need(phase in ('configure', 'build', 'test', 'runtime', 'develop'), 'prereqs phase %r unknown' % phase)
    for rel, deps in rels.items():
        need(rel in ('requires', 'recommends', 'suggests', 'conflicts'), 'prereqs relation %r unknown' % rel)
        for dep, v in deps.items():
            need(version_range(v), 'prereqs %s.%s.%s: bad version %r' % (phase, rel, dep, v))
need('prereqs' in m and 'PostgreSQL' in m['prereqs'].get('runtime', {}).get('requires', {}),
     'prereqs.runtime.requires has no PostgreSQL')
res = m.get('resources', {})
need(isinstance(res, dict) and res, 'resources is empty')
for k, v in res.items():
    need(k in ('homepage', 'bugtracker', 'repository') or k.lower().startswith('x_'), 'resources.%s unknown' % k)
    if k == 'bugtracker':
        need(isinstance(v, dict) and set(v) <= {'web', 'mailto'} and v, 'resources.bugtracker needs web or mailto')
    if k == 'repository':
        need(isinstance(v, dict) and set(v) <= {'url', 'web', 'type'} and v, 'resources.repository: url, web, type')
need(m.get('version') == control, 'version %s is not perfstore.control\'s %s' % (m.get('version'), control))
need(prov.get('perfstore', {}).get('version') == control,
     'provides.perfstore.version is not perfstore.control\'s %s' % control)
need(lic == 'postgresql', 'license is not postgresql')
if problems:
    print('\n'.join(problems))
    sys.exit(1)
print('%s %s' % (m['name'], m['version']))
PY
)
if [ $? -eq 0 ]; then
	ok "META.json has the PGXN Meta Spec's required fields in their forms, valid prereqs and resources: $out"
else
	not_ok "META.json follows the PGXN Meta Spec" "$out"
fi

deb_version=$(sed -n '1s/^perfstore (\(.*\)) .*/\1/p' debian/changelog)
if [ "${deb_version%-*}" = "$control" ] && grep -q "\"version\": \"$control\"" META.json; then
	ok "one version: perfstore.control's $control is META.json's and debian/changelog's ($deb_version)"
else
	not_ok "one version in perfstore.control ($control), META.json and debian/changelog ($deb_version)"
fi
if [ "$(head -n 1 LICENSE)" = "PostgreSQL License" ] &&
	awk '/^Files: \*/ { f = 1 } f && /^License: PostgreSQL$/ { found = 1 } END { exit !found }' debian/copyright &&
	grep -q '^License: PostgreSQL$' debian/copyright && grep -q '"license": "postgresql"' META.json; then
	ok "the PostgreSQL License in LICENSE, debian/copyright and META.json"
else
	not_ok "the PostgreSQL License in LICENSE, debian/copyright and META.json"
fi
if command -v pg_buildext >/dev/null; then
	mkdir -p "$TMP/ctl" && cp -r debian "$TMP/ctl/"
	out=$(cd "$TMP/ctl" && pg_buildext checkcontrol 2>&1)
	if [ $? -eq 0 ]; then
		ok "debian/control is generated from debian/control.in (pg_buildext checkcontrol)"
	else
		not_ok "debian/control is up to date: run pg_buildext updatecontrol" "$out"
	fi
else
	skip "debian/control against debian/control.in: pg_buildext is missing (postgresql-server-dev-all)"
fi

# ---- make install / uninstall with DESTDIR ------------------------------
PGC=${PG_CONFIG:-$(command -v pg_config)}
DEST="$TMP/dest"
bindir=$("$PGC" --bindir)
mandir=$("$PGC" --mandir)
sharedir=$("$PGC" --sharedir)
pkglibdir=$("$PGC" --pkglibdir)
out=$(make --no-print-directory -s install PG_CONFIG="$PGC" DESTDIR="$DEST" 2>&1)
rc=$?
missing=""
for f in "$bindir/perfdriver" "$mandir/man1/perfdriver.1" "$pkglibdir/perfstore.so" \
	"$sharedir/extension/perfstore.control" $(printf "$sharedir/extension/%s " perfstore--*.sql); do
	[ -f "$DEST$f" ] || missing="$missing $f"
done
if [ "$rc" -eq 0 ] && [ -z "$missing" ] && [ -x "$DEST$bindir/perfdriver" ] &&
	[ "$("$DEST$bindir/perfdriver" --version | head -n 1)" = "perfdriver $control" ]; then
	ok "make install DESTDIR=...: perfdriver in $bindir, its man page in $mandir/man1, the extension and its $(ls perfstore--*.sql | wc -l) scripts"
else
	not_ok "make install DESTDIR=... installs the extension, perfdriver and its man page (exit $rc, missing:$missing)" "$out"
fi
out=$(make --no-print-directory -s uninstall PG_CONFIG="$PGC" DESTDIR="$DEST" 2>&1)
rc=$?
left=$(find "$DEST" -type f 2>/dev/null)
if [ "$rc" -eq 0 ] && [ -z "$left" ]; then
	ok "make uninstall DESTDIR=...: perfdriver, its man page and the extension removed, no file left"
else
	not_ok "make uninstall DESTDIR=... leaves nothing (exit $rc)" "$out
$left"
fi

# ---- the Debian packages -----------------------------------------------
if ! command -v dpkg-buildpackage >/dev/null; then
	skip "the Debian packages: dpkg-buildpackage is missing (dpkg-dev; scripts/install-deps.sh installs it)"
	packages_finish
fi
status_before=$(git status --porcelain 2>/dev/null)
t0=$SECONDS
out=$(PERFSTORE_LINTIAN=0 scripts/build-deb.sh "$TMP/debs" 2>&1)
rc=$?
build_s=$((SECONDS - t0))
ext_deb=$(ls "$TMP"/debs/postgresql-15-perfstore_*.deb 2>/dev/null)
drv_deb=$(ls "$TMP"/debs/perfdriver_*.deb 2>/dev/null)
if [ "$rc" -eq 0 ] && [ -n "$ext_deb" ] && [ -n "$drv_deb" ] &&
	[ "$(dpkg-deb -f "$ext_deb" Version)" = "$deb_version" ] &&
	[ "$(dpkg-deb -f "$drv_deb" Version)" = "$deb_version" ]; then
	ok "make deb's script builds postgresql-15-perfstore and perfdriver $deb_version in ${build_s}s"
else
	not_ok "make deb builds postgresql-15-perfstore and perfdriver $deb_version (exit $rc)" "$out"
	packages_finish
fi
if [ "$(git status --porcelain 2>/dev/null)" = "$status_before" ]; then
	ok "the package build leaves the checkout as it was (git status unchanged)"
else
	not_ok "the package build leaves the checkout as it was" "$(git status --porcelain)"
fi

# fields: dependencies
fields() { dpkg-deb -f "$1" "$2" | tr ',' '\n' | sed 's/^ *//; s/ .*//'; }
if fields "$drv_deb" Depends | grep -qx libpq5 && fields "$drv_deb" Depends | grep -qx 'libpg-query[0-9.]*' &&
	fields "$drv_deb" Recommends | grep -qx linux-perf; then
	ok "perfdriver depends on $(dpkg-deb -f "$drv_deb" Depends) and recommends linux-perf"
else
	not_ok "perfdriver depends on libpq5 and libpg-query, recommends linux-perf" "$(dpkg-deb -f "$drv_deb" Depends Recommends)"
fi
if fields "$ext_deb" Depends | grep -qx postgresql-15 &&
	fields "$ext_deb" Recommends | grep -qx postgresql-15-hypopg &&
	fields "$ext_deb" Recommends | grep -qx linux-perf; then
	ok "postgresql-15-perfstore depends on postgresql-15, recommends postgresql-15-hypopg and linux-perf"
else
	not_ok "postgresql-15-perfstore: depends postgresql-15, recommends hypopg and linux-perf" "$(dpkg-deb -f "$ext_deb" Depends Recommends)"
fi
# files
dpkg-deb -c "$ext_deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$TMP/ext.files"
dpkg-deb -c "$drv_deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$TMP/drv.files"
want=$( (echo /usr/lib/postgresql/15/lib/perfstore.so /usr/share/postgresql/15/extension/perfstore.control
	printf '/usr/share/postgresql/15/extension/%s\n' perfstore--*.sql) | tr ' ' '\n' | sort)
got=$(grep -E '/lib/perfstore\.so$|/extension/perfstore' "$TMP/ext.files" | sort)
if [ "$want" = "$got" ] && ! grep -q perfdriver "$TMP/ext.files"; then
	ok "postgresql-15-perfstore holds perfstore.so, the control file and all $(ls perfstore--*.sql | wc -l) perfstore--*.sql scripts, no driver"
else
	not_ok "postgresql-15-perfstore holds the .so, control and every script" "$(diff <(echo "$want") <(echo "$got"))"
fi
if grep -qx /usr/bin/perfdriver "$TMP/drv.files" && grep -qx /usr/share/man/man1/perfdriver.1.gz "$TMP/drv.files" &&
	! grep -q '/postgresql/' "$TMP/drv.files"; then
	ok "perfdriver holds /usr/bin/perfdriver and /usr/share/man/man1/perfdriver.1.gz"
else
	not_ok "perfdriver holds the driver and its man page" "$(cat "$TMP/drv.files")"
fi
# lintian runs beside the installation below; its verdict is read at the end
if command -v lintian >/dev/null; then
	lintian --fail-on error "$ext_deb" "$drv_deb" >"$TMP/lintian.out" 2>&1 &
	lintian_pid=$!
else
	skip "lintian is missing"
fi

# ---- installed into the system -----------------------------------------
if [ "$(id -u)" -ne 0 ]; then
	if sudo -n true 2>/dev/null; then
		SUDO=sudo
	else
		skip "installing the packages: needs root or password-less sudo"
		packages_finish
	fi
fi
if [ ! -x "$SYS_PGBIN/initdb" ]; then
	skip "installing the packages: the system's PostgreSQL 15 ($SYS_PGBIN) is missing"
	packages_finish
fi
exec 9>/run/lock/perfstore-packages.lock 2>/dev/null || exec 9>/tmp/perfstore-packages.lock
flock -w 300 9 || { not_ok "the package lock (another checkout installs them)"; packages_finish; }
for p in perfdriver postgresql-15-perfstore; do
	if dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		skip "installing the packages: $p is installed already, not touched"
		packages_finish
	fi
done

# the system's perfstore files now, and those no package owns moved aside
sys_files() {
	{
		find /usr/lib/postgresql/15/lib /usr/lib/postgresql/15/bin /usr/share/postgresql/15/extension \
			/usr/share/postgresql/15/man/man1 /usr/bin /usr/share/man/man1 -maxdepth 1 \
			\( -name 'perfstore*' -o -name 'perfdriver*' \) \! -type d
		find /usr/lib/postgresql/15/lib/bitcode -path '*/bitcode/perfstore*' \! -type d
	} 2>/dev/null | sort
}
sys_files | xargs -r md5sum >"$TMP/sys.before"
: >"$TMP/stale.tmp"
for f in $(sys_files); do
	dpkg -S "$f" >/dev/null 2>&1 || echo "$f" >>"$TMP/stale.tmp"
done
if [ -s "$TMP/stale.tmp" ]; then
	# the list first, so that an interrupted run still puts back what it moved
	mv "$TMP/stale.tmp" "$BACKUP.list"
	while IFS= read -r f; do
		$SUDO mkdir -p "$BACKUP$(dirname "$f")"
		$SUDO mv "$f" "$BACKUP$f"
	done <"$BACKUP.list"
	echo "# moved aside for the test, put back after it: $(wc -l <"$BACKUP.list") files of an earlier make install into the system tree"
fi

out=$(cd "$TMP/debs" && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	-o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-unsafe-io "./$(basename "$ext_deb")" "./$(basename "$drv_deb")" 2>&1)
rc=$?
installed=1
if [ "$rc" -eq 0 ] && [ "$(dpkg-query -W -f '${Status}\n' perfdriver postgresql-15-perfstore 2>/dev/null | grep -c 'ok installed')" -eq 2 ]; then
	ok "apt-get install ./postgresql-15-perfstore_...deb ./perfdriver_...deb"
else
	not_ok "apt-get install the two packages (exit $rc)" "$out"
	packages_finish
fi
if [ "$(command -v perfdriver)" = /usr/bin/perfdriver ] &&
	[ "$(perfdriver --version | head -n 1)" = "perfdriver $control" ] &&
	[ "$(man -w perfdriver 2>/dev/null)" = /usr/share/man/man1/perfdriver.1.gz ]; then
	ok "perfdriver on the PATH (/usr/bin), version $control, man perfdriver finds its page"
else
	not_ok "the installed perfdriver on the PATH with its man page" "$(command -v perfdriver; perfdriver --version; man -w perfdriver)"
fi

# a throwaway cluster of the system's PostgreSQL 15
CL="$TMP/cluster"
# the directory is the socket's: others may enter it
mkdir -p "$CL" && chmod 755 "$CL" && $SUDO chown postgres: "$CL"
if as_postgres "$SYS_PGBIN/initdb" -D "$CL/data" -U postgres -E UTF8 --locale=C \
	--auth-local=trust --no-sync >"$TMP/initdb.log" 2>&1; then
	as_postgres tee -a "$CL/data/postgresql.conf" >/dev/null <<CONF
listen_addresses = ''
unix_socket_directories = '$CL'
port = $PORT
shared_buffers = 32MB
fsync = off
CONF
	as_postgres "$SYS_PGBIN/pg_ctl" -D "$CL/data" -l "$CL/server.log" -w -t 60 start \
		>/dev/null 2>&1 && started=1
fi
if [ "$started" -ne 1 ]; then
	not_ok "a throwaway cluster of $SYS_PGBIN starts" "$(cat "$TMP/initdb.log" "$CL/server.log" 2>/dev/null)"
	packages_finish
fi
q() { "$SYS_PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$CL" -p "$PORT" -U postgres "$@"; }
q -d postgres -c "CREATE DATABASE pkg" -c "CREATE DATABASE pkg_upgrade"
out=$(q -d pkg -c "SET client_min_messages = warning" -c "CREATE EXTENSION perfstore" \
	-c "SELECT extversion FROM pg_extension WHERE extname = 'perfstore'" \
	-c "SELECT perfstore.quantile(perfstore.sketch_agg(x::float8), 1) FROM generate_series(1, 1000) x" 2>&1)
if [ "$out" = "$control
1000" ]; then
	ok "CREATE EXTENSION perfstore from the package: version $control, a sketch's max exact"
else
	not_ok "CREATE EXTENSION perfstore from the package gives version $control" "$out"
fi
out=$(q -d pkg_upgrade -c "SET client_min_messages = warning" -c "CREATE EXTENSION perfstore VERSION '0.1.0'" \
	-c "ALTER EXTENSION perfstore UPDATE" \
	-c "SELECT extversion FROM pg_extension WHERE extname = 'perfstore'" 2>&1)
if [ "$out" = "$control" ]; then
	ok "the packaged scripts upgrade perfstore 0.1.0 to $control"
else
	not_ok "the packaged scripts upgrade 0.1.0 to $control" "$out"
fi

# a short run of the installed driver, stored in the installed extension
echo 'SELECT 1;' >"$TMP/one.sql"
conn="host=$CL port=$PORT user=postgres dbname=pkg"
out=$(/usr/bin/perfdriver run -d "$conn" -f "$TMP/one.sql" -c 2 -t 50 --json "$TMP/run.json" \
	--store "$conn" --name packaged 2>&1)
rc=$?
tx=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["transactions"])' "$TMP/run.json" 2>/dev/null)
stored=$(q -d pkg -c "SELECT count(*) || ' ' || sum(transactions) FROM perfstore.bench_runs WHERE name = 'packaged'" 2>&1)
if [ "$rc" -eq 0 ] && [ "$tx" = 100 ] && [ "$stored" = "1 100" ]; then
	ok "/usr/bin/perfdriver run: 2 clients x 50 transactions, the run stored with --store"
else
	not_ok "the installed perfdriver runs and stores (exit $rc, transactions $tx, stored $stored)" "$out"
fi
as_postgres "$SYS_PGBIN/pg_ctl" -D "$CL/data" -m fast -w stop >/dev/null 2>&1
started=0

# removed again, the system as before
out=$($SUDO dpkg --force-unsafe-io --purge perfdriver postgresql-15-perfstore 2>&1)
rc=$?
left=$(sys_files)
if [ "$rc" -eq 0 ] && [ -z "$left" ] &&
	! dpkg-query -W -f '${Status}\n' perfdriver postgresql-15-perfstore 2>/dev/null | grep -q 'ok installed'; then
	installed=0
	ok "dpkg --purge removes both packages and every file they installed"
else
	not_ok "dpkg --purge removes both packages and their files (exit $rc)" "$out
$left"
fi
restore_stale
sys_files | xargs -r md5sum >"$TMP/sys.after"
if cmp -s "$TMP/sys.before" "$TMP/sys.after"; then
	ok "the system's perfstore files are as before the test ($(wc -l <"$TMP/sys.before") files)"
else
	not_ok "the system's perfstore files are as before the test" "$(diff "$TMP/sys.before" "$TMP/sys.after")"
fi
packages_finish
