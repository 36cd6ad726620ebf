#include "consensus/quorum.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace cl::consensus {

RaftIndex MajorityConfig::CommittedIndex(const AckedIndexes& acked) const {
  if (ids_.empty()) return RaftIndex(std::numeric_limits<uint64_t>::max());
  std::vector<RaftIndex> idx;
  idx.reserve(ids_.size());
  for (NodeId id : ids_) {
    auto it = acked.find(id);
    idx.push_back(it == acked.end() ? RaftIndex(0) : it->second);
  }
  // Sorted descending, the (n/2+1)-th value is acknowledged by a majority
  // (itself and every larger one): n/2+1 of n nodes store at least that index.
  std::sort(idx.begin(), idx.end(), [](RaftIndex a, RaftIndex b) { return a > b; });
  return idx[ids_.size() / 2];
}

VoteResult MajorityConfig::Vote(const std::map<NodeId, bool>& votes) const {
  if (ids_.empty()) return VoteResult::kWon;
  size_t yes = 0, missing = 0;
  for (NodeId id : ids_) {
    auto it = votes.find(id);
    if (it == votes.end()) {
      ++missing;
    } else if (it->second) {
      ++yes;
    }
  }
  const size_t q = ids_.size() / 2 + 1;
  if (yes >= q) return VoteResult::kWon;
  if (yes + missing >= q) return VoteResult::kPending;
  return VoteResult::kLost;
}

std::string MajorityConfig::String() const {
  std::string s = "(";
  bool first = true;
  for (NodeId id : ids_) {
    if (!first) s += ' ';
    first = false;
    s += std::to_string(id.value());
  }
  return s + ")";
}

std::set<NodeId> JointConfig::Ids() const {
  std::set<NodeId> out = incoming.ids();
  out.insert(outgoing.ids().begin(), outgoing.ids().end());
  return out;
}

RaftIndex JointConfig::CommittedIndex(const AckedIndexes& acked) const {
  return std::min(incoming.CommittedIndex(acked), outgoing.CommittedIndex(acked));
}

VoteResult JointConfig::Vote(const std::map<NodeId, bool>& votes) const {
  const VoteResult a = incoming.Vote(votes);
  const VoteResult b = outgoing.Vote(votes);
  if (a == b) return a;
  if (a == VoteResult::kLost || b == VoteResult::kLost) return VoteResult::kLost;
  return VoteResult::kPending;
}

std::string JointConfig::String() const {
  if (outgoing.empty()) return incoming.String();
  return incoming.String() + "&&" + outgoing.String();
}

}  // namespace cl::consensus
