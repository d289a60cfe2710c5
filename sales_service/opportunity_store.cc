#include "sales_service/opportunity_store.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/feed/feed_log.h"
#include "common/ids.h"
#include "common/mysql/idempotency.h"
#include "common/mysql/keyset_page.h"
#include "common/mysql/params.h"
#include "common/mysql/row_table.h"
#include "common/mysql/sql_util.h"
#include "common/pagination.h"
#include "common/status.h"
#include "common/time_util.h"
#include "common/validation.h"
#include "funnel/handoff/v1/handoff.pb.h"
#include "handoff/outbox.h"
#include "handoff/wake.h"
#include "sales_service/directory_store.h"
#include "sales_service/sla.h"
#include "sales_service/stage_sql.h"

namespace funnel::sales {
namespace {

using common::LastInsertId;
using common::OptionalTime;
using common::Prepare;
using common::SqlParam;
using common::TimeFromUnixSeconds;
using common::ToProtoTime;
using common::UnixSecondsOf;

constexpr absl::string_view kOpportunityColumns = R"sql(
  opportunity_id, name, account_id, contact_id, owner_rep_id, source, handoff_id, lead_id, stage,
  probability_override, currency, amount_minor, expected_close_date, next_step, loss_reason,
  loss_note, UNIX_TIMESTAMP(closed_at), UNIX_TIMESTAMP(created_at), UNIX_TIMESTAMP(updated_at),
  version,
  COALESCE((SELECT c.consent FROM contacts c WHERE c.contact_id = opportunities.contact_id), 0),
  business_type, referrer_lead_id, referrer_contact_id)sql";

constexpr absl::string_view kInsertOpportunity = R"sql(
  INSERT INTO opportunities (name, account_id, contact_id, owner_rep_id, source, handoff_id,
    lead_id, stage, probability_override, currency, amount_minor, expected_close_date, next_step,
    created_at, updated_at, campaign_id, business_type, referrer_lead_id, referrer_contact_id)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FROM_UNIXTIME(?), FROM_UNIXTIME(?), ?, ?, ?,
          ?))sql";

constexpr absl::string_view kSaveOpportunity = R"sql(
  UPDATE opportunities SET name = ?, contact_id = ?, owner_rep_id = ?, stage = ?,
    probability_override = ?, currency = ?, amount_minor = ?, expected_close_date = ?,
    next_step = ?, loss_reason = ?, loss_note = ?, closed_at = FROM_UNIXTIME(?),
    updated_at = FROM_UNIXTIME(?), version = version + 1
  WHERE opportunity_id = ?)sql";

// LAST_INSERT_ID() answers the new revision.
constexpr absl::string_view kNextOutcomeRevision =
    "UPDATE opportunities SET outcome_revision = LAST_INSERT_ID(outcome_revision + 1) "
    "WHERE opportunity_id = ?";

constexpr absl::string_view kObjectionColumns =
    "objection_id, opportunity_id, text, resolution, resolved, raised_by, "
    "UNIX_TIMESTAMP(raised_at), UNIX_TIMESTAMP(resolved_at)";

constexpr absl::string_view kInsertObjection = R"sql(
  INSERT INTO objections (opportunity_id, text, raised_by, raised_at)
  VALUES (?, ?, ?, FROM_UNIXTIME(?)))sql";
constexpr absl::string_view kResolveObjection = R"sql(
  UPDATE objections SET resolved = TRUE, resolution = ?, resolved_at = FROM_UNIXTIME(?)
  WHERE objection_id = ?)sql";
constexpr absl::string_view kStageChangeColumns =
    "change_id, from_stage, to_stage, changed_by, UNIX_TIMESTAMP(changed_at)";

constexpr absl::string_view kInsertStageChange = R"sql(
  INSERT INTO stage_changes (opportunity_id, from_stage, to_stage, changed_by, changed_at)
  VALUES (?, ?, ?, ?, FROM_UNIXTIME(?)))sql";

