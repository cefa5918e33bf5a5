DO $$
BEGIN
    EXECUTE 'ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION lz4';
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'outbox payloads keep the default compression: %', SQLERRM;
END
$$;