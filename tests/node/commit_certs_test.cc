#include "node/commit_certs.h"

#include <gtest/gtest.h>

#include "crypto/domain.h"
#include "proto/records.pb.h"

namespace cl::node {
namespace {

// Three voting nodes, each with a collector; gossip is delivered by hand.
class CommitCertsTest : public ::testing::Test {
 protected:
  CommitCertsTest() : suite_(crypto::MakeSuite("ed25519-sha256").value()) {
    for (uint64_t id = 1; id <= 3; ++id) {
      keys_.push_back(suite_->KeyFromSeed(Bytes(32, static_cast<char>(id))).value());
      voters_.push_back({NodeId(id), keys_.back().public_key});
    }
    for (uint64_t id = 1; id <= 3; ++id) {
      collectors_.push_back(std::make_unique<CommitCertCollector>(
          CommitCertCollector::Options{.self = NodeId(id), .voters = voters_}, suite_,
          keys_[id - 1].secret_key,
          [this, id](Height h, const Bytes& cert) {
            stored_[id][h] = cert;
            return Status::Ok();
          },
          [this, id](const Bytes& gossip) { outbox_.push_back({NodeId(id), gossip}); }));
    }
  }

  void DeliverAll() {
    while (!outbox_.empty()) {
      auto [from, g] = outbox_.front();
      outbox_.erase(outbox_.begin());
      for (uint64_t id = 1; id <= 3; ++id)
        if (NodeId(id) != from) collectors_[id - 1]->OnGossip(from, g);
    }
  }

