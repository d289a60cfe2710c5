#pragma once

// Flag parsing for every Funnel binary: absl flags from the command line, each also
// settable by an environment variable FUNNEL_<FLAG NAME IN UPPER CASE> (so
// --db_password can come from FUNNEL_DB_PASSWORD and stay out of `ps`). The command
// line wins over the environment. Every binary also gets --mutex_deadlock_detection
// (off by default).

#include <string>
#include <vector>

namespace funnel::common {

// Applies FUNNEL_* environment variables to the matching flags, then parses argv.
// Exits with a message on a malformed value. Returns the positional arguments
// (argv[0] first).
std::vector<std::string> ParseFlags(int argc, char** argv, const char* usage);

}  // namespace funnel::common
