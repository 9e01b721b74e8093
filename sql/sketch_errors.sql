--
-- sketch_errors: bad values, bad parameters and malformed encodings raise
-- an ERROR with a fitting SQLSTATE, and the server stays up
-- (docs/sketch.md)
--
-- pg_regress may have created the extension already (--load-extension)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS perfstore;
RESET client_min_messages;
SET extra_float_digits = 0;
SET search_path = perfstore, public;

-- run a statement; its SQLSTATE, message and detail, or 'ok'
CREATE FUNCTION pg_temp.err(stmt text) RETURNS text LANGUAGE plpgsql
AS $$
DECLARE
	state text;
	msg text;
	detail text;
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL;
	RETURN state || ': ' || msg || coalesce(' / ' || nullif(detail, ''), '');
END
$$;
-- the same for bytes fed to the binary receive function (COPY BINARY of a
-- bytea column writes the bytes as they are; reading them back into a
-- sketch column calls sketch_recv on them)
CREATE TEMP TABLE e_recv (s sketch);
CREATE FUNCTION pg_temp.recv(b bytea) RETURNS text LANGUAGE plpgsql
AS $$
BEGIN
	EXECUTE format('COPY (SELECT %L::bytea) TO %L (FORMAT binary)', b,
				   current_setting('data_directory') || '/perfstore_sketch_errors.bin');
	TRUNCATE e_recv;
	RETURN pg_temp.err(format('COPY e_recv FROM %L (FORMAT binary)',
				   current_setting('data_directory') || '/perfstore_sketch_errors.bin'));
END
$$;

-- valid encodings to start from: 1, 2, 3 (packed, 48 bytes) and -1, 0, 2
-- (text)
SELECT sketch_agg(x::float8)::bytea AS b123 FROM generate_series(1, 3) x \gset
SELECT sketch_agg(x::float8)::text AS t FROM (VALUES (-1), (0), (2)) v(x) \gset
SELECT :'b123'::bytea AS b123, :'t' AS t;
-- the receive path works on a valid sketch
SELECT pg_temp.recv(:'b123');
SELECT s::bytea = :'b123'::bytea AS recv_same FROM e_recv;


-- NaN and infinities are rejected, never stored (22023)
SELECT sketch_agg(x) FROM (VALUES (1::float8), ('NaN')) v(x);
SELECT sketch_agg(x) FROM (VALUES (1::float8), ('Infinity')) v(x);
SELECT sketch_agg(x) FROM (VALUES ('-Infinity'::float8), (1)) v(x);
SELECT sketch_agg(x, 0.001) FROM (VALUES (1::float8), ('NaN')) v(x);
SELECT approx_percentile(x, 0.5) FROM (VALUES (1::float8), ('Infinity')) v(x);
SELECT approx_percentiles(x, '{0.5}') FROM (VALUES (1::float8), ('-Infinity')) v(x);
SELECT sketch_add(NULL, 'NaN'::float8);

-- alpha out of range (22023); the limits themselves are allowed
SELECT sketch_agg(1.0::float8, 0);
SELECT sketch_agg(1.0::float8, 0.2);
SELECT sketch_agg(1.0::float8, -1);
SELECT sketch_agg(1.0::float8, 'NaN');
SELECT sketch_agg(1.0::float8, 'Infinity');
SELECT sketch_agg(1.0::float8, 0.00009999);
SELECT sketch_agg(1.0::float8, 0.10000001);
SELECT alpha(sketch_agg(1.0::float8, 0.0001)) AS low_limit, alpha(sketch_agg(1.0::float8, 0.1)) AS high_limit;
-- a NULL alpha (22004)
SELECT sketch_agg(1.0::float8, NULL);

