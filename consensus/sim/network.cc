#include "consensus/sim/network.h"

namespace cl::consensus::sim {

void Network::SetOptions(const NetworkOptions& options) {
  CL_CHECK(options.min_delay >= 1, "network delay must be at least one time unit");
  CL_CHECK(options.min_delay <= options.max_delay, "network min_delay > max_delay");
  options_ = options;
}

uint64_t Network::Delay() { return rng_->Range(options_.min_delay, options_.max_delay); }

SendOutcome Network::Send(uint64_t now, raft::Message m) {
  // Draw every decision unconditionally, so the random stream does not depend
  // on earlier outcomes more than necessary.
  const bool drop = rng_->Chance(options_.drop_per_million);
  const bool dup = rng_->Chance(options_.duplicate_per_million);
  if (drop) return {.dropped = true, .copies = 0};
  if (dup) queue_.emplace(std::make_pair(now + Delay(), seq_++), m);
  queue_.emplace(std::make_pair(now + Delay(), seq_++), std::move(m));
  return {.dropped = false, .copies = dup ? 2 : 1};
}

std::optional<uint64_t> Network::NextDeliveryTime() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.begin()->first.first;
}

std::optional<raft::Message> Network::PopDue(uint64_t now) {
  if (queue_.empty() || queue_.begin()->first.first > now) return std::nullopt;
  auto node = queue_.extract(queue_.begin());
  return std::move(node.mapped());
}

void Network::PartitionSymmetric(const std::vector<NodeId>& a, const std::vector<NodeId>& b) {
  PartitionOneWay(a, b);
  PartitionOneWay(b, a);
}

void Network::PartitionOneWay(const std::vector<NodeId>& a, const std::vector<NodeId>& b) {
  for (NodeId x : a) {
    for (NodeId y : b) {
      if (x != y) Block(x, y);
    }
  }
}

}  // namespace cl::consensus::sim
