// Micro-benchmarks of what a node does per transaction before consensus, and
// of the history tree, per crypto suite: decoding a SignedTx and its TxBody,
// full admission (CheckTx: size, decoding, chain id, expiry window, signature),
// and appending a leaf to the history tree (MerkleFrontier::Append, the
// per-tx tree work of every applied block). docs/performance.md, "Admission
// and history tree".
#include <benchmark/benchmark.h>

#include "base/check.h"
#include "crypto/domain.h"
#include "crypto/merkle.h"
#include "node/mempool.h"
#include "proto/tx.pb.h"

namespace cl::node {
namespace {

namespace v1 = certledger::v1;
constexpr int64_t kNowMs = 1'790'000'000'000;

// A signed certificate anchor as certledger-bench sends it (~400 bytes).
Bytes AnchorTx(const crypto::Suite& suite, const crypto::KeyPair& key, uint64_t nonce) {
  v1::TxBody b;
  b.set_chain_id("bench");
  b.set_nonce(nonce);
  b.set_valid_until_ms(kNowMs + 3'600'000);
  v1::AnchorCertificate* a = b.mutable_anchor_certificate();
  a->set_cert_id("C-bench-" + std::to_string(nonce));
  a->set_doc_hash(suite.Hash("doc/" + std::to_string(nonce)).ToBytes());
  a->set_type_code("ID_CARD");
  a->set_holder_ref(suite.Hash("holder/" + std::to_string(nonce)).ToBytes());
  a->set_issuer("PSB");
  a->set_issued_at_ms(kNowMs - 86'400'000);
  a->set_valid_from_ms(kNowMs - 86'400'000);
  a->set_valid_until_ms(kNowMs + 3650LL * 86'400'000);
  a->set_jurisdiction("330100");
  v1::SignedTx tx;
  tx.set_body(b.SerializeAsString());
  tx.set_signer(key.public_key);
  auto sig = suite.Sign(key.secret_key, crypto::TxMessage(tx.body()));
  CL_CHECK(sig.ok());
  tx.set_signature(*sig);
  return tx.SerializeAsString();
}

std::shared_ptr<const crypto::Suite> SuiteOf(const std::string& name) {
  auto s = crypto::MakeSuite(name);
  CL_CHECK(s.ok());
  return *s;
}

void BM_DecodeTx(benchmark::State& state, const std::string& suite_name) {
  auto suite = SuiteOf(suite_name);
  const Bytes raw = AnchorTx(*suite, suite->GenerateKey(), 1);
  for (auto _ : state) {
    v1::SignedTx tx;
    v1::TxBody body;
    benchmark::DoNotOptimize(tx.ParseFromString(raw) && body.ParseFromString(tx.body()));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw.size()));
}

void BM_CheckTx(benchmark::State& state, const std::string& suite_name) {
  auto suite = SuiteOf(suite_name);
  const crypto::KeyPair key = suite->GenerateKey();
  std::vector<Bytes> txs;
  for (uint64_t i = 0; i < 64; ++i) txs.push_back(AnchorTx(*suite, key, i));
  const AdmissionParams params{.chain_id = "bench"};
  size_t i = 0;
  for (auto _ : state) {
    auto r = CheckTx(txs[i++ % txs.size()], params, *suite, kNowMs);
    CL_CHECK(r.has_value());
    benchmark::DoNotOptimize(r);
  }
}

void BM_HistoryAppend(benchmark::State& state, const std::string& suite_name) {
  auto suite = SuiteOf(suite_name);
  crypto::MerkleFrontier f;
  std::vector<std::pair<crypto::MerkleNodeId, crypto::Digest>> completed;
  const crypto::Digest leaf = suite->Hash("leaf");
  for (auto _ : state) {
    completed.clear();
    f.Append(*suite, leaf, &completed);
    benchmark::DoNotOptimize(completed.data());
  }
  state.counters["tree_size"] = static_cast<double>(f.size());
}

BENCHMARK_CAPTURE(BM_DecodeTx, ed25519_sha256, std::string("ed25519-sha256"));
BENCHMARK_CAPTURE(BM_DecodeTx, sm2_sm3, std::string("sm2-sm3"));
BENCHMARK_CAPTURE(BM_CheckTx, ed25519_sha256, std::string("ed25519-sha256"));
BENCHMARK_CAPTURE(BM_CheckTx, sm2_sm3, std::string("sm2-sm3"));
BENCHMARK_CAPTURE(BM_HistoryAppend, ed25519_sha256, std::string("ed25519-sha256"));
BENCHMARK_CAPTURE(BM_HistoryAppend, sm2_sm3, std::string("sm2-sm3"));

}  // namespace
}  // namespace cl::node

BENCHMARK_MAIN();
