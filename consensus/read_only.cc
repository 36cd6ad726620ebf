#include "consensus/read_only.h"

#include <algorithm>

namespace cl::consensus {

void ReadOnly::AddRequest(RaftIndex index, const raft::Message& m) {
  CL_CHECK(m.entries_size() == 1, "read index request without a context entry");
  const std::string& ctx = m.entries(0).data();
  if (pending_.contains(ctx)) return;
  pending_.emplace(ctx, ReadIndexStatus{.req = m, .index = index, .acks = {}});
  queue_.push_back(ctx);
}

const std::set<NodeId>* ReadOnly::RecvAck(NodeId id, const std::string& ctx) {
  auto it = pending_.find(ctx);
  if (it == pending_.end()) return nullptr;
  it->second.acks.insert(id);
  return &it->second.acks;
}

std::vector<ReadIndexStatus> ReadOnly::Advance(const std::string& ctx) {
  auto pos = std::find(queue_.begin(), queue_.end(), ctx);
  if (pos == queue_.end()) return {};
  std::vector<ReadIndexStatus> out;
  for (auto it = queue_.begin(); it != pos + 1; ++it) {
    auto p = pending_.find(*it);
    CL_CHECK(p != pending_.end(), "read index queue and map disagree");
    out.push_back(std::move(p->second));
    pending_.erase(p);
  }
  queue_.erase(queue_.begin(), pos + 1);
  return out;
}

std::string ReadOnly::LastPendingRequestCtx() const {
  return queue_.empty() ? std::string() : queue_.back();
}

}  // namespace cl::consensus
