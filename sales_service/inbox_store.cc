#include "sales_service/inbox_store.h"

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
#include "common/mysql/sql_util.h"
#include "common/pagination.h"
#include "common/status.h"
#include "common/time_util.h"
#include "handoff/inbox.h"
#include "handoff/outbox.h"
#include "handoff/scrub.h"
#include "sales_service/account_rules.h"
#include "sales_service/assignments.h"
#include "sales_service/directory_store.h"
#include "sales_service/opportunity_store.h"
#include "sales_service/routing_store.h"
#include "sales_service/sla.h"

namespace funnel::sales {
namespace {

using common::OptionalTime;
using common::Prepare;
using common::SqlParam;
using common::TimeFromUnixSeconds;
using common::ToProtoTime;
using common::UnixSecondsOf;

constexpr absl::string_view kHandoffColumns = R"sql(
  seq, handoff_id, snapshot, state, assigned_rep_id, UNIX_TIMESTAMP(received_at),
  UNIX_TIMESTAMP(sla_deadline), UNIX_TIMESTAMP(first_response_at), UNIX_TIMESTAMP(decided_at),
  rejection_reason, decision_note, opportunity_id, version, withdrawal_reason, assignment_reason,
  routing_rule_id, escalation_count)sql";

constexpr absl::string_view kInsertHandoff = R"sql(
  INSERT IGNORE INTO handoffs (handoff_id, lead_id, snapshot, received_at, sla_deadline)
  VALUES (?, ?, ?, FROM_UNIXTIME(?), FROM_UNIXTIME(?)))sql";

constexpr absl::string_view kAcceptHandoff = R"sql(
  UPDATE handoffs SET state = ?, assigned_rep_id = ?, opportunity_id = ?,
    decided_at = FROM_UNIXTIME(?), decided_by_rep_id = ?, version = version + 1
  WHERE handoff_id = ?)sql";
constexpr absl::string_view kRejectHandoff = R"sql(
  UPDATE handoffs SET state = ?, rejection_reason = ?, decision_note = ?,
    decided_at = FROM_UNIXTIME(?), decided_by_rep_id = ?, version = version + 1
  WHERE handoff_id = ?)sql";

// The overdue list's rule (sla.h): a pending handoff (state = ?) with no first
// response past its deadline (now = ?). ListHandoffs' overdue_only applies it too.
constexpr absl::string_view kOverdueCondition =
    "state = ? AND first_response_at IS NULL AND sla_deadline < FROM_UNIXTIME(?)";
const std::string kCountOverdue =
    absl::StrCat("SELECT COUNT(*) FROM handoffs WHERE ", kOverdueCondition);
// Overdue and not yet announced; another replica's claim is passed over.
const std::string kClaimUnannouncedOverdue = absl::StrCat(
    "SELECT handoff_id, lead_id, UNIX_TIMESTAMP(sla_deadline) FROM handoffs WHERE ",
    kOverdueCondition, " AND overdue_noticed_at IS NULL ORDER BY sla_deadline LIMIT ? ",
    "FOR UPDATE SKIP LOCKED");
// Unanswered past its rep's time (escalate_at), each taken by one replica.
const std::string kClaimDueEscalations = absl::StrCat(
    "SELECT handoff_id FROM handoffs WHERE state = ", v1::HANDOFF_STATE_PENDING,
    " AND first_response_at IS NULL AND escalate_at < FROM_UNIXTIME(?) ORDER BY escalate_at ",
    "LIMIT ? FOR UPDATE SKIP LOCKED");
constexpr absl::string_view kPostponeEscalation =
    "UPDATE handoffs SET escalate_at = FROM_UNIXTIME(?) WHERE handoff_id = ?";
constexpr absl::string_view kMarkOverdueAnnounced =
    "UPDATE handoffs SET overdue_noticed_at = FROM_UNIXTIME(?) WHERE handoff_id = ?";

struct Row {
  int64_t seq;
  v1::Handoff handoff;
};

