CREATE TABLE kv (key BYTEA PRIMARY KEY, version BIGINT NOT NULL, value BYTEA NOT NULL);
     CREATE TABLE outbox (seq BIGSERIAL PRIMARY KEY, topic TEXT NOT NULL, payload BYTEA NOT NULL);
     CREATE INDEX outbox_topic_seq ON outbox (topic, seq);