-- q outside [0, 1] or NaN (22003)
SELECT quantile(sketch_agg(1.0::float8), -0.1);
SELECT quantile(sketch_agg(1.0::float8), 1.1);
SELECT quantile(sketch_agg(1.0::float8), 'NaN');
SELECT quantile(sketch_agg(1.0::float8), 'Infinity');
SELECT quantiles(sketch_agg(1.0::float8), '{0.5, 1.5}');
SELECT quantiles(sketch_agg(1.0::float8), '{-1}');
SELECT quantiles(sketch_agg(1.0::float8), '{NaN}');
SELECT approx_percentile(x::float8, 1.5) FROM generate_series(1, 3) x;
SELECT approx_percentile(x::float8, -0.5) FROM generate_series(1, 3) x;
SELECT approx_percentile(x::float8, 'NaN') FROM generate_series(1, 3) x;
SELECT approx_percentiles(x::float8, '{0.5, 2}') FROM generate_series(1, 3) x;
SELECT approx_percentiles(x::float8, '{NaN}') FROM generate_series(1, 3) x;
SELECT approx_percentiles(x::float8, '{-0.01, 0.5}') FROM generate_series(1, 3) x;
-- q is checked on every row, not only the first
SELECT approx_percentile(x::float8, CASE WHEN x < 3 THEN 0.5 ELSE 2 END) FROM generate_series(1, 3) x;
SELECT approx_percentiles(x::float8, CASE WHEN x < 3 THEN '{0.5}' ELSE '{2}' END::float8[])
FROM generate_series(1, 3) x;
-- a fraction that changes within a group is caught even when the groups'
-- rows interleave and the new array is the one another group verified last
SET enable_sort = off;
SELECT g, approx_percentiles(x, q)
FROM (VALUES (1, 1.0::float8, '{0.5}'::float8[]), (1, 2, '{0.5}'), (2, 3, '{0.9}'),
			 (2, 4, '{0.9}'), (1, 5, '{0.9}')) v(g, x, q) GROUP BY g;
SELECT g, approx_percentile(x, q)
FROM (VALUES (1, 1.0::float8, 0.5::float8), (1, 2, 0.5), (2, 3, 0.9),
			 (2, 4, 0.9), (1, 5, 0.9)) v(g, x, q) GROUP BY g;
-- the same arrays, group by group, are fine
SELECT g, approx_percentiles(x, q)
FROM (VALUES (1, 1.0::float8, '{0.5}'::float8[]), (1, 2, '{0.5}'), (2, 3, '{0.9}'),
			 (2, 4, '{0.9}'), (1, 5, '{0.5}')) v(g, x, q) GROUP BY g ORDER BY g;
RESET enable_sort;
-- and so is alpha
SELECT sketch_agg(x::float8, CASE WHEN x < 3 THEN 0.01 ELSE 0.5 END) FROM generate_series(1, 3) x;
-- NULL q (22004); a NULL q to the strict reader gives NULL
SELECT approx_percentile(x::float8, NULL) FROM generate_series(1, 3) x;
SELECT approx_percentiles(x::float8, NULL) FROM generate_series(1, 3) x;
SELECT approx_percentiles(x::float8, '{0.5, NULL}') FROM generate_series(1, 3) x;
SELECT quantiles(sketch_agg(1.0::float8), '{0.5, NULL}');
SELECT quantile(sketch_agg(1.0::float8), NULL) IS NULL AS strict_null;
-- other bad quantile lists: empty, too many, two-dimensional
SELECT approx_percentiles(x::float8, '{}') FROM generate_series(1, 3) x;
SELECT approx_percentiles(x::float8, array_fill(0.5::float8, ARRAY[256])) FROM generate_series(1, 3) x;
SELECT approx_percentiles(x::float8, '{{0.5}}') FROM generate_series(1, 3) x;
SELECT array_length(approx_percentiles(x::float8, array_fill(0.5::float8, ARRAY[255])), 1)
FROM generate_series(1, 3) x;
-- rank of NaN (22023)
SELECT rank(sketch_agg(1.0::float8), 'NaN');

