SELECT ':x', $$:y$$, E'\'' /* :z */ -- :w
, :v::int;
