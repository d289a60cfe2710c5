// A receiver accepts messages of an older or newer minor version of the contract:
// fields it does not know are ignored, fields the sender did not set are defaulted.

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"
#include "common/ids.h"
#include "tests/sales/sales_fixture.h"

namespace funnel {
namespace {

using ContractVersionTest = sales::SalesFixture;

TEST_F(ContractVersionTest, NewerSenderWithUnknownFieldsIsAccepted) {
  handoff::v1::LeadHandoff lead = Lead(3, "newer@example.com", "Future Co");
  lead.set_contract_version("1.7");
  std::string bytes = lead.SerializeAsString();
  // Field 99 (varint 1) and field 100 (a string): what a 1.7 sender might add.
  bytes += std::string("\x98\x06\x01", 3);
  bytes += std::string("\xa2\x06\x05hello", 8);
  std::string reply;
  grpc::Status status =
      funnel::testing::CallRaw(grpc::CreateChannel(absl::StrCat("127.0.0.1:", host_->port()),
                                                   grpc::InsecureChannelCredentials()),
                               "/funnel.handoff.v1.HandoffInboxService/SubmitLead", bytes, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  handoff::v1::SubmitLeadResponse receipt;
  ASSERT_TRUE(receipt.ParseFromString(reply));
  EXPECT_EQ(receipt.handoff_id(), lead.handoff_id());
  EXPECT_FALSE(receipt.duplicate());
  auto stored = inbox_.Get(lead.handoff_id(), absl::Now());
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->lead().contact().company(), "Future Co");
}

TEST_F(ContractVersionTest, OlderSenderWithFewerFieldsIsAccepted) {
  // A 1.0 sender that knew only the id, the lead and the email.
  handoff::v1::LeadHandoff minimal;
  minimal.set_handoff_id(common::NewUuid());
  minimal.set_lead_id(4);
  minimal.mutable_contact()->set_email("older@example.com");
  grpc::ClientContext ctx;
  handoff::v1::SubmitLeadResponse receipt;
  grpc::Status status = inbox_stub_->SubmitLead(&ctx, minimal, &receipt);
  ASSERT_TRUE(status.ok()) << status.error_message();
  auto stored = inbox_.Get(minimal.handoff_id(), absl::Now());
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->lead().temperature(), handoff::v1::TEMPERATURE_UNSPECIFIED);
  EXPECT_EQ(stored->lead().score(), 0);
  EXPECT_EQ(stored->state(), sales::v1::HANDOFF_STATE_PENDING);
}

}  // namespace
}  // namespace funnel
