// Tests tied to sentences and figures of the Raft paper (Ongaro & Ousterhout,
// "In Search of an Understandable Consensus Algorithm (Extended Version)",
// 2014), §5.1–§5.4. Each test quotes what it checks. They drive the state
// machine directly with the paper's basic algorithm (no pre-vote, no
// check-quorum), like etcd's raft_paper_test.go.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "consensus/raft_core.h"
#include "tests/consensus/raft_test_util.h"

namespace cl::consensus::testing {
namespace {

raft::Message Hup(uint64_t id) { return Msg(id, id, raft::MSG_HUP); }

raft::Message Prop(uint64_t id, std::string data) {
  raft::Message m = Msg(id, id, raft::MSG_PROP);
  m.add_entries()->set_data(std::move(data));
  return m;
}

// Makes r the leader of a cluster whose other members grant their votes.
void ElectLeader(TestRaft& t) {
  (void)t->Step(Hup(t->id().value()));
  for (const auto& m : ReadMessages(*t.r)) {
    raft::Message resp = Msg(m.to(), m.from(), raft::MSG_VOTE_RESP, m.term());
    (void)t->Step(resp);
  }
  ASSERT_EQ(t->state(), StateRole::kLeader);
  Persist(t);
  ReadMessages(*t.r);
}

// Acks the leader's append at `index` from each follower in `from`.
void AckAppends(TestRaft& t, const std::vector<uint64_t>& from, uint64_t index) {
  for (uint64_t f : from) {
    raft::Message m = Msg(f, t->id().value(), raft::MSG_APP_RESP, t->term().value());
    m.set_index(index);
    (void)t->Step(m);
  }
}

// ---- §5.1 ----

// §5.1: "Current terms are exchanged whenever servers communicate; if one
// server's current term is smaller than the other's, then it updates its
// current term to the larger value. If a candidate or leader discovers that
// its term is out of date, it immediately reverts to follower state."
TEST(RaftPaperTest, UpdateTermFromMessage) {
  struct Case {
    const char* name;
    StateRole role;
  };
  for (const Case& c : {Case{"follower", StateRole::kFollower},
                        Case{"candidate", StateRole::kCandidate},
                        Case{"leader", StateRole::kLeader}}) {
    SCOPED_TRACE(c.name);
    TestRaft t = NewTestRaft(1, {1, 2, 3});
    if (c.role == StateRole::kCandidate) t->BecomeCandidateForTest();
    if (c.role == StateRole::kLeader) {
      t->BecomeCandidateForTest();
      t->BecomeLeaderForTest();
    }
    ASSERT_EQ(t->state(), c.role);
    (void)t->Step(Msg(2, 1, raft::MSG_APP, 2));
    EXPECT_EQ(t->term(), RaftTerm(2));
    EXPECT_EQ(t->state(), StateRole::kFollower);
  }
}

// §5.1: "If a server receives a request with a stale term number, it rejects
// the request." (Here: the request does not change its state.)
TEST(RaftPaperTest, RejectStaleTermMessage) {
  TestRaft t = NewTestRaft(1, {1, 2, 3}, {.term = 2});
  raft::Message m = Msg(2, 1, raft::MSG_APP, 1);
  m.add_entries()->CopyFrom(MakeEntry(1, 1));
  (void)t->Step(m);
  EXPECT_EQ(t->term(), RaftTerm(2));
  EXPECT_EQ(t->log().LastIndex(), RaftIndex(0));
  EXPECT_EQ(t->lead(), NodeId(0));
}

// ---- §5.2 ----

// §5.2: "When servers start up, they begin as followers."
TEST(RaftPaperTest, StartAsFollower) {
  TestRaft t = NewTestRaft(1, {1, 2, 3});
  EXPECT_EQ(t->state(), StateRole::kFollower);
}

// §5.2: "Leaders send periodic heartbeats (AppendEntries RPCs that carry no
// log entries) to all followers in order to maintain their authority."
TEST(RaftPaperTest, LeaderBroadcastsHeartbeats) {
  TestRaft t = NewTestRaft(1, {1, 2, 3});
  t->BecomeCandidateForTest();
  t->BecomeLeaderForTest();
  ReadMessages(*t.r);
  t->Tick();  // heartbeat_ticks = 1
  auto msgs = ReadMessages(*t.r);
  ASSERT_EQ(msgs.size(), 2u);
  std::set<uint64_t> to;
  for (const auto& m : msgs) {
    EXPECT_EQ(m.type(), raft::MSG_HEARTBEAT);
    EXPECT_EQ(m.entries_size(), 0);
    EXPECT_EQ(m.term(), 1u);
    to.insert(m.to());
  }
  EXPECT_EQ(to, (std::set<uint64_t>{2, 3}));
}

// §5.2: "If a follower receives no communication over a period of time called
// the election timeout, then it assumes there is no viable leader and begins
// an election ... a follower increments its current term and transitions to
// candidate state. It then votes for itself and issues RequestVote RPCs in
// parallel to each of the other servers in the cluster."
// "If many followers become candidates at the same time ... each candidate
// will time out and start a new election by incrementing its term".
TEST(RaftPaperTest, NonLeaderStartsElection) {
  for (StateRole role : {StateRole::kFollower, StateRole::kCandidate}) {
    SCOPED_TRACE(StateRoleName(role));
    TestRaft t = NewTestRaft(1, {1, 2, 3});
    if (role == StateRole::kCandidate) t->BecomeCandidateForTest();
    const RaftTerm before = t->term();
    ReadMessages(*t.r);
    for (int i = 0; i < 2 * 10; ++i) t->Tick();
    EXPECT_EQ(t->term(), before + 1);
    EXPECT_EQ(t->state(), StateRole::kCandidate);
    EXPECT_EQ(t->vote(), NodeId(1));
    auto msgs = ReadMessages(*t.r);
    ASSERT_EQ(msgs.size(), 2u);
    for (const auto& m : msgs) {
      EXPECT_EQ(m.type(), raft::MSG_VOTE);
      EXPECT_EQ(m.term(), (before + 1).value());
    }
  }
}

// §5.2: "A candidate wins an election if it receives votes from a majority
// of the servers in the full cluster for the same term." / "... if another
// server establishes itself as leader ... or a period of time goes by with
// no winner" (it stays candidate or falls back).
TEST(RaftPaperTest, LeaderElectionInOneRound) {
  struct Case {
    const char* name;
    int size;
    std::map<uint64_t, bool> votes;
    StateRole want;
  };
  const Case cases[] = {
      {"single node wins", 1, {}, StateRole::kLeader},
      {"3: all grant", 3, {{2, true}, {3, true}}, StateRole::kLeader},
      {"3: one grant is a majority", 3, {{2, true}}, StateRole::kLeader},
      {"5: all grant", 5, {{2, true}, {3, true}, {4, true}, {5, true}}, StateRole::kLeader},
      {"5: two grants make three", 5, {{2, true}, {3, true}}, StateRole::kLeader},
      {"3: no response", 3, {}, StateRole::kCandidate},
      {"5: one grant", 5, {{2, true}}, StateRole::kCandidate},
      {"3: two rejections", 3, {{2, false}, {3, false}}, StateRole::kFollower},
      {"5: three rejections", 5, {{2, false}, {3, false}, {4, false}}, StateRole::kFollower},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<uint64_t> ids;
    for (int i = 1; i <= c.size; ++i) ids.push_back(static_cast<uint64_t>(i));
    TestRaft t = NewTestRaft(1, ids);
    (void)t->Step(Hup(1));
    for (const auto& [id, granted] : c.votes) {
      raft::Message m = Msg(id, 1, raft::MSG_VOTE_RESP, t->term().value());
      m.set_reject(!granted);
      (void)t->Step(m);
    }
    EXPECT_EQ(t->state(), c.want);
    EXPECT_EQ(t->term(), RaftTerm(1));
  }
}

// §5.2: "Each server will vote for at most one candidate in a given term, on
// a first-come-first-served basis."
TEST(RaftPaperTest, FollowerVotesOncePerTerm) {
  struct Case {
    uint64_t vote;     // already voted for (0 = nobody)
    uint64_t from;     // candidate asking
    bool reject;
  };
  const Case cases[] = {{0, 2, false}, {0, 3, false}, {2, 2, false},
                        {3, 3, false}, {2, 3, true},  {3, 2, true}};
  for (const Case& c : cases) {
    SCOPED_TRACE("vote=" + std::to_string(c.vote) + " from=" + std::to_string(c.from));
    TestRaft t = NewTestRaft(1, {1, 2, 3}, {.term = 1, .vote = c.vote});
    (void)t->Step(Msg(c.from, 1, raft::MSG_VOTE, 1));
    auto msgs = ReadMessages(*t.r);
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].type(), raft::MSG_VOTE_RESP);
    EXPECT_EQ(msgs[0].reject(), c.reject);
  }
}

