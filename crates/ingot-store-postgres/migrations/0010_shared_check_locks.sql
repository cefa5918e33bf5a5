-- Keys a batch only checks (what it read to decide, such as the policies of an authorization
-- decision) are locked shared: commits that check the same key no longer wait for each other,
-- while a commit that writes the key still waits for them, and they for it.
CREATE FUNCTION ingot_commit(
    key_locks int8[], shared_key_locks int8[], locked_keys bytea[], share_locked_keys bytea[],
    expect_keys bytea[], expect_versions int8[],
    deletes bytea[], new_keys bytea[], new_values bytea[], upsert_keys bytea[], upsert_values bytea[],
    swap_keys bytea[], swap_versions int8[], swap_values bytea[],
    ordered_keys bytea[], ordered_values bytea[], topics text[], payloads bytea[], entry_counts int4[],
    OUT written_keys bytea[], OUT written_versions int8[]
) LANGUAGE plpgsql AS $fn$
DECLARE
    violated bytea;
    swapped boolean;
    other_holder text;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(ingot_lease_lock()),
            (SELECT count(pg_advisory_xact_lock(k)) FROM unnest(key_locks) AS t(k)),
            (SELECT count(pg_advisory_xact_lock_shared(k)) FROM unnest(shared_key_locks) AS t(k));
    IF cardinality(expect_keys) > 0 THEN
        PERFORM 1 FROM kv WHERE key = ANY(locked_keys) ORDER BY key FOR UPDATE;
        PERFORM 1 FROM kv WHERE key = ANY(share_locked_keys) ORDER BY key FOR SHARE;
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
    WITH s AS (
        INSERT INTO kv (key, version, value)
        SELECT k, v, val FROM unnest(swap_keys, swap_versions, swap_values) AS t(k, v, val)
        ON CONFLICT (key) DO UPDATE SET version = nextval('kv_version'), value = EXCLUDED.value
         WHERE kv.version = EXCLUDED.version
        RETURNING kv.key, kv.version
    ), n AS (
        INSERT INTO kv (key, version, value)
        SELECT k, nextval('kv_version'), v FROM unnest(new_keys, new_values) AS t(k, v)
        ON CONFLICT (key) DO NOTHING
        RETURNING kv.key, kv.version
    ), u AS (
        INSERT INTO kv (key, version, value)
        SELECT k, nextval('kv_version'), v FROM unnest(upsert_keys, upsert_values) AS t(k, v)
        ON CONFLICT (key) DO UPDATE SET version = EXCLUDED.version, value = EXCLUDED.value
        RETURNING kv.key, kv.version
    ), o AS (
        INSERT INTO outbox (topic, payload, entries, seq)
        SELECT t, p, nullif(c, 1), nextval('outbox_seq_seq') + c - 1
          FROM unnest(topics, payloads, entry_counts) WITH ORDINALITY AS e(t, p, c, n) ORDER BY n
    )
    SELECT array_agg(w.key), array_agg(w.version),
           (SELECT count(*) FROM s) = cardinality(swap_keys)
           AND NOT EXISTS (SELECT 1 FROM s WHERE s.version = ANY(swap_versions))
           AND (SELECT count(*) FROM n) = cardinality(new_keys),
           (SELECT holder FROM cache_lease
             WHERE id = 0 AND holder IS DISTINCT FROM current_setting('ingot.replica', true))
      INTO written_keys, written_versions, swapped, other_holder
      FROM (SELECT key, version FROM s UNION ALL SELECT key, version FROM n
            UNION ALL SELECT key, version FROM u) AS w;
    IF NOT swapped THEN
        SELECT t.k INTO violated FROM unnest(swap_keys, swap_versions) WITH ORDINALITY AS t(k, v, n)
         WHERE NOT EXISTS (SELECT 1 FROM unnest(written_keys, written_versions) AS x(k, v)
                            WHERE x.k = t.k AND x.v <> t.v)
         ORDER BY t.n LIMIT 1;
        IF violated IS NULL THEN
            SELECT t.k INTO violated FROM unnest(new_keys) AS t(k)
             WHERE t.k <> ALL(coalesce(written_keys, '{}')) LIMIT 1;
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'IGC01', MESSAGE = convert_from(violated, 'UTF8');
    END IF;
    IF other_holder IS NOT NULL THEN
        PERFORM ingot_lease_check();
    END IF;
END
$fn$;