#pragma once

// The door below gRPC: an HTTP/2 relay that admits a call from its HEADERS alone
// and then moves its frames, never decoding a message. It is what HAProxy does for
// gRPC plus the door's rules, so a forwarded call costs the gateway a frame relay
// instead of a gRPC server call and a gRPC client call.
//
// How a call travels:
//   - A caller's HEADERS arrive on a connection one of the event loops accepted.
//   - Forwarded services (marketing, sales, handoff): the Gatekeeper admits it from
//     :path and the headers; a refusal is a trailers-only response (grpc-status,
//     grpc-message, grpc-status-details-bin, the retry hint). An admitted call goes
//     to the owning backend's next replica (round-robin) on a connection the loop
//     keeps open, with only the allow-listed headers, the principal and the
//     internal credential.
//   - Every other path (FunnelService, health, reflection) goes as sent to the
//     gateway's own gRPC server on loopback, which admits its calls itself.
//   - DATA is relayed both ways under HTTP/2 flow control: a side's window opens
//     only as the other side takes the bytes, so a slow reader slows its writer
//     instead of filling the gateway's memory. Trailers come back as the backend
//     sent them (up to the forwarded-metadata bound); a reset on either side resets
//     the other; grpc-timeout travels with the headers.
//
// Each event loop is one thread with its own listening socket (SO_REUSEPORT) and
// its own backend connections, so a call never changes threads.

#include <openssl/ssl.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/limits.h"
#include "gateway/gatekeeper.h"
#include "gateway/replica_directory.h"
#include "gateway/routes.h"

namespace funnel::gateway {

struct H2RelayOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 picks a free port; see H2Relay::port()
  int threads = 1;
  // Each backend's replicas; resolved again every `replica_refresh` and checked
  // with `health_check` every `health_interval` while the relay runs.
  ReplicaDirectory* replicas = nullptr;
  absl::Duration replica_refresh = absl::Seconds(5);
  std::function<absl::Status(const Replica&)> health_check;
  absl::Duration health_interval = absl::Milliseconds(500);
  // The gateway's own gRPC server, "host:port".
  std::string local_address;
  const Gatekeeper* gatekeeper = nullptr;
  // Per caller connection: most calls in flight, and when it is asked to go away
  // (idle, or old: calls in flight then get the grace period).
  common::ConnectionLimits limits;
  // TLS to callers, mutual TLS to the services (h2_tls.h); null: plaintext. Both
  // must outlive the relay.
  SSL_CTX* caller_tls = nullptr;
  SSL_CTX* backend_tls = nullptr;
};

class H2Relay final {
 public:
  explicit H2Relay(H2RelayOptions options);
  ~H2Relay();  // Shutdown(0) if still running.

  // Binds (UNAVAILABLE naming the address when it cannot) and starts the loops.
  absl::Status Start();
  int port() const { return port_; }

  // Stops accepting, sends GOAWAY on every caller connection and waits up to
  // `timeout` for the calls in flight, then closes everything. Idempotent.
  void Shutdown(absl::Duration timeout);

  class Loop;

 private:
  H2RelayOptions options_;
  int port_ = 0;
  std::vector<std::unique_ptr<Loop>> loops_;
  absl::Notification stop_refreshing_;
  std::thread refresher_;
};

}  // namespace funnel::gateway
