LOCK TABLE kv IN EXCLUSIVE MODE;
         CREATE SEQUENCE kv_version AS BIGINT OWNED BY kv.version;
         SELECT setval('kv_version', coalesce(max(version), 0) + 1, false) FROM kv;