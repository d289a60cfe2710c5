#include "gateway/h2_relay.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/request_id.h"
#include "common/server/request_log.h"
#include "common/status.h"
#include "gateway/backend_metrics.h"
#include "gateway/h2_tls.h"

namespace funnel::gateway {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Flow-control windows: a call buffers at most its stream window in each
// direction, a connection at most its connection window.
constexpr int32_t kStreamWindow = 1 << 20;
constexpr int32_t kConnectionWindow = 16 << 20;
// Frames are made while the socket's unsent bytes stay under this.
constexpr size_t kMaxPendingOutput = 256 << 10;
// Caller headers beyond this are refused before the Gatekeeper looks (it refuses
// far less with REQUEST_TOO_LARGE; this only bounds what is kept meanwhile).
constexpr size_t kMaxRequestHeaderBytes = 64 << 10;

std::vector<nghttp2_nv> ToNv(const Headers& headers) {
  std::vector<nghttp2_nv> nv;
  nv.reserve(headers.size());
  for (const auto& [name, value] : headers) {
    nv.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                  reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                  value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  return nv;
}

// grpc-message is percent-encoded: every byte outside printable ASCII, and '%'.
std::string PercentEncode(absl::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (unsigned char c : message) {
    if (c >= 0x20 && c <= 0x7e && c != '%') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

// A trailers-only gRPC response answering a call with `status`.
Headers TrailersOnly(const absl::Status& status) {
  const grpc::Status g = common::ToGrpcStatus(status);
  Headers h = {{":status", "200"},
               {"content-type", "application/grpc"},
               {"grpc-status", absl::StrCat(static_cast<int>(g.error_code()))}};
  if (!g.error_message().empty()) h.emplace_back("grpc-message", PercentEncode(g.error_message()));
  if (!g.error_details().empty()) {
    h.emplace_back("grpc-status-details-bin", absl::Base64Escape(g.error_details()));
  }
  if (const int64_t ms = common::RetryAfterMs(status); ms >= 0) {
    h.emplace_back(common::kRetryAfterTrailer, absl::StrCat(ms));
  }
  return h;
}

absl::string_view Find(const Headers& headers, absl::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return absl::string_view();
}

// A backend's grpc-message, cut as the gateway cuts every status message it
// passes on (common::BoundedGrpcStatus), and encoded again.
std::string BoundedGrpcMessage(absl::string_view encoded) {
  std::string raw;
  raw.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    int byte = 0;
    if (encoded[i] == '%' && i + 2 < encoded.size() &&
        absl::SimpleHexAtoi(encoded.substr(i + 1, 2), &byte)) {
      raw.push_back(static_cast<char>(byte));
      i += 2;
    } else {
      raw.push_back(encoded[i]);
    }
  }
  if (raw.size() <= common::kMaxStatusMessageBytes) return std::string(encoded);
  return PercentEncode(
      common::BoundedGrpcStatus(grpc::Status(grpc::StatusCode::UNKNOWN, raw)).error_message());
}

grpc::StatusCode CodeOf(absl::string_view grpc_status) {
  int code = 0;
  if (!absl::SimpleAtoi(grpc_status, &code) || code < 0 || code > 16) {
    return grpc::StatusCode::UNKNOWN;
  }
  return static_cast<grpc::StatusCode>(code);
}

class Conn;
class Front;
class Upstream;

// One relayed call: the caller's stream on a Front and, once admitted, a stream
// on an Upstream. It lives until both streams are closed.
struct Call {
  Front* front = nullptr;  // null once the caller's stream closed
  int32_t front_id = 0;
  Upstream* up = nullptr;  // null until submitted and once the backend stream closed
  int32_t up_id = 0;
  Headers request;
  size_t request_bytes = 0;
  Headers response;
  Headers trailers;
  size_t response_metadata_bytes = 0;
  evbuffer* to_up = evbuffer_new();
  evbuffer* to_front = evbuffer_new();
  bool request_done = false;  // the caller sent END_STREAM
  bool response_started = false;
  bool response_done = false;      // the backend sent END_STREAM (or the gateway answered)
  bool forwarded = false;          // the door admitted it (the own server logs the rest)
  std::optional<Backend> backend;  // where it goes; none: the gateway's own server
  Headers upstream_headers;        // what the backend is sent, but :authority
  int attempts = 0;                // connections tried (a replica that refused it)
  std::optional<Admission> admission;
  std::string method;
  std::string request_id;
  grpc::StatusCode code = grpc::StatusCode::CANCELLED;            // as the caller was answered
  grpc::StatusCode backend_code = grpc::StatusCode::UNAVAILABLE;  // as the backend answered
  absl::Time start = absl::Now();
  absl::Time sent;  // when the backend stream opened

  ~Call() {
    evbuffer_free(to_up);
    evbuffer_free(to_front);
  }
};

}  // namespace

class H2Relay::Loop {
 public:
  Loop(const H2RelayOptions& options, int listen_fd);
  ~Loop();

  void Run() {
    thread_ = std::thread([this] { event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY); });
  }
  // From another thread: GOAWAY everywhere; `fronts()` reaches 0 as they finish.
  void BeginDrain();
  void Stop();
  int fronts() const { return front_count_.load(); }

  void MarkDirty(Conn* conn);
  void Retire(Conn* conn);
  // The open (or opening) connection to `address`, or a new one; null when no
  // socket can be made for it.
  Upstream* UpstreamFor(const Replica& replica);
  // Round-robin over the backend's replicas, skipping those that refused a
  // connection lately (all down: the next one anyway, to find it back).
  std::optional<Replica> NextReplica(Backend backend);
  size_t ReplicaCount(Backend backend) const { return options_.replicas->Of(backend)->size(); }
  // A replica that refused a connection is skipped for a backoff (100 ms doubling
  // to 1 s); one that accepts is back at once.
  void MarkDown(const std::string& address);
  void MarkUp(const std::string& address) { down_.erase(address); }
  const H2RelayOptions& options() const { return options_; }
  event_base* base() const { return base_; }

  std::atomic<int> front_count_{0};
  std::set<Front*> fronts_;
  std::map<std::string, Upstream*> upstreams_;
  // Connections a backend asked to go away (GOAWAY): they finish their calls, and
  // new calls get a new connection.
  std::set<Upstream*> leaving_;

 private:
  static void OnAccept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* arg);
  static void OnFlush(evutil_socket_t, short, void* arg);
  static void OnDrain(evutil_socket_t, short, void* arg);

