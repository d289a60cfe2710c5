-- A campaign's dates may lie past 2038, where TIMESTAMP ends: DATETIME(6), holding
-- UTC (the service writes and reads them as UTC text). The conversion of the
-- stored TIMESTAMPs reads them in UTC too.
SET time_zone = '+00:00';
ALTER TABLE campaigns MODIFY start_at DATETIME(6) NULL, MODIFY end_at DATETIME(6) NULL;
