ALTER TABLE outbox DROP CONSTRAINT outbox_pkey;
ALTER TABLE kv SET (fillfactor = 80);