// The simulated network between raft nodes: drops, delays, duplicates,
// reorders (by random per-message delays) and partitions (directed blocked
// links, so partitions can be symmetric or asymmetric).
//
// Pure and deterministic: all randomness comes from the borrowed Rng; time is
// the simulator's integer clock. A message is dropped at send time with the
// drop probability, and at delivery time if its link is blocked then (or if
// the receiver is down, which the simulator decides). Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "base/strong_types.h"
#include "consensus/log_storage.h"
#include "consensus/sim/rng.h"

namespace cl::consensus::sim {

struct NetworkOptions {
  uint64_t drop_per_million = 0;       // chance a sent message is lost
  uint64_t duplicate_per_million = 0;  // chance a sent message arrives twice
  uint64_t min_delay = 1;              // delivery delay in time units, >= 1
  uint64_t max_delay = 5;              // >= min_delay; a spread reorders messages
};

// What Send() did with a message.
struct SendOutcome {
  bool dropped = false;
  int copies = 0;  // 0 (dropped), 1, or 2 (duplicated)
};

class Network {
 public:
  // rng is borrowed and must outlive the Network.
  explicit Network(Rng* rng) : rng_(rng) {}

  void SetOptions(const NetworkOptions& options);
  const NetworkOptions& options() const { return options_; }

  // Queues m for delivery at now + delay (per copy), unless dropped.
  SendOutcome Send(uint64_t now, raft::Message m);

  // Earliest queued delivery time, if any message is in flight.
  std::optional<uint64_t> NextDeliveryTime() const;
  // Removes and returns the earliest message due at or before `now`
  // (ties in send order), or nullopt.
  std::optional<raft::Message> PopDue(uint64_t now);
  size_t InFlight() const { return queue_.size(); }

  // Partitions: a blocked link from -> to loses every message on delivery.
  void Block(NodeId from, NodeId to) { blocked_.insert({from.value(), to.value()}); }
  // Blocks both directions between every node of a and every node of b.
  void PartitionSymmetric(const std::vector<NodeId>& a, const std::vector<NodeId>& b);
  // Blocks only a -> b (b still reaches a).
  void PartitionOneWay(const std::vector<NodeId>& a, const std::vector<NodeId>& b);
  void HealAll() { blocked_.clear(); }
  bool Blocked(NodeId from, NodeId to) const {
    return blocked_.contains({from.value(), to.value()});
  }
  bool AnyBlocked() const { return !blocked_.empty(); }

 private:
  uint64_t Delay();

  Rng* rng_;
  NetworkOptions options_;
  uint64_t seq_ = 0;
  std::map<std::pair<uint64_t, uint64_t>, raft::Message> queue_;  // (time, seq) -> msg
  std::set<std::pair<uint64_t, uint64_t>> blocked_;               // (from, to)
};

}  // namespace cl::consensus::sim
