#include "common/server/reflection_service.h"

#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/server/service_host.h"
#include "funnel/marketing/v1/marketing_service.pb.h"

namespace funnel::common {
namespace {

using grpc::reflection::v1alpha::ServerReflectionRequest;

TEST(ReflectionServiceTest, ListsExactlyTheGivenServices) {
  ReflectionService service({"funnel.marketing.v1.MarketingService", "grpc.health.v1.Health"});
  ServerReflectionRequest request;
  request.set_list_services("*");
  auto response = service.Answer(request);
  ASSERT_EQ(response.list_services_response().service_size(), 2);
  EXPECT_EQ(response.list_services_response().service(0).name(),
            "funnel.marketing.v1.MarketingService");
}

TEST(ReflectionServiceTest, DescribesASymbolWithItsImports) {
  (void)marketing::v1::Lead::descriptor();  // link the file's descriptors
  ReflectionService service({});
  ServerReflectionRequest request;
  request.set_file_containing_symbol("funnel.marketing.v1.MarketingService.CaptureLead");
  auto response = service.Answer(request);
  std::vector<std::string> names;
  for (const std::string& bytes : response.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(bytes));
    names.push_back(file.name());
  }
  // Imports come before the files that use them.
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.back(), "funnel/marketing/v1/marketing_service.proto");
  EXPECT_NE(std::find(names.begin(), names.end(), "funnel/handoff/v1/types.proto"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "google/protobuf/field_mask.proto"), names.end());
}

TEST(ReflectionServiceTest, UnknownSymbolIsNotFound) {
  ReflectionService service({});
  ServerReflectionRequest request;
  request.set_file_containing_symbol("funnel.nope.v1.Nothing");
  auto response = service.Answer(request);
  EXPECT_EQ(response.error_response().error_code(), grpc::StatusCode::NOT_FOUND);
}

// buf curl and grpcurl ask v1 first; a server must answer it, not UNIMPLEMENTED.
TEST(ReflectionServiceTest, AServerAnswersVersionOneToo) {
  ServiceHost host({.name = "reflection-test", .port = 0});
  ASSERT_TRUE(host.Start().ok());
  auto stub = grpc::reflection::v1::ServerReflection::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", host.port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  auto stream = stub->ServerReflectionInfo(&ctx);
  grpc::reflection::v1::ServerReflectionRequest request;
  request.set_list_services("*");
  ASSERT_TRUE(stream->Write(request));
  grpc::reflection::v1::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::vector<std::string> names;
  for (const auto& s : response.list_services_response().service()) names.push_back(s.name());
  EXPECT_NE(std::find(names.begin(), names.end(), "grpc.reflection.v1.ServerReflection"),
            names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "grpc.health.v1.Health"), names.end());
  request.set_file_containing_symbol("grpc.health.v1.Health");
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_GT(response.file_descriptor_response().file_descriptor_proto_size(), 0);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  host.Shutdown();
}

}  // namespace
}  // namespace funnel::common
