// RawNode: the public API contract (raft.h) — config validation, the
// Ready/Advance cycle, errors of Step/Propose/ProposeConfChange, restart
// from storage, determinism.
#include "consensus/raft.h"

#include <gtest/gtest.h>

#include "consensus/describe.h"
#include "consensus/memory_storage.h"
#include "tests/consensus/interaction_env.h"

namespace cl::consensus {
namespace {

using testing::InteractionEnv;
using testing::NodeOptions;

TEST(ConfigTest, ValidateNamesTheBadField) {
  MemoryLogStorage storage;
  const Config good{.id = NodeId(1), .storage = &storage};
  ASSERT_TRUE(good.Validate().ok());
  struct Case {
    const char* name;
    Config config;
    const char* mentions;
  };
  auto with = [&](auto f) {
    Config c = good;
    f(c);
    return c;
  };
  const Case cases[] = {
      {"zero id", with([](Config& c) { c.id = NodeId(0); }), "id"},
      {"no storage", with([](Config& c) { c.storage = nullptr; }), "storage"},
      {"heartbeat zero", with([](Config& c) { c.heartbeat_ticks = 0; }), "heartbeat_ticks"},
      {"election not above heartbeat",
       with([](Config& c) { c.heartbeat_ticks = 10; c.election_ticks = 10; }), "election_ticks"},
      {"zero message size", with([](Config& c) { c.max_size_per_msg = 0; }), "max_size_per_msg"},
      {"zero committed size", with([](Config& c) { c.max_committed_size_per_ready = 0; }),
       "max_committed_size_per_ready"},
      {"zero uncommitted size", with([](Config& c) { c.max_uncommitted_entries_size = 0; }),
       "max_uncommitted_entries_size"},
      {"zero inflight", with([](Config& c) { c.max_inflight_msgs = 0; }), "max_inflight_msgs"},
      {"inflight bytes below message size",
       with([](Config& c) { c.max_inflight_bytes = 10; c.max_size_per_msg = 100; }),
       "max_inflight_bytes"},
      {"lease reads without check quorum",
       with([](Config& c) { c.read_only = ReadOnlyOption::kLeaseBased; c.check_quorum = false; }),
       "check_quorum"},
      {"bugs without allow", with([](Config& c) { c.bugs.vote_without_log_check = true; }),
       "allow_testing_bugs"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Status s = c.config.Validate();
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_NE(s.message().find(c.mentions), std::string::npos) << s;
  }
}

TEST(RawNodeTest, CreateRefusesCommitOutsideTheLog) {
  MemoryLogStorage storage;
  raft::ConfState cs;
  cs.add_voters(1);
  storage.SetConfState(cs);
  raft::HardState hs;
  hs.set_term(1);
  hs.set_commit(5);  // the log is empty
  storage.SetHardState(hs);
  auto r = RawNode::Create(Config{.id = NodeId(1), .storage = &storage});
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
}

TEST(RawNodeTest, SingleNodeElectsItselfAndCommitsAfterPersisting) {
  InteractionEnv env;
  env.AddNodes(1, {});
  env.set_quiet(true);
  env.raw(1).Campaign();
  EXPECT_EQ(env.raw(1).GetStatus().soft_state.role, StateRole::kLeader);
  // The leader's own entry counts only after it was persisted (Advance).
  Ready rd = env.raw(1).GetReady();
  EXPECT_EQ(rd.entries.size(), 1u);
  EXPECT_TRUE(rd.committed_entries.empty());
  EXPECT_TRUE(rd.must_sync);
  ASSERT_TRUE(env.node(1).storage->Append(rd.entries).ok());
  env.raw(1).Advance(rd);
  ASSERT_TRUE(env.raw(1).HasReady());
  rd = env.raw(1).GetReady();
  ASSERT_EQ(rd.committed_entries.size(), 1u);
  env.raw(1).Advance(rd);
  ASSERT_TRUE(env.raw(1).Propose("hello").ok());
  env.Stabilize();
  ASSERT_EQ(env.node(1).applied.size(), 1u);  // the empty entry was applied by hand above
  EXPECT_EQ(env.node(1).applied[0].data(), "hello");
  EXPECT_EQ(env.raw(1).GetStatus().applied, RaftIndex(2));
}

TEST(RawNodeTest, OnlyASteadyLeadersAppendsLeaveBeforePersist) {
  auto msg = [](raft::MessageType t, uint64_t to, uint64_t term = 2) {
    raft::Message m;
    m.set_type(t);
    m.set_from(1);
    m.set_to(to);
    m.set_term(term);
    return m;
  };
  auto types = [](const std::vector<raft::Message>& ms) {
    std::string s;
    for (const raft::Message& m : ms) s += raft::MessageType_Name(m.type()) + ">" + std::to_string(m.to()) + " ";
    return s;
  };
  struct Case {
    const char* name;
    StateRole role;
    bool role_changes;
    const char* early;
    const char* late;
  };
  const Case cases[] = {
      {"steady leader: appends and heartbeats first, in order", StateRole::kLeader, false,
       "MSG_APP>2 MSG_HEARTBEAT>3 MSG_APP>3 ", "MSG_TIMEOUT_NOW>2 MSG_READ_INDEX_RESP>3 "},
      {"new leader: its term is not yet known durable here", StateRole::kLeader, true, "",
       "MSG_APP>2 MSG_TIMEOUT_NOW>2 MSG_HEARTBEAT>3 MSG_READ_INDEX_RESP>3 MSG_APP>3 "},
      {"follower: nothing", StateRole::kFollower, false, "",
       "MSG_APP>2 MSG_TIMEOUT_NOW>2 MSG_HEARTBEAT>3 MSG_READ_INDEX_RESP>3 MSG_APP>3 "},
      {"candidate: nothing", StateRole::kCandidate, false, "",
       "MSG_APP>2 MSG_TIMEOUT_NOW>2 MSG_HEARTBEAT>3 MSG_READ_INDEX_RESP>3 MSG_APP>3 "},
  };
  {
    SCOPED_TRACE("an append of a term not yet durable waits");
    Ready rd;
    rd.messages = {msg(raft::MSG_APP, 2, 3), msg(raft::MSG_HEARTBEAT, 3, 2)};
    const std::vector<raft::Message> early = TakeMessagesSendableBeforePersist(rd, StateRole::kLeader, 2);
    EXPECT_EQ(types(early), "MSG_HEARTBEAT>3 ");
    EXPECT_EQ(types(rd.messages), "MSG_APP>2 ");
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Ready rd;
    rd.messages = {msg(raft::MSG_APP, 2), msg(raft::MSG_TIMEOUT_NOW, 2), msg(raft::MSG_HEARTBEAT, 3),
                   msg(raft::MSG_READ_INDEX_RESP, 3), msg(raft::MSG_APP, 3)};
    if (c.role_changes) rd.soft_state = SoftState{.lead = NodeId(1), .role = c.role};
    const std::vector<raft::Message> early = TakeMessagesSendableBeforePersist(rd, c.role, 2);
    EXPECT_EQ(types(early), c.early);
    EXPECT_EQ(types(rd.messages), c.late);
  }
}

TEST(RawNodeTest, StepRejectsForeignAndLocalMessages) {
  InteractionEnv env;
  env.AddNodes(3, {});
  struct Case {
    const char* name;
    raft::MessageType type;
    uint64_t to, from;
  };
  const Case cases[] = {
      {"for another node", raft::MSG_HEARTBEAT, 2, 3},
      {"local hup", raft::MSG_HUP, 1, 2},
      {"local beat", raft::MSG_BEAT, 1, 2},
      {"local check quorum", raft::MSG_CHECK_QUORUM, 1, 2},
      {"unknown type", static_cast<raft::MessageType>(99), 1, 2},
      {"no sender", raft::MSG_HEARTBEAT, 1, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    raft::Message m;
    m.set_type(c.type);
    m.set_to(c.to);
    m.set_from(c.from);
    m.set_term(5);
    EXPECT_EQ(env.raw(1).Step(m).code(), Code::kInvalidArgument);
    EXPECT_EQ(env.raw(1).GetStatus().hard_state.term(), 0u) << "state must not change";
  }
}

TEST(RawNodeTest, ProposeErrors) {
  InteractionEnv env;
  env.AddNodes(3, {.max_uncommitted_entries_size = 10});
  env.set_quiet(true);
  EXPECT_EQ(env.raw(1).Propose("x").code(), Code::kUnavailable) << "no leader yet";
  env.raw(1).Campaign();
  env.Stabilize();
  // Over the uncommitted budget (one proposal always fits an empty window).
  ASSERT_TRUE(env.raw(1).Propose(std::string(8, 'a')).ok());
  EXPECT_EQ(env.raw(1).Propose(std::string(8, 'b')).code(), Code::kResourceExhausted);
  env.Stabilize();
  EXPECT_TRUE(env.raw(1).Propose(std::string(8, 'c')).ok()) << "budget released on commit";
  env.Stabilize();
  // A follower forwards proposals to the leader.
  ASSERT_TRUE(env.raw(2).Propose("via-2").ok());
  env.Stabilize();
  EXPECT_EQ(env.node(1).applied.back().data(), "via-2");
}

TEST(RawNodeTest, ProposeConfChangeRefusesAnUnsafeChange) {
  InteractionEnv env;
  env.AddNodes(3, {});
  env.set_quiet(true);
  env.raw(1).Campaign();
  env.Stabilize();
  raft::ConfChange remove_all;
  for (uint64_t id : {1, 2, 3}) {
    auto* c = remove_all.add_changes();
    c->set_type(raft::CONF_REMOVE_NODE);
    c->set_node_id(id);
  }
  EXPECT_EQ(env.raw(1).ProposeConfChange(remove_all).code(), Code::kFailedPrecondition);
  raft::ConfChange leave;  // empty: leave a joint config we are not in
  EXPECT_EQ(env.raw(1).ProposeConfChange(leave).code(), Code::kFailedPrecondition);
}

TEST(RawNodeTest, GetReadyTwiceWithoutAdvanceIsABug) {
  InteractionEnv env;
  env.AddNodes(1, {});
  env.raw(1).Campaign();
  (void)env.raw(1).GetReady();
  EXPECT_DEATH((void)env.raw(1).GetReady(), "GetReady called again before Advance");
}

TEST(RawNodeTest, RestartKeepsTermVoteAndLog) {
  InteractionEnv env;
  env.AddNodes(3, {});
  env.set_quiet(true);
  env.raw(1).Campaign();
  env.Stabilize();
  ASSERT_TRUE(env.raw(1).Propose("a").ok());
  env.Stabilize();
  const RaftStatus before = env.raw(2).GetStatus();
  ASSERT_TRUE(env.Restart(2).ok());
  const RaftStatus after = env.raw(2).GetStatus();
  EXPECT_EQ(after.hard_state.term(), before.hard_state.term());
  EXPECT_EQ(after.hard_state.vote(), before.hard_state.vote());
  EXPECT_EQ(after.hard_state.commit(), before.hard_state.commit());
  EXPECT_EQ(after.soft_state.role, StateRole::kFollower);
  // The restarted node re-applies the committed log from its snapshot point.
  env.Stabilize();
  ASSERT_EQ(env.node(2).applied.size(), 2u);
  EXPECT_EQ(env.node(2).applied[1].data(), "a");
}

TEST(RawNodeTest, ReadIndexWaitsForACommitInTheLeadersTerm) {
  InteractionEnv env;
  env.AddNodes(3, {});
  env.set_quiet(true);
  env.raw(1).Campaign();
  // Run the election only up to the point where 1 is leader, before its
  // empty entry commits.
  for (int i = 0; i < 4 && env.raw(1).GetStatus().soft_state.role != StateRole::kLeader; ++i) {
    env.ProcessReady(1);
    env.Deliver(2);
    env.Deliver(3);
    env.ProcessReady(2);
    env.ProcessReady(3);
    env.Deliver(1);
  }
  ASSERT_EQ(env.raw(1).GetStatus().soft_state.role, StateRole::kLeader);
  ASSERT_EQ(env.raw(1).GetStatus().hard_state.commit(), 0u);
  env.raw(1).ReadIndex("early");
  Ready rd = env.raw(1).GetReady();
  EXPECT_TRUE(rd.read_states.empty()) << "no read before this term's first commit";
  ASSERT_TRUE(env.node(1).storage->Append(rd.entries).ok());
  for (const auto& m : rd.messages) ASSERT_TRUE(env.raw(m.to()).Step(m).ok());
  env.raw(1).Advance(rd);
  env.set_quiet(false);
  env.TakeOutput();
  env.Stabilize();
  const std::string out = env.TakeOutput();
  EXPECT_NE(out.find("Index:1 Ctx:\"early\""), std::string::npos) << out;
}

// Two runs with the same seeds and inputs produce the same messages.
TEST(RawNodeTest, DeterministicForTheSameSeeds) {
  auto run = [] {
    InteractionEnv env;
    env.AddNodes(3, {});
    for (int i = 0; i < 60; ++i) {
      for (uint64_t id : {1, 2, 3}) env.Tick(id, 1);
      env.Stabilize();
      if (i % 7 == 0) (void)env.raw(1).Propose("p" + std::to_string(i));
    }
    return env.TakeOutput();
  };
  const std::string a = run();
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, run());
}

}  // namespace
}  // namespace cl::consensus

namespace cl::consensus {
namespace {

// A malformed message from a peer is refused, never trips an invariant.
TEST(RawNodeTest, MalformedPeerMessagesAreRefused) {
  InteractionEnv env;
  env.AddNodes(3, {});
  env.set_quiet(true);
  env.raw(1).Campaign();
  env.Stabilize();
  auto msg = [](raft::MessageType t, uint64_t to) {
    raft::Message m;
    m.set_type(t);
    m.set_from(2);
    m.set_to(to);
    m.set_term(1);
    return m;
  };
  raft::Message read_no_ctx = msg(raft::MSG_READ_INDEX, 1);
  raft::Message empty_prop = msg(raft::MSG_PROP, 1);
  raft::Message gap = msg(raft::MSG_APP, 3);
  gap.set_index(1);
  gap.set_log_term(1);
  *gap.add_entries() = [] {
    raft::Entry e;
    e.set_index(5);
    e.set_term(1);
    return e;
  }();
  raft::Message future_term = msg(raft::MSG_APP, 3);
  future_term.set_index(1);
  future_term.set_log_term(1);
  *future_term.add_entries() = [] {
    raft::Entry e;
    e.set_index(2);
    e.set_term(7);
    return e;
  }();
  for (const raft::Message& m : {read_no_ctx, empty_prop, gap, future_term}) {
    SCOPED_TRACE(m.DebugString());
    const RaftStatus before = env.raw(m.to()).GetStatus();
    EXPECT_EQ(env.raw(m.to()).Step(m).code(), Code::kInvalidArgument);
    EXPECT_EQ(env.raw(m.to()).GetStatus().hard_state.SerializeAsString(),
              before.hard_state.SerializeAsString());
  }
}

}  // namespace
}  // namespace cl::consensus
