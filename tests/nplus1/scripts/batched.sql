-- the batched equivalent of nplus1.sql: one query with = ANY
SELECT id FROM np_items ORDER BY id LIMIT 10;
SELECT v FROM np_items WHERE id = ANY('{1,2,3,4,5,6,7,8,9,10}'::int[]);
