#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace cl::internal {

void CheckFailed(const char* file, int line, std::string_view cond, std::string_view msg) {
  std::fprintf(stderr, "FATAL %s:%d: check failed: %.*s%s%.*s\n", file, line,
               static_cast<int>(cond.size()), cond.data(), msg.empty() ? "" : ": ",
               static_cast<int>(msg.size()), msg.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace cl::internal
