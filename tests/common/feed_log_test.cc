// The change feed's table against MariaDB: numbered after commit, so a reader that
// follows the numbers misses nothing while many writers commit out of id order.

#include "common/feed/feed_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/feed/feed_hub.h"
#include "common/feed/resume_token.h"
#include "common/mysql/migrations.h"
#include "common/testing/status_matchers.h"
#include "tests/testing/harness.h"

namespace funnel::feed {
namespace {

using ::funnel::testing::IsOk;

class FeedLogTest : public ::testing::Test {
 protected:
  FeedLogTest()
      : db_("feed"),
        pool_([&] {
          common::DbOptions o = db_.options();
          o.pool_size = 16;
          return o;
        }()),
        log_(&pool_) {}

  void SetUp() override {
    ASSERT_THAT(common::ApplyMigrations(pool_, Migrations(), "feed_schema_migrations"), IsOk());
  }

  // One event in a transaction of its own, which waits `hold` before committing.
  absl::Status Append(const std::string& type, int64_t id, int64_t lead_id,
                      absl::Duration hold = absl::ZeroDuration()) {
    return pool_.InTransaction("append", [&](sql::Connection& conn) {
      AppendEvent(conn, {absl::StrCat(type, ".changed"), type, absl::StrCat(id), lead_id, "tester",
                         absl::StrCat("change of ", id), absl::Now()});
      absl::SleepFor(hold);
      return absl::OkStatus();
    });
  }

  void SequenceAll() {
    absl::StatusOr<int> n;
    do {
      n = log_.Sequence(1000);
      ASSERT_THAT(n, IsOk());
    } while (*n > 0);
  }

  testing::TestDatabase db_;
  common::ConnectionPool pool_;
  FeedLog log_;
};

// The classic gap: ids are handed out at insert and commit out of order (each
// writer holds its transaction open for a random while). A reader that goes by
// the sequencer's numbers, paging from the last one it saw while writers and the
// sequencer run, still sees every event once, and each writer's events in the
// order it committed them.
TEST_F(FeedLogTest, AReaderFollowingTheNumbersSeesEveryConcurrentCommitOnceInOrder) {
  constexpr int kWriters = 8;
  constexpr int kPerWriter = 60;
  std::atomic<bool> writing{true};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::minstd_rand rng(w);
      for (int i = 0; i < kPerWriter; ++i) {
        const absl::Duration hold = absl::Microseconds(rng() % 4000);
        EXPECT_THAT(Append("lead", w * 1000 + i, w, hold), IsOk());
      }
    });
  }
  std::thread sequencer([&] {
    while (writing) {
      EXPECT_THAT(log_.Sequence(7), IsOk());  // small batches: many sequencer rounds
      absl::SleepFor(absl::Milliseconds(1));
    }
  });
  std::vector<FeedRow> seen;
  int64_t position = 0;
  auto read_on = [&] {
    absl::StatusOr<FeedPage> page = log_.ReadAfter(position, {}, 13);
    ASSERT_THAT(page, IsOk());
    for (FeedRow& row : page->rows) {
      position = row.seq;
      seen.push_back(std::move(row));
    }
  };
  // Read while they write (the point), for as long as they take.
  std::atomic<int> done{0};
  std::thread watch_writers([&] {
    for (std::thread& t : writers) t.join();
    done = 1;
  });
  while (done == 0) {
    read_on();
    absl::SleepFor(absl::Microseconds(500));
  }
  watch_writers.join();
  writing = false;
  sequencer.join();
  SequenceAll();
  for (int i = 0; i < 100 && seen.size() < kWriters * kPerWriter; ++i) read_on();

  ASSERT_EQ(seen.size(), size_t{kWriters * kPerWriter});
  std::map<int64_t, int> times;
  std::map<int64_t, int64_t> last_of_writer;
  for (size_t k = 0; k < seen.size(); ++k) {
    EXPECT_EQ(seen[k].seq, static_cast<int64_t>(k) + 1);  // no number skipped or repeated
    const int64_t id = std::stoll(seen[k].entry.entity_id);
    ++times[id];
    const int64_t writer = seen[k].entry.lead_id;
    if (last_of_writer.count(writer) > 0) {
      EXPECT_GT(id, last_of_writer[writer]) << "writer " << writer;
    }
    last_of_writer[writer] = id;
  }
  EXPECT_EQ(times.size(), size_t{kWriters * kPerWriter});
  for (const auto& [id, n] : times) EXPECT_EQ(n, 1) << id;
}