v1::Opportunity OpportunityFromRow(sql::ResultSet& rs) {
  v1::Opportunity o;
  o.set_opportunity_id(rs.getInt64(1));
  o.set_name(rs.getString(2));
  o.set_account_id(rs.getInt64(3));
  o.set_contact_id(rs.getInt64(4));
  o.set_owner_rep_id(rs.getInt64(5));
  o.set_source(static_cast<v1::Source>(rs.getInt(6)));
  o.set_handoff_id(rs.getString(7));
  o.set_lead_id(rs.getInt64(8));
  o.set_stage(static_cast<v1::Stage>(rs.getInt(9)));
  std::optional<int> override_percent;
  if (!rs.isNull(10)) {
    override_percent = rs.getInt(10);
    o.set_probability_override(*override_percent);
  }
  o.set_probability(EffectiveProbability(o.stage(), override_percent));
  o.mutable_amount()->set_currency_code(rs.getString(11));
  o.mutable_amount()->set_amount_minor(rs.getInt64(12));
  o.set_expected_close_date(rs.getString(13));
  o.set_next_step(rs.getString(14));
  o.set_loss_reason(static_cast<handoff::v1::LossReason>(rs.getInt(15)));
  o.set_loss_note(rs.getString(16));
  if (auto t = OptionalTime(rs, 17)) *o.mutable_close_time() = ToProtoTime(*t);
  *o.mutable_create_time() = ToProtoTime(TimeFromUnixSeconds(rs.getDouble(18)));
  *o.mutable_update_time() = ToProtoTime(TimeFromUnixSeconds(rs.getDouble(19)));
  o.set_etag(absl::StrCat(rs.getInt64(20)));
  o.set_contact_consent(static_cast<handoff::v1::ConsentStatus>(rs.getInt(21)));
  o.set_business_type(static_cast<handoff::v1::BusinessType>(rs.getInt(22)));
  o.set_referrer_lead_id(rs.getInt64(23));
  o.set_referrer_contact_id(rs.getInt64(24));
  return o;
}

v1::Objection ObjectionFromRow(sql::ResultSet& rs);
const common::RowTable<v1::Objection> kObjections{kObjectionColumns, "objections", "objection_id",
                                                  "objection", &ObjectionFromRow};

v1::Objection ObjectionFromRow(sql::ResultSet& rs) {
  v1::Objection o;
  o.set_objection_id(rs.getInt64(1));
  o.set_opportunity_id(rs.getInt64(2));
  o.set_text(rs.getString(3));
  o.set_resolution(rs.getString(4));
  o.set_resolved(rs.getBoolean(5));
  o.set_raised_by(rs.getString(6));
  *o.mutable_raise_time() = ToProtoTime(TimeFromUnixSeconds(rs.getDouble(7)));
  if (auto t = OptionalTime(rs, 8)) *o.mutable_resolve_time() = ToProtoTime(*t);
  return o;
}

void SaveOpportunity(sql::Connection& conn, const v1::Opportunity& o, absl::Time now) {
  auto st = Prepare(conn, kSaveOpportunity);
  st->setString(1, o.name());
  st->setInt64(2, o.contact_id());
  st->setInt64(3, o.owner_rep_id());
  st->setInt(4, o.stage());
  common::SetOptionalInt(*st, 5, o.has_probability_override(), o.probability_override());
  st->setString(6, o.amount().currency_code());
  st->setInt64(7, o.amount().amount_minor());
  st->setString(8, o.expected_close_date());
  st->setString(9, o.next_step());
  st->setInt(10, o.loss_reason());
  st->setString(11, o.loss_note());
  common::SetOptionalTime(*st, 12,
                          o.has_close_time()
                              ? std::optional<absl::Time>(common::FromProtoTime(o.close_time()))
                              : std::nullopt);
  st->setDouble(13, UnixSecondsOf(now));
  st->setInt64(14, o.opportunity_id());
  st->executeUpdate();
}