  const H2RelayOptions& options_;
  event_base* base_;
  evconnlistener* listener_ = nullptr;
  event* flush_event_;
  bool flush_pending_ = false;
  std::set<Conn*> dirty_;
  std::vector<Conn*> retired_;
  std::map<Backend, size_t> next_replica_;
  struct Down {
    absl::Time until;
    absl::Duration backoff;
  };
  std::map<std::string, Down> down_;
  std::thread thread_;
};

namespace {

// What both sides share: a socket, an nghttp2 session over it, and writing what the
// session has to send as fast as the socket takes it.
class Conn {
 public:
  Conn(H2Relay::Loop* loop, bufferevent* bev) : loop_(loop), bev_(bev) {
    bufferevent_setcb(bev_, &Conn::OnRead, &Conn::OnWrite, &Conn::OnEvent, this);
    bufferevent_setwatermark(bev_, EV_WRITE, kMaxPendingOutput / 4, 0);
    bufferevent_enable(bev_, EV_READ | EV_WRITE);
  }
  virtual ~Conn() {
    if (session_ != nullptr) nghttp2_session_del(session_);
    bufferevent_free(bev_);
  }

  nghttp2_session* session() const { return session_; }
  void MarkDirty() {
    if (!retired_) loop_->MarkDirty(this);
  }
  bool retired() const { return retired_; }
  void set_retired() { retired_ = true; }

  // Writes what the session has, as far as the socket keeps up; false when the
  // connection is finished (retire it once its last bytes are out).
  bool Flush() {
    evbuffer* out = bufferevent_get_output(bev_);
    while (evbuffer_get_length(out) < kMaxPendingOutput) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) return false;
      if (n == 0) break;
      evbuffer_add(out, data, static_cast<size_t>(n));
    }
    return nghttp2_session_want_read(session_) != 0 || nghttp2_session_want_write(session_) != 0;
  }
  bool unsent() const { return evbuffer_get_length(bufferevent_get_output(bev_)) > 0; }

 protected:
  // The connection is gone (closed, reset, or unusable): fail what rides on it.
  virtual void Lost() {}
  virtual void Connected() {}

  H2Relay::Loop* const loop_;
  bufferevent* const bev_;
  nghttp2_session* session_ = nullptr;

 private:
  static void OnRead(bufferevent* bev, void* arg) {
    Conn* c = static_cast<Conn*>(arg);
    evbuffer* in = bufferevent_get_input(bev);
    while (evbuffer_get_length(in) > 0 && !c->retired_) {
      const size_t chunk = evbuffer_get_contiguous_space(in);
      const uint8_t* data = evbuffer_pullup(in, static_cast<ssize_t>(chunk));
      const ssize_t n = nghttp2_session_mem_recv(c->session_, data, chunk);
      if (n < 0) {
        c->loop_->Retire(c);
        return;
      }
      evbuffer_drain(in, static_cast<size_t>(n));
    }
    c->MarkDirty();
  }
  static void OnWrite(bufferevent*, void* arg) {
    Conn* c = static_cast<Conn*>(arg);
    if (c->finishing_ && !c->unsent()) {
      c->loop_->Retire(c);
    } else {
      c->MarkDirty();
    }
  }
  static void OnEvent(bufferevent*, short events, void* arg) {
    Conn* c = static_cast<Conn*>(arg);
    if (events & BEV_EVENT_CONNECTED) {
      int one = 1;
      setsockopt(bufferevent_getfd(c->bev_), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      c->Connected();
      c->MarkDirty();
      return;
    }
    if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) c->loop_->Retire(c);
  }

  bool retired_ = false;
  bool finishing_ = false;

  friend class H2Relay::Loop;
};

// A connection to a backend replica (or the gateway's own server): a client
// session carrying many calls.
class Upstream final : public Conn {
 public:
  Upstream(H2Relay::Loop* loop, bufferevent* bev, const Replica& replica, bool tls);
  ~Upstream() override { Lost(); }

