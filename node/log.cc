#include "node/log.h"

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace cl::node {
namespace {

spdlog::level::level_enum ToSpd(LogLevel l) {
  switch (l) {
    case LogLevel::kTrace: return spdlog::level::trace;
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
    case LogLevel::kOff: return spdlog::level::off;
  }
  CL_UNREACHABLE("bad LogLevel");
}

// logfmt: UTC ISO-8601 timestamp with milliseconds, spdlog level name, then the event.
constexpr char kPattern[] = "ts=%Y-%m-%dT%H:%M:%S.%eZ level=%l %v";

std::shared_ptr<spdlog::logger> MakeLogger(spdlog::sink_ptr sink, LogLevel level) {
  sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      kPattern, spdlog::pattern_time_type::utc));
  auto l = std::make_shared<spdlog::logger>("certledger", std::move(sink));
  l->set_level(ToSpd(level));
  l->flush_on(spdlog::level::warn);
  return l;
}

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v) {
    if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f) return true;
  }
  return false;
}

void AppendField(std::string* out, std::string_view key, std::string_view value) {
  *out += ' ';
  *out += key;
  *out += '=';
  if (!NeedsQuotes(value)) {
    *out += value;
    return;
  }
  *out += '"';
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += static_cast<char>(c);
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c < ' ' || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      *out += "\\x";
      *out += kHex[c >> 4];
      *out += kHex[c & 15];
    } else {
      *out += static_cast<char>(c);
    }
  }
  *out += '"';
}

}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view name) {
  static constexpr std::pair<std::string_view, LogLevel> kNames[] = {
      {"trace", LogLevel::kTrace}, {"debug", LogLevel::kDebug}, {"info", LogLevel::kInfo},
      {"warn", LogLevel::kWarn},   {"error", LogLevel::kError}, {"off", LogLevel::kOff}};
  for (const auto& [n, l] : kNames) {
    if (n == name) return l;
  }
  return InvalidArgument("unknown log level '" + std::string(name) +
                         "' (expected trace, debug, info, warn, error or off)");
}

Logger::Logger() : Logger(Stderr(LogLevel::kInfo)) {}

Logger Logger::Stderr(LogLevel level) {
  return Logger(MakeLogger(std::make_shared<spdlog::sinks::stderr_sink_mt>(), level));
}

Logger Logger::ToStream(std::ostream& os, LogLevel level) {
  return Logger(MakeLogger(std::make_shared<spdlog::sinks::ostream_sink_mt>(os, true), level));
}

Logger Logger::Null() { return Logger(std::shared_ptr<spdlog::logger>()); }

Logger Logger::With(std::initializer_list<LogField> fields) const {
  Logger copy = *this;
  for (const auto& f : fields) AppendField(&copy.base_, f.key, f.value);
  return copy;
}

void Logger::SetLevel(LogLevel level) {
  if (sink_) sink_->set_level(ToSpd(level));
}

bool Logger::Enabled(LogLevel level) const { return sink_ && sink_->should_log(ToSpd(level)); }

std::string Logger::Format(std::string_view event, std::initializer_list<LogField> fields) const {
  std::string line;
  line.reserve(64 + base_.size());
  AppendField(&line, "event", event);
  line += base_;
  for (const auto& f : fields) AppendField(&line, f.key, f.value);
  return line.substr(1);  // drop the leading space
}

void Logger::Log(LogLevel level, std::string_view event,
                 std::initializer_list<LogField> fields) const {
  if (!Enabled(level)) return;
  std::string line = Format(event, fields);
  sink_->log(ToSpd(level), spdlog::string_view_t(line.data(), line.size()));
}

}  // namespace cl::node
