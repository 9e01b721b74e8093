\set a random(1, 10)
\set b random_gaussian(1, 100, 2.5) + random_exponential(1, 100, 3.0)
\set c random_zipfian(1, 1000, 1.07) * 2 - :a % 3
\if :a > 5 AND NOT (:b IS NULL)
SELECT :a, :'b' \gset p_
\elif :a = 3 OR :c <> 0
\set d CASE WHEN :a < 2 THEN 1.5 WHEN :a < 4 THEN 2 ELSE pi() END
\else
\sleep :a ms
\endif
SELECT hash(:a), hash_fnv1a(:a, 5), permute(:a, 10), least(1, 2.5, :a), greatest(:a, 3) \; SELECT 1;
\startpipeline
SELECT 1;
\endpipeline
