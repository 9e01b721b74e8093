#!/usr/bin/env bash
# pg_dump.sh: pg_dump and restore, and binary COPY, of a table holding
# perfstore.sketch and perfstore.stats columns give identical values.
#
# Runs against the throwaway cluster (PG* from tests/run.sh; by hand:
# scripts/pgcluster.sh start && eval "$(scripts/pgcluster.sh env)") with the
# pg_dump, pg_restore and psql of $PERFSTORE_PGBIN.  Creates the databases
# perfstore_dump_src, perfstore_dump_plain and perfstore_dump_custom (each
# dropped first if it exists, and dropped again at the end) and a private
# temporary directory for the dumps and the server-side COPY file.
#
# Checks, one test case each: the plain dump restored with psql and the
# custom dump restored with pg_restore give, row by row, the same text forms
# and the same quantile, rank, count, sum, mean, min and max (sketch) and
# count, sum, mean, stddev, min and max (stats) as the source; COPY TO and
# FROM in binary format between two tables does too, and copying the copy
# out again gives an identical file.  The last line of output is
# "N passed, N failed"; the exit status is non-zero on failure.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
. "$ROOT/tests/lib.sh"
PGBIN=${PERFSTORE_PGBIN:-$(pg_config --bindir)}
SRC=perfstore_dump_src
PLAIN=perfstore_dump_plain
CUSTOM=perfstore_dump_custom

TMP=$(mktemp -d /tmp/perfstore_dump.XXXXXX)
# the server (the postgres user) writes the COPY file here
chmod 777 "$TMP"

psql() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

dropdbs() {
	psql -d postgres -c "SET client_min_messages = warning" \
		-c "DROP DATABASE IF EXISTS $SRC" \
		-c "DROP DATABASE IF EXISTS $PLAIN" \
		-c "DROP DATABASE IF EXISTS $CUSTOM" >/dev/null 2>&1
}
cleanup() {
	dropdbs
	rm -rf "$TMP"
}
trap cleanup EXIT

# The text forms, row by row.
TEXT_SQL="SELECT id, label, s::text, t::text, w::text, st::text
	FROM perfstore_dump ORDER BY id"
# What the accessors read from them (shortest exact float8 output).
VALUES_SQL="SET extra_float_digits = 1;
SELECT id,
	perfstore.num_vals(s), perfstore.sum(s), perfstore.mean(s),
	perfstore.min_val(s), perfstore.max_val(s),
	perfstore.quantiles(s, '{0,0.01,0.25,0.5,0.9,0.99,0.999,1}'),
	perfstore.rank(s, 1), perfstore.alpha(s), perfstore.collapsed(s),
	perfstore.num_vals(t), perfstore.sum(t), perfstore.mean(t),
	perfstore.quantiles(t, '{0,0.5,0.99,1}'),
	perfstore.num_vals(w), perfstore.sum(w), perfstore.mean(w),
	perfstore.quantiles(w, '{0,0.5,0.99,1}'), perfstore.collapsed(w),
	perfstore.num_vals(st), perfstore.sum(st), perfstore.mean(st),
	perfstore.stddev(st), perfstore.min_val(st), perfstore.max_val(st)
FROM perfstore_dump ORDER BY id"

# snapshot DB TAG: write DB's text forms and accessor values to files.
snapshot() {
	psql -At -d "$1" -c "$TEXT_SQL" >"$TMP/$2.text" 2>"$TMP/$2.text.err" &&
		psql -At -d "$1" -c "$VALUES_SQL" >"$TMP/$2.values" 2>"$TMP/$2.values.err"
}

# compare TAG WHAT: one test case per file kind, against the source.
compare() {
	local tag=$1 what=$2 kind
	for kind in text values; do
		if [ ! -s "$TMP/$tag.$kind" ]; then
			not_ok "$what: $kind snapshot of the restored table" "$TMP/$tag.$kind.err"
		elif diff "$TMP/src.$kind" "$TMP/$tag.$kind" >"$TMP/$tag.$kind.diff"; then
			if [ "$kind" = text ]; then
				ok "$what: text form identical for all $(wc -l <"$TMP/src.text") rows"
			else
				ok "$what: quantiles, rank, count, sum, mean, min, max, stddev equal"
			fi
		else
			not_ok "$what: $kind differs from the source" "$TMP/$tag.$kind.diff"
		fi
	done
}

