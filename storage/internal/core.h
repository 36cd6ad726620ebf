// Internal to storage/: the open RocksDB instance, its column families, the
// key encodings and the cached positions (applied index, latest block, history
// frontier, raft log bounds). Includes RocksDB; never include it from a public
// header. Layouts are documented byte by byte in docs/storage.md.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "base/bytes.h"
#include "base/status.h"
#include "base/strong_types.h"
#include "crypto/digest.h"
#include "crypto/merkle.h"
#include "crypto/suite.h"
#include "storage/internal/state_cache.h"
#include "storage/store.h"

namespace cl::storage::internal {

enum Cf : size_t {
  kDefault = 0,  // required by RocksDB; unused
  kRaftLog,
  kRaftState,
  kBlocks,
  kTxIndex,
  kState,
  kReceipts,
  kMeta,
  kHistory,
  kCfCount,
};
inline constexpr std::array<const char*, kCfCount> kCfNames = {
    "default", "raft_log", "raft_state", "blocks", "tx_index",
    "state",   "receipts", "meta",       "history"};

// ---- keys (docs/storage.md) ----
namespace key {
inline constexpr std::string_view kFormatVersion = "format_version";
inline constexpr std::string_view kChainId = "chain_id";
inline constexpr std::string_view kSuite = "suite";
inline constexpr std::string_view kGenesis = "genesis";
inline constexpr std::string_view kApplied = "applied_index";
inline constexpr std::string_view kLatest = "latest_block";
inline constexpr std::string_view kFrontier = "history_frontier";
inline constexpr std::string_view kHardState = "hard_state";
inline constexpr std::string_view kConfState = "conf_state";
inline constexpr std::string_view kLogBase = "log_base";
inline constexpr std::string_view kSnapshot = "snapshot";

inline constexpr char kBlockPrefix = 'h';
inline constexpr char kBlockHashPrefix = 'x';
inline constexpr char kCommitCertPrefix = 'c';

Bytes RaftLog(RaftIndex i);
Bytes Block(Height h);
Bytes BlockHash(const crypto::Digest& d);
Bytes CommitCert(Height h);
Bytes TxIndex(const crypto::Digest& tx_id);
Bytes Receipt(Height h, uint32_t position);
Bytes HistoryNode(uint32_t level, uint64_t index);
}  // namespace key

// Converts a RocksDB status at the edge; `what` names the operation.
Status FromRocks(const rocksdb::Status& s, std::string_view what);

inline rocksdb::Slice ToSlice(ByteView b) { return {b.data(), b.size()}; }

// The positions cached in memory (loaded at open, updated after each write).
struct Positions {
  RaftIndex applied;
  Height latest_height;
  crypto::Digest latest_hash;  // genesis hash (or zeros) at height 0
  crypto::MerkleFrontier frontier;
  RaftIndex log_base_index;  // compaction point: first index - 1
  RaftTerm log_base_term;
  RaftIndex last_index;  // == log_base_index when the log is empty
  std::optional<crypto::Digest> genesis_hash;
};

struct Core {
  ~Core();

  StoreOptions options;
  std::string path;
  std::shared_ptr<const crypto::Suite> suite;
  std::shared_ptr<rocksdb::Cache> block_cache;
  // State point reads (StateStore::Get); writers of the state keep it
  // coherent (state_cache.h). Never null once opened.
  std::unique_ptr<StateCache> state_cache;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cf;  // indexed by Cf; owned, freed before db

  // Readers and writers of `db` hold it shared; a snapshot install swaps the
  // whole database under it exclusively (Store::InstallSnapshot).
  mutable std::shared_mutex db_mu;
  std::mutex raft_write_mu;   // serializes raft log writers
  std::mutex apply_write_mu;  // serializes appliers (and checkpoints)

  mutable std::mutex mu;  // guards the two fields below
  Positions pos;
  Status sticky;  // first failed write

  Positions positions() const {
    std::lock_guard lock(mu);
    return pos;
  }

  // The value at key, nullopt if absent.
  Result<std::optional<Bytes>> Get(Cf c, ByteView k) const;
  // Writes a batch (synced if `sync`); the first failure becomes sticky.
  Status Write(rocksdb::WriteBatch* batch, bool sync);
  // Write() for a caller that holds db_mu (shared) and checked DbOpen(), e.g.
  // to build the batch with column family handles an install may replace.
  Status WriteLocked(rocksdb::WriteBatch* batch, bool sync);
  // Write() of `batch` plus the state writes `state_ops` (key -> new value,
  // nullopt = delete; may be null), atomically, keeping the state cache
  // coherent. Every write of state keys goes through here.
  Status WriteWithState(rocksdb::WriteBatch* batch,
                        const std::map<Bytes, std::optional<Bytes>>* state_ops, bool sync);
  Status WriteAllowed() const;
  // OK while a database is open. After a failed reopen (Store::InstallSnapshot)
  // there is none: every read and write returns the sticky reason instead.
  // The caller holds db_mu (shared or exclusive).
  Status DbOpen() const;

  rocksdb::ColumnFamilyHandle* h(Cf c) const { return cf[c]; }

  // Frees the column family handles and closes the database (no-op if closed).
  void CloseDb();
};

// Opens the RocksDB instance at `path` after checking the format version,
// chain id and suite (from the CERTLEDGER_IDENTITY file when it names them,
// else by opening the database read-only, so a foreign directory is not
// modified), and loads the cached positions. Creates a new store when none
// exists and options allow it.
Result<std::unique_ptr<Core>> OpenCore(const std::string& path, const StoreOptions& options);

// Parses a stored block value (hash || Block) and checks the header hash
// against the stored hash and `expected_height`. CORRUPTION on any mismatch.
Result<StoredBlock> DecodeBlock(const Core& core, Height expected_height, ByteView value);

// Term of entry i from the log (or the compaction point).
Result<RaftTerm> TermAt(const Core& core, const Positions& p, RaftIndex i);

// Finishes or rolls back a snapshot install that a crash interrupted
// (storage/snapshot.cc): see docs/storage.md, Snapshots.
Status RecoverInterruptedInstall(const std::string& path);

// POSIX helpers (used by snapshots, creation and install recovery).
Status FsyncPath(const std::string& path, bool directory);
Status FsyncParentDir(const std::string& path);
Status RemoveAll(const std::string& path);
Status Rename(const std::string& from, const std::string& to);
bool PathExists(const std::string& path);

}  // namespace cl::storage::internal
