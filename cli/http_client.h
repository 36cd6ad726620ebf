// A small blocking HTTP/1.1 client for the CLI and the tests: one request per
// connection (Connection: close), Content-Length or chunked bodies, a total
// time limit and a response size limit. Plain TCP to host:port (nodes serve
// HTTP on loopback or behind the department's TLS terminator).
//
// Thread-safety: the functions are reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <functional>

#include "base/status.h"

namespace cl::client {

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  // The first header `name` (lower-case), or "" if absent.
  std::string Header(std::string_view name) const;
};

struct HttpRequestOptions {
  uint32_t timeout_ms = 10'000;                 // connect + send + receive
  size_t max_response_bytes = size_t{64} << 20;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Sends one request to `base_url` ("http://host:port", no path) + `target`
// ("/v1/status?x=1"). UNAVAILABLE if the node cannot be reached,
// DEADLINE_EXCEEDED on timeout, CORRUPTION on a malformed response,
// RESOURCE_EXHAUSTED over max_response_bytes. Any HTTP status is a response.
Result<HttpResponse> HttpRequest(const std::string& base_url, const std::string& method,
                                 const std::string& target, const std::string& body = "",
                                 const std::string& content_type = "application/json",
                                 const HttpRequestOptions& options = {});

// Reads a text/event-stream response and calls on_event(id, data) for each
// event until on_event returns false, the stream ends, or timeout_ms passes.
Status HttpEventStream(const std::string& base_url, const std::string& target, uint32_t timeout_ms,
                       const std::function<bool(const std::string& id, const std::string& data)>& on_event);

}  // namespace cl::client
