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
            if (failing_stores_ > 0) {
              --failing_stores_;
              return IoError("disk full");
            }
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

  // One node's gossip: `sig` claimed by `signer` over block `hash` at height `h`.
  static Bytes Gossip(uint64_t h, const crypto::Digest& hash, uint64_t signer, const Bytes& sig) {
    certledger::v1::CommitCertificate g;
    g.set_height(h);
    g.set_block_hash(hash.ToBytes());
    auto* s = g.add_signatures();
    s->set_node_id(signer);
    s->set_signature(sig);
    return g.SerializeAsString();
  }
  Bytes SignedBy(uint64_t node, const crypto::Digest& hash) const {
    return suite_->Sign(keys_[node - 1].secret_key, crypto::HeaderMessage(hash.view())).value();
  }

  std::shared_ptr<const crypto::Suite> suite_;
  std::vector<crypto::KeyPair> keys_;
  std::vector<SignerInfo> voters_;
  std::vector<std::unique_ptr<CommitCertCollector>> collectors_;
  std::vector<std::pair<NodeId, Bytes>> outbox_;
  std::map<uint64_t, std::map<Height, Bytes>> stored_;
  int failing_stores_ = 0;  // the next this many certificate writes fail
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
  const Bytes bad_sig(64, 'x');
  const crypto::Digest h4 = suite_->Hash("header 4");
  collectors_[0]->OnApplied(Height(4), h4);
  collectors_[0]->OnGossip(NodeId(2), Gossip(4, h4, 2, SignedBy(2, h4)));
  ASSERT_TRUE(stored_[1].contains(Height(4)));
  // Node 3's signature arrives after the quorum: even a bad one is dropped
  // without a check (and without counting as rejected, since it was never checked).
  collectors_[0]->OnGossip(NodeId(3), Gossip(4, h4, 3, bad_sig));
  EXPECT_EQ(collectors_[0]->rejected(), 0u);
  EXPECT_TRUE(VerifyCommitCertificate(*suite_, stored_[1][Height(4)], Height(4), h4, voters_, 2).ok());
  // Before this node applies a height, it keeps one peer signature besides
  // the one it will make itself, and drops the rest unchecked.
  const crypto::Digest h5 = suite_->Hash("header 5");
  collectors_[0]->OnGossip(NodeId(2), Gossip(5, h5, 2, SignedBy(2, h5)));
  collectors_[0]->OnGossip(NodeId(3), Gossip(5, h5, 3, bad_sig));
  EXPECT_EQ(collectors_[0]->rejected(), 0u);
  collectors_[0]->OnApplied(Height(5), h5);
  ASSERT_TRUE(stored_[1].contains(Height(5)));
  EXPECT_TRUE(VerifyCommitCertificate(*suite_, stored_[1][Height(5)], Height(5), h5, voters_, 2).ok());
}

TEST_F(CommitCertsTest, APeersSecondSignatureDoesNotReplaceItsFirst) {
  const crypto::Digest h6 = suite_->Hash("header 6");
  const crypto::Digest other = suite_->Hash("forked header 6");
  collectors_[0]->OnGossip(NodeId(2), Gossip(6, h6, 2, SignedBy(2, h6)));
  // Node 2 plus node 1's own signature to come make a quorum: node 3's is dropped.
  collectors_[0]->OnGossip(NodeId(3), Gossip(6, h6, 3, SignedBy(3, h6)));
  // A faulty node 2 then signs another block at the same height: ignored.
  collectors_[0]->OnGossip(NodeId(2), Gossip(6, other, 2, SignedBy(2, other)));
  collectors_[0]->OnApplied(Height(6), h6);
  ASSERT_TRUE(stored_[1].contains(Height(6)));
  EXPECT_TRUE(VerifyCommitCertificate(*suite_, stored_[1][Height(6)], Height(6), h6, voters_, 2).ok());
}

TEST_F(CommitCertsTest, AFailedStoreIsTriedAgainWithTheNextSignature) {
  const crypto::Digest h8 = suite_->Hash("header 8");
  collectors_[0]->OnApplied(Height(8), h8);
  failing_stores_ = 1;
  collectors_[0]->OnGossip(NodeId(2), Gossip(8, h8, 2, SignedBy(2, h8)));
  EXPECT_FALSE(stored_[1].contains(Height(8)));
  EXPECT_EQ(collectors_[0]->certified(), 0u);
  collectors_[0]->OnGossip(NodeId(3), Gossip(8, h8, 3, SignedBy(3, h8)));
  ASSERT_TRUE(stored_[1].contains(Height(8)));
  EXPECT_TRUE(VerifyCommitCertificate(*suite_, stored_[1][Height(8)], Height(8), h8, voters_, 2).ok());
  EXPECT_EQ(collectors_[0]->certified(), 1u);
}

TEST_F(CommitCertsTest, ForgedOrMismatchedSignaturesNeverCount) {
  const crypto::Digest hash = suite_->Hash("header 7");
  const crypto::Digest other = suite_->Hash("forked header 7");
  collectors_[0]->OnApplied(Height(7), hash);
  outbox_.clear();
  // Node 2 signed another block at the same height: it must not complete a
  // certificate for node 1's block.
  collectors_[0]->OnGossip(NodeId(2), Gossip(7, other, 2, SignedBy(2, other)));
  EXPECT_FALSE(stored_[1].contains(Height(7)));
  // A signature by node 2's key claimed as node 3's: rejected.
  collectors_[0]->OnGossip(NodeId(3), Gossip(7, hash, 3, SignedBy(2, hash)));
  // Gossip claiming to come from someone else than the link's peer: rejected.
  collectors_[0]->OnGossip(NodeId(3), Gossip(7, hash, 2, SignedBy(2, hash)));
  collectors_[0]->OnGossip(NodeId(2), "garbage");
  // Node 2 signing again, now node 1's block: its first signature stands.
  collectors_[0]->OnGossip(NodeId(2), Gossip(7, hash, 2, SignedBy(2, hash)));
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
