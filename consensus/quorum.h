// Quorum arithmetic: majorities and joint majorities (Raft paper §5.3 commit
// counting, §5.2 vote counting, §6 joint consensus C_old,new).
//
// Pure value types. A MajorityConfig is a set of voter ids; a JointConfig is
// two of them (incoming, outgoing), and a decision needs a majority of each.
// An empty MajorityConfig agrees to everything (so a non-joint configuration
// is a JointConfig with an empty outgoing half).
#pragma once

#include <map>
#include <set>
#include <string>

#include "base/strong_types.h"

namespace cl::consensus {

enum class VoteResult { kPending, kLost, kWon };

// For each node, the highest log index it is known to have durably stored.
// Nodes missing from the map count as having acknowledged nothing (index 0).
using AckedIndexes = std::map<NodeId, RaftIndex>;

class MajorityConfig {
 public:
  MajorityConfig() = default;
  explicit MajorityConfig(std::set<NodeId> ids) : ids_(std::move(ids)) {}

  const std::set<NodeId>& ids() const { return ids_; }
  std::set<NodeId>& mutable_ids() { return ids_; }
  bool empty() const { return ids_.empty(); }
  size_t size() const { return ids_.size(); }
  bool contains(NodeId id) const { return ids_.contains(id); }

  // The largest index acknowledged by a majority of ids; the maximum value of
  // RaftIndex for an empty config (so it never holds a joint config back).
  RaftIndex CommittedIndex(const AckedIndexes& acked) const;
  // kWon with a majority of yes votes, kLost when a majority can no longer be
  // reached, else kPending. Votes of non-members are ignored.
  VoteResult Vote(const std::map<NodeId, bool>& votes) const;
  // "(1 2 3)".
  std::string String() const;

  friend bool operator==(const MajorityConfig&, const MajorityConfig&) = default;

 private:
  std::set<NodeId> ids_;
};

class JointConfig {
 public:
  MajorityConfig incoming;
  MajorityConfig outgoing;  // empty unless in a joint configuration

  bool joint() const { return !outgoing.empty(); }
  // Union of both halves.
  std::set<NodeId> Ids() const;
  bool contains(NodeId id) const { return incoming.contains(id) || outgoing.contains(id); }
  // The smaller of the two halves' committed indexes.
  RaftIndex CommittedIndex(const AckedIndexes& acked) const;
  // Won only if both halves won; lost if either lost.
  VoteResult Vote(const std::map<NodeId, bool>& votes) const;
  // "(1 2 3)" or "(1 2 3)&&(1 2)".
  std::string String() const;

  friend bool operator==(const JointConfig&, const JointConfig&) = default;
};

}  // namespace cl::consensus
