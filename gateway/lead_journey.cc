#include "gateway/lead_journey.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace funnel::gateway {
namespace {

using google::protobuf::Timestamp;

bool Earlier(const v1::JourneyEvent& a, const v1::JourneyEvent& b) {
  if (a.occur_time().seconds() != b.occur_time().seconds()) {
    return a.occur_time().seconds() < b.occur_time().seconds();
  }
  return a.occur_time().nanos() < b.occur_time().nanos();
}

v1::JourneyEvent* Add(v1::LeadJourney* journey, const Timestamp& time, v1::JourneySource source,
                      absl::string_view kind, std::string summary) {
  v1::JourneyEvent* e = journey->add_events();
  *e->mutable_occur_time() = time;
  e->set_source(source);
  e->set_kind(std::string(kind));
  e->set_summary(std::move(summary));
  return e;
}

// Calls a List method page by page (at most `max_pages`).
template <typename Request, typename Response, typename Call>
absl::Status AllPages(Request request, const Call& call, Response* all, int max_pages = 20) {
  for (int page = 0; page < max_pages; ++page) {
    Response response;
    RETURN_IF_ERROR(common::FromGrpcStatus(call(request, &response)));
    all->MergeFrom(response);
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  all->clear_next_page_token();
  return absl::OkStatus();
}

}  // namespace

JourneyView ViewFor(const std::string& role) {
  JourneyView v;
  if (role == "SALES_REP" || role == "SALES_MANAGER") {
    v.campaigns = false;
    v.scores = false;
    v.requires_handoff = true;
  } else if (role == "MARKETING") {
    v.activity_notes = false;
  }
  return v;
}

absl::StatusOr<v1::LeadJourney> AssembleJourney(
    const v1::GetLeadJourneyRequest& request, const JourneyView& view,
    const std::function<std::unique_ptr<grpc::ClientContext>()>& ctx,
    marketing::v1::MarketingService::StubInterface& marketing,
    sales::v1::SalesService::StubInterface& sales) {
  // Which lead.
  marketing::v1::Lead lead;
  if (request.lead_case() == v1::GetLeadJourneyRequest::kEmail) {
    marketing::v1::ListLeadsRequest find;
    find.set_email(request.email());
    marketing::v1::ListLeadsResponse found;
    RETURN_IF_ERROR(common::FromGrpcStatus(marketing.ListLeads(ctx().get(), find, &found)));
    if (found.leads().empty()) return absl::NotFoundError("email: no lead with this address");
    lead = found.leads(0);
  } else if (request.lead_id() > 0) {
    marketing::v1::GetLeadRequest get;
    get.set_lead_id(request.lead_id());
    RETURN_IF_ERROR(common::FromGrpcStatus(marketing.GetLead(ctx().get(), get, &lead)));
  } else {
    return absl::InvalidArgumentError("lead: set lead_id or email");
  }

  sales::v1::ListHandoffsRequest by_lead;
  by_lead.set_lead_id(lead.lead_id());
  sales::v1::ListHandoffsResponse handoffs;
  RETURN_IF_ERROR(AllPages(
      by_lead, [&](const auto& r, auto* out) { return sales.ListHandoffs(ctx().get(), r, out); },
      &handoffs));
  if (view.requires_handoff && handoffs.handoffs().empty()) {
    // A lead marketing kept is none of sales' business, not even that it exists:
    // the answer is marketing's for a lead that does not exist.
    return request.lead_case() == v1::GetLeadJourneyRequest::kEmail
               ? absl::NotFoundError("email: no lead with this address")
               : absl::NotFoundError(absl::StrCat("lead ", lead.lead_id(), " not found"));
  }

  v1::LeadJourney journey;
  journey.set_lead_id(lead.lead_id());
  if (!view.campaigns) journey.add_redacted("campaigns");
  if (!view.scores) journey.add_redacted("scores");
  if (!view.activity_notes) journey.add_redacted("activity notes");

  // Marketing: touchpoints and the lead's own steps. Sales' decisions and outcomes
  // come from sales below, so marketing's echo of them is left out.
  marketing::v1::ListTouchpointsRequest tr;
  tr.set_lead_id(lead.lead_id());
  marketing::v1::ListTouchpointsResponse touchpoints;
  RETURN_IF_ERROR(AllPages(
      tr, [&](const auto& r, auto* out) { return marketing.ListTouchpoints(ctx().get(), r, out); },
      &touchpoints));
  for (const auto& t : touchpoints.touchpoints()) {
    v1::JourneyEvent* e = Add(&journey, t.occur_time(), v1::JOURNEY_SOURCE_MARKETING, "touchpoint",
                              handoff::v1::TouchpointType_Name(t.type()));
    if (view.campaigns) e->set_campaign_id(t.campaign_id());
    if (view.scores) e->set_summary(absl::StrCat(e->summary(), " +", t.points()));
  }
  marketing::v1::ListLeadHistoryRequest hr;
  hr.set_lead_id(lead.lead_id());
  marketing::v1::ListLeadHistoryResponse history;
  RETURN_IF_ERROR(AllPages(
      hr, [&](const auto& r, auto* out) { return marketing.ListLeadHistory(ctx().get(), r, out); },
      &history));
  for (const auto& h : history.entries()) {
    using marketing::v1::HistoryAction;
    switch (h.kind()) {
      // Shown from their own sources: touchpoints above, decisions and deals below.
      case HistoryAction::HISTORY_ACTION_TOUCHPOINT:
      case HistoryAction::HISTORY_ACTION_SALES_ACCEPTED:
      case HistoryAction::HISTORY_ACTION_RECYCLED:
      case HistoryAction::HISTORY_ACTION_WON:
      case HistoryAction::HISTORY_ACTION_LOST:
      case HistoryAction::HISTORY_ACTION_DEAL_REOPENED:
        continue;
      case HistoryAction::HISTORY_ACTION_TEMPERATURE_CHANGED:
        if (!view.scores) continue;
        break;
      default:
        break;
    }
    // A capture's detail names its campaign.
    const bool hide_detail = h.kind() == HistoryAction::HISTORY_ACTION_CAPTURED && !view.campaigns;
    Add(&journey, h.occur_time(), v1::JOURNEY_SOURCE_MARKETING, h.action(),
        hide_detail ? h.action() : h.detail());
  }

  // Sales: each handoff's assignments and decision, then its opportunity's moves
  // and activities.
  for (const auto& h : handoffs.handoffs()) {
    for (const auto& a : h.assignments()) {
      const bool queued = a.reason() == sales::v1::ASSIGNMENT_REASON_DEFAULT_QUEUE;
      const bool escalated = a.reason() == sales::v1::ASSIGNMENT_REASON_ESCALATION;
      Add(&journey, a.assign_time(), v1::JOURNEY_SOURCE_SALES,
          queued      ? "queued"
          : escalated ? "escalated"
                      : "assigned",
          queued ? a.note() : absl::StrCat("rep ", a.rep_id(), ": ", a.note()));
    }
    if (h.state() == sales::v1::HANDOFF_STATE_ACCEPTED ||
        h.state() == sales::v1::HANDOFF_STATE_REJECTED) {
      const bool accepted = h.state() == sales::v1::HANDOFF_STATE_ACCEPTED;
      v1::JourneyEvent* e = Add(&journey, h.decide_time(), v1::JOURNEY_SOURCE_SALES,
                                accepted ? "accepted" : "rejected",
                                accepted ? absl::StrCat("opportunity ", h.opportunity_id())
                                         : handoff::v1::RejectionReason_Name(h.rejection_reason()));
      e->set_opportunity_id(h.opportunity_id());
    }
    sales::v1::ListActivitiesRequest ar;
    ar.set_handoff_id(h.handoff_id());
    std::vector<sales::v1::ListActivitiesRequest> activity_queries = {ar};
    if (h.opportunity_id() != 0) {
      sales::v1::ListActivitiesRequest by_opportunity;
      by_opportunity.set_opportunity_id(h.opportunity_id());
      activity_queries.push_back(by_opportunity);
      sales::v1::ListStageChangesRequest sr;
      sr.set_opportunity_id(h.opportunity_id());
      sales::v1::ListStageChangesResponse changes;
      RETURN_IF_ERROR(AllPages(
          sr, [&](const auto& r, auto* out) { return sales.ListStageChanges(ctx().get(), r, out); },
          &changes));
      for (const auto& c : changes.changes()) {
        if (c.from_stage() == sales::v1::STAGE_UNSPECIFIED) continue;  // opening = "accepted"
        const bool won = c.to_stage() == sales::v1::STAGE_CLOSED_WON;
        const bool lost = c.to_stage() == sales::v1::STAGE_CLOSED_LOST;
        v1::JourneyEvent* e = Add(&journey, c.change_time(), v1::JOURNEY_SOURCE_SALES,
                                  won    ? "won"
                                  : lost ? "lost"
                                         : "stage_change",
                                  absl::StrCat(sales::v1::Stage_Name(c.from_stage()), " -> ",
                                               sales::v1::Stage_Name(c.to_stage())));
        e->set_opportunity_id(h.opportunity_id());
      }
    }
    for (const auto& query : activity_queries) {
      sales::v1::ListActivitiesResponse activities;
      RETURN_IF_ERROR(AllPages(
          query,
          [&](const auto& r, auto* out) { return sales.ListActivities(ctx().get(), r, out); },
          &activities));
      for (const auto& act : activities.activities()) {
        // An activity on both the handoff and the opportunity is listed once.
        if (&query != &activity_queries.front() && act.handoff_id() == h.handoff_id()) continue;
        v1::JourneyEvent* e = Add(&journey, act.occur_time(), v1::JOURNEY_SOURCE_SALES, "activity",
                                  sales::v1::ActivityType_Name(act.type()));
        if (view.activity_notes && !act.outcome().empty()) {
          e->set_summary(absl::StrCat(e->summary(), ": ", act.outcome()));
        }
        e->set_opportunity_id(act.opportunity_id());
      }
    }
  }
  std::stable_sort(journey.mutable_events()->begin(), journey.mutable_events()->end(), Earlier);
  return journey;
}

}  // namespace funnel::gateway
