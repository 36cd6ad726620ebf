// Fuzz target: the raft core (consensus/raft.h RawNode) in a 3-node cluster
// whose every scheduling decision comes from the fuzz input: which node ticks,
// which in-flight message is delivered, dropped, duplicated or delivered late
// (a stale copy of an old message), who proposes, campaigns, transfers
// leadership, asks for a read index, crashes (losing nothing it persisted:
// storage is written before messages leave) or restarts.
//
// Messages are only ever the ones the nodes produced: raft tolerates loss,
// duplication, delay and reordering, not forgery (DESIGN.md: crash-fault
// tolerant), so those are the faults explored.
//
// Input: one options byte (bit 0 pre-vote, bit 1 check-quorum), then one op
// per byte (some ops read one more byte for a node or message index).
//
// Safety, checked after every op:
//   - election safety: at most one leader per term, ever;
//   - committed entries never change: every entry any node applies at index
//     i has the same (term, data) as every other entry applied at i, and a
//     node applies indexes 1, 2, 3, ... without gaps or repeats;
//   - a node's term and commit index never decrease, across restarts too.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/check.h"
#include "consensus/memory_storage.h"
#include "consensus/raft.h"
#include "fuzz/fuzz_util.h"

namespace cl::fuzz {
namespace {

using consensus::MemoryLogStorage;
using consensus::RawNode;
namespace raft = certledger::raft;

constexpr uint64_t kNodes = 3;
constexpr size_t kMaxOps = 3000;
constexpr size_t kMaxQueue = 4096;
constexpr size_t kMaxHistory = 256;

struct Node {
  std::unique_ptr<MemoryLogStorage> storage;
  std::unique_ptr<RawNode> raw;
  uint64_t applied = 1;  // the bootstrap snapshot
  uint64_t max_term = 1;
  uint64_t max_commit = 1;
};

class Cluster {
 public:
  explicit Cluster(uint8_t options) : pre_vote_(options & 1), check_quorum_((options & 2) != 0) {
    raft::ConfState cs;
    for (uint64_t i = 1; i <= kNodes; ++i) cs.add_voters(i);
    for (uint64_t i = 1; i <= kNodes; ++i) {
      Node& n = nodes_[i];
      n.storage = std::make_unique<MemoryLogStorage>();
      raft::Snapshot snap;
      snap.mutable_metadata()->set_index(1);
      snap.mutable_metadata()->set_term(1);
      *snap.mutable_metadata()->mutable_conf_state() = cs;
      CL_CHECK(n.storage->ApplySnapshot(snap).ok(), "bootstrap snapshot");
      raft::HardState hs;
      hs.set_term(1);
      hs.set_commit(1);
      n.storage->SetHardState(hs);
      Start(i);
    }
  }

  // For looking at a corpus: CL_FUZZ_VERBOSE=1 prints what a run reached.
  std::string Summary() const {
    return "terms with a leader " + std::to_string(leaders_.size()) + ", committed entries " +
           std::to_string(committed_.size()) + ", proposals " + std::to_string(next_proposal_);
  }

  void Run(Input& in) {
    for (size_t ops = 0; ops < kMaxOps && !in.empty(); ++ops) {
      Op(in);
      Drain();
    }
  }

 private:
  void Start(uint64_t id) {
    Node& n = nodes_[id];
    consensus::Config c{.id = NodeId(id), .storage = n.storage.get(), .applied = RaftIndex(n.applied)};
    c.election_ticks = 5;
    c.heartbeat_ticks = 1;
    c.random_seed = id * 7919 + restarts_++;
    c.pre_vote = pre_vote_;
    c.check_quorum = check_quorum_;
    c.max_size_per_msg = 256;  // several appends per catch-up
    // CL_FUZZ_RAFT_BUG=<TestingBugs field> re-introduces a classic raft bug,
    // to show that this target's invariants catch it (never set in the suite).
    if (const char* bug = std::getenv("CL_FUZZ_RAFT_BUG")) {
      const std::string b = bug;
      c.bugs.commit_previous_term_by_counting = b == "commit_previous_term_by_counting";
      c.bugs.vote_without_log_check = b == "vote_without_log_check";
      c.bugs.truncate_on_stale_append = b == "truncate_on_stale_append";
      c.bugs.respond_before_persist = b == "respond_before_persist";
      c.allow_testing_bugs = c.bugs.any();
    }
    auto raw = RawNode::Create(c);
    CL_CHECK(raw.ok(), "RawNode::Create: " + raw.status().ToString());
    n.raw = std::move(raw).value();
  }

  Node* Pick(Input& in) {
    Node& n = nodes_[1 + in.Byte() % kNodes];
    return n.raw ? &n : nullptr;
  }

  void Deliver(const raft::Message& m) {
    auto it = nodes_.find(m.to());
    if (it == nodes_.end() || !it->second.raw) return;  // crashed: lost
    (void)it->second.raw->Step(m);  // stale or unexpected messages may be refused
    Remember(m);
  }

  void Remember(const raft::Message& m) {
    history_.push_back(m);
    if (history_.size() > kMaxHistory) history_.pop_front();
  }

