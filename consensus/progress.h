// The leader's view of each follower (etcd tracker/): Progress, its flow
// control window (Inflights), and the ProgressTracker that owns the membership
// and answers quorum questions (commit index, votes, recent activity).
//
// A follower's Progress is in one of three states:
//  - kProbe: the leader does not know where the follower's log matches; it
//    sends at most one append per heartbeat interval and backs `next` off on
//    rejection (Raft paper §5.3 "the leader decrements nextIndex and retries").
//  - kReplicate: the follower accepted an append; the leader streams appends
//    optimistically, bounded by Inflights (count and bytes in flight).
//  - kSnapshot: the follower needs entries the leader compacted; the leader
//    sent a snapshot and waits until it is applied or reported failed.
//
// Pure; not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/strong_types.h"
#include "consensus/quorum.h"
#include "consensus/raft.h"

namespace cl::consensus {

// A bounded ring of appends in flight to one follower, by last index sent.
class Inflights {
 public:
  // max_bytes 0 means no byte limit. max_count must be > 0.
  Inflights(int max_count, uint64_t max_bytes);

  // Records an append whose last entry is `index`, carrying `bytes` of entries.
  // Requires !Full() and index larger than every index already recorded.
  void Add(RaftIndex index, uint64_t bytes);
  // Frees every append whose last index is <= index (it was acknowledged).
  void FreeLE(RaftIndex index);
  void Reset();
  // True when no further append may be sent: max_count messages or
  // max_bytes bytes are in flight.
  bool Full() const;
  int Count() const { return static_cast<int>(items_.size()); }
  // Frees the oldest append (a heartbeat reply proves the follower is alive,
  // so a full window may admit one more probe of progress).
  void FreeFirstOne();
  uint64_t bytes() const { return bytes_; }

 private:
  struct Item {
    RaftIndex index;
    uint64_t bytes;
  };
  int max_count_;
  uint64_t max_bytes_;
  uint64_t bytes_ = 0;
  std::deque<Item> items_;  // ascending by index; at most max_count_
};

class Progress {
 public:
  Progress(RaftIndex next_index, int max_inflight, uint64_t max_inflight_bytes, bool learner)
      : next(next_index), inflights(max_inflight, max_inflight_bytes), is_learner(learner) {}

  RaftIndex match;   // highest index known to be replicated on the follower
  RaftIndex next;    // next index to send
  ProgressState state = ProgressState::kProbe;
  // In kSnapshot: the index of the snapshot being sent.
  RaftIndex pending_snapshot;
  // Heard from the follower since the last check-quorum round (§6.2 of the thesis).
  bool recent_active = false;
  // In kProbe: an append was sent and the next waits for a reply or a heartbeat.
  bool msg_app_flow_paused = false;
  Inflights inflights;
  bool is_learner = false;

  void BecomeProbe();
  void BecomeReplicate();
  void BecomeSnapshot(RaftIndex snapshot_index);
  // Updates after sending an append of `count` entries (`bytes` in total)
  // that started at `next`.
  void SentEntries(uint64_t count, uint64_t bytes);
  // Called on an accepted append ack for index n. Returns false when n is
  // stale (not above match).
  bool MaybeUpdate(RaftIndex n);
  // Called on a rejected append at `rejected`; match_hint is the follower's
  // hint of where its log may match. Returns false when the rejection is stale.
  bool MaybeDecrTo(RaftIndex rejected, RaftIndex match_hint);
  // True when the leader should not send an append now (flow control).
  bool IsPaused() const;
  ProgressView View() const;
  std::string String() const;

 private:
  void ResetState(ProgressState s);
};

// The membership as the tracker sees it (etcd tracker.Config).
struct TrackerConfig {
  JointConfig voters;
  // When a joint config is entered with auto_leave, the leader proposes the
  // leave transition by itself once the joint config is applied.
  bool auto_leave = false;
  // Learners; never voters in either half.
  std::set<NodeId> learners;
  // Voters of the outgoing half that become learners when the joint config is
  // left (they cannot be learners while still voting).
  std::set<NodeId> learners_next;

  std::string String() const;
  raft::ConfState ToConfState() const;
  friend bool operator==(const TrackerConfig&, const TrackerConfig&) = default;
};

using ProgressMap = std::map<NodeId, Progress>;

class ProgressTracker {
 public:
  ProgressTracker(int max_inflight, uint64_t max_inflight_bytes)
      : max_inflight_(max_inflight), max_inflight_bytes_(max_inflight_bytes) {}

  TrackerConfig config;
  ProgressMap progress;

  // Largest index replicated on a quorum of voters (both halves if joint).
  // count_learners (a TestingBugs switch) wrongly counts learners as voters.
  RaftIndex Committed(bool count_learners = false) const;
  // True when a quorum of voters was recently active (check-quorum).
  bool QuorumActive() const;
  // True if id is a voter in either half.
  bool IsVoter(NodeId id) const { return config.voters.contains(id); }
  // Single voter and it is `id`.
  bool IsSingleton() const;
  std::vector<NodeId> VoterNodes() const;
  std::vector<NodeId> LearnerNodes() const;

  void ResetVotes() { votes_.clear(); }
  // Records the first vote of id (later ones are ignored).
  void RecordVote(NodeId id, bool granted);
  struct Tally {
    int granted = 0;
    int rejected = 0;
    VoteResult result = VoteResult::kPending;
  };
  Tally TallyVotes() const;

  int max_inflight() const { return max_inflight_; }
  uint64_t max_inflight_bytes() const { return max_inflight_bytes_; }

 private:
  int max_inflight_;
  uint64_t max_inflight_bytes_;
  std::map<NodeId, bool> votes_;
};

std::string_view ProgressStateName(ProgressState s);

}  // namespace cl::consensus
