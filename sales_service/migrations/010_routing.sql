-- Handoff routing: rules tried in order, each naming a team or a weighted pool of
-- reps; the smooth weighted round-robin's state per rule and rep; every assignment
-- of a handoff with its reason; reps' availability for routing.
ALTER TABLE reps ADD COLUMN IF NOT EXISTS away BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE reps ADD COLUMN IF NOT EXISTS handoff_capacity INT NOT NULL DEFAULT 0;

CREATE TABLE IF NOT EXISTS routing_rules (
  rule_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  position INT NOT NULL,
  -- The RoutingRule without its output-only fields: rules are few and matched in
  -- code (routing.h), so nothing queries inside it.
  rule BLOB NOT NULL,
  version BIGINT NOT NULL DEFAULT 1,
  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  KEY routing_rules_position (position)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS routing_pool_state (
  rule_id BIGINT NOT NULL,
  rep_id BIGINT NOT NULL,
  current_weight BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (rule_id, rep_id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS handoff_assignments (
  assignment_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  handoff_id CHAR(36) NOT NULL,
  rep_id BIGINT NOT NULL,
  previous_rep_id BIGINT NOT NULL DEFAULT 0,
  reason TINYINT NOT NULL,
  rule_id BIGINT NOT NULL DEFAULT 0,
  actor VARCHAR(200) NOT NULL,
  note VARCHAR(500) NOT NULL DEFAULT '',
  assigned_at TIMESTAMP(6) NOT NULL,
  KEY handoff_assignments_handoff (handoff_id, assignment_id),
  KEY handoff_assignments_rep (rep_id, assigned_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Why a handoff has its rep, the rule that routed it, and when its rep's time to
-- answer runs out (NULL: no escalation due).
ALTER TABLE handoffs ADD COLUMN IF NOT EXISTS assignment_reason TINYINT NOT NULL DEFAULT 0;
ALTER TABLE handoffs ADD COLUMN IF NOT EXISTS routing_rule_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE handoffs ADD COLUMN IF NOT EXISTS escalation_count INT NOT NULL DEFAULT 0;
ALTER TABLE handoffs ADD COLUMN IF NOT EXISTS escalate_at TIMESTAMP(6) NULL;
ALTER TABLE handoffs ADD KEY IF NOT EXISTS handoffs_escalation (state, escalate_at);
-- Capacity counts a rep's pending handoffs.
ALTER TABLE handoffs ADD KEY IF NOT EXISTS handoffs_rep_state (assigned_rep_id, state);
