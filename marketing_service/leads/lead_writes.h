#pragma once

// The audit history entries and touchpoints one transaction adds. Immediate mode
// writes each at once (for callers that answer with the new touchpoint's id);
// deferred mode collects them and Flush() writes each kind with one multi-row
// INSERT, so a batch of captures costs two statements where it cost two per lead.
// Touchpoints are counted into the campaign counters as they are written.

#include <cppconn/connection.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "funnel/handoff/v1/types.pb.h"
#include "funnel/marketing/v1/marketing_service.pb.h"

namespace funnel::marketing {

class LeadWrites final {
 public:
  LeadWrites(sql::Connection& conn, bool deferred) : conn_(conn), deferred_(deferred) {}
  LeadWrites(const LeadWrites&) = delete;
  LeadWrites& operator=(const LeadWrites&) = delete;

  void History(int64_t lead_id, const std::string& actor, v1::HistoryAction action,
               absl::string_view detail, absl::Time now);
  // The new touchpoint's id; 0 when deferred (its id is known only after Flush).
  // `lead_opted_out` is the lead's stored opt-out (LeadRow::stored_opted_out), for
  // the campaign reach counts.
  int64_t Touchpoint(int64_t lead_id, bool lead_opted_out, int64_t campaign_id,
                     handoff::v1::TouchpointType type, absl::Time when, double points);
  // Writes everything deferred so far (before any statement that must see it),
  // except the rows of leads not stored yet: those carry a placeholder lead_id
  // (below 0) and wait until Rename gives them the stored one.
  void Flush();
  // Gives deferred rows of placeholder ids (the keys) their stored lead ids.
  void Rename(const std::map<int64_t, int64_t>& lead_ids);

 private:
  // Writes and counts the pending touchpoints; in immediate mode, the id of the one written.
  int64_t InsertTouchpoints();

  struct HistoryRow {
    int64_t lead_id;
    std::string actor;
    std::string action;
    std::string detail;
    absl::Time at;
  };
  struct TouchpointRow {
    int64_t lead_id;
    bool lead_opted_out;
    int64_t campaign_id;
    handoff::v1::TouchpointType type;
    absl::Time when;
    double points;
  };

  sql::Connection& conn_;
  const bool deferred_;
  std::vector<HistoryRow> history_;
  std::vector<TouchpointRow> touchpoints_;
};

}  // namespace funnel::marketing
