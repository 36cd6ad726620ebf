// Membership changes on the tracker configuration (consensus/confchange.h).
#include "consensus/confchange.h"

#include <gtest/gtest.h>

namespace cl::consensus {
namespace {

raft::ConfChangeSingle C(raft::ConfChangeType t, uint64_t id) {
  raft::ConfChangeSingle c;
  c.set_type(t);
  c.set_node_id(id);
  return c;
}
const auto kAdd = raft::CONF_ADD_NODE;
const auto kLearner = raft::CONF_ADD_LEARNER;
const auto kRemove = raft::CONF_REMOVE_NODE;

ProgressTracker Tracker(std::vector<uint64_t> voters, std::vector<uint64_t> learners = {}) {
  raft::ConfState cs;
  for (auto v : voters) cs.add_voters(v);
  for (auto l : learners) cs.add_learners(l);
  auto cp = RestoreConfig(cs, RaftIndex(10), 16, 0);
  EXPECT_TRUE(cp.ok()) << cp.status();
  ProgressTracker t(16, 0);
  t.config = cp->config;
  t.progress = cp->progress;
  return t;
}

void Apply(ProgressTracker& t, const ConfigAndProgress& cp) {
  t.config = cp.config;
  t.progress = cp.progress;
}

TEST(ConfChangeTest, SimpleChanges) {
  struct Case {
    const char* name;
    std::vector<raft::ConfChangeSingle> ccs;
    std::string want;  // config string, or the error text
  };
  const Case cases[] = {
      {"add voter", {C(kAdd, 4)}, "voters=(1 2 3 4)"},
      {"remove voter", {C(kRemove, 3)}, "voters=(1 2)"},
      {"add learner", {C(kLearner, 4)}, "voters=(1 2 3) learners=(4)"},
      {"demote voter", {C(kLearner, 3)}, "voters=(1 2) learners=(3)"},
      {"voter change plus learners is fine", {C(kAdd, 4), C(kLearner, 5), C(kLearner, 6)},
       "voters=(1 2 3 4) learners=(5 6)"},
      {"remove unknown is a no-op", {C(kRemove, 9)}, "voters=(1 2 3)"},
      {"two voters need joint", {C(kAdd, 4), C(kAdd, 5)}, "more than one voter changed"},
      {"swap needs joint", {C(kAdd, 4), C(kRemove, 1)}, "more than one voter changed"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ProgressTracker t = Tracker({1, 2, 3});
    auto r = Changer(t, RaftIndex(10)).Simple(c.ccs);
    const std::string got = r.ok() ? r->config.String() : r.status().message();
    EXPECT_NE(got.find(c.want), std::string::npos) << got;
  }
  ProgressTracker one = Tracker({1});
  auto r = Changer(one, RaftIndex(10)).Simple({C(kRemove, 1)});
  EXPECT_EQ(r.status().message(), "removed all voters");
}

TEST(ConfChangeTest, JointEnterAndLeave) {
  ProgressTracker t = Tracker({1, 2, 3});
  auto j = Changer(t, RaftIndex(10)).EnterJoint(true, {C(kAdd, 4), C(kRemove, 1), C(kLearner, 2)});
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ(j->config.String(), "voters=(3 4)&&(1 2 3) learners_next=(2) autoleave");
  // 1 is still needed by the outgoing half, so its progress stays.
  EXPECT_TRUE(j->progress.contains(NodeId(1)));
  Apply(t, *j);
  EXPECT_EQ(Changer(t, RaftIndex(10)).EnterJoint(false, {C(kAdd, 5)}).status().message(),
            "config is already joint");
  EXPECT_NE(Changer(t, RaftIndex(10)).Simple({C(kAdd, 5)}).status().message().find("joint"),
            std::string::npos);
  auto l = Changer(t, RaftIndex(10)).LeaveJoint();
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->config.String(), "voters=(3 4) learners=(2)");
  EXPECT_FALSE(l->progress.contains(NodeId(1)));
  EXPECT_TRUE(l->progress.at(NodeId(2)).is_learner);
  Apply(t, *l);
  EXPECT_EQ(Changer(t, RaftIndex(10)).LeaveJoint().status().message(),
            "can't leave a non-joint config");
}

TEST(ConfChangeTest, NewNodesProbeFromTheLastIndex) {
  ProgressTracker t = Tracker({1, 2, 3});
  auto r = Changer(t, RaftIndex(42)).Simple({C(kAdd, 4)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->progress.at(NodeId(4)).next, RaftIndex(42));
  EXPECT_EQ(r->progress.at(NodeId(4)).state, ProgressState::kProbe);
}

TEST(ConfChangeTest, RestoreValidatesTheConfState) {
  raft::ConfState bad;
  bad.add_voters(1);
  bad.add_learners(1);
  EXPECT_FALSE(RestoreConfig(bad, RaftIndex(1), 16, 0).ok()) << "learner and voter at once";
  raft::ConfState next_not_outgoing;
  next_not_outgoing.add_voters(1);
  next_not_outgoing.add_learners_next(2);
  EXPECT_FALSE(RestoreConfig(next_not_outgoing, RaftIndex(1), 16, 0).ok());
  raft::ConfState joint;
  joint.add_voters(1);
  joint.add_voters_outgoing(1);
  joint.add_voters_outgoing(2);
  joint.add_learners_next(2);
  joint.set_auto_leave(true);
  auto r = RestoreConfig(joint, RaftIndex(1), 16, 0);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(ConfStateString(r->config.ToConfState()),
            "voters=(1)&&(1 2) learners_next=(2) autoleave");
}

TEST(ConfChangeTest, Classify) {
  raft::ConfChange leave;
  EXPECT_TRUE(ClassifyConfChange(leave).leave_joint);
  raft::ConfChange one;
  *one.add_changes() = C(kAdd, 4);
  EXPECT_FALSE(ClassifyConfChange(one).enter_joint);
  one.set_transition(raft::ConfChange::EXPLICIT);
  EXPECT_TRUE(ClassifyConfChange(one).enter_joint);
  EXPECT_FALSE(ClassifyConfChange(one).auto_leave);
  raft::ConfChange two;
  *two.add_changes() = C(kAdd, 4);
  *two.add_changes() = C(kRemove, 1);
  EXPECT_TRUE(ClassifyConfChange(two).enter_joint);
  EXPECT_TRUE(ClassifyConfChange(two).auto_leave);
}

}  // namespace
}  // namespace cl::consensus
