-- A day's capture count spread over shards (their sum is the count), as the
-- campaign counters are: with one row per day every capture batch wrote the same
-- row, so on a Galera cluster with marketing writing through two nodes one of any
-- two concurrent batches failed certification and ran again (./dev bench capture
-- --cluster: 529 certification failures in 15 s and 44 captures refused ABORTED).
ALTER TABLE lead_days
  ADD COLUMN shard TINYINT UNSIGNED NOT NULL DEFAULT 0 AFTER day,
  DROP PRIMARY KEY,
  ADD PRIMARY KEY (day, shard);
