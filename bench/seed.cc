#include "bench/seed.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/substitute.h"

namespace funnel::bench {
namespace {

// Rows go in chunks: one huge statement would hold one huge transaction.
constexpr int64_t kChunk = 250'000;

// Runs `sql_for(first, last)` (1-based, inclusive) over 1..count in chunks.
template <typename Fn>
void InChunks(testing::TestDatabase& db, int64_t count, Fn sql_for) {
  for (int64_t first = 1; first <= count; first += kChunk) {
    db.Execute(sql_for(first, std::min(count, first + kChunk - 1)));
  }
}

// Runs `sql`, which names a range [{lo}, {hi}) of lead ids, over every lead id of
// `table` in chunks, each statement its own transaction (as migration 004 does:
// one statement over the whole table is one write set, too large for Galera).
void OverLeadIds(testing::TestDatabase& db, const std::string& table, const std::string& sql) {
  const int64_t first = db.QueryInt("SELECT COALESCE(MIN(lead_id), 0) FROM " + table);
  const int64_t last = db.QueryInt("SELECT COALESCE(MAX(lead_id), -1) FROM " + table);
  for (int64_t lo = first; lo <= last; lo += kChunk) {
    db.Execute(absl::StrReplaceAll(
        sql, {{"{lo}", absl::StrCat(lo)}, {"{hi}", absl::StrCat(lo + kChunk)}}));
  }
}

// Seeded leads are at version 2, as if captured once: marketing treats version 1
// as "inserted by this very capture".

// A time within the past year, spread by n.
std::string PastYear(const std::string& n) {
  return absl::StrCat("NOW(6) - INTERVAL ((", n, " * 7919) % 31536000) SECOND");
}

}  // namespace

void SeedCampaigns(testing::TestDatabase& marketing) {
  marketing.Execute(absl::Substitute(R"sql(
    INSERT INTO campaigns (name, channel, state, currency, budget_minor, cost_minor, start_at)
    SELECT CONCAT('Bench campaign ', seq), 1 + seq % 3, 2, 'USD', 10000000, 5000000,
           NOW(6) - INTERVAL 400 DAY
    FROM seq_1_to_$0)sql",
                                     kSeedCampaigns));
}

int64_t SeedLeads(testing::TestDatabase& marketing, int64_t count, const std::string& tag,
                  bool some_handed_off) {
  const int64_t before = marketing.QueryInt("SELECT COALESCE(MAX(lead_id), 0) FROM leads");
  InChunks(marketing, count, [&](int64_t first, int64_t last) {
    return absl::Substitute(R"sql(
      INSERT INTO leads (email, first_name, last_name, company, industry, region, company_size,
                         score, temperature, stage, consent, engagement, first_touch_campaign_id,
                         last_touch_campaign_id, version, created_at, updated_at)
      SELECT CONCAT('seed-$0-', seq, '@bench.example'), 'Seed', CONCAT('Lead ', seq),
             CONCAT('Company ', seq % 50000), ELT(1 + seq % 4, 'software', 'retail', 'finance', 'health'),
             ELT(1 + seq % 3, 'EMEA', 'AMER', 'APAC'), 10 + seq % 5000, seq % 100,
             1 + seq % 3, IF(seq DIV 10 % 10 = 0, $5, 2), 2, seq % 50, 1 + seq % $3, 1 + seq % $3,
             2, $4, $4
      FROM seq_$1_to_$2)sql",
                            tag, first, last, kSeedCampaigns, PastYear("seq"),
                            some_handed_off ? 4 : 2);
  });
  // The daily counts the service keeps per capture, rebuilt in bulk as
  // marketing_service/migrations/004 does.
  marketing.Execute("DELETE FROM lead_days");
  OverLeadIds(marketing, "leads", R"sql(
    INSERT INTO lead_days (day, captured)
    SELECT DATE(created_at), COUNT(*) FROM leads WHERE lead_id >= {lo} AND lead_id < {hi}
    GROUP BY DATE(created_at)
    ON DUPLICATE KEY UPDATE captured = captured + VALUES(captured))sql");
  return before + 1;
}

void SeedTouchpoints(testing::TestDatabase& marketing, int64_t count, int64_t first_lead,
                     int64_t leads) {
  InChunks(marketing, count, [&](int64_t first, int64_t last) {
    return absl::Substitute(R"sql(
      INSERT INTO touchpoints (lead_id, campaign_id, type, occurred_at, points)
      SELECT $0 + seq % $1, 1 + seq % $2, 1 + seq % 11, $3, 5
      FROM seq_$4_to_$5)sql",
                            first_lead, leads, kSeedCampaigns, PastYear("seq"), first, last);
  });
  // The campaign counters the service keeps per write, built in bulk as
  // marketing_service/migrations/004 does.
  marketing.Execute("DELETE FROM campaign_leads");
  marketing.Execute("DELETE FROM campaign_counters");
  OverLeadIds(marketing, "touchpoints", R"sql(
    INSERT INTO campaign_leads (campaign_id, lead_id)
    SELECT DISTINCT campaign_id, lead_id FROM touchpoints
    WHERE campaign_id <> 0 AND lead_id >= {lo} AND lead_id < {hi})sql");
  OverLeadIds(marketing, "touchpoints", R"sql(
    INSERT INTO campaign_counters (campaign_id, counter, shard, value)
    SELECT campaign_id, type, lead_id % 16, COUNT(*) FROM touchpoints
    WHERE campaign_id <> 0 AND lead_id >= {lo} AND lead_id < {hi}
    GROUP BY campaign_id, type, lead_id % 16
    ON DUPLICATE KEY UPDATE value = value + VALUES(value))sql");
  OverLeadIds(marketing, "leads", R"sql(
    INSERT INTO campaign_counters (campaign_id, counter, shard, value)
    SELECT cl.campaign_id, 0, cl.lead_id % 16, COUNT(*)
    FROM campaign_leads cl JOIN leads l ON l.lead_id = cl.lead_id
    WHERE l.consent <> 3 AND l.lead_id >= {lo} AND l.lead_id < {hi}
    GROUP BY cl.campaign_id, cl.lead_id % 16
    ON DUPLICATE KEY UPDATE value = value + VALUES(value))sql");
}

