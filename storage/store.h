// The node's durable store: one RocksDB instance holding the raft log, the
// blocks, the transaction index, receipts, the contract state and the history
// tree (layout in docs/storage.md).
//
//   CL_ASSIGN_OR_RETURN(auto store, Store::Open(dir, StoreOptions{.chain_id = "city"}));
//   store->raft_log().Persist(&hs, entries, /*sync=*/true);   // from each Ready
//   store->ApplyBlock(write);                                 // per committed entry
//
// Every applied raft entry is one atomic write batch that also records the
// applied raft index, so after a crash `applied_index()` says exactly where to
// resume: entries up to it are applied, none after it, none twice.
//
// Integrity: RocksDB block checksums are verified on every read; a block read
// back is checked against its hash; a failed check is CORRUPTION, never used.
// After any failed write the store refuses further writes (sticky error).
//
// Thread-safety: a Store and its parts may be used from any number of threads.
// Writes of one kind (raft log writes; applies) are serialized internally.
// Lifetimes: the parts returned by raft_log(), blocks(), state(), history()
// live as long as the Store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/strong_types.h"
#include "consensus/log_storage.h"
#include "contracts/state_view.h"
#include "crypto/digest.h"
#include "crypto/merkle.h"
#include "crypto/suite.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace cl::storage {

namespace raft = ::certledger::raft;

namespace internal {
struct Core;
}  // namespace internal
class SnapshotInstaller;

// On-disk format version written at creation; Open refuses any other.
inline constexpr uint32_t kFormatVersion = 1;

struct StoreOptions {
  // The chain this store belongs to. Required. Open fails (FAILED_PRECONDITION)
  // on a directory created for another chain, and changes nothing there.
  std::string chain_id;
  // The chain's crypto suite (genesis `suite`): hashes blocks on read-back.
  std::string suite{crypto::kDefaultSuite};
  // Create an empty store when `path` holds none; NOT_FOUND otherwise.
  bool create_if_missing = true;
  // fsync each apply batch before ApplyBlock/ApplyNonBlock return. Turning it
  // off loses the newest applies on a machine crash (never tears one, and
  // they are re-applied from the raft log); tests and bulk loads only.
  bool sync_applies = true;
  // Shared LRU block cache for all column families.
  size_t block_cache_bytes = size_t{64} << 20;
  // LRU cache of state point reads (values and known-absent keys), in bytes
  // counted as key + value + 200 per entry (close to what it takes in
  // memory); 0 disables it. A certificate lookup is two state reads: with
  // the looked-up records in this cache their cost no longer depends on how
  // many records the state holds.
  size_t state_cache_bytes = size_t{256} << 20;
  // Bound on all column families' memtables together (RocksDB
  // db_write_buffer_size); each column family flushes at a quarter of it.
  // With the block cache, this bounds the store's memory.
  size_t memtable_bytes = size_t{64} << 20;
  // Bound on open SST files (RocksDB max_open_files); -1 = unlimited.
  int max_open_files = 1024;
  // Open without write access: every write fails with FAILED_PRECONDITION.
  bool read_only = false;
  // RocksDB environment (tests: fault injection). nullptr = the default.
  // Must outlive the Store.
  rocksdb::Env* env = nullptr;
};

// One committed batch, as applied: everything ApplyBlock writes atomically.
struct BlockWrite {
  RaftIndex raft_index;
  Height height;
  crypto::Digest block_hash;  // suite.Hash(header bytes of `block`)
  Bytes block;                // serialized certledger.v1.Block
  std::vector<crypto::Digest> tx_ids;  // block order; same count as block.txs
  std::vector<Bytes> receipts;         // serialized Receipt, same order
  const contracts::WriteSet* state = nullptr;  // borrowed; nullptr = no changes
  // Every history-tree node completed by this block's leaves (as reported by
  // MerkleFrontier::Append), and the frontier after the block.
  std::vector<std::pair<crypto::MerkleNodeId, crypto::Digest>> history_nodes;
  crypto::MerkleFrontier history_frontier;
};

// A block as stored: verified against its hash before it is returned.
struct StoredBlock {
  Height height;
  crypto::Digest hash;
  Bytes block;  // serialized certledger.v1.Block
};

// Where a transaction is: block height, position in the block, and its leaf
// index in the history tree.
struct TxLocation {
  Height height;
  uint32_t position = 0;
  uint64_t leaf_index = 0;
  friend bool operator==(const TxLocation&, const TxLocation&) = default;
};

struct GenesisRecord {
  Bytes bytes;          // the genesis file, exactly as given
  crypto::Digest hash;  // suite.Hash(bytes)
};