TEST_F(FeedLogTest, AnUncommittedEventIsNotNumberedUntilItCommits) {
  ASSERT_THAT(Append("lead", 1, 1), IsOk());
  std::thread slow([&] { EXPECT_THAT(Append("lead", 2, 2, absl::Milliseconds(400)), IsOk()); });
  absl::SleepFor(absl::Milliseconds(100));  // the slow one has inserted, not committed
  ASSERT_THAT(Append("lead", 3, 3), IsOk());
  SequenceAll();
  slow.join();
  SequenceAll();
  absl::StatusOr<FeedPage> page = log_.ReadAfter(0, {}, 10);
  ASSERT_THAT(page, IsOk());
  const std::vector<FeedRow>* rows = &page->rows;
  ASSERT_EQ(rows->size(), 3u);
  // Numbered in commit order: the slow writer's event (inserted second) comes last.
  EXPECT_EQ((*rows)[0].entry.entity_id, "1");
  EXPECT_EQ((*rows)[2].entry.entity_id, "2");
}

TEST_F(FeedLogTest, FiltersByEntityAndPrunesTheOldest) {
  for (int i = 1; i <= 6; ++i) ASSERT_THAT(Append(i % 2 ? "lead" : "campaign", i, 0), IsOk());
  SequenceAll();
  absl::StatusOr<FeedPage> campaigns = log_.ReadAfter(0, {"campaign", ""}, 10);
  ASSERT_THAT(campaigns, IsOk());
  EXPECT_EQ(campaigns->rows.size(), 3u);
  absl::StatusOr<FeedPage> one = log_.ReadAfter(0, {"lead", "5"}, 10);
  ASSERT_THAT(one, IsOk());
  ASSERT_EQ(one->rows.size(), 1u);
  EXPECT_EQ(one->rows[0].entry.entity_id, "5");

  absl::StatusOr<int> dropped = log_.Prune(absl::Now() + absl::Seconds(1), 4);
  ASSERT_THAT(dropped, IsOk());
  EXPECT_EQ(*dropped, 4);
  absl::StatusOr<FeedBounds> bounds = log_.Bounds();
  ASSERT_THAT(bounds, IsOk());
  EXPECT_EQ(bounds->head, 6);
  EXPECT_EQ(bounds->pruned_through, 4);
  absl::StatusOr<FeedPage> left = log_.ReadAfter(4, {}, 10);
  ASSERT_THAT(left, IsOk());
  ASSERT_EQ(left->rows.size(), 2u);
  EXPECT_EQ(left->rows[0].seq, 5);
  // A reader still at 3 learns that events after it were dropped.
  absl::StatusOr<FeedPage> behind = log_.ReadAfter(3, {}, 10);
  ASSERT_THAT(behind, IsOk());
  EXPECT_EQ(behind->pruned_through, 4);
  // Nothing numbered after the cutoff is dropped.
  dropped = log_.Prune(absl::Now() - absl::Hours(1), 100);
  ASSERT_THAT(dropped, IsOk());
  EXPECT_EQ(*dropped, 0);
}

TEST_F(FeedLogTest, ErasureEmptiesTheDetailOfTheLeadsEvents) {
  ASSERT_THAT(Append("lead", 7, 7), IsOk());
  ASSERT_THAT(Append("lead", 8, 8), IsOk());
  ASSERT_THAT(pool_.InTransaction("scrub",
                                  [](sql::Connection& conn) {
                                    ScrubLeadEvents(conn, 7);
                                    return absl::OkStatus();
                                  }),
              IsOk());
  SequenceAll();
  absl::StatusOr<FeedPage> page = log_.ReadAfter(0, {}, 10);
  ASSERT_THAT(page, IsOk());
  const std::vector<FeedRow>* rows = &page->rows;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].entry.detail, "");
  EXPECT_EQ((*rows)[0].entry.actor, "");
  EXPECT_EQ((*rows)[1].entry.detail, "change of 8");
}

TEST(ResumeTokenTest, RoundTripsAndRefusesAnotherFeedsToken) {
  const std::string token = EncodeResumeToken("marketing", 42);
  absl::StatusOr<int64_t> seq = DecodeResumeToken("marketing", token);
  ASSERT_THAT(seq, IsOk());
  EXPECT_EQ(*seq, 42);
  EXPECT_EQ(DecodeResumeToken("sales", token).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeResumeToken("marketing", "garbage").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeResumeToken("marketing", "").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace funnel::feed
