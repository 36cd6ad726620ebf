// The invariant checker on synthetic traces: each case feeds a short history
// and expects either no violation or the named one. A correct history of each
// kind is checked too, so the checker is neither blind nor trigger-happy.
#include "consensus/sim/checker.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace cl::consensus::sim {
namespace {

raft::Entry E(uint64_t index, uint64_t term, std::string data = "") {
  raft::Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_data(std::move(data));
  return e;
}

raft::HardState HS(uint64_t term, uint64_t vote, uint64_t commit) {
  raft::HardState hs;
  hs.set_term(term);
  hs.set_vote(vote);
  hs.set_commit(commit);
  return hs;
}

raft::ConfState Conf(std::vector<uint64_t> voters, std::vector<uint64_t> learners = {},
                     std::vector<uint64_t> outgoing = {}) {
  raft::ConfState cs;
  for (uint64_t v : voters) cs.add_voters(v);
  for (uint64_t l : learners) cs.add_learners(l);
  for (uint64_t o : outgoing) cs.add_voters_outgoing(o);
  return cs;
}

raft::Message M(raft::MessageType type, uint64_t from, uint64_t to, uint64_t term,
                uint64_t index = 0, bool reject = false) {
  raft::Message m;
  m.set_type(type);
  m.set_from(from);
  m.set_to(to);
  m.set_term(term);
  m.set_index(index);
  m.set_reject(reject);
  return m;
}

// A cluster of voters 1..3 plus a learner-to-be 4, all starting from the
// committed bootstrap entry 1 (term 1).
class World {
 public:
  World() {
    const std::vector<EntryId> boot = {IdOf(E(1, 1, "boot"))};
    for (uint64_t i = 1; i <= 4; ++i) {
      EXPECT_TRUE(c.AddNode(NodeId(i), boot, HS(1, 0, 1), 1).ok());
    }
  }
  // Node n durably writes entries and hard state (a synced Ready).
  Status Persist(uint64_t n, const std::vector<raft::Entry>& ents, raft::HardState hs) {
    CL_RETURN_IF_ERROR(c.OnWriteEntries(NodeId(n), ents));
    CL_RETURN_IF_ERROR(c.OnWriteHardState(NodeId(n), hs));
    return c.OnSync(NodeId(n));
  }
  // Candidate n wins term t with the votes of `voters` (delivered grants).
  Status Elect(uint64_t n, uint64_t t, const std::vector<uint64_t>& voters,
               const raft::ConfState& conf) {
    for (uint64_t v : voters) c.OnDeliver(M(raft::MSG_VOTE_RESP, v, n, t));
    return c.OnElected(NodeId(n), t, conf, /*commit=*/1);
  }
  Status Observe(uint64_t n, uint64_t term, uint64_t commit, bool leader = false) {
    return c.OnObserve(NodeId(n),
                       {.term = term, .commit = commit, .leader = leader, .conf = Conf({1, 2, 3})});
  }
  Checker c;
};

struct Case {
  const char* name;
  std::function<Status(World&)> history;
  const char* violation;  // substring of the expected violation; "" = none
};

void RunCases(const std::vector<Case>& cases) {
  for (const Case& k : cases) {
    SCOPED_TRACE(k.name);
    World w;
    const Status s = k.history(w);
    if (std::string(k.violation).empty()) {
      EXPECT_TRUE(s.ok()) << s;
    } else {
      ASSERT_FALSE(s.ok()) << "expected: " << k.violation;
      EXPECT_NE(s.message().find(k.violation), std::string::npos) << s;
    }
  }
}

TEST(CheckerTest, Elections) {
  const raft::ConfState c123 = Conf({1, 2, 3});
  RunCases({
      {"a leader with a majority", [&](World& w) { return w.Elect(1, 2, {2}, c123); }, ""},
      {"two leaders in one term",
       [&](World& w) {
         CL_RETURN_IF_ERROR(w.Elect(1, 2, {2}, c123));
         return w.Elect(3, 2, {2}, c123);
       },
       "election safety"},
      {"leaders of different terms",
       [&](World& w) {
         CL_RETURN_IF_ERROR(w.Elect(1, 2, {2}, c123));
         return w.Elect(3, 3, {2}, c123);
       },
       ""},
      {"a leader without votes", [&](World& w) { return w.Elect(1, 2, {}, c123); },
       "election quorum"},
      {"a learner's vote does not count",
       [&](World& w) {
         return w.Elect(1, 2, {4}, Conf({1, 2, 3}, {4}));
       },
       "election quorum"},
      {"a joint config needs both halves",
       [&](World& w) {
         return w.Elect(1, 2, {2}, Conf({1, 2, 4}, {}, {1, 3, 5}));
       },
       "election quorum"},
      {"a joint config with both halves",
       [&](World& w) {
         return w.Elect(1, 2, {2, 3}, Conf({1, 2, 4}, {}, {1, 3, 5}));
       },
       ""},
      {"two votes in one term",
       [&](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(2, {}, HS(2, 1, 1)));
         return w.Persist(2, {}, HS(2, 3, 1));
       },
       "two votes in one term"},
  });
}

