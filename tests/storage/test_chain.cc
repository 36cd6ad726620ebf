#include "tests/storage/test_chain.h"

#include <sstream>

#include "proto/records.pb.h"
#include "proto/tx.pb.h"

namespace cl::storage::testing {

namespace {
Bytes HeightKey(uint64_t h) { return "h/" + BigEndian64(h); }
std::string N(uint64_t v) { return std::to_string(v); }
}  // namespace

bool IsBlockEntry(uint64_t index) { return index % 5 != 0; }

std::string EntryData(uint64_t index, uint64_t term) {
  return std::string(IsBlockEntry(index) ? "B:" : "N:") + N(index) + ":" + N(term);
}

// ---------------------------------------------------------------- ChainBuilder

void ChainBuilder::ResumeFrom(const Store& store) {
  height_ = store.blocks().latest_height();
  hash_ = store.blocks().latest_hash();
  frontier_ = store.history().Frontier();
}

BlockWrite ChainBuilder::Next(RaftIndex raft_index, RaftTerm raft_term, size_t txs,
                              contracts::WriteSet* state, bool duplicate_of_first) const {
  BlockWrite w;
  w.raft_index = raft_index;
  w.height = height_ + 1;
  const uint64_t h = w.height.value();
  certledger::v1::Block block;
  std::vector<crypto::Digest> tx_leaves, receipt_leaves;
  crypto::MerkleFrontier f = frontier_;
  for (size_t i = 0; i < txs; ++i) {
    certledger::v1::SignedTx tx;
    size_t n = (duplicate_of_first && txs > 1 && i == txs - 1) ? 0 : i;
    tx.set_body("tx:" + N(h) + ":" + N(n));
    tx.set_signer("signer");
    crypto::Digest id = suite_.Hash(tx.body());
    block.add_txs(tx.SerializeAsString());
    certledger::v1::Receipt r;
    r.set_tx_id(id.ToBytes());
    r.set_code(n == i ? certledger::v1::OK : certledger::v1::DUPLICATE_TX);
    r.set_height(h);
    r.set_index(static_cast<uint32_t>(i));
    Bytes rb = r.SerializeAsString();
    block.add_receipts(rb);
    w.receipts.push_back(rb);
    w.tx_ids.push_back(id);
    tx_leaves.push_back(crypto::MerkleLeafHash(suite_, id.view()));
    receipt_leaves.push_back(crypto::MerkleLeafHash(suite_, rb));
    f.Append(suite_, tx_leaves.back(), &w.history_nodes);
  }
  certledger::v1::BlockHeader header;
  header.set_chain_id(kChainId);
  header.set_height(h);
  header.set_prev_hash(hash_.ToBytes());
  header.set_tx_root(crypto::MerkleRoot(suite_, tx_leaves).ToBytes());
  header.set_result_root(crypto::MerkleRoot(suite_, receipt_leaves).ToBytes());
  header.set_history_root(f.Root(suite_).ToBytes());
  header.set_history_size(f.size());
  header.set_time_ms(static_cast<int64_t>(h) * 1000);
  header.set_proposer(1);
  header.set_raft_term(raft_term.value());
  header.set_raft_index(raft_index.value());
  header.set_tx_count(static_cast<uint32_t>(txs));
  block.set_header(header.SerializeAsString());
  w.block = block.SerializeAsString();
  w.block_hash = suite_.Hash(block.header());
  w.history_frontier = std::move(f);
  if (state != nullptr) {
    state->Put("count", BigEndian64(h));
    state->Put(HeightKey(h), "v" + N(h));
    if (h > 5) state->Delete(HeightKey(h - 5));
    w.state = state;
  }
  return w;
}

void ChainBuilder::Advance(const BlockWrite& w) {
  height_ = w.height;
  hash_ = w.block_hash;
  frontier_ = w.history_frontier;
}

// ---------------------------------------------------------------- LogModel

void LogModel::ApplyAppend(uint64_t lo, uint64_t hi, uint64_t term) {
  terms.erase(terms.lower_bound(lo), terms.end());
  for (uint64_t i = lo; i <= hi; ++i) terms[i] = term;
}

void LogModel::Consume(const std::string& line) {
  std::istringstream in(line);
  char kind = 0;
  in >> kind;
  if (kind == 'I' || kind == 'A') {
    uint64_t lo = 0, hi = 0, term = 0;
    in >> lo >> hi >> term;
    if (!in) return;  // a torn last line: the process died while writing it
    if (kind == 'I') {
      pending = {lo, {hi, term}};
    } else {
      ApplyAppend(lo, hi, term);
      pending.reset();
    }
  } else if (kind == 'P') {
    uint64_t idx = 0, height = 0, durable = 0;
    in >> idx >> height >> durable;
    if (!in) return;
    if (durable != 0) {
      durable_applied = std::max(durable_applied, idx);
      durable_height = std::max(durable_height, height);
    }
  }
}

// ---------------------------------------------------------------- CheckStore

namespace {

Status Fail(const std::string& what) { return Internal("invariant violated: " + what); }

// The store's log must hold exactly the model's entries from its first index.
Status CompareLog(const Store& store, const std::map<uint64_t, uint64_t>& terms) {
  auto& log = const_cast<Store&>(store).raft_log();
  uint64_t first = log.FirstIndex()->value();
  uint64_t last = log.LastIndex()->value();
  uint64_t model_last = terms.empty() ? 0 : terms.rbegin()->first;
  if (model_last >= first && last != model_last)
    return Fail("last index " + N(last) + ", acknowledged log ends at " + N(model_last));
  if (model_last < first && last < model_last)
    return Fail("log lost acknowledged entries up to " + N(model_last));
  for (auto it = terms.lower_bound(first); it != terms.end(); ++it) {
    auto t = log.Term(RaftIndex(it->first));
    if (!t.ok()) return Fail("term of acknowledged entry " + N(it->first) + ": " + t.status().ToString());
    if (t->value() != it->second)
      return Fail("entry " + N(it->first) + " has term " + N(t->value()) + ", acknowledged " + N(it->second));
  }
  return Status::Ok();
}

}  // namespace

Status CheckStore(const Store& store, LogModel* model) {
  const crypto::Suite& suite = store.suite();
  auto& log = const_cast<Store&>(store).raft_log();
  const uint64_t applied = store.applied_index().value();
  const uint64_t latest = store.blocks().latest_height().value();
  CL_ASSIGN_OR_RETURN(RaftIndex first_idx, log.FirstIndex());
  CL_ASSIGN_OR_RETURN(RaftIndex last_idx, log.LastIndex());
  const uint64_t first = first_idx.value(), last = last_idx.value();
  if (applied > last) return Fail("applied index " + N(applied) + " > last index " + N(last));
  if (first > applied + 1) return Fail("log compacted past the applied index");

  // Raft log against what was acknowledged.
  if (model != nullptr) {
    Status s = CompareLog(store, model->terms);
    if (!s.ok() && model->pending) {
      // The last append may have reached the disk without being acknowledged.
      LogModel with = *model;
      with.ApplyAppend(model->pending->first, model->pending->second.first,
                       model->pending->second.second);
      if (CompareLog(store, with.terms).ok()) {
        model->terms = std::move(with.terms);
        s = Status::Ok();
      }
    }
    model->pending.reset();
    CL_RETURN_IF_ERROR(s);
    if (applied < model->durable_applied)
      return Fail("applied index " + N(applied) + " < acknowledged " + N(model->durable_applied));
    if (latest < model->durable_height)
      return Fail("latest height " + N(latest) + " < acknowledged " + N(model->durable_height));
  }
  if (last >= first) {
    CL_ASSIGN_OR_RETURN(auto entries, log.Entries(first_idx, last_idx + 1, UINT64_MAX));
    if (entries.size() != last - first + 1) return Fail("Entries returned a short log");
    for (const auto& e : entries)
      if (e.data() != EntryData(e.index(), e.term())) return Fail("entry " + N(e.index()) + " data damaged");
  }

  // Blocks: contiguous, hash-chained, each applied from a block entry in order.
  crypto::Digest prev = store.blocks().Genesis().ok() ? store.blocks().Genesis()->hash : crypto::Digest{};
  std::vector<crypto::Digest> leaves;
  std::map<crypto::Digest, TxLocation> first_seen;
  uint64_t prev_raft_index = 0;
  certledger::v1::BlockHeader header;
  for (uint64_t h = 1; h <= latest; ++h) {
    auto b = store.blocks().Get(Height(h));
    if (!b.ok()) return Fail("block " + N(h) + ": " + b.status().ToString());
    certledger::v1::Block block;
    if (!block.ParseFromString(b->block) || !header.ParseFromString(block.header()))
      return Fail("block " + N(h) + " does not parse");
    if (header.prev_hash() != prev.view()) return Fail("block " + N(h) + " prev_hash breaks the chain");
    prev = b->hash;
    if (header.raft_index() <= prev_raft_index || !IsBlockEntry(header.raft_index()))
      return Fail("block " + N(h) + " applied from raft index " + N(header.raft_index()));
    prev_raft_index = header.raft_index();
    if (header.raft_index() >= first - 1) {
      CL_ASSIGN_OR_RETURN(RaftTerm t, log.Term(RaftIndex(header.raft_index())));
      if (t.value() != header.raft_term())
        return Fail("block " + N(h) + " was applied from an entry that is no longer in the log");
    }
    for (int i = 0; i < block.txs_size(); ++i) {
      certledger::v1::SignedTx tx;
      tx.ParseFromString(block.txs(i));
      crypto::Digest id = suite.Hash(tx.body());
      TxLocation here{Height(h), static_cast<uint32_t>(i), leaves.size()};
      first_seen.emplace(id, here);
      auto loc = store.blocks().FindTx(id);
      if (!loc.ok() || *loc != first_seen[id]) return Fail("tx index of block " + N(h) + " tx " + N(i));
      auto r = store.blocks().Receipt(Height(h), static_cast<uint32_t>(i));
      if (!r.ok() || *r != block.receipts(i)) return Fail("receipt of block " + N(h) + " tx " + N(i));
      leaves.push_back(crypto::MerkleLeafHash(suite, id.view()));
    }
    CL_ASSIGN_OR_RETURN(crypto::Digest root_then, store.history().Root(header.history_size()));
    if (header.history_size() != leaves.size() || header.history_root() != root_then.view())
      return Fail("history root of block " + N(h) + " differs from the stored tree");
  }
  if (latest > 0 && store.blocks().latest_hash() != prev) return Fail("latest hash is not the last block's");
  // Entries applied after the last block formed no block.
  for (uint64_t i = std::max(prev_raft_index + 1, first); i <= applied; ++i)
    if (IsBlockEntry(i)) return Fail("block entry " + N(i) + " is applied but has no block");

  // History tree against a recomputation from every tx id.
  const crypto::Digest root = crypto::MerkleRoot(suite, leaves);
  if (store.history().size() != leaves.size()) return Fail("history size differs from the tx count");
  CL_ASSIGN_OR_RETURN(crypto::Digest stored_root, store.history().Root(leaves.size()));
  if (stored_root != root || store.history().Frontier().Root(suite) != root)
    return Fail("history root differs from its recomputation");
  if (!leaves.empty()) {
    uint64_t idx = (leaves.size() * 7919) % leaves.size();
    CL_ASSIGN_OR_RETURN(auto proof, store.history().InclusionProof(idx, leaves.size()));
    CL_RETURN_IF_ERROR(crypto::VerifyMerkleInclusion(suite, idx, leaves.size(), leaves[idx], proof, root));
    uint64_t old = leaves.size() / 3 + 1;
    std::span<const crypto::Digest> prefix(leaves.data(), old);
    CL_ASSIGN_OR_RETURN(auto cproof, store.history().ConsistencyProof(old, leaves.size()));
    CL_RETURN_IF_ERROR(crypto::VerifyMerkleConsistency(suite, old, leaves.size(),
                                                       crypto::MerkleRoot(suite, prefix), root, cproof));
  }

  // State: written by exactly the applied blocks.
  CL_ASSIGN_OR_RETURN(auto count, store.state().Get("count"));
  if (latest == 0 ? count.has_value() : (!count || *count != BigEndian64(latest)))
    return Fail("state 'count' does not match the latest height " + N(latest));
  CL_ASSIGN_OR_RETURN(auto hs, store.state().Scan("h/", "", 100));
  uint64_t lo = latest > 4 ? latest - 4 : 1;
  if (hs.size() != (latest == 0 ? 0 : latest - lo + 1)) return Fail("state 'h/' has " + N(hs.size()) + " keys");
  for (size_t i = 0; i < hs.size(); ++i)
    if (hs[i].first != HeightKey(lo + i) || hs[i].second != "v" + N(lo + i))
      return Fail("state 'h/' key " + N(i) + " wrong");

  // Configuration: the last applied conf change (entries with index % 10 == 0).
  CL_ASSIGN_OR_RETURN(auto init, log.GetInitialState());
  uint64_t conf_index = applied / 10 * 10;
  if (conf_index == 0 ? init.conf_state.voters_size() != 0
                      : (init.conf_state.voters_size() != 1 || init.conf_state.voters(0) != conf_index))
    return Fail("conf state is not the one applied at " + N(conf_index));
  return Status::Ok();
}

// ---------------------------------------------------------------- CrashWorkload

CrashWorkload::CrashWorkload(Store& store, uint64_t seed, Ack ack, bool durable_applies)
    : store_(store), rng_(seed), ack_(std::move(ack)), chain_(store.suite()),
      durable_applies_(durable_applies) {
  chain_.ResumeFrom(store);
  auto init = store.raft_log().GetInitialState();
  if (init.ok()) term_ = std::max<uint64_t>(term_, init->hard_state.term());
  auto last = store.raft_log().LastIndex();
  if (last.ok()) {
    auto t = store.raft_log().Term(*last);
    if (t.ok()) term_ = std::max<uint64_t>(term_, t->value());
  }
}

Status CrashWorkload::Step() {
  uint64_t applied = store_.applied_index().value();
  CL_ASSIGN_OR_RETURN(RaftIndex last, store_.raft_log().LastIndex());
  uint64_t r = rng_() % 100;
  if (last.value() == applied || r < 35) return AppendNew();
  if (r < 42) return ReplaceSuffix();
  return ApplyNext();
}

namespace {
std::vector<raft::Entry> MakeEntries(uint64_t lo, uint64_t n, uint64_t term) {
  std::vector<raft::Entry> out;
  for (uint64_t i = lo; i < lo + n; ++i) {
    raft::Entry e;
    e.set_index(i);
    e.set_term(term);
    e.set_type(i % 10 == 0 ? raft::ENTRY_CONF_CHANGE : raft::ENTRY_NORMAL);
    e.set_data(EntryData(i, term));
    out.push_back(std::move(e));
  }
  return out;
}
}  // namespace

Status CrashWorkload::AppendNew() {
  CL_ASSIGN_OR_RETURN(RaftIndex last, store_.raft_log().LastIndex());
  uint64_t lo = last.value() + 1, n = 1 + rng_() % 4;
  auto entries = MakeEntries(lo, n, term_);
  const std::string span = N(lo) + " " + N(lo + n - 1) + " " + N(term_);
  ack_("I " + span);
  CL_RETURN_IF_ERROR(store_.raft_log().Append(entries, /*sync=*/true));
  ack_("A " + span);
  return Status::Ok();
}

Status CrashWorkload::ReplaceSuffix() {
  uint64_t applied = store_.applied_index().value();
  CL_ASSIGN_OR_RETURN(RaftIndex last, store_.raft_log().LastIndex());
  if (last.value() <= applied) return AppendNew();
  ++term_;  // a new leader overwrites the unapplied (uncommitted) suffix
  uint64_t lo = applied + 1 + rng_() % (last.value() - applied), n = 1 + rng_() % 3;
  auto entries = MakeEntries(lo, n, term_);
  raft::HardState hs;
  hs.set_term(term_);
  hs.set_vote(1);
  hs.set_commit(applied);
  const std::string span = N(lo) + " " + N(lo + n - 1) + " " + N(term_);
  ack_("I " + span);
  CL_RETURN_IF_ERROR(store_.raft_log().Persist(&hs, entries, /*sync=*/true));
  ack_("A " + span);
  return Status::Ok();
}

Status CrashWorkload::ApplyNext() {
  RaftIndex idx = store_.applied_index() + 1;
  CL_ASSIGN_OR_RETURN(auto entries, store_.raft_log().Entries(idx, idx + 1, UINT64_MAX));
  const raft::Entry& e = entries.at(0);
  if (e.data() != EntryData(e.index(), e.term())) return Corruption("entry data differs");
  if (IsBlockEntry(idx.value())) {
    contracts::WriteSet ws;
    BlockWrite w = chain_.Next(idx, RaftTerm(e.term()), 1 + rng_() % 6, &ws, rng_() % 10 == 0);
    CL_RETURN_IF_ERROR(store_.ApplyBlock(w));
    chain_.Advance(w);
  } else if (idx.value() % 10 == 0) {
    raft::ConfState cs;
    cs.add_voters(idx.value());
    CL_RETURN_IF_ERROR(store_.ApplyNonBlock(idx, &cs));
  } else {
    CL_RETURN_IF_ERROR(store_.ApplyNonBlock(idx, nullptr));
  }
  ack_("P " + N(idx.value()) + " " + N(chain_.height().value()) + " " + (durable_applies_ ? "1" : "0"));
  if (++applies_ % 25 == 0 && idx.value() > 3) {
    Status s = store_.raft_log().Compact(idx - 3);
    if (!s.ok() && s.code() != Code::kCompacted) return s;
  }
  return Status::Ok();
}

}  // namespace cl::storage::testing
