#include "base/status.h"

namespace cl {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: return "INVALID_ARGUMENT";
    case Code::kNotFound: return "NOT_FOUND";
    case Code::kAlreadyExists: return "ALREADY_EXISTS";
    case Code::kPermissionDenied: return "PERMISSION_DENIED";
    case Code::kUnauthenticated: return "UNAUTHENTICATED";
    case Code::kFailedPrecondition: return "FAILED_PRECONDITION";
    case Code::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case Code::kUnavailable: return "UNAVAILABLE";
    case Code::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case Code::kAborted: return "ABORTED";
    case Code::kOutOfRange: return "OUT_OF_RANGE";
    case Code::kCorruption: return "CORRUPTION";
    case Code::kIoError: return "IO_ERROR";
    case Code::kCompacted: return "COMPACTED";
    case Code::kLogUnavailable: return "LOG_UNAVAILABLE";
    case Code::kUnimplemented: return "UNIMPLEMENTED";
    case Code::kInternal: return "INTERNAL";
  }
  return "UNKNOWN";
}

std::string Status::ToString() const {
  std::string out(CodeName(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += message_;
  return Status(code_, std::move(msg));
}

std::ostream& operator<<(std::ostream& os, const Status& s) { return os << s.ToString(); }

Status InvalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
Status AlreadyExists(std::string msg) { return {Code::kAlreadyExists, std::move(msg)}; }
Status PermissionDenied(std::string msg) { return {Code::kPermissionDenied, std::move(msg)}; }
Status Unauthenticated(std::string msg) { return {Code::kUnauthenticated, std::move(msg)}; }
Status FailedPrecondition(std::string msg) { return {Code::kFailedPrecondition, std::move(msg)}; }
Status ResourceExhausted(std::string msg) { return {Code::kResourceExhausted, std::move(msg)}; }
Status Unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
Status DeadlineExceeded(std::string msg) { return {Code::kDeadlineExceeded, std::move(msg)}; }
Status Aborted(std::string msg) { return {Code::kAborted, std::move(msg)}; }
Status OutOfRange(std::string msg) { return {Code::kOutOfRange, std::move(msg)}; }
Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
Status IoError(std::string msg) { return {Code::kIoError, std::move(msg)}; }
Status Internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }
Status Unimplemented(std::string msg) { return {Code::kUnimplemented, std::move(msg)}; }

}  // namespace cl
