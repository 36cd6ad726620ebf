#include "crypto/merkle.h"

#include <gtest/gtest.h>

#include <bit>
#include <map>
#include <random>
#include <string>

namespace cl::crypto {

// Readable digests in gtest failure messages (found by ADL).
void PrintTo(const Digest& d, std::ostream* os) { *os << d.ToHex(); }

namespace {

std::shared_ptr<const Suite> Sha256Suite() { return MakeSuite("ed25519-sha256").value(); }

Digest D(std::string_view hex) {
  auto d = Digest::FromHex(hex);
  CL_CHECK(d.has_value(), "bad hex in test vector");
  return *d;
}

std::vector<Digest> Ds(std::initializer_list<std::string_view> hexes) {
  std::vector<Digest> out;
  for (auto h : hexes) out.push_back(D(h));
  return out;
}

// ---------------------------------------------------------------------------
// The RFC 6962 reference vectors that Certificate Transparency implementations
// test against, copied from google/trillian merkle/log_verifier_test.go and
// transparency-dev/merkle proof/verify_test.go (which also has the 6 -> 7
// consistency proof) and testonly/reference_test.go (the size-2 paths).

const char* const kLeafDataHex[] = {
    "",         "00",       "10",       "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};

// kRoots[n] is the root of the first n leaves.
const char* const kRoots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

std::vector<Digest> ReferenceLeafHashes(const Suite& suite) {
  std::vector<Digest> out;
  for (const char* hex : kLeafDataHex) out.push_back(MerkleLeafHash(suite, *FromHex(hex)));
  return out;
}

struct InclusionVector {
  std::string name;
  uint64_t index;
  uint64_t size;
  std::vector<Digest> proof;
};

std::vector<InclusionVector> InclusionVectors() {
  return {
      {"Leaf0Size1", 0, 1, {}},
      {"Leaf0Size2", 0, 2, Ds({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"})},
      {"Leaf1Size2", 1, 2, Ds({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"})},
      {"Leaf2Size3", 2, 3, Ds({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"})},
      {"Leaf1Size5", 1, 5,
       Ds({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
      {"Leaf0Size8", 0, 8,
       Ds({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {"Leaf5Size8", 5, 8,
       Ds({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
           "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
  };
}

struct ConsistencyVector {
  std::string name;
  uint64_t old_size;
  uint64_t new_size;
  std::vector<Digest> proof;
};

std::vector<ConsistencyVector> ConsistencyVectors() {
  return {
      {"From1To1", 1, 1, {}},
      {"From1To8", 1, 8,
       Ds({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
           "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {"From6To8", 6, 8,
       Ds({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
           "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {"From2To5", 2, 5,
       Ds({"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
           "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
      {"From6To7", 6, 7,
       Ds({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
           "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
           "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
  };
}

// A node store filled from MerkleFrontier::Append, as the storage module keeps
// one. The reader it hands out records every read and fails the test if a node
// is missing or not wholly inside [0, bound).
class NodeStore {
 public:
  void Append(const Suite& suite, const Digest& leaf) {
    std::vector<std::pair<MerkleNodeId, Digest>> completed;
    frontier_.Append(suite, leaf, &completed);
    for (auto& [id, d] : completed) {
      EXPECT_TRUE(nodes_.emplace(id, d).second) << "node reported twice";
    }
  }
  MerkleNodeReader Reader(uint64_t bound) {
    return [this, bound](MerkleNodeId id) -> Result<Digest> {
      ++reads_;
      EXPECT_LE((id.index + 1) << id.level, bound) << "read outside the tree";
      auto it = nodes_.find(id);
      if (it == nodes_.end()) return NotFound("node not stored");
      return it->second;
    };
  }
  const MerkleFrontier& frontier() const { return frontier_; }
  const std::map<MerkleNodeId, Digest>& nodes() const { return nodes_; }
  int reads() const { return reads_; }
  void ResetReads() { reads_ = 0; }

 private:
  MerkleFrontier frontier_;
  std::map<MerkleNodeId, Digest> nodes_;
  int reads_ = 0;
};

TEST(MerkleVectorTest, LeafAndNodeHashes) {
  auto s = Sha256Suite();
  auto leaves = ReferenceLeafHashes(*s);
  EXPECT_EQ(leaves[0].ToHex(), kRoots[1]);  // a one-leaf tree's root is its leaf hash
  EXPECT_EQ(leaves[1].ToHex(), "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7");
  EXPECT_EQ(MerkleNodeHash(*s, leaves[0], leaves[1]).ToHex(), kRoots[2]);
  EXPECT_EQ(MerkleEmptyRoot(*s).ToHex(), kRoots[0]);
}

TEST(MerkleVectorTest, RootOfEveryPrefix) {
  auto s = Sha256Suite();
  auto leaves = ReferenceLeafHashes(*s);
  NodeStore store;
  for (size_t n = 0; n <= 8; ++n) {
    SCOPED_TRACE(n);
    if (n > 0) store.Append(*s, leaves[n - 1]);
    EXPECT_EQ(MerkleRoot(*s, std::span(leaves).first(n)).ToHex(), kRoots[n]);
    EXPECT_EQ(store.frontier().Root(*s).ToHex(), kRoots[n]);
    EXPECT_EQ(MerkleRootFromNodes(*s, n, store.Reader(n)).value().ToHex(), kRoots[n]);
  }
}

TEST(MerkleVectorTest, InclusionProofs) {
  auto s = Sha256Suite();
  auto leaves = ReferenceLeafHashes(*s);
  NodeStore store;
  for (const auto& leaf : leaves) store.Append(*s, leaf);
  for (const auto& v : InclusionVectors()) {
    SCOPED_TRACE(v.name);
    auto tree = std::span(leaves).first(v.size);
    EXPECT_EQ(MerkleInclusionProof(*s, tree, v.index).value(), v.proof);
    EXPECT_EQ(MerkleInclusionProofFromNodes(*s, v.index, v.size, store.Reader(v.size)).value(),
              v.proof);
    const Digest root = D(kRoots[v.size]);
    EXPECT_TRUE(VerifyMerkleInclusion(*s, v.index, v.size, leaves[v.index], v.proof, root).ok());
    // The probes of transparency-dev's corruptInclusionProof that must fail for these vectors.
    auto rejected = [&](uint64_t index, uint64_t size, const Digest& leaf,
                        std::vector<Digest> proof, const Digest& r) {
      return !VerifyMerkleInclusion(*s, index, size, leaf, proof, r).ok();
    };
    EXPECT_TRUE(rejected(v.index - 1, v.size, leaves[v.index], v.proof, root));
    EXPECT_TRUE(rejected(v.index + 1, v.size, leaves[v.index], v.proof, root));
    EXPECT_TRUE(rejected(v.index ^ 2, v.size, leaves[v.index], v.proof, root));
    EXPECT_TRUE(rejected(v.index, v.size * 2, leaves[v.index], v.proof, root));
    EXPECT_TRUE(rejected(v.index, v.size / 2, leaves[v.index], v.proof, root));
    EXPECT_TRUE(rejected(v.index, v.size, s->Hash("WrongLeaf"), v.proof, root));
    EXPECT_TRUE(rejected(v.index, v.size, leaves[v.index], v.proof, D(kRoots[0])));
    auto longer = v.proof;
    longer.push_back(root);
    EXPECT_TRUE(rejected(v.index, v.size, leaves[v.index], longer, root));
    std::vector<Digest> prefixed = {root};
    prefixed.insert(prefixed.end(), v.proof.begin(), v.proof.end());
    EXPECT_TRUE(rejected(v.index, v.size, leaves[v.index], prefixed, root));
  }
}

TEST(MerkleVectorTest, ConsistencyProofs) {
  auto s = Sha256Suite();
  auto leaves = ReferenceLeafHashes(*s);
  NodeStore store;
  for (const auto& leaf : leaves) store.Append(*s, leaf);
  for (const auto& v : ConsistencyVectors()) {
    SCOPED_TRACE(v.name);
    auto tree = std::span(leaves).first(v.new_size);
    EXPECT_EQ(MerkleConsistencyProof(*s, tree, v.old_size).value(), v.proof);
    EXPECT_EQ(MerkleConsistencyProofFromNodes(*s, v.old_size, v.new_size, store.Reader(v.new_size))
                  .value(),
              v.proof);
    const Digest old_root = D(kRoots[v.old_size]), new_root = D(kRoots[v.new_size]);
    EXPECT_TRUE(
        VerifyMerkleConsistency(*s, v.old_size, v.new_size, old_root, new_root, v.proof).ok());
    if (v.proof.empty()) continue;
    auto rejected = [&](uint64_t m, uint64_t n, const Digest& r1, const Digest& r2,
                        std::vector<Digest> proof) {
      return !VerifyMerkleConsistency(*s, m, n, r1, r2, proof).ok();
    };
    EXPECT_TRUE(rejected(v.old_size - 1, v.new_size, old_root, new_root, v.proof));
    EXPECT_TRUE(rejected(v.old_size + 1, v.new_size, old_root, new_root, v.proof));
    EXPECT_TRUE(rejected(v.old_size ^ 2, v.new_size, old_root, new_root, v.proof));
    EXPECT_TRUE(rejected(v.old_size, v.new_size * 2, old_root, new_root, v.proof));
    EXPECT_TRUE(rejected(v.old_size, v.new_size / 2, old_root, new_root, v.proof));
    EXPECT_TRUE(rejected(v.old_size, v.new_size, new_root, old_root, v.proof));
    EXPECT_TRUE(rejected(v.old_size, v.new_size, old_root, new_root, {}));
    auto longer = v.proof;
    longer.insert(longer.begin(), v.proof[0]);
    EXPECT_TRUE(rejected(v.old_size, v.new_size, old_root, new_root, longer));
    longer = v.proof;
    longer.push_back(new_root);
    EXPECT_TRUE(rejected(v.old_size, v.new_size, old_root, new_root, longer));
  }
}

// Edge cases the RFC leaves open, as merkle.h defines them; table-driven.
TEST(MerkleVectorTest, ConsistencyEdgeCases) {
  auto s = Sha256Suite();
  const Digest empty = D(kRoots[0]), r1 = D(kRoots[1]), r2 = D(kRoots[2]);
  struct Case {
    std::string name;
    uint64_t m, n;
    Digest r1, r2;
    std::vector<Digest> proof;
    Code want;
  };
  const Case cases[] = {
      {"EmptyToEmpty", 0, 0, empty, empty, {}, Code::kOk},
      {"EmptyToAny", 0, 2, empty, r2, {}, Code::kOk},
      {"EmptyWithWrongOldRoot", 0, 2, r1, r2, {}, Code::kCorruption},
      {"EmptyToEmptyWithWrongNewRoot", 0, 0, empty, r1, {}, Code::kCorruption},
      {"EmptyWithNonEmptyProof", 0, 2, empty, r2, {empty}, Code::kCorruption},
      {"EqualSizesEqualRoots", 1, 1, r1, r1, {}, Code::kOk},
      {"EqualSizesDifferentRoots", 1, 1, r1, r2, {}, Code::kCorruption},
      {"EqualSizesNonEmptyProof", 1, 1, r1, r1, {r1}, Code::kCorruption},
      {"TimeTravel", 2, 1, r2, r1, {}, Code::kInvalidArgument},
      {"GrowthWithEmptyProof", 1, 2, r1, r2, {}, Code::kCorruption},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(VerifyMerkleConsistency(*s, c.m, c.n, c.r1, c.r2, c.proof).code(), c.want);
  }
}

TEST(MerkleVectorTest, OutOfRangeRequests) {
  auto s = Sha256Suite();
  auto leaves = ReferenceLeafHashes(*s);
  NodeStore store;
  for (const auto& leaf : leaves) store.Append(*s, leaf);
  EXPECT_EQ(MerkleInclusionProof(*s, leaves, 8).status().code(), Code::kOutOfRange);
  EXPECT_EQ(MerkleInclusionProof(*s, {}, 0).status().code(), Code::kOutOfRange);
  EXPECT_EQ(MerkleConsistencyProof(*s, leaves, 9).status().code(), Code::kOutOfRange);
  EXPECT_EQ(MerkleInclusionProofFromNodes(*s, 8, 8, store.Reader(8)).status().code(),
            Code::kOutOfRange);
  EXPECT_EQ(MerkleConsistencyProofFromNodes(*s, 5, 4, store.Reader(8)).status().code(),
            Code::kOutOfRange);
  EXPECT_EQ(VerifyMerkleInclusion(*s, 8, 8, leaves[0], {}, D(kRoots[8])).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(VerifyMerkleInclusion(*s, 0, 0, leaves[0], {}, D(kRoots[0])).code(),
            Code::kInvalidArgument);
  // A store error passes through unchanged.
  MerkleNodeReader broken = [](MerkleNodeId) -> Result<Digest> { return IoError("disk gone"); };
  EXPECT_EQ(MerkleInclusionProofFromNodes(*s, 3, 8, broken).status(), IoError("disk gone"));
  EXPECT_EQ(MerkleRootFromNodes(*s, 8, broken).status(), IoError("disk gone"));
  EXPECT_EQ(MerkleConsistencyProofFromNodes(*s, 3, 8, broken).status(), IoError("disk gone"));
  EXPECT_EQ(MerkleFrontier::FromNodes(8, broken).status(), IoError("disk gone"));
}

// ---------------------------------------------------------------------------
// Property tests over every suite, with seeded random leaves.

class MerklePropertyTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { suite_ = MakeSuite(GetParam()).value(); }

  std::vector<Digest> RandomLeaves(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<Digest> out;
    for (size_t i = 0; i < n; ++i) out.push_back(MerkleLeafHash(*suite_, BigEndian64(rng())));
    return out;
  }

  std::shared_ptr<const Suite> suite_;
};

// The RFC 9162 verifier's walk for (index, size) without hashes: which side
// each proof element goes on. Two sizes with the same shape verify the same
// proof (see merkle.h), so an altered size must be rejected exactly when the
// shape changes.
std::string InclusionShape(uint64_t index, uint64_t size) {
  if (index >= size) return "invalid";
  std::string shape;
  uint64_t fn = index, sn = size - 1;
  while (sn != 0) {
    if ((fn & 1) == 1 || fn == sn) {
      shape += 'L';
      if ((fn & 1) == 0)
        while ((fn & 1) == 0 && fn != 0) fn >>= 1, sn >>= 1;
    } else {
      shape += 'R';
    }
    fn >>= 1, sn >>= 1;
  }
  return shape;
}

std::string ConsistencyShape(uint64_t m, uint64_t n) {
  if (m == 0 || m >= n) return "trivial" + std::to_string(m) + "/" + std::to_string(n);
  std::string shape = std::has_single_bit(m) ? "P" : "N";
  uint64_t fn = m - 1, sn = n - 1;
  while ((fn & 1) == 1) fn >>= 1, sn >>= 1;
  while (sn != 0) {
    if ((fn & 1) == 1 || fn == sn) {
      shape += 'B';
      if ((fn & 1) == 0)
        while ((fn & 1) == 0 && fn != 0) fn >>= 1, sn >>= 1;
    } else {
      shape += 'R';
    }
    fn >>= 1, sn >>= 1;
  }
  return shape;
}

// Every way to alter an inclusion proof must be rejected.
void ExpectInclusionTamperRejected(const Suite& s, uint64_t index, uint64_t size,
                                   const Digest& leaf, const std::vector<Digest>& proof,
                                   const Digest& root) {
  auto ok = [&](uint64_t i, uint64_t n, const Digest& l, const std::vector<Digest>& p,
                const Digest& r) { return VerifyMerkleInclusion(s, i, n, l, p, r).ok(); };
  ASSERT_TRUE(ok(index, size, leaf, proof, root));
  for (size_t k = 0; k < proof.size(); ++k) {
    auto bad = proof;
    bad[k].bytes[k % Digest::kSize] ^= 0x10;
    EXPECT_FALSE(ok(index, size, leaf, bad, root)) << "altered element " << k;
    bad = proof;
    bad.erase(bad.begin() + static_cast<ptrdiff_t>(k));
    EXPECT_FALSE(ok(index, size, leaf, bad, root)) << "removed element " << k;
    bad = proof;
    bad.insert(bad.begin() + static_cast<ptrdiff_t>(k), leaf);
    EXPECT_FALSE(ok(index, size, leaf, bad, root)) << "inserted element at " << k;
  }
  auto longer = proof;
  longer.push_back(root);
  EXPECT_FALSE(ok(index, size, leaf, longer, root)) << "extended";
  Digest bad_leaf = leaf, bad_root = root;
  bad_leaf.bytes[0] ^= 1;
  bad_root.bytes[31] ^= 1;
  EXPECT_FALSE(ok(index, size, bad_leaf, proof, root)) << "altered leaf";
  EXPECT_FALSE(ok(index, size, leaf, proof, bad_root)) << "altered root";
  for (uint64_t other : {index - 1, index + 1, index ^ 1, index ^ 2, index ^ 4, size}) {
    if (other == index) continue;
    EXPECT_FALSE(ok(other, size, leaf, proof, root)) << "index " << other;
  }
  const std::string shape = InclusionShape(index, size);
  for (uint64_t other : {size - 1, size + 1, size * 2, size / 2, size + 7, index}) {
    if (other == size) continue;
    EXPECT_EQ(ok(index, other, leaf, proof, root), InclusionShape(index, other) == shape)
        << "size " << other;
  }
}

void ExpectConsistencyTamperRejected(const Suite& s, uint64_t m, uint64_t n, const Digest& r1,
                                     const Digest& r2, const std::vector<Digest>& proof) {
  auto ok = [&](uint64_t a, uint64_t b, const Digest& x, const Digest& y,
                const std::vector<Digest>& p) { return VerifyMerkleConsistency(s, a, b, x, y, p).ok(); };
  ASSERT_TRUE(ok(m, n, r1, r2, proof));
  for (size_t k = 0; k < proof.size(); ++k) {
    auto bad = proof;
    bad[k].bytes[(k * 7) % Digest::kSize] ^= 0x01;
    EXPECT_FALSE(ok(m, n, r1, r2, bad)) << "altered element " << k;
    bad = proof;
    bad.erase(bad.begin() + static_cast<ptrdiff_t>(k));
    EXPECT_FALSE(ok(m, n, r1, r2, bad)) << "removed element " << k;
    bad = proof;
    bad.insert(bad.begin() + static_cast<ptrdiff_t>(k), proof[k]);
    EXPECT_FALSE(ok(m, n, r1, r2, bad)) << "duplicated element " << k;
  }
  for (const Digest& extra : {r1, r2}) {
    auto longer = proof;
    longer.push_back(extra);
    EXPECT_FALSE(ok(m, n, r1, r2, longer)) << "extended";
  }
  Digest bad1 = r1, bad2 = r2;
  bad1.bytes[5] ^= 1;
  bad2.bytes[6] ^= 1;
  EXPECT_FALSE(ok(m, n, bad1, r2, proof)) << "altered old root";
  EXPECT_FALSE(ok(m, n, r1, bad2, proof)) << "altered new root";
  EXPECT_FALSE(ok(m, n, r2, r1, proof)) << "swapped roots";
  const std::string shape = ConsistencyShape(m, n);
  for (uint64_t other : {m - 1, m + 1, m ^ 2, n}) {
    if (other == m || other > n) continue;
    EXPECT_EQ(ok(other, n, r1, r2, proof), ConsistencyShape(other, n) == shape) << "old " << other;
  }
  for (uint64_t other : {n - 1, n + 1, n * 2, n / 2}) {
    if (other == n || other < m) continue;
    EXPECT_EQ(ok(m, other, r1, r2, proof), ConsistencyShape(m, other) == shape) << "new " << other;
  }
}

// Bound on reads documented in merkle.h.
int MaxReads(uint64_t size) { return 2 * (std::bit_width(size) + 1); }

TEST_P(MerklePropertyTest, EveryProofOfSmallTreesVerifiesAndMatchesTheNodeStore) {
  constexpr size_t kMax = 96;
  auto leaves = RandomLeaves(kMax, 1);
  NodeStore store;
  for (size_t n = 1; n <= kMax; ++n) {
    store.Append(*suite_, leaves[n - 1]);
    auto tree = std::span(leaves).first(n);
    const Digest root = MerkleRoot(*suite_, tree);
    for (uint64_t i = 0; i < n; ++i) {
      auto proof = MerkleInclusionProof(*suite_, tree, i).value();
      ASSERT_TRUE(VerifyMerkleInclusion(*suite_, i, n, leaves[i], proof, root).ok())
          << i << "/" << n;
      store.ResetReads();
      EXPECT_EQ(MerkleInclusionProofFromNodes(*suite_, i, n, store.Reader(n)).value(), proof);
      EXPECT_LE(store.reads(), MaxReads(n));
    }
    for (uint64_t m = 0; m <= n; ++m) {
      auto proof = MerkleConsistencyProof(*suite_, tree, m).value();
      const Digest old_root = MerkleRoot(*suite_, tree.first(m));
      ASSERT_TRUE(VerifyMerkleConsistency(*suite_, m, n, old_root, root, proof).ok())
          << m << "->" << n;
      store.ResetReads();
      EXPECT_EQ(MerkleConsistencyProofFromNodes(*suite_, m, n, store.Reader(n)).value(), proof);
      EXPECT_LE(store.reads(), MaxReads(n));
    }
  }
}

TEST_P(MerklePropertyTest, AlteredProofsAreRejected) {
  constexpr size_t kMax = 300;
  auto leaves = RandomLeaves(kMax, 2);
  std::mt19937_64 rng(3);
  NodeStore store;
  for (size_t n = 1; n <= kMax; ++n) {
    store.Append(*suite_, leaves[n - 1]);
    auto tree = std::span(leaves).first(n);
    const Digest root = MerkleRoot(*suite_, tree);
    for (int trial = 0; trial < 3; ++trial) {
      const uint64_t i = rng() % n;
      SCOPED_TRACE("inclusion " + std::to_string(i) + "/" + std::to_string(n));
      auto proof = MerkleInclusionProof(*suite_, tree, i).value();
      EXPECT_EQ(MerkleInclusionProofFromNodes(*suite_, i, n, store.Reader(n)).value(), proof);
      ExpectInclusionTamperRejected(*suite_, i, n, leaves[i], proof, root);
    }
    if (n < 2) continue;
    for (int trial = 0; trial < 3; ++trial) {
      const uint64_t m = 1 + rng() % (n - 1);
      SCOPED_TRACE("consistency " + std::to_string(m) + "->" + std::to_string(n));
      auto proof = MerkleConsistencyProof(*suite_, tree, m).value();
      EXPECT_EQ(MerkleConsistencyProofFromNodes(*suite_, m, n, store.Reader(n)).value(), proof);
      ExpectConsistencyTamperRejected(*suite_, m, n, MerkleRoot(*suite_, tree.first(m)), root,
                                      proof);
    }
  }
}

TEST_P(MerklePropertyTest, FrontierMatchesRootOfEveryPrefixAndReportsEveryCompleteNode) {
  constexpr size_t kMax = 300;
  auto leaves = RandomLeaves(kMax, 4);
  NodeStore store;
  EXPECT_EQ(store.frontier().Root(*suite_), MerkleEmptyRoot(*suite_));
  for (size_t n = 1; n <= kMax; ++n) {
    store.Append(*suite_, leaves[n - 1]);
    const MerkleFrontier& f = store.frontier();
    const Digest want = MerkleRoot(*suite_, std::span(leaves).first(n));
    ASSERT_EQ(f.size(), n);
    ASSERT_EQ(f.Root(*suite_), want) << n;
    EXPECT_EQ(MerkleRootFromNodes(*suite_, n, store.Reader(n)).value(), want);
    auto restored = MerkleFrontier::Restore(n, f.roots());
    ASSERT_TRUE(restored.ok());
    EXPECT_EQ(restored->Root(*suite_), want);
    auto from_nodes = MerkleFrontier::FromNodes(n, store.Reader(n));
    ASSERT_TRUE(from_nodes.ok());
    EXPECT_EQ(from_nodes->roots(), f.roots());
  }
  // Every complete node was reported once, with the right digest.
  size_t expected_nodes = 0;
  for (uint64_t w = 1; w <= kMax; w <<= 1) expected_nodes += kMax / w;
  EXPECT_EQ(store.nodes().size(), expected_nodes);
  for (const auto& [id, d] : store.nodes()) {
    auto range = std::span(leaves).subspan(id.index << id.level, size_t{1} << id.level);
    EXPECT_EQ(d, MerkleRoot(*suite_, range)) << id.level << "/" << id.index;
  }
  // A restored frontier keeps appending exactly like the original.
  auto half = MerkleRoot(*suite_, std::span(leaves).first(150));
  MerkleFrontier g;
  for (size_t i = 0; i < 150; ++i) g.Append(*suite_, leaves[i], nullptr);
  ASSERT_EQ(g.Root(*suite_), half);
  auto resumed = MerkleFrontier::Restore(g.size(), g.roots()).value();
  for (size_t i = 150; i < kMax; ++i) resumed.Append(*suite_, leaves[i], nullptr);
  EXPECT_EQ(resumed.Root(*suite_), store.frontier().Root(*suite_));
}

TEST_P(MerklePropertyTest, RestoreRejectsAFrontierOfTheWrongShape) {
  auto leaves = RandomLeaves(3, 5);
  struct Case {
    std::string name;
    uint64_t size;
    size_t roots;
  };
  const Case cases[] = {
      {"TooFewRoots", 7, 2}, {"TooManyRoots", 4, 2}, {"RootsForEmpty", 0, 1}, {"NoRoots", 5, 0}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<Digest> roots(leaves.begin(), leaves.begin() + static_cast<ptrdiff_t>(c.roots));
    EXPECT_EQ(MerkleFrontier::Restore(c.size, roots).status().code(), Code::kInvalidArgument);
  }
  EXPECT_EQ(MerkleFrontier::Restore(0, {}).value().Root(*suite_), MerkleEmptyRoot(*suite_));
}

// A virtual tree far larger than memory: every leaf is the hash of "a" except
// leaf `marked_`, so a perfect subtree's digest depends only on its level unless
// it holds the marked leaf — O(level) to compute. This exercises the
// from-nodes functions at the sizes the history tree reaches (10^8 and beyond).
class VirtualTree {
 public:
  VirtualTree(const Suite& suite, uint64_t marked) : suite_(suite), marked_(marked) {
    plain_.push_back(MerkleLeafHash(suite, "a"));
    for (int l = 1; l < 64; ++l) plain_.push_back(MerkleNodeHash(suite, plain_.back(), plain_.back()));
  }
  Digest Leaf(uint64_t i) const { return i == marked_ ? MerkleLeafHash(suite_, "b") : plain_[0]; }
  Digest Node(uint32_t level, uint64_t index) const {
    const uint64_t begin = index << level;
    if (marked_ < begin || marked_ - begin >= (uint64_t{1} << level)) return plain_[level];
    if (level == 0) return Leaf(index);
    return MerkleNodeHash(suite_, Node(level - 1, 2 * index), Node(level - 1, 2 * index + 1));
  }
  MerkleNodeReader Reader(uint64_t bound, int* reads) const {
    return [this, bound, reads](MerkleNodeId id) -> Result<Digest> {
      ++*reads;
      EXPECT_LE((id.index + 1) << id.level, bound) << "read outside the tree";
      return Node(id.level, id.index);
    };
  }

 private:
  const Suite& suite_;
  uint64_t marked_;
  std::vector<Digest> plain_;
};

TEST_P(MerklePropertyTest, ProofsFromNodesInHugeTrees) {
  const uint64_t kMarked = 77'777'777;
  VirtualTree tree(*suite_, kMarked);
  // Small sizes cross-check the virtual tree against MerkleRoot.
  std::vector<Digest> small;
  VirtualTree small_tree(*suite_, 5);
  for (uint64_t i = 0; i < 13; ++i) small.push_back(small_tree.Leaf(i));
  int reads = 0;
  EXPECT_EQ(MerkleRootFromNodes(*suite_, 13, small_tree.Reader(13, &reads)).value(),
            MerkleRoot(*suite_, small));

  for (uint64_t size : {uint64_t{100'000'000}, uint64_t{134'217'728}, uint64_t{(1ull << 40) + 12345},
                        (uint64_t{1} << 62) + 3}) {
    SCOPED_TRACE(size);
    reads = 0;
    const Digest root = MerkleRootFromNodes(*suite_, size, tree.Reader(size, &reads)).value();
    for (uint64_t index : {kMarked, uint64_t{0}, kMarked + 1, size - 1, size / 3}) {
      reads = 0;
      auto proof =
          MerkleInclusionProofFromNodes(*suite_, index, size, tree.Reader(size, &reads)).value();
      EXPECT_LE(reads, MaxReads(size));
      EXPECT_TRUE(VerifyMerkleInclusion(*suite_, index, size, tree.Leaf(index), proof, root).ok())
          << index;
    }
    for (uint64_t old_size : {kMarked, kMarked + 1, size / 2 + 1, size - 1, uint64_t{1} << 20}) {
      reads = 0;
      const Digest old_root =
          MerkleRootFromNodes(*suite_, old_size, tree.Reader(old_size, &reads)).value();
      reads = 0;
      auto proof = MerkleConsistencyProofFromNodes(*suite_, old_size, size,
                                                   tree.Reader(size, &reads))
                       .value();
      EXPECT_LE(reads, MaxReads(size));
      ExpectConsistencyTamperRejected(*suite_, old_size, size, old_root, root, proof);
    }
    auto frontier = MerkleFrontier::FromNodes(size, tree.Reader(size, &reads)).value();
    EXPECT_EQ(frontier.Root(*suite_), root);
  }
}

std::string SuiteTestName(const testing::TestParamInfo<std::string>& param_info) {
  std::string n = param_info.param;
  for (char& c : n)
    if (c == '-') c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(AllSuites, MerklePropertyTest, testing::ValuesIn(SuiteNames()),
                         SuiteTestName);

}  // namespace
}  // namespace cl::crypto
