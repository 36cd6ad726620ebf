// A department node: the ledger, the raft driver, the peer transport, the
// mempool and commit certificates wired together in one place. The HTTP API
// (node/api.h) and main.cc sit on top of it.
//
// Lifecycle: Create (opens the store, binds the peer port) → Start → ... →
// Stop (graceful: stops raft, fails waiters, closes links). No singletons: a
// process may run several Nodes (the in-process cluster tests do).
//
// Thread-safety: every public method is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/strong_types.h"
#include "crypto/suite.h"
#include "node/commit_certs.h"
#include "node/ledger.h"
#include "node/log.h"
#include "node/mempool.h"
#include "node/raft_driver.h"
#include "node/snapshots.h"
#include "node/waiters.h"

namespace certledger::v1 {
class Genesis;
}  // namespace certledger::v1

namespace cl::node {

class Transport;
struct TransportStats;

struct NodeSetup {
  NodeId id;
  std::shared_ptr<const certledger::v1::Genesis> genesis;
  Bytes genesis_bytes;             // the genesis file, exactly (its hash is the genesis hash)
  crypto::SecretKey node_key;      // must match the genesis NodeInfo.public_key of `id`
  std::string data_dir;
  std::string peer_listen = "127.0.0.1:0";  // host:port; port 0 picks a free one
  // Peer addresses override genesis NodeInfo.peer_address (id → host:port).
  std::vector<std::pair<NodeId, std::string>> peer_addresses;
  RaftDriverOptions raft;          // id and log are filled in by Create
  MempoolOptions mempool;
  LedgerOptions ledger;            // data_dir is filled in by Create
  size_t max_waiters = 10'000;
  Logger log;
};

// What Submit answers.
struct SubmitResult {
  crypto::Digest tx_id;
  bool forwarded = false;             // sent on to the leader
  std::optional<TxOutcome> outcome;   // with wait: the receipt once applied here
};

class Node {
 public:
  static Result<std::unique_ptr<Node>> Create(NodeSetup setup);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  void Start();
  void Stop();

  // Admits a serialized SignedTx (CheckTx at the door) and hands it to the
  // leader — this node's mempool if it leads, else forwarded. With
  // wait_until, `done` is called once the tx is applied on this node (or the
  // deadline passes); without, as soon as it is accepted. Rejections carry a
  // RejectReason name in the message (see mempool.h).
  void Submit(Bytes raw_tx, std::optional<std::chrono::steady_clock::time_point> wait_until,
              std::function<void(Result<SubmitResult>, std::optional<RejectReason>)> done);

  const Ledger& ledger() const { return *ledger_; }
  RaftDriver& driver() { return *driver_; }
  const Mempool& mempool() const { return *mempool_; }
  BlockNotifier& blocks_notifier() { return notifier_; }
  TxWaiters& waiters() { return *waiters_; }
  NodeId id() const { return id_; }
  uint16_t peer_port() const;
  // The voters and keys commit certificates are checked against, and the quorum.
  const std::vector<SignerInfo>& voters() const { return voters_; }
  size_t cert_quorum() const { return voters_.size() / 2 + 1; }
  const certledger::v1::Genesis& genesis() const { return *genesis_; }
  const Logger& log() const { return log_; }
  SnapshotStats snapshot_stats() const { return snapshots_->stats(); }
  TransportStats transport_stats() const;
  // The HTTP address of a node as registered (genesis or governance); empty if unknown.
  std::string http_address_of(NodeId id) const;

 private:
  Node() = default;
  void OnPeerPayload(NodeId from, uint8_t channel, Bytes payload);
  void OnBlock(const AppliedBlock& b);
  void OnSoftState(const consensus::SoftState& ss);
  void AdmitLocal(AdmittedTx tx, const std::function<void(std::optional<Rejection>)>& done);
  void SendRaft(const certledger::raft::Message& m);
  // Answers the clients waiting for tx `id` if it is applied here.
  void ResolveIfApplied(const crypto::Digest& id);
  // Adds peers registered on chain after genesis (governance) to the transport.
  void RefreshPeers();

  NodeId id_;
  Logger log_;
  std::shared_ptr<const certledger::v1::Genesis> genesis_;
  crypto::SecretKey node_key_;
  AdmissionParams admission_;
  std::vector<SignerInfo> voters_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<Mempool> mempool_;
  std::unique_ptr<TxWaiters> waiters_;
  BlockNotifier notifier_;
  std::unique_ptr<CommitCertCollector> certs_;
  std::unique_ptr<SnapshotManager> snapshots_;
  std::unique_ptr<Transport> transport_;
  mutable std::mutex peers_mu_;
  std::map<NodeId, std::pair<Bytes, std::string>> known_peers_;  // id -> (key, peer address)
  std::map<NodeId, std::string> http_addresses_;
  std::unique_ptr<RaftDriver> driver_;
  std::thread sweeper_;
  std::atomic<bool> stopping_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool started_ = false;
};

// Wall-clock milliseconds since the Unix epoch (the node's only clock reading
// that enters the ledger: the leader stamps batches with it).
int64_t WallClockMs();

}  // namespace cl::node
