// The read-only storage the raft core reads its log and state from (the seam
// between consensus and storage; etcd raft's Storage interface).
//
// The node writes to the store from each Ready *before* it calls Advance()
// (entries, hard state, snapshot); the core then reads back through this
// interface. Implementations: storage::RaftLogStore (RocksDB) and
// consensus::MemoryLogStorage (tests, simulator).
//
// Thread-safety: the core calls these from one thread; an implementation that
// is also written from another thread must synchronize itself.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "base/strong_types.h"
#include "proto/raft.pb.h"

namespace cl::consensus {

// The generated raft protos (package certledger.raft) as consensus sees them.
namespace raft = ::certledger::raft;

struct InitialState {
  raft::HardState hard_state;
  raft::ConfState conf_state;
};

class LogStorage {
 public:
  virtual ~LogStorage() = default;

  // The persisted hard state and the configuration in force at the last
  // snapshot or applied configuration change.
  virtual Result<InitialState> GetInitialState() const = 0;

  // Entries in [lo, hi), at least one entry if any is in range, and then no
  // more than max_bytes in total (sum of Entry::ByteSizeLong()).
  // COMPACTED if lo <= the snapshot index; LOG_UNAVAILABLE if hi > last + 1.
  virtual Result<std::vector<raft::Entry>> Entries(RaftIndex lo, RaftIndex hi,
                                                   uint64_t max_bytes) const = 0;

  // Term of entry i, for i in [first - 1, last] (first - 1 is the snapshot's
  // index, whose term is kept). COMPACTED below, LOG_UNAVAILABLE above.
  virtual Result<RaftTerm> Term(RaftIndex i) const = 0;

  // Index of the first entry still in the log (snapshot index + 1).
  virtual Result<RaftIndex> FirstIndex() const = 0;
  // Index of the last entry (the snapshot index when the log is empty).
  virtual Result<RaftIndex> LastIndex() const = 0;

  // The most recent snapshot (metadata; data may be empty when the node streams
  // the store checkpoint separately). LOG_UNAVAILABLE while one is being made.
  virtual Result<raft::Snapshot> Snapshot() const = 0;
};

}  // namespace cl::consensus
