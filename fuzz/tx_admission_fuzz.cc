// Fuzz target: transaction decoding, the node's admission check (CheckTx),
// the mempool, and the contracts' execution of the same bytes.
//
// Input: one flag byte, then the serialized SignedTx.
//   flag bit 0: tell the executor the signatures were already checked
//               (presigned_ok = 1), so fuzzed bodies reach the contracts even
//               though the fuzzer cannot sign; bit clear, the executor
//               verifies them itself.
// Invariants:
//   - CheckTx refuses anything over max_tx_bytes as TX_TOO_LARGE;
//   - an admitted tx has id suite.Hash(body) (= TxIdOf) and verifying
//     signatures (VerifyTxSignatures agrees); the mempool takes it once and
//     refuses it again as a duplicate;
//   - Executor::Apply never fails on any tx bytes, yields one receipt for it,
//     never accepts (OK) a tx whose signatures do not verify unless told they
//     were checked, and is deterministic (same input, same block bytes).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "base/check.h"
#include "contracts/executor.h"
#include "fuzz/fuzz_util.h"
#include "node/mempool.h"
#include "proto/records.pb.h"
#include "proto/tx.pb.h"
#include "tests/contracts/fixture.h"

namespace cl::fuzz {
namespace {

using contracts::testing::Fixture;
using contracts::testing::kDayMs;
using contracts::testing::kGenesisTimeMs;
using contracts::testing::kYearMs;

constexpr int64_t kNowMs = kGenesisTimeMs + 2 * kDayMs;

// The fixture network after a first block that registers a few records, so
// fuzzed transactions meet existing certificates, services and holders.
struct World {
  Fixture f;
  contracts::testing::Chain chain{f};
  World() {
    const int64_t t = kGenesisTimeMs + kDayMs;
    Bytes mother = f.HolderRef("330106199001011234");
    chain.Apply({f.DefineService("HOSP/admin", t, contracts::testing::NewbornBirthRegistrationMatter()),
                 f.Anchor("PSB/issuer", t,
                          f.Cert("id-mother", "ID_CARD", "PSB", mother, kGenesisTimeMs - 5 * kYearMs)),
                 f.Anchor("CAB/issuer", t,
                          f.Cert("marriage-1", "MARRIAGE", "CAB", mother, kGenesisTimeMs - kYearMs))},
                t);
    certledger::v1::Block block;
    CL_CHECK(block.ParseFromString(chain.blocks().rbegin()->second), "block decodes");
    prev_hash = f.suite().Hash(block.header());
  }
  crypto::Digest prev_hash;
};

World& TheWorld() {
  static World* w = new World();
  return *w;
}

contracts::ExecOutput Execute(const World& w, const std::vector<Bytes>& txs,
                              const std::vector<uint8_t>* presigned) {
  contracts::ExecInput in;
  in.prev_header = &w.chain.last_header();
  in.prev_hash = w.prev_hash;
  in.prev_time_ms = w.chain.time_ms();
  in.ctx = contracts::BlockContext{.height = Height(w.chain.height() + 1),
                                   .time_ms = kNowMs,
                                   .proposer = NodeId(1),
                                   .raft_term = RaftTerm(2),
                                   .raft_index = RaftIndex(40)};
  in.txs = txs;
  in.state = &w.chain.state();
  in.history = w.chain.history();
  in.presigned_ok = presigned;
  auto out = w.chain.executor().Apply(in);
  CL_CHECK(out.ok(), "Executor::Apply failed on fuzzed txs: " + out.status().ToString());
  return std::move(out).value();
}

}  // namespace
}  // namespace cl::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cl;
  fuzz::Input in(data, size);
  const uint8_t flags = in.Byte();
  const Bytes raw = in.Rest();
  fuzz::World& w = fuzz::TheWorld();
  const crypto::Suite& suite = w.f.suite();

  // ---- the node's door
  node::AdmissionParams params{.chain_id = std::string(contracts::testing::kChainId),
                               .max_tx_bytes = 16384};
  auto admitted = node::CheckTx(raw, params, suite, fuzz::kNowMs);
  const bool sigs_ok = contracts::VerifyTxSignatures(suite, raw);
  const crypto::Digest id = contracts::TxIdOf(suite, raw);
  if (raw.size() > params.max_tx_bytes) {
    CL_CHECK(!admitted && admitted.error().reason == node::RejectReason::kTooLarge, "size limit");
  }
  if (admitted) {
    certledger::v1::SignedTx stx;
    CL_CHECK(stx.ParseFromString(raw), "admitted bytes decode");
    CL_CHECK(admitted->id == suite.Hash(stx.body()), "tx id is the hash of the body");
    CL_CHECK(admitted->id == id, "TxIdOf agrees with CheckTx");
    CL_CHECK(admitted->raw == raw, "admitted bytes are the received bytes");
    CL_CHECK(sigs_ok, "CheckTx admitted a tx whose signatures do not verify");
    node::Mempool pool(node::MempoolOptions{.max_txs = 4}, nullptr);
    CL_CHECK(pool.Add(*admitted).has_value(), "an admitted tx enters an empty mempool");
    auto again = pool.Add(*admitted);
    CL_CHECK(!again && again.error().reason == node::RejectReason::kDuplicate, "duplicate refused");
    auto batch = pool.TakeBatch(10, 1 << 20, fuzz::kNowMs);
    CL_CHECK(batch.size() == 1 && batch[0].id == id, "the batch holds the tx");
  } else {
    (void)admitted.error().ToStatus();
    CL_CHECK(!node::RejectReasonName(admitted.error().reason).empty(), "reason has a name");
  }

  // ---- the contracts, on the same bytes (alone, then twice in one block)
  const bool presigned = (flags & 1) != 0;
  std::vector<Bytes> txs{raw};
  std::vector<uint8_t> ok1{1};
  auto out = fuzz::Execute(w, txs, presigned ? &ok1 : nullptr);
  CL_CHECK(out.receipts.size() == 1 && out.tx_ids.size() == 1, "one receipt per tx");
  CL_CHECK(out.tx_ids[0] == id, "executor tx id = TxIdOf");
  certledger::v1::Receipt receipt;
  CL_CHECK(receipt.ParseFromString(out.receipts[0]), "receipt decodes");
  if (!presigned && !sigs_ok) {
    CL_CHECK(receipt.code() != certledger::v1::OK, "the executor accepted a bad signature");
  }
  if (std::getenv("CL_FUZZ_VERBOSE") != nullptr)
    std::fprintf(stderr, "admission %s, receipt %s %s\n",
                 admitted ? "ok" : std::string(node::RejectReasonName(admitted.error().reason)).c_str(),
                 certledger::v1::ResultCode_Name(receipt.code()).c_str(), receipt.message().c_str());
  auto again = fuzz::Execute(w, txs, presigned ? &ok1 : nullptr);
  CL_CHECK(again.block == out.block && again.header_bytes == out.header_bytes, "deterministic");
  if ((flags & 2) != 0) {
    std::vector<Bytes> twice{raw, raw};
    std::vector<uint8_t> ok2{1, 1};
    auto dup = fuzz::Execute(w, twice, presigned ? &ok2 : nullptr);
    certledger::v1::Receipt second;
    CL_CHECK(second.ParseFromString(dup.receipts.at(1)), "receipt decodes");
    CL_CHECK(second.code() != certledger::v1::OK, "the same tx was applied twice in one block");
  }
  return 0;
}