  const std::string& address() const { return address_; }
  // Opens the call's backend stream, once the connection is up (until then the
  // call waits here, and goes elsewhere if the connection fails).
  void Submit(Call* call);
  // A call that ended while it waited for the connection.
  void Forget(Call* call) {
    pending_.erase(std::remove(pending_.begin(), pending_.end(), call), pending_.end());
  }
  void Lost() override;
  void Connected() override;
  // More of the request to send (bytes, or its end), once its stream is open; the
  // other side's bytes taken.
  void Resume(Call* call) {
    if (call->up_id == 0) return;
    nghttp2_session_resume_data(session_, call->up_id);
    MarkDirty();
  }
  void Consumed(Call* call, size_t n) {
    nghttp2_session_consume(session_, call->up_id, n);
    MarkDirty();
  }

 private:
  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                      void* user_data);
  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int OnDataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                         size_t len, void* user_data);
  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                           void* user_data);
  static ssize_t ReadRequestBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                                 uint32_t* data_flags, nghttp2_data_source* source, void*);

  Call* CallOf(int32_t stream_id) {
    auto it = streams_.find(stream_id);
    return it == streams_.end() ? nullptr : it->second;
  }

  void SubmitNow(Call* call);
  // Counts a forwarded call's backend stream, ended with `unfinished` unless the
  // backend sent its status.
  void Count(Call* call, grpc::StatusCode unfinished) {
    if (!call->backend) return;
    CountBackendCall(*call->backend, call->response_done ? call->backend_code : unfinished,
                     absl::Now() - call->sent);
  }

  const std::string address_;
  const std::string authority_;
  const char* const scheme_;
  bool connected_ = false;
  std::vector<Call*> pending_;
  std::map<int32_t, Call*> streams_;
};

// A caller's connection: a server session, one Call per stream.
class Front final : public Conn {
 public:
  Front(H2Relay::Loop* loop, bufferevent* bev, std::string peer);
  ~Front() override {
    Lost();
    event_free(idle_);
    event_free(age_);
  }

  // Ends the call with `status`: a trailers-only response, or trailers after what
  // the backend sent when its response had begun.
  void Answer(Call* call, const absl::Status& status);
  // The backend's response headers (trailers-only when `end`).
  void StartResponse(Call* call, bool end);
  // More of the response to send (bytes, or its end); the other side's bytes taken.
  void Resume(Call* call) {
    nghttp2_session_resume_data(session_, call->front_id);
    MarkDirty();
  }
  void Consumed(Call* call, size_t n) {
    nghttp2_session_consume(session_, call->front_id, n);
    MarkDirty();
  }
  void GoAway() {
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                          nullptr, 0);
    MarkDirty();
  }
  void Lost() override;
  // A caller that did not choose HTTP/2 by ALPN is not served.
  void Connected() override {
    SSL* ssl = bufferevent_openssl_get_ssl(bev_);
    if (ssl != nullptr && !NegotiatedH2(ssl)) loop_->Retire(this);
  }
  // Sends the call to its backend (or the own server), on another replica when
  // the one tried refused the connection.
  void Dispatch(Call* call);

 private:
  static int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                      void* user_data);
  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int OnDataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                         size_t len, void* user_data);
  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                           void* user_data);
  static ssize_t ReadResponseBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                                  uint32_t* data_flags, nghttp2_data_source* source, void*);

  void Start(Call* call);
  void Finish(Call* call);
  Call* CallOf(int32_t stream_id) {
    auto it = calls_.find(stream_id);
    return it == calls_.end() ? nullptr : it->second;
  }

  static void Arm(event* timer, int ms) {
    const timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(timer, &tv);
  }
  // Idle: asked to go away (nothing is in flight). Old: asked to go away, then
  // closed after the grace period whatever is still in flight.
  static void OnIdle(evutil_socket_t, short, void* arg) { static_cast<Front*>(arg)->GoAway(); }
  static void OnAge(evutil_socket_t, short, void* arg) {
    Front* self = static_cast<Front*>(arg);
    if (self->aged_) {
      self->loop_->Retire(self);
      return;
    }
    self->aged_ = true;
    self->GoAway();
    Arm(self->age_, self->loop_->options().limits.max_connection_age_grace_ms);
  }

  const std::string peer_;
  std::map<int32_t, Call*> calls_;
  event* idle_ = nullptr;
  event* age_ = nullptr;
  bool aged_ = false;
};

void MaybeDelete(Call* call) {
  if (call->front == nullptr && call->up == nullptr) delete call;
}

nghttp2_option* SessionOptions() {
  static nghttp2_option* const option = [] {
    nghttp2_option* o = nullptr;
    nghttp2_option_new(&o);
    // Windows open only as the other side takes the bytes (nghttp2_session_consume).
    nghttp2_option_set_no_auto_window_update(o, 1);
    return o;
  }();
  return option;
}

void SetWindows(nghttp2_session* session, std::vector<nghttp2_settings_entry> settings) {
  settings.push_back({NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kStreamWindow});
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
}

