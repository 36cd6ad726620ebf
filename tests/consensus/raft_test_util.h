// Helpers for tests that drive the raft state machine (consensus/raft_core.h)
// directly, message by message, as etcd's paper tests do.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "consensus/memory_storage.h"
#include "consensus/raft_core.h"

namespace cl::consensus::testing {

struct TestRaft {
  std::unique_ptr<MemoryLogStorage> storage;
  std::unique_ptr<Raft> r;
  Raft* operator->() { return r.get(); }
};

struct TestRaftOptions {
  std::vector<uint64_t> learners;
  std::vector<uint64_t> terms;  // log entries 1..n with these terms
  uint64_t term = 0;            // hard state term
  uint64_t vote = 0;
  uint64_t commit = 0;
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  bool pre_vote = false;
  bool check_quorum = false;
  TestingBugs bugs;
};

// A raft for node id with the given voters; the paper's basic algorithm
// (no pre-vote, no check-quorum) unless the options say otherwise.
TestRaft NewTestRaft(uint64_t id, std::vector<uint64_t> voters, const TestRaftOptions& o = {});

// Entries 1..n with the given terms (data "").
std::vector<raft::Entry> EntriesWithTerms(const std::vector<uint64_t>& terms);
raft::Entry MakeEntry(uint64_t index, uint64_t term, std::string data = "");
raft::Message Msg(uint64_t from, uint64_t to, raft::MessageType type, uint64_t term = 0);

// Takes the messages the raft produced.
std::vector<raft::Message> ReadMessages(Raft& r);
// Does what the node does with a Ready: persists unstable entries and the
// hard state, marks applied everything committed, and lets a leader
// acknowledge its own entries.
void Persist(TestRaft& t);

// A network of TestRafts that delivers every message until quiet.
class TestNetwork {
 public:
  void Add(TestRaft* t) { nodes_[t->r->id().value()] = t; }
  // Steps m into its target, then delivers every resulting message.
  void Send(const raft::Message& m);
  void Isolate(uint64_t id) { down_.insert(id); }
  void Recover() { down_.clear(); }
  // Drops messages between a and b (both directions).
  void Cut(uint64_t a, uint64_t b) {
    cut_.insert({a, b});
    cut_.insert({b, a});
  }
  // Drops messages of this type.
  void Ignore(raft::MessageType t) { ignored_.insert(t); }

 private:
  std::map<uint64_t, TestRaft*> nodes_;
  std::set<uint64_t> down_;
  std::set<std::pair<uint64_t, uint64_t>> cut_;
  std::set<int> ignored_;
};

}  // namespace cl::consensus::testing
