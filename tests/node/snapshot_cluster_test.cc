// Log compaction and snapshots on an in-process 3-node network over loopback:
// the leader compacts its log behind checkpoints, and a node that fell behind
// the compacted log (stopped, or restarted with a wiped data directory) is
// brought up to date by a snapshot streamed in chunks, then goes on applying
// blocks like the others, byte for byte.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <thread>

#include "node/node.h"
#include "proto/raft.pb.h"
#include "proto/records.pb.h"
#include "proto/tx.pb.h"
#include "storage/store.h"
#include "tests/contracts/fixture.h"
#include "tests/node/node_testing.h"
#include "tests/node/test_sockets.h"

namespace cl::node {
namespace {

namespace v1 = certledger::v1;
using contracts::testing::Fixture;
using namespace std::chrono_literals;
using testing::SubmitAndWait;

class SnapshotClusterTest : public ::testing::Test {
 protected:
  static constexpr int kNodes = 3;

  SnapshotClusterTest() {
    dir_ = std::filesystem::temp_directory_path() /
           ("cl-snapcluster-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(dir_);
    genesis_ = std::make_shared<v1::Genesis>(f_.genesis());
    genesis_bytes_ = genesis_->SerializeAsString();
  }

  ~SnapshotClusterTest() override {
    for (auto& n : nodes_)
      if (n) n->Stop();
    nodes_.clear();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string DataDir(int i) const { return (dir_ / ("n" + std::to_string(i))).string(); }

  NodeSetup SetupFor(int i, const std::vector<std::pair<NodeId, std::string>>& peers) {
    return SetupFor(i, peers, /*snapshot_interval=*/20);
  }
  NodeSetup SetupFor(int i, const std::vector<std::pair<NodeId, std::string>>& peers,
                     uint64_t snapshot_interval) {
    NodeSetup s;
    s.id = NodeId(static_cast<uint64_t>(i));
    s.genesis = genesis_;
    s.genesis_bytes = genesis_bytes_;
    s.node_key = crypto::SecretKey(Bytes(f_.Key("node/" + std::to_string(i)).secret_key.bytes()));
    s.data_dir = DataDir(i);
    s.peer_addresses = peers;
    for (const auto& [id, addr] : peers)
      if (id == s.id) s.peer_listen = addr;
    // A checkpoint every 20 applied entries, 5 entries kept behind it: a node
    // that misses a few dozen blocks can only catch up by snapshot.
    s.raft = RaftDriverOptions{.tick_ms = 20,
                               .election_ticks = 10,
                               .snapshot_interval_entries = snapshot_interval,
                               .compaction_keep_entries = 5};
    if (i == 1) s.raft.metrics = &metrics1_;
    s.ledger = LedgerOptions{.verify_threads = 1, .sync_applies = false};
    s.log = std::getenv("CL_TEST_LOG") ? Logger::Stderr(LogLevel::kInfo) : Logger::Null();
    return s;
  }

  void StartAll(uint64_t snapshot_interval = 20) {
    nodes_.resize(kNodes);
    std::vector<std::pair<NodeId, std::string>> addrs;
    for (int i = kNodes; i >= 1; --i) {
      NodeSetup s = SetupFor(i, addrs, snapshot_interval);
      s.peer_listen = "127.0.0.1:" + std::to_string(cl::testing::StablePort());  // restarted on it
      auto n = Node::Create(std::move(s));
      ASSERT_TRUE(n.ok()) << n.status();
      addrs.emplace_back(NodeId(static_cast<uint64_t>(i)), "127.0.0.1:" + std::to_string((*n)->peer_port()));
      nodes_[static_cast<size_t>(i - 1)] = std::move(n).value();
    }
    addrs_ = addrs;
    for (auto& n : nodes_) n->Start();
  }

  NodeId WaitForLeader() { return testing::WaitForLeader(nodes_); }

  // One anchor per call, each its own block (submitted and waited for).
  void Commit(int from, int count) {
    for (int i = from; i < from + count; ++i) {
      auto a = f_.Cert("CERT-" + std::to_string(i), "MARRIAGE", "CAB",
                       f_.HolderRef("3301021985" + std::to_string(100000 + i)),
                       WallClockMs() - contracts::testing::kDayMs);
      Bytes tx = f_.Anchor("CAB/issuer", WallClockMs(), a);
      Status last = Unavailable("no live node");
      bool done = false;
      for (int attempt = 0; attempt < 100 && !done; ++attempt) {
        for (auto& n : nodes_) {
          if (!n) continue;
          auto r = SubmitAndWait(*n, tx);
          if (r.ok() || r.status().code() == Code::kAlreadyExists) {
            done = true;
            break;
          }
          last = r.status();
        }
        if (!done) std::this_thread::sleep_for(50ms);
      }
      ASSERT_TRUE(done) << "tx " << i << ": " << last;
    }
  }

  // Waits until every live node is at the same height, then compares blocks.
  void ExpectAllAgree() {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    Height top;
    for (;;) {
      top = Height(0);
      for (auto& n : nodes_) top = std::max(top, n->ledger().height());
      bool same = true;
      for (auto& n : nodes_) same = same && n->ledger().height() == top;
      if (same) break;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "nodes did not converge";
      std::this_thread::sleep_for(20ms);
    }
    for (uint64_t h = 1; h <= top.value(); ++h) {
      auto b0 = nodes_[0]->ledger().store().blocks().Get(Height(h));
      ASSERT_TRUE(b0.ok()) << "height " << h << ": " << b0.status();
      for (int i = 1; i < kNodes; ++i) {
        auto bi = nodes_[static_cast<size_t>(i)]->ledger().store().blocks().Get(Height(h));
        ASSERT_TRUE(bi.ok()) << "node " << i + 1 << " height " << h << ": " << bi.status();
        EXPECT_EQ(bi->block, b0->block) << "block " << h << " differs on node " << i + 1;
      }
    }
    for (int i = 1; i < kNodes; ++i)
      EXPECT_EQ(nodes_[static_cast<size_t>(i)]->ledger().store().history().Root(
                    nodes_[0]->ledger().store().history().size()).value(),
                nodes_[0]->ledger().store().history().Root(nodes_[0]->ledger().store().history().size()).value());
  }

  // Stops a follower, commits enough for the others to compact past it, and
  // restarts it (after wiping its data directory if `wipe`).
  void RunLaggingFollower(bool wipe) {
    StartAll();
    const NodeId leader = WaitForLeader();
    ASSERT_NE(leader, NodeId());
    Commit(0, 5);
    const int lag = leader.value() == 3 ? 2 : 3;
    const size_t li = static_cast<size_t>(lag - 1);
    nodes_[li]->Stop();
    nodes_[li].reset();

    Commit(5, 50);
    // The leader compacted its log past everything the stopped node had.
    Node* lead = nullptr;
    for (auto& n : nodes_)
      if (n && n->driver().status().role == consensus::StateRole::kLeader) lead = n.get();
    ASSERT_NE(lead, nullptr);
    const DriverStatus ls = lead->driver().status();
    EXPECT_GT(ls.first_log_index.value(), 12u) << "the leader's log was not compacted";
    EXPECT_GT(ls.snapshot_index.value(), 0u);
    EXPECT_TRUE(std::filesystem::exists(DataDir(static_cast<int>(lead->id().value())) + "/snapshots/" +
                                        std::to_string(ls.snapshot_index.value())));

    if (wipe) std::filesystem::remove_all(DataDir(lag));
    auto n = Node::Create(SetupFor(lag, addrs_));
    ASSERT_TRUE(n.ok()) << n.status();
    nodes_[li] = std::move(n).value();
    nodes_[li]->Start();
    ExpectAllAgree();
    EXPECT_GE(nodes_[li]->driver().status().snapshots_installed, 1u) << "caught up without a snapshot";
    EXPECT_GE(lead->snapshot_stats().streams_sent, 1u);
    EXPECT_TRUE(nodes_[li]->ledger().store().write_error().ok());

    // Afterwards it applies new blocks from the log like everyone else, and
    // serves commit certificates for blocks it got by snapshot.
    Commit(100, 5);
    ExpectAllAgree();
    EXPECT_TRUE(nodes_[li]->ledger().store().blocks().CommitCert(Height(3)).ok());

    // And it restarts from the installed snapshot without replaying anything.
    const Height before = nodes_[li]->ledger().height();
    nodes_[li]->Stop();
    nodes_[li].reset();
    auto again = Node::Create(SetupFor(lag, addrs_));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_GE((*again)->ledger().height(), before);
    nodes_[li] = std::move(again).value();
    nodes_[li]->Start();
    Commit(200, 2);
    ExpectAllAgree();
  }

  Fixture f_;
  MetricsRegistry metrics1_;  // node 1's; outlives the nodes
  std::filesystem::path dir_;
  std::shared_ptr<v1::Genesis> genesis_;
  Bytes genesis_bytes_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::pair<NodeId, std::string>> addrs_;
};

TEST_F(SnapshotClusterTest, StoppedFollowerBehindTheCompactedLogCatchesUpBySnapshot) {
  RunLaggingFollower(/*wipe=*/false);
}

TEST_F(SnapshotClusterTest, WipedNodeRejoinsBySnapshot) { RunLaggingFollower(/*wipe=*/true); }

// Without compaction a wiped follower gets the whole log again: the leader
// notices that it lost entries it had acknowledged and starts over (raft
// would otherwise probe above its old match forever).
TEST_F(SnapshotClusterTest, WipedNodeRejoinsByLogReplayWithoutCompaction) {
  StartAll(/*snapshot_interval=*/0);
  const NodeId leader = WaitForLeader();
  ASSERT_NE(leader, NodeId());
  Commit(0, 10);
  ExpectAllAgree();
  const int wiped = leader.value() == 3 ? 2 : 3;
  const size_t wi = static_cast<size_t>(wiped - 1);
  nodes_[wi]->Stop();
  nodes_[wi].reset();
  std::filesystem::remove_all(DataDir(wiped));
  Commit(10, 5);
  auto n = Node::Create(SetupFor(wiped, addrs_, /*snapshot_interval=*/0));
  ASSERT_TRUE(n.ok()) << n.status();
  nodes_[wi] = std::move(n).value();
  nodes_[wi]->Start();
  ExpectAllAgree();
  EXPECT_EQ(nodes_[wi]->driver().status().snapshots_installed, 0u);
  Commit(20, 3);
  ExpectAllAgree();
}

TEST_F(SnapshotClusterTest, ARestartedNodeKeepsItsCheckpointAndCompactionPoint) {
  StartAll();
  ASSERT_NE(WaitForLeader(), NodeId());
  Commit(0, 30);
  ExpectAllAgree();
  // Node 1 observed every block it applied: one tx each.
  Histogram& apply = metrics1_.GetHistogram("certledger_apply_seconds", "", LatencyBucketsSeconds());
  Histogram& txs = metrics1_.GetHistogram("certledger_block_txs", "",
                                          {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000});
  EXPECT_EQ(apply.count(), nodes_[0]->ledger().height().value());
  EXPECT_EQ(txs.sum(), 30.0);
  EXPECT_NE(metrics1_.RenderPrometheus().find("certledger_raft_persist_seconds_count"), std::string::npos);
  std::vector<RaftIndex> snaps;
  for (auto& n : nodes_) snaps.push_back(n->driver().status().snapshot_index);
  for (auto& n : nodes_) n->Stop();
  for (int i = 1; i <= kNodes; ++i) {
    nodes_[static_cast<size_t>(i - 1)].reset();
    auto n = Node::Create(SetupFor(i, addrs_));
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_EQ((*n)->driver().status().snapshot_index, snaps[static_cast<size_t>(i - 1)]);
    // Exactly one checkpoint directory: the one the store names.
    size_t dirs = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(DataDir(i) + "/snapshots")) ++dirs;
    EXPECT_EQ(dirs, snaps[static_cast<size_t>(i - 1)].value() > 0 ? 1u : 0u);
    nodes_[static_cast<size_t>(i - 1)] = std::move(n).value();
  }
  for (auto& n : nodes_) n->Start();
  ASSERT_NE(WaitForLeader(), NodeId());
  Commit(50, 3);
  ExpectAllAgree();
}

// A fourth node that is not in the genesis: registered by governance (its
// key and addresses), it starts empty, is added as a learner and catches up
// (by snapshot: the log was compacted), is promoted to voter, and an original
// node is removed — all while transactions keep committing.
TEST_F(SnapshotClusterTest, ANodeAddedAfterGenesisJoinsIsPromotedAndAnOldOneRemoved) {
  StartAll();
  ASSERT_NE(WaitForLeader(), NodeId());
  Commit(0, 25);  // past one checkpoint: the new node needs a snapshot

  // Node 4 binds its peer port first, so its registration can name it.
  NodeSetup s4 = SetupFor(4, addrs_);
  s4.node_key = crypto::SecretKey(Bytes(f_.Key("node/4").secret_key.bytes()));
  auto n4 = Node::Create(std::move(s4));
  ASSERT_TRUE(n4.ok()) << n4.status();
  const std::string addr4 = "127.0.0.1:" + std::to_string((*n4)->peer_port());
  v1::Governance g;
  v1::NodeInfo* ni = g.mutable_set_node();
  ni->set_node_id(4);
  ni->set_department("HRSS");
  ni->set_public_key(f_.Key("node/4").public_key);
  ni->set_peer_address(addr4);
  ni->set_http_address("127.0.0.1:1");
  ni->set_role(v1::NodeInfo::LEARNER);
  {
    auto r = SubmitAndWait(*nodes_[0], f_.Govern("PSB/admin", {"CAB/admin", "ASC/admin"}, WallClockMs(), g));
    ASSERT_TRUE(r.ok()) << r.status();
    v1::Receipt receipt;
    ASSERT_TRUE(receipt.ParseFromString(r->outcome->receipt));
    ASSERT_EQ(receipt.code(), v1::OK) << receipt.message();
  }
  nodes_.push_back(std::move(n4).value());
  addrs_.emplace_back(NodeId(4), addr4);
  nodes_[3]->Start();

  auto change_once = [&](certledger::raft::ConfChangeType type, uint64_t id) {
    Node* lead = nullptr;
    for (auto& n : nodes_)
      if (n && n->driver().status().role == consensus::StateRole::kLeader) lead = n.get();
    if (lead == nullptr) return Unavailable("no leader");
    certledger::raft::ConfChange cc;
    auto* ch = cc.add_changes();
    ch->set_type(type);
    ch->set_node_id(id);
    std::promise<Status> p;
    lead->driver().ChangeMembership(cc, 10'000, [&](Status st) { p.set_value(st); });
    return p.get_future().get();
  };
  // A change refused before it was proposed is asked again: a leader new
  // after a transfer refuses until it has committed an entry of its term,
  // and a leader's status can lag its transfer by a moment.
  auto change = [&](certledger::raft::ConfChangeType type, uint64_t id) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      Status s = change_once(type, id);
      if ((s.code() != Code::kFailedPrecondition && s.code() != Code::kUnavailable) ||
          std::chrono::steady_clock::now() > until)
        return s;
      std::this_thread::sleep_for(50ms);
    }
  };
  // Every node learns node 4's address from the chain within a second or so.
  std::this_thread::sleep_for(1500ms);
  ASSERT_TRUE(change(certledger::raft::CONF_ADD_LEARNER, 4).ok());
  Commit(100, 10);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (nodes_[3]->ledger().height() < nodes_[0]->ledger().height() &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(nodes_[3]->ledger().height(), nodes_[0]->ledger().height()) << "the learner did not catch up";
  EXPECT_GE(nodes_[3]->driver().status().snapshots_installed, 1u);

  ASSERT_TRUE(change(certledger::raft::CONF_ADD_NODE, 4).ok());
  Commit(200, 5);
  const DriverStatus st4 = nodes_[3]->driver().status();
  EXPECT_EQ(st4.voters.size(), 4u);

  // Remove node 1 (if it leads, leadership moves first).
  if (nodes_[0]->driver().status().role == consensus::StateRole::kLeader) {
    std::promise<Status> p;
    nodes_[0]->driver().TransferLeader(NodeId(2), 10'000, [&](Status st) { p.set_value(st); });
    ASSERT_TRUE(p.get_future().get().ok());
  }
  const Status removed = change(certledger::raft::CONF_REMOVE_NODE, 1);
  ASSERT_TRUE(removed.ok()) << removed;
  nodes_[0]->Stop();  // out of the network: it no longer hears of new blocks
  nodes_[0].reset();
  Commit(300, 5);
  // The remaining three agree block for block, node 4 included.
  const Height top = nodes_[1]->ledger().height();
  const auto d2 = std::chrono::steady_clock::now() + 20s;
  while ((nodes_[2]->ledger().height() < top || nodes_[3]->ledger().height() < top) &&
         std::chrono::steady_clock::now() < d2)
    std::this_thread::sleep_for(20ms);
  for (uint64_t h = 1; h <= top.value(); ++h) {
    auto b = nodes_[1]->ledger().store().blocks().Get(Height(h));
    ASSERT_TRUE(b.ok());
    for (size_t i : {size_t{2}, size_t{3}}) {
      auto bi = nodes_[i]->ledger().store().blocks().Get(Height(h));
      ASSERT_TRUE(bi.ok()) << "node " << i + 1 << " height " << h << ": " << bi.status();
      EXPECT_EQ(bi->block, b->block) << "node " << i + 1 << " height " << h;
    }
  }
  const DriverStatus st2 = nodes_[1]->driver().status();
  EXPECT_EQ(st2.voters, (std::vector<uint64_t>{2, 3, 4}));
}

}  // namespace
}  // namespace cl::node
