-- The change feed (common/feed): every event a service's stores append in the
-- transaction of the change, numbered by the sequencer after it committed.
-- `id` is handed out at insert, so ids commit out of order; `seq` is given in
-- sequencer transactions that follow each other (feed_clock's row lock), so the
-- numbered events a reader sees are always a prefix: a watcher positioned at seq N
-- never misses an N-1 committing a moment later.
CREATE TABLE IF NOT EXISTS feed_events (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  seq BIGINT NULL,
  kind VARCHAR(60) NOT NULL,
  entity_type VARCHAR(20) NOT NULL,
  entity_id VARCHAR(64) NOT NULL,
  lead_id BIGINT NOT NULL DEFAULT 0,
  actor VARCHAR(200) NOT NULL DEFAULT '',
  detail VARCHAR(1000) NOT NULL DEFAULT '',
  occurred_at TIMESTAMP(6) NOT NULL,
  sequenced_at TIMESTAMP(6) NULL,
  UNIQUE KEY feed_seq (seq),
  KEY feed_entity (entity_type, entity_id, seq),
  KEY feed_lead (lead_id)
) ENGINE=InnoDB;

-- The next seq to give and the newest seq retention dropped (tokens at or after
-- it still resume).
CREATE TABLE IF NOT EXISTS feed_clock (
  id TINYINT NOT NULL PRIMARY KEY,
  next_seq BIGINT NOT NULL,
  pruned_through BIGINT NOT NULL
) ENGINE=InnoDB;

INSERT IGNORE INTO feed_clock (id, next_seq, pruned_through) VALUES (1, 1, 0);
