#pragma once

// The transport limits every Funnel process runs with, chosen together so that no
// caller can push a header block past what the next hop accepts (which makes gRPC
// drop the whole shared connection, failing every other caller's call on it):
//
//   caller --(<= kMaxCallerMetadataBytes, else refused at the door)--> gateway
//   gateway --(allow-listed headers + its stamps, < kMaxForwardedMetadataBytes)-->
//   service, whose limit (kMaxMetadataBytes) is strictly larger, as is the limit
//   of every channel for what comes back (status messages <= kMaxStatusMessageBytes).

#include <grpcpp/server_builder.h>
#include <grpcpp/support/channel_arguments.h>

#include <cstddef>

namespace funnel::common {

// What a caller may send the gateway as metadata, counted the way HTTP/2 does
// (name + value + 32 per entry). Over it the call is refused, alone.
inline constexpr size_t kMaxCallerMetadataBytes = 8 * 1024;
// What the gateway sends a service at most: the allow-listed caller headers (each
// bounded) plus the principal and the internal credential.
inline constexpr size_t kMaxForwardedMetadataBytes = 2 * 1024;
// gRPC's own limit on every server and channel: over it gRPC refuses the header
// block. Twice the caller limit, so the gateway's refusal (a clear error for that
// call) always comes first.
inline constexpr size_t kMaxMetadataBytes = 16 * 1024;
// A status message sent anywhere; values echoed into messages are cut to fit.
inline constexpr size_t kMaxStatusMessageBytes = 512;
// A request or response message.
inline constexpr int kMaxMessageBytes = 4 * 1024 * 1024;

static_assert(kMaxForwardedMetadataBytes < kMaxMetadataBytes);
static_assert(kMaxCallerMetadataBytes < kMaxMetadataBytes);
static_assert(kMaxStatusMessageBytes < kMaxForwardedMetadataBytes);

// HTTP/2's size of one header entry (RFC 7540 6.5.2).
inline size_t HeaderEntrySize(size_t key, size_t value) { return key + value + 32; }

// Connection limits of a public server (the gateway): streams per connection,
// idle and old connections closed, keepalive pings no more often than allowed.
struct ConnectionLimits {
  int max_concurrent_streams = 256;
  int max_connection_idle_ms = 5 * 60 * 1000;
  int max_connection_age_ms = 30 * 60 * 1000;
  int max_connection_age_grace_ms = 60 * 1000;
  int min_ping_interval_ms = 10 * 1000;  // a client pinging more often is cut off
};

// Metadata and message limits on a server; `connections` adds the per-connection ones.
void ApplyServerLimits(grpc::ServerBuilder& builder, const ConnectionLimits* connections = nullptr);
// Metadata and message limits on a channel to another Funnel process.
void ApplyChannelLimits(grpc::ChannelArguments& args);

}  // namespace funnel::common
