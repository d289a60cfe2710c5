-- Who leased an outbox event for delivery (its next_attempt_at is then when the
-- lease runs out): the relay claims a batch in a short transaction and sends it
-- after that commits, so no transaction (and on Galera no node-local row lock) is
-- held across the calls.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS leased_by VARCHAR(100) NULL;
