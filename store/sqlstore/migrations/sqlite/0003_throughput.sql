-- Throughput (PostgreSQL's 0003 numbers events from a sequence and orders
-- the feed by transaction). SQLite runs one writer at a time and keeps its
-- gapless event counter: nothing changes here. The file keeps the two
-- dialects' migrations numbered alike.

SELECT 1;
