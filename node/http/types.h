// HTTP request/response values and the Responder handed to handlers.
// No Beast here: handlers and their tests include only this header.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace cl::node::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;   // "GET", "POST", ...
  std::string target;   // as received: "/v1/blocks/7?proof=true"
  std::string path;     // target before '?', not decoded: "/v1/blocks/7"
  std::string route;    // the matched pattern: "/v1/blocks/{height}"
  std::map<std::string, std::string> params;  // {param} captures, percent-decoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  HeaderList headers;   // names lower-cased, in order
  std::string body;
  std::string remote;   // "ip:port" of the client

  // The first header `name` (case-insensitive), or nullptr.
  const std::string* Header(std::string_view name) const;
  // The first query value of `key`, or nullptr.
  const std::string* Query(std::string_view key) const;
  // The capture `name` of the matched route; "" if the route has none.
  const std::string& Param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  HeaderList headers;  // extra headers, e.g. {"Allow", "GET, POST"}

  static Response Json(int status, std::string body) { return {status, "application/json", std::move(body), {}}; }
  static Response Text(int status, std::string body) {
    return {status, "text/plain; charset=utf-8", std::move(body), {}};
  }
};

// The stable HTTP status of a Status code (the one place this mapping lives):
// INVALID_ARGUMENT/FAILED_PRECONDITION/OUT_OF_RANGE 400, UNAUTHENTICATED 401,
// PERMISSION_DENIED 403, NOT_FOUND 404, ALREADY_EXISTS/ABORTED 409,
// COMPACTED 410, RESOURCE_EXHAUSTED 429, UNIMPLEMENTED 501,
// UNAVAILABLE/LOG_UNAVAILABLE 503, DEADLINE_EXCEEDED 504, others 500.
int HttpStatusFor(Code code);

// {"code":"NOT_FOUND","message":"...","http_status":404}. `http_status` 0
// means HttpStatusFor(status.code()); protocol errors pass a more specific
// one (405, 413, 414, 415, 431, ...) while `code` stays a Status code name.
Response ErrorResponse(const Status& status, int http_status = 0);

// `s` as a JSON string literal, quotes included.
std::string JsonQuote(std::string_view s);

// A long-lived response body (server-sent events, /v1/events). Thread-safe.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Queues `data` to be sent as it is (one HTTP chunk). False once the stream
  // is closed: by Close, by the client going away, by the server stopping, or
  // because the client reads too slowly (more than max_stream_buffer_bytes
  // queued: the stream is then closed).
  virtual bool Write(std::string data) = 0;
  // Ends the stream after the queued data; idempotent.
  virtual void Close() = 0;
  virtual bool closed() const = 0;
};

// Where a Responder's answer goes: the connection (server.cc) or a fake in tests.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual void Respond(Response response) = 0;
  virtual std::shared_ptr<StreamWriter> StartStream(int status, std::string content_type) = 0;
};

// The one-shot answer to one request. Move-only; may be moved to another
// thread and used there. Exactly one of Respond/Error/StartStream takes
// effect; later calls are ignored. If it is destroyed unused, the client gets
// 500 INTERNAL, so a buggy handler can never hang a connection.
class Responder {
 public:
  explicit Responder(std::shared_ptr<ResponseSink> sink) : sink_(std::move(sink)) {}
  Responder(Responder&&) noexcept = default;
  Responder& operator=(Responder&&) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  void Respond(Response response);
  void Error(const Status& status, int http_status = 0) { Respond(ErrorResponse(status, http_status)); }
  // Sends the status line and headers now (chunked transfer encoding) and
  // returns the writer for the body. The connection closes when it ends.
  std::shared_ptr<StreamWriter> StartStream(int status = 200,
                                            std::string content_type = "text/event-stream");
  bool used() const { return sink_ == nullptr; }

 private:
  std::shared_ptr<ResponseSink> sink_;  // null once used
};

// A request handler. Runs on a server I/O thread: it must not block; slow
// work goes to another thread, which answers through the Responder.
using Handler = std::function<void(Request request, Responder responder)>;

}  // namespace cl::node::http
