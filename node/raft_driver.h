// The raft driver: runs one node's raft core on a thread of its own.
//
// It ticks the core, feeds it peer messages and proposals, and handles each
// Ready in the order raft requires (persist → send → apply → advance):
//   1. entries and hard state are written to the store's raft log (synced
//      when the Ready says so) — a failed write stops the driver: the node
//      stops accepting writes rather than pretend;
//   2. only then are the messages handed to the transport — except a
//      leader's appends and heartbeats, which leave before its own write so
//      that it overlaps the followers' (consensus::TakeMessagesSendableBeforePersist);
//   3. committed entries are applied through the Ledger (blocks, conf changes);
//   4. Advance().
// Executing ahead: when a Ready carries the next entry to apply and nothing
// to apply before it, a helper thread (cl-prepare) runs the block's
// signature checks and contracts (Ledger::Prepare) while the entry's raft-log
// write is in flight, so at commit only the block's write remains. Meanwhile
// the raft thread only writes the raft log and sends messages (the Store is
// thread-safe; no state or block is written); it waits for the helper before
// it leaves the Ready, so Prepare never overlaps ApplyEntry.
// As leader it cuts batches from the mempool adaptively: whenever fewer than
// max_inflight_batches proposals are waiting to be applied, the pending
// transactions (up to max_batch_txs / max_batch_bytes) are proposed at once —
// so a lone transaction is proposed immediately, and under load transactions
// pile up behind the in-flight batches and the next batch is full.
//
// Thread-safety: every public method may be called from any thread. Callbacks
// (`done`, hooks) run on the driver thread and must not block.
// Lifetimes: the Ledger and Mempool must outlive the driver.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <variant>
#include <vector>

#include "base/status.h"
#include "base/strong_types.h"
#include "consensus/raft.h"
#include "node/ledger.h"
#include "node/log.h"
#include "node/mempool.h"
#include "node/metrics.h"

namespace cl::storage {
class SnapshotInstaller;
}  // namespace cl::storage

namespace cl::node {

struct RaftDriverOptions {
  NodeId id;
  uint32_t tick_ms = 100;               // one raft tick
  int election_ticks = 10;              // election timeout, randomized in [e, 2e) ticks
  int heartbeat_ticks = 1;
  size_t max_batch_txs = 2000;          // per proposed batch
  size_t max_batch_bytes = 4u << 20;    // per proposed batch (at least one tx)
  size_t max_inflight_batches = 2;      // proposed, not yet applied
  uint64_t random_seed = 0;             // election jitter; 0 = derive from the node id
  // Log compaction: every snapshot_interval_entries applied entries a
  // checkpoint is made (hooks.make_snapshot) and the log is compacted to
  // compaction_keep_entries behind it. 0 = never.
  uint64_t snapshot_interval_entries = 10000;
  uint64_t compaction_keep_entries = 5000;
  // Where apply latency, batch sizes and persist latency are observed
  // (certledger_apply_seconds, certledger_block_txs,
  // certledger_raft_persist_seconds, certledger_blocks_prepared_total);
  // nullptr = not observed. Must outlive the driver.
  MetricsRegistry* metrics = nullptr;
  Logger log;
};

// What /v1/status and /metrics show; a consistent copy.
struct DriverStatus {
  NodeId id;
  NodeId leader;
  consensus::StateRole role = consensus::StateRole::kFollower;
  RaftTerm term;
  RaftIndex commit;
  RaftIndex applied;
  Height height;
  std::vector<uint64_t> voters;
  std::vector<uint64_t> learners;
  Status failure;        // set if the driver stopped on a write failure
  uint64_t batches_proposed = 0;
  uint64_t txs_proposed = 0;
  RaftIndex first_log_index;     // entries before it are compacted
  RaftIndex snapshot_index;      // the newest checkpoint (0 if none)
  uint64_t snapshots_installed = 0;
};

class RaftDriver {
 public:
  struct Hooks {
    // Hands a message to the transport. Non-blocking, thread-safe.
    std::function<void(const certledger::raft::Message&)> send;
    // A block was applied and is durable. On the driver thread.
    std::function<void(const AppliedBlock&)> on_block;
    // The wall clock (ms) stamped on proposed batches; the only clock raft data carries.
    std::function<int64_t()> now_ms;
    // Leadership changed (on the driver thread); optional.
    std::function<void(const consensus::SoftState&)> on_soft_state;
    // Makes a checkpoint at the applied index and returns it; optional
    // (without it the log is never compacted).
    std::function<Result<RaftIndex>()> make_snapshot;
    // A snapshot was installed; the ledger is now at `height`. Optional.
    std::function<void(Height height)> on_snapshot_installed;
  };

