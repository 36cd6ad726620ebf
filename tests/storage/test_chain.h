// Test support for storage: a deterministic chain of blocks with state writes
// (ChainBuilder), a crash workload that appends raft entries and applies them
// while reporting what it acknowledged (CrashWorkload), and a checker of every
// store invariant against what was acknowledged (CheckStore).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/status.h"
#include "contracts/state_view.h"
#include "crypto/merkle.h"
#include "crypto/suite.h"
#include "storage/store.h"

namespace cl::storage::testing {

inline constexpr char kChainId[] = "test-chain";

// Keeps the positions of the chain being built and makes the next block.
// State writes of block h: "count" = h, "h/<BE64 h>" = "v<h>", and
// "h/<BE64 h-5>" deleted, so after block L the "h/" keys are exactly the
// last five heights.
class ChainBuilder {
 public:
  explicit ChainBuilder(const crypto::Suite& suite) : suite_(suite) {}
  // Continues after the store's latest block.
  void ResumeFrom(const Store& store);

  // The next block: `txs` transactions, entry (raft_index, raft_term).
  // `duplicate_of_first` makes the last tx repeat the first tx's id.
  BlockWrite Next(RaftIndex raft_index, RaftTerm raft_term, size_t txs,
                  contracts::WriteSet* state, bool duplicate_of_first = false) const;
  // Records that `w` was applied.
  void Advance(const BlockWrite& w);

  Height height() const { return height_; }
  const crypto::Digest& hash() const { return hash_; }
  const crypto::MerkleFrontier& frontier() const { return frontier_; }
  void set_prev_hash(const crypto::Digest& d) { hash_ = d; }

 private:
  const crypto::Suite& suite_;
  Height height_;
  crypto::Digest hash_;
  crypto::MerkleFrontier frontier_;
};

// The expected raft log as acknowledged: index -> term.
struct LogModel {
  std::map<uint64_t, uint64_t> terms;
  uint64_t durable_applied = 0;  // highest apply acknowledged as durable
  uint64_t durable_height = 0;
  // Applies the acknowledgement lines ("I lo hi term" intent, "A lo hi term"
  // synced append, "P idx height durable" apply); an unmatched trailing
  // intent is kept in `pending`.
  void Consume(const std::string& line);
  std::optional<std::pair<uint64_t, std::pair<uint64_t, uint64_t>>> pending;  // lo, (hi, term)
  void ApplyAppend(uint64_t lo, uint64_t hi, uint64_t term);
};

// Checks every invariant of the store (and, if given, against the model of
// acknowledged writes). Returns a description of the first violation.
Status CheckStore(const Store& store, LogModel* model);

// A workload step by step: appends entries (synced), sometimes replaces an
// unapplied suffix with a higher term, applies committed entries (a block or
// a no-op/conf change by index), compacts, and reports acknowledgements.
class CrashWorkload {
 public:
  using Ack = std::function<void(const std::string& line)>;
  CrashWorkload(Store& store, uint64_t seed, Ack ack, bool durable_applies);
  // One operation. Any error is returned (the caller decides: a crash test
  // child exits, a fault test reopens).
  Status Step();

 private:
  Status AppendNew();
  Status ReplaceSuffix();
  Status ApplyNext();

  Store& store_;
  std::mt19937_64 rng_;
  Ack ack_;
  ChainBuilder chain_;
  uint64_t term_ = 1;
  uint64_t applies_ = 0;
  bool durable_applies_;
};

// Deterministic entry payload: block entries "B:<index>:<term>", others "N:...".
bool IsBlockEntry(uint64_t index);
std::string EntryData(uint64_t index, uint64_t term);

}  // namespace cl::storage::testing