Row HandoffFromRow(sql::ResultSet& rs, absl::Time now) {
  Row row;
  row.seq = rs.getInt64(1);
  v1::Handoff& h = row.handoff;
  h.set_handoff_id(rs.getString(2));
  h.mutable_lead()->ParseFromString(std::string(rs.getString(3)));
  h.set_state(static_cast<v1::HandoffState>(rs.getInt(4)));
  h.set_assigned_rep_id(rs.getInt64(5));
  *h.mutable_receive_time() = ToProtoTime(TimeFromUnixSeconds(rs.getDouble(6)));
  const absl::Time deadline = TimeFromUnixSeconds(rs.getDouble(7));
  *h.mutable_sla_deadline() = ToProtoTime(deadline);
  const std::optional<absl::Time> first_response = OptionalTime(rs, 8);
  if (first_response) *h.mutable_first_response_time() = ToProtoTime(*first_response);
  const std::optional<absl::Time> decided = OptionalTime(rs, 9);
  if (decided) *h.mutable_decide_time() = ToProtoTime(*decided);
  h.set_rejection_reason(static_cast<handoff::v1::RejectionReason>(rs.getInt(10)));
  h.set_decision_note(rs.getString(11));
  h.set_opportunity_id(rs.getInt64(12));
  h.set_etag(absl::StrCat(rs.getInt64(13)));
  h.set_withdrawal_reason(rs.getString(14));
  h.set_assignment_reason(static_cast<v1::AssignmentReason>(rs.getInt(15)));
  h.set_routing_rule_id(rs.getInt64(16));
  h.set_escalation_count(rs.getInt(17));
  const SlaStatus sla = EvaluateSla(
      {deadline, first_response, decided, h.state() == v1::HANDOFF_STATE_WITHDRAWN}, now);
  h.set_overdue(sla.overdue);
  h.set_sla_breached(sla.breached);
  return row;
}

// "handoff.<what>" on the change feed (no score, campaign or person in it).
void AppendHandoffEvent(sql::Connection& conn, absl::string_view what, const v1::Handoff& h,
                        std::string actor, std::string detail, absl::Time now) {
  feed::AppendEvent(conn, {absl::StrCat("handoff.", what), "handoff", h.handoff_id(),
                           h.lead().lead_id(), std::move(actor), std::move(detail), now});
}

// Who made a change, as the feed names them.
std::string ActorOf(const Caller& caller) {
  return caller.rep_id != 0 ? absl::StrCat("rep ", caller.rep_id) : caller.role;
}

absl::StatusOr<v1::Handoff> ReadHandoff(sql::Connection& conn, const std::string& handoff_id,
                                        bool for_update, absl::Time now) {
  auto st =
      Prepare(conn, absl::StrCat("SELECT ", kHandoffColumns, " FROM handoffs WHERE handoff_id = ?",
                                 for_update ? " FOR UPDATE" : ""));
  st->setString(1, handoff_id);
  std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
  if (!rs->next()) return absl::NotFoundError(absl::StrCat("handoff ", handoff_id, " not found"));
  return HandoffFromRow(*rs, now).handoff;
}

// A rep may decide handoffs assigned to them or unassigned ones; a manager their
// team's too.
absl::Status CheckCanDecide(sql::Connection& conn, const Caller& caller, const v1::Handoff& h) {
  if (h.assigned_rep_id() == 0) return absl::OkStatus();
  absl::StatusOr<v1::Rep> owner = ReadRep(conn, h.assigned_rep_id(), "assigned rep");
  return CheckCanChange(caller, h.assigned_rep_id(), owner.ok() ? owner->manager_rep_id() : 0,
                        absl::StrCat("handoff ", h.handoff_id()));
}

// `opened`: the opportunity an acceptance opened (its account and contact go back
// to marketing for the person's later expansion handoffs); none for a rejection.
void QueueDecision(sql::Connection& conn, const v1::Handoff& h, int64_t rep_id, absl::Time now,
                   const v1::Opportunity* opened = nullptr) {
  handoff::v1::HandoffDecision event;
  event.set_event_id(common::NewUuid());
  event.set_handoff_id(h.handoff_id());
  event.set_decision(h.state() == v1::HANDOFF_STATE_ACCEPTED ? handoff::v1::DECISION_ACCEPTED
                                                             : handoff::v1::DECISION_REJECTED);
  event.set_rejection_reason(h.rejection_reason());
  event.set_note(h.decision_note());
  event.set_opportunity_id(h.opportunity_id());
  event.set_decided_by_rep_id(rep_id);
  *event.mutable_decide_time() = ToProtoTime(now);
  event.set_contract_version(handoff::kContractVersion);
  event.set_lead_id(h.lead().lead_id());
  if (opened != nullptr) {
    event.set_account_id(opened->account_id());
    event.set_contact_id(opened->contact_id());
  }
  handoff::InsertOutboxEvent(conn, event.event_id(), h.lead().lead_id(),
                             handoff::EventKind::kHandoffDecision, event.SerializeAsString(), now);
}