  // Restores the raft core from the ledger's store (a new store holds the
  // genesis configuration, written by Ledger::Open).
  static Result<std::unique_ptr<RaftDriver>> Create(RaftDriverOptions options, Ledger& ledger,
                                                    Mempool& mempool, Hooks hooks);
  ~RaftDriver();  // Stops.
  RaftDriver(const RaftDriver&) = delete;
  RaftDriver& operator=(const RaftDriver&) = delete;

  void Start();
  // Finishes the Ready in hand and joins the thread. Idempotent.
  void Stop();

  // A raft message from a peer.
  void Receive(certledger::raft::Message m);
  // Transactions were added to the mempool: wake up and batch if leader.
  void NotifyPending();

  // A linearizable read point: `done` gets an index once this node has
  // applied at least that far (UNAVAILABLE without a leader, after timeout_ms).
  void ReadIndex(uint32_t timeout_ms, std::function<void(Result<RaftIndex>)> done);
  // Proposes a membership change; `done` when it is applied (or fails).
  void ChangeMembership(certledger::raft::ConfChange cc, uint32_t timeout_ms,
                        std::function<void(Status)> done);
  // Asks the leader to hand leadership to `to`; `done` when `to` leads.
  void TransferLeader(NodeId to, uint32_t timeout_ms, std::function<void(Status)> done);
  // Starts an election now (tests, operators).
  void Campaign();

  // The link to `peer` broke: raft stops streaming appends to it and probes
  // instead, so nothing piles up for a node that is down (etcd ReportUnreachable).
  void ReportUnreachable(NodeId peer);
  // The snapshot stream to `to` ended (sent, or failed): raft resumes
  // replication toward it (etcd ReportSnapshot).
  void ReportSnapshot(NodeId to, bool failed);
  // A snapshot received from the leader: verifies it, steps the MsgSnap and,
  // if raft restores from it, installs it into the store before anything of
  // the Ready that carries it is persisted. `done` gets the outcome (OK also
  // when raft needed nothing from it).
  void InstallSnapshot(certledger::raft::Message msg_snap,
                       std::unique_ptr<storage::SnapshotInstaller> installer,
                       std::function<void(Status)> done);

  DriverStatus status() const;

 private:
  struct PendingRead {
    Bytes ctx;
    uint64_t deadline_tick;
    std::function<void(Result<RaftIndex>)> done;
    RaftIndex index;  // set once the read state arrived
    bool ready = false;
  };
  struct PendingOp {
    uint64_t deadline_tick;
    std::function<void(Status)> done;
  };
  class AheadRunner;  // the cl-prepare thread
  using Command = std::variant<certledger::raft::Message, std::function<void()>>;

  RaftDriver(RaftDriverOptions options, Ledger& ledger, Mempool& mempool, Hooks hooks);
  void Run();
  void Post(std::function<void()> fn);
  void HandleReady();
  void ApplyCommitted(const std::vector<certledger::raft::Entry>& entries);
  void MaybePropose();
  void ExpireWaiters();
  void Fail(Status s);
  void RefreshStatus();
  Status StepSnapshot(const certledger::raft::Message& msg, std::unique_ptr<storage::SnapshotInstaller> inst);
  void MaybeCompact();

  const RaftDriverOptions options_;
  Ledger& ledger_;
  Mempool& mempool_;
  const Hooks hooks_;
  std::unique_ptr<consensus::RawNode> raw_;
  std::unique_ptr<AheadRunner> ahead_;  // created by Start, before the driver thread

  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Command> inbox_;
  bool stop_ = false;
  bool pending_hint_ = false;
  bool started_ = false;

  // Driver-thread state.
  uint64_t ticks_ = 0;
  uint64_t read_seq_ = 0;
  std::deque<PendingRead> reads_;
  std::map<uint64_t, PendingOp> conf_ops_;     // by proposal sequence
  std::vector<PendingOp> transfer_ops_;
  NodeId transfer_target_;
  uint64_t conf_seq_ = 0;
  consensus::StateRole role_ = consensus::StateRole::kFollower;  // as of the last Ready
  uint64_t durable_term_ = 0;  // term of the last persisted hard state
  size_t inflight_batches_ = 0;
  RaftIndex last_proposed_index_;
  bool failed_ = false;
  std::unique_ptr<storage::SnapshotInstaller> pending_install_;  // for the next Ready's snapshot
  RaftIndex snapshot_index_;  // newest checkpoint
  Histogram* apply_seconds_ = nullptr;
  Histogram* block_txs_ = nullptr;
  Histogram* persist_seconds_ = nullptr;
  Counter* blocks_prepared_ = nullptr;

  DriverStatus status_;  // guarded by mu_
};

}  // namespace cl::node
