// Each TestingBugs switch (raft.h) re-introduces a classic raft bug. These
// tests show, in a small scripted scenario, that the switch really changes
// the core's behaviour (the simulator separately shows it catches each one),
// and that no switch can be turned on without allow_testing_bugs.
#include <gtest/gtest.h>

#include "tests/consensus/raft_test_util.h"

namespace cl::consensus::testing {
namespace {

raft::Message Hup(uint64_t id) { return Msg(id, id, raft::MSG_HUP); }

// Elects node 1 by granting the votes of `voters` (other than 1).
void Elect(TestRaft& t, const std::vector<uint64_t>& voters) {
  (void)t->Step(Hup(1));
  for (uint64_t v : voters) {
    if (v != 1) (void)t->Step(Msg(v, 1, raft::MSG_VOTE_RESP, t->term().value()));
  }
  ASSERT_EQ(t->state(), StateRole::kLeader);
  Persist(t);
  ReadMessages(*t.r);
}

void Ack(TestRaft& t, uint64_t from, uint64_t index) {
  raft::Message m = Msg(from, 1, raft::MSG_APP_RESP, t->term().value());
  m.set_index(index);
  (void)t->Step(m);
}

// Figure 8: a new leader (term 2) learns that a majority stores entry 2 of
// term 1. Correct raft waits for an entry of term 2; the bug commits at once.
TEST(TestingBugsTest, CommitPreviousTermByCounting) {
  for (bool bug : {false, true}) {
    SCOPED_TRACE(bug ? "bug on" : "bug off");
    TestRaft t = NewTestRaft(1, {1, 2, 3},
                             {.terms = {1, 1}, .term = 1,
                              .bugs = {.commit_previous_term_by_counting = bug}});
    Elect(t, {1, 2, 3});
    Ack(t, 2, 2);
    EXPECT_EQ(t->log().committed(), RaftIndex(bug ? 2 : 0));
  }
}

// §5.4.1: a voter whose log is more up to date (last term 2) must refuse a
// candidate whose last entry has term 1; the bug grants the vote.
TEST(TestingBugsTest, VoteWithoutLogCheck) {
  for (bool bug : {false, true}) {
    SCOPED_TRACE(bug ? "bug on" : "bug off");
    TestRaft t = NewTestRaft(1, {1, 2, 3},
                             {.terms = {1, 2}, .term = 2,
                              .bugs = {.vote_without_log_check = bug}});
    raft::Message m = Msg(2, 1, raft::MSG_VOTE, 3);
    m.set_index(5);
    m.set_log_term(1);
    (void)t->Step(m);
    auto msgs = ReadMessages(*t.r);
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].reject(), !bug);
    EXPECT_EQ(t->vote(), bug ? NodeId(2) : NodeId(0));
  }
}

// A follower stores entries 1..3 (and acknowledged them). A delayed copy of
// an older append carrying only entry 1 arrives: correct raft keeps 2..3
// (they do not conflict); the bug truncates them, losing acknowledged entries.
TEST(TestingBugsTest, TruncateOnStaleAppend) {
  for (bool bug : {false, true}) {
    SCOPED_TRACE(bug ? "bug on" : "bug off");
    TestRaft t = NewTestRaft(1, {1, 2, 3}, {.bugs = {.truncate_on_stale_append = bug}});
    raft::Message fresh = Msg(2, 1, raft::MSG_APP, 1);
    for (uint64_t i = 1; i <= 3; ++i) *fresh.add_entries() = MakeEntry(i, 1, "e");
    (void)t->Step(fresh);
    Persist(t);
    ASSERT_EQ(t->log().LastIndex(), RaftIndex(3));
    raft::Message stale = Msg(2, 1, raft::MSG_APP, 1);
    *stale.add_entries() = MakeEntry(1, 1, "e");
    (void)t->Step(stale);
    Persist(t);
    EXPECT_EQ(t->log().LastIndex(), RaftIndex(bug ? 1 : 3));
    EXPECT_EQ(*t.storage->LastIndex(), RaftIndex(bug ? 1 : 3));
  }
}

// Voters 1 2 3, learners 4 5. Only the learners acknowledge an entry: correct
// raft does not commit it (one voter of three); the bug counts 1, 4 and 5 as
// three of five.
TEST(TestingBugsTest, CountLearnerInQuorum) {
  for (bool bug : {false, true}) {
    SCOPED_TRACE(bug ? "bug on" : "bug off");
    TestRaft t = NewTestRaft(1, {1, 2, 3},
                             {.learners = {4, 5}, .bugs = {.count_learner_in_quorum = bug}});
    Elect(t, {1, 2, 3});
    Ack(t, 4, 1);
    Ack(t, 5, 1);
    EXPECT_EQ(t->log().committed(), RaftIndex(bug ? 1 : 0));
  }
}

// The switches are refused unless the config explicitly allows them.
TEST(TestingBugsTest, RefusedWithoutAllowTestingBugs) {
  MemoryLogStorage storage;
  const TestingBugs each[] = {
      {.commit_previous_term_by_counting = true}, {.vote_without_log_check = true},
      {.truncate_on_stale_append = true},         {.count_learner_in_quorum = true},
      {.respond_before_persist = true},
  };
  for (const TestingBugs& b : each) {
    Config c{.id = NodeId(1), .storage = &storage, .bugs = b};
    Status s = c.Validate();
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_NE(s.message().find("allow_testing_bugs"), std::string::npos) << s;
    EXPECT_FALSE(RawNode::Create(c).ok());
    c.allow_testing_bugs = true;
    EXPECT_TRUE(c.Validate().ok());
  }
}

}  // namespace
}  // namespace cl::consensus::testing