-- merging sketches of different alpha (22023), as an aggregate and directly
SELECT sketch_agg(s) FROM (SELECT sketch_agg(1.0::float8, 0.01) AS s
                           UNION ALL SELECT sketch_agg(2.0::float8, 0.001)) y;
SELECT sketch_combine(sketch_agg(1.0::float8, 0.01), sketch_agg(2.0::float8, 0.02));
-- same alpha but a different bucket budget (22023)
SELECT sketch_combine(sketch_agg(1.0::float8), replace(sketch_agg(1.0::float8)::text,
       '"max_buckets":2048', '"max_buckets":1000')::sketch);


-- the same cases with their messages
SELECT c AS "case", pg_temp.err(stmt) AS result
FROM (VALUES
  ('NaN value', 'SELECT sketch_agg(x) FROM (VALUES (1::float8), (''NaN'')) v(x)'),
  ('alpha 0', 'SELECT sketch_agg(1.0::float8, 0)'),
  ('alpha NULL', 'SELECT sketch_agg(1.0::float8, NULL)'),
  ('q 1.1', 'SELECT quantile(sketch_agg(1.0::float8), 1.1)'),
  ('q NULL', 'SELECT approx_percentile(1.0::float8, NULL)'),
  ('alpha mismatch', 'SELECT sketch_combine(sketch_agg(1.0::float8, 0.01), sketch_agg(2.0::float8, 0.02))')
) v(c, stmt);

