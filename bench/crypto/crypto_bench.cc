// crypto_bench: micro-benchmarks for docs/performance.md (Crypto). Not a test.
//
//   crypto_bench [--benchmark_filter=REGEX] [--benchmark_repetitions=N] ...
//
// Per suite (ed25519-sha256, sm2-sm3): Sign and Verify of a 200-byte message
// (about a SignedTx body), Hash and KeyedHash of 1 KiB, KeyFromSeed. Merkle,
// per suite: root of 1,000 leaves; inclusion and consistency proof generation
// plus verification in a 1,000-leaf tree (in memory, as for a block's tx root);
// the same proofs from stored nodes in a 2^20-leaf tree (as the history tree is
// served); key file decode with the default Argon2id cost.
#include <benchmark/benchmark.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "base/check.h"
#include "crypto/keyfile.h"
#include "crypto/merkle.h"
#include "crypto/suite.h"

namespace cl::crypto {
namespace {

std::shared_ptr<const Suite> SuiteNamed(const std::string& name) { return MakeSuite(name).value(); }

Bytes Message(size_t n) {
  Bytes m(n, '\0');
  for (size_t i = 0; i < n; ++i) m[i] = static_cast<char>(i * 131 + 7);
  return m;
}

void BM_Sign(benchmark::State& state, const std::string& suite_name) {
  auto s = SuiteNamed(suite_name);
  KeyPair kp = s->KeyFromSeed(Bytes(32, 'k')).value();
  const Bytes msg = Message(200);
  for (auto _ : state) benchmark::DoNotOptimize(s->Sign(kp.secret_key, msg));
}

void BM_Verify(benchmark::State& state, const std::string& suite_name) {
  auto s = SuiteNamed(suite_name);
  KeyPair kp = s->KeyFromSeed(Bytes(32, 'k')).value();
  const Bytes msg = Message(200);
  const Bytes sig = s->Sign(kp.secret_key, msg).value();
  for (auto _ : state) {
    const bool ok = s->Verify(kp.public_key, msg, sig);
    CL_CHECK(ok, "benchmark signature must verify");
    benchmark::DoNotOptimize(ok);
  }
}

void BM_Hash1KiB(benchmark::State& state, const std::string& suite_name) {
  auto s = SuiteNamed(suite_name);
  const Bytes msg = Message(1024);
  for (auto _ : state) benchmark::DoNotOptimize(s->Hash(msg));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 1024);
}

void BM_KeyedHash1KiB(benchmark::State& state, const std::string& suite_name) {
  auto s = SuiteNamed(suite_name);
  const Bytes key(32, 'n'), msg = Message(1024);
  for (auto _ : state) benchmark::DoNotOptimize(s->KeyedHash(key, msg));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 1024);
}

void BM_KeyFromSeed(benchmark::State& state, const std::string& suite_name) {
  auto s = SuiteNamed(suite_name);
  Bytes seed(32, 's');
  for (auto _ : state) {
    seed[0]++;
    benchmark::DoNotOptimize(s->KeyFromSeed(seed));
  }
}

std::vector<Digest> Leaves(const Suite& s, size_t n) {
  std::vector<Digest> out;
  for (size_t i = 0; i < n; ++i) out.push_back(MerkleLeafHash(s, BigEndian64(i)));
  return out;
}

void BM_MerkleRoot1000(benchmark::State& state, const std::string& suite_name) {
  auto s = SuiteNamed(suite_name);
  const auto leaves = Leaves(*s, 1000);
  for (auto _ : state) benchmark::DoNotOptimize(MerkleRoot(*s, leaves));
}

void BM_MerkleInclusion1000(benchmark::State& state, const std::string& suite_name) {
  auto s = SuiteNamed(suite_name);
  const auto leaves = Leaves(*s, 1000);
  const Digest root = MerkleRoot(*s, leaves);
  uint64_t i = 0;
  for (auto _ : state) {
    const uint64_t index = (i++ * 7919) % leaves.size();
    auto proof = MerkleInclusionProof(*s, leaves, index).value();
    CL_CHECK(VerifyMerkleInclusion(*s, index, leaves.size(), leaves[index], proof, root).ok(), "");
  }
}

void BM_MerkleConsistency1000(benchmark::State& state, const std::string& suite_name) {
  auto s = SuiteNamed(suite_name);
  const auto leaves = Leaves(*s, 1000);
  const Digest root = MerkleRoot(*s, leaves);
  std::vector<Digest> old_roots;
  for (size_t m = 0; m <= leaves.size(); ++m)
    old_roots.push_back(MerkleRoot(*s, std::span(leaves).first(m)));
  uint64_t i = 0;
  for (auto _ : state) {
    const uint64_t m = 1 + (i++ * 7919) % (leaves.size() - 1);
    auto proof = MerkleConsistencyProof(*s, leaves, m).value();
    CL_CHECK(VerifyMerkleConsistency(*s, m, leaves.size(), old_roots[m], root, proof).ok(), "");
  }
}

