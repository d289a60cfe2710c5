#include "sales_service/service_spec.h"

#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/call_deadline.h"
#include "common/log.h"
#include "common/metrics.h"
#include "sales_service/migrations.h"
#include "sales_service/sales_service.h"

ABSL_FLAG(
    int, handoff_sla_hours, 24,
    "Hours sales has to first answer a handoff (an activity or a decision) after it arrives.");
ABSL_FLAG(std::string, personal_email_domains_file, "",
          "File of personal (freemail) email domains, one per line, replacing the built-in "
          "list: a person without a company at one of them gets an account of their own.");

namespace funnel::sales {

namespace {

struct Services {
  Services(common::ConnectionPool* pool, std::function<void()> wake,
           const common::InternalGuard* guard, PersonalDomains personal, feed::FeedHub* feed)
      : directory(pool),
        inbox(pool, absl::Hours(absl::GetFlag(FLAGS_handoff_sla_hours)), wake, std::move(personal)),
        opportunities(pool, wake),
        reports(pool),
        routing(pool),
        sales({&directory, &inbox, &opportunities, &reports, &routing, feed}, guard),
        handoff_inbox(&inbox, guard),
        deadline_watcher([this] { WatchDeadlines(); }) {}
  ~Services() {
    stopping.Notify();
    deadline_watcher.join();
  }

  // A handoff passing its deadline unanswered is a change nobody makes: a scan
  // every second escalates what its routing rule escalates and puts each newly
  // overdue handoff on the feed once.
  void WatchDeadlines() {
    bool failing = false;
    while (!stopping.WaitForNotificationWithTimeout(absl::Seconds(1))) {
      absl::StatusOr<int> done;
      do {
        done = inbox.EscalateOverdue(absl::Now(), 100);
      } while (done.ok() && *done == 100);
      if (done.ok()) {
        do {
          done = inbox.AnnounceOverdue(absl::Now(), 100);
        } while (done.ok() && *done == 100);
      }
      if (done.ok() == failing) {
        failing = !done.ok();
        if (failing) {
          common::LogWarning("cannot escalate or announce overdue handoffs",
                             {{"error", done.status().ToString()}});
        }
      }
    }
  }

  DirectoryStore directory;
  InboxStore inbox;
  OpportunityStore opportunities;
  ReportStore reports;
  RoutingStore routing;
  SalesServiceImpl sales;
  HandoffInboxServiceImpl handoff_inbox;
  absl::Notification stopping;
  std::thread deadline_watcher;  // last: it uses the stores
};

}  // namespace

handoff::DbServiceSpec SalesServiceSpec() {
  handoff::DbServiceSpec spec;
  spec.name = "sales";
  spec.default_port = 50053;
  spec.default_database = "funnel_sales";
  spec.migrations = &Migrations();
  spec.feed_entity_types = {"handoff", "opportunity", "activity"};
  spec.install = [](common::ServiceHost& host, common::ConnectionPool& pool,
                    std::function<void()> wake, const common::InternalGuard* guard,
                    feed::FeedHub* feed) {
    PersonalDomains personal = PersonalDomains::BuiltIn();
    if (const std::string path = absl::GetFlag(FLAGS_personal_email_domains_file); !path.empty()) {
      absl::StatusOr<PersonalDomains> loaded = PersonalDomains::FromFile(path);
      if (!loaded.ok()) return absl::StatusOr<std::shared_ptr<void>>(loaded.status());
      personal = *std::move(loaded);
    }
    auto services =
        std::make_shared<Services>(&pool, std::move(wake), guard, std::move(personal), feed);
    common::AddScrapeHook([weak = std::weak_ptr<Services>(services)] {
      static prometheus::Gauge& overdue =
          common::GaugeFamily("funnel_handoffs_overdue",
                              "Handoffs past their SLA deadline without a first response.")
              .Add({});
      const std::shared_ptr<Services> alive = weak.lock();
      if (alive == nullptr) return;
      // A hung database must not hang the scrape: the count gets a second.
      const common::CallDeadlineScope deadline(absl::Now() + absl::Seconds(1));
      if (absl::StatusOr<int64_t> n = alive->inbox.CountOverdue(absl::Now()); n.ok()) {
        overdue.Set(static_cast<double>(*n));
      }
    });
    host.AddService(&services->sales, {kServedServices[0]});
    host.AddService(&services->handoff_inbox, {kServedServices[1]});
    return absl::StatusOr<std::shared_ptr<void>>(std::move(services));
  };
  return spec;
}

}  // namespace funnel::sales
