// Membership changes on the tracker's configuration (etcd confchange/).
//
// Two ways to change the voters (Raft thesis §4.2, §4.3):
//  - Simple: at most one voter added or removed (learner changes are free).
//    Safe because any two majorities of configurations differing by one voter
//    overlap. The core applies the 2015 fix (a leader commits an entry of its
//    own term before it appends a configuration entry) and keeps one change
//    pending at a time.
//  - Joint consensus: EnterJoint moves to C_old,new (decisions need a majority
//    of both); LeaveJoint moves to C_new.
//
// The Changer never mutates its input: it returns the new configuration and
// progress map, or INVALID_ARGUMENT (leaving the caller's state untouched).
#pragma once

#include <utility>
#include <vector>

#include "base/status.h"
#include "consensus/progress.h"

namespace cl::consensus {

struct ConfigAndProgress {
  TrackerConfig config;
  ProgressMap progress;
};

class Changer {
 public:
  // last_index initialises the Progress of nodes added by a change.
  Changer(const ProgressTracker& tracker, RaftIndex last_index)
      : tracker_(tracker), last_index_(last_index) {}

  Result<ConfigAndProgress> EnterJoint(bool auto_leave,
                                       const std::vector<raft::ConfChangeSingle>& ccs) const;
  Result<ConfigAndProgress> LeaveJoint() const;
  Result<ConfigAndProgress> Simple(const std::vector<raft::ConfChangeSingle>& ccs) const;

 private:
  Result<ConfigAndProgress> CheckAndCopy() const;
  Status Apply(ConfigAndProgress& cp, const std::vector<raft::ConfChangeSingle>& ccs) const;
  void MakeVoter(ConfigAndProgress& cp, NodeId id) const;
  void MakeLearner(ConfigAndProgress& cp, NodeId id) const;
  void Remove(ConfigAndProgress& cp, NodeId id) const;
  void InitProgress(ConfigAndProgress& cp, NodeId id, bool learner) const;

  const ProgressTracker& tracker_;
  RaftIndex last_index_;
};

// Checks the invariants a configuration must keep: every member has a
// Progress and nothing else has; learners are never voters; learners_next ⊆
// outgoing voters; a non-joint config has no learners_next and no auto_leave.
Status CheckConfigInvariants(const TrackerConfig& cfg, const ProgressMap& prs);

// Rebuilds the configuration from a persisted ConfState (restart, snapshot).
Result<ConfigAndProgress> RestoreConfig(const raft::ConfState& cs, RaftIndex last_index,
                                        int max_inflight, uint64_t max_inflight_bytes);

// True when cc needs joint consensus (more than one voter changes, or the
// transition asks for it); the second value says whether to leave it
// automatically. Empty cc = leave the joint configuration.
struct ConfChangeMode {
  bool leave_joint = false;
  bool enter_joint = false;
  bool auto_leave = false;
};
ConfChangeMode ClassifyConfChange(const raft::ConfChange& cc);

// A ConfState in a canonical, sorted form for comparisons and printing.
std::string ConfStateString(const raft::ConfState& cs);

// Whether `cs` names `id` as a voter (incoming or outgoing) or a learner: the
// test a snapshot must pass before a node restores from it (learners_next
// are outgoing voters, so they are covered).
bool ConfStateNames(const raft::ConfState& cs, NodeId id);

}  // namespace cl::consensus
