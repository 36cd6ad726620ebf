// Core throughput: entries committed per CPU-second by a 3-node raft cluster
// driven in memory (MemoryLogStorage, messages delivered at once in FIFO
// order, no faults, no fsync, no network). It measures the raft state
// machine itself: proposing, Ready handling, replication, commit and apply.
//
//   build/bin/raft_bench --benchmark_counters_tabular=true
//
// Arg: proposals per round (the leader proposes that many entries, then the
// cluster runs until quiet); every entry carries a 64-byte payload.
#include <benchmark/benchmark.h>

#include <deque>
#include <map>
#include <memory>

#include "base/check.h"
#include "consensus/memory_storage.h"
#include "consensus/raft.h"

namespace cl::consensus {
namespace {

class Cluster {
 public:
  explicit Cluster(int n) {
    raft::ConfState cs;
    for (int i = 1; i <= n; ++i) cs.add_voters(i);
    for (uint64_t id = 1; id <= static_cast<uint64_t>(n); ++id) {
      auto storage = std::make_unique<MemoryLogStorage>();
      raft::Snapshot snap;
      snap.mutable_metadata()->set_index(1);
      snap.mutable_metadata()->set_term(1);
      *snap.mutable_metadata()->mutable_conf_state() = cs;
      CL_CHECK(storage->ApplySnapshot(snap).ok(), "bench: bootstrap snapshot");
      raft::HardState hs;
      hs.set_term(1);
      hs.set_commit(1);
      storage->SetHardState(hs);
      Config config;
      config.id = NodeId(id);
      config.storage = storage.get();
      config.applied = RaftIndex(1);
      config.random_seed = id;
      auto node = RawNode::Create(config);
      CL_CHECK(node.ok(), "bench: RawNode::Create");
      nodes_[id] = Node{std::move(storage), std::move(*node), 1};
    }
    nodes_[1].raw->Campaign();
    Handle(1);
    Pump();
    CL_CHECK(nodes_[1].raw->GetStatus().soft_state.role == StateRole::kLeader,
             "bench: node 1 did not become leader");
  }

  RawNode& leader() { return *nodes_[1].raw; }
  uint64_t committed() const { return committed_; }

  // Runs Ready handling on node id (persist, send, apply, advance).
  void Handle(uint64_t id) {
    Node& n = nodes_[id];
    while (n.raw->HasReady()) {
      Ready rd = n.raw->GetReady();
      if (rd.snapshot) CL_CHECK(n.storage->ApplySnapshot(*rd.snapshot).ok(), "bench: snapshot");
      if (!rd.entries.empty()) CL_CHECK(n.storage->Append(rd.entries).ok(), "bench: append");
      if (rd.hard_state) n.storage->SetHardState(*rd.hard_state);
      for (raft::Message& m : rd.messages) queue_.push_back(std::move(m));
      for (const raft::Entry& e : rd.committed_entries) {
        n.applied = e.index();
        if (id == 1 && !e.data().empty()) ++committed_;
      }
      n.raw->Advance(rd);
      MaybeCompact(n);
    }
  }

  // Delivers messages until the cluster is quiet.
  void Pump() {
    while (!queue_.empty()) {
      raft::Message m = std::move(queue_.front());
      queue_.pop_front();
      Node& n = nodes_[m.to()];
      (void)n.raw->Step(m);
      Handle(m.to());
    }
  }

 private:
  struct Node {
    std::unique_ptr<MemoryLogStorage> storage;
    std::unique_ptr<RawNode> raw;
    uint64_t applied = 0;
  };

  // Keeps memory flat over millions of entries, as a real node compacts.
  static void MaybeCompact(Node& n) {
    const uint64_t first = n.storage->FirstIndex()->value();
    if (n.applied < first + 20000) return;
    const RaftIndex at(n.applied - 1000);
    CL_CHECK(n.storage->CreateSnapshot(at, n.raw->GetStatus().conf_state, "").ok(), "bench");
    CL_CHECK(n.storage->Compact(at).ok(), "bench: compact");
  }

  std::map<uint64_t, Node> nodes_;
  std::deque<raft::Message> queue_;
  uint64_t committed_ = 0;
};

void BM_CommitThreeNodes(benchmark::State& state) {
  Cluster cluster(3);
  const Bytes payload(64, 'x');
  const int64_t per_round = state.range(0);
  for (auto _ : state) {
    for (int64_t i = 0; i < per_round; ++i) {
      benchmark::DoNotOptimize(cluster.leader().Propose(payload));
    }
    cluster.Handle(1);
    cluster.Pump();
  }
  CL_CHECK(cluster.committed() == static_cast<uint64_t>(state.iterations() * per_round),
           "bench: not every proposal committed");
  // kIsRate divides by the measured CPU time of the loop.
  state.counters["entries_per_cpu_s"] =
      benchmark::Counter(static_cast<double>(cluster.committed()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CommitThreeNodes)->Arg(1)->Arg(16)->Arg(256);

}  // namespace
}  // namespace cl::consensus

BENCHMARK_MAIN();
