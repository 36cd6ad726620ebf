// The raft core: a pure state machine in the style of etcd's raft.
//
// It never touches a socket, a file, a thread, the clock or a random source of
// its own. The caller (node/ in production, the simulator in tests) drives it:
//
//   loop:
//     Tick() every tick interval; Step(msg) for each message received;
//     Propose()/ProposeConfChange()/ReadIndex()/TransferLeader() on request;
//     if (HasReady()) {
//       Ready rd = GetReady();
//       send TakeMessagesSendableBeforePersist(rd, role)   // a leader's appends
//       persist rd.snapshot, rd.entries and rd.hard_state (synced if rd.must_sync)
//       send rd.messages                 // only after the persist above
//       apply rd.committed_entries       // ApplyConfChange() for conf entries
//       Advance(rd);
//     }
//
// Thread-safety: none; one thread drives a RawNode.
// Lifetimes: the LogStorage passed in Config must outlive the RawNode.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/strong_types.h"
#include "consensus/log_storage.h"
#include "proto/raft.pb.h"

namespace cl::consensus {

// How ReadIndex requests are served (Raft thesis §6.4).
enum class ReadOnlyOption {
  kSafe,        // confirm leadership with a heartbeat round (default)
  kLeaseBased,  // rely on the leader lease; only allowed with check_quorum
};

// Test-only switches that re-introduce classic raft bugs, so tests can prove
// the simulator catches each of them. All false in production; Config::Validate
// refuses them unless allow_testing_bugs is set.
struct TestingBugs {
  bool commit_previous_term_by_counting = false;  // violates §5.4.2 (Figure 8)
  bool vote_without_log_check = false;            // violates §5.4.1 election restriction
  bool truncate_on_stale_append = false;          // a stale/reordered append truncates a matching suffix
  bool count_learner_in_quorum = false;           // learners must never count
  bool respond_before_persist = false;            // append responses sent before entries are durable
  bool any() const {
    return commit_previous_term_by_counting || vote_without_log_check ||
           truncate_on_stale_append || count_learner_in_quorum || respond_before_persist;
  }
};

struct Config {
  NodeId id;                         // required, non-zero
  LogStorage* storage = nullptr;     // required; borrowed, must outlive the node
  RaftIndex applied;                 // last index applied by the state machine (restart)

  int election_ticks = 10;           // follower timeout; randomized in [e, 2e)
  int heartbeat_ticks = 1;           // must be < election_ticks
  uint64_t random_seed = 0;          // seeds the election-timeout generator

  uint64_t max_size_per_msg = 1 << 20;              // bytes of entries in one MsgApp
  uint64_t max_committed_size_per_ready = 16 << 20; // bytes of committed entries per Ready
  uint64_t max_uncommitted_entries_size = 64 << 20; // leader refuses proposals beyond this
  int max_inflight_msgs = 256;                      // appends in flight per follower
  uint64_t max_inflight_bytes = 32 << 20;           // bytes in flight per follower (0 = no limit)

  bool check_quorum = true;          // leader steps down without a quorum of contact
  bool pre_vote = true;              // pre-vote phase (§9.6 of the thesis)
  ReadOnlyOption read_only = ReadOnlyOption::kSafe;
  bool disable_proposal_forwarding = false;  // followers drop proposals instead of forwarding

  TestingBugs bugs;                  // never set outside tests
  bool allow_testing_bugs = false;

