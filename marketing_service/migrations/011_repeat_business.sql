-- Repeat business (contract 1.3). A lead keeps the account and contact sales gave
-- back on accepting it, and when it last became a customer; a customer qualified
-- again is an expansion handoff, credited to the campaigns that touched the person
-- since that win (touches_since), its revenue kept apart in the reports.
-- business_type: 1 new business, 2 expansion (handoff.v1.BusinessType). A lead
-- may name the lead (usually a customer) who referred the person.
ALTER TABLE leads
  ADD COLUMN IF NOT EXISTS sales_account_id BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS sales_contact_id BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS won_at TIMESTAMP(6) NULL,
  ADD COLUMN IF NOT EXISTS referrer_lead_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE handoffs
  ADD COLUMN IF NOT EXISTS business_type TINYINT NOT NULL DEFAULT 1,
  ADD COLUMN IF NOT EXISTS touches_since TIMESTAMP(6) NULL;
ALTER TABLE attributions
  ADD COLUMN IF NOT EXISTS business_type TINYINT NOT NULL DEFAULT 1;