// Backend metadata comes back up to the bound the gateway forwards; what is over
// it is dropped (a service's bug must not break its caller's connection).
bool KeepBackendHeader(Call* call, absl::string_view name, size_t value_size) {
  if (IsTransportHeader(name)) return true;
  call->response_metadata_bytes += common::HeaderEntrySize(name.size(), value_size);
  return call->response_metadata_bytes <= common::kMaxForwardedMetadataBytes;
}

}  // namespace

// --- Upstream ---------------------------------------------------------------

Upstream::Upstream(H2Relay::Loop* loop, bufferevent* bev, const Replica& replica, bool tls)
    : Conn(loop, bev),
      address_(replica.address),
      authority_(replica.authority),
      scheme_(tls ? "https" : "http") {
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_header_callback(cb, &Upstream::OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &Upstream::OnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &Upstream::OnDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, &Upstream::OnStreamClose);
  nghttp2_session_client_new2(&session_, cb, this, SessionOptions());
  nghttp2_session_callbacks_del(cb);
  SetWindows(session_, {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}});
}

void Upstream::Submit(Call* call) {
  call->up = this;
  call->up_id = 0;
  if (connected_) {
    SubmitNow(call);
  } else {
    pending_.push_back(call);
  }
}

void Upstream::SubmitNow(Call* call) {
  Headers headers = call->upstream_headers;
  for (auto& [name, value] : headers) {
    if (name == ":scheme") value = scheme_;
  }
  headers.emplace(headers.begin() + 2, ":authority", authority_);
  std::vector<nghttp2_nv> nv = ToNv(headers);
  nghttp2_data_provider body;
  body.source.ptr = call;
  body.read_callback = &Upstream::ReadRequestBody;
  const int32_t id = nghttp2_submit_request(session_, nullptr, nv.data(), nv.size(), &body, call);
  if (id < 0) {
    call->up = nullptr;
    call->front->Answer(call, absl::UnavailableError(absl::StrCat(
                                  address_, " takes no more calls on this connection")));
    return;
  }
  call->up_id = id;
  call->sent = absl::Now();
  streams_[id] = call;
  MarkDirty();
}

void Upstream::Connected() {
  connected_ = true;
  loop_->MarkUp(address_);
  std::vector<Call*> pending;
  pending.swap(pending_);
  for (Call* call : pending) SubmitNow(call);
}

void Upstream::Lost() {
  if (!connected_) loop_->MarkDown(address_);
  // Nothing of these reached the backend: they may go to another replica.
  std::vector<Call*> pending;
  pending.swap(pending_);
  for (Call* call : pending) {
    call->up = nullptr;
    if (call->front != nullptr) call->front->Dispatch(call);
  }
  std::map<int32_t, Call*> streams;
  streams.swap(streams_);
  for (auto& [id, call] : streams) {
    call->up = nullptr;
    Count(call, grpc::StatusCode::UNAVAILABLE);
    if (call->front != nullptr && !call->response_done) {
      call->front->Answer(call, absl::UnavailableError(absl::StrCat("the connection to ", address_,
                                                                    " closed mid-call")));
    }
    MaybeDelete(call);
  }
}

int Upstream::OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                       void* user_data) {
  Upstream* self = static_cast<Upstream*>(user_data);
  Call* call = self->CallOf(frame->hd.stream_id);
  if (call == nullptr || frame->hd.type != NGHTTP2_HEADERS) return 0;
  absl::string_view n(reinterpret_cast<const char*>(name), namelen);
  if (!KeepBackendHeader(call, n, valuelen)) return 0;
  Headers& into = frame->headers.cat == NGHTTP2_HCAT_RESPONSE ? call->response : call->trailers;
  absl::string_view v(reinterpret_cast<const char*>(value), valuelen);
  into.emplace_back(std::string(n), n == "grpc-message" ? BoundedGrpcMessage(v) : std::string(v));
  return 0;
}

int Upstream::OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  Upstream* self = static_cast<Upstream*>(user_data);
  Call* call = self->CallOf(frame->hd.stream_id);
  if (call == nullptr) return 0;
  const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (frame->hd.type == NGHTTP2_HEADERS && end) {
    call->backend_code =
        CodeOf(Find(frame->headers.cat == NGHTTP2_HCAT_RESPONSE ? call->response : call->trailers,
                    "grpc-status"));
  }
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_RESPONSE) {
    call->response_started = true;
    call->response_done = end;
    if (call->front != nullptr) call->front->StartResponse(call, end);
  } else if (end && (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA)) {
    call->response_done = true;
    if (call->front != nullptr) call->front->Resume(call);
  }
  return 0;
}

int Upstream::OnDataChunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                          size_t len, void* user_data) {
  Upstream* self = static_cast<Upstream*>(user_data);
  Call* call = self->CallOf(stream_id);
  if (call == nullptr || call->front == nullptr) {
    nghttp2_session_consume(session, stream_id, len);
    return 0;
  }
  evbuffer_add(call->to_front, data, len);
  call->front->Resume(call);
  return 0;
}

