#include "marketing_service/campaign_store.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <cmath>
#include <map>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/feed/feed_log.h"
#include "common/field_violations.h"
#include "common/mysql/idempotency.h"
#include "common/mysql/keyset_page.h"
#include "common/mysql/parallel_reads.h"
#include "common/mysql/params.h"
#include "common/mysql/row_table.h"
#include "common/mysql/sql_util.h"
#include "common/pagination.h"
#include "common/status.h"
#include "common/time_range.h"
#include "common/time_util.h"
#include "common/validation.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "handoff/validation.h"
#include "marketing_service/attribution.h"
#include "marketing_service/leads/lead_rows.h"
#include "marketing_service/lifecycle.h"
#include "marketing_service/report_aggregates.h"

namespace funnel::marketing {
namespace {

using common::LastInsertId;
using common::Prepare;
using common::TimeFromUnixSeconds;
using common::ToProtoTime;
using common::UnixSecondsOf;

constexpr absl::string_view kCampaignColumns = R"sql(
  campaign_id, name, channel, target_segment_id, currency, budget_minor, cost_minor,
  start_at, end_at, state, version,
  UNIX_TIMESTAMP(created_at), UNIX_TIMESTAMP(updated_at))sql";

constexpr absl::string_view kInsertCampaign = R"sql(
  INSERT INTO campaigns (name, channel, target_segment_id, currency, budget_minor, cost_minor,
                         start_at, end_at, state)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?))sql";

constexpr absl::string_view kUpdateCampaign = R"sql(
  UPDATE campaigns SET name = ?, channel = ?, target_segment_id = ?, currency = ?,
    budget_minor = ?, cost_minor = ?, start_at = ?, end_at = ?,
    state = ?, version = version + 1, updated_at = CURRENT_TIMESTAMP(6)
  WHERE campaign_id = ?)sql";

constexpr absl::string_view kSegmentExists = "SELECT 1 FROM segments WHERE segment_id = ?";

handoff::v1::Money MoneyOf(const std::string& currency, int64_t minor) {
  handoff::v1::Money m;
  m.set_currency_code(currency);
  m.set_amount_minor(minor);
  return m;
}

v1::Campaign CampaignFromRow(sql::ResultSet& rs) {
  v1::Campaign c;
  c.set_campaign_id(rs.getInt64(1));
  c.set_name(rs.getString(2));
  c.set_channel(static_cast<v1::Channel>(rs.getInt(3)));
  c.set_target_segment_id(rs.getInt64(4));
  const std::string currency = rs.getString(5);
  *c.mutable_budget() = MoneyOf(currency, rs.getInt64(6));
  *c.mutable_actual_cost() = MoneyOf(currency, rs.getInt64(7));
  if (auto t = common::OptionalDatetime(rs, 8)) *c.mutable_start_time() = ToProtoTime(*t);
  if (auto t = common::OptionalDatetime(rs, 9)) *c.mutable_end_time() = ToProtoTime(*t);
  c.set_state(static_cast<v1::CampaignState>(rs.getInt(10)));
  c.set_etag(absl::StrCat(rs.getInt64(11)));
  *c.mutable_create_time() = ToProtoTime(TimeFromUnixSeconds(rs.getDouble(12)));
  *c.mutable_update_time() = ToProtoTime(TimeFromUnixSeconds(rs.getDouble(13)));
  return c;
}

const common::RowTable<v1::Campaign> kCampaigns{kCampaignColumns, "campaigns", "campaign_id",
                                                "campaign", &CampaignFromRow};

void BindCampaign(sql::PreparedStatement& st, const v1::Campaign& c) {
  st.setString(1, c.name());
  st.setInt(2, c.channel());
  st.setInt64(3, c.target_segment_id());
  const std::string& currency = !c.budget().currency_code().empty()
                                    ? c.budget().currency_code()
                                    : c.actual_cost().currency_code();
  st.setString(4, currency);
  st.setInt64(5, c.budget().amount_minor());
  st.setInt64(6, c.actual_cost().amount_minor());
  auto time_of = [](bool has, const google::protobuf::Timestamp& t) {
    return has ? std::optional<absl::Time>(common::FromProtoTime(t)) : std::nullopt;
  };
  common::SetOptionalDatetime(st, 7, time_of(c.has_start_time(), c.start_time()));
  common::SetOptionalDatetime(st, 8, time_of(c.has_end_time(), c.end_time()));
  st.setInt(9, c.state());
}

absl::Status CheckSegmentExists(sql::Connection& conn, int64_t segment_id) {
  if (segment_id == 0) return absl::OkStatus();
  auto st = Prepare(conn, kSegmentExists);
  st->setInt64(1, segment_id);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  if (!rs->next()) {
    return absl::NotFoundError(
        absl::StrCat("campaign.target_segment_id: segment ", segment_id, " not found"));
  }
  return absl::OkStatus();
}

// "ACTIVE": a state as the feed's details show it.
std::string CampaignStateName(v1::CampaignState state) {
  return std::string(absl::StripPrefix(v1::CampaignState_Name(state), "CAMPAIGN_STATE_"));
}

}  // namespace

