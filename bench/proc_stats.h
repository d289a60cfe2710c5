#pragma once

// CPU time of processes, read from /proc, so a run can say what each Funnel
// process and MariaDB spent on the load it generated.

#include <sys/types.h>

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace funnel::bench {

// User + system CPU seconds `pid` has used so far. NOT_FOUND when it is gone.
absl::StatusOr<double> CpuSeconds(pid_t pid);

// CPU seconds of each named process, for those that can be read.
std::map<std::string, double> CpuSnapshot(const std::map<std::string, pid_t>& processes);

// after - before, for names in both.
std::map<std::string, double> CpuSpent(const std::map<std::string, double>& before,
                                       const std::map<std::string, double>& after);

}  // namespace funnel::bench
