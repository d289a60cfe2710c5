// TLS for clients at the gateway and mTLS between gateway and services, with
// certificates made by openssl for this test: a working path end to end, and
// plaintext or wrong-CA clients refused at both layers.

#include "common/tls.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "funnel/sales/v1/sales_service.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/testing/stack.h"

namespace funnel {
namespace {

using testing::ChildProcess;
using testing::TempDir;

std::shared_ptr<grpc::Channel> Channel(int port, std::shared_ptr<grpc::ChannelCredentials> creds) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), creds);
}

grpc::Status GetRep(const std::shared_ptr<grpc::Channel>& channel, const std::string& key) {
  auto stub = sales::v1::SalesService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  if (!key.empty()) ctx.AddMetadata("authorization", "Bearer " + key);
  sales::v1::GetRepRequest r;
  r.set_rep_id(77);
  sales::v1::Rep rep;
  return stub->GetRep(&ctx, r, &rep);
}

TEST(TlsTest, GatewayServesTlsAndServicesRequireTheGatewaysCertificate) {
  TempDir dir;
  const std::string d = dir.path();
  auto make = testing::RunCommand(absl::StrCat(
      "cd ", d, " && set -e && ",
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=Funnel Test CA' -keyout ca.key "
      "-out ca.pem && ",
      "openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' -addext "
      "'subjectAltName=IP:127.0.0.1,DNS:localhost' -keyout server.key -out server.csr && ",
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
      "-copy_extensions copy -out server.pem && ",
      "openssl req -newkey rsa:2048 -nodes -subj '/CN=funnel-gateway' -keyout client.key -out "
      "client.csr && ",
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out "
      "client.pem && ",
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=Other CA' -keyout other-ca.key "
      "-out other-ca.pem && ",
      "openssl req -newkey rsa:2048 -nodes -subj '/CN=mallory' -keyout other.key -out other.csr "
      "&& ",
      "openssl x509 -req -in other.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial -days "
      "2 -out other.pem"));
  ASSERT_EQ(make.exit_code, 0) << make.output;

  testing::TestDatabase mk("tls_mk"), sa("tls_sa");
  const common::DbOptions mk_user = mk.CreateOwnUser(), sa_user = sa.CreateOwnUser();
  const int gw_port = testing::FreePort(), mk_port = testing::FreePort(),
            sa_port = testing::FreePort();
  const std::string keys = d + "/keys.txt";
  const std::string admin = testing::MakeKey(keys, "ADMIN", "tls-admin", 0);
  const std::string secret = "tls-internal-secret";
  auto service = [&](const std::string& binary, int port, const common::DbOptions& db) {
    return std::make_unique<ChildProcess>(
        binary,
        std::vector<std::string>{
            testing::BinaryPath(binary), absl::StrCat("--port=", port), "--listen_host=127.0.0.1",
            absl::StrCat("--db_port=", db.port), "--db_name=" + db.database, "--db_user=" + db.user,
            "--tls_cert=" + d + "/server.pem", "--tls_key=" + d + "/server.key",
            "--client_ca=" + d + "/ca.pem", "--gateway_ca=" + d + "/ca.pem",
            absl::StrCat("--gateway_address=127.0.0.1:", gw_port)},
        std::map<std::string, std::string>{{"FUNNEL_DB_PASSWORD", db.password},
                                           {"FUNNEL_INTERNAL_SECRET", secret}});
  };
  auto marketing = service("marketing_service", mk_port, mk_user);
  auto sales = service("sales_service", sa_port, sa_user);
  ChildProcess gateway(
      "gateway",
      {testing::BinaryPath("gateway"), absl::StrCat("--port=", gw_port), "--listen_host=127.0.0.1",
       absl::StrCat("--marketing_address=127.0.0.1:", mk_port),
       absl::StrCat("--sales_address=127.0.0.1:", sa_port), "--keys_file=" + keys,
       "--tls_cert=" + d + "/server.pem", "--tls_key=" + d + "/server.key",
       "--backend_ca=" + d + "/ca.pem", "--backend_cert=" + d + "/client.pem",
       "--backend_key=" + d + "/client.key"},
      {{"FUNNEL_INTERNAL_SECRET", secret}});

  auto tls = common::ChannelCredentialsFromFiles(d + "/ca.pem", "", "");
  auto wrong_ca = common::ChannelCredentialsFromFiles(d + "/other-ca.pem", "", "");
  auto gateway_cert =
      common::ChannelCredentialsFromFiles(d + "/ca.pem", d + "/client.pem", d + "/client.key");
  auto mallory_cert =
      common::ChannelCredentialsFromFiles(d + "/ca.pem", d + "/other.pem", d + "/other.key");
  ASSERT_TRUE(tls.ok() && wrong_ca.ok() && gateway_cert.ok() && mallory_cert.ok());

  // The whole path works over TLS + mTLS: the service's NOT_FOUND comes back.
  grpc::Status through;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  do {
    through = GetRep(Channel(gw_port, *tls), admin);
    if (through.error_code() == grpc::StatusCode::NOT_FOUND) break;
    absl::SleepFor(absl::Milliseconds(200));
  } while (absl::Now() < deadline);
  EXPECT_EQ(through.error_code(), grpc::StatusCode::NOT_FOUND) << through.error_message();
  EXPECT_EQ(through.error_message(), "rep 77 not found");

  // Refused at the gateway: plaintext, and a client that does not trust its CA.
  EXPECT_EQ(GetRep(Channel(gw_port, grpc::InsecureChannelCredentials()), admin).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(GetRep(Channel(gw_port, *wrong_ca), admin).error_code(), grpc::StatusCode::UNAVAILABLE);
  // Refused at a service: plaintext, TLS without a client certificate, and a client
  // certificate from another CA. The gateway's certificate passes mTLS (and then the
  // missing internal credential still refuses the direct call).
  EXPECT_EQ(GetRep(Channel(sa_port, grpc::InsecureChannelCredentials()), "").error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(GetRep(Channel(sa_port, *tls), "").error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(GetRep(Channel(sa_port, *mallory_cert), "").error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(GetRep(Channel(sa_port, *gateway_cert), "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  for (ChildProcess* p : {&gateway, marketing.get(), sales.get()}) p->Signal(SIGTERM);
  for (ChildProcess* p : {&gateway, marketing.get(), sales.get()})
    EXPECT_EQ(p->Wait(absl::Seconds(20)), 0);
}

}  // namespace
}  // namespace funnel
