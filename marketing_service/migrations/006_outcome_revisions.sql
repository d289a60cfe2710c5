-- A deal's outcome is revised by every close and reopen in sales (DealOutcome.revision,
-- contract 1.1): each handoff keeps its latest outcome, and campaigns are credited
-- for that one only.
ALTER TABLE handoffs
  ADD COLUMN outcome TINYINT NOT NULL DEFAULT 0,
  ADD COLUMN outcome_revision BIGINT NULL;
ALTER TABLE attributions ADD KEY attributions_handoff (handoff_id);
-- Before revisions a deal closed twice was credited twice: keep its latest close.
DELETE a FROM attributions a JOIN attributions b
  ON b.handoff_id = a.handoff_id AND b.event_id <> a.event_id
 AND (b.created_at > a.created_at OR (b.created_at = a.created_at AND b.attribution_id > a.attribution_id));
-- 1 is funnel.handoff.v1.OUTCOME_WON.
UPDATE handoffs SET outcome = 1, outcome_revision = 0
 WHERE handoff_id IN (SELECT handoff_id FROM attributions);