// §5.2: "While waiting for votes, a candidate may receive an AppendEntries RPC
// from another server claiming to be leader. If the leader's term ... is at
// least as large as the candidate's current term, then the candidate
// recognizes the leader as legitimate and returns to follower state."
TEST(RaftPaperTest, CandidateFallsBackToLeaderOfSameOrNewerTerm) {
  for (uint64_t term : {1u, 2u}) {
    SCOPED_TRACE(term);
    TestRaft t = NewTestRaft(1, {1, 2, 3});
    (void)t->Step(Hup(1));
    ASSERT_EQ(t->state(), StateRole::kCandidate);
    (void)t->Step(Msg(2, 1, raft::MSG_APP, term));
    EXPECT_EQ(t->state(), StateRole::kFollower);
    EXPECT_EQ(t->term(), RaftTerm(term));
    EXPECT_EQ(t->lead(), NodeId(2));
  }
}

// §5.2: "Raft uses randomized election timeouts ... election timeouts are
// chosen randomly from a fixed interval (e.g., 150–300ms)." Here the interval
// is [election_ticks, 2 * election_ticks), drawn from the seeded generator.
TEST(RaftPaperTest, ElectionTimeoutIsRandomizedWithinInterval) {
  std::set<int> seen;
  TestRaft t = NewTestRaft(1, {1, 2, 3});
  for (int round = 0; round < 200; ++round) {
    t->BecomeFollowerForTest(t->term() + 1, NodeId(0));
    const int timeout = t->randomized_election_timeout();
    EXPECT_GE(timeout, 10);
    EXPECT_LT(timeout, 20);
    seen.insert(timeout);
  }
  EXPECT_EQ(seen.size(), 10u) << "every value of the interval should occur";
}

