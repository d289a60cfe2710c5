-- Consent crosses the contract (ConsentChange, 1.1): contacts carry marketing's
-- consent, and an opt-out withdraws pending handoffs, saying why. Erasure reaches
-- every activity of the person's contacts too.
ALTER TABLE contacts ADD COLUMN consent TINYINT NOT NULL DEFAULT 0;
ALTER TABLE handoffs ADD COLUMN withdrawal_reason VARCHAR(500) NOT NULL DEFAULT '';
ALTER TABLE activities ADD KEY activities_contact (contact_id, activity_id);