  std::shared_ptr<const crypto::Suite> suite_;
  std::vector<crypto::KeyPair> keys_;
  std::vector<SignerInfo> voters_;
  std::vector<std::unique_ptr<CommitCertCollector>> collectors_;
  std::vector<std::pair<NodeId, Bytes>> outbox_;
  std::map<uint64_t, std::map<Height, Bytes>> stored_;
};

TEST_F(CommitCertsTest, QuorumOfSignaturesMakesAVerifiableCertificate) {
  const crypto::Digest hash = suite_->Hash("header 1");
  collectors_[0]->OnApplied(Height(1), hash);
  DeliverAll();
  EXPECT_TRUE(stored_[1].empty()) << "one signature of three is no quorum";
  collectors_[1]->OnApplied(Height(1), hash);
  DeliverAll();
  ASSERT_TRUE(stored_[1].contains(Height(1)));
  ASSERT_TRUE(stored_[2].contains(Height(1)));
  EXPECT_TRUE(VerifyCommitCertificate(*suite_, stored_[1][Height(1)], Height(1), hash, voters_, 2).ok());
  // Node 3 has not applied it yet: it holds the signatures and certifies on apply.
  EXPECT_FALSE(stored_[3].contains(Height(1)));
  collectors_[2]->OnApplied(Height(1), hash);
  DeliverAll();
  ASSERT_TRUE(stored_[3].contains(Height(1)));
  EXPECT_TRUE(VerifyCommitCertificate(*suite_, stored_[3][Height(1)], Height(1), hash, voters_, 2).ok());

  // One certificate per height, with a quorum: the third signature is
  // neither verified nor stored.
  for (uint64_t id = 1; id <= 3; ++id) {
    certledger::v1::CommitCertificate cert;
    ASSERT_TRUE(cert.ParseFromString(stored_[id][Height(1)]));
    EXPECT_EQ(cert.signatures_size(), 2) << "node " << id;
    EXPECT_EQ(collectors_[id - 1]->certified(), 1u);
  }
}

TEST_F(CommitCertsTest, SignaturesBeyondAQuorumAreNotVerified) {
  const crypto::Digest hash = suite_->Hash("header 4");
  collectors_[0]->OnApplied(Height(4), hash);
  certledger::v1::CommitCertificate g;
  g.set_height(4);
  g.set_block_hash(hash.ToBytes());
  auto* s = g.add_signatures();
  s->set_node_id(2);
  s->set_signature(suite_->Sign(keys_[1].secret_key, crypto::HeaderMessage(hash.view())).value());
  collectors_[0]->OnGossip(NodeId(2), g.SerializeAsString());
  ASSERT_TRUE(stored_[1].contains(Height(4)));
  // Node 3's signature arrives after the quorum: even a bad one is dropped
  // without a check (and without counting as rejected, since it was never checked).
  s->set_node_id(3);
  s->set_signature(Bytes(64, 'x'));
  collectors_[0]->OnGossip(NodeId(3), g.SerializeAsString());
  EXPECT_EQ(collectors_[0]->rejected(), 0u);
  EXPECT_TRUE(VerifyCommitCertificate(*suite_, stored_[1][Height(4)], Height(4), hash, voters_, 2).ok());
  // Before this node applies a height, it keeps one peer signature besides
  // the one it will make itself, and drops the rest unchecked.
  collectors_[0]->OnGossip(NodeId(3), g.SerializeAsString());  // for height 4: dropped
  g.set_height(5);
  const crypto::Digest h5 = suite_->Hash("header 5");
  g.set_block_hash(h5.ToBytes());
  s->set_node_id(2);
  s->set_signature(suite_->Sign(keys_[1].secret_key, crypto::HeaderMessage(h5.view())).value());
  collectors_[0]->OnGossip(NodeId(2), g.SerializeAsString());
  s->set_node_id(3);
  s->set_signature(Bytes(64, 'x'));
  collectors_[0]->OnGossip(NodeId(3), g.SerializeAsString());
  EXPECT_EQ(collectors_[0]->rejected(), 0u);
  collectors_[0]->OnApplied(Height(5), h5);
  ASSERT_TRUE(stored_[1].contains(Height(5)));
  EXPECT_TRUE(VerifyCommitCertificate(*suite_, stored_[1][Height(5)], Height(5), h5, voters_, 2).ok());
}

TEST_F(CommitCertsTest, ForgedOrMismatchedSignaturesNeverCount) {
  const crypto::Digest hash = suite_->Hash("header 7");
  const crypto::Digest other = suite_->Hash("forked header 7");
  collectors_[0]->OnApplied(Height(7), hash);
  outbox_.clear();
  // Node 2 signed another block at the same height: it must not complete a
  // certificate for node 1's block.
  certledger::v1::CommitCertificate g;
  g.set_height(7);
  g.set_block_hash(other.ToBytes());
  auto* s = g.add_signatures();
  s->set_node_id(2);
  s->set_signature(suite_->Sign(keys_[1].secret_key, crypto::HeaderMessage(other.view())).value());
  collectors_[0]->OnGossip(NodeId(2), g.SerializeAsString());
  EXPECT_FALSE(stored_[1].contains(Height(7)));
  // A signature by node 3's key claimed as node 2's: rejected.
  g.set_block_hash(hash.ToBytes());
  s->set_signature(suite_->Sign(keys_[2].secret_key, crypto::HeaderMessage(hash.view())).value());
  collectors_[0]->OnGossip(NodeId(2), g.SerializeAsString());
  // Gossip claiming to come from someone else than the link's peer: rejected.
  collectors_[0]->OnGossip(NodeId(3), g.SerializeAsString());
  collectors_[0]->OnGossip(NodeId(2), "garbage");
  EXPECT_FALSE(stored_[1].contains(Height(7)));
  EXPECT_EQ(collectors_[0]->rejected(), 3u);
}

TEST_F(CommitCertsTest, VerifyRejectsTamperedCertificates) {
  const crypto::Digest hash = suite_->Hash("header 2");
  for (auto& c : collectors_) c->OnApplied(Height(2), hash);
  DeliverAll();
  const Bytes cert = stored_[1][Height(2)];
  ASSERT_TRUE(VerifyCommitCertificate(*suite_, cert, Height(2), hash, voters_, 2).ok());
  EXPECT_FALSE(VerifyCommitCertificate(*suite_, cert, Height(3), hash, voters_, 2).ok());
  EXPECT_FALSE(VerifyCommitCertificate(*suite_, cert, Height(2), suite_->Hash("x"), voters_, 2).ok());
  EXPECT_FALSE(VerifyCommitCertificate(*suite_, "junk", Height(2), hash, voters_, 2).ok());
  certledger::v1::CommitCertificate c;
  ASSERT_TRUE(c.ParseFromString(cert));
  // Duplicating one signer does not make a quorum.
  certledger::v1::CommitCertificate dup = c;
  dup.clear_signatures();
  *dup.add_signatures() = c.signatures(0);
  *dup.add_signatures() = c.signatures(0);
  EXPECT_EQ(VerifyCommitCertificate(*suite_, dup.SerializeAsString(), Height(2), hash, voters_, 2).code(),
            Code::kUnauthenticated);
  // A flipped bit in a signature drops it below the quorum.
  ASSERT_EQ(c.signatures_size(), 2);
  certledger::v1::CommitCertificate bad = c;
  for (int i = 0; i < 2; ++i) (*bad.mutable_signatures(i)->mutable_signature())[0] ^= 1;
  EXPECT_FALSE(VerifyCommitCertificate(*suite_, bad.SerializeAsString(), Height(2), hash, voters_, 2).ok());
}

}  // namespace
}  // namespace cl::node