// §5.2: "This spreads out the servers so that in most cases only a single
// server will time out".
TEST(RaftPaperTest, FollowersElectionTimeoutsRarelyConflict) {
  int conflicts = 0;
  const int rounds = 200;
  for (int round = 0; round < rounds; ++round) {
    std::vector<TestRaft> rs;
    for (uint64_t id = 1; id <= 5; ++id) {
      TestRaft t = NewTestRaft(id, {1, 2, 3, 4, 5});
      // Different seeds per round: restart with a fresh generator position.
      for (int k = 0; k < round; ++k) t->BecomeFollowerForTest(RaftTerm(0), NodeId(0));
      rs.push_back(std::move(t));
    }
    int timed_out = 0;
    for (int tick = 0; tick < 20 && timed_out == 0; ++tick) {
      for (auto& t : rs) {
        t->Tick();
        if (!ReadMessages(*t.r).empty()) ++timed_out;
      }
    }
    if (timed_out > 1) ++conflicts;
  }
  // With 5 nodes and 10 possible timeouts, about 30% of rounds see a tie.
  EXPECT_LT(conflicts, rounds / 2);
}

// ---- §5.3 ----

// §5.3: "The leader appends the command to its log as a new entry, then
// issues AppendEntries RPCs in parallel to each of the other servers to
// replicate the entry."
TEST(RaftPaperTest, LeaderStartsReplication) {
  TestRaft t = NewTestRaft(1, {1, 2, 3});
  ElectLeader(t);
  AckAppends(t, {2, 3}, 1);
  ReadMessages(*t.r);
  const RaftIndex li = t->log().LastIndex();
  ASSERT_TRUE(t->Step(Prop(1, "some data")).ok());
  EXPECT_EQ(t->log().LastIndex(), li + 1);
  auto msgs = ReadMessages(*t.r);
  ASSERT_EQ(msgs.size(), 2u);
  for (const auto& m : msgs) {
    EXPECT_EQ(m.type(), raft::MSG_APP);
    EXPECT_EQ(m.index(), li.value());
    EXPECT_EQ(m.log_term(), 1u);
    ASSERT_EQ(m.entries_size(), 1);
    EXPECT_EQ(m.entries(0).index(), (li + 1).value());
    EXPECT_EQ(m.entries(0).term(), 1u);
    EXPECT_EQ(m.entries(0).data(), "some data");
  }
}

