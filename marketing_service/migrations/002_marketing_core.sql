-- Campaigns, segments, touchpoints, scoring, audit history, idempotency keys, and
-- the handoff records that qualification writes (its outbox is the contract's,
-- handoff/migrations).
ALTER TABLE leads
  ADD COLUMN engagement DOUBLE NOT NULL DEFAULT 0,
  ADD COLUMN engagement_at TIMESTAMP(6) NULL,
  ADD COLUMN first_touch_campaign_id BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN last_touch_campaign_id BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN last_touch_at TIMESTAMP(6) NULL,
  ADD COLUMN qualification_note VARCHAR(2000) NOT NULL DEFAULT '',
  ADD COLUMN recycle_reason TINYINT NOT NULL DEFAULT 0,
  ADD COLUMN loss_reason TINYINT NOT NULL DEFAULT 0,
  ADD COLUMN handoff_id CHAR(36) NOT NULL DEFAULT '',
  ADD COLUMN qualified_at TIMESTAMP(6) NULL,
  ADD KEY leads_score (score, lead_id),
  ADD KEY leads_stage (stage, lead_id),
  ADD KEY leads_temperature (temperature, lead_id),
  ADD KEY leads_first_touch (first_touch_campaign_id),
  ADD KEY leads_created (created_at);

CREATE TABLE campaigns (
  campaign_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  channel TINYINT NOT NULL,
  target_segment_id BIGINT NOT NULL DEFAULT 0,
  currency CHAR(3) NOT NULL DEFAULT '',
  budget_minor BIGINT NOT NULL DEFAULT 0,
  cost_minor BIGINT NOT NULL DEFAULT 0,
  start_at TIMESTAMP(6) NULL,
  end_at TIMESTAMP(6) NULL,
  state TINYINT NOT NULL,
  version BIGINT NOT NULL DEFAULT 1,
  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  KEY campaigns_state (state, channel, campaign_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE segments (
  segment_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  description VARCHAR(2000) NOT NULL DEFAULT '',
  criteria BLOB NOT NULL,
  version BIGINT NOT NULL DEFAULT 1,
  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  UNIQUE KEY segments_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE touchpoints (
  touchpoint_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  lead_id BIGINT NOT NULL,
  campaign_id BIGINT NOT NULL DEFAULT 0,
  type TINYINT NOT NULL,
  occurred_at TIMESTAMP(6) NOT NULL,
  points DOUBLE NOT NULL DEFAULT 0,
  KEY touchpoints_lead (lead_id, touchpoint_id),
  KEY touchpoints_campaign (campaign_id, type, lead_id)
) ENGINE=InnoDB;

-- One row; policy is a serialized funnel.marketing.v1.ScoringPolicy, NULL for the
-- built-in default.
CREATE TABLE scoring_policy (
  id TINYINT NOT NULL PRIMARY KEY,
  policy BLOB NULL,
  version BIGINT NOT NULL DEFAULT 1,
  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB;
INSERT INTO scoring_policy (id, policy) VALUES (1, NULL);

CREATE TABLE lead_history (
  entry_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  lead_id BIGINT NOT NULL,
  actor VARCHAR(200) NOT NULL,
  action VARCHAR(64) NOT NULL,
  detail VARCHAR(2000) NOT NULL DEFAULT '',
  occurred_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  KEY lead_history_lead (lead_id, entry_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- AIP-155 request ids: the first response of a mutation, replayed on retries.
CREATE TABLE idempotency_keys (
  method VARCHAR(100) NOT NULL,
  request_id VARCHAR(200) NOT NULL,
  response MEDIUMBLOB NULL,
  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (method, request_id)
) ENGINE=InnoDB;

-- Every handoff marketing started, and what became of it.
CREATE TABLE handoffs (
  handoff_id CHAR(36) NOT NULL PRIMARY KEY,
  lead_id BIGINT NOT NULL,
  first_touch_campaign_id BIGINT NOT NULL DEFAULT 0,
  method TINYINT NOT NULL,
  note VARCHAR(2000) NOT NULL DEFAULT '',
  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  delivered_at TIMESTAMP(6) NULL,
  sla_deadline TIMESTAMP(6) NULL,
  decision TINYINT NOT NULL DEFAULT 0,
  rejection_reason TINYINT NOT NULL DEFAULT 0,
  decided_at TIMESTAMP(6) NULL,
  KEY handoffs_lead (lead_id),
  KEY handoffs_campaign (first_touch_campaign_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

