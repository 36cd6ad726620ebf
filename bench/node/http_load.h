// An HTTP/1.1 load driver for benchmarks: many keep-alive connections on one
// epoll loop per thread, driving pre-rendered requests closed-loop (each
// connection sends its next request when the previous answer arrived) or
// open-loop (requests are due at a fixed rate; latency is measured from the
// due time, so a stalled server is not hidden by the client waiting —
// no coordinated omission). Plain TCP to 127.0.0.1-style endpoints; answers
// with Content-Length or chunked bodies. Not a general client: no TLS, no
// redirects, no pipelining.
//
// Thread-safety: RunLoad may be called from one thread at a time; it starts
// `threads` worker threads and joins them before returning.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace cl::bench {

// A latency histogram with ~1% resolution from 1 µs to ~1 h (log-linear
// buckets). Mergeable; not thread-safe.
class LatencyHistogram {
 public:
  void Record(uint64_t ns);
  void Merge(const LatencyHistogram& other);
  uint64_t count() const { return count_; }
  // The q-quantile (0 < q <= 1) in nanoseconds (upper bucket bound); 0 if empty.
  uint64_t Quantile(double q) const;
  uint64_t max_ns() const { return max_ns_; }
  double mean_ns() const { return count_ == 0 ? 0 : static_cast<double>(sum_ns_) / static_cast<double>(count_); }

 private:
  static size_t Bucket(uint64_t ns);
  static uint64_t BucketUpper(size_t b);
  std::vector<uint64_t> buckets_ = std::vector<uint64_t>(64 * 128, 0);
  uint64_t count_ = 0, max_ns_ = 0, sum_ns_ = 0;
};

struct Endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
};
// "http://host:port" → Endpoint. INVALID_ARGUMENT otherwise.
Result<Endpoint> ParseUrl(const std::string& url);

// One pre-rendered request: its full bytes (request line, headers, body).
struct RenderedRequest {
  std::string bytes;
};
// Renders `method target` with a body for `host:port` (keep-alive).
RenderedRequest RenderRequest(const std::string& method, const std::string& target, const Endpoint& ep,
                              const std::string& body = "", const std::string& content_type = "",
                              const std::string& accept = "");

struct LoadOptions {
  std::vector<Endpoint> endpoints;  // connections are spread round-robin over them
  uint32_t connections = 1;         // total, over all threads
  uint32_t threads = 1;             // epoll loops (each owns connections / threads)
  double duration_s = 5;            // measured window (after warmup)
  double warmup_s = 0;              // answers in the warmup are not counted
  double rate_per_s = 0;            // > 0: open loop at this total rate; 0: closed loop
  uint32_t timeout_ms = 60'000;     // a request older than this fails the run
};

// The requests to send: `next(thread, endpoint_index)` returns the index of
// the next request for a connection to that endpoint, or -1 when there are no
// more (the run ends early once every connection is idle). `request(i)` is the
// rendered request; `check(i, status, body)` says whether the answer counts as
// a success (it is called on the worker thread; make it thread-safe).
struct RequestSource {
  std::function<int64_t(uint32_t endpoint)> next;
  std::function<const RenderedRequest&(int64_t index)> request;
  std::function<bool(int64_t index, int status, const std::string& body)> check;
};

struct LoadResult {
  uint64_t ok = 0;        // successful answers in the measured window
  uint64_t failed = 0;    // answers `check` refused, in the window
  uint64_t sent = 0;      // requests sent in total (incl. warmup)
  double window_s = 0;    // actual measured window (shorter if requests ran out)
  LatencyHistogram latency;  // of successful answers in the window
  std::string first_failure;  // status and body of the first refused answer
  double ok_per_s() const { return window_s > 0 ? static_cast<double>(ok) / window_s : 0; }
};

// Runs the load. UNAVAILABLE if a connection cannot be (re)established,
// DEADLINE_EXCEEDED if a request outlives timeout_ms.
Result<LoadResult> RunLoad(const LoadOptions& options, const RequestSource& source);

}  // namespace cl::bench
