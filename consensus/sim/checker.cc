#include "consensus/sim/checker.h"

#include <algorithm>
#include <sstream>

namespace cl::consensus::sim {

namespace {

uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDULL;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ULL;
  x ^= x >> 33;
  return x;
}

uint64_t Chain(uint64_t prev, uint64_t index, const EntryId& e) {
  uint64_t h = Mix(prev ^ 0x9E3779B97F4A7C15ULL);
  h = Mix(h ^ index);
  h = Mix(h ^ e.term);
  return Mix(h ^ e.content);
}

std::string Str(uint64_t v) { return std::to_string(v); }

std::string Join(const std::vector<uint64_t>& v) {
  std::string s;
  for (uint64_t x : v) s += (s.empty() ? "" : ",") + Str(x);
  return s;
}

bool Contains(const std::vector<uint64_t>& v, uint64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::vector<uint64_t> Sorted(const google::protobuf::RepeatedField<uint64_t>& f) {
  std::vector<uint64_t> v(f.begin(), f.end());
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

size_t SymmetricDifference(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  std::vector<uint64_t> d;
  std::set_symmetric_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(d));
  return d.size();
}

bool Intersects(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  for (uint64_t x : a) {
    if (Contains(b, x)) return true;
  }
  return false;
}

bool IsStrictMajority(size_t count, size_t of) { return of > 0 && count * 2 > of; }

}  // namespace

uint64_t ContentHash(const raft::Entry& e) {
  uint64_t h = 0xCBF29CE484222325ULL;  // FNV-1a over the data, then the type mixed in
  for (unsigned char c : e.data()) {
    h ^= c;
    h *= 0x100000001B3ULL;
  }
  return Mix(h ^ (static_cast<uint64_t>(e.type()) + 1) * 0x9E3779B97F4A7C15ULL);
}

ConfSets Normalize(const raft::ConfState& cs) {
  return {.voters = Sorted(cs.voters()),
          .learners = Sorted(cs.learners()),
          .outgoing = Sorted(cs.voters_outgoing()),
          .learners_next = Sorted(cs.learners_next())};
}

std::string ConfToString(const raft::ConfState& cs) {
  const ConfSets s = Normalize(cs);
  std::string out = "voters=" + Join(s.voters);
  if (!s.outgoing.empty()) out += " outgoing=" + Join(s.outgoing);
  if (!s.learners.empty()) out += " learners=" + Join(s.learners);
  if (!s.learners_next.empty()) out += " learners_next=" + Join(s.learners_next);
  if (cs.auto_leave()) out += " auto_leave";
  return out;
}

Status Checker::Violation(const std::string& msg) const {
  return Internal("invariant violated: " + msg);
}

Checker::Node* Checker::Find(NodeId id) {
  auto it = nodes_.find(id.value());
  return it == nodes_.end() ? nullptr : &it->second;
}
const Checker::Node* Checker::Find(NodeId id) const {
  auto it = nodes_.find(id.value());
  return it == nodes_.end() ? nullptr : &it->second;
}

void Checker::Splice(Log* log, uint64_t first, const std::vector<EntryId>& ents) {
  CL_CHECK(first >= 1 && first <= log->last() + 1, "checker: splice leaves a gap");
  log->ents.resize(first - 1);
  log->prefix.resize(first - 1);
  for (const EntryId& e : ents) {
    const uint64_t i = log->ents.size() + 1;
    log->prefix.push_back(Chain(log->PrefixAt(i - 1), i, e));
    log->ents.push_back(e);
  }
}

void Checker::Apply(Log* log, const Op& op) {
  switch (op.kind) {
    case Op::kEntries:
      Splice(log, op.index, op.ents);
      break;
    case Op::kHardState:
      log->hs = op.hs;
      break;
    case Op::kSnapshot:
      Splice(log, 1, op.ents);
      break;
  }
}

Status Checker::AddNode(NodeId id, const std::vector<EntryId>& log, const raft::HardState& hs,
                        uint64_t applied) {
  if (Find(id) != nullptr) return Violation("node " + Str(id.value()) + " added twice");
  Node& n = nodes_[id.value()];
  Splice(&n.durable, 1, log);
  n.durable.hs = hs;
  n.view = n.durable;
  n.obs_term = hs.term();
  n.obs_commit = hs.commit();
  n.applied = applied;
  CL_RETURN_IF_ERROR(CheckMatching(id, n.view, 1));
  return Canonicalize(id, n.view, hs.commit(), "initial commit");
}

Status Checker::CheckMatching(NodeId id, const Log& log, uint64_t first) {
  for (uint64_t i = std::max<uint64_t>(first, 1); i <= log.last(); ++i) {
    const auto key = std::make_pair(i, log.ents[i - 1].term);
    auto [it, inserted] = matching_.emplace(key, log.prefix[i - 1]);
    if (!inserted && it->second != log.prefix[i - 1]) {
      return Violation("log matching: node " + Str(id.value()) + " has entry " + Str(i) +
                       " of term " + Str(key.second) +
                       " with a different content or prefix than another node had");
    }
  }
  return Status::Ok();
}

bool Checker::HasCanonicalPrefix(const Log& log, uint64_t c) const {
  if (c == 0) return true;
  if (c > log.last() || c > canon_.size()) return false;
  return log.PrefixAt(c) == canon_prefix_[c - 1];
}

Status Checker::Canonicalize(NodeId id, const Log& log, uint64_t c, const char* what) {
  if (c > log.last()) {
    return Violation("node " + Str(id.value()) + " " + what + " " + Str(c) +
                     " is beyond its last log index " + Str(log.last()));
  }
  const uint64_t k = std::min<uint64_t>(c, canon_.size());
  if (k > 0 && log.PrefixAt(k) != canon_prefix_[k - 1]) {
    uint64_t bad = 1;
    while (bad <= k && log.ents[bad - 1] == canon_[bad - 1]) ++bad;
    return Violation("state machine safety: node " + Str(id.value()) + " " + what + " " + Str(c) +
                     " covers entry " + Str(bad) + " (term " + Str(log.ents[bad - 1].term) +
                     ") which differs from the committed entry " + Str(bad) + " (term " +
                     Str(canon_[bad - 1].term) + ")");
  }
  for (uint64_t i = k + 1; i <= c; ++i) {
    canon_.push_back(log.ents[i - 1]);
    canon_prefix_.push_back(log.prefix[i - 1]);
  }
  return Status::Ok();
}

Status Checker::OnWriteEntries(NodeId id, const std::vector<raft::Entry>& entries) {
  Node* n = Find(id);
  CL_CHECK(n != nullptr, "checker: unknown node");
  if (entries.empty()) return Status::Ok();
  const uint64_t first = entries.front().index();
  for (size_t k = 0; k < entries.size(); ++k) {
    if (entries[k].index() != first + k) {
      return Violation("node " + Str(id.value()) + " wrote non-contiguous entries");
    }
  }
  if (first == 0 || first > n->view.last() + 1) {
    return Violation("node " + Str(id.value()) + " wrote entries from " + Str(first) +
                     " leaving a gap after its last index " + Str(n->view.last()));
  }
  // The lowest index whose entry the write removes or replaces.
  const uint64_t new_last = first + entries.size() - 1;
  uint64_t lost = n->view.last() > new_last ? new_last + 1 : UINT64_MAX;
  for (uint64_t i = first; i <= std::min(new_last, n->view.last()); ++i) {
    if (n->view.ents[i - 1].term != entries[i - first].term()) {
      lost = i;
      break;
    }
  }
  const uint64_t commit = std::max({n->obs_commit, n->view.hs.commit(), n->durable.hs.commit()});
  if (lost <= commit) {
    return Violation("committed entry truncated: node " + Str(id.value()) +
                     " rewrote its log from index " + Str(lost) + " but its commit index is " +
                     Str(commit));
  }
  Op op{.kind = Op::kEntries, .index = first, .ents = {}, .hs = {}};
  op.ents.reserve(entries.size());
  for (const raft::Entry& e : entries) op.ents.push_back(IdOf(e));
  Apply(&n->view, op);
  n->pending.push_back(std::move(op));
  return CheckMatching(id, n->view, first);
}

Status Checker::OnWriteHardState(NodeId id, const raft::HardState& hs) {
  Node* n = Find(id);
  CL_CHECK(n != nullptr, "checker: unknown node");
  const raft::HardState& old = n->view.hs;
  const std::string who = "node " + Str(id.value());
  if (hs.term() < old.term()) {
    return Violation("term went backwards: " + who + " wrote term " + Str(hs.term()) + " after " +
                     Str(old.term()));
  }
  if (hs.term() == old.term() && old.vote() != 0 && hs.vote() != old.vote()) {
    return Violation("two votes in one term: " + who + " voted for " + Str(old.vote()) +
                     " and then " + Str(hs.vote()) + " in term " + Str(hs.term()));
  }
  if (hs.commit() < old.commit()) {
    return Violation("commit went backwards: " + who + " wrote commit " + Str(hs.commit()) +
                     " after " + Str(old.commit()));
  }
  if (hs.commit() > n->view.last()) {
    return Violation(who + " wrote commit " + Str(hs.commit()) + " beyond its last index " +
                     Str(n->view.last()));
  }
  Op op{.kind = Op::kHardState, .index = 0, .ents = {}, .hs = hs};
  Apply(&n->view, op);
  n->pending.push_back(std::move(op));
  return Status::Ok();
}

Status Checker::OnWriteSnapshot(NodeId id, uint64_t index, const std::vector<EntryId>& prefix) {
  Node* n = Find(id);
  CL_CHECK(n != nullptr, "checker: unknown node");
  if (prefix.size() != index) {
    return Violation("snapshot at " + Str(index) + " carries " + Str(prefix.size()) + " entries");
  }
  const uint64_t commit = std::max(n->obs_commit, n->view.hs.commit());
  if (index < commit) {
    return Violation("node " + Str(id.value()) + " installs a snapshot at " + Str(index) +
                     " below its commit index " + Str(commit) + ", discarding committed entries");
  }
  Op op{.kind = Op::kSnapshot, .index = index, .ents = prefix, .hs = {}};
  Apply(&n->view, op);
  n->pending.push_back(std::move(op));
  CL_RETURN_IF_ERROR(CheckMatching(id, n->view, 1));
  // A snapshot holds only committed state.
  return Canonicalize(id, n->view, index, "snapshot");
}

Status Checker::OnSync(NodeId id) {
  Node* n = Find(id);
  CL_CHECK(n != nullptr, "checker: unknown node");
  const raft::HardState old = n->durable.hs;
  for (const Op& op : n->pending) Apply(&n->durable, op);
  n->pending.clear();
  const raft::HardState& hs = n->durable.hs;
  if (hs.term() < old.term() || hs.commit() < old.commit()) {
    return Violation("durable hard state went backwards on node " + Str(id.value()) + ": term " +
                     Str(old.term()) + "->" + Str(hs.term()) + ", commit " + Str(old.commit()) +
                     "->" + Str(hs.commit()));
  }
  return Status::Ok();
}

void Checker::OnCrash(NodeId id) {
  Node* n = Find(id);
  CL_CHECK(n != nullptr, "checker: unknown node");
  n->view = n->durable;
  n->pending.clear();
  n->obs_term = n->durable.hs.term();
  n->obs_commit = n->durable.hs.commit();
  n->leader = false;
}

Status Checker::OnSend(const raft::Message& m) {
  const Node* n = Find(NodeId(m.from()));
  CL_CHECK(n != nullptr, "checker: message from an unknown node");
  const Log& d = n->durable;
  const std::string what = raft::MessageType_Name(m.type()) + " " + Str(m.from()) + "->" +
                           Str(m.to()) + " (term " + Str(m.term()) + ")";
  const bool pre_vote = m.type() == raft::MSG_PRE_VOTE || m.type() == raft::MSG_PRE_VOTE_RESP;
  if (m.term() != 0 && !pre_vote && d.hs.term() < m.term()) {
    return Violation("sent before durable: " + what + " but the durable term is " +
                     Str(d.hs.term()));
  }
  if (m.type() == raft::MSG_VOTE_RESP && !m.reject() &&
      (d.hs.term() != m.term() || d.hs.vote() != m.to())) {
    return Violation("sent before durable: " + what + " grants a vote but the durable vote is " +
                     Str(d.hs.vote()) + " in term " + Str(d.hs.term()));
  }
  if (m.type() == raft::MSG_APP_RESP && !m.reject() && m.index() > 0) {
    const uint64_t i = m.index();
    if (i > d.last() || i > n->view.last() || d.PrefixAt(i) != n->view.PrefixAt(i)) {
      return Violation("sent before durable: " + what + " acknowledges index " + Str(i) +
                       " but the durable log holds it only up to " + Str(d.last()));
    }
  }
  // A leader's appends may carry entries not yet durable on the leader
  // (Raft thesis §10.2.1): it counts them toward a commit only once durable,
  // which OnLeaderCommitDurable checks.
  return Status::Ok();
}

void Checker::OnDeliver(const raft::Message& m) {
  if (m.type() == raft::MSG_VOTE_RESP && !m.reject()) {
    granted_[{m.to(), m.term()}].insert(m.from());
  }
}

Status Checker::OnElected(NodeId id, uint64_t term, const raft::ConfState& conf, uint64_t commit) {
  Node* n = Find(id);
  CL_CHECK(n != nullptr, "checker: unknown node");
  n->leader_term = term;
  n->leader_commit = commit;
  auto [it, inserted] = leader_of_term_.emplace(term, id.value());
  if (!inserted && it->second != id.value()) {
    return Violation("election safety: nodes " + Str(it->second) + " and " + Str(id.value()) +
                     " are both leader of term " + Str(term));
  }
  std::set<uint64_t> votes = granted_[{id.value(), term}];
  votes.insert(id.value());
  const ConfSets cs = Normalize(conf);
  for (const auto* half : {&cs.voters, &cs.outgoing}) {
    if (half == &cs.outgoing && half->empty()) continue;
    size_t count = 0;
    for (uint64_t v : *half) count += votes.contains(v) ? 1 : 0;
    if (!IsStrictMajority(count, half->size())) {
      std::vector<uint64_t> vv(votes.begin(), votes.end());
      return Violation("election quorum: node " + Str(id.value()) + " became leader of term " +
                       Str(term) + " with votes from {" + Join(vv) +
                       "}, not a majority of voters {" + Join(*half) + "} (" + ConfToString(conf) +
                       ")");
    }
  }
  return Status::Ok();
}

Status Checker::OnObserve(NodeId id, const NodeObservation& obs) {
  Node* n = Find(id);
  CL_CHECK(n != nullptr, "checker: unknown node");
  const std::string who = "node " + Str(id.value());
  if (obs.term < n->obs_term) {
    return Violation("term went backwards: " + who + " is at term " + Str(obs.term) + " after " +
                     Str(n->obs_term));
  }
  if (obs.commit < n->obs_commit) {
    return Violation("commit went backwards: " + who + " has commit " + Str(obs.commit) +
                     " after " + Str(n->obs_commit));
  }
  CL_RETURN_IF_ERROR(Canonicalize(id, n->view, obs.commit, "commit index"));
  if (obs.leader) {
    auto it = leader_of_term_.find(obs.term);
    if (it == leader_of_term_.end()) {
      leader_of_term_.emplace(obs.term, id.value());
    } else if (it->second != id.value()) {
      return Violation("election safety: nodes " + Str(it->second) + " and " + Str(id.value()) +
                       " are both leader of term " + Str(obs.term));
    }
    // Leader completeness (§5.4): everything committed by earlier leaders.
    uint64_t required = 0;
    for (const auto& [t, c] : max_commit_by_term_) {
      if (t >= obs.term) break;
      required = std::max(required, c);
    }
    if (!HasCanonicalPrefix(n->view, required)) {
      return Violation("leader completeness: " + who + " is leader of term " + Str(obs.term) +
                       " but its log (last " + Str(n->view.last()) +
                       ") lacks committed entries up to " + Str(required));
    }
  }
  n->obs_term = obs.term;
  n->obs_commit = obs.commit;
  n->leader = obs.leader;
  return Status::Ok();
}

bool Checker::QuorumDurable(const std::vector<uint64_t>& voters, uint64_t commit) const {
  size_t count = 0;
  for (uint64_t v : voters) {
    const Node* n = Find(NodeId(v));
    if (n != nullptr && HasCanonicalPrefix(n->durable, commit)) ++count;
  }
  return IsStrictMajority(count, voters.size());
}

Status Checker::OnLeaderCommitDurable(NodeId id, uint64_t term, uint64_t commit,
                                      const std::vector<raft::ConfState>& confs) {
  Node* n = Find(id);
  CL_CHECK(n != nullptr, "checker: unknown node");
  CL_RETURN_IF_ERROR(Canonicalize(id, n->view, commit, "leader commit"));
  if (n->leader_term == term && commit > n->leader_commit) {
    if (n->view.ents[commit - 1].term != term) {
      return Violation("commit rule (§5.4.2): leader " + Str(id.value()) + " of term " + Str(term) +
                       " advanced its commit index from " + Str(n->leader_commit) + " to " +
                       Str(commit) + ", an entry of term " + Str(n->view.ents[commit - 1].term) +
                       ", by counting replicas");
    }
    n->leader_commit = commit;
  }
  uint64_t& best = max_commit_by_term_[term];
  best = std::max(best, commit);
  std::string tried;
  for (const raft::ConfState& conf : confs) {
    const ConfSets cs = Normalize(conf);
    if (QuorumDurable(cs.voters, commit) &&
        (cs.outgoing.empty() || QuorumDurable(cs.outgoing, commit))) {
      return Status::Ok();
    }
    tried += " [" + ConfToString(conf) + "]";
  }
  std::vector<uint64_t> holders;
  for (const auto& [nid, node] : nodes_) {
    if (HasCanonicalPrefix(node.durable, commit)) holders.push_back(nid);
  }
  return Violation("commit without a durable quorum: leader " + Str(id.value()) + " of term " +
                   Str(term) + " committed " + Str(commit) + " but only nodes {" + Join(holders) +
                   "} hold it durably; configs:" + tried);
}

Status Checker::OnApply(NodeId id, uint64_t index, const EntryId& e) {
  Node* n = Find(id);
  CL_CHECK(n != nullptr, "checker: unknown node");
  const std::string who = "node " + Str(id.value());
  if (index != n->applied + 1) {
    return Violation(index <= n->applied ? "applied twice: " + who + " applies " + Str(index) +
                                               " after applying up to " + Str(n->applied)
                                         : "apply gap: " + who + " applies " + Str(index) +
                                               " after applying up to " + Str(n->applied));
  }
  const uint64_t commit = std::max(n->view.hs.commit(), n->obs_commit);
  if (index > commit) {
    return Violation("applied uncommitted: " + who + " applies " + Str(index) +
                     " with commit index " + Str(commit));
  }
  CL_RETURN_IF_ERROR(Canonicalize(id, n->view, index, "applied index"));
  if (!(canon_[index - 1] == e)) {
    return Violation("state machine safety: " + who + " applies at " + Str(index) +
                     " an entry of term " + Str(e.term) + " that is not the committed one (term " +
                     Str(canon_[index - 1].term) + ")");
  }
  n->applied = index;
  return Status::Ok();
}

Status Checker::OnRestoreSnapshot(NodeId id, uint64_t index) {
  Node* n = Find(id);
  CL_CHECK(n != nullptr, "checker: unknown node");
  if (index < n->applied) {
    return Violation("applied went backwards: node " + Str(id.value()) +
                     " restored a snapshot at " + Str(index) + " after applying " +
                     Str(n->applied));
  }
  CL_RETURN_IF_ERROR(Canonicalize(id, n->view, index, "restored snapshot"));
  n->applied = index;
  return Status::Ok();
}

Status Checker::OnConfApplied(NodeId id, uint64_t index, const raft::ConfState& before,
                              const raft::ConfState& after) {
  const ConfSets b = Normalize(before);
  const ConfSets a = Normalize(after);
  const std::string what = "node " + Str(id.value()) + " at index " + Str(index) + ": [" +
                           ConfToString(before) + "] -> [" + ConfToString(after) + "]";
  auto [it, inserted] = conf_at_index_.emplace(index, after);
  if (!inserted && !(Normalize(it->second) == a)) {
    return Violation("configs diverge: " + what + " but another node reached [" +
                     ConfToString(it->second) + "]");
  }
  if (a.voters.empty()) return Violation("config without voters: " + what);
  if (Intersects(a.voters, a.learners) || Intersects(a.outgoing, a.learners)) {
    return Violation("a node is both voter and learner: " + what);
  }
  const bool was_joint = !b.outgoing.empty();
  const bool is_joint = !a.outgoing.empty();
  if (!was_joint && !is_joint && SymmetricDifference(a.voters, b.voters) > 1) {
    return Violation("more than one voter changed at once without joint consensus: " + what);
  }
  if (!was_joint && is_joint && a.outgoing != b.voters) {
    return Violation("entering a joint config whose old half is not the previous config: " + what);
  }
  if (was_joint && !is_joint && a.voters != b.voters) {
    return Violation("leaving a joint config for another config than its new half: " + what);
  }
  if (was_joint && is_joint && !(a.voters == b.voters && a.outgoing == b.outgoing)) {
    return Violation("a joint config changed without leaving it first: " + what);
  }
  return Status::Ok();
}

uint64_t Checker::applied(NodeId id) const {
  const Node* n = Find(id);
  return n == nullptr ? 0 : n->applied;
}

uint64_t Checker::max_leader_term() const {
  return leader_of_term_.empty() ? 0 : leader_of_term_.rbegin()->first;
}

}  // namespace cl::consensus::sim
