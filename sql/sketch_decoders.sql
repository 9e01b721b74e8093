--
-- sketch_decoders: random and mutated encodings pushed through every
-- decoder (text input, the bytea cast, binary receive); each is either
-- rejected with a fitting error or accepted as a fully usable sketch, and
-- the server stays up (docs/sketch.md)
--
-- pg_regress may have created the extension already (--load-extension)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS perfstore;
RESET client_min_messages;
SET extra_float_digits = 0;
SET search_path = perfstore, public;

-- valid sketches to mutate: small and large, every store, both alphas,
-- collapsed, carried quantiles, empty and zero-only
CREATE AGGREGATE pg_temp.ap_state(float8, float8[]) (
	SFUNC = perfstore.sketch_add_quantiles, STYPE = perfstore.sketch);
CREATE TEMP TABLE d_pool (id int, s sketch);
INSERT INTO d_pool
SELECT 1, sketch_agg(x::float8) FROM generate_series(1, 100) x
UNION ALL SELECT 2, sketch_agg(x) FROM (VALUES (-1::float8), (0), (2)) v(x)
UNION ALL SELECT 3, sketch_agg(x::float8 / 7, 0.001) FROM generate_series(-50, 80) x
UNION ALL SELECT 4, sketch_agg(10 ^ (x % 601 - 300)::float8 * (1 + x % 5)) FROM generate_series(1, 3000) x
UNION ALL SELECT 5, pg_temp.ap_state(x::float8, '{0.5, 0.99}') FROM generate_series(1, 20) x
UNION ALL SELECT 6, '{"version":1,"alpha":0.01,"max_buckets":2048,"count":0,"min":null,"max":null,"sum":"0","zero":0,"positive":null,"negative":null}'::sketch
UNION ALL SELECT 7, sketch_agg(0::float8) FROM generate_series(1, 5)
UNION ALL SELECT 8, sketch_agg(-x::float8 * 1e-9, 0.1) FROM generate_series(1, 40) x
UNION ALL SELECT 9, sketch_agg(1.7976931348623157e308::float8)
UNION ALL SELECT 10, sketch_agg(exp(x / 100.0)) FROM generate_series(-1000, 1000, 3) x;
SELECT id, num_vals(s), collapsed(s) > 0 AS collapsed, length(s::bytea) AS packed_bytes
FROM d_pool ORDER BY id;
CREATE TEMP TABLE d_pool_bytes AS
SELECT array_agg(s::bytea ORDER BY id) AS b, array_agg(s::text ORDER BY id) AS t FROM d_pool;

-- is an accepted sketch fully usable?  Every reader works, the encodings
-- round-trip, it merges with itself.  Raises an error if not.
CREATE FUNCTION pg_temp.usable(s sketch) RETURNS bool LANGUAGE plpgsql
AS $$
DECLARE
	n bigint := perfstore.num_vals(s);
	ok bool := true;
BEGIN
	ok := ok AND s::text::perfstore.sketch::text = s::text;
	ok := ok AND s::bytea::perfstore.sketch::bytea = s::bytea;
	ok := ok AND s::text::perfstore.sketch::bytea = s::bytea;
	ok := ok AND coalesce((SELECT sum(b.count) FROM perfstore.buckets(s) b), 0) = n;
	ok := ok AND perfstore.num_vals(perfstore.sketch_combine(s, s)) = 2 * n;
	ok := ok AND perfstore.alpha(s) BETWEEN 0.0001 AND 0.1;
	ok := ok AND perfstore.collapsed(s) BETWEEN 0 AND n;
	IF n > 0 THEN
		ok := ok AND perfstore.quantile(s, 0) = perfstore.min_val(s);
		ok := ok AND perfstore.quantile(s, 1) = perfstore.max_val(s);
		ok := ok AND perfstore.quantile(s, 0.5) BETWEEN perfstore.min_val(s) AND perfstore.max_val(s);
		ok := ok AND perfstore.quantiles(s, '{0.01, 0.99}') IS NOT NULL;
		ok := ok AND perfstore.rank(s, perfstore.quantile(s, 0.5)) BETWEEN 0 AND 1;
		ok := ok AND perfstore.min_val(s) <= perfstore.max_val(s);
		-- the sum may legitimately be out of range for float8 (22003)
		BEGIN
			ok := ok AND perfstore.mean(s) IS NOT NULL;
		EXCEPTION WHEN numeric_value_out_of_range THEN
			NULL;
		END;
	ELSE
		ok := ok AND perfstore.quantile(s, 0.5) IS NULL;
	END IF;
	RETURN ok;
