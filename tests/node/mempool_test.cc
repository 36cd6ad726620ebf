#include "node/mempool.h"

#include <gtest/gtest.h>

#include "crypto/domain.h"
#include "proto/tx.pb.h"

namespace cl::node {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

class MempoolTest : public ::testing::Test {
 protected:
  MempoolTest() : suite_(crypto::MakeSuite("ed25519-sha256").value()) {
    key_ = suite_->KeyFromSeed(Bytes(32, '\x07')).value();
    params_ = {.chain_id = "test-chain", .max_tx_bytes = 4096, .max_tx_validity_ms = 3'600'000};
  }

  // A signed revoke transaction; `mutate` may change the body before signing.
  Bytes MakeTx(uint64_t nonce, const std::function<void(certledger::v1::TxBody&)>& mutate = {}) {
    certledger::v1::TxBody body;
    body.set_chain_id("test-chain");
    body.set_nonce(nonce);
    body.set_valid_until_ms(kNow + 60'000);
    body.mutable_revoke_certificate()->set_cert_id("C-" + std::to_string(nonce));
    body.mutable_revoke_certificate()->set_reason("test");
    if (mutate) mutate(body);
    certledger::v1::SignedTx stx;
    stx.set_body(body.SerializeAsString());
    stx.set_signer(key_.public_key);
    stx.set_signature(suite_->Sign(key_.secret_key, crypto::TxMessage(stx.body())).value());
    return stx.SerializeAsString();
  }

  std::expected<AdmittedTx, Rejection> Check(Bytes raw) {
    return CheckTx(std::move(raw), params_, *suite_, kNow);
  }

  std::shared_ptr<const crypto::Suite> suite_;
  crypto::KeyPair key_;
  AdmissionParams params_;
};

TEST_F(MempoolTest, AdmitsAWellFormedTransaction) {
  Bytes raw = MakeTx(1);
  auto r = Check(raw);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  certledger::v1::SignedTx stx;
  ASSERT_TRUE(stx.ParseFromString(raw));
  EXPECT_EQ(r->id, suite_->Hash(stx.body()));
  EXPECT_EQ(r->raw, raw);
  EXPECT_EQ(r->valid_until_ms, kNow + 60'000);
}

TEST_F(MempoolTest, RejectsEachKindOfBadTransaction) {
  struct Case {
    const char* name;
    std::function<Bytes()> make;
    RejectReason want;
  };
  const std::vector<Case> cases = {
      {"garbage bytes", [] { return Bytes("\xff\xff\xff\xff", 4); }, RejectReason::kMalformed},
      {"empty body", [] { return Bytes(); }, RejectReason::kMalformed},
      {"too large", [] { return Bytes(5000, 'x'); }, RejectReason::kTooLarge},
      {"no payload",
       [&] { return MakeTx(2, [](auto& b) { b.clear_payload(); }); }, RejectReason::kMalformed},
      {"wrong chain",
       [&] { return MakeTx(3, [](auto& b) { b.set_chain_id("other"); }); },
       RejectReason::kWrongChain},
      {"expired",
       [&] { return MakeTx(4, [](auto& b) { b.set_valid_until_ms(kNow - 1); }); },
       RejectReason::kExpired},
      {"too far ahead",
       [&] { return MakeTx(5, [](auto& b) { b.set_valid_until_ms(kNow + 3'600'001); }); },
       RejectReason::kTooFarAhead},
      {"tampered body",
       [&] {
         certledger::v1::SignedTx stx;
         stx.ParseFromString(MakeTx(6));
         certledger::v1::TxBody body;
         body.ParseFromString(stx.body());
         body.set_nonce(7);
         stx.set_body(body.SerializeAsString());
         return stx.SerializeAsString();
       },
       RejectReason::kBadSignature},
      {"bad cosignature",
       [&] {
         certledger::v1::SignedTx stx;
         stx.ParseFromString(MakeTx(8));
         auto* co = stx.add_cosignatures();
         co->set_signer(key_.public_key);
         co->set_signature(Bytes(64, '\0'));
         return stx.SerializeAsString();
       },
       RejectReason::kBadSignature},
  };
  for (const auto& c : cases) {
    auto r = Check(c.make());
    ASSERT_FALSE(r.has_value()) << c.name;
    EXPECT_EQ(r.error().reason, c.want) << c.name << ": " << r.error().message;
    EXPECT_FALSE(r.error().ToStatus().ok()) << c.name;
  }
}

TEST_F(MempoolTest, RefusesDuplicatesWhilePendingProposedOrApplied) {
  std::set<crypto::Digest> applied;
  Mempool pool({}, [&](const crypto::Digest& id) { return applied.contains(id); });
  AdmittedTx a = *Check(MakeTx(1));
  ASSERT_TRUE(pool.Add(a).has_value());
  EXPECT_EQ(pool.Add(a).error().reason, RejectReason::kDuplicate);
  auto batch = pool.TakeBatch(10, 1 << 20, kNow);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(pool.Add(a).error().reason, RejectReason::kDuplicate);  // proposed
  pool.OnApplied(std::vector{a.id});
  applied.insert(a.id);
  EXPECT_EQ(pool.size(), 0u);
  EXPECT_EQ(pool.Add(a).error().reason, RejectReason::kDuplicate);  // on the chain
}

TEST_F(MempoolTest, BoundedByCountAndBytes) {
  Mempool by_count({.max_txs = 2}, {});
  ASSERT_TRUE(by_count.Add(*Check(MakeTx(1))).has_value());
  ASSERT_TRUE(by_count.Add(*Check(MakeTx(2))).has_value());
  EXPECT_EQ(by_count.Add(*Check(MakeTx(3))).error().reason, RejectReason::kMempoolFull);

  AdmittedTx t = *Check(MakeTx(4));
  Mempool by_bytes({.max_bytes = t.raw.size() * 2 + 1}, {});
  ASSERT_TRUE(by_bytes.Add(t).has_value());
  ASSERT_TRUE(by_bytes.Add(*Check(MakeTx(5))).has_value());
  EXPECT_EQ(by_bytes.Add(*Check(MakeTx(6))).error().reason, RejectReason::kMempoolFull);
  EXPECT_LE(by_bytes.bytes(), t.raw.size() * 2 + 1);
}

TEST_F(MempoolTest, BatchesInArrivalOrderWithinLimits) {
  Mempool pool({}, {});
  std::vector<crypto::Digest> ids;
  for (uint64_t n = 1; n <= 5; ++n) {
    AdmittedTx t = *Check(MakeTx(n));
    ids.push_back(t.id);
    ASSERT_TRUE(pool.Add(std::move(t)).has_value());
  }
  auto b1 = pool.TakeBatch(2, 1 << 20, kNow);
  ASSERT_EQ(b1.size(), 2u);
  EXPECT_EQ(b1[0].id, ids[0]);
  EXPECT_EQ(b1[1].id, ids[1]);
  auto b2 = pool.TakeBatch(100, 1, kNow);  // byte limit still yields one
  ASSERT_EQ(b2.size(), 1u);
  EXPECT_EQ(b2[0].id, ids[2]);
  EXPECT_EQ(pool.pending(), 2u);
  EXPECT_EQ(pool.size(), 5u);
}

TEST_F(MempoolTest, UnappliedProposalsComeBackAfterTheReproposalDelay) {
  Mempool pool({.reproposal_ms = 1000}, {});
  AdmittedTx t = *Check(MakeTx(1));
  ASSERT_TRUE(pool.Add(t).has_value());
  ASSERT_EQ(pool.TakeBatch(10, 1 << 20, kNow).size(), 1u);
  EXPECT_TRUE(pool.TakeBatch(10, 1 << 20, kNow + 999).empty());
  auto again = pool.TakeBatch(10, 1 << 20, kNow + 1000);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, t.id);
  pool.RequeueProposed();
  EXPECT_EQ(pool.pending(), 1u);
}

TEST_F(MempoolTest, ExpiresTransactionsPastTheirValidity) {
  Mempool pool({}, {});
  ASSERT_TRUE(pool.Add(*Check(MakeTx(1))).has_value());
  EXPECT_EQ(pool.Expire(kNow + 60'000), 0u);
  EXPECT_EQ(pool.Expire(kNow + 60'001), 1u);
  EXPECT_EQ(pool.size(), 0u);
  EXPECT_EQ(pool.bytes(), 0u);
}

}  // namespace
}  // namespace cl::node