-- malformed text (22P02).  t is the sketch of -1, 0 and 2:
--   {"version":1,"alpha":0.01,"max_buckets":2048,"count":3,"min":-1,"max":2,
--    "sum":"40000p-18","zero":1,"positive":{"collapsed":0,"lo":35,"counts":[1]},
--    "negative":{"collapsed":0,"lo":0,"counts":[1]}}
SELECT :'t'::sketch::text = :'t' AS t_valid;
SELECT c AS "case", pg_temp.err(format('SELECT %L::perfstore.sketch', txt)) AS result
FROM (VALUES
  ('empty', ''),
  ('truncated', left(:'t', 60)),
  ('truncated by one', left(:'t', -1)),
  ('not json', 'hello'),
  ('wrong version 2', replace(:'t', '"version":1', '"version":2')),
  ('wrong version 0', replace(:'t', '"version":1', '"version":0')),
  ('huge version', replace(:'t', '"version":1', '"version":99999999999999999999999')),
  ('count too high', replace(:'t', '"count":3', '"count":4')),
  ('count too low', replace(:'t', '"count":3', '"count":2')),
  ('count zero with buckets', replace(:'t', '"count":3', '"count":0')),
  ('zero count wrong', replace(:'t', '"zero":1', '"zero":2')),
  ('bucket count wrong', replace(:'t', '"lo":35,"counts":[1]', '"lo":35,"counts":[2]')),
  ('bucket count zero', replace(:'t', '"lo":35,"counts":[1]', '"lo":35,"counts":[0]')),
  ('negative count', replace(:'t', '"lo":35,"counts":[1]', '"lo":35,"counts":[-1]')),
  ('fractional count', replace(:'t', '"lo":35,"counts":[1]', '"lo":35,"counts":[1.5]')),
  ('edge bucket empty', replace(:'t', '"lo":35,"counts":[1]', '"lo":35,"counts":[1,0]')),
  ('leading bucket empty', replace(:'t', '"lo":35,"counts":[1]', '"lo":34,"counts":[0,1]')),
  ('bucket out of order (lo moved)', replace(:'t', '"lo":35', '"lo":36')),
  ('bucket out of order (lo below)', replace(:'t', '"lo":35', '"lo":34')),
  ('bucket index out of range', replace(:'t', '"lo":35', '"lo":99999999')),
  ('bucket index overflow', replace(:'t', '"lo":35', '"lo":2147483648')),
  ('bucket index underflow', replace(:'t', '"lo":35', '"lo":-2147483649')),
  ('max not in highest bucket', replace(:'t', '"max":2', '"max":2.5')),
  ('min not in its bucket', replace(:'t', '"min":-1', '"min":-1.5')),
  ('positive store without positive max', replace(:'t', '"max":2', '"max":0')),
  ('min above max', replace(replace(:'t', '"min":-1', '"min":3'), '"max":2', '"max":1')),
  ('NaN min', replace(:'t', '"min":-1', '"min":NaN')),
  ('nan min', replace(:'t', '"min":-1', '"min":nan')),
  ('Infinity max', replace(:'t', '"max":2', '"max":Infinity')),
  ('-inf min', replace(:'t', '"min":-1', '"min":-inf')),
  ('overflowing max', replace(:'t', '"max":2', '"max":1e999')),
  ('hex max', replace(:'t', '"max":2', '"max":0x2')),
  ('null min with count', replace(:'t', '"min":-1', '"min":null')),
  ('huge bucket count', replace(:'t', '"lo":35,"counts":[1]', '"lo":35,"counts":[18446744073709551616]')),
  ('bucket counts overflow uint64',
     replace(replace(:'t', '"count":3', '"count":2'), '"lo":35,"counts":[1]',
             '"lo":35,"counts":[18446744073709551615]')),
  ('bucket counts sum overflows',
     replace(replace(:'t', '"max":2', '"max":2.03'), '"lo":35,"counts":[1]',
             '"lo":35,"counts":[9223372036854775808,9223372036854775808]')),
  ('count overflow', replace(:'t', '"count":3', '"count":18446744073709551616')),
  ('alpha out of range', replace(:'t', '"alpha":0.01', '"alpha":0.5')),
  ('alpha NaN', replace(:'t', '"alpha":0.01', '"alpha":NaN')),
  ('max_buckets too small', replace(:'t', '"max_buckets":2048', '"max_buckets":1')),
  ('max_buckets too large', replace(:'t', '"max_buckets":2048', '"max_buckets":999999999')),
  ('sum inconsistent', replace(:'t', '"sum":"40000p-18"', '"sum":"40000p14"')),
  ('min 0 without zero values',
     replace('{"version":1,"alpha":0.01,"max_buckets":2048,"count":2,"min":5,"max":6,"sum":"2c0000p-18","zero":0,"positive":{"collapsed":0,"lo":81,"counts":[1,0,0,0,0,0,0,0,0,1]},"negative":null}', '"min":5', '"min":0')),
  ('min -0',
     replace('{"version":1,"alpha":0.01,"max_buckets":2048,"count":2,"min":0,"max":5,"sum":"140000p-18","zero":1,"positive":{"collapsed":0,"lo":81,"counts":[1]},"negative":null}', '"min":0', '"min":-0')),
  ('collapsed values above min',
     '{"version":1,"alpha":0.01,"max_buckets":2048,"count":10,"min":1,"max":1,"sum":"280000p-18","zero":0,'
     '"positive":{"collapsed":1,"lo":0,"counts":[9]},"negative":null}'),
  ('collapsed values above max',
     '{"version":1,"alpha":0.01,"max_buckets":2048,"count":10,"min":-1,"max":-1,"sum":"-280000p-18","zero":0,'
     '"positive":null,"negative":{"collapsed":1,"lo":0,"counts":[9]}}'),
  ('sum bad exponent', replace(:'t', '"sum":"40000p-18"', '"sum":"40000p-17"')),
  ('sum not hex', replace(:'t', '"sum":"40000p-18"', '"sum":"4g000p-18"')),
  ('sum leading zero', replace(:'t', '"sum":"40000p-18"', '"sum":"040000p-18"')),
  ('sum uppercase', replace(:'t', '"sum":"40000p-18"', '"sum":"4000Ap-18"')),
  ('sum as number', replace(:'t', '"sum":"40000p-18"', '"sum":1')),
  ('sum huge exponent', replace(:'t', '"sum":"40000p-18"', '"sum":"1p2147482574"')),
  ('fields out of order', replace(replace(:'t', '"zero":1', '"zerX":1'), '"sum":"40000p-18",', '"zero":1,"sum":"40000p-18",')),
  ('unknown field', replace(:'t', '}}', '},"extra":1}')),
  ('carried quantile out of range', replace(:'t', '}}', '},"quantiles":[2]}')),
  ('carried quantile NaN', replace(:'t', '}}', '},"quantiles":[NaN]}')),
  ('carried quantiles empty', replace(:'t', '}}', '},"quantiles":[]}')),
  ('too many carried quantiles', replace(:'t', '}}', '},"quantiles":[' ||
      array_to_string(array_fill(0.5::float8, ARRAY[256]), ',') || ']}')),
  ('duplicate negative store', replace(:'t', '}}', '},"negative":null}')),
  ('trailing garbage', :'t' || 'x'),
  ('trailing second object', :'t' || '{}'),
  ('embedded garbage', replace(:'t', '"zero":1', '"zero":1 x')),
  ('empty counts', replace(:'t', '"lo":35,"counts":[1]', '"lo":35,"counts":[]')),
  ('too many buckets',
     replace(:'t', '"lo":35,"counts":[1]', '"lo":35,"counts":[' ||
       repeat('1,', 2048) || '1]'))
) v(c, txt);