// "QUALIFICATION": a stage as the feed's details show it.
std::string StageName(v1::Stage stage) {
  return std::string(absl::StripPrefix(v1::Stage_Name(stage), "STAGE_"));
}

// Records `o`'s move from `from` to its stage, and puts it on the change feed:
// opened, stage_moved (a reopen too), closed_won or closed_lost.
void RecordStageChange(sql::Connection& conn, const v1::Opportunity& o, v1::Stage from,
                       const std::string& actor, absl::Time now) {
  auto st = Prepare(conn, kInsertStageChange);
  st->setInt64(1, o.opportunity_id());
  st->setInt(2, from);
  st->setInt(3, o.stage());
  st->setString(4, actor);
  st->setDouble(5, UnixSecondsOf(now));
  st->executeUpdate();
  const char* what = from == v1::STAGE_UNSPECIFIED        ? "opened"
                     : o.stage() == v1::STAGE_CLOSED_WON  ? "closed_won"
                     : o.stage() == v1::STAGE_CLOSED_LOST ? "closed_lost"
                                                          : "stage_moved";
  std::string detail = from == v1::STAGE_UNSPECIFIED
                           ? absl::StrCat("stage ", StageName(o.stage()))
                           : absl::StrCat("stage ", StageName(from), " -> ", StageName(o.stage()));
  feed::AppendEvent(
      conn, {absl::StrCat("opportunity.", what), "opportunity", absl::StrCat(o.opportunity_id()),
             o.lead_id(), actor, std::move(detail), now});
}

// Marketing learns the outcome of the deals it handed over: each close and reopen
// is the opportunity's next outcome revision, and marketing keeps the latest.
void QueueOutcome(sql::Connection& conn, const v1::Opportunity& o, handoff::v1::Outcome outcome,
                  absl::Time now) {
  if (o.handoff_id().empty()) return;
  auto bump = Prepare(conn, kNextOutcomeRevision);
  bump->setInt64(1, o.opportunity_id());
  bump->executeUpdate();
  handoff::v1::DealOutcome event;
  event.set_event_id(common::NewUuid());
  event.set_handoff_id(o.handoff_id());
  event.set_opportunity_id(o.opportunity_id());
  event.set_outcome(outcome);
  if (outcome == handoff::v1::OUTCOME_WON) *event.mutable_amount() = o.amount();
  event.set_loss_reason(o.loss_reason());
  event.set_loss_note(o.loss_note());
  *event.mutable_close_time() = ToProtoTime(now);
  event.set_contract_version(handoff::kContractVersion);
  event.set_lead_id(o.lead_id());
  event.set_revision(LastInsertId(conn));
  handoff::InsertOutboxEvent(conn, event.event_id(), o.lead_id(), handoff::EventKind::kDealOutcome,
                             event.SerializeAsString(), now);
}

}  // namespace

// The owner's manager, for the row rule.
int64_t ManagerOf(sql::Connection& conn, int64_t rep_id) {
  absl::StatusOr<v1::Rep> rep = ReadRep(conn, rep_id, "owner");
  return rep.ok() ? rep->manager_rep_id() : 0;
}

absl::Status CheckOwner(sql::Connection& conn, const Caller& caller, const v1::Opportunity& o) {
  return CheckCanChange(caller, o.owner_rep_id(), ManagerOf(conn, o.owner_rep_id()),
                        absl::StrCat("opportunity ", o.opportunity_id()));
}

absl::StatusOr<v1::Opportunity> ReadOpportunity(sql::Connection& conn, int64_t opportunity_id,
                                                bool for_update) {
  auto st = Prepare(conn, absl::StrCat("SELECT ", kOpportunityColumns,
                                       " FROM opportunities WHERE opportunity_id = ?",
                                       for_update ? " FOR UPDATE" : ""));
  st->setInt64(1, opportunity_id);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  if (!rs->next()) {
    return absl::NotFoundError(absl::StrCat("opportunity ", opportunity_id, " not found"));
  }
  return OpportunityFromRow(*rs);
}