# ---- the source table ------------------------------------------------
dropdbs
cat >"$TMP/setup.sql" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION perfstore;
SELECT setseed(0.25);
CREATE TABLE data (g int, v float8);
INSERT INTO data
SELECT 1, exp(1 + 1.5 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
	FROM generate_series(1, 20000)
UNION ALL SELECT 2, random() * 1000 FROM generate_series(1, 5000)
UNION ALL SELECT 3, -1 - random() * 1e6 FROM generate_series(1, 3000)
UNION ALL SELECT 4, CASE WHEN i % 4 = 0 THEN 0 ELSE (random() - 0.5) * 200 END
	FROM generate_series(1, 4000) i
UNION ALL SELECT 5, 0 FROM generate_series(1, 100)
UNION ALL SELECT 6, 42.125 FROM generate_series(1, 1000)
UNION ALL SELECT 7, 0.1
UNION ALL SELECT 8, 1e-9 * (1 + random()) FROM generate_series(1, 1000)
UNION ALL SELECT 9, 1e12 * (1 + random()) FROM generate_series(1, 1000)
UNION ALL SELECT 10, power(10, i / 10.0)::float8 FROM generate_series(-3000, 3000) i
UNION ALL SELECT 11, (CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END) * power(10, i / 10.0)::float8
	FROM generate_series(-3000, 3000) i
UNION ALL SELECT 12, 1e9 + random() FROM generate_series(1, 5000)
UNION ALL SELECT 13, NULL FROM generate_series(1, 10)
UNION ALL SELECT 14, v FROM (VALUES (-1e-300), (1e300), (5e-324), (-5e-324), (0.0)) x(v);

CREATE TABLE perfstore_dump (
	id int PRIMARY KEY,
	label text NOT NULL,
	s perfstore.sketch,
	t perfstore.sketch,
	w perfstore.sketch,
	st perfstore.stats
);
INSERT INTO perfstore_dump
SELECT g, 'group ' || g, perfstore.sketch_agg(v), perfstore.sketch_agg(v, 0.001),
	NULL,
	-- the sum of squared deviations of 1e300 does not fit a float8
	perfstore.stats_agg(v) FILTER (WHERE abs(v) < 1e150)
FROM data GROUP BY g;
-- One plain aggregate per group: under a HashAggregate, collapsing
-- alpha 0.0001 sketches of several groups take about a minute.
UPDATE perfstore_dump d
SET w = (SELECT perfstore.sketch_agg(v, 0.0001) FROM data WHERE data.g = d.id);
-- empty-ish: an empty sketch and an empty stats value, and a row of NULLs
INSERT INTO perfstore_dump VALUES
	(100, 'empty',
	 '{"version":1,"alpha":0.01,"max_buckets":2048,"count":0,"min":null,"max":null,"sum":"0","zero":0,"positive":null,"negative":null}',
	 '{"version":1,"alpha":0.001,"max_buckets":20305,"count":0,"min":null,"max":null,"sum":"0","zero":0,"positive":null,"negative":null}',
	 NULL,
	 '(count:0,sum:0,sumc:0,m2:0,min:0,max:0)'),
	(101, 'nulls', NULL, NULL, NULL, NULL);
-- a merged sketch, as a rollup would store it
INSERT INTO perfstore_dump
SELECT 200, 'merged', perfstore.sketch_agg(s), perfstore.sketch_agg(t), NULL,
	perfstore.stats_agg(st)
FROM perfstore_dump WHERE id BETWEEN 1 AND 9;
DROP TABLE data;
SQL
if psql -d postgres -c "CREATE DATABASE $SRC" &&
	psql -d "$SRC" -f "$TMP/setup.sql" >"$TMP/setup.out" 2>&1 &&
	snapshot "$SRC" src; then
	ok "source table filled ($(wc -l <"$TMP/src.text") rows)"
else
	cat "$TMP/setup.out" "$TMP"/src.*.err 2>/dev/null | sed 's/^/    /'
	not_ok "source table filled"
	finish
fi

# The source must hold what the suite claims to test, or the diffs prove
# nothing: collapsed alpha 0.0001 sketches, negative and zero values, an
# empty sketch and an empty stats value.
cat >"$TMP/sanity.sql" <<'SQL'
SELECT count(*) FILTER (WHERE perfstore.collapsed(w) > 0) >= 2
	AND count(*) FILTER (WHERE perfstore.min_val(s) < 0) >= 3
	AND count(*) FILTER (WHERE perfstore.rank(s, 0) > 0 AND perfstore.min_val(s) < 0) >= 1
	AND count(*) FILTER (WHERE perfstore.num_vals(s) = 0) = 1
	AND count(*) FILTER (WHERE perfstore.num_vals(st) = 0) = 1
	AND count(*) FILTER (WHERE s IS NULL AND st IS NULL) >= 1
	AND count(*) FILTER (WHERE perfstore.alpha(w) = 0.0001) >= 10
FROM perfstore_dump
SQL
check_eq "source holds collapsed alpha 0.0001, negative, zero, empty and NULL values" t \
	"$(psql -At -d "$SRC" -f "$TMP/sanity.sql" 2>&1)"

# ---- plain format, restored with psql --------------------------------
if "$PGBIN/pg_dump" -d "$SRC" -f "$TMP/plain.sql" 2>"$TMP/plain.err" &&
	psql -d postgres -c "CREATE DATABASE $PLAIN" &&
	psql -d "$PLAIN" -f "$TMP/plain.sql" >"$TMP/plain.restore" 2>&1 &&
	snapshot "$PLAIN" plain; then
	ok "plain dump restored with psql"
else
	cat "$TMP/plain.err" "$TMP/plain.restore" 2>/dev/null | tail -n 20 | sed 's/^/    /'
	not_ok "plain dump restored with psql"
fi
compare plain "plain dump"

# ---- custom format, restored with pg_restore -------------------------
if "$PGBIN/pg_dump" -Fc -d "$SRC" -f "$TMP/custom.dump" 2>"$TMP/custom.err" &&
	psql -d postgres -c "CREATE DATABASE $CUSTOM" &&
	"$PGBIN/pg_restore" --exit-on-error -d "$CUSTOM" "$TMP/custom.dump" \
		>"$TMP/custom.restore" 2>&1 &&
	snapshot "$CUSTOM" custom; then
	ok "custom dump restored with pg_restore"
else
	cat "$TMP/custom.err" "$TMP/custom.restore" 2>/dev/null | tail -n 20 | sed 's/^/    /'
	not_ok "custom dump restored with pg_restore"
fi
compare custom "custom dump"

# ---- COPY in binary format between two tables --------------------------
# Through the types' send and receive functions; the copy is copied out
# again and must give the identical file (the binary forms are canonical).
cat >"$TMP/copy.sql" <<SQL
CREATE TABLE perfstore_dump_copy (LIKE perfstore_dump);
COPY perfstore_dump TO '$TMP/copy1.bin' (FORMAT binary);
COPY perfstore_dump_copy FROM '$TMP/copy1.bin' (FORMAT binary);
COPY (SELECT * FROM perfstore_dump_copy ORDER BY id) TO '$TMP/copy2.bin' (FORMAT binary);
COPY (SELECT * FROM perfstore_dump ORDER BY id) TO '$TMP/copy1s.bin' (FORMAT binary);
SELECT count(*) FROM perfstore_dump_copy;
SELECT count(*) FROM perfstore_dump a FULL JOIN perfstore_dump_copy b USING (id)
WHERE a.id IS NULL OR b.id IS NULL
	OR a.label IS DISTINCT FROM b.label
	OR a.s::text IS DISTINCT FROM b.s::text
	OR a.t::text IS DISTINCT FROM b.t::text
	OR a.w::text IS DISTINCT FROM b.w::text
	OR a.st::text IS DISTINCT FROM b.st::text
	OR perfstore.quantile(a.s, 0.99) IS DISTINCT FROM perfstore.quantile(b.s, 0.99)
	OR perfstore.sum(a.s) IS DISTINCT FROM perfstore.sum(b.s)
	OR perfstore.mean(a.st) IS DISTINCT FROM perfstore.mean(b.st);
SQL
rows=$(wc -l <"$TMP/src.text")
if copy_out=$(psql -At -d "$SRC" -f "$TMP/copy.sql" 2>&1) &&
	[ "$copy_out" = "$rows"$'\n'"0" ]; then
	ok "COPY binary TO and FROM: text forms and accessors identical for all $rows rows"
else
	echo "$copy_out" >"$TMP/copy.out"
	not_ok "COPY binary TO and FROM: text forms and accessors identical (expected $rows rows and 0 differences)" "$TMP/copy.out"
fi
if [ -s "$TMP/copy2.bin" ] && cmp -s "$TMP/copy1s.bin" "$TMP/copy2.bin"; then
	ok "COPY binary of the copied table gives an identical file ($(wc -c <"$TMP/copy2.bin") bytes)"
else
	not_ok "COPY binary of the copied table gives an identical file" \
		"$(cmp "$TMP/copy1s.bin" "$TMP/copy2.bin" 2>&1)"
fi

finish