int Upstream::OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                            void* user_data) {
  Upstream* self = static_cast<Upstream*>(user_data);
  Call* call = self->CallOf(stream_id);
  if (call == nullptr) return 0;
  self->streams_.erase(stream_id);
  call->up = nullptr;
  // A reset reads as gRPC reads one: the backend cancelled, refused (try again),
  // or broke the call.
  const absl::StatusCode code = error_code == NGHTTP2_CANCEL ? absl::StatusCode::kCancelled
                                : error_code == NGHTTP2_REFUSED_STREAM
                                    ? absl::StatusCode::kUnavailable
                                    : absl::StatusCode::kInternal;
  self->Count(call, static_cast<grpc::StatusCode>(code));
  if (call->front != nullptr && !call->response_done) {
    call->front->Answer(
        call, absl::Status(code, absl::StrCat(self->address_, " reset the call (HTTP/2 error ",
                                              error_code, ") before its status")));
  }
  MaybeDelete(call);
  return 0;
}

ssize_t Upstream::ReadRequestBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                                  uint32_t* data_flags, nghttp2_data_source* source, void*) {
  Call* call = static_cast<Call*>(source->ptr);
  if (call->front == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  const int n = evbuffer_remove(call->to_up, buf, length);
  if (n > 0) call->front->Consumed(call, static_cast<size_t>(n));
  if (evbuffer_get_length(call->to_up) == 0) {
    if (call->request_done) {
      *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    } else if (n <= 0) {
      return NGHTTP2_ERR_DEFERRED;
    }
  }
  return n < 0 ? 0 : n;
}

// --- Front ------------------------------------------------------------------

Front::Front(H2Relay::Loop* loop, bufferevent* bev, std::string peer)
    : Conn(loop, bev), peer_(std::move(peer)) {
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, &Front::OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cb, &Front::OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &Front::OnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &Front::OnDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, &Front::OnStreamClose);
  nghttp2_session_server_new2(&session_, cb, this, SessionOptions());
  nghttp2_session_callbacks_del(cb);
  const common::ConnectionLimits& limits = loop->options().limits;
  SetWindows(session_, {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS,
                         static_cast<uint32_t>(limits.max_concurrent_streams)}});
  idle_ = evtimer_new(loop->base(), &Front::OnIdle, this);
  age_ = evtimer_new(loop->base(), &Front::OnAge, this);
  Arm(idle_, limits.max_connection_idle_ms);
  Arm(age_, limits.max_connection_age_ms);
  MarkDirty();
}

void Front::Lost() {
  std::map<int32_t, Call*> calls;
  calls.swap(calls_);
  for (auto& [id, call] : calls) {
    Finish(call);
    MaybeDelete(call);
  }
}

int Front::OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  Front* self = static_cast<Front*>(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  Call* call = new Call;
  call->front = self;
  call->front_id = frame->hd.stream_id;
  self->calls_[call->front_id] = call;
  evtimer_del(self->idle_);
  return 0;
}

int Front::OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                    size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                    void* user_data) {
  Front* self = static_cast<Front*>(user_data);
  Call* call = self->CallOf(frame->hd.stream_id);
  if (call == nullptr || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  call->request_bytes += common::HeaderEntrySize(namelen, valuelen);
  if (call->request_bytes > kMaxRequestHeaderBytes) return 0;  // refused in Start
  call->request.emplace_back(std::string(reinterpret_cast<const char*>(name), namelen),
                             std::string(reinterpret_cast<const char*>(value), valuelen));
  return 0;
}

int Front::OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  Front* self = static_cast<Front*>(user_data);
  Call* call = self->CallOf(frame->hd.stream_id);
  if (call == nullptr) return 0;
  const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    call->request_done = end;
    self->Start(call);
  } else if (end && (frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS)) {
    call->request_done = true;
    if (call->up != nullptr) call->up->Resume(call);
  }
  return 0;
}

int Front::OnDataChunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                       size_t len, void* user_data) {
  Front* self = static_cast<Front*>(user_data);
  Call* call = self->CallOf(stream_id);
  if (call == nullptr || call->up == nullptr) {
    nghttp2_session_consume(session, stream_id, len);
    return 0;
  }
  evbuffer_add(call->to_up, data, len);
  call->up->Resume(call);
  return 0;
}

int Front::OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t, void* user_data) {
  Front* self = static_cast<Front*>(user_data);
  Call* call = self->CallOf(stream_id);
  if (call == nullptr) return 0;
  self->calls_.erase(stream_id);
  self->Finish(call);
  MaybeDelete(call);
  if (self->calls_.empty()) Arm(self->idle_, self->loop_->options().limits.max_connection_idle_ms);
  return 0;
}

