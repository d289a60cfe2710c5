// ImportWriter with a fake batch writer: lanes, order per person, counting, failure.

#include "marketing_service/import_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"

namespace funnel::marketing {
namespace {

using ::testing::HasSubstr;

CaptureItem Row(const std::string& email) {
  CaptureItem item;
  item.request.mutable_contact()->set_email(email);
  return item;
}

TEST(ImportWriterTest, RowsOfOnePersonAreWrittenInStreamOrderOneBatchAtATime) {
  std::mutex mu;
  std::map<std::string, std::vector<std::string>> seen;  // email -> first names, in write order
  std::atomic<int> in_flight{0};
  std::atomic<int> most_in_flight{0};
  std::set<std::string> created;
  ImportWriter::WriteBatch write = [&](const std::vector<CaptureItem>& batch) {
    const int now = ++in_flight;
    for (int m = most_in_flight.load(); now > m && !most_in_flight.compare_exchange_weak(m, now);) {
    }
    ImportWriter::Results results;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (const CaptureItem& item : batch) {
        const std::string& email = item.request.contact().email();
        seen[email].push_back(item.request.contact().first_name());
        v1::CaptureLeadResponse response;
        response.set_created(created.insert(email).second);
        results.push_back(response);
      }
    }
    --in_flight;
    return results;
  };
  v1::ImportLeadsResponse summary;
  ImportWriter writer(write, /*batch_size=*/7, &summary);
  for (int row = 1; row <= 300; ++row) {
    CaptureItem item = Row(absl::StrCat("p", row % 13, "@example.com"));
    item.request.mutable_contact()->set_first_name(absl::StrCat(row));
    ASSERT_TRUE(writer.Add(row, std::move(item)).ok());
  }
  ASSERT_TRUE(writer.Finish().ok());
  EXPECT_EQ(summary.created(), 13);
  EXPECT_EQ(summary.merged(), 287);
  EXPECT_LE(most_in_flight.load(), 2);  // one batch per lane at a time
  for (const auto& [email, rows] : seen) {
    ASSERT_FALSE(rows.empty());
    for (size_t i = 1; i < rows.size(); ++i)
      EXPECT_LT(std::stoi(rows[i - 1]), std::stoi(rows[i])) << email;
  }
}

TEST(ImportWriterTest, RowErrorsComeBackInRowOrder) {
  ImportWriter::WriteBatch write = [](const std::vector<CaptureItem>& batch) {
    ImportWriter::Results results;
    for (const CaptureItem& item : batch) {
      if (item.request.contact().email().rfind("bad", 0) == 0) {
        results.push_back(absl::NotFoundError("campaign_id: campaign 9 not found"));
      } else {
        results.push_back(v1::CaptureLeadResponse());
      }
    }
    return results;
  };
  v1::ImportLeadsResponse summary;
  ImportWriter writer(write, 4, &summary);
  for (int row = 1; row <= 40; ++row) {
    if (row == 20) {
      AddRowError(row, absl::InvalidArgumentError("contact.email: not a valid address"), &summary);
      continue;
    }
    ASSERT_TRUE(
        writer.Add(row, Row(absl::StrCat(row % 10 == 3 ? "bad" : "ok", row, "@example.com"))).ok());
  }
  ASSERT_TRUE(writer.Finish().ok());
  std::vector<int64_t> rows;
  for (const auto& e : summary.errors()) rows.push_back(e.row());
  EXPECT_EQ(rows, (std::vector<int64_t>{3, 13, 20, 23, 33}));
  EXPECT_EQ(summary.rejected(), 5);
  EXPECT_EQ(summary.merged(), 35);
}

TEST(ImportWriterTest, ADatabaseFailureStopsTheImportAndSaysWhatCommitted) {
  std::atomic<int> batches{0};
  ImportWriter::WriteBatch write = [&](const std::vector<CaptureItem>& batch) {
    if (++batches == 3)
      return ImportWriter::Results(batch.size(), absl::UnavailableError("database down"));
    ImportWriter::Results results;
    for (size_t i = 0; i < batch.size(); ++i) {
      v1::CaptureLeadResponse created;
      created.set_created(true);
      results.push_back(created);
    }
    return results;
  };
  v1::ImportLeadsResponse summary;
  absl::Status status;
  {
    ImportWriter writer(write, 5, &summary);
    for (int row = 1; row <= 100 && status.ok(); ++row) {
      status = writer.Add(row, Row(absl::StrCat("r", row, "@example.com")));
    }
    if (status.ok()) status = writer.Finish();
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(status.message()), HasSubstr("import stopped at row"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("database down"));
  // Every batch but the failed one committed (one per lane could be in flight).
  EXPECT_EQ(summary.created() % 5, 0);
  EXPECT_GE(summary.created(), 10);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(absl::StrCat(summary.created(), " created")));
}

}  // namespace
}  // namespace funnel::marketing
