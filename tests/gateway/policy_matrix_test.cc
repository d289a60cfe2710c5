// Every public method x every role (plus no key and a wrong key) against the running
// gateway, each answer checked against the shipped policy file; and every method
// that exists must be in the policy.

#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "funnel/gateway/v1/funnel_service.pb.h"
#include "gateway/auth.h"
#include "gateway/routes.h"
#include "tests/testing/stack.h"

namespace funnel {
namespace {

using ::funnel::testing::FunnelStack;

// Every method the gateway answers for: the forwarded services and its own views.
std::vector<std::string> PublicMethods() {
  std::vector<std::string> names = {"funnel.gateway.v1.FunnelService"};
  for (const auto& s : gateway::ForwardedServices()) names.push_back(s.full_name);
  std::vector<std::string> methods;
  for (const std::string& name : names) {
    const auto* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    for (int i = 0; i < service->method_count(); ++i) {
      methods.push_back(absl::StrCat("/", name, "/", service->method(i)->name()));
    }
  }
  return methods;
}

TEST(PolicyMatrixTest, EveryMethodIsInThePolicy) {
  std::ifstream in(testing::SourceDir() + "/gateway/policy.txt");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto policy = gateway::Policy::Parse(text);
  ASSERT_TRUE(policy.ok());
  const std::vector<std::string> methods = PublicMethods();
  EXPECT_GE(methods.size(), 60u);
  for (const std::string& m : methods)
    EXPECT_TRUE(policy->Mentions(m)) << m << " is not in gateway/policy.txt";
}

// README's "Who may call what" table is what users read: it must say what the
// policy file says, method by method and role by role.
TEST(PolicyMatrixTest, TheReadmeTableIsThePolicy) {
  std::ifstream in(testing::SourceDir() + "/README.md");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto policy = gateway::Policy::Parse(gateway::DefaultPolicyText());
  ASSERT_TRUE(policy.ok());
  const std::vector<std::string> columns = {"MARKETING",    "SALES_REP", "SALES_MANAGER",
                                            "REVENUE_OPS",  "ADMIN",     "SERVICE_MARKETING",
                                            "SERVICE_SALES"};
  std::map<std::string, std::set<std::string>> readme;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, "| `") || !absl::StrContains(line, "Service/")) continue;
    std::vector<std::string> cells = absl::StrSplit(line, '|');
    // "", " `Service/Method` ", one cell per role, ""
    ASSERT_EQ(cells.size(), columns.size() + 3) << line;
    std::string method(absl::StripAsciiWhitespace(cells[1]));
    method = method.substr(1, method.size() - 2);  // the backquotes
    std::set<std::string>& roles = readme[method];
    for (size_t i = 0; i < columns.size(); ++i) {
      if (absl::StripAsciiWhitespace(cells[i + 2]) == "x") roles.insert(columns[i]);
    }
  }
  ASSERT_FALSE(readme.empty());
  std::map<std::string, std::set<std::string>> shipped;
  for (const auto& [method, roles] : policy->rules()) {
    // README names methods by service: "MarketingService/CaptureLead".
    shipped[method.substr(method.rfind('.') + 1)] = roles;
  }
  EXPECT_EQ(readme, shipped);
}

TEST(PolicyMatrixTest, EveryMethodTimesEveryRoleAnswersAsThePolicySays) {
  FunnelStack stack("matrix");
  auto policy = gateway::Policy::Parse(gateway::DefaultPolicyText());
  ASSERT_TRUE(policy.ok());
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  for (const char* role : gateway::kRoles) channels[role] = stack.GatewayChannel(stack.Key(role));
  auto no_key = grpc::CreateChannel(absl::StrCat("127.0.0.1:", stack.gateway_port()),
                                    grpc::InsecureChannelCredentials());
  auto wrong_key = stack.GatewayChannel("fk_not_a_real_key");
  int allowed = 0, denied = 0;
  for (const std::string& method : PublicMethods()) {
    EXPECT_EQ(testing::CallRaw(no_key, method).error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << method;
    EXPECT_EQ(testing::CallRaw(wrong_key, method).error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << method;
    for (const char* role : gateway::kRoles) {
      const grpc::Status status = testing::CallRaw(channels[role], method);
      const bool gateway_denied = status.error_code() == grpc::StatusCode::PERMISSION_DENIED &&
                                  absl::StrContains(status.error_message(), "may not call");
      if (policy->Check(method, role).ok()) {
        ++allowed;
        EXPECT_FALSE(gateway_denied) << role << " " << method << ": " << status.error_message();
        EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << role << " " << method;
      } else {
        ++denied;
        EXPECT_TRUE(gateway_denied) << role << " " << method << ": " << status.error_code() << " "
                                    << status.error_message();
        EXPECT_THAT(status.error_message(), ::testing::HasSubstr(role));
        EXPECT_THAT(status.error_message(), ::testing::HasSubstr(method.substr(1)));
      }
    }
  }
  EXPECT_GT(allowed, 100);
  EXPECT_GT(denied, 100);
  // Keys never reach the log.
  EXPECT_THAT(stack.gateway().Log(), ::testing::Not(::testing::HasSubstr(stack.Key("ADMIN"))));
}

TEST(PolicyMatrixTest, CallersCannotForgeTheirIdentity) {
  FunnelStack stack("forge");
  // A MARKETING key claiming to be a sales manager through x-funnel-* headers.
  grpc::Status status = testing::CallRaw(
      stack.GatewayChannel(stack.Key("MARKETING")), "/funnel.sales.v1.SalesService/CreateRep", "",
      nullptr, {{"x-funnel-role", "SALES_MANAGER"}, {"x-funnel-principal-id", "boss"}});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("role MARKETING"));
}

TEST(PolicyMatrixTest, ServicesRefuseCallsThatBypassTheGateway) {
  FunnelStack stack("bypass");
  std::map<gateway::Backend, std::shared_ptr<grpc::Channel>> direct = {
      {gateway::Backend::kMarketing,
       grpc::CreateChannel(absl::StrCat("127.0.0.1:", stack.marketing_port()),
                           grpc::InsecureChannelCredentials())},
      {gateway::Backend::kSales, grpc::CreateChannel(absl::StrCat("127.0.0.1:", stack.sales_port()),
                                                     grpc::InsecureChannelCredentials())}};
  // Every method of every service, straight to its service with a forged identity:
  // a handler that forgot the credential check fails here.
  int checked = 0;
  for (const std::string& method : PublicMethods()) {
    absl::StatusOr<gateway::Route> route = gateway::RouteFor(method);
    if (!route.ok()) continue;  // the gateway's own views
    grpc::Status status =
        testing::CallRaw(direct.at(route->backend), method, "", nullptr,
                         {{"x-funnel-role", "ADMIN"}, {"x-funnel-principal-id", "mallory"}});
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method;
    EXPECT_THAT(status.error_message(), ::testing::HasSubstr("gateway")) << method;
    ++checked;
  }
  EXPECT_GE(checked, 60);
  // Health stays open to probes and grpcurl.
  for (int port : {stack.sales_port(), stack.marketing_port()}) {
    EXPECT_EQ(testing::HealthOf(port, ""), testing::HealthCheckResponse::SERVING);
  }
  // The same call through the gateway works.
  EXPECT_TRUE(testing::CallRaw(stack.GatewayChannel(stack.Key("SALES_MANAGER")),
                               "/funnel.sales.v1.SalesService/ListReps")
                  .ok());
}

}  // namespace
}  // namespace funnel
