-- Request ids are kept for a retention window (--request_id_retention) and purged
-- after it, oldest first.
ALTER TABLE idempotency_keys ADD KEY idempotency_age (created_at);
