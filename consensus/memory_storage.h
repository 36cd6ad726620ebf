// An in-memory LogStorage (etcd's MemoryStorage): for tests and the simulator.
// Not thread-safe.
#pragma once

#include <vector>

#include "base/bytes.h"
#include "consensus/log_storage.h"

namespace cl::consensus {

class MemoryLogStorage final : public LogStorage {
 public:
  MemoryLogStorage();  // empty log, dummy entry at index 0 term 0

  Result<InitialState> GetInitialState() const override;
  Result<std::vector<raft::Entry>> Entries(RaftIndex lo, RaftIndex hi,
                                           uint64_t max_bytes) const override;
  Result<RaftTerm> Term(RaftIndex i) const override;
  Result<RaftIndex> FirstIndex() const override;
  Result<RaftIndex> LastIndex() const override;
  Result<raft::Snapshot> Snapshot() const override;

  // Writes the node makes from a Ready.
  void SetHardState(const raft::HardState& hs);
  void SetConfState(const raft::ConfState& cs);
  // Appends entries, replacing any conflicting suffix. Entries must be
  // contiguous and must not start past last + 1.
  Status Append(const std::vector<raft::Entry>& entries);
  // Replaces the log with a snapshot. FAILED_PRECONDITION if older than ours.
  Status ApplySnapshot(const raft::Snapshot& snap);
  // Makes a snapshot at index i (<= applied) with the given conf state and data.
  Result<raft::Snapshot> CreateSnapshot(RaftIndex i, const raft::ConfState& cs, Bytes data);
  // Discards entries before i. COMPACTED if already compacted.
  Status Compact(RaftIndex i);

 private:
  raft::HardState hard_state_;
  raft::Snapshot snapshot_;
  std::vector<raft::Entry> ents_;  // ents_[0] is a dummy at the snapshot index
};

}  // namespace cl::consensus
