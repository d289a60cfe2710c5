#pragma once

// Structured logging: one JSON object per line on stderr, so logs from several
// processes can be merged and filtered with jq.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace funnel::common {

// One field of a log line. Numbers are written bare, strings quoted and escaped.
class LogField {
 public:
  LogField(absl::string_view key, absl::string_view value);
  LogField(absl::string_view key, const char* value);
  LogField(absl::string_view key, const std::string& value);
  LogField(absl::string_view key, long long value);
  LogField(absl::string_view key, int value);
  LogField(absl::string_view key, double value);

  const std::string& key() const { return key_; }
  const std::string& json_value() const { return json_value_; }

 private:
  std::string key_;
  std::string json_value_;
};

// Writes {"ts":...,"level":...,"msg":...,<fields>} as one line to stderr when
// `level` ("debug", "info", "warning", "error") is at or above the log level. A line
// written on a thread serving a call also carries the call's "request_id". Safe to
// call from any thread; lines never interleave.
void Log(absl::string_view level, absl::string_view msg, std::vector<LogField> fields = {});

// The least severe level written ("info" unless set; --log_level sets it). False
// for an unknown level name.
bool SetLogLevel(absl::string_view level);
// True when a line at `level` would be written.
bool LogEnabled(absl::string_view level);

inline void LogDebug(absl::string_view msg, std::vector<LogField> fields = {}) {
  Log("debug", msg, std::move(fields));
}
inline void LogInfo(absl::string_view msg, std::vector<LogField> fields = {}) {
  Log("info", msg, std::move(fields));
}
inline void LogWarning(absl::string_view msg, std::vector<LogField> fields = {}) {
  Log("warning", msg, std::move(fields));
}
inline void LogError(absl::string_view msg, std::vector<LogField> fields = {}) {
  Log("error", msg, std::move(fields));
}

// Sends protobuf's own log lines through Log, so that every line a Funnel binary
// writes is JSON: a message that fails to parse (a caller's bytes, answered
// INVALID_ARGUMENT and logged as a request) at debug, anything else as a warning.
// Idempotent; ServiceHost calls it.
void RouteProtobufLogs();

// Returns `s` as a quoted JSON string.
std::string JsonQuote(absl::string_view s);

}  // namespace funnel::common
