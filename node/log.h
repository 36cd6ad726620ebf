// Structured logging: one line per event, key=value fields.
//
//   ts=2026-11-27T09:30:00.123Z level=info event=peer_connected node=1 peer=2 addr=10.0.0.2:7100
//
// (logfmt; level names are spdlog's: trace debug info warning error off)
//
// A Logger is a cheap copyable handle (a shared spdlog logger plus fields that
// go on every line, e.g. node=1). Components take a Logger in their options and
// add their own context with With(). Values are quoted when they contain a
// space, '=', '"' or are empty; quotes, backslashes and control characters are
// escaped, so a hostile value can never forge a second line or a field.
//
// Thread-safety: a Logger may be used from any thread (spdlog's _mt sinks).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>

#include "base/status.h"
#include "base/strong_types.h"

namespace spdlog {
class logger;
}

namespace cl::node {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kOff };

// "trace", "debug", "info", "warn", "error", "off"; INVALID_ARGUMENT otherwise.
Result<LogLevel> ParseLogLevel(std::string_view name);

// One key=value field. Integers, strong ids, strings and Status are accepted.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  template <typename T>
    requires std::is_integral_v<T>
  LogField(std::string_view k, T v) : key(k), value(std::to_string(v)) {}
  template <typename Tag, typename Rep>
  LogField(std::string_view k, StrongInt<Tag, Rep> v) : key(k), value(std::to_string(v.value())) {}
  LogField(std::string_view k, const Status& s) : key(k), value(s.ToString()) {}

  std::string_view key;
  std::string value;
};

class Logger {
 public:
  // Logs to stderr at kInfo with no base fields.
  Logger();
  // Logs to stderr at `level`.
  static Logger Stderr(LogLevel level);
  // Logs to `os` at `level` (tests); `os` must outlive every copy of the Logger.
  static Logger ToStream(std::ostream& os, LogLevel level);
  // Discards everything.
  static Logger Null();

  // A logger whose lines also carry `fields` (after the existing base fields).
  Logger With(std::initializer_list<LogField> fields) const;

  void SetLevel(LogLevel level);
  bool Enabled(LogLevel level) const;

  void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {}) const;
  void Trace(std::string_view e, std::initializer_list<LogField> f = {}) const { Log(LogLevel::kTrace, e, f); }
  void Debug(std::string_view e, std::initializer_list<LogField> f = {}) const { Log(LogLevel::kDebug, e, f); }
  void Info(std::string_view e, std::initializer_list<LogField> f = {}) const { Log(LogLevel::kInfo, e, f); }
  void Warn(std::string_view e, std::initializer_list<LogField> f = {}) const { Log(LogLevel::kWarn, e, f); }
  void Error(std::string_view e, std::initializer_list<LogField> f = {}) const { Log(LogLevel::kError, e, f); }

  // The text of one event line after the timestamp and level (exposed for tests).
  std::string Format(std::string_view event, std::initializer_list<LogField> fields) const;

 private:
  explicit Logger(std::shared_ptr<spdlog::logger> sink) : sink_(std::move(sink)) {}
  std::shared_ptr<spdlog::logger> sink_;  // null: discard
  std::string base_;                      // pre-rendered " k=v" base fields
};

}  // namespace cl::node
