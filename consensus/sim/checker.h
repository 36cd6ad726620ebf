// The invariant checker of the raft simulator (LogCabin/TigerBeetle style):
// fed every observable event of a simulated cluster, it checks the Raft safety
// properties after every step and returns the first violation as a Status.
//
// It keeps its own shadow of every node's log and hard state, both the
// node's current view (what the driver wrote) and what is durable (synced),
// so it needs nothing from the raft core but what the driver reports:
//
//   writes  OnWriteEntries / OnWriteHardState / OnWriteSnapshot  (volatile)
//   disk    OnSync (volatile -> durable), OnCrash (volatile lost)
//   wire    OnSend (before a message leaves), OnDeliver (when it arrives)
//   state   OnElected, OnObserve (role, term, commit, config after a step),
//           OnLeaderCommitDurable (after a leader's Ready is persisted)
//   apply   OnApply, OnRestoreSnapshot, OnConfApplied
//
// Invariants (Raft paper §5, Figure 3, and the thesis for membership):
//   election safety        at most one leader per term, ever
//   election quorum        a leader was granted votes by a quorum of *voters*
//                          (learners never count), in each half of a joint config
//   log matching           an (index, term) pair identifies the same entry and
//                          the same prefix on every node, at all times
//   leader completeness    a leader of term T holds every entry committed by a
//                          leader of a term < T
//   commit rule            a leader advances its commit index only onto an
//                          entry of its own term (§5.4.2: entries of earlier
//                          terms commit only indirectly, never by counting)
//   state machine safety   one canonical committed sequence: every node's log up
//                          to its commit index, and everything applied, is a
//                          prefix of it; it never changes once extended
//   no committed loss      no node truncates its log at or below its commit
//                          index; a leader's commit index is durable on a
//                          quorum of voters when the leader persists it
//   monotonicity           term and commit never decrease on a node (in memory
//                          within a run, durably across restarts); applied
//                          advances by exactly one (no gaps, no double apply)
//   persist before send    a message's term, a granted vote and an
//                          acknowledged append are durable on the sender
//                          before the message leaves (a leader's appends may
//                          leave first: "no committed loss" covers them)
//   membership             configurations change one step at a time (one voter,
//                          or entering/leaving a joint config with overlapping
//                          halves), voters and learners are disjoint, and every
//                          node reaches the same config at the same index
//
// Pure and deterministic; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/strong_types.h"
#include "consensus/log_storage.h"

namespace cl::consensus::sim {

// An entry as the checker sees it: term and a hash of (type, data).
struct EntryId {
  uint64_t term = 0;
  uint64_t content = 0;
  friend bool operator==(const EntryId&, const EntryId&) = default;
};

// 64-bit hash of an entry's type and data (not its index or term).
uint64_t ContentHash(const raft::Entry& e);
inline EntryId IdOf(const raft::Entry& e) { return {e.term(), ContentHash(e)}; }

// What the driver observed on a node at the end of a step.
struct NodeObservation {
  uint64_t term = 0;
  uint64_t commit = 0;
  bool leader = false;
  raft::ConfState conf;
};

class Checker {
 public:
  // Declares a node whose durable state is `log` (entries 1..n, all covered by
  // the durable hard state `hs`) with `applied` entries in its state machine.
  // A new node passes an empty log and applied 0. Entries 1..hs.commit of an
  // initial node are committed and join the canonical sequence.
  Status AddNode(NodeId id, const std::vector<EntryId>& log, const raft::HardState& hs,
                 uint64_t applied);

  // Volatile writes the driver makes from a Ready.
  Status OnWriteEntries(NodeId id, const std::vector<raft::Entry>& entries);
  Status OnWriteHardState(NodeId id, const raft::HardState& hs);
  // `prefix` is the whole log 1..index the snapshot stands for (decoded from
  // its data by the driver); the log after it is discarded.
  Status OnWriteSnapshot(NodeId id, uint64_t index, const std::vector<EntryId>& prefix);
  // Everything written so far is now durable.
  Status OnSync(NodeId id);
  // The node lost its volatile writes and its in-memory state.
  void OnCrash(NodeId id);

  // A message is about to leave `m.from()`.
  Status OnSend(const raft::Message& m);
  // A message reached its receiver (before Step).
  void OnDeliver(const raft::Message& m);

