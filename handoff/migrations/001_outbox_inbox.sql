-- The contract's tables, the same in each department's own database (the contract
-- schema track, recorded in contract_schema_migrations). IF NOT EXISTS: databases
-- made before this track got them from their department's first migrations.

-- Contract events waiting for (or done with) delivery, written in the same
-- transaction as the change that causes them (outbox.h, outbox_relay.h).
CREATE TABLE IF NOT EXISTS outbox (
  seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  event_id CHAR(36) NOT NULL,
  lead_id BIGINT NOT NULL,
  kind VARCHAR(40) NOT NULL,
  payload MEDIUMBLOB NOT NULL,
  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  attempts INT NOT NULL DEFAULT 0,
  last_error VARCHAR(2000) NOT NULL DEFAULT '',
  next_attempt_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  delivered_at TIMESTAMP(6) NULL,
  UNIQUE KEY outbox_event (event_id),
  KEY outbox_pending (delivered_at, seq),
  KEY outbox_lead (lead_id, seq)
) ENGINE=InnoDB;

-- Contract events received, so a repeat changes nothing (inbox.h).
CREATE TABLE IF NOT EXISTS inbox_events (
  event_id CHAR(36) NOT NULL PRIMARY KEY,
  kind VARCHAR(40) NOT NULL,
  response MEDIUMBLOB NOT NULL,
  received_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB;