  // INVALID_ARGUMENT naming the first bad field.
  Status Validate() const;
};

enum class StateRole { kFollower, kPreCandidate, kCandidate, kLeader };

struct SoftState {
  NodeId lead;        // 0 when unknown
  StateRole role = StateRole::kFollower;
  friend bool operator==(const SoftState&, const SoftState&) = default;
};

// The answer to a ReadIndex request: once the state machine has applied
// `index`, a read with `request_ctx` is linearizable.
struct ReadState {
  RaftIndex index;
  Bytes request_ctx;
};

struct Ready {
  std::optional<SoftState> soft_state;          // set when changed
  std::optional<raft::HardState> hard_state;    // set when changed; persist
  std::vector<ReadState> read_states;
  std::vector<raft::Entry> entries;             // persist before sending messages
  std::optional<raft::Snapshot> snapshot;       // persist/install before entries
  std::vector<raft::Entry> committed_entries;   // apply in order
  std::vector<raft::Message> messages;          // send after persisting
  bool must_sync = false;                       // entries/hard state need fsync
};

enum class ProgressState { kProbe, kReplicate, kSnapshot };

struct ProgressView {
  RaftIndex match;
  RaftIndex next;
  ProgressState state = ProgressState::kProbe;
  bool learner = false;
  bool recent_active = false;
  int inflight = 0;
};

// A snapshot of the node's state for status pages and tests.
struct RaftStatus {
  NodeId id;
  raft::HardState hard_state;
  SoftState soft_state;
  RaftIndex applied;
  NodeId lead_transferee;
  raft::ConfState conf_state;
  std::map<NodeId, ProgressView> progress;  // leader only
};

class RawNode {
 public:
  // Restores from config.storage (hard state, conf state, log). The initial
  // membership of a new network is written to the storage (ConfState) by the
  // caller before Create.
  static Result<std::unique_ptr<RawNode>> Create(Config config);
  virtual ~RawNode() = default;

  virtual void Tick() = 0;
  // Starts an election now (MsgHup), with pre-vote if configured.
  virtual void Campaign() = 0;
  // Appends data to the log if leader, forwards it to the leader if follower.
  // UNAVAILABLE when there is no leader (or forwarding is disabled),
  // RESOURCE_EXHAUSTED over max_uncommitted_entries_size, ABORTED during a
  // leader transfer.
  virtual Status Propose(Bytes data) = 0;
  // Like Propose, for a membership change. FAILED_PRECONDITION while another
  // change is pending or not yet applied, or when the change is unsafe.
  virtual Status ProposeConfChange(const raft::ConfChange& cc) = 0;
  // Applies a committed configuration change; returns the new configuration.
  virtual raft::ConfState ApplyConfChange(const raft::ConfChange& cc) = 0;
  // Feeds a message from a peer (or a local one). Errors on messages for
  // another node or of an unknown type; they never change state.
  virtual Status Step(const raft::Message& m) = 0;
  // Requests a linearizable read point; answered in a later Ready's read_states.
  virtual void ReadIndex(Bytes request_ctx) = 0;
  virtual void TransferLeader(NodeId transferee) = 0;
  // A follower forgets the leader it can no longer hear (so it may vote).
  virtual void ForgetLeader() = 0;
  // The transport could not reach `id`: the leader stops streaming appends
  // to it and probes again.
  virtual void ReportUnreachable(NodeId id) = 0;
  // The transport finished sending a MsgSnap to `id` (failed: it did not).
  // A leader keeps a follower in snapshot state, sending it nothing, until
  // the follower acknowledges the snapshot or this is called: the transport
  // must report every MsgSnap it drops.
  virtual void ReportSnapshot(NodeId id, bool failed) = 0;

  virtual bool HasReady() const = 0;
  // Requires that the previous Ready was Advance()d (checked).
  virtual Ready GetReady() = 0;
  // Acknowledges that everything in rd was persisted, sent and applied. Only
  // now does a leader count its own new entries toward a commit, so a commit
  // never rests on an entry that exists only in memory.
  virtual void Advance(const Ready& rd) = 0;

  virtual RaftStatus GetStatus() const = 0;
};

// Moves out of `rd` the messages that may leave before rd is persisted: the
// appends and heartbeats of a node that leads before and after this Ready
// (`role` is its role when GetReady was called; a Ready that changes the
// role keeps every message), and only those of `durable_term`, the term of
// the hard state already durable on this node. The leader then writes its log
// in parallel with its followers (Raft thesis §10.2.1) — one disk write on the
// commit path instead of two. This is safe because the leader counts its own
// entries toward a commit only at Advance, after they are durable, and no
// message of a term not yet durable leaves. Everything else (votes, append
// responses, anything a follower sends) stays in rd.messages, to be sent after
// the persist. The relative order of each group is kept.
std::vector<raft::Message> TakeMessagesSendableBeforePersist(Ready& rd, StateRole role,
                                                             uint64_t durable_term);

}  // namespace cl::consensus