-- text forms that are valid after all
SELECT c AS "case", pg_temp.err(format('SELECT %L::perfstore.sketch', txt)) AS result
FROM (VALUES
  ('the original', :'t'),
  ('whitespace', replace(replace(:'t', ',', ' ,	'), ':', E' :\n')),
  ('leading zeros in integers', replace(:'t', '"zero":1', '"zero":001')),
  ('exponent form', replace(:'t', '"max":2', '"max":2e0')),
  ('carried quantiles', replace(:'t', '}}', '},"quantiles":[0.5,1]}')),
  ('empty sketch', '{"version":1,"alpha":0.01,"max_buckets":2048,"count":0,"min":null,"max":null,"sum":"0","zero":0,"positive":null,"negative":null}')
) v(c, txt);
-- a sum far beyond what count, min and max allow is rejected too, in both
-- encodings: a merge of such a sketch would write a sum that no decoder
-- accepts (for 3 values in [-1, 2], a sum of about 2^1166)
SELECT pg_temp.err(format('SELECT %L::perfstore.sketch',
         replace(:'t', '"sum":"40000p-18"', '"sum":"ffffffffp1134"'))) LIKE '22P02%' AS huge_sum_text_rejected,
       pg_temp.err(format('SELECT %L::bytea::perfstore.sketch',
         overlay(:'b123'::bytea PLACING '\x010045ffffffff0f' FROM 31 FOR 6))) LIKE '22P03%' AS huge_sum_bytea_rejected;
-- merging must not wrap the 64-bit counts: two sketches of 2^63 values
-- each cannot merge into a sketch of 0 values (which no decoder accepts);
-- the merge raises an error in the 22 class instead of storing such bytes
CREATE TEMP TABLE e_big AS
SELECT '{"version":1,"alpha":0.01,"max_buckets":2048,"count":9223372036854775808,"min":2,"max":2,"sum":"40000p46","zero":0,"positive":{"collapsed":0,"lo":35,"counts":[9223372036854775808]},"negative":null}'::sketch AS s;
SELECT quantile(s, 0.5) AS q, rank(s, 2) AS r FROM e_big;
SELECT pg_temp.err('SELECT perfstore.sketch_combine(s, s) IS NOT NULL FROM e_big') ~ '^22' AS combine_refuses,
       pg_temp.err('SELECT perfstore.sketch_agg(s) IS NOT NULL FROM (SELECT s FROM e_big UNION ALL SELECT s FROM e_big) y')
         ~ '^22' AS merge_agg_refuses;
-- an empty sketch reads as empty
SELECT num_vals(s), quantile(s, 0.5) IS NULL AS q_null, min_val(s) IS NULL AS min_null,
       (SELECT count(*) FROM buckets(s)) AS nbuckets
