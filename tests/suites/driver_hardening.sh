#!/usr/bin/env bash
# driver_hardening.sh: perfdriver on hostile input, against the throwaway
# cluster.
#
#   1. expressions that used to overflow the stack (50,000 nested
#      parentheses, 100,000 unary minus signs, abs( nested 20,000 deep) are
#      refused as script errors (exit 2, "nested too deeply"); a flat sum of
#      20,000 terms runs and sends 20000.  Run with the plain driver and with
#      the ASan/UBSan build (tests/sanbuild.sh address).
#   2. COPY FROM STDIN / TO STDOUT in a script is refused at parse time in
#      every protocol (exit 2, the line named); a COPY built at run time
#      from a variable (-M simple) ends cleanly: no spinning (every run has
#      a timeout), COPY FROM STDIN fails with SQLSTATE 57014, COPY TO STDOUT
#      completes, and the client goes on.
#   3. out-of-range -R, -T, -P and -t are refused at option parsing, and
#      \set x 1.0/0, pow(10,400), sqrt(-1) fail with PostgreSQL's errors
#      and never send inf or nan: with the UBSan build (every report fatal).
#   4. --json to a path that cannot be written is refused before connecting;
#      with the server stopped during a -T run the duration is the deadline,
#      not the deadline plus the reconnect grace (the cluster is stopped and
#      started again here).
# Needs PGHOST and friends (tests/run.sh).  The last line is
# "N passed, N failed"; the exit status is non-zero on failure.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 2
. "$ROOT/tests/lib.sh"
PD="$ROOT/driver/perfdriver"
TMP=$(mktemp -d /tmp/pd_hardening.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

psqlv() {
	psql -X -A -t -q "$@"
}
jget() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
# expect NAME WANT_RC PATTERN CMD...: CMD exits WANT_RC within 60 s and its
# output (stdout and stderr, in $TMP/out) matches the extended regex PATTERN
expect() {
	local name=$1 want=$2 pat=$3
	shift 3
	timeout 60 "$@" >"$TMP/out" 2>&1
	local rc=$?
	if [ "$rc" -eq "$want" ] && grep -qE -- "$pat" "$TMP/out" &&
		! grep -q 'runtime error\|Sanitizer' "$TMP/out"; then
		ok "$name"
	else
		not_ok "$name" "exit $rc (want $want), pattern: $pat" "$(cut -c1-200 "$TMP/out" | tail -n 8)"
	fi
}
# rep TEXT N: TEXT N times
rep() {
	local i
	for ((i = 0; i < $2; i++)); do printf '%s' "$1"; done
}

if [ ! -x "$PD" ]; then
	not_ok "perfdriver is built" "missing $PD: run make"
	finish
fi
ASAN_PD=$(tests/sanbuild.sh address 2>"$TMP/asan.log")
[ -n "$ASAN_PD" ] || not_ok "perfdriver builds with ASan and UBSan" "$(cat "$TMP/asan.log")"
UBSAN_PD=$(tests/sanbuild.sh undefined 2>"$TMP/ubsan.log")
[ -n "$UBSAN_PD" ] || not_ok "perfdriver builds with UBSan" "$(cat "$TMP/ubsan.log")"

db=pd_hardening
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
"$PD" init -q -s 1 -d "$db" >/dev/null 2>&1
psqlv -d "$db" -c "create table hard_vals (name text, v numeric); create table hard_copy (a int);
	insert into hard_copy values (1), (2), (3)"

# --- 1. deep expressions: a script error, not a crash ----------------------
{ printf '\\set x '; rep '(' 50000; printf 1; rep ')' 50000; printf '\nSELECT :x;\n'; } >"$TMP/parens.sql"
{ printf '\\set x '; rep '-' 100000; printf '1\nSELECT :x;\n'; } >"$TMP/minus.sql"
{ printf 'SELECT 1;\n\\set x '; rep 'abs(' 20000; printf -- '-1'; rep ')' 20000; printf '\nSELECT :x;\n'; } >"$TMP/abs.sql"
{ printf '\\set x '; rep '1 + ' 19999; printf "1\nINSERT INTO hard_vals VALUES ('sum', :x);\n"; } >"$TMP/sum.sql"
for build in plain asan; do
	bin=$PD
	if [ "$build" = asan ]; then
		[ -n "$ASAN_PD" ] || continue
		bin=$ASAN_PD
	fi
	expect "$build: 50,000 nested parentheses are a script error naming the line" 2 \
		"error: .*parens.sql:1: expression is nested too deeply \(maximum depth is 1000\) at column 1002" \
		"$bin" run -d "$db" -f "$TMP/parens.sql" -t 1
	expect "$build: 100,000 unary minus signs are a script error" 2 \
		"minus.sql:1: expression is nested too deeply" "$bin" run -d "$db" -f "$TMP/minus.sql" -t 1
	expect "$build: abs( nested 20,000 deep is a script error naming line 2" 2 \
		"abs.sql:2: expression is nested too deeply \(maximum depth is 1000\) at column 4002" \
		"$bin" run -d "$db" -f "$TMP/abs.sql" -t 1
	psqlv -d "$db" -c "delete from hard_vals"
	expect "$build: a flat sum of 20,000 terms runs" 0 "transactions: *2 committed, 0 failed" \
		"$bin" run -d "$db" -f "$TMP/sum.sql" -t 2
	got=$(psqlv -d "$db" -c "select string_agg(v::text, ',') from hard_vals where name = 'sum'")
	if [ "$got" = "20000,20000" ]; then
		ok "$build: the flat sum sent 20000 twice"
	else
		not_ok "$build: the flat sum sent 20000 twice" "got: $got"
	fi
done

# --- 2. COPY ---------------------------------------------------------------
printf 'SELECT 1;\n\ncopy hard_copy from stdin;\n' >"$TMP/copy_in.sql"
printf 'SELECT 1;\nCOPY (SELECT a FROM hard_copy) TO STDOUT WITH (FORMAT csv);\n' >"$TMP/copy_out.sql"
for m in simple extended prepared; do
	expect "COPY FROM STDIN refused at parse time (-M $m)" 2 \
		"error: .*copy_in.sql:3: COPY FROM STDIN and COPY TO STDOUT are not supported in scripts" \
		"$PD" run -d "$db" -M "$m" -f "$TMP/copy_in.sql" -t 1
	expect "COPY TO STDOUT refused at parse time (-M $m)" 2 \
		"error: .*copy_out.sql:2: COPY FROM STDIN and COPY TO STDOUT are not supported in scripts" \
		"$PD" run -d "$db" -M "$m" -f "$TMP/copy_out.sql" -t 1
done
# a server-side COPY is an ordinary statement and is not refused
printf "COPY hard_copy TO '/dev/null';\n" >"$TMP/copy_server.sql"
expect "a server-side COPY TO a file runs" 0 "transactions: *2 committed, 0 failed" \
	"$PD" run -d "$db" -f "$TMP/copy_server.sql" -t 2
# built at run time: the statement text comes from a variable (-M simple)
cat >"$TMP/copy_rt.sql" <<'SQL'
SELECT 'COPY hard_copy TO STDOUT' AS q_out, 'COPY hard_copy FROM STDIN' AS q_in \gset
:q_out;
\if :client_id = 0
:q_in;
\endif
INSERT INTO hard_vals VALUES ('after_copy', 1);
SQL
psqlv -d "$db" -c "delete from hard_vals"
expect "a COPY built at run time ends: FROM STDIN fails with 57014, TO STDOUT completes" 1 \
	"COPY from stdin failed: COPY FROM STDIN is not supported in scripts \(SQLSTATE 57014\)" \
	"$PD" run -d "$db" -M simple -c 2 -f "$TMP/copy_rt.sql" -t 3 --json "$TMP/copy.json"
res=$(jget "$TMP/copy.json" '(j["transactions"], j["failed_transactions"], sorted(j["errors"].items()))' 2>&1)
after=$(psqlv -d "$db" -c "select count(*) from hard_vals where name = 'after_copy'")
rows=$(psqlv -d "$db" -c "select count(*) from hard_copy")
if [ "$res" = "(3, 3, [('57014', 3)])" ] && [ "$after" = "3" ] && [ "$rows" = "3" ]; then
	ok "COPY at run time: client 0 failed 3 times, client 1 committed 3, no rows copied in"
else
	not_ok "COPY at run time: client 0 failed 3 times, client 1 committed 3, no rows copied in" \
		"report: $res; inserts after COPY: $after; hard_copy rows: $rows"
fi

# --- 3. overflows: options and doubles, under UBSan -------------------------
if [ -n "$UBSAN_PD" ]; then
	expect "-R 1e-12 is refused" 2 'error: invalid rate: "1e-12"' "$UBSAN_PD" run -d "$db" -R 1e-12 -T 2
	expect "-R 0 is refused" 2 'error: invalid rate: "0"' "$UBSAN_PD" run -d "$db" -R 0 -T 2
	expect "a huge -T is refused" 2 'error: invalid duration: "1e15"' "$UBSAN_PD" run -d "$db" -T 1e15
	expect "-T beyond pgbench's range is refused" 2 \
		'hint: Use a number of seconds greater than 0 and at most 2147483647' \
		"$UBSAN_PD" run -d "$db" -T 2147483648
	expect "a huge -P is refused" 2 'error: invalid progress interval: "1e300"' \
		"$UBSAN_PD" run -d "$db" -P 1e300 -T 1
	expect "-t beyond int64 is refused" 2 'error: invalid number of transactions: "9223372036854775808"' \
		"$UBSAN_PD" run -d "$db" -t 9223372036854775808
	expect "-R 0.001, the lowest rate, runs" 0 "transactions: *[0-9]+ committed, 0 failed" \
		"$UBSAN_PD" run -d "$db" -b select-only -R 0.001 -T 1
	expect "-T 2147483647, the longest duration, passes option parsing" 2 "error: could not connect" \
		"$UBSAN_PD" run -d "host=/nonexistent port=1" -T 2147483647
	for e in "1.0/0|division by zero" "pow(10,400)|value out of range: overflow" \
		"sqrt(-1)|cannot take square root of a negative number" "ln(0)|cannot take logarithm of zero" \
		"exp(1000)|value out of range: overflow" "1e308 * 10|value out of range: overflow"; do
		expr=${e%%|*}
		msg=${e#*|}
		printf '\\set x %s\nINSERT INTO hard_vals VALUES (%s, :x);\n' "$expr" "'nonfinite'" >"$TMP/nf.sql"
		expect "\\set x $expr fails with \"$msg\"" 1 "nf.sql:1: $msg" "$UBSAN_PD" run -d "$db" -f "$TMP/nf.sql" -t 2
	done
	got=$(psqlv -d "$db" -c "select count(*) from hard_vals where name = 'nonfinite'")
	if [ "$got" = "0" ]; then ok "no inf or nan reached the server"; else not_ok "no inf or nan reached the server" "$got rows"; fi
fi

# --- 4. --json checked before the run; the window with the server down ----
expect "--json into a missing directory is refused before connecting" 2 \
	'error: cannot write the JSON report to "/nonexistent/dir/r.json": No such file or directory' \
	"$PD" run -d "host=/nonexistent port=1" --json /nonexistent/dir/r.json -t 1
expect "--json under a regular file is refused" 2 'error: cannot write the JSON report to ".*": Not a directory' \
	"$PD" run -d "$db" --json /etc/passwd/r.json -t 1
expect "--json to a directory is refused" 2 'error: cannot write the JSON report to ".*": it is a directory' \
	"$PD" run -d "$db" --json "$TMP" -t 1
if [ "$(id -u)" -ne 0 ]; then
	mkdir "$TMP/ro" && chmod 555 "$TMP/ro"
	expect "--json into a read-only directory is refused" 2 'Permission denied' \
		"$PD" run -d "$db" --json "$TMP/ro/r.json" -t 1
fi
"$PD" run -d "$db" -b select-only -c 2 -j 2 -T 4 --json "$TMP/down.json" >"$TMP/down.out" 2>&1 &
pid=$!
sleep 1.5
scripts/pgcluster.sh stop >/dev/null 2>&1
wait $pid
rc=$?
scripts/pgcluster.sh start >/dev/null 2>&1
dur=$(jget "$TMP/down.json" 'j["duration_s"]' 2>/dev/null)
if [ "$rc" -eq 1 ] && awk -v d="$dur" 'BEGIN { exit !(d >= 3.95 && d < 4.5) }'; then
	ok "server stopped during -T 4: the duration is the measured window ($dur s)"
else
	not_ok "server stopped during -T 4: the duration is the measured window" "exit $rc, duration_s $dur" \
		"$(tail -n 5 "$TMP/down.out")"
fi
dropdb --if-exists "$db" >/dev/null 2>&1

finish
