#pragma once

// The change feed's table (migrations/001_feed.sql): stores append events in the
// transaction of the change they describe; the sequencer numbers them after they
// committed; watchers read them by number.
//
// Why a number given after commit: an AUTO_INCREMENT id is handed out when the row
// is inserted, so two writers can commit ids 7 and 6 in that order, and a reader
// that saw 7 and moved on never sees 6. The sequencer gives `seq` to committed
// events only, in transactions that hold feed_clock's row lock one after the
// other, so the numbered events form a prefix at every moment (on Galera too: the
// clock row's write conflicts certify). Within one entity, events keep their
// commit order: a store locks the entity's row before it appends, so a later
// change's event is inserted (and numbered) after the earlier one's.

#include <cppconn/connection.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mysql/pool.h"

namespace funnel::feed {

// One change, as a store appends it.
struct FeedEntry {
  std::string kind;         // "lead.qualified": "<entity_type>.<what>"
  std::string entity_type;  // "lead"
  std::string entity_id;    // "42", a handoff's UUID
  int64_t lead_id = 0;      // the marketing lead it concerns, or 0
  std::string actor;
  std::string detail;  // for people; never personal data
  absl::Time occurred_at;
};

// Appends events in the caller's transaction (one statement per 500).
void AppendEvents(sql::Connection& conn, const std::vector<FeedEntry>& entries);
inline void AppendEvent(sql::Connection& conn, const FeedEntry& entry) {
  AppendEvents(conn, {entry});
}

// True when this thread appended an event since the last call; clears the mark
// (the feed's doorbell asks it after each commit).
bool TakeFeedWritten();

// Files every event about `from_lead_id` under `to_lead_id` (the lead it was merged
// into), in the caller's transaction.
void RelinkLeadEvents(sql::Connection& conn, int64_t from_lead_id, int64_t to_lead_id);

// Empties the actor and detail of every event about `lead_id` (erasure), in the
// caller's transaction.
void ScrubLeadEvents(sql::Connection& conn, int64_t lead_id);

struct FeedRow {
  int64_t seq = 0;
  FeedEntry entry;
};

// Where the feed stands: events (pruned_through, head] are kept.
struct FeedBounds {
  int64_t head = 0;
  int64_t pruned_through = 0;
};

struct FeedPage {
  std::vector<FeedRow> rows;
  int64_t pruned_through = 0;
};

// What a watcher reads; empty fields match everything.
struct FeedFilter {
  std::string entity_type;
  std::string entity_id;
};

class FeedLog final {
 public:
  explicit FeedLog(common::ConnectionPool* pool) : pool_(pool) {}

  // Numbers up to `max_events` committed, unnumbered events in id order, and
  // returns how many.
  absl::StatusOr<int> Sequence(int max_events);
  absl::StatusOr<FeedBounds> Bounds();
  // Numbered events after `after` matching `filter`, oldest first, and the
  // pruned_through of the same snapshot: when it is past `after`, retention dropped
  // events the reader never saw (and the rows skip them).
  absl::StatusOr<FeedPage> ReadAfter(int64_t after, const FeedFilter& filter, int limit);
  // Drops up to `max_events` of the oldest events numbered before `before`;
  // returns how many.
  absl::StatusOr<int> Prune(absl::Time before, int max_events);

 private:
  common::ConnectionPool* const pool_;
};

}  // namespace funnel::feed
