-- Merged contacts and accounts stay as tombstones pointing at their survivor: an
-- old id still answers (with the survivor), and a handoff of a merged person or
-- company lands on the survivor.
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS merged_into BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS merged_into BIGINT NOT NULL DEFAULT 0;
ALTER TABLE activities ADD KEY IF NOT EXISTS activities_contact (contact_id);
ALTER TABLE opportunities ADD KEY IF NOT EXISTS opportunities_contact (contact_id);
ALTER TABLE opportunities ADD KEY IF NOT EXISTS opportunities_account (account_id);

-- Leads marketing merged (LeadMerged, contract 1.2): what arrives later for a merged
-- lead is filed under its survivor.
CREATE TABLE IF NOT EXISTS lead_merges (
  merged_lead_id BIGINT NOT NULL PRIMARY KEY,
  survivor_lead_id BIGINT NOT NULL,
  merged_at TIMESTAMP(6) NOT NULL,
  KEY lead_merges_survivor (survivor_lead_id)
) ENGINE=InnoDB;