  void Op(Input& in) {
    const uint8_t op = in.Byte() % 13;
    switch (op) {
      case 0:
      case 1:
        if (Node* n = Pick(in)) n->raw->Tick();
        break;
      case 2:
        for (auto& [id, n] : nodes_)
          if (n.raw) n.raw->Tick();
        break;
      case 3:
      case 4: {  // deliver one message (in any order)
        if (queue_.empty()) break;
        const size_t i = in.Byte() % queue_.size();
        raft::Message m = std::move(queue_[i]);
        queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(i));
        Deliver(m);
        break;
      }
      case 5: {  // deliver everything queued now, in order
        std::deque<raft::Message> now;
        now.swap(queue_);
        for (const auto& m : now) Deliver(m);
        break;
      }
      case 6: {  // drop one
        if (queue_.empty()) break;
        queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(in.Byte() % queue_.size()));
        break;
      }
      case 7: {  // duplicate one
        if (queue_.empty() || queue_.size() >= kMaxQueue) break;
        queue_.push_back(queue_[in.Byte() % queue_.size()]);
        break;
      }
      case 8: {  // a stale copy of an already delivered message arrives again
        if (history_.empty()) break;
        raft::Message m = history_[in.Byte() % history_.size()];
        Deliver(m);
        break;
      }
      case 9:
        if (Node* n = Pick(in)) (void)n->raw->Propose("p" + std::to_string(next_proposal_++));
        break;
      case 10:
        if (Node* n = Pick(in)) n->raw->Campaign();
        break;
      case 11: {  // crash or restart
        const uint64_t id = 1 + in.Byte() % kNodes;
        if (nodes_[id].raw) {
          nodes_[id].raw.reset();  // everything it persisted stays in its storage
        } else {
          Start(id);
        }
        break;
      }
      case 12: {
        const uint8_t sub = in.Byte();
        if (Node* n = Pick(in)) {
          if (sub & 1) n->raw->TransferLeader(NodeId(1 + (sub >> 1) % kNodes));
          else n->raw->ReadIndex("r" + std::to_string(sub));
        }
        break;
      }
    }
  }

  // Handles every Ready the way node/raft_driver does: persist, then send,
  // then apply; checks the invariants on the way.
  void Drain() {
    for (bool progress = true; progress;) {
      progress = false;
      for (auto& [id, n] : nodes_) {
        if (!n.raw || !n.raw->HasReady()) continue;
        progress = true;
        consensus::Ready rd = n.raw->GetReady();
        if (rd.snapshot) {
          CL_CHECK(n.storage->ApplySnapshot(*rd.snapshot).ok(), "snapshot applies");
          n.applied = rd.snapshot->metadata().index();
        }
        CL_CHECK(n.storage->Append(rd.entries).ok(), "append");
        if (rd.hard_state) n.storage->SetHardState(*rd.hard_state);
        for (auto& m : rd.messages)
          if (queue_.size() < kMaxQueue) queue_.push_back(std::move(m));
        for (const raft::Entry& e : rd.committed_entries) Apply(id, n, e);
        n.raw->Advance(rd);
      }
      CheckNodes();
    }
  }

  void Apply(uint64_t id, Node& n, const raft::Entry& e) {
    CL_CHECK(e.index() == n.applied + 1, "node " + std::to_string(id) + " applied index " +
                                             std::to_string(e.index()) + " after " +
                                             std::to_string(n.applied));
    n.applied = e.index();
    auto [it, inserted] = committed_.emplace(e.index(), std::make_pair(e.term(), e.data()));
    CL_CHECK(inserted || (it->second.first == e.term() && it->second.second == e.data()),
             "committed entry " + std::to_string(e.index()) + " changed");
    if (e.type() != raft::ENTRY_NORMAL) {
      raft::ConfChange cc;
      if (cc.ParseFromString(e.data())) (void)n.raw->ApplyConfChange(cc);
    }
  }

  void CheckNodes() {
    for (auto& [id, n] : nodes_) {
      if (!n.raw) continue;
      consensus::RaftStatus st = n.raw->GetStatus();
      const uint64_t term = st.hard_state.term();
      CL_CHECK(term >= n.max_term, "term went back on node " + std::to_string(id));
      CL_CHECK(st.hard_state.commit() >= n.max_commit, "commit went back on node " + std::to_string(id));
      n.max_term = term;
      n.max_commit = st.hard_state.commit();
      if (st.soft_state.role == consensus::StateRole::kLeader) {
        auto [it, inserted] = leaders_.emplace(term, id);
        CL_CHECK(inserted || it->second == id, "two leaders in term " + std::to_string(term) + ": " +
                                                   std::to_string(it->second) + " and " +
                                                   std::to_string(id));
      }
    }
  }

  const bool pre_vote_;
  const bool check_quorum_;
  std::map<uint64_t, Node> nodes_;
  std::deque<raft::Message> queue_;
  std::deque<raft::Message> history_;
  std::map<uint64_t, uint64_t> leaders_;                          // term -> leader
  std::map<uint64_t, std::pair<uint64_t, std::string>> committed_;  // index -> (term, data)
  uint64_t next_proposal_ = 0;
  uint64_t restarts_ = 0;
};

}  // namespace
}  // namespace cl::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cl::fuzz::Input in(data, size);
  cl::fuzz::Cluster cluster(in.Byte());
  cluster.Run(in);
  if (std::getenv("CL_FUZZ_VERBOSE") != nullptr) std::fprintf(stderr, "%s\n", cluster.Summary().c_str());
  return 0;
}
