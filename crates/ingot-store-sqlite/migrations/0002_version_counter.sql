CREATE TABLE kv_clock (id INTEGER PRIMARY KEY CHECK (id = 0), last INTEGER NOT NULL);
         INSERT INTO kv_clock (id, last) SELECT 0, coalesce(max(version), 0) FROM kv;