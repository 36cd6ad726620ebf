// HistoryTree: roots and proofs served from stored nodes match crypto's
// in-memory RFC 6962 functions for every index and size, including sizes
// older than the current one.
#include <gtest/gtest.h>

#include "proto/records.pb.h"
#include "proto/tx.pb.h"
#include "tests/storage/test_util.h"

namespace cl::storage::testing {
namespace {

class HistoryTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = MustOpen(dir_.Sub("db"));
    ChainBuilder chain(store_->suite());
    // Blocks of varying sizes (1..7 txs): 45 leaves, unaligned block edges.
    for (size_t txs : {1, 3, 7, 2, 5, 1, 4, 6, 3, 7, 2, 4}) ApplyBlocks(*store_, chain, 1, txs);
    for (uint64_t h = 1; h <= store_->blocks().latest_height().value(); ++h) {
      auto b = store_->blocks().Get(Height(h));
      certledger::v1::Block block;
      block.ParseFromString(b->block);
      for (const auto& t : block.txs()) {
        certledger::v1::SignedTx tx;
        tx.ParseFromString(t);
        leaves_.push_back(crypto::MerkleLeafHash(store_->suite(), store_->suite().Hash(tx.body()).view()));
      }
    }
  }
  std::span<const crypto::Digest> Prefix(uint64_t n) const { return {leaves_.data(), n}; }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::vector<crypto::Digest> leaves_;
};

TEST_F(HistoryTreeTest, RootsAtEverySize) {
  const auto& suite = store_->suite();
  ASSERT_EQ(store_->history().size(), leaves_.size());
  ASSERT_EQ(leaves_.size(), 45u);
  for (uint64_t n = 0; n <= leaves_.size(); ++n) {
    SCOPED_TRACE(n);
    auto root = store_->history().Root(n);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(*root, crypto::MerkleRoot(suite, Prefix(n)));
  }
  EXPECT_EQ(store_->history().Frontier().Root(suite), crypto::MerkleRoot(suite, leaves_));
}

TEST_F(HistoryTreeTest, InclusionProofsMatchTheInMemoryTree) {
  const auto& suite = store_->suite();
  for (uint64_t n = 1; n <= leaves_.size(); ++n) {
    for (uint64_t i = 0; i < n; ++i) {
      auto got = store_->history().InclusionProof(i, n);
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_EQ(*got, *crypto::MerkleInclusionProof(suite, Prefix(n), i)) << i << " of " << n;
      ASSERT_TRUE(crypto::VerifyMerkleInclusion(suite, i, n, leaves_[i], *got,
                                                crypto::MerkleRoot(suite, Prefix(n)))
                      .ok());
    }
  }
}

TEST_F(HistoryTreeTest, ConsistencyProofsMatchTheInMemoryTree) {
  const auto& suite = store_->suite();
  for (uint64_t n = 1; n <= leaves_.size(); ++n) {
    for (uint64_t m = 0; m <= n; ++m) {
      auto got = store_->history().ConsistencyProof(m, n);
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_EQ(*got, *crypto::MerkleConsistencyProof(suite, Prefix(n), m)) << m << " -> " << n;
      if (m > 0) {
        ASSERT_TRUE(crypto::VerifyMerkleConsistency(suite, m, n, crypto::MerkleRoot(suite, Prefix(m)),
                                                    crypto::MerkleRoot(suite, Prefix(n)), *got)
                        .ok());
      }
    }
  }
}

TEST_F(HistoryTreeTest, OutOfRangeRequests) {
  struct Case {
    std::string name;
    std::function<Status()> call;
  };
  const auto& h = store_->history();
  std::vector<Case> cases = {
      {"root past size", [&] { return h.Root(46).status(); }},
      {"inclusion index >= size", [&] { return h.InclusionProof(10, 10).status(); }},
      {"inclusion size past current", [&] { return h.InclusionProof(0, 46).status(); }},
      {"consistency old > new", [&] { return h.ConsistencyProof(11, 10).status(); }},
      {"consistency new past current", [&] { return h.ConsistencyProof(1, 46).status(); }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.call().code(), Code::kOutOfRange);
  }
}

TEST_F(HistoryTreeTest, ProofsStayValidAcrossReopen) {
  auto before = store_->history().InclusionProof(17, 40);
  ASSERT_TRUE(before.ok());
  store_.reset();
  store_ = MustOpen(dir_.Sub("db"));
  EXPECT_EQ(store_->history().size(), 45u);
  EXPECT_EQ(*store_->history().InclusionProof(17, 40), *before);
  EXPECT_EQ(*store_->history().Root(45), crypto::MerkleRoot(store_->suite(), leaves_));
}

}  // namespace
}  // namespace cl::storage::testing
