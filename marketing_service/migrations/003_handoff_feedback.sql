-- What sales reports back: decisions and deal outcomes, each applied once (the
-- contract's inbox_events, handoff/migrations), and the revenue attributed to
-- campaigns.
ALTER TABLE handoffs ADD COLUMN last_touch_campaign_id BIGINT NOT NULL DEFAULT 0;

CREATE TABLE attributions (
  attribution_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  event_id CHAR(36) NOT NULL,
  handoff_id CHAR(36) NOT NULL,
  campaign_id BIGINT NOT NULL,
  model TINYINT NOT NULL,
  currency CHAR(3) NOT NULL,
  amount_minor BIGINT NOT NULL,
  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  KEY attributions_campaign (campaign_id, model, currency),
  KEY attributions_event (event_id)
) ENGINE=InnoDB;