  // The node became leader of `term` with configuration `conf` (the one it
  // counted votes in) and commit index `commit` (inherited, not decided).
  Status OnElected(NodeId id, uint64_t term, const raft::ConfState& conf, uint64_t commit);
  // End-of-step state of a running node.
  Status OnObserve(NodeId id, const NodeObservation& obs);
  // A leader of `term` persisted commit index `commit`, decided with one of
  // `confs` (the configs in force since its previous Ready).
  Status OnLeaderCommitDurable(NodeId id, uint64_t term, uint64_t commit,
                               const std::vector<raft::ConfState>& confs);

  // The state machine applied entry `index`.
  Status OnApply(NodeId id, uint64_t index, const EntryId& e);
  // The state machine was replaced by a snapshot at `index` (already written
  // with OnWriteSnapshot, or read back from the durable disk at restart).
  Status OnRestoreSnapshot(NodeId id, uint64_t index);
  // The node applied the configuration change at `index`, going from `before`
  // to `after`.
  Status OnConfApplied(NodeId id, uint64_t index, const raft::ConfState& before,
                       const raft::ConfState& after);

  // The canonical committed sequence so far (index i at [i - 1]).
  const std::vector<EntryId>& canonical() const { return canon_; }
  uint64_t applied(NodeId id) const;
  // Highest term that had a leader, 0 if none.
  uint64_t max_leader_term() const;

 private:
  struct Log {
    std::vector<EntryId> ents;     // index i at [i - 1]
    std::vector<uint64_t> prefix;  // hash of entries 1..i at [i - 1]
    raft::HardState hs;
    uint64_t last() const { return ents.size(); }
    uint64_t PrefixAt(uint64_t i) const { return i == 0 ? 0 : prefix[i - 1]; }
  };
  struct Op {  // a volatile write, replayed on the durable log at sync
    enum Kind { kEntries, kHardState, kSnapshot } kind;
    uint64_t index = 0;  // first entry index, or snapshot index
    std::vector<EntryId> ents;
    raft::HardState hs;
  };
  struct Node {
    Log view, durable;
    std::vector<Op> pending;
    uint64_t obs_term = 0, obs_commit = 0;
    uint64_t applied = 0;
    bool leader = false;
    uint64_t leader_term = 0;    // the term of the last OnElected
    uint64_t leader_commit = 0;  // the commit index it last decided as leader
  };

  Node* Find(NodeId id);
  const Node* Find(NodeId id) const;
  // Appends ents at index `first`, truncating any suffix of `log` from there.
  static void Splice(Log* log, uint64_t first, const std::vector<EntryId>& ents);
  static void Apply(Log* log, const Op& op);
  // Checks the (index, term) -> prefix map for entries first.. of `log`.
  Status CheckMatching(NodeId id, const Log& log, uint64_t first);
  // Checks that log entries 1..c are canonical, extending the sequence.
  Status Canonicalize(NodeId id, const Log& log, uint64_t c, const char* what);
  bool HasCanonicalPrefix(const Log& log, uint64_t c) const;
  bool QuorumDurable(const std::vector<uint64_t>& voters, uint64_t commit) const;
  Status Violation(const std::string& msg) const;

  std::map<uint64_t, Node> nodes_;
  std::vector<EntryId> canon_;
  std::vector<uint64_t> canon_prefix_;
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> matching_;           // (index, term) -> prefix
  std::map<uint64_t, uint64_t> leader_of_term_;                          // term -> node
  std::map<uint64_t, uint64_t> max_commit_by_term_;                      // leader term -> commit
  std::map<std::pair<uint64_t, uint64_t>, std::set<uint64_t>> granted_;  // (cand, term) -> voters
  std::map<uint64_t, raft::ConfState> conf_at_index_;                    // applied config changes
};

// Sorted copies of a config's sets, for comparisons.
struct ConfSets {
  std::vector<uint64_t> voters, learners, outgoing, learners_next;
  friend bool operator==(const ConfSets&, const ConfSets&) = default;
};
ConfSets Normalize(const raft::ConfState& cs);
std::string ConfToString(const raft::ConfState& cs);

}  // namespace cl::consensus::sim