FROM (SELECT '{"version":1,"alpha":0.01,"max_buckets":2048,"count":0,"min":null,"max":null,"sum":"0","zero":0,"positive":null,"negative":null}'::sketch AS s) y;
-- a carried quantile survives the text form
SELECT replace(:'t', '}}', '},"quantiles":[0.5,1]}')::sketch::text LIKE '%"quantiles":[0.5,1]}' AS carried;

-- malformed bytea (22P03), made from b123, the packed sketch of 1, 2, 3:
--   01 version | 01 flags | 7b14ae47e17a843f alpha | 8010 max_buckets 2048
--   03 count | min 1.0 | max 3.0 | 00 zero | 01 00 21 808060 sum
--   00 collapsed | 00 lowest key | 03 runs | 00 01 01 | 22 01 01 | 13 01 01
-- (bytes are numbered from 1: count is byte 13, min 14-21, max 22-29, the
-- runs start at byte 40)
SELECT length(:'b123'::bytea) AS len, :'b123'::bytea::sketch::bytea = :'b123'::bytea AS b123_valid;
CREATE TEMP TABLE e_bad (c text, b bytea);
INSERT INTO e_bad VALUES
  ('empty', '\x'),
  ('one byte', '\x01'),
  ('truncated header', substring(:'b123'::bytea FROM 1 FOR 12)),
  ('truncated in min', substring(:'b123'::bytea FROM 1 FOR 17)),
  ('truncated in sum', substring(:'b123'::bytea FROM 1 FOR 35)),
  ('truncated by one', substring(:'b123'::bytea FROM 1 FOR 47)),
  ('wrong version 2', overlay(:'b123'::bytea PLACING '\x02' FROM 1 FOR 1)),
  ('wrong version 0', overlay(:'b123'::bytea PLACING '\x00' FROM 1 FOR 1)),
  ('dense magic', overlay(:'b123'::bytea PLACING '\xd5' FROM 1 FOR 1)),
  ('unknown flags', overlay(:'b123'::bytea PLACING '\x09' FROM 2 FOR 1)),
  ('flags without positive', overlay(:'b123'::bytea PLACING '\x00' FROM 2 FOR 1)),
  ('flags with negative', overlay(:'b123'::bytea PLACING '\x03' FROM 2 FOR 1)),
  ('flags with quantiles', overlay(:'b123'::bytea PLACING '\x05' FROM 2 FOR 1)),
  ('count too high', overlay(:'b123'::bytea PLACING '\x04' FROM 13 FOR 1)),
  ('count too low', overlay(:'b123'::bytea PLACING '\x02' FROM 13 FOR 1)),
  ('count zero', overlay(:'b123'::bytea PLACING '\x00' FROM 13 FOR 1)),
  ('count huge varint', overlay(:'b123'::bytea PLACING '\xffffffffffffffffff01' FROM 13 FOR 1)),
  ('count varint too long', overlay(:'b123'::bytea PLACING '\xffffffffffffffffff7f' FROM 13 FOR 1)),
  ('count varint 11 bytes', overlay(:'b123'::bytea PLACING '\xffffffffffffffffffff01' FROM 13 FOR 1)),
  ('count non-canonical varint', overlay(:'b123'::bytea PLACING '\x8300' FROM 13 FOR 1)),
  ('max_buckets tiny', overlay(:'b123'::bytea PLACING '\x01' FROM 11 FOR 2)),
  ('max_buckets huge', overlay(:'b123'::bytea PLACING '\xffffffff0f' FROM 11 FOR 2)),
  ('alpha out of range', overlay(:'b123'::bytea PLACING '\x000000000000e03f' FROM 3 FOR 8)),
  ('alpha NaN', overlay(:'b123'::bytea PLACING '\x000000000000f87f' FROM 3 FOR 8)),
  ('min NaN', overlay(:'b123'::bytea PLACING '\x000000000000f87f' FROM 14 FOR 8)),
  ('min -Infinity', overlay(:'b123'::bytea PLACING '\x000000000000f0ff' FROM 14 FOR 8)),
  ('max Infinity', overlay(:'b123'::bytea PLACING '\x000000000000f07f' FROM 22 FOR 8)),
  ('max NaN', overlay(:'b123'::bytea PLACING '\x000000000000f8ff' FROM 22 FOR 8)),
  ('min above max', overlay(:'b123'::bytea PLACING '\x0000000000001040' FROM 14 FOR 8)),
  ('max not in highest bucket', overlay(:'b123'::bytea PLACING '\x0000000000001040' FROM 22 FOR 8)),
  ('min not in lowest bucket', overlay(:'b123'::bytea PLACING '\x000000000000f83f' FROM 14 FOR 8)),
  ('zero count outside min/max', overlay(:'b123'::bytea PLACING '\x01' FROM 30 FOR 1)),
  ('sum digits too many', overlay(:'b123'::bytea PLACING '\x7f' FROM 31 FOR 1)),
  ('sum bad sign', overlay(:'b123'::bytea PLACING '\x02' FROM 32 FOR 1)),
  ('sum inconsistent', overlay(:'b123'::bytea PLACING '\x25' FROM 33 FOR 1)),
  ('sum digit above 32 bits', overlay(:'b123'::bytea PLACING '\x8080808080' || '\x01'::bytea FROM 34 FOR 3)),
  ('collapsed without collapse', overlay(:'b123'::bytea PLACING '\x01' FROM 37 FOR 1)),
  ('lowest key moved', overlay(:'b123'::bytea PLACING '\x02' FROM 38 FOR 1)),
  ('lowest key huge', overlay(:'b123'::bytea PLACING '\xfeffffffffffffffff01' FROM 38 FOR 1)),
  ('no runs', overlay(:'b123'::bytea PLACING '\x00' FROM 39 FOR 1)),
  ('more runs than given', overlay(:'b123'::bytea PLACING '\x04' FROM 39 FOR 1)),
  ('fewer runs than given', overlay(:'b123'::bytea PLACING '\x02' FROM 39 FOR 1)),
  ('huge number of runs', overlay(:'b123'::bytea PLACING '\xffffffffffffffffff01' FROM 39 FOR 1)),
  ('first run with a gap', overlay(:'b123'::bytea PLACING '\x01' FROM 40 FOR 1)),
  ('run of length 0', overlay(:'b123'::bytea PLACING '\x00' FROM 41 FOR 1)),
  ('run too long', overlay(:'b123'::bytea PLACING '\x8040' FROM 41 FOR 1)),
  ('bucket count zero', overlay(:'b123'::bytea PLACING '\x00' FROM 42 FOR 1)),
  ('bucket count huge', overlay(:'b123'::bytea PLACING '\xffffffffffffffffff01' FROM 42 FOR 1)),
  ('overlapping runs (gap 0)', overlay(:'b123'::bytea PLACING '\x00' FROM 43 FOR 1)),
  ('runs out of order (gap past the end)', overlay(:'b123'::bytea PLACING '\x8010' FROM 43 FOR 1)),
  ('runs out of order (huge gap)', overlay(:'b123'::bytea PLACING '\xffffffffffffffffff01' FROM 43 FOR 1)),
  ('run longer than the data', overlay(:'b123'::bytea PLACING '\x02' FROM 44 FOR 1)),
  ('negative count by delta', overlay(:'b123'::bytea PLACING '\x0201' || '\x03'::bytea FROM 44 FOR 2)),
  ('counts overflow uint64',
     overlay(overlay(:'b123'::bytea PLACING '\x02' FROM 13 FOR 1)
             PLACING '\xffffffffffffffffff01' FROM 42 FOR 1)),
  ('two counts overflow uint64',
     overlay(overlay(overlay(:'b123'::bytea PLACING '\x02' FROM 13 FOR 1)
             PLACING '\x80808080808080808001' FROM 42 FOR 1)
             PLACING '\x80808080808080808001' FROM 54 FOR 1)),
  ('trailing byte', :'b123'::bytea || '\x00'::bytea),
  ('trailing bytes', :'b123'::bytea || :'b123'::bytea),
  ('quantiles flag, no quantiles', overlay(:'b123'::bytea PLACING '\x05' FROM 2 FOR 1) || '\x00'::bytea),
  ('carried quantile out of range',
     overlay(:'b123'::bytea PLACING '\x05' FROM 2 FOR 1) || '\x01'::bytea
       || '\x0000000000000040'::bytea),
  ('hand-written garbage', '\xdeadbeef'),
  ('hand-written: version only, empty', '\x0100'),
  ('hand-written: all 0xff', '\xffffffffffffffffffffffffffffffffffffffffffffffff'),
  ('hand-written: count without values',
     '\x01007b14ae47e17a843f801001000000000000000000000000000000000000');