// A node store as the history tree keeps one (in memory here: the cost of the
// proof arithmetic and hashing without the disk).
struct Store {
  MerkleFrontier frontier;
  std::map<MerkleNodeId, Digest> nodes;
  MerkleNodeReader Reader() const {
    return [this](MerkleNodeId id) -> Result<Digest> { return nodes.at(id); };
  }
};

const Store& BigStore(const Suite& s) {
  static std::map<std::string, Store> stores;
  Store& st = stores[std::string(s.name())];
  if (st.frontier.size() == 0) {
    std::vector<std::pair<MerkleNodeId, Digest>> completed;
    for (uint64_t i = 0; i < (uint64_t{1} << 20); ++i) {
      completed.clear();
      st.frontier.Append(s, MerkleLeafHash(s, BigEndian64(i)), &completed);
      st.nodes.insert(completed.begin(), completed.end());
    }
  }
  return st;
}

void BM_MerkleInclusionFromNodes1M(benchmark::State& state, const std::string& suite_name) {
  auto s = SuiteNamed(suite_name);
  const Store& st = BigStore(*s);
  const uint64_t size = st.frontier.size();
  const Digest root = st.frontier.Root(*s);
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    const uint64_t index = rng() % size;
    auto proof = MerkleInclusionProofFromNodes(*s, index, size, st.Reader()).value();
    CL_CHECK(VerifyMerkleInclusion(*s, index, size, st.nodes.at({0, index}), proof, root).ok(), "");
  }
}

void BM_MerkleConsistencyFromNodes1M(benchmark::State& state, const std::string& suite_name) {
  auto s = SuiteNamed(suite_name);
  const Store& st = BigStore(*s);
  const uint64_t size = st.frontier.size() - 1;  // not a power of two
  const Digest root = MerkleRootFromNodes(*s, size, st.Reader()).value();
  std::mt19937_64 rng(2);
  for (auto _ : state) {
    const uint64_t m = 1 + rng() % (size - 1);
    const Digest old_root = MerkleRootFromNodes(*s, m, st.Reader()).value();
    auto proof = MerkleConsistencyProofFromNodes(*s, m, size, st.Reader()).value();
    CL_CHECK(VerifyMerkleConsistency(*s, m, size, old_root, root, proof).ok(), "");
  }
}

void BM_KeyFileDecodeInteractive(benchmark::State& state) {
  auto s = SuiteNamed("ed25519-sha256");
  KeyPair kp = s->KeyFromSeed(Bytes(32, 'f')).value();
  const Bytes file = EncodeKeyFile(*s, kp, "passphrase", KeyFileCost::Interactive()).value();
  for (auto _ : state) benchmark::DoNotOptimize(DecodeKeyFile(*s, file, "passphrase"));
}

}  // namespace
}  // namespace cl::crypto

int main(int argc, char** argv) {
  using namespace cl::crypto;
  for (const std::string& name : SuiteNames()) {
    benchmark::RegisterBenchmark(("Sign/" + name).c_str(), BM_Sign, name);
    benchmark::RegisterBenchmark(("Verify/" + name).c_str(), BM_Verify, name);
    benchmark::RegisterBenchmark(("Hash1KiB/" + name).c_str(), BM_Hash1KiB, name);
    benchmark::RegisterBenchmark(("KeyedHash1KiB/" + name).c_str(), BM_KeyedHash1KiB, name);
    benchmark::RegisterBenchmark(("KeyFromSeed/" + name).c_str(), BM_KeyFromSeed, name);
    benchmark::RegisterBenchmark(("MerkleRoot1000/" + name).c_str(), BM_MerkleRoot1000, name);
    benchmark::RegisterBenchmark(("MerkleInclusion1000/" + name).c_str(), BM_MerkleInclusion1000,
                                 name);
    benchmark::RegisterBenchmark(("MerkleConsistency1000/" + name).c_str(),
                                 BM_MerkleConsistency1000, name);
    benchmark::RegisterBenchmark(("MerkleInclusionFromNodes1M/" + name).c_str(),
                                 BM_MerkleInclusionFromNodes1M, name);
    benchmark::RegisterBenchmark(("MerkleConsistencyFromNodes1M/" + name).c_str(),
                                 BM_MerkleConsistencyFromNodes1M, name);
  }
  benchmark::RegisterBenchmark("KeyFileDecode/interactive", BM_KeyFileDecodeInteractive)
      ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
