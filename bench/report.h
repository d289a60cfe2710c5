#pragma once

// BENCHMARKS.md from one run's results: the machine, each scenario's figures, and
// each target as a ratio from that same run, met or missed and by how much.

#include <limits>
#include <string>
#include <vector>

#include "funnel/bench/v1/result.pb.h"

namespace funnel::bench {

struct Machine {
  std::string cpu;
  int cores = 0;
  double memory_gib = 0;
  std::string kernel;
  std::string os;
  std::string mariadb;
  std::string grpc;
  std::string protobuf;
  std::string compiler;
  std::string date;
};

// What this machine is, read from /proc, uname and the libraries; `mariadb` is
// the server's VERSION().
Machine DescribeMachine(const std::string& mariadb_version);

// One line per run: rate, latency percentiles, errors.
std::string SummaryLine(const v1::Run& run);

// A target checked against results. `measured` is kNotRun when its scenarios did
// not run (a difference of latencies may be negative, so no sign can mark it).
inline constexpr double kNotRun = std::numeric_limits<double>::quiet_NaN();
struct TargetCheck {
  std::string what;
  std::string target;
  double measured = kNotRun;
  std::string unit;
  bool higher_is_better = true;
  double bound = 0;
};
std::vector<TargetCheck> CheckTargets(const std::vector<v1::ScenarioResult>& results);

std::string RenderMarkdown(const Machine& machine, const std::vector<v1::ScenarioResult>& results,
                           const std::string& command);

}  // namespace funnel::bench