absl::Status ValidateCampaign(const v1::Campaign& c) {
  common::FieldViolations v;
  if (c.name().empty()) v.Add("campaign.name", "required");
  if (c.name().size() > 200) v.Add("campaign.name", "longer than 200 characters");
  if (c.channel() == v1::CHANNEL_UNSPECIFIED || !v1::Channel_IsValid(c.channel())) {
    v.Add("campaign.channel", "required");
  }
  if (c.target_segment_id() < 0) v.Add("campaign.target_segment_id", "must not be negative");
  v.Check(handoff::ValidateMoney(c.budget(), "campaign.budget"));
  v.Check(handoff::ValidateMoney(c.actual_cost(), "campaign.actual_cost"));
  if (!c.budget().currency_code().empty() && !c.actual_cost().currency_code().empty() &&
      c.budget().currency_code() != c.actual_cost().currency_code()) {
    v.Add("campaign.actual_cost.currency_code", "must match the budget's currency");
  }
  absl::Status start = c.has_start_time()
                           ? common::RequireDatetime(c.start_time(), "campaign.start_time")
                           : absl::OkStatus();
  absl::Status end = c.has_end_time() ? common::RequireDatetime(c.end_time(), "campaign.end_time")
                                      : absl::OkStatus();
  v.Check(start);
  v.Check(end);
  if (c.has_start_time() && c.has_end_time() && start.ok() && end.ok() &&
      common::FromProtoTime(c.end_time()) < common::FromProtoTime(c.start_time())) {
    v.Add("campaign.end_time", "before start_time");
  }
  return v.status();
}

absl::StatusOr<v1::Campaign> CampaignStore::Create(const v1::Campaign& campaign,
                                                   const common::RequestKey& request_id) {
  return common::IdempotentTransaction<v1::Campaign>(
      *pool_, "CreateCampaign", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Campaign> {
        RETURN_IF_ERROR(CheckSegmentExists(conn, campaign.target_segment_id()));
        v1::Campaign draft = campaign;
        draft.set_state(v1::CAMPAIGN_STATE_DRAFT);
        auto st = Prepare(conn, kInsertCampaign);
        BindCampaign(*st, draft);
        ASSIGN_OR_RETURN(v1::Campaign created, common::InsertThenRead(conn, *st, kCampaigns));
        feed::AppendEvent(
            conn, {"campaign.created", "campaign", absl::StrCat(created.campaign_id()), 0, "",
                   "state DRAFT", absl::Now()});
        return created;
      });
}

absl::StatusOr<v1::Campaign> CampaignStore::Get(int64_t campaign_id) {
  return common::ReadById(*pool_, kCampaigns, campaign_id);
}

absl::StatusOr<v1::ListCampaignsResponse> CampaignStore::List(v1::CampaignState state,
                                                              v1::Channel channel, int page_size,
                                                              const std::string& page_token) {
  common::KeysetQuery query(kCampaignColumns, "campaigns", "campaign_id");
  if (state != v1::CAMPAIGN_STATE_UNSPECIFIED) query.Where("state = ?", int64_t{state});
  if (channel != v1::CHANNEL_UNSPECIFIED) query.Where("channel = ?", int64_t{channel});
  return query.Page(*pool_, absl::StrCat("campaigns:", state, ":", channel), page_token, page_size,
                    &CampaignFromRow, &v1::ListCampaignsResponse::mutable_campaigns,
                    &v1::Campaign::campaign_id);
}

absl::StatusOr<v1::Campaign> CampaignStore::Update(const v1::Campaign& campaign,
                                                   const std::vector<std::string>& paths,
                                                   const common::RequestKey& request_id) {
  return common::IdempotentTransaction<v1::Campaign>(
      *pool_, "UpdateCampaign", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Campaign> {
        auto select =
            Prepare(conn, absl::StrCat("SELECT ", kCampaignColumns,
                                       " FROM campaigns WHERE campaign_id = ? FOR UPDATE"));
        select->setInt64(1, campaign.campaign_id());
        std::unique_ptr<sql::ResultSet> rs(select->executeQuery());
        if (!rs->next()) {
          return absl::NotFoundError(
              absl::StrCat("campaign ", campaign.campaign_id(), " not found"));
        }
        v1::Campaign current = CampaignFromRow(*rs);
        RETURN_IF_ERROR(
            common::CheckEtag(campaign.etag(), current.etag(), "campaign.etag", "campaign"));
        v1::Campaign next = current;
        for (const std::string& path : paths) {
          if (path == "name") next.set_name(campaign.name());
          if (path == "channel") next.set_channel(campaign.channel());
          if (path == "target_segment_id") next.set_target_segment_id(campaign.target_segment_id());
          if (path == "budget") *next.mutable_budget() = campaign.budget();
          if (path == "actual_cost") *next.mutable_actual_cost() = campaign.actual_cost();
          if (path == "start_time") *next.mutable_start_time() = campaign.start_time();
          if (path == "end_time") *next.mutable_end_time() = campaign.end_time();
          if (path == "state") next.set_state(campaign.state());
        }
        RETURN_IF_ERROR(CheckCampaignTransition(current.state(), next.state()));
        RETURN_IF_ERROR(ValidateCampaign(next));
        if (next.target_segment_id() != current.target_segment_id()) {
          RETURN_IF_ERROR(CheckSegmentExists(conn, next.target_segment_id()));
        }
        auto st = Prepare(conn, kUpdateCampaign);
        BindCampaign(*st, next);
        st->setInt64(10, next.campaign_id());
        st->executeUpdate();
        auto get = Prepare(conn, absl::StrCat("SELECT ", kCampaignColumns,
                                              " FROM campaigns WHERE campaign_id = ?"));
        get->setInt64(1, next.campaign_id());
        std::unique_ptr<sql::ResultSet> after(get->executeQuery());
        after->next();
        std::string detail = absl::StrCat("changed ", absl::StrJoin(paths, ", "));
        if (next.state() != current.state()) {
          absl::StrAppend(&detail, "; state ", CampaignStateName(current.state()), " -> ",
                          CampaignStateName(next.state()));
        }
        feed::AppendEvent(conn, {"campaign.updated", "campaign", absl::StrCat(next.campaign_id()),
                                 0, "", std::move(detail), absl::Now()});
        return CampaignFromRow(*after);
      });
}

}  // namespace funnel::marketing
