// sales_service: owns funnel_sales and serves funnel.sales.v1 and the handoff inbox.
#include <memory>

#include "absl/flags/flag.h"
#include "handoff/service_main.h"
#include "sales_service/migrations.h"
#include "sales_service/sales_service.h"

ABSL_FLAG(int, handoff_sla_hours, 24, "Hours sales has to decide a handoff after it arrives.");

namespace {

struct Services {
  Services(funnel::common::ConnectionPool* pool, std::function<void()> wake,
           const funnel::common::InternalGuard* guard)
      : directory(pool),
        inbox(pool, absl::Hours(absl::GetFlag(FLAGS_handoff_sla_hours)), wake),
        opportunities(pool, wake),
        reports(pool),
        sales(&directory, &inbox, &opportunities, &reports, guard),
        handoff_inbox(&inbox, guard) {}
  funnel::sales::DirectoryStore directory;
  funnel::sales::InboxStore inbox;
  funnel::sales::OpportunityStore opportunities;
  funnel::sales::ReportStore reports;
  funnel::sales::SalesServiceImpl sales;
  funnel::sales::HandoffInboxServiceImpl handoff_inbox;
};

}  // namespace

int main(int argc, char** argv) {
  funnel::handoff::DbServiceSpec spec;
  spec.name = "sales";
  spec.default_port = 50053;
  spec.default_database = "funnel_sales";
  spec.migrations = &funnel::sales::Migrations();
  spec.install = [](funnel::common::ServiceHost& host, funnel::common::ConnectionPool& pool,
                    std::function<void()> wake, const funnel::common::InternalGuard* guard) {
    auto services = std::make_shared<Services>(&pool, std::move(wake), guard);
    host.AddService(&services->sales, {"funnel.sales.v1.SalesService"});
    host.AddService(&services->handoff_inbox, {"funnel.handoff.v1.HandoffInboxService"});
    return std::shared_ptr<void>(services);
  };
  return funnel::handoff::RunDbService(argc, argv, spec);
}