END
$$;

-- mutate a byte string: kind 0 random bytes, 1 random bytes after a valid
-- version and flags, 2 bit flips, 3 truncation, 4 a duplicated segment,
-- 5 special byte values, 6 splice of two encodings, 7 a deleted segment
CREATE FUNCTION pg_temp.mutate(src bytea, other bytea, kind int) RETURNS bytea
LANGUAGE plpgsql AS $$
DECLARE
	b bytea := src;
	n int := length(src);
	p int;
	l int;
BEGIN
	IF n = 0 THEN
		kind := 0;
	END IF;
	IF kind IN (0, 1) THEN
		b := CASE WHEN kind = 1 THEN '\x0101'::bytea ELSE '\x'::bytea END;
		FOR i IN 1 .. floor(random() * 64)::int LOOP
			b := b || set_byte('\x00'::bytea, 0, floor(random() * 256)::int);
		END LOOP;
	ELSIF kind = 2 THEN
		FOR i IN 1 .. 1 + floor(random() * 3)::int LOOP
			p := floor(random() * length(b) * 8)::int;
			b := set_bit(b, p, 1 - get_bit(b, p));
		END LOOP;
	ELSIF kind = 3 THEN
		b := substring(b FROM 1 FOR floor(random() * n)::int);
	ELSIF kind = 4 THEN
		p := 1 + floor(random() * n)::int;
		l := 1 + floor(random() * 8)::int;
		b := substring(b FROM 1 FOR p) || substring(b FROM p FOR l) || substring(b FROM p + 1);
	ELSIF kind = 5 THEN
		FOR i IN 1 .. 1 + floor(random() * 2)::int LOOP
			p := floor(random() * length(b))::int;
			b := set_byte(b, p, (ARRAY[0, 1, 127, 128, 255, 254, 63, 64])[1 + floor(random() * 8)::int]);
		END LOOP;
	ELSIF kind = 6 THEN
		b := substring(b FROM 1 FOR floor(random() * n)::int)
			|| substring(other FROM 1 + floor(random() * length(other))::int);
	ELSE
		p := 1 + floor(random() * n)::int;
		l := 1 + floor(random() * 4)::int;
		b := substring(b FROM 1 FOR p - 1) || substring(b FROM p + l);
	END IF;
	RETURN b;
END
$$;