TEST(CheckerTest, PersistBeforeSend) {
  RunCases({
      {"vote granted after the vote is durable",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(2, {}, HS(2, 1, 1)));
         return w.c.OnSend(M(raft::MSG_VOTE_RESP, 2, 1, 2));
       },
       ""},
      {"vote granted before the vote is durable",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.c.OnWriteHardState(NodeId(2), HS(2, 1, 1)));
         return w.c.OnSend(M(raft::MSG_VOTE_RESP, 2, 1, 2));
       },
       "sent before durable"},
      {"append acknowledged before the entries are durable",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(2, {}, HS(2, 0, 1)));
         CL_RETURN_IF_ERROR(w.c.OnWriteEntries(NodeId(2), {E(2, 2, "a")}));
         return w.c.OnSend(M(raft::MSG_APP_RESP, 2, 1, 2, 2));
       },
       "sent before durable"},
      {"append acknowledged after sync",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(2, {E(2, 2, "a")}, HS(2, 0, 1)));
         return w.c.OnSend(M(raft::MSG_APP_RESP, 2, 1, 2, 2));
       },
       ""},
      {"a message of a term not yet durable",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.c.OnWriteHardState(NodeId(1), HS(3, 1, 1)));
         return w.c.OnSend(M(raft::MSG_VOTE, 1, 2, 3));
       },
       "sent before durable"},
      {"a pre-vote may carry the next term",
       [](World& w) { return w.c.OnSend(M(raft::MSG_PRE_VOTE, 1, 2, 2)); }, ""},
      {"a leader may send entries it has not persisted (§10.2.1)",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(1, {}, HS(2, 1, 1)));
         CL_RETURN_IF_ERROR(w.c.OnWriteEntries(NodeId(1), {E(2, 2, "a")}));
         raft::Message m = M(raft::MSG_APP, 1, 2, 2, 1);
         *m.add_entries() = E(2, 2, "a");
         return w.c.OnSend(m);
       },
       ""},
      {"but not of a term it has not persisted",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(1, {}, HS(2, 1, 1)));
         CL_RETURN_IF_ERROR(w.c.OnWriteHardState(NodeId(1), HS(3, 1, 1)));
         raft::Message m = M(raft::MSG_APP, 1, 2, 3, 1);
         *m.add_entries() = E(2, 3, "a");
         return w.c.OnSend(m);
       },
       "sent before durable"},
  });
}

TEST(CheckerTest, LogsAndCommits) {
  RunCases({
      {"log matching holds",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(1, {E(2, 2, "a")}, HS(2, 1, 1)));
         return w.Persist(2, {E(2, 2, "a")}, HS(2, 1, 1));
       },
       ""},
      {"same index and term, different entry",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(1, {E(2, 2, "a")}, HS(2, 1, 1)));
         return w.Persist(2, {E(2, 2, "b")}, HS(2, 1, 1));
       },
       "log matching"},
      {"an uncommitted suffix may be replaced",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(2, {E(2, 2, "a")}, HS(2, 0, 1)));
         return w.Persist(2, {E(2, 3, "b")}, HS(3, 0, 1));
       },
       ""},
      {"a committed entry is truncated",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(2, {E(2, 2, "a")}, HS(2, 0, 2)));
         CL_RETURN_IF_ERROR(w.Observe(2, 2, 2));
         return w.Persist(2, {E(2, 3, "b")}, HS(3, 0, 2));
       },
       "committed entry truncated"},
      {"a stale append drops a committed suffix",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(2, {E(2, 2, "a"), E(3, 2, "b")}, HS(2, 0, 3)));
         CL_RETURN_IF_ERROR(w.Observe(2, 2, 3));
         return w.c.OnWriteEntries(NodeId(2), {E(2, 2, "a")});
       },
       "committed entry truncated"},
      {"two nodes commit different entries",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(1, {E(2, 2, "a")}, HS(2, 1, 2)));
         CL_RETURN_IF_ERROR(w.Observe(1, 2, 2));
         CL_RETURN_IF_ERROR(w.Persist(3, {E(2, 3, "b")}, HS(3, 3, 2)));
         return w.Observe(3, 3, 2);
       },
       "state machine safety"},
      {"commit beyond the log",
       [](World& w) { return w.c.OnWriteHardState(NodeId(2), HS(1, 0, 5)); }, "beyond"},
      {"commit goes backwards",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(2, {E(2, 2, "a")}, HS(2, 0, 2)));
         return w.c.OnWriteHardState(NodeId(2), HS(2, 0, 1));
       },
       "commit went backwards"},
  });
}

