-- one source SELECT, then one single-row SELECT per id: an N+1 pattern
SELECT id FROM np_items ORDER BY id LIMIT 10;
\set id 1 + 10 * (random(0, 99))
SELECT v FROM np_items WHERE id = :id;
\set id 2 + 10 * (random(0, 99))
SELECT v FROM np_items WHERE id = :id;
\set id 3 + 10 * (random(0, 99))
SELECT v FROM np_items WHERE id = :id;
\set id 4 + 10 * (random(0, 99))
SELECT v FROM np_items WHERE id = :id;
\set id 5 + 10 * (random(0, 99))
SELECT v FROM np_items WHERE id = :id;
\set id 6 + 10 * (random(0, 99))
SELECT v FROM np_items WHERE id = :id;
\set id 7 + 10 * (random(0, 99))
SELECT v FROM np_items WHERE id = :id;
\set id 8 + 10 * (random(0, 99))
SELECT v FROM np_items WHERE id = :id;
\set id 9 + 10 * (random(0, 99))
SELECT v FROM np_items WHERE id = :id;
\set id 10 + 10 * (random(0, 99))
SELECT v FROM np_items WHERE id = :id;
