#!/usr/bin/env bash
# store_bench.sh: the store against its anchors (docs/store.md),
# in its own database (perfstore_store_bench, kept between runs only when
# its size matches; dropped and rebuilt otherwise).
#
#   1. batch ingest: COPY of (metric, labels, ts, value) rows into
#      perfstore.ingest against the anchor, COPY of the same rows already
#      resolved to (series_id, ts, value) into perfstore.samples; the goal
#      is a ratio of at least 0.7;
#      the same for late rows (two days before the watermark, logged for
#      maintain()), against COPY of those rows resolved, and the late
#      ingest's time against the on-time one's (the logging's overhead);
#   2. record() calls per second with pgbench -c 8 (anchor: pgbench's
#      select-only rate on the same machine), on time and late, with the
#      labels built per call and as a literal; beside them a plain INSERT
#      of a resolved row (what one row per transaction costs) and the
#      call's argument expressions alone; and record() with
#      perfstore.record_async = on (both label forms) against SELECT 1 on
#      a private cluster that preloads perfstore (port
#      BENCH_STORE_ASYNC_PORT, default 54343), with the rows stored checked
#      against the calls made;
#   3. on a store of BENCH_STORE_SAMPLES samples over BENCH_STORE_DAYS days
#      in BENCH_STORE_SERIES series (defaults: 50M, 30, 100), rolled up by
#      maintain(): p95 per hour for one series over all days from the 1-hour
#      rollups against the raw samples (goal: at least 20 times faster), and
#      the dashboard's 5-minute p95 panel for one series over 7 days,
#      repeated 100 times (goal: its p95 under 50 ms).
# It prints what it ran; it never fails on speed.
#   BENCH_STORE_SAMPLES (50000000; 0 runs only 1 and 2), BENCH_STORE_DAYS (30),
#   BENCH_STORE_SERIES (100), BENCH_STORE_INGEST_ROWS (1000000),
#   BENCH_STORE_RECORD_SECONDS (10), BENCH_STORE_PANEL_RUNS (100),
#   BENCH_REPEAT (5)
set -euo pipefail
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BENCH_DB=perfstore_store_bench
. "$ROOT/bench/lib.sh"
PGBIN=${PERFSTORE_PGBIN:-$(pg_config --bindir)}
SAMPLES=${BENCH_STORE_SAMPLES:-50000000}
DAYS=${BENCH_STORE_DAYS:-30}
SERIES=${BENCH_STORE_SERIES:-100}
INGEST_ROWS=${BENCH_STORE_INGEST_ROWS:-1000000}
RECORD_SECONDS=${BENCH_STORE_RECORD_SECONDS:-10}
PANEL_RUNS=${BENCH_STORE_PANEL_RUNS:-100}
REPEAT=${BENCH_REPEAT:-5}

tmp=$(mktemp -d /tmp/perfstore_store_bench.XXXXXX)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
now_ms() { date +%s%3N; }

echo "store: $SAMPLES samples over $DAYS days in $SERIES series; batch ingest of $INGEST_ROWS rows; record() for $RECORD_SECONDS s at -c 8; median of $REPEAT"

# ---- the big store, built once and kept while it matches --------------------
# Kept while its sizes, the columns of the tables it fills and the
# definitions of the views queried match a fresh install (the ingest
# database below is one).
# Built fast: one partition per UTC day, loaded without its index by two
# jobs at a time (INSERT ... SELECT from generate_series straight into the
# partition), indexed and vacuumed, rolled up one day at a time with
# refresh_rollups(), and finished by maintain().
ensure_db() {
	if ! psql -X -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1; then
		psql -X -q -d postgres -c "CREATE DATABASE $1"
	fi
}
defs_sql="SELECT md5(string_agg(c.oid::regclass::text || ':' || coalesce(pg_catalog.pg_get_viewdef(c.oid),
	(SELECT string_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod), ',' ORDER BY a.attnum)
	 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)), E'\\n' ORDER BY 1))
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'perfstore'
	  AND c.relname IN ('series', 'samples', 'rollup_1m', 'rollup_5m', 'rollup_1h', 'rollup_state',
	                    'samples_1m', 'samples_5m', 'samples_1h')"
