
CREATE FUNCTION ingot_commit(
    key_locks int8[], locked_keys bytea[], expect_keys bytea[], expect_versions int8[],
    deletes bytea[], new_keys bytea[], new_values bytea[], upsert_keys bytea[], upsert_values bytea[],
    ordered_keys bytea[], ordered_values bytea[], topics text[], payloads bytea[]
) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    violated bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(k) FROM unnest(key_locks) AS t(k);
    IF cardinality(expect_keys) > 0 THEN
        PERFORM 1 FROM kv WHERE key = ANY(locked_keys) ORDER BY key FOR UPDATE;
        SELECT e.k INTO violated
          FROM unnest(expect_keys, expect_versions) WITH ORDINALITY AS e(k, v, n)
          LEFT JOIN kv ON kv.key = e.k
         WHERE kv.version IS DISTINCT FROM e.v
         ORDER BY e.n LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'IGC01', MESSAGE = convert_from(violated, 'UTF8');
        END IF;
    END IF;
    IF cardinality(ordered_keys) > 0 THEN
        FOR i IN 1 .. cardinality(ordered_keys) LOOP
            IF ordered_values[i] IS NULL THEN
                DELETE FROM kv WHERE key = ordered_keys[i];
            ELSE
                INSERT INTO kv (key, version, value) VALUES (ordered_keys[i], nextval('kv_version'), ordered_values[i])
                ON CONFLICT (key) DO UPDATE SET version = EXCLUDED.version, value = EXCLUDED.value;
            END IF;
        END LOOP;
    END IF;
    IF cardinality(deletes) > 0 THEN
        DELETE FROM kv WHERE key = ANY(deletes);
    END IF;
    IF cardinality(new_keys) > 0 THEN
        INSERT INTO kv (key, version, value)
        SELECT k, nextval('kv_version'), v FROM unnest(new_keys, new_values) AS t(k, v);
    END IF;
    IF cardinality(upsert_keys) > 0 THEN
        INSERT INTO kv (key, version, value)
        SELECT k, nextval('kv_version'), v FROM unnest(upsert_keys, upsert_values) AS t(k, v)
        ON CONFLICT (key) DO UPDATE SET version = EXCLUDED.version, value = EXCLUDED.value;
    END IF;
    IF cardinality(topics) > 0 THEN
        INSERT INTO outbox (topic, payload)
        SELECT t, p FROM unnest(topics, payloads) WITH ORDINALITY AS u(t, p, n) ORDER BY n;
    END IF;
END
$fn$;