// §5.3: "When the entry has been safely replicated ... the leader applies the
// entry to its state machine ... The leader keeps track of the highest index
// it knows to be committed, and it includes that index in future
// AppendEntries RPCs (including heartbeats)".
TEST(RaftPaperTest, LeaderCommitsEntryAndAnnouncesCommitIndex) {
  TestRaft t = NewTestRaft(1, {1, 2, 3});
  ElectLeader(t);
  AckAppends(t, {2, 3}, 1);
  Persist(t);
  ReadMessages(*t.r);
  const RaftIndex li = t->log().LastIndex();
  ASSERT_TRUE(t->Step(Prop(1, "x")).ok());
  Persist(t);
  ReadMessages(*t.r);
  AckAppends(t, {2}, (li + 1).value());
  EXPECT_EQ(t->log().committed(), li + 1);
  auto msgs = ReadMessages(*t.r);
  ASSERT_FALSE(msgs.empty());
  for (const auto& m : msgs) {
    EXPECT_EQ(m.type(), raft::MSG_APP);
    EXPECT_EQ(m.commit(), (li + 1).value());
  }
  t->Tick();
  for (const auto& m : ReadMessages(*t.r)) {
    if (m.type() == raft::MSG_HEARTBEAT && m.to() == 2) {
      EXPECT_EQ(m.commit(), (li + 1).value());
    }
  }
}

