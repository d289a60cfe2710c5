-- Leads merged into another (MergeLeads) stay as tombstones pointing at their
-- survivor: an old id still answers (with the survivor), a capture of a merged
-- lead's address lands on the survivor, and lists and reports count the person
-- once. The capture-time indexes carry the column so that the reports' counts of
-- people stay index-only.
ALTER TABLE leads
  ADD COLUMN IF NOT EXISTS merged_into BIGINT NOT NULL DEFAULT 0,
  ADD KEY IF NOT EXISTS leads_merged_into (merged_into),
  DROP KEY IF EXISTS leads_created,
  ADD KEY leads_created (created_at, merged_into),
  DROP KEY IF EXISTS leads_first_touch,
  ADD KEY leads_first_touch (first_touch_campaign_id, created_at, merged_into);
