#include "handoff/inbox.h"

#include <cppconn/resultset.h>

#include <sstream>

#include "common/metrics.h"
#include "common/mysql/sql_util.h"

namespace funnel::handoff {
namespace {

constexpr absl::string_view kClaimEvent =
    "INSERT IGNORE INTO inbox_events (event_id, kind, response) VALUES (?, ?, '')";
constexpr absl::string_view kLoadEvent = "SELECT response FROM inbox_events WHERE event_id = ?";
constexpr absl::string_view kSaveEvent = "UPDATE inbox_events SET response = ? WHERE event_id = ?";

}  // namespace

std::optional<std::string> ClaimReceivedEvent(sql::Connection& conn, const std::string& event_id,
                                              EventKind kind) {
  auto claim = common::Prepare(conn, kClaimEvent);
  claim->setString(1, event_id);
  claim->setString(2, std::string(KindName(kind)));
  if (claim->executeUpdate() == 1) return std::nullopt;
  auto load = common::Prepare(conn, kLoadEvent);
  load->setString(1, event_id);
  std::unique_ptr<sql::ResultSet> rs(load->executeQuery());
  return rs->next() ? std::string(rs->getString(1)) : std::string();
}

void SaveReceivedResponse(sql::Connection& conn, const std::string& event_id,
                          const std::string& response) {
  auto save = common::Prepare(conn, kSaveEvent);
  std::istringstream blob(response);
  save->setBlob(1, &blob);
  save->setString(2, event_id);
  save->executeUpdate();
}

void CountReceived(EventKind kind, bool duplicate) {
  static prometheus::Family<prometheus::Counter>& received =
      common::CounterFamily("funnel_inbox_events_total",
                            "Contract events received, by kind and whether new or a duplicate.");
  received.Add({{"kind", std::string(KindName(kind))}, {"result", duplicate ? "duplicate" : "new"}})
      .Increment();
}

}  // namespace funnel::handoff
