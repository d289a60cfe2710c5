-- The request id of the call that wrote each outbox event: the relay sends the
-- event with it, so one id joins the log lines of the call, its delivery and the
-- receiver's handling.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS request_id VARCHAR(128) NOT NULL DEFAULT '';
