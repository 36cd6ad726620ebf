#include "tests/consensus/interaction_env.h"

#include <algorithm>

#include "base/check.h"
#include "consensus/confchange.h"
#include "consensus/describe.h"
#include "consensus/raft_core.h"

namespace cl::consensus::testing {

std::vector<uint64_t> InteractionEnv::AddNodes(int n, const NodeOptions& opts) {
  std::vector<uint64_t> added;
  uint64_t next = nodes_.empty() ? 1 : nodes_.rbegin()->first + 1;
  for (int k = 0; k < n; ++k) added.push_back(next + static_cast<uint64_t>(k));
  raft::ConfState cs;
  for (uint64_t v : opts.voters.empty() ? added : opts.voters) cs.add_voters(v);
  for (uint64_t l : opts.learners) cs.add_learners(l);
  for (uint64_t id : added) {
    Node node;
    node.storage = std::make_unique<MemoryLogStorage>();
    if (opts.index > 0) {
      raft::Snapshot snap;
      snap.mutable_metadata()->set_index(opts.index);
      snap.mutable_metadata()->set_term(1);
      *snap.mutable_metadata()->mutable_conf_state() = cs;
      CL_CHECK(node.storage->ApplySnapshot(snap).ok(), "initial snapshot");
      raft::HardState hs;
      hs.set_term(1);
      hs.set_commit(opts.index);
      node.storage->SetHardState(hs);
    } else {
      node.storage->SetConfState(cs);
    }
    node.conf_state = cs;
    node.config = Config{.id = NodeId(id),
                         .storage = node.storage.get(),
                         .applied = RaftIndex(opts.index),
                         .election_ticks = opts.election_ticks,
                         .heartbeat_ticks = opts.heartbeat_ticks,
                         .random_seed = id,
                         .max_size_per_msg = opts.max_size_per_msg,
                         .max_uncommitted_entries_size = opts.max_uncommitted_entries_size,
                         .max_inflight_msgs = opts.max_inflight_msgs,
                         .max_inflight_bytes = opts.max_inflight_bytes,
                         .check_quorum = opts.check_quorum,
                         .pre_vote = opts.pre_vote,
                         .read_only = opts.read_only,
                         .bugs = opts.bugs,
                         .allow_testing_bugs = opts.bugs.any()};
    auto raw = RawNode::Create(node.config);
    CL_CHECK(raw.ok(), raw.status().ToString());
    node.raw = std::move(raw).value();
    nodes_.emplace(id, std::move(node));
  }
  return added;
}

InteractionEnv::Node& InteractionEnv::node(uint64_t id) {
  auto it = nodes_.find(id);
  CL_CHECK(it != nodes_.end(), "no such node");
  return it->second;
}

std::vector<uint64_t> InteractionEnv::ids() const {
  std::vector<uint64_t> out;
  for (const auto& [id, n] : nodes_) out.push_back(id);
  return out;
}

void InteractionEnv::Apply(Node& n, const std::vector<raft::Entry>& ents) {
  for (const auto& e : ents) {
    if (e.type() == raft::ENTRY_CONF_CHANGE) {
      raft::ConfChange cc;
      CL_CHECK(cc.ParseFromString(e.data()), "unparsable conf change");
      n.conf_state = n.raw->ApplyConfChange(cc);
      n.storage->SetConfState(n.conf_state);
      Print("  INFO " + std::to_string(n.config.id.value()) + " applied conf change " +
            ConfStateString(n.conf_state) + "\n");
    }
    n.applied.push_back(e);
  }
}

bool InteractionEnv::ProcessReady(uint64_t id) {
  Node& n = node(id);
  if (!n.raw->HasReady()) return false;
  Ready rd = n.raw->GetReady();
  Print("> " + std::to_string(id) + " handling Ready\n" + DescribeReady(rd, "  "));
  // Persist first (snapshot, entries, hard state), then send, then apply.
  if (rd.snapshot) {
    CL_CHECK(n.storage->ApplySnapshot(*rd.snapshot).ok(), "apply snapshot");
    n.conf_state = rd.snapshot->metadata().conf_state();
  }
  CL_CHECK(n.storage->Append(rd.entries).ok(), "append");
  if (rd.hard_state) n.storage->SetHardState(*rd.hard_state);
  for (auto& m : rd.messages) queue_.push_back(std::move(m));
  Apply(n, rd.committed_entries);
  n.raw->Advance(rd);
  return true;
}

bool InteractionEnv::Partitioned(uint64_t a, uint64_t b) const {
  auto ia = group_.find(a), ib = group_.find(b);
  if (ia == group_.end() || ib == group_.end()) return false;
  return ia->second != ib->second;
}

int InteractionEnv::Deliver(uint64_t id) {
  std::vector<raft::Message> mine, rest;
  for (auto& m : queue_) (m.to() == id ? mine : rest).push_back(std::move(m));
  queue_ = std::move(rest);
  if (mine.empty()) return 0;
  Print("> " + std::to_string(id) + " receiving messages\n");
  for (const auto& m : mine) {
    if (Partitioned(m.from(), m.to()) || !Has(id)) {
      Print("  " + DescribeMessage(m) + " (dropped)\n");
      continue;
    }
    Print("  " + DescribeMessage(m) + "\n");
    Status s = raw(id).Step(m);
    if (!s.ok()) Print("  ERROR " + s.ToString() + "\n");
  }
  return static_cast<int>(mine.size());
}

void InteractionEnv::Stabilize(const std::vector<uint64_t>& which) {
  const std::vector<uint64_t> list = which.empty() ? ids() : which;
  for (int round = 0; round < 10000; ++round) {
    bool busy = false;
    for (uint64_t id : list) busy = ProcessReady(id) || busy;
    for (uint64_t id : list) busy = Deliver(id) > 0 || busy;
    if (!busy) return;
  }
  CL_CHECK(false, "Stabilize did not converge");
}

int InteractionEnv::DropMessages(uint64_t from, uint64_t to) {
  std::vector<raft::Message> rest;
  int n = 0;
  for (auto& m : queue_) {
    if ((from == 0 || m.from() == from) && (to == 0 || m.to() == to)) {
      Print("  dropped: " + DescribeMessage(m) + "\n");
      ++n;
    } else {
      rest.push_back(std::move(m));
    }
  }
  queue_ = std::move(rest);
  return n;
}

void InteractionEnv::Partition(const std::vector<std::vector<uint64_t>>& groups) {
  group_.clear();
  for (size_t g = 0; g < groups.size(); ++g) {
    for (uint64_t id : groups[g]) group_[id] = static_cast<int>(g);
  }
}

void InteractionEnv::TickElection(uint64_t id) {
  Node& n = node(id);
  const int e = n.config.election_ticks;
  if (n.raw->GetStatus().soft_state.role == StateRole::kLeader) {
    Tick(id, e);
    return;
  }
  for (int k = 0; k < 2 * e && !n.raw->HasReady(); ++k) n.raw->Tick();
}

void InteractionEnv::TickHeartbeat(uint64_t id) { Tick(id, node(id).config.heartbeat_ticks); }

void InteractionEnv::Tick(uint64_t id, int n) {
  for (int k = 0; k < n; ++k) raw(id).Tick();
}

Status InteractionEnv::Compact(uint64_t id, uint64_t index) {
  Node& n = node(id);
  auto snap = n.storage->CreateSnapshot(RaftIndex(index), n.conf_state, Bytes());
  CL_RETURN_IF_ERROR(snap.status());
  return n.storage->Compact(RaftIndex(index));
}

Status InteractionEnv::Restart(uint64_t id) {
  Node& n = node(id);
  auto first = n.storage->FirstIndex();
  CL_RETURN_IF_ERROR(first.status());
  // The state machine restarts from the snapshot; committed entries after
  // it are applied again.
  n.config.applied = *first - 1;
  n.applied.clear();
  n.conf_state = n.storage->GetInitialState()->conf_state;
  CL_ASSIGN_OR_RETURN(n.raw, RawNode::Create(n.config));
  return Status::Ok();
}

std::string InteractionEnv::RaftState() const {
  std::string s;
  for (const auto& [id, n] : nodes_) {
    const RaftStatus st = n.raw->GetStatus();
    std::string kind = "(Non-Voter)";
    const auto& cs = st.conf_state;
    auto in = [&](const auto& rep) { return std::find(rep.begin(), rep.end(), id) != rep.end(); };
    if (in(cs.voters()) || in(cs.voters_outgoing())) {
      kind = "(Voter)";
    } else if (in(cs.learners()) || in(cs.learners_next())) {
      kind = "(Learner)";
    }
    s += std::to_string(id) + ": " + std::string(StateRoleName(st.soft_state.role)) + " " + kind +
         " Term:" + std::to_string(st.hard_state.term()) +
         " Lead:" + std::to_string(st.soft_state.lead.value()) +
         " Commit:" + std::to_string(st.hard_state.commit()) + "\n";
  }
  return s;
}

std::string InteractionEnv::RaftLog(uint64_t id) const {
  const Node& n = nodes_.at(id);
  const RaftIndex first = *n.storage->FirstIndex();
  const RaftIndex last = *n.storage->LastIndex();
  if (last < first) {
    return "log is empty: first index=" + std::to_string(first.value()) +
           ", last index=" + std::to_string(last.value()) + "\n";
  }
  std::string s;
  auto ents = n.storage->Entries(first, last.next(), UINT64_MAX);
  CL_CHECK(ents.ok(), "entries");
  for (const auto& e : *ents) s += DescribeEntry(e) + "\n";
  return s;
}

std::string InteractionEnv::ProgressStatus(uint64_t id) const {
  const RaftStatus st = nodes_.at(id).raw->GetStatus();
  if (st.progress.empty()) return "(not leader)\n";
  std::string s;
  for (const auto& [pid, pv] : st.progress) {
    std::string state = pv.state == ProgressState::kProbe       ? "StateProbe"
                        : pv.state == ProgressState::kReplicate ? "StateReplicate"
                                                                : "StateSnapshot";
    s += std::to_string(pid.value()) + ": " + state + " match=" +
         std::to_string(pv.match.value()) + " next=" + std::to_string(pv.next.value());
    if (pv.learner) s += " learner";
    if (pv.inflight > 0) s += " inflight=" + std::to_string(pv.inflight);
    s += "\n";
  }
  return s;
}

}  // namespace cl::consensus::testing
