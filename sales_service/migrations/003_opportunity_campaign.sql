-- The campaign that first touched a marketing-sourced opportunity's lead (from the
-- handoff snapshot), so the funnel report can follow one campaign into sales.
ALTER TABLE opportunities ADD COLUMN campaign_id BIGINT NOT NULL DEFAULT 0,
  ADD KEY opportunities_campaign (campaign_id);