INGEST_DB=${BENCH_DB}_ingest
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $INGEST_DB" -c "CREATE DATABASE $INGEST_DB"
ipsql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$INGEST_DB" "$@"; }
ipsql -c "SET client_min_messages = warning" -c "CREATE EXTENSION perfstore"
defs=$(ipsql -c "$defs_sql")
per_series=$((SAMPLES / SERIES))
want="$((per_series * SERIES)) $DAYS $SERIES $defs"
have=$(bpsql -c "SELECT samples || ' ' || days || ' ' || series || ' ' || defs FROM public.store_bench_built" 2>/dev/null || true)
if [ "$SAMPLES" -eq 0 ]; then
	echo "  BENCH_STORE_SAMPLES=0: no big store, only ingest and record()"
elif [ "$have" != "$want" ]; then
	echo "  building the store: $((per_series * SERIES)) samples over $DAYS days in $SERIES series..."
	t0=$(now_ms)
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $BENCH_DB"
	ensure_bench_db
	bpsql -c "SET client_min_messages = warning" -c "CREATE EXTENSION perfstore"
	# one metric per series, so that a dashboard panel of one metric shows one series
	bpsql -c "INSERT INTO perfstore.series (metric, labels) SELECT 'store.bench.' || i, jsonb_build_object('host', 'h' || i) FROM generate_series(1, $SERIES) i" >/dev/null
	first=$(bpsql -c "SELECT min(id) FROM perfstore.series WHERE metric LIKE 'store.bench.%'")
	# per series per_series samples evenly spaced over [end - DAYS days, end)
	end_s=$(bpsql -c "SELECT floor(extract(epoch FROM now()))::bigint")
	start_s=$((end_s - DAYS * 86400))
	first_day=$(bpsql -c "SELECT to_char(to_timestamp($start_s) AT TIME ZONE 'UTC', 'YYYY-MM-DD')")
	ndays=$(bpsql -c "SELECT (to_timestamp($end_s) AT TIME ZONE 'UTC')::date - '$first_day'::date + 1")
	bpsql -c "SELECT perfstore.create_partition('$first_day'::date + d) FROM generate_series(0, $ndays - 1) d" >/dev/null
	load_day() { # load_day N: the N-th day from first_day
		local day part
		day=$(bpsql -c "SELECT ('$first_day'::date + $1)::text")
		part=samples_p${day//-/}
		bpsql -c "DROP INDEX perfstore.${part}_series_ts" \
			-c "SELECT setseed(($1 + 1) / 1000.0)" \
			-c "INSERT INTO perfstore.$part (series_id, ts, value)
			SELECT $first + s, to_timestamp($start_s + k * sp), exp(1.5 + 0.8 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
			FROM (SELECT $DAYS * 86400.0 / $per_series AS sp) c,
			     LATERAL generate_series(
			         greatest(0, ceil((extract(epoch FROM '$day'::timestamp AT TIME ZONE 'UTC') - $start_s) / sp)::bigint),
			         least($per_series, ceil((extract(epoch FROM '$day'::timestamp AT TIME ZONE 'UTC') + 86400 - $start_s) / sp)::bigint) - 1) k,
			     generate_series(0, $SERIES - 1) s" \
			-c "CREATE INDEX ${part}_series_ts ON perfstore.$part (series_id, ts)" \
			-c "VACUUM ANALYZE perfstore.$part" >/dev/null
	}
	roll_day() { # roll_day N: the rollups of the N-th day from first_day, up to the cut
		bpsql -c "SELECT perfstore.refresh_rollups(('$first_day'::date + $1)::timestamp AT TIME ZONE 'UTC',
			least(('$first_day'::date + $1 + 1)::timestamp AT TIME ZONE 'UTC', '$cut'::timestamptz))" >/dev/null
	}
	for ((d = 0; d < ndays; d += 2)); do
		load_day "$d" &
		if ((d + 1 < ndays)); then load_day $((d + 1)); fi
		wait
	done
	t1=$(now_ms)
	bpsql -c "ANALYZE perfstore.samples, perfstore.series" >/dev/null
	cut=$(bpsql -c "SELECT date_trunc('minute', now(), 'UTC')")
	for ((d = 0; d < ndays; d += 2)); do
		roll_day "$d" &
		if ((d + 1 < ndays)); then roll_day $((d + 1)); fi
		wait
	done
	bpsql -c "INSERT INTO perfstore.rollup_state (watermark) VALUES ('$cut')" \
		-c "VACUUM ANALYZE perfstore.rollup_1m, perfstore.rollup_5m, perfstore.rollup_1h" \
		-c "SELECT perfstore.maintain()" >/dev/null
	t2=$(now_ms)
	have=$(bpsql -c "SELECT count(*) FROM perfstore.samples")
	if [ "$have" != "$((per_series * SERIES))" ]; then
		echo "store_bench: built $have samples, expected $((per_series * SERIES))" >&2
		exit 1
	fi
	bpsql -c "CREATE TABLE public.store_bench_built (samples bigint, days int, series int, defs text)" \
		-c "INSERT INTO public.store_bench_built VALUES ($((per_series * SERIES)), $DAYS, $SERIES, '$defs')"
	echo "  built in $(((t2 - t0) / 1000)) s (samples loaded and indexed in $(((t1 - t0) / 1000)) s, rolled up in $(((t2 - t1) / 1000)) s)"
else
	echo "  the store of $((per_series * SERIES)) samples exists (built by an earlier run)"
fi

# ---- 1. batch ingest against COPY of resolved rows ---------------------------
# Both files hold the same rows, for the series 'ingest.bench' (separate from
# the big store), one day in the future so they land in a partition.
ipsql -c "SELECT perfstore.set_partitions_ahead(3)" -c "SELECT perfstore.maintain() IS NOT NULL" >/dev/null
ipsql -c "INSERT INTO perfstore.ingest (metric, labels, value)
	SELECT 'ingest.bench', jsonb_build_object('host', 'h' || i), 0 FROM generate_series(1, $SERIES) i" >/dev/null
ipsql -c "COPY (SELECT 'ingest.bench', jsonb_build_object('host', 'h' || (1 + i % $SERIES))::text,
		now() + interval '1 day' + i * interval '1 millisecond', i % 1000 / 10.0
	FROM generate_series(1, $INGEST_ROWS) i) TO STDOUT" >"$tmp/ingest.tsv"
