#pragma once

#include <vector>

#include "common/mysql/migrations.h"

namespace funnel::marketing {

// marketing_service/migrations/*.sql, embedded at build time.
const std::vector<common::Migration>& Migrations();

}  // namespace funnel::marketing
