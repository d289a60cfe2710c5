#include "sales_service/pipeline.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "handoff/validation.h"

namespace funnel::sales {

int DefaultProbability(v1::Stage stage) {
  switch (stage) {
    case v1::STAGE_PROSPECTING:
      return 10;
    case v1::STAGE_QUALIFICATION:
      return 20;
    case v1::STAGE_NEEDS_ANALYSIS:
      return 40;
    case v1::STAGE_PROPOSAL:
      return 60;
    case v1::STAGE_NEGOTIATION:
      return 80;
    case v1::STAGE_CLOSED_WON:
      return 100;
    default:
      return 0;
  }
}

bool IsOpen(v1::Stage stage) {
  return stage >= v1::STAGE_PROSPECTING && stage <= v1::STAGE_NEGOTIATION;
}

bool IsClosed(v1::Stage stage) {
  return stage == v1::STAGE_CLOSED_WON || stage == v1::STAGE_CLOSED_LOST;
}

int EffectiveProbability(v1::Stage stage, std::optional<int> override_percent) {
  if (IsClosed(stage) || !override_percent) return DefaultProbability(stage);
  return *override_percent;
}

absl::Status CheckStageMove(v1::Stage from, v1::Stage to, bool is_manager) {
  if (!IsOpen(to) && !IsClosed(to)) return absl::InvalidArgumentError("stage: required");
  if (from == to) return absl::OkStatus();
  if (IsOpen(from) && IsOpen(to)) return absl::OkStatus();
  if (IsOpen(from) && IsClosed(to)) {
    return common::WithReason(
        absl::FailedPreconditionError("stage: closing goes through CloseOpportunity (WON with the "
                                      "amount, LOST with a reason)"),
        errors::v1::INVALID_TRANSITION);
  }
  if (IsClosed(from) && IsOpen(to)) {
    if (!is_manager) {
      return common::WithReason(
          absl::PermissionDeniedError(absl::StrCat("stage: reopening a ", v1::Stage_Name(from),
                                                   " opportunity needs a MANAGER")),
          errors::v1::ROLE_NOT_ALLOWED);
    }
    return absl::OkStatus();
  }
  return common::WithReason(
      absl::FailedPreconditionError(
          absl::StrCat("stage: cannot go from ", v1::Stage_Name(from), " to ", v1::Stage_Name(to))),
      errors::v1::INVALID_TRANSITION);
}

absl::Status CheckClose(v1::Stage from) {
  if (!IsOpen(from)) {
    return common::WithReason(
        absl::FailedPreconditionError(
            absl::StrCat("opportunity: already ", v1::Stage_Name(from), "; reopen it first")),
        errors::v1::OPPORTUNITY_CLOSED);
  }
  return absl::OkStatus();
}

int64_t Weighted(int64_t amount_minor, int probability_percent) {
  // Integer arithmetic with rounding half away from zero: no float drift on money.
  const __int128 product = static_cast<__int128>(amount_minor) * probability_percent;
  return static_cast<int64_t>((product + (product >= 0 ? 50 : -50)) / 100);
}

double AttainmentPercent(int64_t won_minor, int64_t target_minor) {
  if (target_minor <= 0) return 0;
  return 100.0 * static_cast<double>(won_minor) / static_cast<double>(target_minor);
}

double WinRate(int64_t won, int64_t lost) {
  if (won + lost == 0) return 0;
  return static_cast<double>(won) / static_cast<double>(won + lost);
}

absl::StatusOr<Quarter> ParseQuarter(const std::string& text, absl::string_view field) {
  int year = 0;
  int q = 0;
  if (text.size() != 7 || text[4] != '-' || text[5] != 'Q' ||
      !absl::SimpleAtoi(text.substr(0, 4), &year) || !absl::SimpleAtoi(text.substr(6, 1), &q) ||
      q < 1 || q > 4 || year < 1970) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must look like 2026-Q4"));
  }
  const absl::TimeZone utc = absl::UTCTimeZone();
  const int month = (q - 1) * 3 + 1;
  Quarter quarter;
  quarter.start = absl::FromCivil(absl::CivilMonth(year, month), utc);
  quarter.end = absl::FromCivil(absl::CivilMonth(year, month) + 3, utc);
  return quarter;
}

}  // namespace funnel::sales