ipsql -c "COPY (SELECT s.id, now() + interval '1 day' + i * interval '1 millisecond', i % 1000 / 10.0
	FROM generate_series(1, $INGEST_ROWS) i
	JOIN perfstore.series s ON s.metric = 'ingest.bench' AND s.labels = jsonb_build_object('host', 'h' || (1 + i % $SERIES))
	) TO STDOUT" >"$tmp/resolved.tsv"
# the late rows: the same, two days before the watermark (their day has a
# partition, as the on-time rows' has)
ipsql -c "SELECT perfstore.create_partition(((now() - interval '2 days') AT TIME ZONE 'UTC')::date)" >/dev/null
ipsql -c "COPY (SELECT 'ingest.bench', jsonb_build_object('host', 'h' || (1 + i % $SERIES))::text,
		now() - interval '2 days' + i * interval '1 millisecond', i % 1000 / 10.0
	FROM generate_series(1, $INGEST_ROWS) i) TO STDOUT" >"$tmp/late.tsv"
ipsql -c "COPY (SELECT s.id, now() - interval '2 days' + i * interval '1 millisecond', i % 1000 / 10.0
	FROM generate_series(1, $INGEST_ROWS) i
	JOIN perfstore.series s ON s.metric = 'ingest.bench' AND s.labels = jsonb_build_object('host', 'h' || (1 + i % $SERIES))
	) TO STDOUT" >"$tmp/late_resolved.tsv"
