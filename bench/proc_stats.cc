#include "bench/proc_stats.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace funnel::bench {

absl::StatusOr<double> CpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!in || !std::getline(in, line)) return absl::NotFoundError(absl::StrCat("no process ", pid));
  // The command name (field 2) may hold spaces; fields after its closing ')' are
  // plain numbers: state is field 3, utime 14 and stime 15.
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return absl::InternalError("malformed /proc stat line");
  std::vector<std::string> fields = absl::StrSplit(line.substr(close + 2), ' ');
  if (fields.size() < 13) return absl::InternalError("short /proc stat line");
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
}

std::map<std::string, double> CpuSnapshot(const std::map<std::string, pid_t>& processes) {
  std::map<std::string, double> out;
  for (const auto& [name, pid] : processes) {
    absl::StatusOr<double> s = CpuSeconds(pid);
    if (s.ok()) out[name] = *s;
  }
  return out;
}

std::map<std::string, double> CpuSpent(const std::map<std::string, double>& before,
                                       const std::map<std::string, double>& after) {
  std::map<std::string, double> out;
  for (const auto& [name, value] : after) {
    auto it = before.find(name);
    if (it != before.end()) out[name] = value - it->second;
  }
  return out;
}

}  // namespace funnel::bench