namespace funnel::sales {

bool IsManagerLike(const Caller& caller) {
  return caller.role.empty() || caller.role == "ADMIN" || caller.role == "SALES_MANAGER";
}

absl::Status CheckCanCreateRep(const Caller& caller, const v1::Rep& rep) {
  if (caller.role.empty() || caller.role == "ADMIN") return absl::OkStatus();
  if (caller.role == "SALES_MANAGER" && caller.rep_id != 0 && rep.role() == v1::REP_ROLE_REP &&
      rep.manager_rep_id() == caller.rep_id) {
    return absl::OkStatus();
  }
  if (caller.role == "SALES_MANAGER") {
    return common::WithReason(
        absl::PermissionDeniedError(absl::StrCat("rep: a SALES_MANAGER creates reps "
                                                 "(REP_ROLE_REP) in their own team only "
                                                 "(manager_rep_id ",
                                                 caller.rep_id, ")")),
        errors::v1::ROLE_NOT_ALLOWED);
  }
  return common::WithReason(
      absl::PermissionDeniedError("rep: only a MANAGER or ADMIN creates reps"),
      errors::v1::ROLE_NOT_ALLOWED);
}

absl::Status CheckCanSeeRep(const Caller& caller, int64_t rep_id, int64_t manager_rep_id) {
  if (caller.role.empty() || caller.role == "ADMIN" || caller.role == "REVENUE_OPS") {
    return absl::OkStatus();
  }
  if (caller.rep_id != 0 && (caller.rep_id == rep_id ||
                             (caller.role == "SALES_MANAGER" && caller.rep_id == manager_rep_id))) {
    return absl::OkStatus();
  }
  return common::WithReason(
      absl::PermissionDeniedError(absl::StrCat("rep_id: rep ", rep_id,
                                               "'s figures are theirs and their manager's; a ",
                                               caller.role, " may not see them")),
      errors::v1::NOT_OWNER);
}

absl::Status CheckCanChange(const Caller& caller, int64_t owner_rep_id, int64_t owner_manager_id,
                            absl::string_view what) {
  if (caller.role.empty() || caller.role == "ADMIN") return absl::OkStatus();
  if (caller.role == "SALES_REP" && caller.rep_id != 0 && caller.rep_id == owner_rep_id) {
    return absl::OkStatus();
  }
  if (caller.role == "SALES_MANAGER" && caller.rep_id != 0 &&
      (caller.rep_id == owner_rep_id || caller.rep_id == owner_manager_id)) {
    return absl::OkStatus();
  }
  return common::WithReason(
      absl::PermissionDeniedError(absl::StrCat(what, " belongs to rep ", owner_rep_id, "; a ",
                                               caller.role.empty() ? "caller" : caller.role,
                                               " may not change it")),
      errors::v1::NOT_OWNER);
}

namespace {

v1::CurrencyTotal* TotalFor(google::protobuf::RepeatedPtrField<v1::CurrencyTotal>* totals,
                            const std::string& currency) {
  for (auto& t : *totals) {
    if (t.currency_code() == currency) return &t;
  }
  v1::CurrencyTotal* t = totals->Add();
  t->set_currency_code(currency);
  return t;
}

void Add(google::protobuf::RepeatedPtrField<v1::CurrencyTotal>* totals, const OpportunityFacts& o,
         int probability) {
  v1::CurrencyTotal* t = TotalFor(totals, o.currency);
  t->set_count(t->count() + 1);
  t->set_amount_minor(handoff::AddMinor(t->amount_minor(), o.amount_minor));
  t->set_weighted_amount_minor(
      handoff::AddMinor(t->weighted_amount_minor(), Weighted(o.amount_minor, probability)));
}

}  // namespace

v1::PipelineReport AggregatePipeline(const std::vector<OpportunityFacts>& opportunities) {
  v1::PipelineReport report;
  for (int s = v1::STAGE_PROSPECTING; s <= v1::STAGE_CLOSED_LOST; ++s) {
    report.add_stages()->set_stage(static_cast<v1::Stage>(s));
  }
  int64_t won = 0, lost = 0;
  for (const OpportunityFacts& o : opportunities) {
    const int probability = EffectiveProbability(o.stage, o.probability_override);
    v1::StageSummary* stage = report.mutable_stages(o.stage - v1::STAGE_PROSPECTING);
    stage->set_count(stage->count() + 1);
    Add(stage->mutable_totals(), o, probability);
    if (o.stage == v1::STAGE_CLOSED_WON) ++won;
    if (o.stage == v1::STAGE_CLOSED_LOST) ++lost;
    if (!IsOpen(o.stage)) continue;
    Add(report.mutable_pipeline(), o, probability);
    if (o.stage >= v1::STAGE_PROPOSAL) Add(report.mutable_best_case(), o, probability);
    if (o.stage == v1::STAGE_NEGOTIATION) Add(report.mutable_commit(), o, probability);
    Add(o.source == v1::SOURCE_MARKETING ? report.mutable_marketing_sourced()
                                         : report.mutable_sales_sourced(),
        o, probability);
  }
  report.set_win_rate(WinRate(won, lost));
  return report;
}

}  // namespace funnel::sales