v1::Opportunity InsertOpportunity(sql::Connection& conn, const v1::Opportunity& o,
                                  const std::string& actor, absl::Time now, int64_t campaign_id) {
  auto st = Prepare(conn, kInsertOpportunity);
  st->setString(1, o.name());
  st->setInt64(2, o.account_id());
  st->setInt64(3, o.contact_id());
  st->setInt64(4, o.owner_rep_id());
  st->setInt(5, o.source());
  st->setString(6, o.handoff_id());
  st->setInt64(7, o.lead_id());
  st->setInt(8, o.stage());
  common::SetOptionalInt(*st, 9, o.has_probability_override(), o.probability_override());
  st->setString(10, o.amount().currency_code());
  st->setInt64(11, o.amount().amount_minor());
  st->setString(12, o.expected_close_date());
  st->setString(13, o.next_step());
  st->setDouble(14, UnixSecondsOf(now));
  st->setDouble(15, UnixSecondsOf(now));
  st->setInt64(16, campaign_id);
  st->setInt(17, o.business_type() == handoff::v1::BUSINESS_TYPE_EXPANSION
                     ? handoff::v1::BUSINESS_TYPE_EXPANSION
                     : handoff::v1::BUSINESS_TYPE_NEW);
  st->setInt64(18, o.referrer_lead_id());
  st->setInt64(19, o.referrer_contact_id());
  st->executeUpdate();
  const int64_t id = LastInsertId(conn);
  v1::Opportunity opened = *ReadOpportunity(conn, id, false);
  RecordStageChange(conn, opened, v1::STAGE_UNSPECIFIED, actor, now);
  return opened;
}

absl::StatusOr<v1::Opportunity> OpportunityStore::Create(const v1::Opportunity& opportunity,
                                                         const Caller& caller,
                                                         const std::string& actor,
                                                         const common::RequestKey& request_id,
                                                         absl::Time now) {
  return common::IdempotentTransaction<v1::Opportunity>(
      *pool_, "CreateOpportunity", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Opportunity> {
        v1::Opportunity o = opportunity;
        if (o.owner_rep_id() == 0) o.set_owner_rep_id(caller.rep_id);
        if (o.owner_rep_id() == 0) {
          return absl::InvalidArgumentError(
              "opportunity.owner_rep_id: required (the caller has no rep)");
        }
        ASSIGN_OR_RETURN(v1::Rep owner,
                         ReadRep(conn, o.owner_rep_id(), "opportunity.owner_rep_id"));
        RETURN_IF_ERROR(
            CheckCanChange(caller, owner.rep_id(), owner.manager_rep_id(), "the new opportunity"));
        RETURN_IF_ERROR(CheckAccountExists(conn, o.account_id(), "opportunity.account_id"));
        if (o.contact_id() != 0) {
          RETURN_IF_ERROR(CheckContactExists(conn, o.contact_id(), "opportunity.contact_id"));
        }
        o.set_stage(v1::STAGE_PROSPECTING);
        o.clear_handoff_id();
        o.clear_lead_id();
        return InsertOpportunity(conn, o, actor, now);
      });
}

absl::StatusOr<v1::Opportunity> OpportunityStore::Get(int64_t opportunity_id) {
  v1::Opportunity o;
  RETURN_IF_ERROR(
      pool_->WithConnection("get opportunity", [&](sql::Connection& conn) -> absl::Status {
        ASSIGN_OR_RETURN(o, ReadOpportunity(conn, opportunity_id, false));
        return absl::OkStatus();
      }));
  return o;
}