void Front::Start(Call* call) {
  call->method = std::string(Find(call->request, ":path"));
  const H2RelayOptions& options = loop_->options();
  if (call->request_bytes > kMaxRequestHeaderBytes) {
    Answer(call, absl::InvalidArgumentError(
                     absl::StrCat("metadata: over ", kMaxRequestHeaderBytes, " bytes")));
    return;
  }
  absl::StatusOr<Route> route = RouteFor(call->method);
  if (!route.ok()) {
    // The gateway's own services admit their calls themselves.
    call->upstream_headers = call->request;
    call->upstream_headers.erase(
        std::remove_if(call->upstream_headers.begin(), call->upstream_headers.end(),
                       [](const auto& h) { return h.first == ":authority"; }),
        call->upstream_headers.end());
    // :method and :scheme first, so SubmitNow's :authority lands among the
    // pseudo-headers (they precede every other header).
    std::stable_partition(
        call->upstream_headers.begin(), call->upstream_headers.end(),
        [](const auto& h) { return h.first == ":method" || h.first == ":scheme"; });
    Dispatch(call);
    return;
  }
  call->forwarded = true;
  call->backend = route->backend;
  absl::string_view request_id = Find(call->request, common::kRequestIdHeader);
  call->request_id =
      common::IsWellFormedRequestId(request_id) ? std::string(request_id) : common::NewRequestId();
  CallerHeaders view;
  view.reserve(call->request.size());
  for (const auto& [k, v] : call->request) view.emplace_back(k, v);
  absl::StatusOr<Admission> admission = options.gatekeeper->Admit(view, call->method);
  if (!admission.ok()) {
    Answer(call, admission.status());
    return;
  }
  call->admission = *std::move(admission);
  Headers& out = call->upstream_headers;
  out = {{":method", "POST"},
         {":scheme", "http"},
         {":path", call->method},
         {"te", "trailers"},
         {"content-type", std::string(Find(call->request, "content-type"))}};
  for (const char* name : {"grpc-timeout", "grpc-encoding", "grpc-accept-encoding"}) {
    absl::string_view v = Find(call->request, name);
    if (!v.empty()) out.emplace_back(name, std::string(v));
  }
  for (auto& h : options.gatekeeper->StampHeaders(call->request_id, call->admission->principal)) {
    out.push_back(std::move(h));
  }
  Dispatch(call);
}

void Front::Dispatch(Call* call) {
  const size_t tries = call->backend ? loop_->ReplicaCount(*call->backend) : 1;
  while (call->attempts < static_cast<int>(tries)) {
    ++call->attempts;
    const std::string& local = loop_->options().local_address;
    const std::optional<Replica> replica =
        call->backend ? loop_->NextReplica(*call->backend) : Replica{local, local, "127.0.0.1"};
    if (!replica) break;
    if (Upstream* up = loop_->UpstreamFor(*replica); up != nullptr) {
      up->Submit(call);
      return;
    }
    loop_->MarkDown(replica->address);
  }
  Answer(call, absl::UnavailableError(
                   call->backend ? absl::StrCat("no replica of ", BackendName(*call->backend),
                                                " accepts connections")
                                 : std::string("the gateway's own server is not reachable")));
}

void Front::Answer(Call* call, const absl::Status& status) {
  call->code = static_cast<grpc::StatusCode>(status.code());
  call->response_done = true;
  Headers headers = TrailersOnly(status);
  if (call->response_started) {
    // After the backend's messages relayed so far, as trailers.
    headers.erase(headers.begin(), headers.begin() + 2);  // :status, content-type
    call->trailers = std::move(headers);
    Resume(call);
  } else {
    call->response_started = true;
    std::vector<nghttp2_nv> nv = ToNv(headers);
    nghttp2_submit_response(session_, call->front_id, nv.data(), nv.size(), nullptr);
  }
  MarkDirty();
}

void Front::StartResponse(Call* call, bool end) {
  std::vector<nghttp2_nv> nv = ToNv(call->response);
  if (end) {
    call->code = CodeOf(Find(call->response, "grpc-status"));
    nghttp2_submit_response(session_, call->front_id, nv.data(), nv.size(), nullptr);
  } else {
    nghttp2_data_provider body;
    body.source.ptr = call;
    body.read_callback = &Front::ReadResponseBody;
    nghttp2_submit_response(session_, call->front_id, nv.data(), nv.size(), &body);
  }
  MarkDirty();
}

ssize_t Front::ReadResponseBody(nghttp2_session* session, int32_t stream_id, uint8_t* buf,
                                size_t length, uint32_t* data_flags, nghttp2_data_source* source,
                                void*) {
  Call* call = static_cast<Call*>(source->ptr);
  const int n = evbuffer_remove(call->to_front, buf, length);
  if (n > 0 && call->up != nullptr) call->up->Consumed(call, static_cast<size_t>(n));
  if (evbuffer_get_length(call->to_front) == 0) {
    if (call->response_done) {
      *data_flags |= NGHTTP2_DATA_FLAG_EOF;
      if (!call->trailers.empty()) {
        call->code = CodeOf(Find(call->trailers, "grpc-status"));
        *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        std::vector<nghttp2_nv> nv = ToNv(call->trailers);
        nghttp2_submit_trailer(session, stream_id, nv.data(), nv.size());
      }
    } else if (n <= 0) {
      return NGHTTP2_ERR_DEFERRED;
    }
  }
  return n < 0 ? 0 : n;
}

