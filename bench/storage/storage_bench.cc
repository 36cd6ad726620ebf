// storage_bench: numbers for docs/performance.md (Storage). Not a test.
//
//   storage_bench apply  DIR [blocks=200] [txs=1000]
//     Applies `blocks` blocks of `txs` transactions, each tx with two state
//     writes, through Store::ApplyBlock (synced). Baseline in the same run: a
//     plain RocksDB instance (default options) writing a batch with the same
//     keys and value bytes, synced. Prints blocks/s, txs/s and the ratio.
//
//   storage_bench proofs DIR [leaves=10000000] [samples=20000]
//     Builds (or extends) a store whose history tree has `leaves` leaves by
//     applying blocks of 1,000 small txs (unsynced: a bulk load), reopens it
//     (cold block cache) and times inclusion proofs (latest and random old
//     sizes) and consistency proofs. Baseline in the same run: one point read
//     (BlockStore::FindTx of a random tx). Prints mean/p50/p99 and ratios.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "crypto/merkle.h"
#include "proto/records.pb.h"
#include "proto/tx.pb.h"
#include "storage/store.h"

namespace {

using cl::Bytes;
using cl::Height;
using cl::RaftIndex;
using cl::crypto::Digest;
using Clock = std::chrono::steady_clock;

constexpr char kChain[] = "bench-chain";

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

[[noreturn]] void Die(const std::string& what, const cl::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

Bytes Filler(std::mt19937_64& rng, size_t n) {
  Bytes b(n, '\0');
  for (auto& c : b) c = static_cast<char>(rng());
  return b;
}

// Builds the next block of `txs` transactions on top of the store's latest.
struct Builder {
  const cl::crypto::Suite& suite;
  Height height;
  Digest prev;
  cl::crypto::MerkleFrontier frontier;
  std::mt19937_64 rng{42};

  explicit Builder(const cl::storage::Store& s)
      : suite(s.suite()), height(s.blocks().latest_height()), prev(s.blocks().latest_hash()),
        frontier(s.history().Frontier()) {}

  // tx_bytes: size of each tx body; state: two writes per tx when non-null.
  cl::storage::BlockWrite Next(RaftIndex idx, size_t txs, size_t tx_bytes,
                               cl::contracts::WriteSet* state) {
    cl::storage::BlockWrite w;
    w.raft_index = idx;
    w.height = height + 1;
    certledger::v1::Block block;
    std::vector<Digest> tx_leaves;
    std::vector<Digest> receipt_leaves;
    tx_leaves.reserve(txs);
    receipt_leaves.reserve(txs);
    cl::crypto::MerkleFrontier f = frontier;
    for (size_t i = 0; i < txs; ++i) {
      certledger::v1::SignedTx tx;
      Bytes body = std::to_string(w.height.value()) + ":" + std::to_string(i) + ":";
      body += Filler(rng, tx_bytes > body.size() ? tx_bytes - body.size() : 0);
      tx.set_body(body);
      tx.set_signer(Filler(rng, tx_bytes > 64 ? 32 : 0));
      tx.set_signature(Filler(rng, tx_bytes > 64 ? 64 : 0));
      Digest id = suite.Hash(tx.body());
      block.add_txs(tx.SerializeAsString());
      certledger::v1::Receipt r;
      r.set_tx_id(id.ToBytes());
      r.set_code(certledger::v1::OK);
      r.set_height(w.height.value());
      r.set_index(static_cast<uint32_t>(i));
      Bytes rb = r.SerializeAsString();
      block.add_receipts(rb);
      receipt_leaves.push_back(cl::crypto::MerkleLeafHash(suite, rb));
      w.receipts.push_back(std::move(rb));
      w.tx_ids.push_back(id);
      tx_leaves.push_back(cl::crypto::MerkleLeafHash(suite, id.view()));
      f.Append(suite, tx_leaves.back(), &w.history_nodes);
      if (state != nullptr) {
        state->Put("cert/" + id.ToHex(), Filler(rng, 200));
        state->Put("acl/" + id.ToHex().substr(0, 16) + "/" + std::to_string(i), Filler(rng, 100));
      }
    }
    certledger::v1::BlockHeader header;
    header.set_chain_id(kChain);
    header.set_height(w.height.value());
    header.set_prev_hash(prev.ToBytes());
    header.set_tx_root(cl::crypto::MerkleRoot(suite, tx_leaves).ToBytes());
    header.set_result_root(cl::crypto::MerkleRoot(suite, receipt_leaves).ToBytes());
    header.set_history_root(f.Root(suite).ToBytes());
    header.set_history_size(f.size());
    header.set_raft_index(idx.value());
    header.set_raft_term(1);
    header.set_tx_count(static_cast<uint32_t>(txs));
    block.set_header(header.SerializeAsString());
    w.block = block.SerializeAsString();
    w.block_hash = suite.Hash(block.header());
    w.history_frontier = std::move(f);
    w.state = state;
    return w;
  }
  void Advance(const cl::storage::BlockWrite& w) {
    height = w.height;
    prev = w.block_hash;
    frontier = w.history_frontier;
  }
};

std::unique_ptr<cl::storage::Store> OpenStore(const std::string& dir, bool sync) {
  auto s = cl::storage::Store::Open(dir, cl::storage::StoreOptions{.chain_id = kChain,
                                                                   .sync_applies = sync});
  if (!s.ok()) Die("open " + dir, s.status());
  return std::move(s).value();
}

// The same keys and values as the store's apply batch, written to plain RocksDB.
rocksdb::WriteBatch RawBatch(const cl::storage::BlockWrite& w) {
  rocksdb::WriteBatch b;
  b.Put("h" + cl::BigEndian64(w.height.value()), w.block_hash.ToBytes() + w.block);
  b.Put("x" + w.block_hash.ToBytes(), cl::BigEndian64(w.height.value()));
  for (size_t i = 0; i < w.tx_ids.size(); ++i) {
    b.Put(w.tx_ids[i].ToBytes(), Bytes(20, 'i'));
    b.Put(cl::BigEndian64(w.height.value()) + std::to_string(i), w.receipts[i]);
  }
  for (const auto& [k, v] : w.state->ops()) b.Put(k, *v);
  for (const auto& [id, d] : w.history_nodes) b.Put(std::to_string(id.level) + ":" + std::to_string(id.index), d.ToBytes());
  b.Put("applied", cl::BigEndian64(w.raft_index.value()));
  return b;
}

int Apply(const std::string& dir, int blocks, size_t txs) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = OpenStore(dir + "/store", /*sync=*/true);
  Builder builder(*store);
  rocksdb::DB* raw = nullptr;
  rocksdb::Options ro;
  ro.create_if_missing = true;
  if (auto s = rocksdb::DB::Open(ro, dir + "/raw", &raw); !s.ok()) {
    std::fprintf(stderr, "raw open: %s\n", s.ToString().c_str());
    return 1;
  }
  std::unique_ptr<rocksdb::DB> raw_db(raw);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  Clock::duration build{}, store_time{}, raw_time{};
  uint64_t batch_bytes = 0;
  for (int b = 0; b < blocks; ++b) {
    cl::contracts::WriteSet ws;
    auto t0 = Clock::now();
    auto w = builder.Next(RaftIndex(static_cast<uint64_t>(b) + 1), txs, 250, &ws);
    rocksdb::WriteBatch rb = RawBatch(w);
    auto t1 = Clock::now();
    if (auto s = store->ApplyBlock(w); !s.ok()) Die("apply", s);
    auto t2 = Clock::now();
    if (auto s = raw_db->Write(sync, &rb); !s.ok()) {
      std::fprintf(stderr, "raw write: %s\n", s.ToString().c_str());
      return 1;
    }
    auto t3 = Clock::now();
    builder.Advance(w);
    build += t1 - t0;
    store_time += t2 - t1;
    raw_time += t3 - t2;
    batch_bytes += rb.GetDataSize();
  }
  const double n_tx = static_cast<double>(blocks) * static_cast<double>(txs);
  std::printf("apply: %d blocks x %zu txs (2 state writes each), %.1f MB of batches, synced\n",
              blocks, txs, static_cast<double>(batch_bytes) / 1e6);
  std::printf("  Store::ApplyBlock      %8.1f blocks/s  %10.0f txs/s  (%.2f ms/block)\n",
              blocks / Seconds(store_time), n_tx / Seconds(store_time),
              1e3 * Seconds(store_time) / blocks);
  std::printf("  raw RocksDB batch      %8.1f blocks/s  %10.0f txs/s  (%.2f ms/block)  [baseline]\n",
              blocks / Seconds(raw_time), n_tx / Seconds(raw_time), 1e3 * Seconds(raw_time) / blocks);
  std::printf("  ratio store/raw time   %8.2f\n", Seconds(store_time) / Seconds(raw_time));
  std::printf("  (building the blocks: %.2f ms/block, not counted)\n", 1e3 * Seconds(build) / blocks);
  return 0;
}

struct Stats {
  double mean_us, p50_us, p99_us;
};
Stats Summarize(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double u : us) sum += u;
  return {sum / static_cast<double>(us.size()), us[us.size() / 2], us[us.size() * 99 / 100]};
}

