#include "tests/consensus/raft_test_util.h"

#include "base/check.h"

namespace cl::consensus::testing {

raft::Entry MakeEntry(uint64_t index, uint64_t term, std::string data) {
  raft::Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_data(std::move(data));
  return e;
}

std::vector<raft::Entry> EntriesWithTerms(const std::vector<uint64_t>& terms) {
  std::vector<raft::Entry> out;
  for (size_t i = 0; i < terms.size(); ++i) out.push_back(MakeEntry(i + 1, terms[i]));
  return out;
}

raft::Message Msg(uint64_t from, uint64_t to, raft::MessageType type, uint64_t term) {
  raft::Message m;
  m.set_from(from);
  m.set_to(to);
  m.set_type(type);
  m.set_term(term);
  return m;
}

TestRaft NewTestRaft(uint64_t id, std::vector<uint64_t> voters, const TestRaftOptions& o) {
  TestRaft t;
  t.storage = std::make_unique<MemoryLogStorage>();
  raft::ConfState cs;
  for (uint64_t v : voters) cs.add_voters(v);
  for (uint64_t l : o.learners) cs.add_learners(l);
  t.storage->SetConfState(cs);
  CL_CHECK(t.storage->Append(EntriesWithTerms(o.terms)).ok(), "append");
  raft::HardState hs;
  hs.set_term(o.term);
  hs.set_vote(o.vote);
  hs.set_commit(o.commit);
  t.storage->SetHardState(hs);
  Config c{.id = NodeId(id),
           .storage = t.storage.get(),
           .election_ticks = o.election_ticks,
           .heartbeat_ticks = o.heartbeat_ticks,
           .random_seed = id,
           .check_quorum = o.check_quorum,
           .pre_vote = o.pre_vote,
           .bugs = o.bugs,
           .allow_testing_bugs = o.bugs.any()};
  auto r = Raft::Create(c);
  CL_CHECK(r.ok(), r.status().ToString());
  t.r = std::move(r).value();
  return t;
}

std::vector<raft::Message> ReadMessages(Raft& r) {
  std::vector<raft::Message> out = std::move(r.msgs());
  r.msgs().clear();
  return out;
}

void Persist(TestRaft& t) {
  RaftLog& log = t.r->mutable_log();
  if (log.HasPendingSnapshot()) {
    const raft::Snapshot snap = *log.unstable().snapshot;
    CL_CHECK(t.storage->ApplySnapshot(snap).ok(), "snapshot");
    log.StableSnapTo(RaftIndex(snap.metadata().index()));
  }
  const auto ents = log.UnstableEntries();
  CL_CHECK(t.storage->Append(ents).ok(), "append");
  if (!ents.empty()) log.StableTo(RaftIndex(ents.back().index()), RaftTerm(ents.back().term()));
  t.storage->SetHardState(t.r->HardState());
  if (log.committed() > log.applied()) t.r->AppliedTo(log.committed());
  t.r->OnPersisted();
}

void TestNetwork::Send(const raft::Message& first) {
  std::deque<raft::Message> q{first};
  while (!q.empty()) {
    raft::Message m = std::move(q.front());
    q.pop_front();
    auto it = nodes_.find(m.to());
    if (it == nodes_.end() || down_.contains(m.to()) || down_.contains(m.from()) ||
        cut_.contains({m.from(), m.to()}) || ignored_.contains(m.type())) {
      continue;
    }
    TestRaft& t = *it->second;
    (void)t.r->Step(m);
    Persist(t);
    for (auto& out : ReadMessages(*t.r)) q.push_back(std::move(out));
  }
}

}  // namespace cl::consensus::testing