TEST(CheckerTest, Durability) {
  const raft::ConfState c123 = Conf({1, 2, 3});
  RunCases({
      {"leader commits what a majority holds durably",
       [&](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(1, {E(2, 2, "a")}, HS(2, 1, 1)));
         CL_RETURN_IF_ERROR(w.Persist(2, {E(2, 2, "a")}, HS(2, 1, 1)));
         CL_RETURN_IF_ERROR(w.Persist(1, {}, HS(2, 1, 2)));
         return w.c.OnLeaderCommitDurable(NodeId(1), 2, 2, {c123});
       },
       ""},
      {"leader commits what only it holds",
       [&](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(1, {E(2, 2, "a")}, HS(2, 1, 2)));
         return w.c.OnLeaderCommitDurable(NodeId(1), 2, 2, {c123});
       },
       "commit without a durable quorum"},
      {"a follower's unsynced copy does not count",
       [&](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(1, {E(2, 2, "a")}, HS(2, 1, 2)));
         CL_RETURN_IF_ERROR(w.c.OnWriteEntries(NodeId(2), {E(2, 2, "a")}));
         return w.c.OnLeaderCommitDurable(NodeId(1), 2, 2, {c123});
       },
       "commit without a durable quorum"},
      {"a learner's copy does not count",
       [&](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(1, {E(2, 2, "a")}, HS(2, 1, 2)));
         CL_RETURN_IF_ERROR(w.Persist(4, {E(2, 2, "a")}, HS(2, 0, 1)));
         return w.c.OnLeaderCommitDurable(NodeId(1), 2, 2, {Conf({1, 2, 3}, {4})});
       },
       "commit without a durable quorum"},
      {"an unsynced term is lost in a crash, and that is fine",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.c.OnWriteHardState(NodeId(2), HS(5, 0, 1)));
         CL_RETURN_IF_ERROR(w.Observe(2, 5, 1));
         w.c.OnCrash(NodeId(2));
         return w.Observe(2, 1, 1);
       },
       ""},
      {"a durable term goes backwards across a restart",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(2, {}, HS(5, 0, 1)));
         w.c.OnCrash(NodeId(2));
         return w.Observe(2, 4, 1);
       },
       "term went backwards"},
      {"a leader commits an entry of its own term",
       [&](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(1, {E(2, 1, "old"), E(3, 2, "")}, HS(2, 1, 1)));
         CL_RETURN_IF_ERROR(w.Persist(2, {E(2, 1, "old"), E(3, 2, "")}, HS(2, 1, 1)));
         CL_RETURN_IF_ERROR(w.Elect(1, 2, {2}, c123));
         return w.c.OnLeaderCommitDurable(NodeId(1), 2, 3, {c123});
       },
       ""},
      {"a leader commits an entry of an earlier term by counting",
       [&](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(1, {E(2, 1, "old"), E(3, 2, "")}, HS(2, 1, 1)));
         CL_RETURN_IF_ERROR(w.Persist(2, {E(2, 1, "old")}, HS(2, 1, 1)));
         CL_RETURN_IF_ERROR(w.Elect(1, 2, {2}, c123));
         return w.c.OnLeaderCommitDurable(NodeId(1), 2, 2, {c123});
       },
       "commit rule"},
      {"leader completeness",
       [&](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(1, {E(2, 2, "a")}, HS(2, 1, 1)));
         CL_RETURN_IF_ERROR(w.Persist(2, {E(2, 2, "a")}, HS(2, 1, 1)));
         CL_RETURN_IF_ERROR(w.Persist(1, {}, HS(2, 1, 2)));
         CL_RETURN_IF_ERROR(w.c.OnLeaderCommitDurable(NodeId(1), 2, 2, {c123}));
         CL_RETURN_IF_ERROR(w.Persist(3, {}, HS(3, 3, 1)));
         CL_RETURN_IF_ERROR(w.Elect(3, 3, {2}, c123));
         return w.Observe(3, 3, 1, /*leader=*/true);
       },
       "leader completeness"},
  });
}

