#include "node/ledger.h"

#include "contracts/executor.h"
#include "node/worker_pool.h"
#include "proto/raft.pb.h"
#include "proto/records.pb.h"
#include "proto/tx.pb.h"
#include "storage/store.h"

namespace cl::node {

namespace v1 = certledger::v1;

Ledger::~Ledger() = default;

Result<std::unique_ptr<Ledger>> Ledger::Open(const v1::Genesis& genesis, ByteView genesis_bytes,
                                             LedgerOptions options) {
  std::unique_ptr<Ledger> l(new Ledger());
  CL_ASSIGN_OR_RETURN(l->suite_, crypto::MakeSuite(genesis.suite()));
  CL_ASSIGN_OR_RETURN(l->executor_, contracts::Executor::Create(genesis, l->suite_));
  l->genesis_hash_ = l->suite_->Hash(genesis_bytes);
  l->chain_id_ = genesis.chain_id();
  l->genesis_time_ms_ = genesis.genesis_time_ms();
  CL_ASSIGN_OR_RETURN(l->store_,
                      storage::Store::Open(options.data_dir,
                                           storage::StoreOptions{
                                               .chain_id = genesis.chain_id(),
                                               .suite = genesis.suite(),
                                               .sync_applies = options.sync_applies,
                                               .block_cache_bytes = options.block_cache_bytes,
                                               .state_cache_bytes = options.state_cache_bytes,
                                           }));
  auto stored = l->store_->blocks().Genesis();
  if (stored.ok()) {
    if (stored->hash != l->genesis_hash_)
      return FailedPrecondition("data directory " + options.data_dir +
                                " was created from another genesis (hash " +
                                stored->hash.ToHex() + ", this one " + l->genesis_hash_.ToHex() +
                                ")");
  } else if (stored.status().code() == Code::kNotFound) {
    const contracts::WriteSet state = l->executor_->GenesisState();
    certledger::raft::ConfState conf;
    for (const v1::NodeInfo& n : genesis.nodes()) {
      if (n.role() == v1::NodeInfo::VOTER) conf.add_voters(n.node_id());
      if (n.role() == v1::NodeInfo::LEARNER) conf.add_learners(n.node_id());
    }
    if (conf.voters_size() == 0) return InvalidArgument("the genesis names no voting node");
    CL_RETURN_IF_ERROR(l->store_->SetGenesis(genesis_bytes, &state, &conf));
  } else {
    return stored.status();
  }
  l->pool_ = std::make_unique<WorkerPool>(options.verify_threads);
  return l;
}

void Ledger::NoteVerified(ByteView raw) {
  const crypto::Digest d = suite_->Hash(raw);
  std::lock_guard lock(verified_mu_);
  if (!verified_.insert(d).second) return;
  verified_order_.push_back(d);
  if (verified_order_.size() > kMaxVerified) {
    verified_.erase(verified_order_.front());
    verified_order_.pop_front();
  }
}

RaftIndex Ledger::applied_index() const { return store_->applied_index(); }

Height Ledger::height() const { return store_->blocks().latest_height(); }

Result<std::optional<AppliedBlock>> Ledger::ApplyEntry(const certledger::raft::Entry& entry,
                                                       const certledger::raft::ConfState* conf) {
  const RaftIndex index(entry.index());
  if (index <= applied_index()) return std::optional<AppliedBlock>();
  if (entry.type() == certledger::raft::ENTRY_NORMAL && !entry.data().empty()) {
    CL_ASSIGN_OR_RETURN(AppliedBlock b, ApplyBatch(entry));
    return std::optional<AppliedBlock>(std::move(b));
  }
  CL_RETURN_IF_ERROR(store_->ApplyNonBlock(index, conf));
  return std::optional<AppliedBlock>();
}

struct Ledger::Executed {
  Height height;
  contracts::ExecOutput out;
  // Set by Prepare only: what ApplyBatch checks before it uses the result.
  RaftIndex index;       // the entry's
  RaftTerm term;         // the entry's
  Bytes data;            // the entry's bytes
  RaftIndex applied_at;  // the applied index it was computed on
};

Result<Ledger::Executed> Ledger::Execute(const certledger::raft::Entry& entry) {
  v1::Batch batch;
  // A batch that does not decode was proposed by a broken leader; every node
  // sees the same bytes, so every node records the same empty block.
  if (!batch.ParseFromString(entry.data())) batch.Clear();

  const Height height = store_->blocks().latest_height().next();
  const v1::BlockHeader* prev_header = nullptr;
  crypto::Digest prev_hash = genesis_hash_;
  int64_t prev_time_ms = genesis_time_ms_;
  std::optional<int64_t> expiry_floor;
  if (height > Height(1)) {
    const Height prev_height(height.value() - 1);
    if (!last_.header || last_.height != prev_height) {
      CL_ASSIGN_OR_RETURN(storage::StoredBlock prev, store_->blocks().Get(prev_height));
      v1::Block pb;
      auto header = std::make_unique<v1::BlockHeader>();
      if (!pb.ParseFromString(prev.block) || !header->ParseFromString(pb.header()))
        return Corruption("block " + std::to_string(prev_height.value()) + " does not decode");
      last_ = LastBlock{.height = prev_height, .hash = prev.hash, .header = std::move(header)};
    }
    prev_header = last_.header.get();
    prev_hash = last_.hash;
    prev_time_ms = prev_header->time_ms();
    expiry_floor = last_.expiry_floor;
  }

  const std::vector<Bytes> txs(batch.txs().begin(), batch.txs().end());
  std::vector<uint8_t> sig_ok(txs.size(), 0);
  // Txs this node admitted were verified then, over the same bytes: only the
  // checks without cryptography remain (same answer as a full verification,
  // so every node computes the same block).
  pool_->ParallelFor(txs.size(), [&](size_t i) {
    const crypto::Digest d = suite_->Hash(txs[i]);
    bool seen = false;
    {
      std::lock_guard lock(verified_mu_);
      seen = verified_.count(d) != 0;
    }
    sig_ok[i] = (seen ? contracts::TxSignaturesAcceptableOnceVerified(txs[i])
                      : contracts::VerifyTxSignatures(*suite_, txs[i]))
                    ? 1
                    : 0;
  });

  contracts::ExecInput in;
  in.prev_header = prev_header;
  in.prev_hash = prev_hash;
  in.prev_time_ms = prev_time_ms;
  in.ctx = contracts::BlockContext{.height = height,
                                   .time_ms = batch.time_ms(),
                                   .proposer = NodeId(batch.proposer()),
                                   .raft_term = RaftTerm(entry.term()),
                                   .raft_index = RaftIndex(entry.index())};
  in.txs = txs;
  in.state = &store_->state();
  in.history = store_->history().Frontier();
  in.presigned_ok = &sig_ok;
  in.expiry_floor = expiry_floor;
  CL_ASSIGN_OR_RETURN(contracts::ExecOutput out, executor_->Apply(in));
  return Executed{.height = height, .out = std::move(out)};
}

bool Ledger::WouldPrepare(const certledger::raft::Entry& entry) const {
  return entry.type() == certledger::raft::ENTRY_NORMAL && !entry.data().empty() &&
         RaftIndex(entry.index()) == applied_index().next();
}

void Ledger::Prepare(const certledger::raft::Entry& entry) {
  prepared_.reset();
  if (!WouldPrepare(entry)) return;
  const RaftIndex applied_at = applied_index();
  auto ex = Execute(entry);
  if (!ex.ok()) return;
  ex->index = RaftIndex(entry.index());
  ex->term = RaftTerm(entry.term());
  ex->data = entry.data();
  ex->applied_at = applied_at;
  prepared_ = std::make_unique<Executed>(std::move(*ex));
}

void Ledger::ForgetPrepared() {
  prepared_.reset();
  last_ = LastBlock{};  // read again from the store (the expiry floor with it)
}

Result<AppliedBlock> Ledger::ApplyBatch(const certledger::raft::Entry& entry) {
  // A prepared result is used only for this very entry, on the state it was
  // computed on; it is dropped either way.
  std::unique_ptr<Executed> prepared = std::move(prepared_);
  const bool use_prepared = prepared != nullptr && prepared->index == RaftIndex(entry.index()) &&
                            prepared->term == RaftTerm(entry.term()) &&
                            prepared->applied_at == applied_index() &&
                            prepared->height == store_->blocks().latest_height().next() &&
                            prepared->data == entry.data();
  Executed ex;
  if (use_prepared) {
    ex = std::move(*prepared);
  } else {
    CL_ASSIGN_OR_RETURN(ex, Execute(entry));
  }
  contracts::ExecOutput& out = ex.out;

  storage::BlockWrite w;
  w.raft_index = RaftIndex(entry.index());
  w.height = ex.height;
  w.block_hash = out.block_hash;
  w.block = std::move(out.block);
  w.tx_ids = out.tx_ids;
  w.receipts = out.receipts;
  w.state = &out.writes;
  w.history_nodes = std::move(out.history_nodes);
  w.history_frontier = std::move(out.history);
  CL_RETURN_IF_ERROR(store_->ApplyBlock(w));
  auto header = std::make_unique<v1::BlockHeader>();
  if (header->ParseFromString(out.header_bytes))
    last_ = LastBlock{.height = ex.height,
                      .hash = out.block_hash,
                      .header = std::move(header),
                      .expiry_floor = out.expiry_floor};
  else
    last_ = LastBlock{};

  return AppliedBlock{.height = ex.height,
                      .hash = out.block_hash,
                      .header = std::move(out.header_bytes),
                      .tx_ids = std::move(out.tx_ids),
                      .receipts = std::move(out.receipts),
                      .time_ms = out.time_ms,
                      .prepared = use_prepared};
}

}  // namespace cl::node
