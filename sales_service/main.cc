// sales_service: owns funnel_sales and serves funnel.sales.v1.
#include <memory>

#include "common/server/db_service_main.h"
#include "sales_service/migrations.h"
#include "sales_service/rep_store.h"
#include "sales_service/sales_service.h"

namespace {

struct Services {
  explicit Services(funnel::common::ConnectionPool* pool) : reps(pool), sales(&reps) {}
  funnel::sales::RepStore reps;
  funnel::sales::SalesServiceImpl sales;
};

}  // namespace

int main(int argc, char** argv) {
  funnel::common::DbServiceSpec spec;
  spec.name = "sales";
  spec.default_port = 50053;
  spec.default_database = "funnel_sales";
  spec.migrations = &funnel::sales::Migrations();
  spec.install = [](funnel::common::ServiceHost& host, funnel::common::ConnectionPool& pool) {
    auto services = std::make_shared<Services>(&pool);
    host.AddService(&services->sales, {"funnel.sales.v1.SalesService"});
    return std::shared_ptr<void>(services);
  };
  return funnel::common::RunDbService(argc, argv, spec);
}