clear_ingest() {
	ipsql -c "DELETE FROM perfstore.samples WHERE series_id IN (SELECT id FROM perfstore.series WHERE metric = 'ingest.bench') AND (ts > now() + interval '12 hours' OR ts < now() - interval '1 day')" \
		-c "TRUNCATE perfstore.rollup_invalidations"
	ipsql -c "VACUUM perfstore.samples, perfstore.rollup_invalidations" 2>/dev/null || true
}
timed_copy() {	# TARGET FILE RESULT: one \copy, its ms appended to $tmp/RESULT
	local t0 t1
	clear_ingest
	t0=$(now_ms)
	ipsql -c "\\copy $1 FROM '$tmp/$2'"
	t1=$(now_ms)
	echo $((t1 - t0)) >>"$tmp/$3"
}
# the ratio of each round too: the machine's load changes between rounds,
# and the median of the rounds' ratios compares runs that saw the same load
rround() { awk -v a="$(tail -n 1 "$tmp/$1")" -v b="$(tail -n 1 "$tmp/$2")" 'BEGIN {printf "%.4f\n", a / b}' >>"$tmp/$3"; }
for ((r = 1; r <= REPEAT; r++)); do
	timed_copy "perfstore.samples (series_id, ts, value)" resolved.tsv copy_ms
	timed_copy "perfstore.ingest (metric, labels, ts, value)" ingest.tsv ingest_ms
	timed_copy "perfstore.samples (series_id, ts, value)" late_resolved.tsv late_copy_ms
	timed_copy "perfstore.ingest (metric, labels, ts, value)" late.tsv late_ingest_ms
	rround copy_ms ingest_ms ingest_ratio
	rround late_copy_ms late_ingest_ms late_ingest_ratio
done
late_logged=$(ipsql -c "SELECT count(*) FROM perfstore.rollup_invalidations")
clear_ingest
rate() { awk -v n="$INGEST_ROWS" -v t="$1" 'BEGIN {printf "%.0f", n / (t / 1000)}'; }
copy_ms=$(median <"$tmp/copy_ms")
ingest_ms=$(median <"$tmp/ingest_ms")
late_copy_ms=$(median <"$tmp/late_copy_ms")
late_ingest_ms=$(median <"$tmp/late_ingest_ms")
copy_rate=$(rate "$copy_ms")
ingest_rate=$(rate "$ingest_ms")
late_copy_rate=$(rate "$late_copy_ms")
late_ingest_rate=$(rate "$late_ingest_ms")
printf '  COPY resolved rows into samples   %8s ms  %9s rows/s  (anchor)\n' "$copy_ms" "$copy_rate"
printf '  batch ingest (metric, labels)     %8s ms  %9s rows/s  ratio %s, median of rounds %.2f (goal: >= 0.9)\n' \
	"$ingest_ms" "$ingest_rate" "$(ratio "$ingest_rate" "$copy_rate")" "$(median <"$tmp/ingest_ratio")"
printf '  late rows, COPY resolved          %8s ms  %9s rows/s  (anchor)\n' "$late_copy_ms" "$late_copy_rate"
printf '  late rows, batch ingest           %8s ms  %9s rows/s  ratio %s, median of rounds %.2f; %s log rows; time %s x the on-time ingest\n' \
	"$late_ingest_ms" "$late_ingest_rate" "$(ratio "$late_ingest_rate" "$late_copy_rate")" "$(median <"$tmp/late_ingest_ratio")" \
	"$late_logged" "$(ratio "$late_ingest_ms" "$ingest_ms")"

