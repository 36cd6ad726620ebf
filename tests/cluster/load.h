// Load for cluster tests: concurrent clients that anchor certificates with
// ?wait=commit and read the chain, recording every operation in a History
// that the checker (checker.h) judges after the scenario.
//
// Writers. Each writer signs AnchorCertificate transactions with the
// PSB-issuer key (unique certificate ids, so every receipt is OK) and POSTs
// them to the nodes in turn. A transaction whose answer is not "committed"
// (timeout, refused, connection reset) is resubmitted — the same signed
// bytes — to the next node, up to `max_attempts` times: the ledger must not
// apply it twice. It is acknowledged once a node answers "committed" with a
// height; otherwise its outcome is unknown (it may or may not be applied).
//
// Readers. Each reader cycles through: the latest block with
// ?consistency=linearizable, the latest block from local state, and (when a
// write was acknowledged before the read began) that transaction with
// ?consistency=linearizable. Successful reads are recorded; failed reads
// (no leader, timeouts) are only counted.
//
// Thread-safety: Start/Stop/SetTargets from the test thread; history() after
// Stop (or a copy at any time).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/cluster/cluster.h"

namespace cl::cluster_testing {

struct WriteOp {
  enum class Outcome : uint8_t { kAcked, kUnknown };
  int client = 0;
  int64_t start_us = 0;
  int64_t end_us = 0;
  std::string tx_id;     // hex
  Outcome outcome = Outcome::kUnknown;
  uint64_t height = 0;   // acknowledged: the height the node answered
  int node = 0;          // acknowledged: the node that answered
  int attempts = 0;
};

struct ReadOp {
  enum class Kind : uint8_t { kLatestLinearizable, kLatestLocal, kTxLinearizable };
  Kind kind = Kind::kLatestLocal;
  int node = 0;
  int64_t start_us = 0;
  int64_t end_us = 0;
  uint64_t height = 0;   // the block read (kTx: the height the tx was found at)
  std::string hash;      // its hash (latest reads)
  std::string tx_id;     // kTxLinearizable: the tx asked for
  bool found = true;     // kTxLinearizable: 200 (false: 404)
};

struct History {
  std::vector<WriteOp> writes;
  std::vector<ReadOp> reads;
  uint64_t failed_reads = 0;
  uint64_t write_attempts_failed = 0;  // answers other than committed
};

struct LoadOptions {
  int writers = 4;
  int readers = 1;
  int max_attempts = 4;             // per transaction
  uint32_t commit_timeout_ms = 3000;  // ?wait=commit&timeout_ms=
  std::string tag = "load";         // prefix of certificate ids
};

class Load {
 public:
  Load(const Cluster& cluster, LoadOptions options);
  ~Load();  // Stops.
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  // The nodes the writers talk to (default: every node of the cluster),
  // e.g. the majority side of a partition. The last writer (when there are
  // several) and the readers always cycle through every node in `all`, so the
  // nodes cut off are asked too (they must neither acknowledge what is lost
  // nor serve a stale linearizable read).
  void SetTargets(std::vector<int> nodes);
  void SetAll(std::vector<int> nodes);
  void Start();
  void Stop();

  uint64_t acked() const { return acked_.load(); }
  // NowUs() of the latest acknowledgement (0: none yet).
  int64_t last_ack_us() const { return last_ack_us_.load(); }
  // Waits until `n` more writes are acknowledged than when called; the time
  // it took, or -1 after `timeout`.
  int64_t WaitAcks(uint64_t n, Ms timeout) const;
  // A probe write from the calling thread: one transaction submitted to
  // `nodes` in turn (short commit timeout) until one answers "committed".
  // Returns the milliseconds it took, or -1 after `timeout`. Recorded in the
  // history like any write (client -1).
  int64_t Probe(const std::vector<int>& nodes, Ms timeout, std::string* last_answer = nullptr);
  History history() const;

 private:
  struct Signed {
    std::string json;   // the SignedTx in JSON
    std::string tx_id;  // hex
  };
  Signed SignAnchor(const std::string& cert_id) const;
  // One POST ?wait=commit; true (and op filled in) if committed. Otherwise
  // `answer` (if set) says what came back instead.
  bool SubmitOnce(const std::string& json, int node, uint32_t timeout_ms, WriteOp* op,
                  std::string* answer = nullptr) const;
  void Record(WriteOp op, uint64_t failed_attempts);
  void Writer(int client);
  void Reader(int client);
  int Target(uint64_t k, bool roaming) const;

  const Cluster& cluster_;
  LoadOptions o_;
  crypto::KeyPair key_;
  std::string holder_ref_;
  mutable std::mutex mu_;
  std::vector<int> targets_;
  std::vector<int> all_;
  History history_;
  std::atomic<bool> stop_{true};
  std::atomic<uint64_t> acked_{0};
  std::atomic<int64_t> last_ack_us_{0};
  std::atomic<uint64_t> probes_{0};
  std::vector<std::thread> threads_;
};

}  // namespace cl::cluster_testing
