#include "common/flags.h"

#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/log.h"

// Debian builds Abseil without NDEBUG, which turns this on for every absl::Mutex
// (gRPC's too): a lock-order graph updated on each acquisition, ~3.5% of the
// gateway's CPU in a profile. It finds bugs, not users' problems: off unless asked.
ABSL_FLAG(bool, mutex_deadlock_detection, false,
          "Check every mutex acquisition for lock-order cycles (a debugging aid).");

ABSL_FLAG(std::string, log_level, "info",
          "Least severe log lines written: debug (adds health probes), info, warning, error.");

namespace funnel::common {

std::vector<std::string> ParseFlags(int argc, char** argv, const char* usage) {
  absl::SetProgramUsageMessage(usage);
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    const std::string env_name = absl::StrCat("FUNNEL_", absl::AsciiStrToUpper(name));
    const char* value = std::getenv(env_name.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      std::fprintf(stderr, "%s: invalid value for --%s: %s\n", env_name.c_str(),
                   std::string(name).c_str(), error.c_str());
      std::exit(2);
    }
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::GetFlag(FLAGS_mutex_deadlock_detection)
                                          ? absl::OnDeadlockCycle::kAbort
                                          : absl::OnDeadlockCycle::kIgnore);
  if (!SetLogLevel(absl::GetFlag(FLAGS_log_level))) {
    std::fprintf(stderr, "invalid value for --log_level: %s (want debug, info, warning or error)\n",
                 absl::GetFlag(FLAGS_log_level).c_str());
    std::exit(2);
  }
  return std::vector<std::string>(positional.begin(), positional.end());
}

}  // namespace funnel::common