absl::Status RequirePending(const v1::Handoff& h) {
  if (h.state() != v1::HANDOFF_STATE_PENDING) {
    return common::WithReason(
        absl::FailedPreconditionError(absl::StrCat("handoff ", h.handoff_id(), " is already ",
                                                   v1::HandoffState_Name(h.state()))),
        errors::v1::HANDOFF_DECIDED);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<handoff::v1::SubmitLeadResponse> InboxStore::Submit(
    const handoff::v1::LeadHandoff& lead, absl::Time now) {
  return submits_.Submit(Submission{lead, now});
}

std::vector<InboxStore::Receipt> InboxStore::SubmitMany(const std::vector<Submission>& batch) {
  std::vector<Receipt> receipts;
  const absl::Status status =
      pool_->InTransaction("submit lead", [&](sql::Connection& conn) -> absl::Status {
        receipts.clear();              // again on a retry
        std::optional<Router> router;  // the rules, read once a transaction
        for (const Submission& s : batch) {
          // A lead marketing merged away after writing this handoff is its survivor.
          std::optional<handoff::v1::LeadHandoff> relinked;  // copied only when it must change
          if (const int64_t current = CurrentLeadId(conn, s.lead.lead_id());
              current != s.lead.lead_id()) {
            relinked = s.lead;
            relinked->set_lead_id(current);
          }
          const handoff::v1::LeadHandoff& lead = relinked ? *relinked : s.lead;
          auto st = Prepare(conn, kInsertHandoff);
          std::istringstream blob(lead.SerializeAsString());
          st->setString(1, lead.handoff_id());
          st->setInt64(2, lead.lead_id());
          st->setBlob(3, &blob);
          st->setDouble(4, UnixSecondsOf(s.now));
          st->setDouble(5, UnixSecondsOf(s.now + sla_));
          const bool inserted = st->executeUpdate() == 1;
          ASSIGN_OR_RETURN(v1::Handoff stored,
                           ReadHandoff(conn, s.lead.handoff_id(), false, s.now));
          if (inserted) {
            AppendHandoffEvent(
                conn, "received", stored, "relay",
                absl::StrCat("SLA deadline ", absl::FormatTime(absl::RFC3339_sec, s.now + sla_,
                                                               absl::UTCTimeZone())),
                s.now);
            if (!router) router.emplace(conn);
            const RouteResult route = router->Route(lead);
            Assignment next{route.rep_id, route.reason, route.rule_id, "routing", route.note};
            if (route.escalates) next.escalate_at = s.now + sla_;
            RecordAssignment(conn, stored, next, s.now);
          }
          handoff::v1::SubmitLeadResponse receipt;
          receipt.set_handoff_id(stored.handoff_id());
          receipt.set_duplicate(!inserted);
          *receipt.mutable_receive_time() = stored.receive_time();
          *receipt.mutable_sla_deadline() = stored.sla_deadline();
          receipts.push_back(std::move(receipt));
        }
        return absl::OkStatus();
      });
  if (status.ok()) {
    for (const Receipt& r : receipts) {
      handoff::CountReceived(handoff::EventKind::kLeadHandoff, r.ok() && r->duplicate());
    }
    return receipts;
  }
  if (batch.size() > 1 && !absl::IsUnavailable(status)) {
    receipts.clear();
    for (const Submission& s : batch) receipts.push_back(SubmitMany({s}).front());
    return receipts;
  }
  return std::vector<Receipt>(batch.size(), status);
}

absl::StatusOr<int64_t> InboxStore::CountOverdue(absl::Time now) {
  int64_t count = 0;
  RETURN_IF_ERROR(pool_->WithConnection("count overdue handoffs", [&](sql::Connection& conn) {
    auto st = Prepare(conn, kCountOverdue);
    st->setInt(1, v1::HANDOFF_STATE_PENDING);
    st->setDouble(2, UnixSecondsOf(now));
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    if (rs->next()) count = rs->getInt64(1);
    return absl::OkStatus();
  }));
  return count;
}

absl::StatusOr<int> InboxStore::AnnounceOverdue(absl::Time now, int limit) {
  int announced = 0;
  RETURN_IF_ERROR(pool_->InTransaction(
      "announce overdue handoffs",
      [&](sql::Connection& conn) -> absl::Status {
        announced = 0;
        auto claim = Prepare(conn, kClaimUnannouncedOverdue);
        claim->setInt(1, v1::HANDOFF_STATE_PENDING);
        claim->setDouble(2, UnixSecondsOf(now));
        claim->setInt(3, limit);
        std::unique_ptr<sql::ResultSet> rs(claim->executeQuery());
        while (rs->next()) {
          const std::string handoff_id = rs->getString(1);
          auto mark = Prepare(conn, kMarkOverdueAnnounced);
          mark->setDouble(1, UnixSecondsOf(now));
          mark->setString(2, handoff_id);
          mark->executeUpdate();
          feed::AppendEvent(
              conn, {"handoff.overdue", "handoff", handoff_id, rs->getInt64(2), "sla",
                     absl::StrCat("no first response by ",
                                  absl::FormatTime(absl::RFC3339_sec,
                                                   common::TimeFromUnixSeconds(rs->getDouble(3)),
                                                   absl::UTCTimeZone())),
                     now});
          ++announced;
        }
        return absl::OkStatus();
      },
      /*read_committed=*/true));
  return announced;
}

absl::StatusOr<int> InboxStore::EscalateOverdue(absl::Time now, int limit) {
  int escalated = 0;
  RETURN_IF_ERROR(
      pool_->InTransaction("escalate handoffs", [&](sql::Connection& conn) -> absl::Status {
        escalated = 0;
        auto claim = Prepare(conn, kClaimDueEscalations);
        claim->setDouble(1, UnixSecondsOf(now));
        claim->setInt(2, limit);
        std::vector<std::string> due;
        {
          std::unique_ptr<sql::ResultSet> rs(claim->executeQuery());
          while (rs->next()) due.push_back(rs->getString(1));
        }
        if (due.empty()) return absl::OkStatus();
        Router router(conn);
        for (const std::string& handoff_id : due) {
          ASSIGN_OR_RETURN(v1::Handoff h, ReadHandoff(conn, handoff_id, false, now));
          bool retry_later = false;
          const std::optional<RouteResult> route =
              router.Escalate(h.routing_rule_id(), h.assigned_rep_id(), &retry_later);
          if (!route) {
            // Nobody to move it to: it stays (on the overdue list), tried again
            // after another SLA period when the pool was only full for now.
            auto st = Prepare(conn, kPostponeEscalation);
            common::SetOptionalTime(
                *st, 1, retry_later ? std::optional<absl::Time>(now + sla_) : std::nullopt);
            st->setString(2, handoff_id);
            st->executeUpdate();
            continue;
          }
          Assignment next{route->rep_id, v1::ASSIGNMENT_REASON_ESCALATION, route->rule_id,
                          "escalation", route->note};
          if (h.escalation_count() + 1 < route->max_escalations) next.escalate_at = now + sla_;
          RecordAssignment(conn, h, next, now);
          ++escalated;
        }
        return absl::OkStatus();
      }));
  return escalated;
}

absl::StatusOr<v1::ListHandoffsResponse> InboxStore::List(const HandoffFilter& f, int page_size,
                                                          const std::string& page_token,
                                                          absl::Time now) {
  const std::string scope = absl::StrCat("handoffs:", f.state, ":", f.assigned_rep_id, ":",
                                         f.overdue_only, ":", f.lead_id);
  common::KeysetQuery query(kHandoffColumns, "handoffs", "seq");
  if (f.state != v1::HANDOFF_STATE_UNSPECIFIED) query.Where("state = ?", int64_t{f.state});
  if (f.assigned_rep_id != 0) query.Where("assigned_rep_id = ?", f.assigned_rep_id);
  if (f.lead_id != 0) query.Where("lead_id = ?", f.lead_id);
  if (f.overdue_only) {
    query.Where(kOverdueCondition, {int64_t{v1::HANDOFF_STATE_PENDING}, UnixSecondsOf(now)});
  }
  v1::ListHandoffsResponse response;
  ASSIGN_OR_RETURN(*response.mutable_next_page_token(),
                   query.Rows(*pool_, scope, page_token, page_size, [&](sql::ResultSet& rs) {
                     Row row = HandoffFromRow(rs, now);
                     *response.add_handoffs() = std::move(row.handoff);
                     return row.seq;
                   }));
  std::vector<v1::Handoff*> page;
  for (v1::Handoff& h : *response.mutable_handoffs()) page.push_back(&h);
  RETURN_IF_ERROR(pool_->WithConnection("handoff assignments", [&](sql::Connection& conn) {
    LoadAssignments(conn, page);
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<v1::Handoff> InboxStore::Get(const std::string& handoff_id, absl::Time now) {
  v1::Handoff h;
  RETURN_IF_ERROR(pool_->WithConnection("get handoff", [&](sql::Connection& conn) -> absl::Status {
    ASSIGN_OR_RETURN(h, ReadHandoff(conn, handoff_id, false, now));
    LoadAssignments(conn, {&h});
    return absl::OkStatus();
  }));
  return h;
}

absl::StatusOr<v1::Handoff> InboxStore::Assign(const std::string& handoff_id, int64_t rep_id,
                                               const Caller& caller,
                                               const common::RequestKey& request_id,
                                               absl::Time now) {
  return common::IdempotentTransaction<v1::Handoff>(
      *pool_, "AssignHandoff", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Handoff> {
        ASSIGN_OR_RETURN(v1::Handoff h, ReadHandoff(conn, handoff_id, true, now));
        RETURN_IF_ERROR(RequirePending(h));
        ASSIGN_OR_RETURN(v1::Rep rep, ReadRep(conn, rep_id, "rep_id"));
        if (!rep.active()) {
          return common::WithReason(
              absl::FailedPreconditionError(absl::StrCat("rep_id: rep ", rep_id, " is not active")),
              errors::v1::REP_INACTIVE);
        }
        RETURN_IF_ERROR(CheckCanDecide(conn, caller, h));
        RETURN_IF_ERROR(CheckCanChange(caller, rep.rep_id(), rep.manager_rep_id(),
                                       absl::StrCat("assigning to rep ", rep_id)));
        RecordAssignment(conn, h,
                         {rep_id, v1::ASSIGNMENT_REASON_MANUAL, 0, ActorOf(caller),
                          "assigned by hand; routing and escalation no longer move it"},
                         now);
        ASSIGN_OR_RETURN(h, ReadHandoff(conn, handoff_id, false, now));
        LoadAssignments(conn, {&h});
        return h;
      });
}

absl::StatusOr<v1::AcceptHandoffResponse> InboxStore::Accept(const std::string& handoff_id,
                                                             const Caller& caller,
                                                             const std::string& actor,
                                                             const common::RequestKey& request_id,
                                                             absl::Time now) {
  return Woken(common::IdempotentTransaction<v1::AcceptHandoffResponse>(
      *pool_, "AcceptHandoff", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::AcceptHandoffResponse> {
        ASSIGN_OR_RETURN(v1::Handoff h, ReadHandoff(conn, handoff_id, true, now));
        v1::AcceptHandoffResponse response;
        if (h.state() == v1::HANDOFF_STATE_ACCEPTED) {  // accepting twice changes nothing
          *response.mutable_handoff() = h;
          ASSIGN_OR_RETURN(*response.mutable_opportunity(),
                           ReadOpportunity(conn, h.opportunity_id(), false));
          return response;
        }
        RETURN_IF_ERROR(RequirePending(h));
        RETURN_IF_ERROR(CheckCanDecide(conn, caller, h));
        const int64_t owner = h.assigned_rep_id() != 0 ? h.assigned_rep_id() : caller.rep_id;
        if (owner == 0) {
          return common::WithReason(
              absl::FailedPreconditionError(
                  absl::StrCat("handoff ", handoff_id, ": assign it to a rep before accepting")),
              errors::v1::HANDOFF_UNASSIGNED);
        }
        ASSIGN_OR_RETURN(v1::Rep rep, ReadRep(conn, owner, "assigned rep"));
        const handoff::v1::Contact& person = h.lead().contact();
        if (person.email().empty()) {
          return common::WithReason(absl::FailedPreconditionError(absl::StrCat(
                                        "handoff ", handoff_id, ": the person's data was erased")),
                                    errors::v1::PERSON_ERASED);
        }
        v1::Account account;
        account.set_name(AccountNameFor(person, personal_domains_));
        account.set_industry(person.industry());
        account.set_region(person.region());
        account.set_company_size(person.company_size());
        // An expansion is more business on the account sales already holds.
        const bool expansion = h.lead().business_type() == handoff::v1::BUSINESS_TYPE_EXPANSION;
        int64_t account_id = expansion ? CurrentAccountId(conn, h.lead().account_id()) : 0;
        if (account_id == 0) account_id = FindOrCreateAccount(conn, account);
        v1::Contact contact;
        contact.set_account_id(account_id);
        contact.set_email(person.email());
        contact.set_first_name(person.first_name());
        contact.set_last_name(person.last_name());
        contact.set_title(person.title());
        contact.set_phone(person.phone());
        contact.set_consent(h.lead().consent());
        const int64_t contact_id = FindOrCreateContact(conn, contact, h.lead().lead_id());

        v1::Opportunity o;
        o.set_name(absl::StrCat(account.name(),
                                expansion ? " (expansion, marketing lead " : " (marketing lead ",
                                h.lead().lead_id(), ")"));
        o.set_business_type(expansion ? handoff::v1::BUSINESS_TYPE_EXPANSION
                                      : handoff::v1::BUSINESS_TYPE_NEW);
        o.set_referrer_lead_id(h.lead().referrer_lead_id());
        o.set_referrer_contact_id(h.lead().referrer_contact_id());
        o.set_account_id(account_id);
        o.set_contact_id(contact_id);
        o.set_owner_rep_id(rep.rep_id());
        o.set_source(v1::SOURCE_MARKETING);
        o.set_handoff_id(handoff_id);
        o.set_lead_id(h.lead().lead_id());
        // Marketing already qualified the lead: it enters at QUALIFICATION.
        o.set_stage(v1::STAGE_QUALIFICATION);
        v1::Opportunity opened =
            InsertOpportunity(conn, o, actor, now, h.lead().first_touch_campaign_id());

        auto st = Prepare(conn, kAcceptHandoff);
        st->setInt(1, v1::HANDOFF_STATE_ACCEPTED);
        st->setInt64(2, rep.rep_id());
        st->setInt64(3, opened.opportunity_id());
        st->setDouble(4, UnixSecondsOf(now));
        st->setInt64(5, rep.rep_id());
        st->setString(6, handoff_id);
        st->executeUpdate();
        ASSIGN_OR_RETURN(h, ReadHandoff(conn, handoff_id, false, now));
        QueueDecision(conn, h, rep.rep_id(), now, &opened);
        AppendHandoffEvent(
            conn, "accepted", h, actor,
            absl::StrCat("rep ", rep.rep_id(), ", opportunity ", opened.opportunity_id()), now);
        *response.mutable_handoff() = h;
        *response.mutable_opportunity() = opened;
        return response;
      }));
}

absl::StatusOr<v1::Handoff> InboxStore::Reject(const std::string& handoff_id,
                                               handoff::v1::RejectionReason reason,
                                               const std::string& note, const Caller& caller,
                                               const common::RequestKey& request_id,
                                               absl::Time now) {
  return Woken(common::IdempotentTransaction<v1::Handoff>(
      *pool_, "RejectHandoff", request_id,
      [&](sql::Connection& conn) -> absl::StatusOr<v1::Handoff> {
        ASSIGN_OR_RETURN(v1::Handoff h, ReadHandoff(conn, handoff_id, true, now));
        RETURN_IF_ERROR(RequirePending(h));
        RETURN_IF_ERROR(CheckCanDecide(conn, caller, h));
        const int64_t rep = h.assigned_rep_id() != 0 ? h.assigned_rep_id() : caller.rep_id;
        auto st = Prepare(conn, kRejectHandoff);
        st->setInt(1, v1::HANDOFF_STATE_REJECTED);
        st->setInt(2, reason);
        st->setString(3, note);
        st->setDouble(4, UnixSecondsOf(now));
        st->setInt64(5, rep);
        st->setString(6, handoff_id);
        st->executeUpdate();
        ASSIGN_OR_RETURN(h, ReadHandoff(conn, handoff_id, false, now));
        QueueDecision(conn, h, rep, now);
        AppendHandoffEvent(
            conn, "rejected", h, ActorOf(caller),
            absl::StrCat("reason ", absl::StripPrefix(handoff::v1::RejectionReason_Name(reason),
                                                      "REJECTION_REASON_")),
            now);
        return h;
      }));
}

}  // namespace funnel::sales