-- every bad bytea is rejected by the bytea cast and by binary receive
-- (recv_same: binary receive fails with the same SQLSTATE and message)
SELECT c AS "case", r AS bytea_cast, pg_temp.recv(b) = r AS recv_same
FROM (SELECT c, b, pg_temp.err(format('SELECT %L::bytea::perfstore.sketch', b)) AS r
      FROM e_bad) y
ORDER BY c COLLATE "C";

-- packed forms that are valid after all
SELECT c AS "case", pg_temp.err(format('SELECT %L::bytea::perfstore.sketch', b)) AS bytea_cast,
       pg_temp.recv(b) AS recv
FROM (VALUES
  ('the original', :'b123'::bytea),
  ('hand-written empty sketch', '\x01007b14ae47e17a843f8010000000'::bytea),
  ('hand-written: the zero sketch',
     '\x01007b14ae47e17a843f801001000000000000000000000000000000000100'::bytea),
  ('carried quantile',
     overlay(:'b123'::bytea PLACING '\x05' FROM 2 FOR 1) || '\x01000000000000e03f'::bytea)
) v(c, b);
SELECT '\x01007b14ae47e17a843f801001000000000000000000000000000000000100'::bytea::sketch AS zero_sketch;

-- a text form and a packed form denote the same sketch
SELECT (:'b123'::bytea)::sketch::text = (SELECT sketch_agg(x::float8)::text FROM generate_series(1, 3) x)
       AS same;

