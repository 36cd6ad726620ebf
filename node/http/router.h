// Routes requests by method and path pattern. Pure: no sockets.
//
// A pattern is a path of '/'-separated segments, each literal ("blocks") or a
// capture ("{height}"): "/v1/blocks/{height}". When several patterns match a
// path, the one with a literal earliest where they differ wins, so
// "/v1/blocks/latest" beats "/v1/blocks/{height}" whatever the order of
// registration. Captures are percent-decoded.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "node/http/types.h"

namespace cl::node::http {

class Router {
 public:
  // Registers `handler` for `method` on `pattern`. A malformed pattern or a
  // duplicate (method, pattern) is a programming error and crashes.
  void Handle(std::string method, std::string pattern, Handler handler);

  struct Match {
    enum Kind { kFound, kNotFound, kMethodNotAllowed } kind = kNotFound;
    const Handler* handler = nullptr;            // kFound
    std::string pattern;                         // kFound
    std::map<std::string, std::string> params;   // kFound
    std::vector<std::string> allowed;            // kMethodNotAllowed: sorted methods
  };
  // Finds the handler for `method` and the raw (undecoded) `path`.
  Match Find(std::string_view method, std::string_view path) const;

  // Every registered (method, pattern), sorted (API documentation checks).
  std::vector<std::pair<std::string, std::string>> Registered() const;

  // Most segments a pattern may have (a longer path matches no route).
  static constexpr size_t kMaxSegments = 16;

 private:
  struct Segment {
    bool capture;
    std::string text;  // literal text or capture name
  };
  struct Route {
    std::string pattern;
    std::vector<Segment> segments;
    std::map<std::string, Handler, std::less<>> handlers;  // by method
  };
  std::vector<Route> routes_;
};

// Percent-decodes `s` ("a%20b" -> "a b"; with plus_is_space, '+' -> ' ').
// False on a malformed escape.
bool PercentDecode(std::string_view s, bool plus_is_space, std::string* out);
// Splits "a=1&b=x%20y" into decoded pairs; false on a malformed escape.
bool ParseQuery(std::string_view query, std::vector<std::pair<std::string, std::string>>* out);

}  // namespace cl::node::http
