#pragma once

// The stage sets the stores' statements filter on, as SQL named from the proto's
// enum (pipeline.h says what open and closed mean; this only spells it for SQL).

#include <string>

#include "common/mysql/sql_util.h"
#include "funnel/sales/v1/sales_service.pb.h"

namespace funnel::sales {

// "(1, 2, 3, 4, 5)": every stage an opportunity can be worked in.
inline const std::string kOpenStages =
    common::SqlSet({v1::STAGE_PROSPECTING, v1::STAGE_QUALIFICATION, v1::STAGE_NEEDS_ANALYSIS,
                    v1::STAGE_PROPOSAL, v1::STAGE_NEGOTIATION});
// "(6, 7)": won or lost.
inline const std::string kClosedStages =
    common::SqlSet({v1::STAGE_CLOSED_WON, v1::STAGE_CLOSED_LOST});

}  // namespace funnel::sales
