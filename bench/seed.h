#pragma once

// Bulk seeding of large volumes straight into the services' databases (the
// database's own bulk path: INSERT ... SELECT over MariaDB's sequence tables), for
// scenarios that need millions of rows before they measure anything. Rows look
// like the services' own: leads spread over the past year and over campaigns, a
// tenth of them handed off, opportunities made from handoffs.

#include <cstdint>
#include <string>

#include "tests/testing/harness.h"

namespace funnel::bench {

inline constexpr int kSeedCampaigns = 10;

// Campaigns 1..kSeedCampaigns (on an empty database).
void SeedCampaigns(testing::TestDatabase& marketing);

// `count` leads with emails "seed-<tag>-<n>@bench.example", NURTURING or, with
// `some_handed_off`, every tenth HANDED_OFF (spread evenly over the first-touch
// campaigns). Returns the lowest lead id inserted.
int64_t SeedLeads(testing::TestDatabase& marketing, int64_t count, const std::string& tag,
                  bool some_handed_off);

// `count` touchpoints over the leads with ids first_lead .. first_lead+leads-1,
// and the campaign counters rebuilt from all touchpoints.
void SeedTouchpoints(testing::TestDatabase& marketing, int64_t count, int64_t first_lead,
                     int64_t leads);

// A delivered handoff for every HANDED_OFF lead, on both sides (marketing's
// record and sales' inbox), most decided. Returns how many.
int64_t SeedHandoffs(testing::TestDatabase& marketing, testing::TestDatabase& sales);

// Up to `count` opportunities from sales' handoffs, across all stages.
int64_t SeedOpportunities(testing::TestDatabase& sales, int64_t count);

}  // namespace funnel::bench
