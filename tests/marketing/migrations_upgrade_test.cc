// Upgrading a populated database: migration 004's backfills run in chunks of leads
// (so none is one write set of the whole table on Galera) and must add up to what
// one whole-table statement gives.

#include <gtest/gtest.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/mysql/migrations.h"
#include "common/testing/status_matchers.h"
#include "marketing_service/migrations.h"
#include "tests/testing/harness.h"

namespace funnel::marketing {
namespace {

using ::funnel::testing::IsOk;
using ::funnel::testing::TestDatabase;

TEST(MigrationsUpgradeTest, ChunkedReportBackfillsAddUpToTheWholeTable) {
  TestDatabase db("mk_upgrade");
  common::ConnectionPool pool(db.options());
  const std::vector<common::Migration>& all = Migrations();
  std::vector<common::Migration> before_aggregates;
  for (const common::Migration& m : all) {
    if (m.version < 4) before_aggregates.push_back(m);
  }
  ASSERT_THAT(common::ApplyMigrations(pool, before_aggregates), IsOk());
  // 12,000 leads (more than two chunks), ids with gaps as a cluster leaves them,
  // over three days; touchpoints from three campaigns; a handoff per 7th lead.
  for (int start = 0; start < 12'000; start += 2'000) {
    std::string leads = "INSERT INTO leads (lead_id, email, consent, created_at) VALUES ";
    std::string touches =
        "INSERT INTO touchpoints (lead_id, campaign_id, type, occurred_at) VALUES ";
    std::string handoffs = "INSERT INTO handoffs (handoff_id, lead_id, method) VALUES ";
    bool any_handoff = false;
    for (int i = start; i < start + 2'000; ++i) {
      const int64_t id = 3 * i + 2;
      absl::StrAppend(&leads, i == start ? "" : ",", "(", id, ",'u", i, "@example.com',",
                      i % 9 == 0 ? 3 : 1, ",'2026-0", 1 + i % 3, "-1", i % 2, " 12:00:00')");
      for (int t = 0; t < 1 + i % 3; ++t) {
        absl::StrAppend(&touches, i == start && t == 0 ? "" : ",", "(", id, ",", (i + t) % 4, ",",
                        1 + t, ",'2026-04-01 00:00:00')");
      }
      if (i % 7 == 0) {
        absl::StrAppend(&handoffs, any_handoff ? "," : "", "(UUID(),", id, ",1)");
        any_handoff = true;
      }
    }
    db.Execute(leads);
    db.Execute(touches);
    db.Execute(handoffs);
  }
  ASSERT_THAT(common::ApplyMigrations(pool, all), IsOk());

  // What one whole-table statement each gives.
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM campaign_leads"),
            db.QueryInt("SELECT COUNT(*) FROM (SELECT DISTINCT campaign_id, lead_id FROM "
                        "touchpoints WHERE campaign_id <> 0) d"));
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM (SELECT campaign_id, counter, SUM(value) v FROM "
                        "campaign_counters WHERE counter > 0 GROUP BY campaign_id, counter) c "
                        "JOIN (SELECT campaign_id, type, COUNT(*) n FROM touchpoints WHERE "
                        "campaign_id <> 0 GROUP BY campaign_id, type) t "
                        "ON t.campaign_id = c.campaign_id AND t.type = c.counter AND t.n = c.v"),
            db.QueryInt("SELECT COUNT(DISTINCT campaign_id, type) FROM touchpoints WHERE "
                        "campaign_id <> 0"));
  EXPECT_EQ(db.QueryInt("SELECT SUM(value) FROM campaign_counters WHERE counter = 0"),
            db.QueryInt("SELECT COUNT(*) FROM campaign_leads cl JOIN leads l USING (lead_id) "
                        "WHERE l.consent <> 3"));
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM lead_days"), 6);
  EXPECT_EQ(db.QueryInt("SELECT SUM(captured) FROM lead_days"), 12'000);
  EXPECT_EQ(db.QueryInt("SELECT captured FROM lead_days WHERE day = '2026-01-10'"),
            db.QueryInt("SELECT COUNT(*) FROM leads WHERE DATE(created_at) = '2026-01-10'"));
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM handoffs WHERE lead_created_at IS NULL"), 0);
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM handoffs h JOIN leads l USING (lead_id) WHERE "
                        "h.lead_created_at <> l.created_at"),
            0);
  EXPECT_EQ(db.QueryInt("SELECT COUNT(*) FROM schema_migrations_chunks"), 0);
}

}  // namespace
}  // namespace funnel::marketing