# ---- 2. record() calls per second at -c 8 ----------------------------------
# record: the labels built per call, as before; record_literal: the labels a
# literal, as a client that has them sends them; insert: a plain INSERT of a
# resolved row into samples as the owner, what one row in its own
# transaction costs at all; args: the record call's argument expressions
# alone, without the call (how fast the first script could ever run).
cat >"$tmp/record.sql" <<SQL
\\set h random(1, $SERIES)
\\set v random(1, 100000)
SELECT perfstore.record('record.bench', :v / 100.0, jsonb_build_object('host', 'h' || :h));
SQL
cat >"$tmp/record_literal.sql" <<SQL
\\set h random(1, $SERIES)
\\set v random(1, 100000)
SELECT perfstore.record('record.bench', :v, '{"host": "h:h"}');
SQL
bench_sid=$(ipsql -c "SELECT min(id) FROM perfstore.series WHERE metric = 'ingest.bench'")
cat >"$tmp/insert.sql" <<SQL
\\set v random(1, 100000)
INSERT INTO perfstore.samples (series_id, ts, value) VALUES ($bench_sid, now(), :v);
SQL
cat >"$tmp/args.sql" <<SQL
\\set h random(1, $SERIES)
\\set v random(1, 100000)
SELECT :v / 100.0, jsonb_build_object('host', 'h' || :h);
SQL
cat >"$tmp/select.sql" <<'SQL'
SELECT 1;
SQL
cat >"$tmp/record_late.sql" <<SQL
\\set h random(1, $SERIES)
\\set v random(1, 100000)
SELECT perfstore.record('record.bench', :v / 100.0, jsonb_build_object('host', 'h' || :h), now() - interval '2 days');
SQL
tps() { sed -nE 's/^tps = ([0-9.]+) .*/\1/p' "$1" | head -n 1; }
# alternated, BENCH_REPEAT times each: the machine's load changes while it runs
scripts="record record_literal insert args select record_late"
for f in $scripts; do : >"$tmp/${f}_tps"; done
for ((r = 1; r <= REPEAT; r++)); do
	for f in $scripts; do
		"$PGBIN/pgbench" -n -c 8 -j 2 -T "$RECORD_SECONDS" -f "$tmp/$f.sql" "$INGEST_DB" >"$tmp/$f.out" 2>&1
		tps "$tmp/$f.out" >>"$tmp/${f}_tps"
	done
	for f in record record_literal insert args; do rround "${f}_tps" select_tps "${f}_ratio"; done
done
for f in $scripts; do
	eval "${f}_tps=\$(median <\"\$tmp/${f}_tps\")"
done
printf '  SELECT 1 at -c 8                  %9.0f /s        (anchor)\n' "$select_tps"
printf '  record() at -c 8                  %9.0f calls/s   ratio %s, median of rounds %.2f (synchronous, the default; the goal of 0.5 is on the asynchronous lines below)\n' \
	"$record_tps" "$(ratio "$record_tps" "$select_tps")" "$(median <"$tmp/record_ratio")"
printf '  record(), labels a literal        %9.0f calls/s   ratio %s, median of rounds %.2f\n' \
	"$record_literal_tps" "$(ratio "$record_literal_tps" "$select_tps")" "$(median <"$tmp/record_literal_ratio")"
printf '  INSERT of a resolved row          %9.0f /s        ratio %s, median of rounds %.2f (one row per transaction)\n' \
	"$insert_tps" "$(ratio "$insert_tps" "$select_tps")" "$(median <"$tmp/insert_ratio")"
printf '  record()'"'"'s arguments, no call     %9.0f /s        ratio %s, median of rounds %.2f (the first line'"'"'s bound)\n' \
	"$args_tps" "$(ratio "$args_tps" "$select_tps")" "$(median <"$tmp/args_ratio")"
printf '  record() late, at -c 8            %9.0f calls/s   (%s x on-time record())\n' \
	"$record_late_tps" "$(ratio "$record_late_tps" "$record_tps")"

# record() with perfstore.record_async = on needs the library preloaded, which
# the shared cluster does not do: a private cluster (its settings as the
# shared one's, plus perfstore in shared_preload_libraries, the worker in
# its database postgres) measures it against SELECT 1 on itself, in the same
# rounds, and then checks that the rows stored equal the calls pgbench made.
async_port=${BENCH_STORE_ASYNC_PORT:-54343}
async_dir="$tmp/async"
as_server() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}
async_started=0
async_stop() {
	if [ "$async_started" -eq 1 ]; then
		as_server "$PGBIN/pg_ctl" -D "$async_dir/data" -m fast -w stop >/dev/null 2>&1 || true
		async_started=0
	fi
}
trap 'async_stop; rm -rf "$tmp"' EXIT
async_skip=""
mkdir "$async_dir"
chmod 755 "$async_dir"
if [ "$(id -u)" -eq 0 ]; then
	chown postgres: "$async_dir"
fi
if ! as_server "$PGBIN/initdb" -D "$async_dir/data" -U postgres -E UTF8 --locale=C --auth-local=trust \
	>"$async_dir/initdb.log" 2>&1; then
	async_skip="initdb failed: $(tail -n 1 "$async_dir/initdb.log")"
else
	as_server tee -a "$async_dir/data/postgresql.conf" >/dev/null <<CONF