absl::StatusOr<v1::ListOpportunitiesResponse> OpportunityStore::List(
    const OpportunityFilter& f, int page_size, const std::string& page_token) {
  common::KeysetQuery query(kOpportunityColumns, "opportunities", "opportunity_id");
  if (f.owner_rep_id != 0) query.Where("owner_rep_id = ?", f.owner_rep_id);
  if (f.stage != v1::STAGE_UNSPECIFIED) query.Where("stage = ?", int64_t{f.stage});
  if (f.status == v1::OPPORTUNITY_STATUS_OPEN) query.Where(absl::StrCat("stage IN ", kOpenStages));
  if (f.status == v1::OPPORTUNITY_STATUS_CLOSED) {
    query.Where(absl::StrCat("stage IN ", kClosedStages));
  }
  if (f.source != v1::SOURCE_UNSPECIFIED) query.Where("source = ?", int64_t{f.source});
  return query.Page(
      *pool_,
      absl::StrCat("opportunities:", f.owner_rep_id, ":", f.stage, ":", f.status, ":", f.source),
      page_token, page_size, &OpportunityFromRow,
      &v1::ListOpportunitiesResponse::mutable_opportunities, &v1::Opportunity::opportunity_id);
}

absl::StatusOr<v1::Opportunity> OpportunityStore::Update(const v1::Opportunity& in,
                                                         const std::vector<std::string>& paths,
                                                         const Caller& caller,
                                                         const common::RequestKey& request_id,
                                                         absl::Time now) {
  return common::IdempotentTransaction<v1::Opportunity>(
      *pool_, "UpdateOpportunity", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Opportunity> {
        ASSIGN_OR_RETURN(v1::Opportunity o, ReadOpportunity(conn, in.opportunity_id(), true));
        RETURN_IF_ERROR(common::CheckEtag(in.etag(), o.etag(), "opportunity.etag", "opportunity"));
        RETURN_IF_ERROR(CheckOwner(conn, caller, o));
        if (IsClosed(o.stage())) {
          return common::WithReason(
              absl::FailedPreconditionError(
                  absl::StrCat("opportunity ", o.opportunity_id(), " is closed; reopen it first")),
              errors::v1::OPPORTUNITY_CLOSED);
        }
        for (const std::string& p : paths) {
          if (p == "name") o.set_name(in.name());
          if (p == "amount") {
            if (o.amount().amount_minor() != 0 && !o.amount().currency_code().empty() &&
                in.amount().currency_code() != o.amount().currency_code()) {
              return absl::InvalidArgumentError(
                  absl::StrCat("opportunity.amount.currency_code: the opportunity is in ",
                               o.amount().currency_code(), "; one currency per opportunity"));
            }
            *o.mutable_amount() = in.amount();
          }
          if (p == "expected_close_date") o.set_expected_close_date(in.expected_close_date());
          if (p == "next_step") o.set_next_step(in.next_step());
          if (p == "probability_override") {
            if (in.has_probability_override()) {
              o.set_probability_override(in.probability_override());
            } else {
              o.clear_probability_override();
            }
          }
          if (p == "contact_id") {
            if (in.contact_id() != 0) {
              RETURN_IF_ERROR(CheckContactExists(conn, in.contact_id(), "opportunity.contact_id"));
            }
            o.set_contact_id(in.contact_id());
          }
          if (p == "owner_rep_id") {
            if (!IsManagerLike(caller)) {
              return common::WithReason(
                  absl::PermissionDeniedError(
                      "opportunity.owner_rep_id: only a MANAGER may reassign"),
                  errors::v1::ROLE_NOT_ALLOWED);
            }
            ASSIGN_OR_RETURN(v1::Rep owner,
                             ReadRep(conn, in.owner_rep_id(), "opportunity.owner_rep_id"));
            RETURN_IF_ERROR(CheckCanChange(caller, owner.rep_id(), owner.manager_rep_id(),
                                           "the new owner's pipeline"));
            o.set_owner_rep_id(owner.rep_id());
          }
        }
        SaveOpportunity(conn, o, now);
        return *ReadOpportunity(conn, o.opportunity_id(), false);
      });
}

