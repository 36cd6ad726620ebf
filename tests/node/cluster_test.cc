// An in-process 3-node network over real loopback sockets: transactions
// submitted to every node commit, all nodes hold byte-identical blocks, and
// commit certificates verify against the genesis keys. Every case runs once
// per crypto suite (the suite's name ends the test name), so tx ids, block
// hashes, history trees, peer-handshake and header signatures are exercised
// with SHA-256/Ed25519 and with SM3/SM2.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <thread>

#include "crypto/merkle.h"
#include "crypto/suite.h"
#include "node/node.h"
#include "proto/records.pb.h"
#include "proto/tx.pb.h"
#include "storage/store.h"
#include "tests/contracts/fixture.h"
#include "tests/node/node_testing.h"
#include "tests/node/test_sockets.h"
#include "tests/node/every_suite.h"

namespace cl::node {
namespace {

namespace v1 = certledger::v1;
using contracts::testing::Fixture;
using namespace std::chrono_literals;
using testing::SubmitAndWait;

class ClusterTest : public ::testing::TestWithParam<std::string> {
 protected:
  static constexpr int kNodes = 3;

  ClusterTest() : f_(GetParam()) {
    dir_ = std::filesystem::temp_directory_path() /
           ("cl-cluster-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(dir_);
    // The fixture's genesis has voters 1..3 with keys "node/1".."node/3"; their
    // genesis addresses are replaced by the ports the test binds.
    const v1::Genesis& g = f_.genesis();
    genesis_ = std::make_shared<v1::Genesis>(g);
    genesis_bytes_ = genesis_->SerializeAsString();
  }

  ~ClusterTest() override {
    for (auto& n : nodes_)
      if (n) n->Stop();
    nodes_.clear();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Node i's setup, knowing the peer addresses `peers`.
  NodeSetup SetupFor(int i, const std::vector<std::pair<NodeId, std::string>>& peers,
                     bool sync_applies) {
    NodeSetup s;
    s.id = NodeId(static_cast<uint64_t>(i));
    s.genesis = genesis_;
    s.genesis_bytes = genesis_bytes_;
    s.node_key = crypto::SecretKey(Bytes(f_.Key("node/" + std::to_string(i)).secret_key.bytes()));
    s.data_dir = (dir_ / ("n" + std::to_string(i))).string();
    s.peer_addresses = peers;
    s.raft = RaftDriverOptions{.tick_ms = 20, .election_ticks = 10};
    s.ledger = LedgerOptions{.verify_threads = 1, .sync_applies = sync_applies};
    s.log = Logger::Null();
    return s;
  }

  // Node i restarted from its data directory, once all nodes ran.
  NodeSetup RestartSetupFor(int i) {
    NodeSetup s = SetupFor(i, addrs_, /*sync_applies=*/true);
    // A restarted node listens on its old port, where its peers dial it.
    for (const auto& [id, addr] : addrs_)
      if (id == s.id) s.peer_listen = addr;
    return s;
  }

  // Starts the nodes from the highest id down, so each one knows the ports of
  // the peers it dials (a node dials only the peers with larger ids).
  void StartAll() {
    nodes_.resize(kNodes);
    std::vector<std::pair<NodeId, std::string>> addrs;
    for (int i = kNodes; i >= 1; --i) {
      NodeSetup s = SetupFor(i, addrs, /*sync_applies=*/false);
      // A restarted node rebinds this port: keep it out of the ephemeral range.
      s.peer_listen = "127.0.0.1:" + std::to_string(cl::testing::StablePort());
      auto n = Node::Create(std::move(s));
      ASSERT_TRUE(n.ok()) << n.status();
      addrs.emplace_back(NodeId(static_cast<uint64_t>(i)),
                         "127.0.0.1:" + std::to_string((*n)->peer_port()));
      nodes_[static_cast<size_t>(i - 1)] = std::move(n).value();
    }
    addrs_ = addrs;
    for (auto& n : nodes_) n->Start();
  }

  // Submits to any live node until one accepts it and it commits.
  Result<SubmitResult> SubmitAnywhere(const Bytes& tx) {
    Status last = Unavailable("no live node");
    for (int attempt = 0; attempt < 100; ++attempt) {
      for (auto& n : nodes_) {
        if (!n) continue;
        auto r = SubmitAndWait(*n, tx);
        if (r.ok()) return r;
        last = r.status();
        if (r.status().code() == Code::kAlreadyExists) return r;
      }
      std::this_thread::sleep_for(50ms);
    }
    return last;
  }

  Bytes AnchorTx(int i) {
    auto a = f_.Cert("CERT-" + std::to_string(i), "MARRIAGE", "CAB",
                     f_.HolderRef("3301021985" + std::to_string(100000 + i)),
                     WallClockMs() - contracts::testing::kDayMs);
    return f_.Anchor("CAB/issuer", WallClockMs(), a);
  }

  NodeId WaitForLeader() { return testing::WaitForLeader(nodes_); }

  Fixture f_;
  std::filesystem::path dir_;
  std::shared_ptr<v1::Genesis> genesis_;
  Bytes genesis_bytes_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::pair<NodeId, std::string>> addrs_;
};

TEST_P(ClusterTest, TransactionsToEveryNodeCommitAndAllNodesAgree) {
  StartAll();
  ASSERT_NE(WaitForLeader(), NodeId()) << "no leader elected";

  // A holder ref and one certificate anchored per node; submitted to each node
  // in turn (followers forward to the leader).
  std::vector<crypto::Digest> ids;
  for (int i = 0; i < 6; ++i) {
    Node& n = *nodes_[static_cast<size_t>(i % kNodes)];
    const std::string cert_id = "CERT-" + std::to_string(i);
    auto a = f_.Cert(cert_id, "MARRIAGE", "CAB", f_.HolderRef("11010519900101" + std::to_string(1000 + i)),
                     WallClockMs() - contracts::testing::kDayMs);
    Bytes tx = f_.Anchor("CAB/issuer", WallClockMs(), a);
    auto r = SubmitAndWait(n, tx);
    // A follower may not know the leader for a moment after the election.
    for (int retry = 0; !r.ok() && r.status().code() == Code::kUnavailable && retry < 50; ++retry) {
      std::this_thread::sleep_for(50ms);
      r = SubmitAndWait(n, tx);
    }
    ASSERT_TRUE(r.ok()) << "node " << n.id() << ": " << r.status();
    ASSERT_TRUE(r->outcome.has_value());
    v1::Receipt receipt;
    ASSERT_TRUE(receipt.ParseFromString(r->outcome->receipt));
    EXPECT_EQ(receipt.code(), v1::OK) << receipt.message();
    v1::SignedTx stx;
    ASSERT_TRUE(stx.ParseFromString(tx));
    EXPECT_EQ(r->tx_id, f_.suite().Hash(stx.body())) << "the tx id is the genesis suite's hash of the body";
    ids.push_back(r->tx_id);
  }
  for (auto& n : nodes_) EXPECT_EQ(n->ledger().suite().name(), GetParam());

  // Every node applies every block; wait until all reach the same height.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  Height top;
  for (;;) {
    top = nodes_[0]->ledger().height();
    bool same = true;
    for (auto& n : nodes_) same = same && n->ledger().height() == top;
    if (same || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GE(top.value(), 1u);
  for (uint64_t h = 1; h <= top.value(); ++h) {
    auto b0 = nodes_[0]->ledger().store().blocks().Get(Height(h));
    ASSERT_TRUE(b0.ok()) << b0.status();
    for (int i = 1; i < kNodes; ++i) {
      auto bi = nodes_[static_cast<size_t>(i)]->ledger().store().blocks().Get(Height(h));
      ASSERT_TRUE(bi.ok()) << bi.status();
      EXPECT_EQ(bi->block, b0->block) << "block " << h << " differs on node " << i + 1;
    }
    // The block hash is the suite's hash of the header bytes, and tx_root the
    // suite's RFC 6962 root of the tx ids: a verifier recomputes both.
    v1::Block block;
    ASSERT_TRUE(block.ParseFromString(b0->block));
    EXPECT_EQ(b0->hash, f_.suite().Hash(block.header())) << "block " << h;
    v1::BlockHeader header;
    ASSERT_TRUE(header.ParseFromString(block.header()));
    std::vector<crypto::Digest> leaves;
    for (const Bytes& raw : block.txs()) {
      v1::SignedTx stx;
      ASSERT_TRUE(stx.ParseFromString(raw));
      leaves.push_back(crypto::MerkleLeafHash(f_.suite(), f_.suite().Hash(stx.body()).view()));
    }
    EXPECT_EQ(crypto::MerkleRoot(f_.suite(), leaves).ToBytes(), header.tx_root()) << "block " << h;
  }
  for (const auto& id : ids)
    for (auto& n : nodes_) EXPECT_TRUE(n->ledger().store().blocks().FindTx(id).ok());

  // Commit certificates: every block ends up certified by a quorum on every
  // node, verifiable with the genesis node keys alone.
  const auto cert_deadline = std::chrono::steady_clock::now() + 10s;
  for (auto& n : nodes_) {
    for (uint64_t h = 1; h <= top.value(); ++h) {
      Result<Bytes> cert = NotFound("");
      while (!(cert = n->ledger().store().blocks().CommitCert(Height(h))).ok() &&
             std::chrono::steady_clock::now() < cert_deadline)
        std::this_thread::sleep_for(20ms);
      ASSERT_TRUE(cert.ok()) << "node " << n->id() << " height " << h << ": " << cert.status();
      auto block = n->ledger().store().blocks().Get(Height(h));
      ASSERT_TRUE(block.ok());
      EXPECT_TRUE(VerifyCommitCertificate(f_.suite(), *cert, Height(h), block->hash, n->voters(), 2).ok());
    }
  }
}

TEST_P(ClusterTest, RejectsBadTransactionsAtTheDoorWithAReason) {
  StartAll();
  ASSERT_NE(WaitForLeader(), NodeId());
  std::promise<std::optional<RejectReason>> p;
  nodes_[0]->Submit("not a transaction", std::nullopt,
                    [&](Result<SubmitResult> r, std::optional<RejectReason> why) {
                      EXPECT_FALSE(r.ok());
                      p.set_value(why);
                    });
  EXPECT_EQ(p.get_future().get(), RejectReason::kMalformed);
}

TEST_P(ClusterTest, LeaderStopsTheRestGoOnAndItCatchesUpAfterRestart) {
  StartAll();
  const NodeId leader = WaitForLeader();
  ASSERT_NE(leader, NodeId());
  std::vector<crypto::Digest> acked;
  for (int i = 0; i < 3; ++i) {
    auto r = SubmitAnywhere(AnchorTx(i));
    ASSERT_TRUE(r.ok()) << r.status();
    acked.push_back(r->tx_id);
  }
  // Stop the leader (graceful stop: its links close, the others elect anew).
  const size_t li = leader.value() - 1;
  nodes_[li]->Stop();
  nodes_[li].reset();
  for (int i = 3; i < 6; ++i) {
    auto r = SubmitAnywhere(AnchorTx(i));
    ASSERT_TRUE(r.ok()) << "after the leader stopped: " << r.status();
    acked.push_back(r->tx_id);
  }
  // Restart it from its data directory: it resumes at its applied index and
  // catches up from the new leader's log.
  auto n = Node::Create(RestartSetupFor(static_cast<int>(leader.value())));
  ASSERT_TRUE(n.ok()) << n.status();
  nodes_[li] = std::move(n).value();
  nodes_[li]->Start();
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  bool all = false;
  while (!all && std::chrono::steady_clock::now() < deadline) {
    all = true;
    for (const auto& id : acked)
      for (auto& node : nodes_) all = all && node->ledger().store().blocks().FindTx(id).ok();
    if (!all) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(all) << "every acknowledged transaction is on every node, the restarted one too";
  // Exactly once: the tx index points at one place, and heights agree.
  const Height top = nodes_[0]->ledger().height();
  for (uint64_t h = 1; h <= top.value(); ++h) {
    auto b0 = nodes_[0]->ledger().store().blocks().Get(Height(h));
    for (auto& node : nodes_) {
      auto b = node->ledger().store().blocks().Get(Height(h));
      if (b.ok() && b0.ok()) {
        EXPECT_EQ(b->hash, b0->hash) << "height " << h;
      }
    }
  }
}

CL_INSTANTIATE_FOR_EVERY_SUITE(ClusterTest);

}  // namespace
}  // namespace cl::node
