// The outbox relay against real parts: marketing's outbox in MariaDB, the real sales
// inbox served in-process on a free port.

#include <arpa/inet.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "common/ids.h"
#include "common/testing/status_matchers.h"
#include "handoff/outbox.h"
#include "handoff/outbox_relay.h"
#include "handoff/schema.h"
#include "marketing_service/migrations.h"
#include "tests/sales/sales_fixture.h"

namespace funnel {
namespace {

using ::funnel::testing::IsOk;

class RelayIntegrationTest : public sales::SalesFixture {
 protected:
  RelayIntegrationTest() : outbox_db_("relay"), outbox_pool_(outbox_db_.options()) {}

  void SetUp() override {
    SalesFixture::SetUp();
    ASSERT_THAT(handoff::ApplySchema(outbox_pool_, marketing::Migrations()), IsOk());
  }

  // Queues a LeadHandoff for `lead_id` in marketing's outbox; returns its id.
  std::string Queue(int64_t lead_id) {
    handoff::v1::LeadHandoff event =
        Lead(lead_id, absl::StrCat("p", lead_id, "@example.com"), "Co");
    EXPECT_THAT(outbox_pool_.InTransaction("queue",
                                           [&](sql::Connection& conn) {
                                             handoff::InsertOutboxEvent(
                                                 conn, event.handoff_id(), lead_id,
                                                 handoff::EventKind::kLeadHandoff,
                                                 event.SerializeAsString(), absl::Now());
                                             return absl::OkStatus();
                                           }),
                IsOk());
    return event.handoff_id();
  }

  // Queues an event of a kind this build does not know (a newer build wrote it).
  void QueueUnknownKind(int64_t lead_id) {
    outbox_db_.Execute(absl::StrCat(
        "INSERT INTO outbox (event_id, lead_id, kind, payload, created_at, next_attempt_at) "
        "VALUES (UUID(), ",
        lead_id, ", 'Bogus', '', NOW(6), NOW(6))"));
  }

  handoff::RelayOptions Options() {
    handoff::RelayOptions o;
    o.name = "test";
    o.gateway = grpc::CreateChannel(absl::StrCat("127.0.0.1:", host_->port()),
                                    grpc::InsecureChannelCredentials());
    o.batch_size = 7;  // several batches, so two relays interleave
    o.initial_backoff = absl::Seconds(60);
    return o;
  }

  funnel::testing::TestDatabase outbox_db_;
  common::ConnectionPool outbox_pool_;
};

TEST_F(RelayIntegrationTest, TwoRelaysDeliverEachEventExactlyOnce) {
  for (int i = 1; i <= 60; ++i) Queue(i);
  handoff::OutboxRelay a(&outbox_pool_, Options());
  handoff::OutboxRelay b(&outbox_pool_, Options());
  std::atomic<int> delivered{0};
  auto drain = [&](handoff::OutboxRelay* relay) {
    for (int i = 0; i < 50; ++i) {
      absl::StatusOr<int> n = relay->RunOnce();
      ASSERT_THAT(n, IsOk());
      delivered += *n;
    }
  };
  std::thread ta(drain, &a), tb(drain, &b);
  ta.join();
  tb.join();
  EXPECT_EQ(delivered.load(), 60);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM handoffs"), 60);
  // Each event was sent once: never claimed by both relays.
  EXPECT_EQ(outbox_db_.QueryInt("SELECT COUNT(*) FROM outbox WHERE attempts <> 1"), 0);
  EXPECT_EQ(outbox_db_.QueryInt("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL"), 0);
}

TEST_F(RelayIntegrationTest, ALeadsLaterEventsWaitForItsEarlierOne) {
  QueueUnknownKind(1);  // cannot be delivered
  const std::string blocked = Queue(1);
  const std::string free = Queue(2);
  handoff::OutboxRelay relay(&outbox_pool_, Options());
  auto delivered = relay.RunOnce();
  ASSERT_THAT(delivered, IsOk());
  EXPECT_EQ(*delivered, 1);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM handoffs"), 1);
  EXPECT_EQ(outbox_db_.QueryInt(absl::StrCat("SELECT COUNT(*) FROM outbox WHERE event_id = '", free,
                                             "' AND delivered_at IS NOT NULL")),
            1);
  EXPECT_EQ(outbox_db_.QueryInt(
                absl::StrCat("SELECT attempts FROM outbox WHERE event_id = '", blocked, "'")),
            0);
  EXPECT_EQ(outbox_db_.QueryInt("SELECT attempts FROM outbox WHERE kind = 'Bogus'"), 1);
}

TEST_F(RelayIntegrationTest, AReceiverThatIsDownIsRetriedLaterAndNothingIsLost) {
  Queue(5);
  handoff::RelayOptions options = Options();
  options.gateway = grpc::CreateChannel(absl::StrCat("127.0.0.1:", funnel::testing::FreePort()),
                                        grpc::InsecureChannelCredentials());
  options.call_deadline = absl::Milliseconds(300);
  options.initial_backoff = absl::Milliseconds(1);
  handoff::OutboxRelay down(&outbox_pool_, options);
  ASSERT_THAT(down.RunOnce(), IsOk());
  EXPECT_EQ(outbox_db_.QueryInt("SELECT attempts FROM outbox"), 1);
  EXPECT_EQ(outbox_db_.QueryInt("SELECT COUNT(*) FROM outbox WHERE last_error <> ''"), 1);
  absl::SleepFor(absl::Milliseconds(20));
  handoff::OutboxRelay up(&outbox_pool_, Options());
  auto n = up.RunOnce();
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM handoffs"), 1);
}

// A TCP port that accepts connections (the kernel's backlog) and never answers: a
// receiver that hangs every call until its deadline.
class BlackHole {
 public:
  BlackHole() : port_(funnel::testing::FreePort()) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
  }
  ~BlackHole() { close(fd_); }
  int port() const { return port_; }