absl::StatusOr<v1::Opportunity> OpportunityStore::MoveStage(
    int64_t opportunity_id, v1::Stage stage, const std::string& etag, const Caller& caller,
    const std::string& actor, const common::RequestKey& request_id, absl::Time now) {
  auto moved = common::IdempotentTransaction<v1::Opportunity>(
      *pool_, "MoveOpportunityStage", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Opportunity> {
        ASSIGN_OR_RETURN(v1::Opportunity o, ReadOpportunity(conn, opportunity_id, true));
        RETURN_IF_ERROR(common::CheckEtag(etag, o.etag(), "etag", "opportunity"));
        RETURN_IF_ERROR(CheckOwner(conn, caller, o));
        RETURN_IF_ERROR(CheckStageMove(o.stage(), stage, IsManagerLike(caller)));
        if (o.stage() == stage) return o;
        const v1::Stage from = o.stage();
        o.set_stage(stage);
        if (IsClosed(from)) {  // reopened
          o.clear_close_time();
          o.clear_loss_reason();
          o.clear_loss_note();
        }
        SaveOpportunity(conn, o, now);
        RecordStageChange(conn, o, from, actor, now);
        if (IsClosed(from)) QueueOutcome(conn, o, handoff::v1::OUTCOME_REOPENED, now);
        return *ReadOpportunity(conn, o.opportunity_id(), false);
      });
  return handoff::WakeIfOk(std::move(moved), wake_);
}

absl::StatusOr<v1::ListStageChangesResponse> OpportunityStore::ListStageChanges(
    int64_t opportunity_id, int page_size, const std::string& page_token) {
  const std::string scope = absl::StrCat("stage_changes:", opportunity_id);
  ASSIGN_OR_RETURN(v1::Opportunity o, Get(opportunity_id));  // NOT_FOUND first
  v1::ListStageChangesResponse response;
  ASSIGN_OR_RETURN(*response.mutable_next_page_token(),
                   common::KeysetQuery(kStageChangeColumns, "stage_changes", "change_id")
                       .Where("opportunity_id = ?", o.opportunity_id())
                       .Rows(*pool_, scope, page_token, page_size, [&](sql::ResultSet& rs) {
                         v1::StageChange* c = response.add_changes();
                         c->set_opportunity_id(o.opportunity_id());
                         c->set_from_stage(static_cast<v1::Stage>(rs.getInt(2)));
                         c->set_to_stage(static_cast<v1::Stage>(rs.getInt(3)));
                         c->set_changed_by(rs.getString(4));
                         *c->mutable_change_time() =
                             ToProtoTime(TimeFromUnixSeconds(rs.getDouble(5)));
                         return rs.getInt64(1);
                       }));
  return response;
}

absl::StatusOr<v1::Objection> OpportunityStore::AddObjection(
    int64_t opportunity_id, const std::string& text, const Caller& caller, const std::string& actor,
    const common::RequestKey& request_id, absl::Time now) {
  return common::IdempotentTransaction<v1::Objection>(
      *pool_, "AddObjection", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Objection> {
        ASSIGN_OR_RETURN(v1::Opportunity o, ReadOpportunity(conn, opportunity_id, true));
        RETURN_IF_ERROR(CheckOwner(conn, caller, o));
        auto st = Prepare(conn, kInsertObjection);
        st->setInt64(1, opportunity_id);
        st->setString(2, text);
        st->setString(3, actor);
        st->setDouble(4, UnixSecondsOf(now));
        return common::InsertThenRead(conn, *st, kObjections);
      });
}