// The raft log and raft state (implements consensus::LogStorage).
// Compaction follows etcd: after Compact(i) the first entry is i + 1 and the
// term of i is kept (it is the "snapshot index" the LogStorage contract names).
class RaftLogStore final : public consensus::LogStorage {
 public:
  explicit RaftLogStore(internal::Core& core) : core_(core) {}
  RaftLogStore(const RaftLogStore&) = delete;
  RaftLogStore& operator=(const RaftLogStore&) = delete;

  Result<consensus::InitialState> GetInitialState() const override;
  Result<std::vector<raft::Entry>> Entries(RaftIndex lo, RaftIndex hi,
                                           uint64_t max_bytes) const override;
  Result<RaftTerm> Term(RaftIndex i) const override;
  Result<RaftIndex> FirstIndex() const override;
  Result<RaftIndex> LastIndex() const override;
  // The metadata of the last checkpoint made or installed (empty data); an
  // empty snapshot (index 0) while the log was never compacted; LOG_UNAVAILABLE
  // when the log was compacted past every snapshot.
  Result<raft::Snapshot> Snapshot() const override;

  // Writes one Ready's hard state (nullable) and entries in one batch,
  // replacing any conflicting suffix: entries must be contiguous and start at
  // or before last + 1 (INVALID_ARGUMENT otherwise); entries at or below the
  // compaction point are skipped. With sync, durable when OK is returned.
  Status Persist(const raft::HardState* hard_state, std::span<const raft::Entry> entries,
                 bool sync);
  Status Append(std::span<const raft::Entry> entries, bool sync) {
    return Persist(nullptr, entries, sync);
  }
  Status SetHardState(const raft::HardState& hs, bool sync) { return Persist(&hs, {}, sync); }

  // Discards entries up to and including i, keeping the term of i.
  // COMPACTED if i <= the current compaction point; FAILED_PRECONDITION if
  // i > the applied index (unapplied entries are never discarded).
  Status Compact(RaftIndex i);

 private:
  internal::Core& core_;
};

// Blocks, transaction index, receipts and commit certificates (read side).
class BlockStore {
 public:
  explicit BlockStore(internal::Core& core) : core_(core) {}
  BlockStore(const BlockStore&) = delete;
  BlockStore& operator=(const BlockStore&) = delete;

  // Height of the newest block (0 before the first) and its hash (the genesis
  // hash, or all zeros without genesis, at height 0).
  Height latest_height() const;
  crypto::Digest latest_hash() const;

  // NOT_FOUND if absent; CORRUPTION if the stored block fails its hash.
  Result<StoredBlock> Get(Height h) const;
  Result<StoredBlock> GetByHash(const crypto::Digest& hash) const;
  // Blocks from `from` upward: at most max_count, and no more than max_bytes
  // in total after the first. Empty past the latest block.
  Result<std::vector<StoredBlock>> Range(Height from, size_t max_count,
                                         uint64_t max_bytes) const;

  // NOT_FOUND if the transaction was never applied. A tx id applied twice
  // (a DUPLICATE_TX receipt) keeps its first location.
  Result<TxLocation> FindTx(const crypto::Digest& tx_id) const;
  // Serialized Receipt at (height, position); NOT_FOUND if absent.
  Result<Bytes> Receipt(Height h, uint32_t position) const;

  // Serialized certledger.v1.CommitCertificate for height h; NOT_FOUND if none.
  Result<Bytes> CommitCert(Height h) const;

  Result<GenesisRecord> Genesis() const;  // NOT_FOUND before SetGenesis

 private:
  internal::Core& core_;
};

// The contract state (implements contracts::StateView over the latest applied
// block). Reads see each apply entirely or not at all.
class StateStore final : public contracts::StateView {
 public:
  explicit StateStore(internal::Core& core) : core_(core) {}
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  Result<std::optional<Bytes>> Get(ByteView key) const override;
  Result<std::vector<contracts::KeyValue>> Scan(ByteView prefix, ByteView start_after,
                                                size_t limit) const override;

 private:
  internal::Core& core_;
};

// The history tree on disk: every completed perfect-subtree node by
// (level, index), plus the frontier. Proofs read O(log n) stored nodes and
// can be served for any size up to the current one.
class HistoryTree {
 public:
  explicit HistoryTree(internal::Core& core) : core_(core) {}
  HistoryTree(const HistoryTree&) = delete;
  HistoryTree& operator=(const HistoryTree&) = delete;