int Proofs(const std::string& dir, uint64_t leaves, int samples) {
  const std::string path = dir + "/store";
  {
    auto store = OpenStore(path, /*sync=*/false);
    Builder builder(*store);
    auto t0 = Clock::now();
    uint64_t start = store->history().size();
    while (store->history().size() < leaves) {
      size_t txs = static_cast<size_t>(std::min<uint64_t>(1000, leaves - store->history().size()));
      auto w = builder.Next(store->applied_index() + 1, txs, 48, nullptr);
      if (auto s = store->ApplyBlock(w); !s.ok()) Die("apply", s);
      builder.Advance(w);
      uint64_t done = store->history().size() - start;
      if (done % 1000000 == 0)
        std::fprintf(stderr, "  built %llu leaves (%.0f s)\n", static_cast<unsigned long long>(store->history().size()),
                     Seconds(Clock::now() - t0));
    }
    if (store->history().size() > start)
      std::printf("built %llu leaves in %.0f s (unsynced bulk apply, blocks of 1000 txs)\n",
                  static_cast<unsigned long long>(store->history().size() - start),
                  Seconds(Clock::now() - t0));
  }
  auto store = OpenStore(path, /*sync=*/false);  // cold block cache
  const uint64_t n = store->history().size();
  const auto& suite = store->suite();
  std::mt19937_64 rng(7);
  const Digest root = *store->history().Root(n);
  std::vector<double> point, incl_latest, incl_old, cons;
  uint64_t path_len = 0;
  for (int i = 0; i < samples; ++i) {
    // Baseline: one point read of a random applied tx.
    Height h(1 + rng() % store->blocks().latest_height().value());
    uint64_t idx = rng() % n;
    uint64_t old = 1 + rng() % n;
    auto b = store->blocks().Get(h);  // (not timed) a tx id to look up
    certledger::v1::Block block;
    block.ParseFromString(b->block);
    certledger::v1::SignedTx tx;
    tx.ParseFromString(block.txs(static_cast<int>(rng() % static_cast<uint64_t>(block.txs_size()))));
    Digest id = suite.Hash(tx.body());

    auto t0 = Clock::now();
    auto loc = store->blocks().FindTx(id);
    auto t1 = Clock::now();
    auto p = store->history().InclusionProof(idx, n);
    auto t2 = Clock::now();
    auto p_old = store->history().InclusionProof(std::min(idx, old - 1), old);
    auto t3 = Clock::now();
    auto c = store->history().ConsistencyProof(old, n);
    auto t4 = Clock::now();
    if (!loc.ok() || !p.ok() || !p_old.ok() || !c.ok()) Die("proof", p.ok() ? c.status() : p.status());
    path_len += p->size();
    point.push_back(1e6 * Seconds(t1 - t0));
    incl_latest.push_back(1e6 * Seconds(t2 - t1));
    incl_old.push_back(1e6 * Seconds(t3 - t2));
    cons.push_back(1e6 * Seconds(t4 - t3));
  }
  // One end-to-end verification against the root, so the numbers are of real proofs.
  {
    certledger::v1::Block block;
    block.ParseFromString(store->blocks().Get(Height(1))->block);
    certledger::v1::SignedTx tx;
    tx.ParseFromString(block.txs(0));
    auto leaf = cl::crypto::MerkleLeafHash(suite, suite.Hash(tx.body()).view());
    auto p = store->history().InclusionProof(0, n);
    if (auto s = cl::crypto::VerifyMerkleInclusion(suite, 0, n, leaf, *p, root); !s.ok()) Die("verify", s);
  }
  Stats sp = Summarize(point), si = Summarize(incl_latest), so = Summarize(incl_old), sc = Summarize(cons);
  std::printf("proofs: %llu leaves, %d samples each, cold open, avg audit path %.1f hashes\n",
              static_cast<unsigned long long>(n), samples, static_cast<double>(path_len) / samples);
  auto row = [&](const char* name, const Stats& s) {
    std::printf("  %-28s mean %7.1f us  p50 %7.1f us  p99 %7.1f us  ratio(mean) %5.1f\n", name, s.mean_us,
                s.p50_us, s.p99_us, s.mean_us / sp.mean_us);
  };
  row("point read (FindTx) [base]", sp);
  row("inclusion, latest size", si);
  row("inclusion, random old size", so);
  row("consistency, old -> latest", sc);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: storage_bench apply DIR [blocks] [txs] | proofs DIR [leaves] [samples]\n");
    return 2;
  }
  const std::string mode = argv[1], dir = argv[2];
  if (mode == "apply")
    return Apply(dir, argc > 3 ? std::atoi(argv[3]) : 200,
                 argc > 4 ? static_cast<size_t>(std::atoll(argv[4])) : 1000);
  if (mode == "proofs")
    return Proofs(dir, argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 10'000'000,
                  argc > 4 ? std::atoi(argv[4]) : 20000);
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
