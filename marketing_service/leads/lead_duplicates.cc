// LeadStore's duplicate suggestions: the database groups leads by each value a
// person keeps when captured twice (one query per reason); duplicates.h pairs them.

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/mysql/sql_util.h"
#include "common/pagination.h"
#include "common/status.h"
#include "marketing_service/duplicates.h"
#include "marketing_service/leads/lead_rows.h"
#include "marketing_service/leads/lead_store.h"

namespace funnel::marketing {
namespace {

using common::Prepare;

// Each selects the ids of one group per row, for groups of 2 to ? leads.
constexpr absl::string_view kPhoneGroups = R"sql(
  SELECT GROUP_CONCAT(lead_id) FROM leads
  WHERE erased = FALSE AND merged_into = 0 AND LENGTH(REGEXP_REPLACE(phone, '[^0-9]', '')) >= 7
  GROUP BY REGEXP_REPLACE(phone, '[^0-9]', '')
  HAVING COUNT(*) BETWEEN 2 AND ?)sql";
constexpr absl::string_view kNameAndCompanyGroups = R"sql(
  SELECT GROUP_CONCAT(lead_id) FROM leads
  WHERE erased = FALSE AND merged_into = 0 AND TRIM(first_name) <> '' AND TRIM(last_name) <> ''
    AND TRIM(company) <> ''
  GROUP BY LOWER(TRIM(first_name)), LOWER(TRIM(last_name)), LOWER(TRIM(company))
  HAVING COUNT(*) BETWEEN 2 AND ?)sql";
// The company's name in a domain: the label before the public suffix, a two-letter
// country's "co.", "com." and the like counted into the suffix (acme.co.uk: acme).
// Emails are unique, so the leads of one group have different domains.
constexpr absl::string_view kLocalPartGroups = R"sql(
  SELECT GROUP_CONCAT(lead_id) FROM (
    SELECT lead_id, SUBSTRING_INDEX(email, '@', 1) AS local_part,
           SUBSTRING_INDEX(email, '@', -1) AS domain
    FROM leads WHERE erased = FALSE AND merged_into = 0 AND email IS NOT NULL) e
  WHERE LENGTH(local_part) >= 3
    AND local_part NOT IN ('info', 'sales', 'contact', 'admin', 'hello', 'support', 'office',
                           'team', 'mail', 'marketing', 'enquiries', 'billing', 'noreply')
  GROUP BY local_part,
    IF(SUBSTRING_INDEX(domain, '.', -2) REGEXP '^(co|com|org|net|ac|gov|edu)\\.[a-z]{2}$',
       SUBSTRING_INDEX(SUBSTRING_INDEX(domain, '.', -3), '.', 1),
       SUBSTRING_INDEX(SUBSTRING_INDEX(domain, '.', -2), '.', 1))
  HAVING COUNT(*) BETWEEN 2 AND ?)sql";

}  // namespace

absl::StatusOr<v1::ListDuplicateLeadsResponse> LeadStore::ListDuplicates(
    int64_t lead_id, int page_size, const std::string& page_token) {
  const std::string scope = absl::StrCat("duplicates:", lead_id);
  ASSIGN_OR_RETURN(std::vector<std::string> key, common::DecodePageToken(scope, page_token, 2));
  int64_t after_lead = 0, after_other = 0;
  if (!key.empty() &&
      (!absl::SimpleAtoi(key[0], &after_lead) || !absl::SimpleAtoi(key[1], &after_other))) {
    return absl::InvalidArgumentError("page_token: malformed");
  }
  v1::ListDuplicateLeadsResponse response;
  RETURN_IF_ERROR(pool_->WithConnection("list duplicate leads", [&](sql::Connection& conn) {
    std::vector<DuplicateGroup> groups;
    for (const auto& [reason, sql] :
         {std::pair{v1::DUPLICATE_REASON_SAME_PHONE, kPhoneGroups},
          {v1::DUPLICATE_REASON_SAME_NAME_AND_COMPANY, kNameAndCompanyGroups},
          {v1::DUPLICATE_REASON_SAME_LOCAL_PART_AT_COMPANY_DOMAIN, kLocalPartGroups}}) {
      auto st = Prepare(conn, sql);
      st->setInt(1, kMaxDuplicateGroup);
      std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
      while (rs->next()) {
        DuplicateGroup& g = groups.emplace_back();
        g.reason = reason;
        for (absl::string_view id : absl::StrSplit(std::string(rs->getString(1)), ',')) {
          int64_t n = 0;
          if (absl::SimpleAtoi(id, &n)) g.lead_ids.push_back(n);
        }
      }
    }
    std::vector<DuplicatePair> page;
    for (DuplicatePair& p : DuplicatePairs(groups, lead_id)) {
      if (std::make_pair(p.lead_id, p.other_id) <= std::make_pair(after_lead, after_other)) {
        continue;
      }
      if (static_cast<int>(page.size()) == page_size) {  // another page follows
        response.set_next_page_token(common::EncodePageToken(
            scope, {absl::StrCat(page.back().lead_id), absl::StrCat(page.back().other_id)}));
        break;
      }
      page.push_back(std::move(p));
    }
    if (page.empty()) return absl::OkStatus();
    std::vector<int64_t> ids;
    for (const DuplicatePair& p : page) ids.insert(ids.end(), {p.lead_id, p.other_id});
    auto st = Prepare(conn, absl::StrCat("SELECT ", kLeadColumns,
                                         " FROM leads l WHERE l.erased = FALSE AND l.lead_id IN (",
                                         common::Placeholders(ids.size(), "?"), ")"));
    for (size_t i = 0; i < ids.size(); ++i) st->setInt64(static_cast<int>(i) + 1, ids[i]);
    std::unique_ptr<sql::ResultSet> rs(st->executeQuery());
    std::map<int64_t, v1::Lead> leads;
    while (rs->next()) {
      v1::Lead lead = LeadFromRow(*rs).lead;
      leads[lead.lead_id()] = std::move(lead);
    }
    for (const DuplicatePair& p : page) {
      if (leads.count(p.lead_id) == 0 || leads.count(p.other_id) == 0) continue;  // erased since
      v1::DuplicateLeadPair* out = response.add_pairs();
      *out->mutable_lead() = leads[p.lead_id];
      *out->mutable_other() = leads[p.other_id];
      for (v1::DuplicateReason r : p.reasons) out->add_reasons(r);
    }
    return absl::OkStatus();
  }));
  return response;
}

}  // namespace funnel::marketing
