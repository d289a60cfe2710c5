#include "gateway/replica_directory.h"

#include <netdb.h>
#include <sys/socket.h>

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace funnel::gateway {
namespace {

// Every address `spec` resolves to, as numeric host:port; empty when none.
std::vector<std::string> Resolve(const ReplicaSpec& spec) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::vector<std::string> out;
  if (getaddrinfo(spec.host.c_str(), spec.port.c_str(), &hints, &found) != 0) return out;
  std::set<std::string> seen;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char host[NI_MAXHOST] = "";
    if (getnameinfo(a->ai_addr, a->ai_addrlen, host, sizeof(host), nullptr, 0, NI_NUMERICHOST) !=
        0) {
      continue;
    }
    std::string address = a->ai_family == AF_INET6 ? absl::StrCat("[", host, "]:", spec.port)
                                                   : absl::StrCat(host, ":", spec.port);
    if (seen.insert(address).second) out.push_back(std::move(address));
  }
  freeaddrinfo(found);
  return out;
}

}  // namespace

absl::StatusOr<std::vector<ReplicaSpec>> ParseReplicaSpecs(const std::string& value,
                                                           const std::string& flag) {
  std::vector<ReplicaSpec> specs;
  for (absl::string_view entry : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    absl::ConsumePrefix(&entry, "dns:///");
    const size_t colon = entry.rfind(':');
    if (colon == absl::string_view::npos || colon == 0 || colon + 1 == entry.size() ||
        absl::StrContains(entry, "/")) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, ": \"", entry, "\" is not host:port or dns:///host:port"));
    }
    ReplicaSpec spec{std::string(entry.substr(0, colon)), std::string(entry.substr(colon + 1))};
    if (absl::StartsWith(spec.host, "[") && absl::EndsWith(spec.host, "]")) {
      spec.host = spec.host.substr(1, spec.host.size() - 2);
    }
    specs.push_back(std::move(spec));
  }
  if (specs.empty()) return absl::InvalidArgumentError(absl::StrCat("--", flag, " is empty"));
  return specs;
}

void ReplicaDirectory::Refresh() {
  // Resolving may block; it happens outside the lock.
  std::map<std::string, std::vector<std::string>> fresh;
  for (const auto& [backend, specs] : specs_) {
    for (const ReplicaSpec& spec : specs) {
      fresh[absl::StrCat(spec.host, ":", spec.port)] = Resolve(spec);
    }
  }
  absl::MutexLock lock(&mu_);
  for (auto& [entry, addresses] : fresh) {
    if (!addresses.empty()) last_good_[entry] = std::move(addresses);
  }
  for (const auto& [backend, specs] : specs_) {
    std::vector<Replica>& replicas = all_[backend];
    replicas.clear();
    for (const ReplicaSpec& spec : specs) {
      const std::string authority = absl::StrCat(spec.host, ":", spec.port);
      for (const std::string& address : last_good_[authority]) {
        replicas.push_back({address, authority, spec.host});
      }
    }
  }
  Rebuild();
}

void ReplicaDirectory::CheckHealth(const std::function<absl::Status(const Replica&)>& check) {
  std::vector<Replica> replicas;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [backend, of] : all_) replicas.insert(replicas.end(), of.begin(), of.end());
  }
  std::set<std::string> failing;
  for (const Replica& r : replicas) {
    if (!check(r).ok()) failing.insert(r.address);
  }
  absl::MutexLock lock(&mu_);
  if (failing == failing_) return;
  failing_ = std::move(failing);
  Rebuild();
}

void ReplicaDirectory::Rebuild() {
  for (const auto& [backend, replicas] : all_) {
    auto healthy = std::make_shared<std::vector<Replica>>();
    for (const Replica& r : replicas) {
      if (failing_.count(r.address) == 0) healthy->push_back(r);
    }
    resolved_[backend] =
        healthy->empty() ? std::make_shared<std::vector<Replica>>(replicas) : std::move(healthy);
  }
}

std::shared_ptr<const std::vector<Replica>> ReplicaDirectory::Of(Backend backend) const {
  absl::MutexLock lock(&mu_);
  auto it = resolved_.find(backend);
  if (it == resolved_.end()) return std::make_shared<const std::vector<Replica>>();
  return it->second;
}

}  // namespace funnel::gateway
