// HTTP/1.1 server (Boost.Beast behind a pimpl; this header is light).
//
// Keep-alive, a Router, limits against oversized and slow clients, JSON
// errors with stable codes, per-route metrics, asynchronous handlers and
// streaming responses.
//
// Threads. `io_threads` threads run the sockets. Each connection is served on
// its own strand: its handler runs on an I/O thread, one request at a time per
// connection, many connections in parallel. A handler must not block: it may
// answer at once or move the Responder to another thread (e.g. hand a write to
// the raft thread) and answer from there. A handler that has not answered
// within handler_timeout_ms gets 504 DEADLINE_EXCEEDED sent for it.
//
// Errors. Every error body is {"code": "<Status code name>", "message": "...",
// "http_status": N}: unknown route 404 NOT_FOUND; wrong method 405
// INVALID_ARGUMENT with Allow; malformed request 400 INVALID_ARGUMENT; body
// over the limit 413 RESOURCE_EXHAUSTED; URL over the limit 414
// RESOURCE_EXHAUSTED; headers over the limit 431 RESOURCE_EXHAUSTED; request
// not read in time 408 DEADLINE_EXCEEDED; too many connections 503
// UNAVAILABLE. After any of these protocol errors the connection is closed.
//
// Metrics (if a registry is given):
//   certledger_http_requests_total{method,route,status}        counter
//   certledger_http_request_duration_seconds{method,route,status} histogram
//     (from the end of the request headers to the response written; for a
//     stream, to its headers written)
//   certledger_http_connections_rejected_total                  counter
//   certledger_http_connections_open                            gauge
// `route` is the matched pattern, "unmatched" for 404s and protocol errors.
//
// Shutdown. Stop stops accepting, closes idle keep-alive connections at once,
// lets requests in flight finish (their responses carry Connection: close) for
// up to shutdown_grace_ms, ends streams, then closes everything and joins the
// threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "node/http/router.h"
#include "node/http/types.h"
#include "node/log.h"

namespace cl::node {
class MetricsRegistry;
}

namespace cl::node::http {

// Limits, with their defaults. All are enforced per connection or request.
struct HttpLimits {
  uint32_t max_header_bytes = 16 << 10;        // request line + headers; over: 431
  uint32_t max_body_bytes = 1 << 20;           // request body; over: 413
  uint32_t max_url_bytes = 4096;               // request target; over: 414
  uint32_t max_connections = 512;              // open at once; over: 503 and close
  uint32_t idle_timeout_ms = 60000;            // keep-alive wait for the next request (a new
                                               // connection waits read_header_timeout_ms)
  uint32_t read_header_timeout_ms = 10000;     // first byte to end of headers (slowloris)
  uint32_t request_timeout_ms = 30000;         // reading the body; writing a response
  uint32_t handler_timeout_ms = 30000;         // handler to answer; over: 504
  uint32_t max_stream_buffer_bytes = 4 << 20;  // queued stream data per client
  uint32_t shutdown_grace_ms = 5000;           // Stop waits this long for requests in flight
};

struct HttpServerOptions {
  std::string listen_address = "127.0.0.1:8080";  // "ip:port"; port 0 picks a free port
  uint32_t io_threads = 2;
  HttpLimits limits{};
  Logger log{};
  // Optional; must outlive the server.
  MetricsRegistry* metrics = nullptr;
  std::string server_name = "certledger";
};

class HttpServer {
 public:
  // Validates the options and binds the listening socket (a busy port is
  // reported here). Serves nothing until Start.
  static Result<std::unique_ptr<HttpServer>> Create(HttpServerOptions options, Router router);
  ~HttpServer();  // Stops if running.
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void Start();
  // Graceful stop (see above). Idempotent. Responders still held by handlers
  // become no-ops.
  void Stop();

  uint16_t port() const;

  class Impl;  // implementation detail (server.cc)

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Validates HttpLimits: every value positive. INVALID_ARGUMENT naming the field.
Status ValidateHttpLimits(const HttpLimits& limits);

}  // namespace cl::node::http
