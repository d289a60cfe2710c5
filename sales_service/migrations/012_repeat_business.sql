-- Expansion deals (contract 1.3): an opportunity opened from an expansion handoff
-- is on the customer's existing account; reports keep its revenue apart from new
-- business. 1 is new business, 2 expansion (handoff.v1.BusinessType).
ALTER TABLE opportunities
  ADD COLUMN IF NOT EXISTS business_type TINYINT NOT NULL DEFAULT 1,
  ADD KEY IF NOT EXISTS opportunities_account_won (account_id, stage, closed_at);
-- Referrals: an opportunity opened from a referred person's handoff names the
-- referrer (marketing's lead id, and the referrer's contact when sales holds one).
ALTER TABLE opportunities
  ADD COLUMN IF NOT EXISTS referrer_lead_id BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS referrer_contact_id BIGINT NOT NULL DEFAULT 0;