// The caller's stream is over: reset the backend's if it is still open, release
// the caller's place under its limits, and log the call.
void Front::Finish(Call* call) {
  call->front = nullptr;
  if (call->up != nullptr && call->up_id == 0) {
    call->up->Forget(call);
    call->up = nullptr;
  }
  if (call->up != nullptr && !(call->response_done && call->request_done)) {
    nghttp2_submit_rst_stream(call->up->session(), NGHTTP2_FLAG_NONE, call->up_id, NGHTTP2_CANCEL);
    call->up->MarkDirty();
  }
  if (!call->response_done) call->code = grpc::StatusCode::CANCELLED;
  const std::string caller =
      call->admission ? call->admission->principal.id : std::string("unauthenticated");
  call->admission.reset();
  if (!call->forwarded) return;
  const absl::Duration took = absl::Now() - call->start;
  common::CountHandled(call->method, call->code, took);
  if (common::LogEnabled("info")) {
    common::Log("info", "request",
                {{"server", "gateway"},
                 {"method", call->method},
                 {"code", common::StatusCodeName(call->code)},
                 {"duration_ms", absl::ToDoubleMilliseconds(took)},
                 {"caller", caller},
                 {"request_id", call->request_id},
                 {"peer", peer_}});
  }
}

// --- Loop -------------------------------------------------------------------

H2Relay::Loop::Loop(const H2RelayOptions& options, int listen_fd) : options_(options) {
  base_ = event_base_new();
  flush_event_ = event_new(base_, -1, 0, &Loop::OnFlush, this);
  listener_ =
      evconnlistener_new(base_, &Loop::OnAccept, this, LEV_OPT_CLOSE_ON_FREE, -1, listen_fd);
}

H2Relay::Loop::~Loop() {
  if (thread_.joinable()) Stop();
  if (listener_ != nullptr) evconnlistener_free(listener_);
  // Fronts first: each resets its backend streams, then the upstreams go.
  for (Front* f : std::set<Front*>(fronts_)) delete f;
  for (auto& [address, up] : std::map<std::string, Upstream*>(upstreams_)) delete up;
  for (Upstream* up : std::set<Upstream*>(leaving_)) delete up;
  for (Conn* c : retired_) delete c;
  event_free(flush_event_);
  event_base_free(base_);
}

void H2Relay::Loop::Stop() {
  event_base_loopbreak(base_);
  if (thread_.joinable()) thread_.join();
}

void H2Relay::Loop::OnAccept(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int addrlen,
                             void* arg) {
  Loop* loop = static_cast<Loop*>(arg);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  char host[NI_MAXHOST] = "", port[NI_MAXSERV] = "";
  getnameinfo(addr, static_cast<socklen_t>(addrlen), host, sizeof(host), port, sizeof(port),
              NI_NUMERICHOST | NI_NUMERICSERV);
  bufferevent* bev =
      loop->options_.caller_tls == nullptr
          ? bufferevent_socket_new(loop->base_, fd, BEV_OPT_CLOSE_ON_FREE)
          : bufferevent_openssl_socket_new(loop->base_, fd, SSL_new(loop->options_.caller_tls),
                                           BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
  if (loop->options_.caller_tls != nullptr) bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  Front* front = new Front(loop, bev,
                           addr->sa_family == AF_INET6 ? absl::StrCat("ipv6:[", host, "]:", port)
                                                       : absl::StrCat("ipv4:", host, ":", port));
  loop->fronts_.insert(front);
  loop->front_count_.fetch_add(1);
}

void H2Relay::Loop::MarkDirty(Conn* conn) {
  dirty_.insert(conn);
  if (!flush_pending_) {
    flush_pending_ = true;
    event_active(flush_event_, 0, 0);
  }
}

void H2Relay::Loop::Retire(Conn* conn) {
  if (conn->retired()) return;
  conn->set_retired();
  dirty_.erase(conn);
  retired_.push_back(conn);
  if (auto* up = dynamic_cast<Upstream*>(conn); up != nullptr) {
    auto it = upstreams_.find(up->address());
    if (it != upstreams_.end() && it->second == up) upstreams_.erase(it);
    leaving_.erase(up);
  }
  if (auto* front = dynamic_cast<Front*>(conn); front != nullptr) {
    fronts_.erase(front);
  }
  if (!flush_pending_) {
    flush_pending_ = true;
    event_active(flush_event_, 0, 0);
  }
}

void H2Relay::Loop::OnFlush(evutil_socket_t, short, void* arg) {
  Loop* loop = static_cast<Loop*>(arg);
  loop->flush_pending_ = false;
  // Flushing or retiring one connection can dirty others; repeat until quiet.
  while (!loop->dirty_.empty() || !loop->retired_.empty()) {
    std::set<Conn*> dirty;
    dirty.swap(loop->dirty_);
    for (Conn* c : dirty) {
      if (c->retired() || c->Flush()) continue;
      c->finishing_ = true;
      if (!c->unsent()) loop->Retire(c);
    }
    std::vector<Conn*> retired;
    retired.swap(loop->retired_);
    for (Conn* c : retired) {
      if (dynamic_cast<Front*>(c) != nullptr) loop->front_count_.fetch_sub(1);
      delete c;
    }
  }
  loop->flush_pending_ = false;
}

void H2Relay::Loop::BeginDrain() {
  event_base_once(base_, -1, EV_TIMEOUT, &Loop::OnDrain, this, nullptr);
}

void H2Relay::Loop::OnDrain(evutil_socket_t, short, void* arg) {
  Loop* loop = static_cast<Loop*>(arg);
  if (loop->listener_ != nullptr) {
    evconnlistener_free(loop->listener_);
    loop->listener_ = nullptr;
  }
  for (Front* f : loop->fronts_) f->GoAway();
}

Upstream* H2Relay::Loop::UpstreamFor(const Replica& replica) {
  if (auto it = upstreams_.find(replica.address); it != upstreams_.end()) {
    if (nghttp2_session_check_request_allowed(it->second->session()) != 0) return it->second;
    leaving_.insert(it->second);
    upstreams_.erase(it);
  }
  sockaddr_storage addr{};
  int addr_len = sizeof(addr);
  if (evutil_parse_sockaddr_port(replica.address.c_str(), reinterpret_cast<sockaddr*>(&addr),
                                 &addr_len) != 0) {
    return nullptr;
  }
  // The own server is on loopback in this process; the services are reached over
  // mutual TLS when the gateway has the certificates for it.
  const bool tls = options_.backend_tls != nullptr && replica.address != options_.local_address;
  bufferevent* bev;
  if (tls) {
    SSL* ssl = SSL_new(options_.backend_tls);
    VerifyBackendName(ssl, replica.name);
    bev = bufferevent_openssl_socket_new(base_, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                         BEV_OPT_CLOSE_ON_FREE);
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  } else {
    bev = bufferevent_socket_new(base_, -1, BEV_OPT_CLOSE_ON_FREE);
  }
  if (bufferevent_socket_connect(bev, reinterpret_cast<sockaddr*>(&addr), addr_len) != 0) {
    bufferevent_free(bev);
    return nullptr;
  }
  Upstream* up = new Upstream(this, bev, replica, tls);
  upstreams_[replica.address] = up;
  return up;
}

std::optional<Replica> H2Relay::Loop::NextReplica(Backend backend) {
  const std::shared_ptr<const std::vector<Replica>> replicas = options_.replicas->Of(backend);
  if (replicas->empty()) return std::nullopt;
  size_t& next = next_replica_[backend];
  const absl::Time now = absl::Now();
  for (size_t i = 0; i < replicas->size(); ++i) {
    const Replica& r = (*replicas)[next++ % replicas->size()];
    auto down = down_.find(r.address);
    if (down == down_.end() || down->second.until <= now) return r;
  }
  return (*replicas)[next++ % replicas->size()];
}

void H2Relay::Loop::MarkDown(const std::string& address) {
  auto [it, fresh] =
      down_.try_emplace(address, Down{absl::InfinitePast(), absl::Milliseconds(100)});
  if (!fresh) it->second.backoff = std::min(2 * it->second.backoff, absl::Seconds(1));
  it->second.until = absl::Now() + it->second.backoff;
}

// --- H2Relay ----------------------------------------------------------------

H2Relay::H2Relay(H2RelayOptions options) : options_(std::move(options)) {}

H2Relay::~H2Relay() { Shutdown(absl::ZeroDuration()); }

namespace {

// A listening socket on host:port.
absl::StatusOr<int> Listen(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), absl::StrCat(port).c_str(), &hints, &found); rc != 0) {
    return absl::UnavailableError(absl::StrCat(host, ":", port, ": ", gai_strerror(rc)));
  }
  const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const bool ok = bind(fd, found->ai_addr, found->ai_addrlen) == 0 && listen(fd, 1024) == 0;
  const int err = errno;
  freeaddrinfo(found);
  if (!ok) {
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", port, ": ", std::strerror(err)));
  }
  return fd;
}

int BoundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                    : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

}  // namespace

absl::Status H2Relay::Start() {
  static const bool threads_ready = evthread_use_pthreads() == 0;
  if (!threads_ready) return absl::InternalError("libevent has no thread support");
  // One listening socket, which every loop accepts from (a port of its own per
  // loop, SO_REUSEPORT, would let a second gateway bind the same port unnoticed).
  absl::StatusOr<int> fd = Listen(options_.host, options_.port);
  if (!fd.ok()) return fd.status();
  port_ = BoundPort(*fd);
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    loops_.push_back(std::make_unique<Loop>(options_, i == 0 ? *fd : dup(*fd)));
  }
  options_.replicas->Refresh();
  if (options_.health_check) options_.replicas->CheckHealth(options_.health_check);
  refresher_ = std::thread([this] {
    absl::Time next_refresh = absl::Now() + options_.replica_refresh;
    while (!stop_refreshing_.WaitForNotificationWithTimeout(options_.health_interval)) {
      if (absl::Now() >= next_refresh) {
        options_.replicas->Refresh();
        next_refresh = absl::Now() + options_.replica_refresh;
      }
      if (options_.health_check) options_.replicas->CheckHealth(options_.health_check);
    }
  });
  for (auto& loop : loops_) loop->Run();
  return absl::OkStatus();
}

void H2Relay::Shutdown(absl::Duration timeout) {
  if (refresher_.joinable()) {
    stop_refreshing_.Notify();
    refresher_.join();
  }
  if (loops_.empty()) return;
  for (auto& loop : loops_) loop->BeginDrain();
  const absl::Time deadline = absl::Now() + timeout;
  auto busy = [&] {
    for (auto& loop : loops_) {
      if (loop->fronts() > 0) return true;
    }
    return false;
  };
  while (busy() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  for (auto& loop : loops_) loop->Stop();
  loops_.clear();
}

}  // namespace funnel::gateway
