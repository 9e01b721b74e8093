\set x 1.0/0
\set y pow(10,400)
\set z sqrt(-1)
SELECT :x, :y, :z;
