// Invariant checks that stay on in release builds.
//
// CL_CHECK(cond, msg) crashes the process with file, line, the condition and
// msg when cond is false. Use it for broken invariants and impossible states,
// never for bad input (which gets a Status). CL_DCHECK is the same but only in
// debug and sanitizer builds, for checks too costly for a hot path.
#pragma once

#include <string_view>

namespace cl::internal {
[[noreturn]] void CheckFailed(const char* file, int line, std::string_view cond,
                              std::string_view msg);
}  // namespace cl::internal

#define CL_CHECK(cond, ...)                                                       \
  do {                                                                            \
    if (!(cond)) [[unlikely]]                                                     \
      ::cl::internal::CheckFailed(__FILE__, __LINE__, #cond, ::std::string_view{__VA_ARGS__}); \
  } while (0)

#define CL_CHECK_EQ(a, b, ...) CL_CHECK((a) == (b), __VA_ARGS__)
#define CL_CHECK_LE(a, b, ...) CL_CHECK((a) <= (b), __VA_ARGS__)
#define CL_CHECK_LT(a, b, ...) CL_CHECK((a) < (b), __VA_ARGS__)

// Marks code that must never run.
#define CL_UNREACHABLE(msg) ::cl::internal::CheckFailed(__FILE__, __LINE__, "unreachable", msg)

#if !defined(NDEBUG) || defined(CL_SANITIZE)
#define CL_DCHECK(cond, ...) CL_CHECK(cond, __VA_ARGS__)
#else
#define CL_DCHECK(cond, ...) \
  do {                       \
  } while (0)
#endif
