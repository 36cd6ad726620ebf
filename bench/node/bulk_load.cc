#include "bench/node/bulk_load.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>

#include "crypto/domain.h"
#include "crypto/keyfile.h"
#include "node/genesis.h"
#include "node/ledger.h"
#include "proto/raft.pb.h"
#include "proto/records.pb.h"
#include "storage/store.h"

namespace cl::bench {
namespace {

namespace v1 = certledger::v1;
namespace raftpb = certledger::raft;
namespace fs = std::filesystem;

constexpr uint64_t kLeader = 1;
constexpr uint64_t kTerm = 1;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Copies a closed RocksDB directory the way a RocksDB checkpoint does: table
// files (immutable once written) are hard-linked, everything else copied.
Status CloneStore(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return IoError("create " + to.string() + ": " + ec.message());
  for (const fs::directory_entry& e : fs::directory_iterator(from)) {
    const fs::path dst = to / e.path().filename();
    if (e.path().filename() == "LOCK") continue;
    if (e.path().extension() == ".sst") {
      fs::create_hard_link(e.path(), dst, ec);
      if (!ec) continue;
      ec.clear();  // another file system: copy instead
    }
    fs::copy(e.path(), dst, fs::copy_options::recursive, ec);
    if (ec) return IoError("copy " + e.path().string() + ": " + ec.message());
  }
  return Status::Ok();
}

}  // namespace

Result<BulkLoadResult> BulkLoad(const BulkLoadOptions& o, const TxFactory& f) {
  if (o.data_dirs.empty()) return InvalidArgument("bulk load: no data directory");
  if (o.batch_txs == 0) return InvalidArgument("bulk load: batch_txs must be positive");
  const auto t0 = std::chrono::steady_clock::now();
  CL_ASSIGN_OR_RETURN(node::LoadedGenesis g, node::LoadGenesis(o.network_dir + "/genesis.json"));
  std::string pass;
  {
    FILE* p = std::fopen((o.network_dir + "/passphrase").c_str(), "r");
    if (p == nullptr) return NotFound("bulk load: no passphrase file in " + o.network_dir);
    char buf[512] = {0};
    if (std::fgets(buf, sizeof buf, p) != nullptr) pass = buf;
    std::fclose(p);
    while (!pass.empty() && (pass.back() == '\n' || pass.back() == '\r')) pass.pop_back();
  }
  // Every voting node's key signs every header (a commit certificate).
  std::vector<std::pair<uint64_t, crypto::KeyPair>> node_keys;
  for (const v1::NodeInfo& n : g.genesis->nodes()) {
    if (n.role() != v1::NodeInfo::VOTER) continue;
    CL_ASSIGN_OR_RETURN(crypto::KeyPair kp,
                        crypto::ReadKeyFile(o.network_dir + "/keys/node-" + std::to_string(n.node_id()) + ".key",
                                            *g.suite, pass));
    node_keys.emplace_back(n.node_id(), std::move(kp));
  }

  const std::string ledger_dir = o.data_dirs[0] + "/ledger";  // as Node::Create lays it out
  CL_ASSIGN_OR_RETURN(std::unique_ptr<node::Ledger> ledger,
                      node::Ledger::Open(*g.genesis, g.bytes,
                                         node::LedgerOptions{.data_dir = ledger_dir,
                                                             .verify_threads = o.verify ? 1u : 0u,
                                                             .sync_applies = false}));
  if (ledger->height() != Height(0) || ledger->applied_index() != RaftIndex(0))
    return FailedPrecondition("bulk load: " + ledger_dir + " already holds a chain");
  storage::Store& store = ledger->store();

  // Index 1: the new leader's no-op entry (Raft §8), as after the first election.
  uint64_t index = 1;
  {
    raftpb::Entry noop;
    noop.set_term(kTerm);
    noop.set_index(index);
    raftpb::HardState hs;
    hs.set_term(kTerm);
    hs.set_vote(kLeader);
    hs.set_commit(index);
    CL_RETURN_IF_ERROR(store.raft_log().Persist(&hs, std::span<const raftpb::Entry>(&noop, 1), false));
    CL_RETURN_IF_ERROR(ledger->ApplyEntry(noop, nullptr).status());
  }

  BulkLoadResult res;
  // Signing the next batch overlaps applying this one.
  auto sign = [&](uint64_t first) {
    const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(o.batch_txs, o.count - first));
    return f.CorpusAnchors(first, n, o.sign_threads);
  };
  std::future<std::vector<Bytes>> next;
  if (o.count > 0) next = std::async(std::launch::async, sign, 0);
  int64_t last_time_ms = 0;
  for (uint64_t first = 0; first < o.count; first += o.batch_txs) {
    std::vector<Bytes> txs = next.get();
    if (first + o.batch_txs < o.count) next = std::async(std::launch::async, sign, first + o.batch_txs);
    v1::Batch batch;
    last_time_ms = std::max(NowMs(), last_time_ms + 1);
    batch.set_time_ms(last_time_ms);
    batch.set_proposer(kLeader);
    for (Bytes& tx : txs) {
      if (!o.verify) ledger->NoteVerified(tx);
      batch.add_txs(std::move(tx));
    }
    raftpb::Entry e;
    e.set_term(kTerm);
    e.set_index(++index);
    e.set_type(raftpb::ENTRY_NORMAL);
    e.set_data(batch.SerializeAsString());
    raftpb::HardState hs;
    hs.set_term(kTerm);
    hs.set_vote(kLeader);
    hs.set_commit(index);
    CL_RETURN_IF_ERROR(store.raft_log().Persist(&hs, std::span<const raftpb::Entry>(&e, 1), false));
    CL_ASSIGN_OR_RETURN(std::optional<node::AppliedBlock> b, ledger->ApplyEntry(e, nullptr));
    if (!b) return Internal("bulk load: entry " + std::to_string(index) + " formed no block");
    for (const Bytes& rb : b->receipts) {
      v1::Receipt r;
      if (!r.ParseFromString(rb) || r.code() != v1::OK)
        return Aborted("bulk load: a corpus anchor was rejected at height " + std::to_string(b->height.value()) +
                       ": " + r.message());
    }
    v1::CommitCertificate cert;
    cert.set_height(b->height.value());
    cert.set_block_hash(b->hash.ToBytes());
    for (const auto& [id, kp] : node_keys) {
      CL_ASSIGN_OR_RETURN(Bytes sig, g.suite->Sign(kp.secret_key, crypto::HeaderMessage(b->hash.view())));
      v1::HeaderSignature* s = cert.add_signatures();
      s->set_node_id(id);
      s->set_signature(std::move(sig));
    }
    CL_RETURN_IF_ERROR(store.PutCommitCert(b->height, cert.SerializeAsString()));
    ++res.blocks;
    res.txs += b->receipts.size();
    if (res.blocks % 100 == 0) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("bulk load: %llu certificates in %llu blocks (%.0f s, %.0f/s)\n",
                  static_cast<unsigned long long>(res.txs), static_cast<unsigned long long>(res.blocks), s,
                  static_cast<double>(res.txs) / s);
      std::fflush(stdout);
    }
  }
  ledger.reset();  // closes the store

  for (size_t i = 1; i < o.data_dirs.size(); ++i)
    CL_RETURN_IF_ERROR(CloneStore(ledger_dir, o.data_dirs[i] + "/ledger"));
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace cl::bench
