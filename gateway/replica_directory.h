#pragma once

// Where a backend's replicas are, for the HTTP/2 relay: the address flag's
// entries ("host:port", a comma-separated list of them, or "dns:///name:port"),
// each resolved to every address it has and refreshed in the background, so a
// name that stands for several pods (a headless Kubernetes service) spreads calls
// over all of them and follows them as they come and go. A replica whose health
// check fails (its database is down, say) gets no calls until it passes again.

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gateway/routes.h"

namespace funnel::gateway {

struct Replica {
  std::string address;    // numeric "ip:port" or "[ipv6]:port", what is connected to
  std::string authority;  // "name:port" as configured: HTTP/2's :authority
  std::string name;       // the name a TLS certificate must carry
};

// One entry of an address flag as name and port. INVALID_ARGUMENT naming `flag`
// for an entry that is not "host:port" or "dns:///host:port".
struct ReplicaSpec {
  std::string host;
  std::string port;
};
absl::StatusOr<std::vector<ReplicaSpec>> ParseReplicaSpecs(const std::string& value,
                                                           const std::string& flag);

class ReplicaDirectory final {
 public:
  explicit ReplicaDirectory(std::map<Backend, std::vector<ReplicaSpec>> specs)
      : specs_(std::move(specs)) {}

  // Resolves every entry again. An entry that does not resolve keeps the
  // addresses it had (a DNS hiccup must not empty a backend).
  void Refresh();

  // Checks every replica with `check` (OK: serving) and leaves those that fail
  // out of Of(), unless all of a backend's replicas fail.
  void CheckHealth(const std::function<absl::Status(const Replica&)>& check);

  // The replicas of `backend` to send calls to now: the healthy ones, or all of
  // them when none is (a call then finds out for itself).
  std::shared_ptr<const std::vector<Replica>> Of(Backend backend) const;

 private:
  void Rebuild() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::map<Backend, std::vector<ReplicaSpec>> specs_;
  mutable absl::Mutex mu_;
  std::map<Backend, std::shared_ptr<const std::vector<Replica>>> resolved_ ABSL_GUARDED_BY(mu_);
  // By entry ("host:port"): the last addresses it resolved to.
  std::map<std::string, std::vector<std::string>> last_good_ ABSL_GUARDED_BY(mu_);
  std::map<Backend, std::vector<Replica>> all_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> failing_ ABSL_GUARDED_BY(mu_);  // addresses
};

}  // namespace funnel::gateway
