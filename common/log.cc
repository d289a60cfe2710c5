#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/request_id.h"
#include "common/utf8.h"
#include "google/protobuf/stubs/logging.h"

namespace funnel::common {

std::string JsonQuote(absl::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      // A log line is UTF-8 JSON whatever a field holds: bytes that are not UTF-8
      // (from a caller, say) become U+FFFD instead of breaking the line.
      const Utf8CodePoint cp = NextCodePoint(s, i);
      if (cp.length == 0) {
        out += "\\ufffd";
      } else {
        out.append(s.data() + i, cp.length);
        i += cp.length - 1;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += "\"";
  return out;
}

LogField::LogField(absl::string_view key, absl::string_view value)
    : key_(key), json_value_(JsonQuote(value)) {}
LogField::LogField(absl::string_view key, const char* value)
    : LogField(key, absl::string_view(value)) {}
LogField::LogField(absl::string_view key, const std::string& value)
    : LogField(key, absl::string_view(value)) {}
LogField::LogField(absl::string_view key, long long value)
    : key_(key), json_value_(absl::StrCat(value)) {}
LogField::LogField(absl::string_view key, int value)
    : key_(key), json_value_(absl::StrCat(value)) {}
LogField::LogField(absl::string_view key, double value)
    : key_(key), json_value_(absl::StrFormat("%.3f", value)) {}

namespace {

// Severity of a level name; -1 for an unknown name.
int Severity(absl::string_view level) {
  if (level == "debug") return 0;
  if (level == "info") return 1;
  if (level == "warning") return 2;
  if (level == "error") return 3;
  return -1;
}

std::atomic<int> min_severity{1};

}  // namespace

bool SetLogLevel(absl::string_view level) {
  const int severity = Severity(level);
  if (severity < 0) return false;
  min_severity.store(severity, std::memory_order_relaxed);
  return true;
}

bool LogEnabled(absl::string_view level) {
  return Severity(level) >= min_severity.load(std::memory_order_relaxed);
}

void Log(absl::string_view level, absl::string_view msg, std::vector<LogField> fields) {
  if (!LogEnabled(level)) return;
  std::string line = absl::StrCat(
      "{\"ts\":",
      JsonQuote(absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone())),
      ",\"level\":", JsonQuote(level), ",\"msg\":", JsonQuote(msg));
  bool has_request_id = false;
  for (const LogField& f : fields) {
    absl::StrAppend(&line, ",", JsonQuote(f.key()), ":", f.json_value());
    has_request_id = has_request_id || f.key() == "request_id";
  }
  if (!has_request_id && !CurrentRequestId().empty()) {
    absl::StrAppend(&line, ",\"request_id\":", JsonQuote(CurrentRequestId()));
  }
  line += "}\n";
  // One write(2) per line: the kernel keeps lines from different threads whole.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

namespace {

void ProtobufLogLine(google::protobuf::LogLevel level, const char* file, int line,
                     const std::string& message) {
  const bool callers_bytes = message.find("when parsing") != std::string::npos;
  Log(level == google::protobuf::LOGLEVEL_INFO || callers_bytes ? "debug" : "warning", "protobuf",
      {{"message", message}, {"source", absl::StrCat(file, ":", line)}});
}

}  // namespace

void RouteProtobufLogs() {
  // Once: SetLogHandler itself is not thread-safe, and hosts start on many threads
  // in tests.
  static const bool routed = (google::protobuf::SetLogHandler(&ProtobufLogLine), true);
  (void)routed;
}

}  // namespace funnel::common
