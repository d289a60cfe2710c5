-- Pre-aggregated figures for the reporting views, kept in the same transactions as
-- the writes they count: GetCampaignMetrics reads a few counter rows where it
-- scanned every touchpoint of the campaign (a million for a large one), and the
-- funnel views read covering indexes instead of table rows.

-- Which campaigns have touched which leads (reach is the number of such leads
-- that have not opted out).
CREATE TABLE campaign_leads (
  campaign_id BIGINT NOT NULL,
  lead_id BIGINT NOT NULL,
  PRIMARY KEY (campaign_id, lead_id),
  KEY campaign_leads_lead (lead_id)
) ENGINE=InnoDB;

-- counter 0 is reach; counter N > 0 is touchpoints of type N. Each figure is the
-- sum over shards (lead_id % 16), so concurrent writers touching one campaign
-- seldom wait for the same row.
CREATE TABLE campaign_counters (
  campaign_id BIGINT NOT NULL,
  counter SMALLINT NOT NULL,
  shard TINYINT NOT NULL,
  value BIGINT NOT NULL,
  PRIMARY KEY (campaign_id, counter, shard)
) ENGINE=InnoDB;

-- The backfills run in chunks of leads (common/mysql/migrations.h), each its own
-- transaction, so none is one write set of the whole table.
-- funnel:chunk touchpoints.lead_id 5000
INSERT INTO campaign_leads (campaign_id, lead_id)
SELECT DISTINCT campaign_id, lead_id FROM touchpoints
WHERE campaign_id <> 0 AND lead_id >= {lo} AND lead_id < {hi};

-- funnel:chunk touchpoints.lead_id 5000
INSERT INTO campaign_counters (campaign_id, counter, shard, value)
SELECT campaign_id, type, lead_id % 16, COUNT(*) FROM touchpoints
WHERE campaign_id <> 0 AND lead_id >= {lo} AND lead_id < {hi}
GROUP BY campaign_id, type, lead_id % 16
ON DUPLICATE KEY UPDATE value = value + VALUES(value);

-- funnel:chunk leads.lead_id 5000
INSERT INTO campaign_counters (campaign_id, counter, shard, value)
SELECT cl.campaign_id, 0, cl.lead_id % 16, COUNT(*)
FROM campaign_leads cl JOIN leads l ON l.lead_id = cl.lead_id
WHERE l.consent <> 3 AND l.lead_id >= {lo} AND l.lead_id < {hi}
GROUP BY cl.campaign_id, cl.lead_id % 16
ON DUPLICATE KEY UPDATE value = value + VALUES(value);

-- Leads captured per day (UTC): the funnel view sums whole days from here and
-- counts only the partial days at a range's ends from the leads themselves.
CREATE TABLE lead_days (
  day DATE NOT NULL PRIMARY KEY,
  captured BIGINT NOT NULL
) ENGINE=InnoDB;

-- funnel:chunk leads.lead_id 5000
INSERT INTO lead_days (day, captured)
SELECT DATE(created_at), COUNT(*) FROM leads WHERE lead_id >= {lo} AND lead_id < {hi}
GROUP BY DATE(created_at)
ON DUPLICATE KEY UPDATE captured = captured + VALUES(captured);

-- The lead's capture time on its handoff, so capture-to-MQL times need no join.
-- Campaign metrics and funnel views read the indexes below instead of table rows.
ALTER TABLE handoffs ADD COLUMN lead_created_at TIMESTAMP(6) NULL;

-- funnel:chunk handoffs.lead_id 5000
UPDATE handoffs h JOIN leads l ON l.lead_id = h.lead_id SET h.lead_created_at = l.created_at
WHERE h.lead_id >= {lo} AND h.lead_id < {hi};

ALTER TABLE leads
  DROP KEY leads_first_touch,
  ADD KEY leads_first_touch (first_touch_campaign_id, created_at);

ALTER TABLE handoffs
  DROP KEY handoffs_campaign,
  ADD KEY handoffs_campaign (first_touch_campaign_id, decision, rejection_reason, lead_id,
                             delivered_at, decided_at, sla_deadline),
  ADD KEY handoffs_created (created_at, lead_id, lead_created_at),
  ADD KEY handoffs_delivered (delivered_at, created_at),
  ADD KEY handoffs_decided (decided_at, decision, rejection_reason, delivered_at);
