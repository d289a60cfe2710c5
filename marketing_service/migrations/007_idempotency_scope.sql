-- Request ids are the caller's own: scoped to (principal, method, request_id) and
-- compared byte for byte (no case folding, no trailing-space padding), with a
-- fingerprint of the request body so a reuse for a different request is refused.
-- Keys stored before this had no principal: they keep answering only calls
-- without one, until the retention window purges them.
ALTER TABLE idempotency_keys
  ADD COLUMN principal VARBINARY(200) NOT NULL DEFAULT '' FIRST,
  MODIFY request_id VARBINARY(800) NOT NULL,
  ADD COLUMN fingerprint CHAR(64) NOT NULL DEFAULT '' AFTER request_id,
  DROP PRIMARY KEY,
  ADD PRIMARY KEY (principal, method, request_id);