// §5.3: "A log entry is committed once the leader that created the entry has
// replicated it on a majority of the servers".
TEST(RaftPaperTest, LeaderAcknowledgesCommitOnMajority) {
  struct Case {
    const char* name;
    int size;
    std::vector<uint64_t> acks;
    bool committed;
  };
  const Case cases[] = {
      {"1 node", 1, {}, true},
      {"3 nodes, no ack", 3, {}, false},
      {"3 nodes, one ack", 3, {2}, true},
      {"5 nodes, one ack", 5, {2}, false},
      {"5 nodes, two acks", 5, {2, 3}, true},
      {"5 nodes, four acks", 5, {2, 3, 4, 5}, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<uint64_t> ids;
    for (int i = 1; i <= c.size; ++i) ids.push_back(static_cast<uint64_t>(i));
    TestRaft t = NewTestRaft(1, ids);
    (void)t->Step(Hup(1));
    for (const auto& m : ReadMessages(*t.r)) {
      (void)t->Step(Msg(m.to(), 1, raft::MSG_VOTE_RESP, 1));
    }
    ASSERT_EQ(t->state(), StateRole::kLeader);
    Persist(t);
    ReadMessages(*t.r);
    AckAppends(t, c.acks, 1);
    EXPECT_EQ(t->log().committed() == RaftIndex(1), c.committed);
  }
}

// §5.3: "This also commits all preceding entries in the leader's log,
// including entries created by previous leaders."
TEST(RaftPaperTest, LeaderCommitsPrecedingEntries) {
  for (const std::vector<uint64_t>& terms :
       {std::vector<uint64_t>{}, {2}, {1, 2}, {1}}) {
    SCOPED_TRACE(terms.size());
    TestRaft t = NewTestRaft(1, {1, 2, 3}, {.terms = terms, .term = 2});
    ElectLeader(t);  // term 3, appends an empty entry
    ASSERT_TRUE(t->Step(Prop(1, "some data")).ok());
    Persist(t);
    ReadMessages(*t.r);
    const RaftIndex last = t->log().LastIndex();
    AckAppends(t, {2}, last.value());
    EXPECT_EQ(t->log().committed(), last);
    const auto ents = t->log().AllEntries();
    ASSERT_EQ(ents.size(), terms.size() + 2);
    for (size_t i = 0; i < terms.size(); ++i) EXPECT_EQ(ents[i].term(), terms[i]);
  }
}

// §5.3: "Once a follower learns that a log entry is committed, it applies the
// entry to its local state machine (in log order)."
TEST(RaftPaperTest, FollowerCommitsEntryFromLeaderCommitIndex) {
  struct Case {
    std::vector<std::string> data;
    uint64_t commit;
  };
  for (const Case& c : {Case{{"a"}, 1}, Case{{"a", "b"}, 2}, Case{{"a", "b"}, 1}}) {
    SCOPED_TRACE(c.commit);
    TestRaft t = NewTestRaft(1, {1, 2, 3});
    t->BecomeFollowerForTest(RaftTerm(1), NodeId(2));
    raft::Message m = Msg(2, 1, raft::MSG_APP, 1);
    m.set_commit(c.commit);
    for (size_t i = 0; i < c.data.size(); ++i) *m.add_entries() = MakeEntry(i + 1, 1, c.data[i]);
    (void)t->Step(m);
    EXPECT_EQ(t->log().committed(), RaftIndex(c.commit));
    const auto next = t->log().NextCommittedEntries();
    ASSERT_EQ(next.size(), c.commit);
    for (size_t i = 0; i < next.size(); ++i) EXPECT_EQ(next[i].data(), c.data[i]);
  }
}

// §5.3: "When sending an AppendEntries RPC, the leader includes the index and
// term of the entry in its log that immediately precedes the new entries. If
// the follower does not find an entry in its log with the same index and
// term, then it refuses the new entries."
TEST(RaftPaperTest, FollowerChecksPrecedingEntry) {
  struct Case {
    const char* name;
    uint64_t term, index;
    bool reject;
    uint64_t want_index;  // resp index (last new index, or the probed index)
  };
  const Case cases[] = {
      {"empty prefix", 0, 0, false, 1},
      {"match first", 1, 1, false, 1},
      {"match last", 2, 2, false, 2},
      {"wrong term at 2", 3, 2, true, 2},
      {"index past the log", 2, 3, true, 3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TestRaft t = NewTestRaft(1, {1, 2, 3}, {.terms = {1, 2}, .commit = 1});
    t->BecomeFollowerForTest(RaftTerm(2), NodeId(2));
    raft::Message m = Msg(2, 1, raft::MSG_APP, 2);
    m.set_log_term(c.term);
    m.set_index(c.index);
    (void)t->Step(m);
    auto msgs = ReadMessages(*t.r);
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].type(), raft::MSG_APP_RESP);
    EXPECT_EQ(msgs[0].reject(), c.reject);
    EXPECT_EQ(msgs[0].index(), c.want_index);
  }
}