-- mutate a text form: character substitutions, deletions, duplicated
-- segments, truncation, digit changes, splices
CREATE FUNCTION pg_temp.mutate_text(src text, other text, kind int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	t text := src;
	n int := length(src);
	p int;
	l int;
	chars text := '0123456789,:"{}[]-+.eE pnul' || chr(9) || 'x';
BEGIN
	IF n = 0 THEN
		RETURN substr(chars, 1 + floor(random() * length(chars))::int, 1);
	END IF;
	IF kind = 0 THEN
		FOR i IN 1 .. 1 + floor(random() * 3)::int LOOP
			p := 1 + floor(random() * length(t))::int;
			t := overlay(t PLACING substr(chars, 1 + floor(random() * length(chars))::int, 1)
						 FROM p FOR 1);
		END LOOP;
	ELSIF kind = 1 THEN
		p := 1 + floor(random() * n)::int;
		t := overlay(t PLACING '' FROM p FOR 1 + floor(random() * 6)::int);
	ELSIF kind = 2 THEN
		p := 1 + floor(random() * n)::int;
		l := 1 + floor(random() * 12)::int;
		t := substring(t FROM 1 FOR p) || substring(t FROM p FOR l) || substring(t FROM p + 1);
	ELSIF kind = 3 THEN
		t := substring(t FROM 1 FOR floor(random() * n)::int);
	ELSIF kind = 4 THEN
		-- change one digit: counts, keys, min, max, sum digits
		FOR i IN 1 .. 20 LOOP
			p := 1 + floor(random() * n)::int;
			IF substr(t, p, 1) ~ '[0-9]' THEN
				t := overlay(t PLACING ((substr(t, p, 1)::int + 1 + floor(random() * 9)::int) % 10)::text
							 FROM p FOR 1);
				EXIT;
			END IF;
		END LOOP;
	ELSE
		t := substring(t FROM 1 FOR floor(random() * n)::int)
			|| substring(other FROM 1 + floor(random() * length(other))::int);
	END IF;
	RETURN t;
END
$$;

-- the fuzz loops.  Counts: tried, accepted, rejected with a fitting
-- SQLSTATE (22P02 text, 22P03 binary, 22023 bad alpha), rejected with any
-- other SQLSTATE, accepted but unusable, accepted bytes that are not the
-- canonical encoding
CREATE TEMP TABLE d_result (decoder text, tried int, accepted int, rejected int,
                            other_error int, unusable int, noncanonical int,
                            other_states text);
CREATE FUNCTION pg_temp.fuzz(decoder text, n int) RETURNS void LANGUAGE plpgsql
AS $$
DECLARE
	pool_b bytea[] := (SELECT b FROM d_pool_bytes);
	pool_t text[] := (SELECT t FROM d_pool_bytes);
	np int := array_length(pool_b, 1);
	tried int := 0;
	accepted int := 0;
	rejected int := 0;
	other int := 0;
	unusable int := 0;
	noncanon int := 0;
	states text[] := '{}';
	b bytea;
	t text;
	s perfstore.sketch;
	st text;
	path text := current_setting('data_directory') || '/perfstore_sketch_decoders.bin';
	i1 int;
	i2 int;
BEGIN
	FOR i IN 1 .. n LOOP
		i1 := 1 + floor(random() * np)::int;
		i2 := 1 + floor(random() * np)::int;
		IF decoder = 'text' THEN
			t := pg_temp.mutate_text(pool_t[i1], pool_t[i2], floor(random() * 6)::int);
		ELSE
			b := pg_temp.mutate(pool_b[i1], pool_b[i2], floor(random() * 8)::int);
		END IF;
		tried := tried + 1;
		BEGIN
			IF decoder = 'text' THEN
				s := t::perfstore.sketch;
			ELSIF decoder = 'bytea' THEN
				s := b::perfstore.sketch;
			ELSE
				EXECUTE format('COPY (SELECT %L::bytea) TO %L (FORMAT binary)', b, path);
				DELETE FROM d_recv;
				EXECUTE format('COPY d_recv FROM %L (FORMAT binary)', path);
				s := (SELECT r.s FROM d_recv r);
			END IF;
			accepted := accepted + 1;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
			s := NULL;
			IF st IN ('22P02', '22P03', '22023') THEN
				rejected := rejected + 1;
			ELSE
				other := other + 1;
				IF NOT st = ANY (states) THEN
					states := states || st;
				END IF;
			END IF;
		END;
		IF s IS NOT NULL THEN
			BEGIN
				IF NOT pg_temp.usable(s) THEN
					unusable := unusable + 1;
				END IF;
			EXCEPTION WHEN OTHERS THEN
				unusable := unusable + 1;
			END;
			IF decoder <> 'text' AND s::bytea <> b THEN
				noncanon := noncanon + 1;
			END IF;
		END IF;
	END LOOP;
	INSERT INTO d_result VALUES (decoder, tried, accepted, rejected, other, unusable,
								 noncanon, array_to_string(states, ','));
END
$$;
CREATE TEMP TABLE d_recv (s sketch);

-- 10,000 inputs each through the text input and the bytea cast; binary
-- receive needs a COPY file per input (slow) and shares the bytea decoder,
-- so it gets 2,000
SELECT setseed(0.125);
SELECT pg_temp.fuzz('text', 10000);
SELECT pg_temp.fuzz('bytea', 10000);
SELECT pg_temp.fuzz('recv', 2000);

-- every decoder saw its inputs; some were accepted and many rejected, all
-- with a fitting SQLSTATE; every accepted sketch is usable; accepted bytes
-- are canonical (they re-encode to themselves)
SELECT decoder, tried, accepted + rejected + other_error = tried AS all_counted,
       accepted > 0 AS some_accepted, rejected > accepted AS mostly_rejected,
       other_error AS other_errors, coalesce(nullif(other_states, ''), '-') AS other_states,
       unusable, noncanonical
FROM d_result ORDER BY decoder COLLATE "C";

-- the server is still up and the session still works
SELECT 1 AS alive;
SELECT num_vals(s) AS pool_count FROM d_pool WHERE id = 1;

DROP AGGREGATE pg_temp.ap_state(float8, float8[]);
