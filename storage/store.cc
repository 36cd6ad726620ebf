// Store: open, the atomic applies, genesis, commit certificates, checkpoints.
#include "storage/store.h"

#include <algorithm>
#include <memory>
#include <set>
#include <shared_mutex>

#include <rocksdb/utilities/checkpoint.h>

#include "proto/records.pb.h"
#include "storage/internal/core.h"
#include "storage/snapshot.h"

namespace cl::storage {

using internal::ToSlice;
namespace key = internal::key;

Store::Store(std::unique_ptr<internal::Core> core)
    : core_(std::move(core)),
      raft_log_(*core_),
      blocks_(*core_),
      state_(*core_),
      history_(*core_) {}

Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, StoreOptions options) {
  if (path.empty()) return InvalidArgument("store path is empty");
  if (!options.read_only) CL_RETURN_IF_ERROR(internal::RecoverInterruptedInstall(path));
  CL_ASSIGN_OR_RETURN(auto core, internal::OpenCore(path, options));
  return std::unique_ptr<Store>(new Store(std::move(core)));
}

const crypto::Suite& Store::suite() const { return *core_->suite; }

RaftIndex Store::applied_index() const { return core_->positions().applied; }

Status Store::write_error() const {
  std::lock_guard lock(core_->mu);
  return core_->sticky;
}

Store::StateCacheStats Store::state_cache_stats() const {
  const internal::StateCache::Stats s = core_->state_cache->stats();
  return StateCacheStats{.hits = s.hits, .misses = s.misses, .entries = s.entries, .bytes = s.bytes};
}