int64_t SeedHandoffs(testing::TestDatabase& marketing, testing::TestDatabase& sales) {
  // Ids derived from the lead, so both sides name the same handoff.
  OverLeadIds(marketing, "leads", R"sql(
    INSERT INTO handoffs (handoff_id, lead_id, first_touch_campaign_id, method, note, created_at,
                          lead_created_at, delivered_at, sla_deadline, decision, rejection_reason,
                          decided_at, outcome)
    SELECT CONCAT('00000000-0000-4000-8000-', LPAD(lead_id, 12, '0')), lead_id,
           first_touch_campaign_id, 1, 'seeded', created_at, created_at, created_at + INTERVAL 1 SECOND,
           created_at + INTERVAL 1 DAY, lead_id % 3, IF(lead_id % 3 = 2, 1 + lead_id % 4, 0),
           IF(lead_id % 3 = 0, NULL, created_at + INTERVAL 2 HOUR),
           -- Accepted deals closed: won three times in five for software, once in five
           -- else. (By lead_id DIV 100: handed-off leads are those with lead_id % 100
           -- under 10, so lead_id % 5 would follow lead_id % 4, the industry.)
           IF(lead_id % 3 = 1, IF((lead_id DIV 100) % 5 < IF(industry = 'software', 3, 1), 1, 2), 0)
    FROM leads WHERE stage = 4 AND lead_id >= {lo} AND lead_id < {hi})sql");
  OverLeadIds(sales, marketing.name() + ".handoffs",
              absl::Substitute(R"sql(
    INSERT INTO handoffs (handoff_id, lead_id, snapshot, state, assigned_rep_id, received_at,
                          sla_deadline, first_response_at, decided_at, rejection_reason,
                          decided_by_rep_id)
    SELECT handoff_id, lead_id, '', 1 + decision, 2, delivered_at, sla_deadline, decided_at,
           decided_at, rejection_reason, IF(decision = 0, 0, 2)
    FROM $0.handoffs WHERE lead_id >= {lo} AND lead_id < {hi})sql",
                               marketing.name()));
  return sales.QueryInt("SELECT COUNT(*) FROM handoffs");
}

int64_t SeedOpportunities(testing::TestDatabase& sales, int64_t count) {
  sales.Execute(
      "INSERT IGNORE INTO accounts (account_id, name, name_key) VALUES (1, 'Bench account', 'bench "
      "account')");
  // Accepted handoffs become marketing-sourced deals; the rest sales finds itself.
  sales.Execute(absl::Substitute(R"sql(
    INSERT INTO opportunities (name, account_id, owner_rep_id, source, handoff_id, lead_id, stage,
                               currency, amount_minor, closed_at, created_at, updated_at,
                               campaign_id)
    SELECT CONCAT('Deal ', seq), 1, 1 + seq % 2, 1, handoff_id, lead_id, 1 + seq % 7, 'USD',
           100000 + (seq % 100) * 1000, IF(seq % 7 >= 5, received_at + INTERVAL 30 DAY, NULL),
           received_at + INTERVAL 3 HOUR, received_at + INTERVAL 3 HOUR, 1 + lead_id % $1
    FROM handoffs WHERE state = 2 ORDER BY seq LIMIT $0)sql",
                                 count, kSeedCampaigns));
  const int64_t rest = count - sales.QueryInt("SELECT COUNT(*) FROM opportunities");
  if (rest > 0) {
    InChunks(sales, rest, [&](int64_t first, int64_t last) {
      return absl::Substitute(R"sql(
        INSERT INTO opportunities (name, account_id, owner_rep_id, source, stage, currency,
                                   amount_minor, closed_at, created_at, updated_at)
        SELECT CONCAT('Prospect ', seq), 1, 1 + seq % 2, 2 + seq % 3, 1 + seq % 7, 'USD',
               50000 + (seq % 100) * 1000, IF(seq % 7 >= 5, $0 + INTERVAL 20 DAY, NULL), $0, $0
        FROM seq_$1_to_$2)sql",
                              PastYear("seq"), first, last);
    });
  }
  return sales.QueryInt("SELECT COUNT(*) FROM opportunities");
}

}  // namespace funnel::bench
