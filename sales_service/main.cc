// sales_service: owns funnel_sales and serves funnel.sales.v1 and the handoff inbox.
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "handoff/service_main.h"
#include "sales_service/migrations.h"
#include "sales_service/sales_service.h"

ABSL_FLAG(
    int, handoff_sla_hours, 24,
    "Hours sales has to first answer a handoff (an activity or a decision) after it arrives.");
ABSL_FLAG(std::string, personal_email_domains_file, "",
          "File of personal (freemail) email domains, one per line, replacing the built-in "
          "list: a person without a company at one of them gets an account of their own.");

namespace {

struct Services {
  Services(funnel::common::ConnectionPool* pool, std::function<void()> wake,
           const funnel::common::InternalGuard* guard, funnel::sales::PersonalDomains personal)
      : directory(pool),
        inbox(pool, absl::Hours(absl::GetFlag(FLAGS_handoff_sla_hours)), wake, std::move(personal)),
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
    funnel::sales::PersonalDomains personal = funnel::sales::PersonalDomains::BuiltIn();
    if (const std::string path = absl::GetFlag(FLAGS_personal_email_domains_file); !path.empty()) {
      absl::StatusOr<funnel::sales::PersonalDomains> loaded =
          funnel::sales::PersonalDomains::FromFile(path);
      if (!loaded.ok()) return absl::StatusOr<std::shared_ptr<void>>(loaded.status());
      personal = *std::move(loaded);
    }
    auto services = std::make_shared<Services>(&pool, std::move(wake), guard, std::move(personal));
    host.AddService(&services->sales, {"funnel.sales.v1.SalesService"});
    host.AddService(&services->handoff_inbox, {"funnel.handoff.v1.HandoffInboxService"});
    return absl::StatusOr<std::shared_ptr<void>>(std::move(services));
  };
  return funnel::handoff::RunDbService(argc, argv, spec);
}
