#pragma once

// OpenSSL contexts for the HTTP/2 relay (h2_relay.h), from the same PEM files
// the gateway's flags name: TLS to callers and mutual TLS to the services, both
// speaking HTTP/2 by ALPN ("h2"), as gRPC's own TLS does.

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace funnel::gateway {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtx = std::unique_ptr<SSL_CTX, SslCtxFree>;

// The callers' side: `cert_file` and `key_file` (PEM) and ALPN h2 only.
// INVALID_ARGUMENT naming the flag of a file that cannot be used.
absl::StatusOr<SslCtx> CallerTlsContext(const std::string& cert_file, const std::string& key_file);

// The services' side: trusts `ca_file` alone, presents `cert_file`/`key_file` when
// set, and offers ALPN h2. Each connection also checks the service's name or IP
// (VerifyBackendName).
absl::StatusOr<SslCtx> BackendTlsContext(const std::string& ca_file, const std::string& cert_file,
                                         const std::string& key_file);

// Makes `ssl` accept only a certificate for `host` (an IP address or a DNS name,
// which is also sent as SNI).
void VerifyBackendName(SSL* ssl, const std::string& host);

// Whether the handshake on `ssl` chose HTTP/2.
bool NegotiatedH2(const SSL* ssl);

}  // namespace funnel::gateway
