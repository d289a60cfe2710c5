-- Merged contacts and accounts stay as tombstones pointing at their survivor: an
-- old id still answers (with the survivor), and a handoff of a merged person or
-- company lands on the survivor.
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS merged_into BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS merged_into BIGINT NOT NULL DEFAULT 0;
ALTER TABLE activities ADD KEY IF NOT EXISTS activities_contact (contact_id);
ALTER TABLE opportunities ADD KEY IF NOT EXISTS opportunities_contact (contact_id);
ALTER TABLE opportunities ADD KEY IF NOT EXISTS opportunities_account (account_id);
