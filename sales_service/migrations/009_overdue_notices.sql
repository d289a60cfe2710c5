-- When a handoff's passing its SLA deadline unanswered was put on the change feed
-- (handoff.overdue, once), and the index the periodic scan for new ones reads.
ALTER TABLE handoffs ADD COLUMN IF NOT EXISTS overdue_noticed_at TIMESTAMP(6) NULL;
ALTER TABLE handoffs ADD KEY IF NOT EXISTS handoffs_overdue (state, overdue_noticed_at, sla_deadline);