listen_addresses = ''
unix_socket_directories = '$async_dir'
port = $async_port
max_connections = 50
shared_buffers = 512MB
fsync = off
full_page_writes = off
max_wal_size = 4GB
shared_preload_libraries = 'pg_stat_statements, perfstore'
perfstore.maintenance_interval = 60
perfstore.maintenance_database = 'postgres'
CONF
	if as_server "$PGBIN/pg_ctl" -D "$async_dir/data" -l "$async_dir/server.log" -w -t 60 start >/dev/null 2>&1; then
		async_started=1
	else
		async_skip="the private cluster with perfstore preloaded did not start on port $async_port: $(tail -n 1 "$async_dir/server.log" 2>/dev/null)"
	fi
fi
apsql() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$async_dir" -p "$async_port" -U postgres -d postgres "$@"; }
if [ -z "$async_skip" ]; then
	for i in $(seq 1 60); do
		[ "$(apsql -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'perfstore maintenance worker'" 2>/dev/null)" = 1 ] && break
		sleep 0.5
	done
	if ! apsql -c "SET client_min_messages = warning" -c "CREATE EXTENSION perfstore" \
		-c "SELECT perfstore.maintain() IS NOT NULL" >/dev/null 2>"$async_dir/ext.err"; then
		async_skip="CREATE EXTENSION failed on the private cluster: $(head -n 1 "$async_dir/ext.err")"
	elif [ "$(apsql -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'perfstore maintenance worker'")" != 1 ]; then
		async_skip="the maintenance worker did not start on the private cluster"
	fi
fi
if [ -n "$async_skip" ]; then
	echo "  record() with perfstore.record_async = on: skipped ($async_skip)"