-- a fraction that differs between partial aggregates is refused as in a
-- serial plan, never answered with one of them: partitionwise aggregation
-- over a table whose partitions ask for different fractions
CREATE TABLE par_q (p int, q float8, v float8) PARTITION BY LIST (p);
CREATE TABLE par_q1 PARTITION OF par_q FOR VALUES IN (1);
CREATE TABLE par_q2 PARTITION OF par_q FOR VALUES IN (2);
INSERT INTO par_q SELECT 1 + i % 2, CASE WHEN i % 2 = 0 THEN 0.1 ELSE 0.9 END, i
FROM generate_series(1, 1000) i;
ANALYZE par_q;
SET enable_partitionwise_aggregate = on;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT approx_percentile(v, q) FROM par_q;
SELECT pg_temp.err('SELECT approx_percentile(v, q) FROM par_q') AS partitionwise_refused;
SELECT pg_temp.err('SELECT approx_percentiles(v, ARRAY[q]) FROM par_q') AS arrays_refused;
-- the same fraction everywhere still works partitionwise
SELECT approx_percentile(v, 0.5) = (SELECT approx_percentile(v, 0.5) FROM (SELECT v FROM par_q) x)
       AS same_fraction_ok
FROM par_q;
RESET enable_partitionwise_aggregate;
RESET max_parallel_workers_per_gather;
DROP TABLE par_q;

-- the server is still up and the session still works
SELECT 1 AS alive;
SELECT num_vals(sketch_agg(x::float8)) FROM generate_series(1, 10) x;
