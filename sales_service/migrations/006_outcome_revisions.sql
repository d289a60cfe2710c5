-- Every close and reopen of an opportunity is a new revision of its outcome, which
-- marketing keeps only the latest of (DealOutcome.revision, contract 1.1).
ALTER TABLE opportunities ADD COLUMN outcome_revision BIGINT NOT NULL DEFAULT 0;
