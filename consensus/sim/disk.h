// The simulated disk of one raft node: a MemoryLogStorage that holds what is
// durable, plus a volatile buffer of writes not yet synced.
//
// Writes from a Ready go to the volatile buffer; Sync() makes them durable in
// order; Crash() loses them. The raft node reads only durable state (through
// storage()), which is why the driver syncs a Ready's entries before it calls
// Advance(). Not thread-safe.
#pragma once

#include <variant>
#include <vector>

#include "consensus/memory_storage.h"

namespace cl::consensus::sim {

class SimDisk {
 public:
  SimDisk() = default;
  SimDisk(const SimDisk&) = delete;
  SimDisk& operator=(const SimDisk&) = delete;

  // The durable disk; the raft node borrows it, so the SimDisk must outlive it.
  MemoryLogStorage& storage() { return durable_; }
  const MemoryLogStorage& storage() const { return durable_; }

  void WriteHardState(const raft::HardState& hs) { pending_.emplace_back(hs); }
  void WriteEntries(const std::vector<raft::Entry>& ents) {
    if (!ents.empty()) pending_.emplace_back(ents);
  }
  void WriteSnapshot(const raft::Snapshot& snap) { pending_.emplace_back(snap); }

  bool HasPending() const { return !pending_.empty(); }
  // Applies the buffered writes to the durable storage, in write order. An
  // error means the write was invalid for the storage (a driver or core bug).
  Status Sync();
  // Power loss: the buffered writes are gone.
  void Crash() { pending_.clear(); }

 private:
  using Write = std::variant<raft::HardState, std::vector<raft::Entry>, raft::Snapshot>;
  MemoryLogStorage durable_;
  std::vector<Write> pending_;
};

}  // namespace cl::consensus::sim