  uint64_t size() const;
  // The frontier after the latest block: restore a MerkleFrontier to append to.
  crypto::MerkleFrontier Frontier() const;
  // Root of the first `size` leaves; OUT_OF_RANGE if size > size().
  Result<crypto::Digest> Root(uint64_t size) const;
  // RFC 6962 audit path of leaf `index` in the tree of the first `size` leaves.
  // OUT_OF_RANGE unless index < size <= size().
  Result<std::vector<crypto::Digest>> InclusionProof(uint64_t index, uint64_t size) const;
  // RFC 6962 consistency proof from old_size to new_size (empty when
  // old_size is 0 or equal to new_size). OUT_OF_RANGE unless
  // old_size <= new_size <= size().
  Result<std::vector<crypto::Digest>> ConsistencyProof(uint64_t old_size,
                                                       uint64_t new_size) const;

 private:
  internal::Core& core_;
};

class Store {
 public:
  // Opens (or creates, see StoreOptions) the store in directory `path`.
  // INVALID_ARGUMENT on bad options; NOT_FOUND if absent and not creating;
  // FAILED_PRECONDITION (changing nothing) if the directory belongs to another
  // chain or format version or is not a certledger store; CORRUPTION if the
  // latest block fails its checks; IO_ERROR from the file system. Completes
  // or rolls back a snapshot installation interrupted by a crash.
  static Result<std::unique_ptr<Store>> Open(const std::string& path, StoreOptions options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  RaftLogStore& raft_log() { return raft_log_; }
  const BlockStore& blocks() const { return blocks_; }
  const StateStore& state() const { return state_; }
  const HistoryTree& history() const { return history_; }
  const crypto::Suite& suite() const;

  // The raft index of the last applied entry (0 if none): resume applying at
  // applied_index() + 1.
  RaftIndex applied_index() const;

  // Applies one committed block in one write batch: block, hash index, tx
  // index, receipts, state writes, history nodes and frontier, latest height
  // and the applied raft index. FAILED_PRECONDITION unless raft_index >
  // applied_index() and height == latest + 1; INVALID_ARGUMENT if the block
  // does not match the rest (hash, height, prev hash, counts, raft index,
  // history size and root, chain id, node ids outside the new leaves).
  Status ApplyBlock(const BlockWrite& w);
  // Applies a committed entry that forms no block (leader no-op, conf change):
  // records the applied index and, if non-null, the new configuration, in one batch.
  Status ApplyNonBlock(RaftIndex raft_index, const raft::ConfState* new_conf);

  // Stores the genesis file once, before the first block, in one atomic
  // write with (if non-null) the genesis state and the first raft
  // configuration. OK if the same bytes are already stored (nothing else is
  // written then); ALREADY_EXISTS if different ones are; FAILED_PRECONDITION
  // after the first block.
  Status SetGenesis(ByteView genesis_bytes, const contracts::WriteSet* state = nullptr,
                    const raft::ConfState* initial_conf = nullptr);

  // Stores the commit certificate of an applied block. INVALID_ARGUMENT if it
  // does not parse or names another height or block hash; NOT_FOUND if the
  // block is not applied. Replaces an earlier certificate for the height.
  Status PutCommitCert(Height h, ByteView cert);

  // Makes a consistent checkpoint of the store in `dir` (which must not
  // exist) for streaming to another node (storage/snapshot.h), records its
  // metadata as the raft snapshot, and returns it. Applies wait meanwhile.
  Result<raft::SnapshotMetadata> CreateCheckpoint(const std::string& dir);

  // Replaces this store's contents, in place, with the snapshot `installer`
  // received and verified (SnapshotInstaller::Verify succeeded), keeping
  // `local_hard_state` (commit raised to the snapshot index). Applies, raft
  // log writes and reads wait meanwhile; parts and references stay valid and
  // see the new contents afterwards. Crash-safe: a crash leaves the old store
  // or the new one (Open finishes or rolls back). If the install fails the
  // old store stays in use and the error is returned; if no store can be
  // reopened, every later write fails.
  Status InstallSnapshot(SnapshotInstaller& installer, const raft::HardState& local_hard_state);

  // The first write error, after which every write fails; OK if none.
  Status write_error() const;

  // The state read cache (StoreOptions.state_cache_bytes) since open.
  struct StateCacheStats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t entries = 0;
    uint64_t bytes = 0;
  };
  StateCacheStats state_cache_stats() const;

 private:
  explicit Store(std::unique_ptr<internal::Core> core);

  std::unique_ptr<internal::Core> core_;
  RaftLogStore raft_log_;
  BlockStore blocks_;
  StateStore state_;
  HistoryTree history_;
};

}  // namespace cl::storage