 private:
  const int port_;
  int fd_ = -1;
};

// The relay leases its batch in a transaction of its own and sends after that
// commits: while a call hangs, the event is marked as this relay's, no lock is
// held on it (on Galera a held row lock is node-local and would not keep a relay
// on another node away), and another relay leaves it alone.
TEST_F(RelayIntegrationTest, AClaimIsALeaseNotALockHeldAcrossTheCalls) {
  const std::string event = Queue(9);
  BlackHole hang;
  handoff::RelayOptions options = Options();
  options.name = "hanging";
  options.gateway = grpc::CreateChannel(absl::StrCat("127.0.0.1:", hang.port()),
                                        grpc::InsecureChannelCredentials());
  options.call_deadline = absl::Seconds(3);
  handoff::OutboxRelay hanging(&outbox_pool_, options);
  std::thread pass([&] { EXPECT_THAT(hanging.RunOnce(), IsOk()); });
  absl::SleepFor(absl::Milliseconds(800));  // the call is hanging now

  EXPECT_EQ(outbox_db_.QueryInt("SELECT COUNT(*) FROM outbox WHERE leased_by LIKE 'hanging/%' "
                                "AND next_attempt_at > NOW(6)"),
            1);
  // Nothing holds the row: a locking read that refuses to wait gets it at once.
  common::ConnectionPool probe(outbox_db_.options());
  const absl::Status unlocked = probe.InTransaction("probe", [&](sql::Connection& conn) {
    std::unique_ptr<sql::Statement> st(conn.createStatement());
    std::unique_ptr<sql::ResultSet> rs(
        st->executeQuery("SELECT seq FROM outbox FOR UPDATE NOWAIT"));
    return absl::OkStatus();
  });
  EXPECT_THAT(unlocked, IsOk());
  handoff::OutboxRelay other(&outbox_pool_, Options());
  absl::StatusOr<int> others = other.RunOnce();
  ASSERT_THAT(others, IsOk());
  EXPECT_EQ(*others, 0);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM handoffs"), 0);
  pass.join();

  // The hanging call failed; the event backs off, no longer leased, and is
  // delivered later by whichever relay gets it.
  EXPECT_EQ(outbox_db_.QueryInt("SELECT COUNT(*) FROM outbox WHERE leased_by IS NULL AND "
                                "attempts = 1 AND delivered_at IS NULL"),
            1);
  outbox_db_.Execute("UPDATE outbox SET next_attempt_at = NOW(6)");
  absl::StatusOr<int> later = other.RunOnce();
  ASSERT_THAT(later, IsOk());
  EXPECT_EQ(*later, 1);
  EXPECT_EQ(
      db_.QueryInt(absl::StrCat("SELECT COUNT(*) FROM handoffs WHERE handoff_id = '", event, "'")),
      1);
}

// A relay that died holding a lease gives the event up when the lease runs out.
TEST_F(RelayIntegrationTest, AnExpiredLeaseIsClaimedAgain) {
  Queue(11);
  outbox_db_.Execute(
      "UPDATE outbox SET leased_by = 'dead/relay', next_attempt_at = NOW(6) + INTERVAL 1 HOUR");
  handoff::OutboxRelay relay(&outbox_pool_, Options());
  absl::StatusOr<int> n = relay.RunOnce();
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 0);  // leased, and not run out
  outbox_db_.Execute("UPDATE outbox SET next_attempt_at = NOW(6) - INTERVAL 1 SECOND");
  n = relay.RunOnce();
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(db_.QueryInt("SELECT COUNT(*) FROM handoffs"), 1);
  EXPECT_EQ(outbox_db_.QueryInt("SELECT COUNT(*) FROM outbox WHERE leased_by IS NULL AND "
                                "delivered_at IS NOT NULL"),
            1);
}

}  // namespace
}  // namespace funnel