else
	: >"$tmp/async_select_tps"
	: >"$tmp/async_literal_tps"
	: >"$tmp/async_record_tps"
	async_calls=0
	for ((r = 1; r <= REPEAT; r++)); do
		"$PGBIN/pgbench" -n -c 8 -j 2 -T "$RECORD_SECONDS" -h "$async_dir" -p "$async_port" -U postgres \
			-f "$tmp/select.sql" postgres >"$tmp/async_select.out" 2>&1
		tps "$tmp/async_select.out" >>"$tmp/async_select_tps"
		for f in record_literal record; do
			PGOPTIONS="-c perfstore.record_async=on" "$PGBIN/pgbench" -n -c 8 -j 2 -T "$RECORD_SECONDS" \
				-h "$async_dir" -p "$async_port" -U postgres -f "$tmp/$f.sql" postgres >"$tmp/async_$f.out" 2>&1
			tps "$tmp/async_$f.out" >>"$tmp/async_${f#record_}_tps"
			n=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$tmp/async_$f.out")
			async_calls=$((async_calls + ${n:-0}))
		done
		rround async_literal_tps async_select_tps async_literal_ratio
		rround async_record_tps async_select_tps async_record_ratio
	done
	# the last flush: at most perfstore.record_flush_interval (100 ms) away
	sleep 1
	async_rows=$(apsql -c "SELECT count(*) FROM perfstore.samples x JOIN perfstore.series s ON s.id = x.series_id
		WHERE s.metric = 'record.bench'")
	async_select=$(median <"$tmp/async_select_tps")
	async_literal=$(median <"$tmp/async_literal_tps")
	async_record=$(median <"$tmp/async_record_tps")
	printf '  private preloaded cluster: SELECT 1 %9.0f /s        (anchor of the two lines below)\n' "$async_select"
	printf '  record() async, labels a literal  %9.0f calls/s   ratio %s, median of rounds %.2f (goal: >= 0.5)\n' \
		"$async_literal" "$(ratio "$async_literal" "$async_select")" "$(median <"$tmp/async_literal_ratio")"
	printf '  record() async, labels per call   %9.0f calls/s   ratio %s, median of rounds %.2f\n' \
		"$async_record" "$(ratio "$async_record" "$async_select")" "$(median <"$tmp/async_record_ratio")"
	if [ "$async_rows" = "$async_calls" ]; then
		printf '  record() async: %s calls, %s rows stored: nothing lost\n' "$async_calls" "$async_rows"
	else
		printf '  record() async: %s calls but %s rows stored: MISMATCH\n' "$async_calls" "$async_rows"
	fi
fi
async_stop

# ---- 3. rollups against raw on the big store (built first, above) ----------
if [ "$SAMPLES" -eq 0 ]; then
	exit 0
fi
sid=$(bpsql -c "SELECT id FROM perfstore.series WHERE metric = 'store.bench.1'")
raw_q="SELECT date_trunc('hour', ts, 'UTC') AS hour, perfstore.approx_percentile(value, 0.95)
	FROM perfstore.samples WHERE series_id = $sid AND ts >= now() - interval '$DAYS days' GROUP BY 1"
roll_q="SELECT bucket, perfstore.quantile(sketch, 0.95) FROM perfstore.samples_1h
	WHERE series_id = $sid AND bucket >= now() - interval '$DAYS days'"
: >"$tmp/raw"
: >"$tmp/roll"
# serial plans and no JIT on both sides: JIT compilation would only add to
# the raw side's time
settings="SET max_parallel_workers_per_gather = 0; SET jit = off"
exec_ms "$settings" "$raw_q" >/dev/null
exec_ms "$settings" "$roll_q" >/dev/null
for ((r = 1; r <= REPEAT; r++)); do
	exec_ms "$settings" "$raw_q" >>"$tmp/raw"
	exec_ms "$settings" "$roll_q" >>"$tmp/roll"
done
raw_ms=$(median <"$tmp/raw")
roll_ms=$(median <"$tmp/roll")
printf '  p95 per hour, 1 series, %s days: raw %s ms, rollups (samples_1h) %s ms, speed-up %s (goal: >= 20)\n' \
	"$DAYS" "$raw_ms" "$roll_ms" "$(ratio "$raw_ms" "$roll_ms")"

# the dashboard's 5-minute p95 panel (grafana/dashboards/perfstore-latency.json,
# its SQL as the dashboard holds it, macros expanded as Grafana's data source
# does for the last 7 days, $metric a metric of one series), PANEL_RUNS times
from=$(date -u -d '7 days ago' +%Y-%m-%dT%H:%M:%SZ)
to=$(date -u +%Y-%m-%dT%H:%M:%SZ)
perl -MJSON::PP -e '
	my ($file, $from, $to, $metric) = @ARGV;
	local $/;
	open my $fh, "<", $file or die "cannot open $file: $!\n";
	my $d = JSON::PP->new->decode(<$fh>);
	my ($sql) = map { $_->{targets}[0]{rawSql} } grep { $_->{title} =~ /per 5 minutes/ } @{ $d->{panels} };
	die "no 5-minute panel in $file\n" unless defined $sql;
	$sql =~ s/\$metric\b/$metric/g;
	$sql =~ s/\$label\b/\x27*\x27/g;	# the label filter at All
	$sql =~ s/\$__timeFilter\(([^()]*)\)/$1 BETWEEN \x27$from\x27 AND \x27$to\x27/g;
	$sql =~ s/\$__time\(([^()]*)\)/$1 AS "time"/g;
	$sql =~ s/\$__timeGroupAlias\(([^(),]*),\s*\x275m\x27\)/floor(extract(epoch from $1)\/300)*300 AS "time"/g;
	die "unexpanded macro in: $sql\n" if $sql =~ /\$\w/;
	print "$sql;\n";
' "$ROOT/grafana/dashboards/perfstore-latency.json" "$from" "$to" store.bench.1 >"$tmp/panel.sql"
mkdir "$tmp/panel_log"
(cd "$tmp/panel_log" && "$PGBIN/pgbench" -n -c 1 -t "$PANEL_RUNS" -l --log-prefix=panel -f "$tmp/panel.sql" "$BENCH_DB" >"$tmp/panel.out" 2>&1)
# the per-transaction log: client, transaction, latency in microseconds, ...
p95_panel=$(cat "$tmp"/panel_log/panel.* 2>/dev/null | awk '{print $3 / 1000}' | sort -g |
	awk '{a[NR] = $1} END {if (NR == 0) print "nan"; else print a[int(NR * 0.95 + 0.999999)]}')
printf '  dashboard 5-minute p95 panel, 1 series, 7 days: p95 %s ms over %s runs (goal: < 50 ms)\n' \
	"$p95_panel" "$PANEL_RUNS"
