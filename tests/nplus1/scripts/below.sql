-- a legitimate repetition below the threshold: 3 lookups after the source
SELECT id FROM np_items ORDER BY id LIMIT 3;
\set id 1
SELECT v FROM np_items WHERE id = :id;
\set id 2
SELECT v FROM np_items WHERE id = :id;
\set id 3
SELECT v FROM np_items WHERE id = :id;