TEST(CheckerTest, Applying) {
  RunCases({
      {"apply in order",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(2, {E(2, 2, "a"), E(3, 2, "b")}, HS(2, 0, 3)));
         CL_RETURN_IF_ERROR(w.c.OnApply(NodeId(2), 2, IdOf(E(2, 2, "a"))));
         return w.c.OnApply(NodeId(2), 3, IdOf(E(3, 2, "b")));
       },
       ""},
      {"apply twice",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(2, {E(2, 2, "a")}, HS(2, 0, 2)));
         CL_RETURN_IF_ERROR(w.c.OnApply(NodeId(2), 2, IdOf(E(2, 2, "a"))));
         return w.c.OnApply(NodeId(2), 2, IdOf(E(2, 2, "a")));
       },
       "applied twice"},
      {"apply with a gap",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(2, {E(2, 2, "a"), E(3, 2, "b")}, HS(2, 0, 3)));
         return w.c.OnApply(NodeId(2), 3, IdOf(E(3, 2, "b")));
       },
       "apply gap"},
      {"apply uncommitted",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(2, {E(2, 2, "a")}, HS(2, 0, 1)));
         return w.c.OnApply(NodeId(2), 2, IdOf(E(2, 2, "a")));
       },
       "applied uncommitted"},
      {"a snapshot below the commit index",
       [](World& w) {
         CL_RETURN_IF_ERROR(w.Persist(2, {E(2, 2, "a"), E(3, 2, "b")}, HS(2, 0, 3)));
         return w.c.OnWriteSnapshot(NodeId(2), 2, {IdOf(E(1, 1, "boot")), IdOf(E(2, 2, "a"))});
       },
       "below its commit index"},
  });
}

TEST(CheckerTest, Membership) {
  auto apply = [](World& w, uint64_t node, uint64_t index, raft::ConfState before,
                  raft::ConfState after) {
    return w.c.OnConfApplied(NodeId(node), index, before, after);
  };
  RunCases({
      {"add one voter",
       [&](World& w) {
         return apply(w, 1, 2, Conf({1, 2, 3}), Conf({1, 2, 3, 4}));
       },
       ""},
      {"add a learner",
       [&](World& w) {
         return apply(w, 1, 2, Conf({1, 2, 3}), Conf({1, 2, 3}, {4}));
       },
       ""},
      {"replace two voters at once",
       [&](World& w) {
         return apply(w, 1, 2, Conf({1, 2, 3}), Conf({1, 4, 5}));
       },
       "more than one voter changed"},
      {"enter and leave a joint config",
       [&](World& w) {
         CL_RETURN_IF_ERROR(apply(w, 1, 2, Conf({1, 2, 3}), Conf({1, 4, 5}, {}, {1, 2, 3})));
         return apply(w, 1, 3, Conf({1, 4, 5}, {}, {1, 2, 3}), Conf({1, 4, 5}));
       },
       ""},
      {"a joint config whose old half is wrong",
       [&](World& w) {
         return apply(w, 1, 2, Conf({1, 2, 3}), Conf({1, 4, 5}, {}, {1, 2}));
       },
       "entering a joint config"},
      {"a voter that is also a learner",
       [&](World& w) {
         return apply(w, 1, 2, Conf({1, 2, 3}), Conf({1, 2, 3}, {3}));
       },
       "both voter and learner"},
      {"nodes disagree on a config",
       [&](World& w) {
         CL_RETURN_IF_ERROR(apply(w, 1, 2, Conf({1, 2, 3}), Conf({1, 2, 3, 4})));
         return apply(w, 2, 2, Conf({1, 2, 3}), Conf({1, 2, 3}, {4}));
       },
       "configs diverge"},
  });
}

}  // namespace
}  // namespace cl::consensus::sim
