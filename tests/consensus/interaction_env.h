// A small in-memory cluster of RawNodes driven step by step, for the
// scripted interaction tests (testdata/*.txt) and the paper tests.
//
// Nothing happens implicitly: a node handles its Ready only on ProcessReady
// (persist to its MemoryLogStorage, apply committed entries, queue messages,
// Advance), and messages move only on Deliver. Every action appends a
// readable trace to out(). Deterministic: node i uses random_seed i.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "consensus/memory_storage.h"
#include "consensus/raft.h"

namespace cl::consensus::testing {

struct NodeOptions {
  std::vector<uint64_t> voters;    // initial voters (default: the nodes added together)
  std::vector<uint64_t> learners;  // initial learners
  uint64_t index = 0;              // >0: start from a snapshot at this index (term 1)
  bool check_quorum = true;
  bool pre_vote = true;
  ReadOnlyOption read_only = ReadOnlyOption::kSafe;
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  int max_inflight_msgs = 256;
  uint64_t max_size_per_msg = 1 << 20;
  uint64_t max_inflight_bytes = 0;
  uint64_t max_uncommitted_entries_size = 64 << 20;
  TestingBugs bugs;
};

class InteractionEnv {
 public:
  struct Node {
    Config config;
    std::unique_ptr<MemoryLogStorage> storage;
    std::unique_ptr<RawNode> raw;
    std::vector<raft::Entry> applied;  // every committed entry applied, in order
    raft::ConfState conf_state;        // as of the last applied change
  };

  // Adds n nodes with the next ids; returns their ids.
  std::vector<uint64_t> AddNodes(int n, const NodeOptions& opts);
  bool Has(uint64_t id) const { return nodes_.contains(id); }
  Node& node(uint64_t id);
  RawNode& raw(uint64_t id) { return *node(id).raw; }
  std::vector<uint64_t> ids() const;

  // Handles one Ready of node id if it has one; returns whether it did.
  bool ProcessReady(uint64_t id);
  // Delivers queued messages addressed to id (dropped across a partition);
  // returns how many were taken from the queue.
  int Deliver(uint64_t id);
  // ProcessReady and Deliver on ids (all nodes if empty) until quiet.
  void Stabilize(const std::vector<uint64_t>& ids = {});
  // Drops queued messages matching from/to (0 = any); returns the count.
  int DropMessages(uint64_t from, uint64_t to);
  // Messages between different groups are dropped on delivery.
  void Partition(const std::vector<std::vector<uint64_t>>& groups);
  void Heal() { group_.clear(); }
  // Ticks until the node does something (follower) or for an election
  // timeout (leader).
  void TickElection(uint64_t id);
  void TickHeartbeat(uint64_t id);
  void Tick(uint64_t id, int n);
  // Makes a snapshot at index and compacts the log of node id.
  Status Compact(uint64_t id, uint64_t index);
  // Recreates node id's RawNode from its storage (a crash: unpersisted state is lost).
  Status Restart(uint64_t id);

  std::string RaftState() const;
  std::string RaftLog(uint64_t id) const;
  std::string ProgressStatus(uint64_t id) const;
  const std::vector<raft::Message>& queued() const { return queue_; }

  std::string& out() { return out_; }
  std::string TakeOutput() {
    std::string s = std::move(out_);
    out_.clear();
    return s;
  }
  // When quiet, ProcessReady/Deliver append nothing to out().
  void set_quiet(bool q) { quiet_ = q; }

 private:
  void Apply(Node& n, const std::vector<raft::Entry>& ents);
  bool Partitioned(uint64_t a, uint64_t b) const;
  void Print(const std::string& s) {
    if (!quiet_) out_ += s;
  }

  std::map<uint64_t, Node> nodes_;
  std::vector<raft::Message> queue_;
  std::map<uint64_t, int> group_;
  std::string out_;
  bool quiet_ = false;
};

}  // namespace cl::consensus::testing
