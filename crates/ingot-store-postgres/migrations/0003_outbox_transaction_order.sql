LOCK TABLE outbox IN EXCLUSIVE MODE;
         ALTER TABLE outbox ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
         DROP INDEX outbox_topic_seq;
         CREATE INDEX outbox_topic_xid_seq ON outbox (topic, xid, seq);