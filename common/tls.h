#pragma once

// TLS credentials from PEM files named by flags. An empty certificate path means
// plaintext (development); production sets them.

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace funnel::common {

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* flag);

// Server credentials: plaintext without `cert_file`; TLS with it; and mutual TLS
// (clients must present a certificate signed by `client_ca_file`) when that is set.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFromFiles(
    const std::string& cert_file, const std::string& key_file, const std::string& client_ca_file);

// Channel credentials: plaintext without `ca_file`; TLS trusting `ca_file`
// otherwise, presenting `cert_file`/`key_file` as the client certificate when set.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFromFiles(
    const std::string& ca_file, const std::string& cert_file, const std::string& key_file);

}  // namespace funnel::common
