#include "gateway/h2_tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace funnel::gateway {
namespace {

constexpr unsigned char kAlpnH2[] = {2, 'h', '2'};

std::string OpenSslError() {
  const unsigned long e = ERR_get_error();
  char text[256] = "unknown error";
  if (e != 0) ERR_error_string_n(e, text, sizeof(text));
  ERR_clear_error();
  return text;
}

absl::Status UseKeyPair(SSL_CTX* ctx, const std::string& cert_file, const std::string& key_file,
                        const char* cert_flag, const char* key_flag) {
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", cert_flag, ": cannot use ", cert_file, ": ", OpenSslError()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", key_flag, ": cannot use ", key_file, ": ", OpenSslError()));
  }
  return absl::OkStatus();
}

// Picks h2 from the client's ALPN list, or fails the handshake.
int SelectH2(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
             unsigned int inlen, void*) {
  for (unsigned int i = 0; i < inlen;) {
    const unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == 2 && std::memcmp(in + i + 1, "h2", 2) == 0) {
      *out = in + i + 1;
      *outlen = 2;
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

SslCtx NewContext(const SSL_METHOD* method) {
  SslCtx ctx(SSL_CTX_new(method));
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

}  // namespace

absl::StatusOr<SslCtx> CallerTlsContext(const std::string& cert_file, const std::string& key_file) {
  SslCtx ctx = NewContext(TLS_server_method());
  if (absl::Status s = UseKeyPair(ctx.get(), cert_file, key_file, "tls_cert", "tls_key"); !s.ok()) {
    return s;
  }
  SSL_CTX_set_alpn_select_cb(ctx.get(), &SelectH2, nullptr);
  return ctx;
}

absl::StatusOr<SslCtx> BackendTlsContext(const std::string& ca_file, const std::string& cert_file,
                                         const std::string& key_file) {
  SslCtx ctx = NewContext(TLS_client_method());
  if (SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--backend_ca: cannot use ", ca_file, ": ", OpenSslError()));
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (!cert_file.empty()) {
    if (absl::Status s = UseKeyPair(ctx.get(), cert_file, key_file, "backend_cert", "backend_key");
        !s.ok()) {
      return s;
    }
  }
  SSL_CTX_set_alpn_protos(ctx.get(), kAlpnH2, sizeof(kAlpnH2));
  return ctx;
}

void VerifyBackendName(SSL* ssl, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  unsigned char ip[16];
  if (inet_pton(AF_INET, host.c_str(), ip) == 1 || inet_pton(AF_INET6, host.c_str(), ip) == 1) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    SSL_set_tlsext_host_name(ssl, host.c_str());
  }
}

bool NegotiatedH2(const SSL* ssl) {
  const unsigned char* proto = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl, &proto, &len);
  return len == 2 && std::memcmp(proto, "h2", 2) == 0;
}

}  // namespace funnel::gateway
