CREATE TABLE cache_lease (
    id int PRIMARY KEY CHECK (id = 0),
    holder text,
    revoked boolean NOT NULL DEFAULT false,
    expires timestamptz NOT NULL DEFAULT '-infinity'
);
INSERT INTO cache_lease (id) VALUES (0);
CREATE TABLE replicas (id text PRIMARY KEY, alive_until timestamptz NOT NULL);
CREATE FUNCTION ingot_lease_lock() RETURNS int8 LANGUAGE sql STABLE AS $fn$
    SELECT hashtextextended('ingot cache lease ' || current_schema(), 0)
$fn$;
CREATE FUNCTION ingot_lease_check() RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    me text := current_setting('ingot.replica', true);
    lease cache_lease;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(ingot_lease_lock());
    SELECT * INTO lease FROM cache_lease WHERE id = 0;
    IF lease.holder IS NULL OR lease.holder = me THEN
        RETURN;
    END IF;
    IF lease.expires > clock_timestamp() THEN
        RAISE EXCEPTION USING ERRCODE = 'IGC02', MESSAGE = lease.holder;
    END IF;
    UPDATE cache_lease SET holder = NULL, revoked = false
     WHERE id = 0 AND holder = lease.holder AND expires <= clock_timestamp();
    IF NOT FOUND THEN
        SELECT * INTO lease FROM cache_lease WHERE id = 0;
        IF lease.holder IS NOT NULL AND lease.holder IS DISTINCT FROM me THEN
            RAISE EXCEPTION USING ERRCODE = 'IGC02', MESSAGE = lease.holder;
        END IF;
    END IF;
END
$fn$;
CREATE FUNCTION ingot_lease_revoke(seen text) RETURNS float8 LANGUAGE sql AS $fn$
    UPDATE cache_lease SET revoked = true WHERE id = 0 AND holder = seen
    RETURNING greatest(0, extract(epoch FROM expires - clock_timestamp()))::float8
$fn$;
CREATE FUNCTION ingot_lease_tick(me text, ttl_ms int, alive_ms int) RETURNS boolean LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO replicas (id, alive_until) VALUES (me, clock_timestamp() + alive_ms * interval '1 millisecond')
    ON CONFLICT (id) DO UPDATE SET alive_until = EXCLUDED.alive_until;
    DELETE FROM replicas WHERE alive_until < clock_timestamp() - interval '1 hour';
    UPDATE cache_lease SET expires = clock_timestamp() + ttl_ms * interval '1 millisecond'
     WHERE id = 0 AND holder = me AND NOT revoked AND expires > clock_timestamp();
    IF FOUND THEN
        RETURN true;
    END IF;
    IF EXISTS (SELECT 1 FROM replicas WHERE id <> me AND alive_until > clock_timestamp()) THEN
        RETURN false;
    END IF;
    PERFORM pg_advisory_xact_lock(ingot_lease_lock());
    UPDATE cache_lease SET holder = me, revoked = false, expires = clock_timestamp() + ttl_ms * interval '1 millisecond'
     WHERE id = 0 AND (holder IS NULL OR expires < clock_timestamp());
    RETURN FOUND;
END
$fn$;
CREATE OR REPLACE FUNCTION ingot_commit(
    key_locks int8[], locked_keys bytea[], expect_keys bytea[], expect_versions int8[],
    deletes bytea[], new_keys bytea[], new_values bytea[], upsert_keys bytea[], upsert_values bytea[],
    ordered_keys bytea[], ordered_values bytea[], topics text[], payloads bytea[]
) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    violated bytea;
BEGIN
    PERFORM ingot_lease_check();
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