absl::StatusOr<v1::Objection> OpportunityStore::ResolveObjection(
    int64_t objection_id, const std::string& resolution, const Caller& caller,
    const common::RequestKey& request_id, absl::Time now) {
  return common::IdempotentTransaction<v1::Objection>(
      *pool_, "ResolveObjection", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Objection> {
        auto get =
            Prepare(conn, absl::StrCat("SELECT ", kObjectionColumns,
                                       " FROM objections WHERE objection_id = ? FOR UPDATE"));
        get->setInt64(1, objection_id);
        std::unique_ptr<sql::ResultSet> rs(get->executeQuery());
        if (!rs->next())
          return absl::NotFoundError(absl::StrCat("objection ", objection_id, " not found"));
        v1::Objection objection = ObjectionFromRow(*rs);
        if (objection.resolved()) {
          return common::WithReason(absl::FailedPreconditionError(absl::StrCat(
                                        "objection ", objection_id, ": already resolved")),
                                    errors::v1::OBJECTION_RESOLVED);
        }
        ASSIGN_OR_RETURN(v1::Opportunity o,
                         ReadOpportunity(conn, objection.opportunity_id(), true));
        RETURN_IF_ERROR(CheckOwner(conn, caller, o));
        auto st = Prepare(conn, kResolveObjection);
        st->setString(1, resolution);
        st->setDouble(2, UnixSecondsOf(now));
        st->setInt64(3, objection_id);
        st->executeUpdate();
        objection.set_resolved(true);
        objection.set_resolution(resolution);
        *objection.mutable_resolve_time() = ToProtoTime(now);
        return objection;
      });
}

absl::StatusOr<v1::ListObjectionsResponse> OpportunityStore::ListObjections(
    int64_t opportunity_id, int page_size, const std::string& page_token) {
  const std::string scope = absl::StrCat("objections:", opportunity_id);
  ASSIGN_OR_RETURN(v1::Opportunity o, Get(opportunity_id));  // NOT_FOUND first
  return common::KeysetQuery(kObjectionColumns, "objections", "objection_id")
      .Where("opportunity_id = ?", o.opportunity_id())
      .Page(*pool_, scope, page_token, page_size, &ObjectionFromRow,
            &v1::ListObjectionsResponse::mutable_objections, &v1::Objection::objection_id);
}

absl::StatusOr<v1::Opportunity> OpportunityStore::Close(const v1::CloseOpportunityRequest& req,
                                                        const Caller& caller,
                                                        const std::string& actor, absl::Time now,
                                                        const common::RequestKey& key) {
  absl::StatusOr<v1::Opportunity> closed = common::IdempotentTransaction<v1::Opportunity>(
      *pool_, "CloseOpportunity", key,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Opportunity> {
        ASSIGN_OR_RETURN(v1::Opportunity o, ReadOpportunity(conn, req.opportunity_id(), true));
        RETURN_IF_ERROR(common::CheckEtag(req.etag(), o.etag(), "etag", "opportunity"));
        RETURN_IF_ERROR(CheckOwner(conn, caller, o));
        RETURN_IF_ERROR(CheckClose(o.stage()));
        const v1::Stage from = o.stage();
        const bool won = req.outcome() == handoff::v1::OUTCOME_WON;
        if (won) {
          if (o.amount().amount_minor() != 0 && !o.amount().currency_code().empty() &&
              req.amount().currency_code() != o.amount().currency_code()) {
            return absl::InvalidArgumentError(absl::StrCat(
                "amount.currency_code: the opportunity is in ", o.amount().currency_code()));
          }
          *o.mutable_amount() = req.amount();
          o.set_stage(v1::STAGE_CLOSED_WON);
        } else {
          o.set_stage(v1::STAGE_CLOSED_LOST);
          o.set_loss_reason(req.loss_reason());
          o.set_loss_note(req.loss_note());
        }
        *o.mutable_close_time() = ToProtoTime(now);
        SaveOpportunity(conn, o, now);
        RecordStageChange(conn, o, from, actor, now);
        QueueOutcome(conn, o, req.outcome(), now);
        return *ReadOpportunity(conn, o.opportunity_id(), false);
      });
  return handoff::WakeIfOk(std::move(closed), wake_);
}

}  // namespace funnel::sales