namespace {

Bytes EncodeFrontier(const crypto::MerkleFrontier& f) {
  Bytes out = BigEndian64(f.size());
  for (const auto& r : f.roots()) out.append(r.view());
  return out;
}

Status Mismatch(Height h, const std::string& what) {
  return InvalidArgument("block " + std::to_string(h.value()) + ": " + what);
}

// Checks that the history nodes are exactly the nodes completed by appending
// leaves [prior, next), and that their leaves are the block's tx ids.
Status CheckHistoryNodes(const crypto::Suite& suite, const BlockWrite& w, uint64_t prior) {
  const uint64_t next = prior + w.tx_ids.size();
  uint64_t expected = 0;
  for (uint32_t l = 0; l < 64 && (next >> l) > 0; ++l) expected += (next >> l) - (prior >> l);
  if (w.history_nodes.size() != expected)
    return Mismatch(w.height, std::to_string(w.history_nodes.size()) +
                                  " history nodes given, appending " +
                                  std::to_string(w.tx_ids.size()) + " leaves completes " +
                                  std::to_string(expected));
  std::vector<crypto::MerkleNodeId> ids;
  ids.reserve(w.history_nodes.size());
  for (const auto& [id, digest] : w.history_nodes) {
    if (id.level >= 64 || id.index < (prior >> id.level) || id.index >= (next >> id.level))
      return Mismatch(w.height, "history node (" + std::to_string(id.level) + ", " +
                                    std::to_string(id.index) + ") is not completed by this block");
    if (id.level == 0 && digest != crypto::MerkleLeafHash(suite, w.tx_ids[id.index - prior].view()))
      return Mismatch(w.height, "history leaf " + std::to_string(id.index) +
                                    " is not the leaf hash of its tx id");
    ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  if (std::adjacent_find(ids.begin(), ids.end()) != ids.end())
    return Mismatch(w.height, "a history node is given twice");
  return Status::Ok();
}

Status CheckBlock(const internal::Core& core, const internal::Positions& p, const BlockWrite& w) {
  if (w.raft_index <= p.applied)
    return FailedPrecondition("raft index " + std::to_string(w.raft_index.value()) +
                              " is not after the applied index " + std::to_string(p.applied.value()));
  if (w.height != p.latest_height + 1)
    return FailedPrecondition("block " + std::to_string(w.height.value()) +
                              " does not follow the latest block " +
                              std::to_string(p.latest_height.value()));
  certledger::v1::Block block;
  certledger::v1::BlockHeader header;
  if (!block.ParseFromString(w.block) || !header.ParseFromString(block.header()))
    return Mismatch(w.height, "does not parse");
  if (core.suite->Hash(block.header()) != w.block_hash) return Mismatch(w.height, "hash differs");
  if (header.chain_id() != core.options.chain_id) return Mismatch(w.height, "chain id differs");
  if (header.height() != w.height.value()) return Mismatch(w.height, "header height differs");
  if (header.raft_index() != w.raft_index.value()) return Mismatch(w.height, "raft index differs");
  if ((p.latest_height > Height(0) || p.genesis_hash) && header.prev_hash() != p.latest_hash.view())
    return Mismatch(w.height, "prev_hash is not the hash of the previous block (or genesis)");
  if (w.receipts.size() != w.tx_ids.size() || static_cast<size_t>(block.txs_size()) != w.tx_ids.size() ||
      header.tx_count() != w.tx_ids.size())
    return Mismatch(w.height, "tx, tx id, receipt and tx_count counts differ");
  if (w.tx_ids.size() > UINT32_MAX) return Mismatch(w.height, "too many transactions");
  const uint64_t prior = p.frontier.size();
  if (w.history_frontier.size() != prior + w.tx_ids.size() ||
      header.history_size() != w.history_frontier.size())
    return Mismatch(w.height, "history size does not grow by the block's tx count");
  if (header.history_root() != w.history_frontier.Root(*core.suite).view())
    return Mismatch(w.height, "history_root is not the root of the given frontier");
  return CheckHistoryNodes(*core.suite, w, prior);
}

}  // namespace

Status Store::ApplyBlock(const BlockWrite& w) {
  internal::Core& c = *core_;
  std::lock_guard write_lock(c.apply_write_mu);
  CL_RETURN_IF_ERROR(c.WriteAllowed());
  internal::Positions p = c.positions();
  CL_RETURN_IF_ERROR(CheckBlock(c, p, w));

  rocksdb::WriteBatch batch;
  Bytes block_value = w.block_hash.ToBytes();
  block_value += w.block;
  batch.Put(c.h(internal::kBlocks), ToSlice(key::Block(w.height)), block_value);
  batch.Put(c.h(internal::kBlocks), ToSlice(key::BlockHash(w.block_hash)),
            BigEndian64(w.height.value()));
  // A tx id applied again (a DUPLICATE_TX receipt) keeps its first location.
  std::set<crypto::Digest> seen;
  for (uint32_t i = 0; i < w.tx_ids.size(); ++i) {
    const crypto::Digest& id = w.tx_ids[i];
    batch.Put(c.h(internal::kReceipts), ToSlice(key::Receipt(w.height, i)), w.receipts[i]);
    if (!seen.insert(id).second) continue;
    Bytes k = key::TxIndex(id);
    CL_ASSIGN_OR_RETURN(auto existing, c.Get(internal::kTxIndex, k));
    if (existing) continue;
    Bytes v = BigEndian64(w.height.value());
    PutBigEndian32(&v, i);
    PutBigEndian64(&v, p.frontier.size() + i);
    batch.Put(c.h(internal::kTxIndex), ToSlice(k), v);
  }
  for (const auto& [id, digest] : w.history_nodes)
    batch.Put(c.h(internal::kHistory), ToSlice(key::HistoryNode(id.level, id.index)), ToSlice(digest.view()));
  Bytes latest = BigEndian64(w.height.value());
  latest.append(w.block_hash.view());
  batch.Put(c.h(internal::kMeta), ToSlice(key::kLatest), latest);
  batch.Put(c.h(internal::kMeta), ToSlice(key::kFrontier), EncodeFrontier(w.history_frontier));
  batch.Put(c.h(internal::kMeta), ToSlice(key::kApplied), BigEndian64(w.raft_index.value()));
  CL_RETURN_IF_ERROR(
      c.WriteWithState(&batch, w.state != nullptr ? &w.state->ops() : nullptr, c.options.sync_applies));

  std::lock_guard lock(c.mu);
  c.pos.applied = w.raft_index;
  c.pos.latest_height = w.height;
  c.pos.latest_hash = w.block_hash;
  c.pos.frontier = w.history_frontier;
  return Status::Ok();
}

Status Store::ApplyNonBlock(RaftIndex raft_index, const raft::ConfState* new_conf) {
  internal::Core& c = *core_;
  std::lock_guard write_lock(c.apply_write_mu);
  CL_RETURN_IF_ERROR(c.WriteAllowed());
  internal::Positions p = c.positions();
  if (raft_index <= p.applied)
    return FailedPrecondition("raft index " + std::to_string(raft_index.value()) +
                              " is not after the applied index " + std::to_string(p.applied.value()));
  rocksdb::WriteBatch batch;
  if (new_conf != nullptr)
    batch.Put(c.h(internal::kRaftState), ToSlice(key::kConfState), new_conf->SerializeAsString());
  batch.Put(c.h(internal::kMeta), ToSlice(key::kApplied), BigEndian64(raft_index.value()));
  CL_RETURN_IF_ERROR(c.Write(&batch, c.options.sync_applies));
  std::lock_guard lock(c.mu);
  c.pos.applied = raft_index;
  return Status::Ok();
}

Status Store::SetGenesis(ByteView genesis_bytes, const contracts::WriteSet* state,
                         const raft::ConfState* initial_conf) {
  internal::Core& c = *core_;
  std::lock_guard write_lock(c.apply_write_mu);
  CL_RETURN_IF_ERROR(c.WriteAllowed());
  internal::Positions p = c.positions();
  crypto::Digest hash = c.suite->Hash(genesis_bytes);
  if (p.genesis_hash) {
    if (*p.genesis_hash == hash) return Status::Ok();
    return AlreadyExists("a different genesis (hash " + p.genesis_hash->ToHex() + ") is stored");
  }
  if (p.latest_height > Height(0)) return FailedPrecondition("genesis must be stored before block 1");
  rocksdb::WriteBatch batch;
  Bytes value = hash.ToBytes();
  value.append(genesis_bytes);
  batch.Put(c.h(internal::kMeta), ToSlice(key::kGenesis), value);
  // The genesis state and the first raft configuration land with the genesis
  // record, so a crash never leaves a store with one and not the others.
  if (initial_conf != nullptr)
    batch.Put(c.h(internal::kRaftState), ToSlice(key::kConfState), initial_conf->SerializeAsString());
  CL_RETURN_IF_ERROR(c.WriteWithState(&batch, state != nullptr ? &state->ops() : nullptr, /*sync=*/true));
  std::lock_guard lock(c.mu);
  c.pos.genesis_hash = hash;
  c.pos.latest_hash = hash;
  return Status::Ok();
}

Status Store::PutCommitCert(Height h, ByteView cert) {
  internal::Core& c = *core_;
  CL_RETURN_IF_ERROR(c.WriteAllowed());
  certledger::v1::CommitCertificate cc;
  if (!cc.ParseFromArray(cert.data(), static_cast<int>(cert.size())))
    return InvalidArgument("commit certificate does not parse");
  if (cc.height() != h.value())
    return InvalidArgument("commit certificate is for height " + std::to_string(cc.height()));
  // The block-hash index answers "is this hash block h" without reading the
  // block itself (which may be megabytes).
  if (h > blocks_.latest_height() || h == Height(0))
    return NotFound("block " + std::to_string(h.value()) + " is not applied");
  const std::optional<crypto::Digest> hash = crypto::Digest::FromBytes(cc.block_hash());
  if (!hash) return InvalidArgument("commit certificate names no block hash");
  auto by_hash = c.Get(internal::kBlocks, key::BlockHash(*hash));
  CL_RETURN_IF_ERROR(by_hash.status());
  if (!*by_hash || **by_hash != BigEndian64(h.value()))
    return InvalidArgument("commit certificate names another block hash");
  // Under db_mu: a snapshot install replaces the column family handles.
  // (Not under apply_write_mu: this runs on the peer IO thread, which must
  // not wait for a checkpoint's flush.)
  std::shared_lock db_lock(c.db_mu);
  CL_RETURN_IF_ERROR(c.DbOpen());
  rocksdb::WriteBatch batch;
  batch.Put(c.h(internal::kBlocks), ToSlice(key::CommitCert(h)), ToSlice(cert));
  return c.WriteLocked(&batch, c.options.sync_applies);
}

Result<raft::SnapshotMetadata> Store::CreateCheckpoint(const std::string& dir) {
  internal::Core& c = *core_;
  std::lock_guard apply_lock(c.apply_write_mu);  // no apply moves the applied index meanwhile
  CL_RETURN_IF_ERROR(c.WriteAllowed());
  if (internal::PathExists(dir)) return AlreadyExists("checkpoint directory " + dir + " exists");
  internal::Positions p = c.positions();
  if (p.applied == RaftIndex(0)) return FailedPrecondition("nothing applied yet to checkpoint");
  raft::SnapshotMetadata meta;
  CL_ASSIGN_OR_RETURN(RaftTerm term, internal::TermAt(c, p, p.applied));
  CL_ASSIGN_OR_RETURN(auto cs, c.Get(internal::kRaftState, key::kConfState));
  if (cs && !meta.mutable_conf_state()->ParseFromString(*cs))
    return Corruption("raft_state conf_state is damaged");
  meta.set_index(p.applied.value());
  meta.set_term(term.value());

  {
    std::shared_lock db_lock(c.db_mu);
    CL_RETURN_IF_ERROR(c.DbOpen());
    rocksdb::Checkpoint* raw = nullptr;
    CL_RETURN_IF_ERROR(
        internal::FromRocks(rocksdb::Checkpoint::Create(c.db.get(), &raw), "checkpoint"));
    std::unique_ptr<rocksdb::Checkpoint> cp(raw);
    // log_size_for_flush = 0: flush first, so the checkpoint is SST files only.
    CL_RETURN_IF_ERROR(
        internal::FromRocks(cp->CreateCheckpoint(dir, 0), "create checkpoint in " + dir));
  }
  CL_RETURN_IF_ERROR(internal::FsyncPath(dir, /*directory=*/true));

  std::lock_guard raft_lock(c.raft_write_mu);
  rocksdb::WriteBatch batch;
  batch.Put(c.h(internal::kRaftState), ToSlice(key::kSnapshot), meta.SerializeAsString());
  CL_RETURN_IF_ERROR(c.Write(&batch, /*sync=*/true));
  return meta;
}

Status Store::InstallSnapshot(SnapshotInstaller& installer, const raft::HardState& local_hard_state) {
  internal::Core& c = *core_;
  if (c.options.read_only) return FailedPrecondition("store opened read-only");
  std::lock_guard apply_lock(c.apply_write_mu);
  std::lock_guard raft_lock(c.raft_write_mu);
  std::unique_lock db_lock(c.db_mu);
  CL_RETURN_IF_ERROR(c.WriteAllowed());
  c.CloseDb();
  // Whatever is at c.path afterwards, cached state reads may describe the
  // old store; readers wait on db_mu, and their reads from before fail the
  // cache's epoch check.
  c.state_cache->Clear();
  // Either the old store or the new one is at c.path afterwards, also after a
  // crash (Open finishes or rolls back the swap): reopen whichever it is.
  Status installed = installer.Install(local_hard_state);
  if (!installed.ok()) {
    Status rec = internal::RecoverInterruptedInstall(c.path);
    if (!rec.ok()) installed = rec.WithContext(installed.ToString());
  }
  auto reopened = internal::OpenCore(c.path, c.options);
  if (!reopened.ok()) {
    std::lock_guard lock(c.mu);
    c.sticky = Status(reopened.status().code(),
                      "store unusable after a snapshot install: " + reopened.status().message());
    return c.sticky;
  }
  internal::Core& n = **reopened;
  c.block_cache = n.block_cache;
  c.db = std::move(n.db);
  c.cf = std::move(n.cf);
  n.cf.clear();
  {
    std::lock_guard lock(c.mu);
    c.pos = n.positions();
  }
  return installed;
}

}  // namespace cl::storage