// §5.3: "If an existing entry conflicts with a new one (same index but
// different terms), delete the existing entry and all that follow it; append
// any new entries not already in the log."
TEST(RaftPaperTest, FollowerAppendsAndTruncatesConflicts) {
  struct Case {
    const char* name;
    uint64_t index, term;
    std::vector<raft::Entry> ents;
    std::vector<uint64_t> want_terms;
  };
  const Case cases[] = {
      {"append after last", 2, 2, {MakeEntry(3, 3)}, {1, 2, 3}},
      {"replace conflicting suffix", 1, 1, {MakeEntry(2, 3), MakeEntry(3, 4)}, {1, 3, 4}},
      {"already present: nothing changes", 0, 0, {MakeEntry(1, 1)}, {1, 2}},
      {"conflict at 1", 0, 0, {MakeEntry(1, 3)}, {3}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TestRaft t = NewTestRaft(1, {1, 2, 3}, {.terms = {1, 2}});
    t->BecomeFollowerForTest(RaftTerm(2), NodeId(2));
    raft::Message m = Msg(2, 1, raft::MSG_APP, 2);
    m.set_log_term(c.term);
    m.set_index(c.index);
    for (const auto& e : c.ents) *m.add_entries() = e;
    (void)t->Step(m);
    std::vector<uint64_t> terms;
    for (const auto& e : t->log().AllEntries()) terms.push_back(e.term());
    EXPECT_EQ(terms, c.want_terms);
  }
}

// §5.3, Figure 7: "When the leader at the top comes to power, it is possible
// that any of scenarios (a–f) could occur in follower logs ... the leader
// handles inconsistencies by forcing the followers' logs to duplicate its
// own." Each follower ends with exactly the leader's log.
TEST(RaftPaperTest, Figure7LeaderSyncsFollowerLogs) {
  const std::vector<uint64_t> leader = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
  struct Case {
    const char* name;
    std::vector<uint64_t> follower;
  };
  const Case cases[] = {
      {"(a) missing one entry", {1, 1, 1, 4, 4, 5, 5, 6, 6}},
      {"(b) missing many", {1, 1, 1, 4}},
      {"(c) one extra uncommitted entry of term 6", {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6}},
      {"(d) two extra entries of term 7", {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7}},
      {"(e) missing and extra of term 4", {1, 1, 1, 4, 4, 4, 4}},
      {"(f) extra entries of terms 2 and 3", {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    // The leader of term 8 (elected by the follower and node 3, which stays
    // silent afterwards).
    TestRaft lead = NewTestRaft(1, {1, 2, 3}, {.terms = leader, .term = 7, .commit = 10});
    TestRaft follow = NewTestRaft(2, {1, 2, 3}, {.terms = c.follower, .term = 7});
    TestRaft third = NewTestRaft(3, {1, 2, 3}, {.terms = leader, .term = 7});
    TestNetwork net;
    net.Add(&lead);
    net.Add(&follow);
    net.Add(&third);
    (void)lead->Step(Hup(1));
    for (const auto& m : ReadMessages(*lead.r)) {
      if (m.to() == 3) (void)lead->Step(Msg(3, 1, raft::MSG_VOTE_RESP, m.term()));
    }
    ASSERT_EQ(lead->state(), StateRole::kLeader);
    net.Isolate(3);
    Persist(lead);
    for (auto& m : ReadMessages(*lead.r)) net.Send(m);
    // Heartbeats drive probing until the follower matches.
    for (int i = 0; i < 20; ++i) net.Send(Msg(1, 1, raft::MSG_BEAT));
    std::vector<uint64_t> want = leader;
    want.push_back(8);  // the new leader's empty entry
    std::vector<uint64_t> got;
    for (const auto& e : follow->log().AllEntries()) got.push_back(e.term());
    EXPECT_EQ(got, want);
    EXPECT_EQ(follow->log().committed(), RaftIndex(11));
  }
}

// ---- §5.4 ----

// §5.4.1: "The RequestVote RPC implements this restriction: the RPC includes
// information about the candidate's log" (index and term of its last entry).
TEST(RaftPaperTest, VoteRequestCarriesLastLogPosition) {
  TestRaft t = NewTestRaft(1, {1, 2, 3}, {.terms = {1, 2}, .term = 3});
  (void)t->Step(Hup(1));
  auto msgs = ReadMessages(*t.r);
  ASSERT_EQ(msgs.size(), 2u);
  for (const auto& m : msgs) {
    EXPECT_EQ(m.type(), raft::MSG_VOTE);
    EXPECT_EQ(m.term(), 4u);
    EXPECT_EQ(m.index(), 2u);
    EXPECT_EQ(m.log_term(), 2u);
  }
}

// §5.4.1: "the voter denies its vote if its own log is more up-to-date than
// that of the candidate ... If the logs have last entries with different
// terms, then the log with the later term is more up-to-date. If the logs
// end with the same term, then whichever log is longer is more up-to-date."
TEST(RaftPaperTest, VoterDeniesLessUpToDateCandidate) {
  struct Case {
    const char* name;
    std::vector<uint64_t> voter_terms;
    uint64_t log_term, index;
    bool reject;
  };
  const Case cases[] = {
      {"same term, same length", {1}, 1, 1, false},
      {"same term, longer candidate", {1}, 1, 2, false},
      {"same term, shorter candidate", {1, 1}, 1, 1, true},
      {"later candidate term", {1}, 2, 1, false},
      {"later candidate term, shorter", {1, 1}, 2, 1, false},
      {"earlier candidate term", {2}, 1, 1, true},
      {"earlier candidate term, longer", {2}, 1, 3, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TestRaft t = NewTestRaft(1, {1, 2}, {.terms = c.voter_terms});
    raft::Message m = Msg(2, 1, raft::MSG_VOTE, 3);
    m.set_log_term(c.log_term);
    m.set_index(c.index);
    (void)t->Step(m);
    auto msgs = ReadMessages(*t.r);
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].reject(), c.reject);
  }
}

// §5.4.2: "Raft never commits log entries from previous terms by counting
// replicas. Only log entries from the leader's current term are committed by
// counting replicas".
TEST(RaftPaperTest, LeaderOnlyCommitsEntriesOfItsTerm) {
  struct Case {
    const char* name;
    uint64_t ack_index;
    uint64_t want_commit;
  };
  const Case cases[] = {
      {"previous-term entry on a majority: not committed", 1, 0},
      {"previous-term entries on a majority: not committed", 2, 0},
      {"current-term entry on a majority commits all before it", 3, 3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TestRaft t = NewTestRaft(1, {1, 2, 3}, {.terms = {1, 1}, .term = 1});
    ElectLeader(t);  // term 2; empty entry at index 3
    ASSERT_EQ(t->log().LastIndex(), RaftIndex(3));
    AckAppends(t, {2}, c.ack_index);
    EXPECT_EQ(t->log().committed(), RaftIndex(c.want_commit));
  }
}

// §5.4.2, Figure 8 (c)→(d): the entry of an earlier term that reached a
// majority is overwritten by a later leader, which is safe only because it
// was never committed. End-to-end through a network.
TEST(RaftPaperTest, Figure8PreviousTermEntryIsOverwritable) {
  std::vector<TestRaft> n;
  for (uint64_t id = 1; id <= 5; ++id) {
    // (c) S1, S2, S3 hold (2, term 2); S5 holds (2, term 3); S4 only (1, 1).
    std::vector<uint64_t> terms = {1, 2};
    if (id == 4) terms = {1};
    if (id == 5) terms = {1, 3};
    n.push_back(NewTestRaft(id, {1, 2, 3, 4, 5}, {.terms = terms, .term = 3, .commit = 1}));
  }
  // S1 becomes leader of term 4 and learns that S2 and S3 store index 2.
  (void)n[0]->Step(Hup(1));
  for (uint64_t from : {2, 3}) (void)n[0]->Step(Msg(from, 1, raft::MSG_VOTE_RESP, 4));
  ASSERT_EQ(n[0]->state(), StateRole::kLeader);
  Persist(n[0]);
  ReadMessages(*n[0].r);
  AckAppends(n[0], {2, 3}, 2);
  EXPECT_EQ(n[0]->log().committed(), RaftIndex(1)) << "§5.4.2 forbids committing (2, term 2)";
  // (d) S1 crashes before its term-4 entry spreads; S5 (last term 3) is
  // elected by S2, S3, S4 and overwrites index 2 everywhere.
  TestNetwork net;
  for (auto& t : n) net.Add(&t);
  net.Isolate(1);
  net.Send(Hup(5));
  ASSERT_EQ(n[4]->state(), StateRole::kLeader);
  net.Send(Msg(5, 5, raft::MSG_BEAT));
  for (size_t k = 1; k < 4; ++k) {
    const auto ents = n[k]->log().AllEntries();
    ASSERT_GE(ents.size(), 2u);
    EXPECT_EQ(ents[1].term(), 3u) << "node " << k + 1;
    EXPECT_GE(n[k]->log().committed(), RaftIndex(2)) << "node " << k + 1;
  }
}

}  // namespace
}  // namespace cl::consensus::testing
