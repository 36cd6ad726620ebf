// The node's HTTP API (docs/openapi.yaml): routes registered on an
// http::Router, served by http::HttpServer.
//
// Reads are served from the local store (on the server's I/O threads: they
// are short RocksDB reads); `?consistency=linearizable` first obtains a
// ReadIndex from the leader. Writes go through Node::Submit; with
// `?wait=commit` the answer is sent from the apply path once the tx is
// applied here. /v1/events streams blocks as server-sent events from a pump
// thread, never from the raft thread.
//
// Private reads (/v1/holders/{ref}/...) need a signed request:
//   X-Certledger-Signer:    hex public key
//   X-Certledger-Timestamp: Unix ms, within ±5 minutes of the node's clock
//   X-Certledger-Signature: hex suite.Sign(key, "certledger/read/v1\0" ||
//                           METHOD || "\n" || target || "\n" || timestamp)
// by the holder's registered key, an active agent of the holder, or a member
// of a department holding an active authorization from the holder.
//
// Thread-safety: an Api is used by the server's threads concurrently.
// Lifetimes: the Node and the MetricsRegistry must outlive the Api.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "node/http/router.h"
#include "node/metrics.h"
#include "node/node.h"

namespace cl::node {

struct ApiOptions {
  uint32_t default_wait_ms = 10'000;    // ?wait=commit without timeout_ms
  uint32_t max_wait_ms = 60'000;        // cap on timeout_ms
  uint32_t read_index_timeout_ms = 3'000;
  uint32_t max_event_streams = 64;      // concurrent /v1/events clients
  uint32_t max_blocks_per_event_round = 256;
  int64_t signed_read_skew_ms = 300'000;
  std::string version = "0.1.0";
};

class Api {
 public:
  Api(Node& node, MetricsRegistry& metrics, ApiOptions options = {});
  ~Api();  // stops the event pump and closes the streams
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Registers every route of docs/openapi.yaml.
  void Register(http::Router& router);
  // The (method, pattern) pairs Register installs, for the openapi test.
  static std::vector<std::pair<std::string, std::string>> Routes();

  // Stops the event pump and ends every stream (call before the server stops).
  void Shutdown();

 private:
  struct Stream;
  void PumpLoop();
  void UpdateGauges();

  Node& node_;
  MetricsRegistry& metrics_;
  const ApiOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, std::shared_ptr<Stream>> streams_;
  uint64_t next_stream_ = 1;
  uint64_t notifier_sub_ = 0;
  bool wake_ = false;
  bool stop_ = false;
  std::thread pump_;
};

}  // namespace cl::node
