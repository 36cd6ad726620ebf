// Pending ReadIndex requests of a leader (Raft thesis §6.4, etcd read_only.go).
//
// With ReadOnlyOption::kSafe, a read request records the commit index at the
// time it arrived; it is answered once a quorum has acknowledged a heartbeat
// carrying the request's context, which proves the leader was still leader
// when the request arrived. Requests are answered in arrival order.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/strong_types.h"
#include "consensus/raft.h"

namespace cl::consensus {

struct ReadIndexStatus {
  raft::Message req;  // the original MsgReadIndex (entries[0].data is the context)
  RaftIndex index;    // commit index when the request arrived
  std::set<NodeId> acks;
};

class ReadOnly {
 public:
  explicit ReadOnly(ReadOnlyOption option) : option_(option) {}

  ReadOnlyOption option() const { return option_; }
  // Adds a request at the given read index (duplicates of a pending context are ignored).
  void AddRequest(RaftIndex index, const raft::Message& m);
  // Records that `id` acknowledged the heartbeat with `ctx`; returns the set of
  // acknowledgers, or nullptr if ctx is not pending.
  const std::set<NodeId>* RecvAck(NodeId id, const std::string& ctx);
  // Dequeues every request up to and including the one with m's context.
  std::vector<ReadIndexStatus> Advance(const std::string& ctx);
  // Context of the newest pending request ("" if none).
  std::string LastPendingRequestCtx() const;
  size_t pending() const { return queue_.size(); }

 private:
  ReadOnlyOption option_;
  std::map<std::string, ReadIndexStatus> pending_;
  std::vector<std::string> queue_;
};

}  // namespace cl::consensus
