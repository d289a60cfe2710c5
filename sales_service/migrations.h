#pragma once

#include <vector>

#include "common/mysql/migrations.h"

namespace funnel::sales {

// sales_service/migrations/*.sql, embedded at build time.
const std::vector<common::Migration>& Migrations();

}  // namespace funnel::sales
