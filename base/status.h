// Status and Result<T>: expected failures as values.
//
// Every fallible operation in certledger returns a Status (no value) or a
// Result<T> (a value or a Status). Exceptions never cross a module boundary;
// third-party errors (RocksDB, Beast, CLI11, protobuf) are converted at the edge.
//
// Codes are stable and machine-readable: the HTTP API and the CLI print
// CodeName(code) (e.g. "INVALID_ARGUMENT"), and scripts may rely on it.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/check.h"

namespace cl {

enum class Code : uint8_t {
  kOk = 0,
  kInvalidArgument,    // the caller sent something malformed or out of range
  kNotFound,           // the thing asked for does not exist
  kAlreadyExists,      // a create collided with an existing record
  kPermissionDenied,   // authenticated, but not allowed
  kUnauthenticated,    // missing or bad signature / handshake
  kFailedPrecondition, // the system is not in a state where this is allowed
  kResourceExhausted,  // a limit was hit (mempool full, too large, too many)
  kUnavailable,        // transiently unable (no leader, peer down); retry
  kDeadlineExceeded,   // timed out
  kAborted,            // a concurrent change won; retry from the start
  kOutOfRange,         // past the end of a sequence
  kCorruption,         // stored or received data failed an integrity check
  kIoError,            // the OS or the disk failed
  kCompacted,          // raft: the requested entries were compacted away
  kLogUnavailable,     // raft: the requested entries are not yet available
  kUnimplemented,      // not supported (yet)
  kInternal,           // a bug; should never be seen
};

// Stable upper-case name of a code, e.g. "NOT_FOUND".
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "NOT_FOUND: block 7" (or "OK").
  std::string ToString() const;

  // Returns a copy whose message is "context: message".
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status&, const Status&) = default;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

std::ostream& operator<<(std::ostream& os, const Status& s);

// Factories, named after the code: InvalidArgument("bad nonce").
Status InvalidArgument(std::string msg);
Status NotFound(std::string msg);
Status AlreadyExists(std::string msg);
Status PermissionDenied(std::string msg);
Status Unauthenticated(std::string msg);
Status FailedPrecondition(std::string msg);
Status ResourceExhausted(std::string msg);
Status Unavailable(std::string msg);
Status DeadlineExceeded(std::string msg);
Status Aborted(std::string msg);
Status OutOfRange(std::string msg);
Status Corruption(std::string msg);
Status IoError(std::string msg);
Status Internal(std::string msg);
Status Unimplemented(std::string msg);

// A value of T or a non-OK Status. Implicitly constructible from either, so a
// function returning Result<T> can `return value;` or `return NotFound(...);`.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : v_(value) {}                 // NOLINT(implicit)
  Result(T&& value) : v_(std::move(value)) {}           // NOLINT(implicit)
  Result(Status status) : v_(std::move(status)) {       // NOLINT(implicit)
    CL_CHECK(!std::get<Status>(v_).ok(), "Result constructed from an OK status");
  }
  template <typename U>
    requires(std::is_constructible_v<T, U &&> && !std::is_same_v<std::decay_t<U>, T> &&
             !std::is_same_v<std::decay_t<U>, Status>)
  Result(U&& value) : v_(T(std::forward<U>(value))) {}  // NOLINT(implicit)

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  // The error; Status::Ok() when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

  // Accessors crash loudly when no value is held (a broken invariant of the caller).
  T& value() & { Expect(); return std::get<T>(v_); }
  const T& value() const& { Expect(); return std::get<T>(v_); }
  T&& value() && { Expect(); return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return ok() ? std::get<T>(v_) : std::move(fallback); }

 private:
  void Expect() const {
    if (!ok()) cl::internal::CheckFailed(__FILE__, __LINE__, "Result::value() on error",
                                         std::get<Status>(v_).ToString());
  }
  std::variant<T, Status> v_;
};

namespace internal {
inline Status AsStatus(const Status& s) { return s; }
template <typename T>
Status AsStatus(const Result<T>& r) { return r.status(); }
}  // namespace internal

}  // namespace cl

#define CL_CONCAT_INNER_(a, b) a##b
#define CL_CONCAT_(a, b) CL_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status or Result) is an error.
#define CL_RETURN_IF_ERROR(expr)                                  \
  do {                                                            \
    if (auto cl_status_ = ::cl::internal::AsStatus(expr); !cl_status_.ok()) \
      return cl_status_;                                          \
  } while (0)

// `CL_ASSIGN_OR_RETURN(auto x, MakeX());` declares x from the Result's value, or
// returns its error from the enclosing function.
#define CL_ASSIGN_OR_RETURN(lhs, expr) \
  CL_ASSIGN_OR_RETURN_IMPL_(CL_CONCAT_(cl_result_, __LINE__), lhs, expr)
#define CL_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
