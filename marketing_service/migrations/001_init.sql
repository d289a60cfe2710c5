-- Marketing's first schema: the audience. Later migrations add campaigns,
-- segments, touchpoints, scoring and the handoff outbox.
CREATE TABLE leads (
  lead_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(320) NULL,
  first_name VARCHAR(200) NOT NULL DEFAULT '',
  last_name VARCHAR(200) NOT NULL DEFAULT '',
  company VARCHAR(200) NOT NULL DEFAULT '',
  title VARCHAR(200) NOT NULL DEFAULT '',
  phone VARCHAR(64) NOT NULL DEFAULT '',
  industry VARCHAR(100) NOT NULL DEFAULT '',
  region VARCHAR(100) NOT NULL DEFAULT '',
  company_size INT NOT NULL DEFAULT 0,
  score DOUBLE NOT NULL DEFAULT 0,
  temperature TINYINT NOT NULL DEFAULT 1,
  stage TINYINT NOT NULL DEFAULT 1,
  consent TINYINT NOT NULL DEFAULT 1,
  erased BOOLEAN NOT NULL DEFAULT FALSE,
  version BIGINT NOT NULL DEFAULT 1,
  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  -- NULL after erasure, so erased leads never collide on email.
  UNIQUE KEY leads_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
