-- The funnel view's figures come from covering indexes (counts, sums and medians
-- without reading table rows): opportunities opened, closed and open by source.
ALTER TABLE opportunities
  ADD KEY opportunities_created (created_at, campaign_id),
  ADD KEY opportunities_closed (stage, closed_at, currency, amount_minor, created_at, campaign_id),
  ADD KEY opportunities_open (stage, source, currency, amount_minor, campaign_id);
