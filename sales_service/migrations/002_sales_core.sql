-- The handoff inbox, accounts, contacts, opportunities with their stage history and
-- objections, activities, quotas and idempotency keys (the outbox of decisions and
-- outcomes and the received events are the contract's, handoff/migrations).
ALTER TABLE reps ADD KEY reps_manager (manager_rep_id, rep_id);

CREATE TABLE handoffs (
  seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  handoff_id CHAR(36) NOT NULL,
  lead_id BIGINT NOT NULL,
  snapshot MEDIUMBLOB NOT NULL,
  state TINYINT NOT NULL DEFAULT 1,
  assigned_rep_id BIGINT NOT NULL DEFAULT 0,
  received_at TIMESTAMP(6) NOT NULL,
  sla_deadline TIMESTAMP(6) NOT NULL,
  first_response_at TIMESTAMP(6) NULL,
  decided_at TIMESTAMP(6) NULL,
  rejection_reason TINYINT NOT NULL DEFAULT 0,
  decision_note VARCHAR(2000) NOT NULL DEFAULT '',
  opportunity_id BIGINT NOT NULL DEFAULT 0,
  decided_by_rep_id BIGINT NOT NULL DEFAULT 0,
  version BIGINT NOT NULL DEFAULT 1,
  UNIQUE KEY handoffs_id (handoff_id),
  KEY handoffs_lead (lead_id),
  KEY handoffs_state (state, seq),
  KEY handoffs_rep (assigned_rep_id, seq)
) ENGINE=InnoDB;

CREATE TABLE accounts (
  account_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  name_key VARCHAR(200) NOT NULL,
  industry VARCHAR(100) NOT NULL DEFAULT '',
  region VARCHAR(100) NOT NULL DEFAULT '',
  company_size INT NOT NULL DEFAULT 0,
  version BIGINT NOT NULL DEFAULT 1,
  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  UNIQUE KEY accounts_name (name_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE contacts (
  contact_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  account_id BIGINT NOT NULL DEFAULT 0,
  email VARCHAR(320) NULL,
  first_name VARCHAR(200) NOT NULL DEFAULT '',
  last_name VARCHAR(200) NOT NULL DEFAULT '',
  title VARCHAR(200) NOT NULL DEFAULT '',
  phone VARCHAR(64) NOT NULL DEFAULT '',
  lead_id BIGINT NOT NULL DEFAULT 0,
  version BIGINT NOT NULL DEFAULT 1,
  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  UNIQUE KEY contacts_email (email),
  KEY contacts_account (account_id, contact_id),
  KEY contacts_lead (lead_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE opportunities (
  opportunity_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  account_id BIGINT NOT NULL,
  contact_id BIGINT NOT NULL DEFAULT 0,
  owner_rep_id BIGINT NOT NULL,
  source TINYINT NOT NULL,
  handoff_id CHAR(36) NOT NULL DEFAULT '',
  lead_id BIGINT NOT NULL DEFAULT 0,
  stage TINYINT NOT NULL,
  probability_override INT NULL,
  currency CHAR(3) NOT NULL DEFAULT '',
  amount_minor BIGINT NOT NULL DEFAULT 0,
  expected_close_date VARCHAR(10) NOT NULL DEFAULT '',
  next_step VARCHAR(2000) NOT NULL DEFAULT '',
  loss_reason TINYINT NOT NULL DEFAULT 0,
  loss_note VARCHAR(2000) NOT NULL DEFAULT '',
  closed_at TIMESTAMP(6) NULL,
  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  version BIGINT NOT NULL DEFAULT 1,
  KEY opportunities_owner (owner_rep_id, opportunity_id),
  KEY opportunities_stage (stage, opportunity_id),
  KEY opportunities_handoff (handoff_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE stage_changes (
  change_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  opportunity_id BIGINT NOT NULL,
  from_stage TINYINT NOT NULL,
  to_stage TINYINT NOT NULL,
  changed_by VARCHAR(200) NOT NULL,
  changed_at TIMESTAMP(6) NOT NULL,
  KEY stage_changes_opportunity (opportunity_id, change_id)
) ENGINE=InnoDB;

CREATE TABLE objections (
  objection_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  opportunity_id BIGINT NOT NULL,
  text VARCHAR(2000) NOT NULL,
  resolution VARCHAR(2000) NOT NULL DEFAULT '',
  resolved BOOLEAN NOT NULL DEFAULT FALSE,
  raised_by VARCHAR(200) NOT NULL,
  raised_at TIMESTAMP(6) NOT NULL,
  resolved_at TIMESTAMP(6) NULL,
  KEY objections_opportunity (opportunity_id, objection_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE activities (
  activity_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  type TINYINT NOT NULL,
  opportunity_id BIGINT NOT NULL DEFAULT 0,
  handoff_id CHAR(36) NOT NULL DEFAULT '',
  contact_id BIGINT NOT NULL DEFAULT 0,
  rep_id BIGINT NOT NULL DEFAULT 0,
  outcome VARCHAR(2000) NOT NULL DEFAULT '',
  occurred_at TIMESTAMP(6) NOT NULL,
  notes TEXT NOT NULL,
  KEY activities_opportunity (opportunity_id, activity_id),
  KEY activities_handoff (handoff_id, activity_id),
  KEY activities_rep (rep_id, occurred_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE quotas (
  rep_id BIGINT NOT NULL,
  quarter CHAR(7) NOT NULL,
  currency CHAR(3) NOT NULL,
  target_minor BIGINT NOT NULL,
  call_target INT NOT NULL DEFAULT 0,
  meeting_target INT NOT NULL DEFAULT 0,
  PRIMARY KEY (rep_id, quarter)
) ENGINE=InnoDB;

CREATE TABLE idempotency_keys (
  method VARCHAR(100) NOT NULL,
  request_id VARCHAR(200) NOT NULL,
  response MEDIUMBLOB NULL,
  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (method, request_id)
) ENGINE=InnoDB;


