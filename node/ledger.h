// The ledger: the node's store and executor together. It turns committed raft
// entries into applied blocks — signatures checked in parallel, contracts run,
// everything written in one atomic batch with the raft index — and answers the
// read side (blocks, proofs, state) from the same store.
//
// Executing ahead: Prepare runs a block's signature checks and contracts
// before the block is committed (the raft driver calls it while the entry's
// raft-log write is in flight), and ApplyEntry then only writes the result —
// if the entry it applies is the one prepared (same index, term and bytes)
// and nothing was applied since. Whatever ApplyEntry uses was computed from
// the same inputs as it would compute itself, so every node still derives
// the same block; anything else is simply computed again.
//
// Thread-safety: ApplyEntry, Prepare and ForgetPrepared are called by the
// raft driver, one at a time (Prepare may run on a helper thread, but never
// while another of them runs); reads may come from any thread and see each
// applied block entirely or not at all.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/strong_types.h"
#include "crypto/digest.h"
#include "crypto/suite.h"

namespace certledger::raft {
class Entry;
class ConfState;
}  // namespace certledger::raft
namespace certledger::v1 {
class BlockHeader;
class Genesis;
}  // namespace certledger::v1

namespace cl::storage {
class Store;
}  // namespace cl::storage
namespace cl::contracts {
class Executor;
}  // namespace cl::contracts

namespace cl::node {

class WorkerPool;

struct LedgerOptions {
  std::string data_dir;          // the RocksDB directory (created if missing)
  size_t verify_threads = 1;     // extra threads for signature checks (0 = caller only)
  bool sync_applies = true;      // fsync each applied block (off only in tests)
  size_t block_cache_bytes = size_t{64} << 20;
  size_t state_cache_bytes = size_t{256} << 20;  // state point reads (storage StoreOptions)
};

// One block the ledger applied.
struct AppliedBlock {
  Height height;
  crypto::Digest hash;
  Bytes header;                          // serialized BlockHeader
  std::vector<crypto::Digest> tx_ids;
  std::vector<Bytes> receipts;           // serialized Receipt
  int64_t time_ms = 0;
  bool prepared = false;                 // executed ahead (Ledger::Prepare)
};

class Ledger {
 public:
  // Opens the store in options.data_dir for the network of `genesis`
  // (`genesis_bytes` are the genesis file's exact bytes). A new store is
  // initialized with the genesis and its state. FAILED_PRECONDITION if the
  // directory holds another chain or a different genesis.
  static Result<std::unique_ptr<Ledger>> Open(const certledger::v1::Genesis& genesis,
                                              ByteView genesis_bytes, LedgerOptions options);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Applies one committed raft entry: a Batch forms a block; an empty entry
  // (leader no-op) or a configuration change only records the applied index
  // (and `conf`, if given). Entries at or below applied_index() are ignored
  // (returns nullopt), so replaying the log after a restart never applies twice.
  Result<std::optional<AppliedBlock>> ApplyEntry(const certledger::raft::Entry& entry,
                                                 const certledger::raft::ConfState* conf);

  // True if `entry` is a batch and the next one to apply (index ==
  // applied_index() + 1): what Prepare executes.
  bool WouldPrepare(const certledger::raft::Entry& entry) const;
  // Executes `entry` ahead of its commit and keeps the result for ApplyEntry,
  // if WouldPrepare(entry); failures are left for ApplyEntry to meet.
  void Prepare(const certledger::raft::Entry& entry);
  // Drops a prepared result and the cached last header (the store was
  // replaced, e.g. by a snapshot).
  void ForgetPrepared();

  // Records that every signature of the SignedTx `raw` verified (CheckTx at
  // admission), so applying it here needs no second verification. Bounded:
  // the oldest entries are forgotten. Thread-safe.
  void NoteVerified(ByteView raw);

  RaftIndex applied_index() const;
  Height height() const;
  const crypto::Digest& genesis_hash() const { return genesis_hash_; }
  const std::string& chain_id() const { return chain_id_; }

  storage::Store& store() { return *store_; }
  const storage::Store& store() const { return *store_; }
  const contracts::Executor& executor() const { return *executor_; }
  const crypto::Suite& suite() const { return *suite_; }
  std::shared_ptr<const crypto::Suite> suite_ptr() const { return suite_; }

 private:
  Ledger() = default;
  // A block computed but not yet written: what ApplyBatch writes.
  struct Executed;
  // Decodes, verifies and executes a batch entry on the current state.
  Result<Executed> Execute(const certledger::raft::Entry& entry);
  Result<AppliedBlock> ApplyBatch(const certledger::raft::Entry& entry);

  // The header of the block ApplyBatch wrote last, so the next block need
  // not read and parse the whole previous block (used by ApplyEntry and
  // Prepare, which the driver never runs at the same time). Used
  // only while its height is the store's latest; forgotten after a snapshot
  // install.
  struct LastBlock {
    Height height;
    crypto::Digest hash;
    std::unique_ptr<certledger::v1::BlockHeader> header;
    // From the executor (ExecOutput::expiry_floor): lets the next block skip
    // reading the replay index when nothing in it can have expired. Unknown
    // when the header was read back from the store.
    std::optional<int64_t> expiry_floor;
  };
  LastBlock last_;
  std::unique_ptr<Executed> prepared_;  // from Prepare, until ApplyEntry

  std::shared_ptr<const crypto::Suite> suite_;
  std::unique_ptr<contracts::Executor> executor_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<WorkerPool> pool_;
  // suite.Hash(raw) of txs verified at admission, oldest first (bounded).
  static constexpr size_t kMaxVerified = 1 << 16;
  std::mutex verified_mu_;
  std::set<crypto::Digest> verified_;
  std::deque<crypto::Digest> verified_order_;
  crypto::Digest genesis_hash_;
  std::string chain_id_;
  int64_t genesis_time_ms_ = 0;
};

}  // namespace cl::node
