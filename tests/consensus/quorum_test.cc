// Majority and joint quorums (consensus/quorum.h).
#include "consensus/quorum.h"

#include <gtest/gtest.h>

namespace cl::consensus {
namespace {

MajorityConfig M(std::initializer_list<uint64_t> ids) {
  std::set<NodeId> s;
  for (uint64_t id : ids) s.insert(NodeId(id));
  return MajorityConfig(s);
}

AckedIndexes A(std::initializer_list<std::pair<uint64_t, uint64_t>> acks) {
  AckedIndexes a;
  for (auto [id, idx] : acks) a[NodeId(id)] = RaftIndex(idx);
  return a;
}

TEST(QuorumTest, MajorityCommittedIndex) {
  struct Case {
    const char* name;
    MajorityConfig cfg;
    AckedIndexes acked;
    uint64_t want;
  };
  const Case cases[] = {
      {"single", M({1}), A({{1, 5}}), 5},
      {"three, median", M({1, 2, 3}), A({{1, 5}, {2, 3}, {3, 9}}), 5},
      {"three, one missing counts as 0", M({1, 2, 3}), A({{1, 5}, {2, 3}}), 3},
      {"four needs three", M({1, 2, 3, 4}), A({{1, 9}, {2, 8}, {3, 2}, {4, 1}}), 2},
      {"five", M({1, 2, 3, 4, 5}), A({{1, 9}, {2, 8}, {3, 7}, {4, 1}, {5, 1}}), 7},
      {"non-members ignored", M({1, 2, 3}), A({{1, 5}, {7, 100}, {8, 100}}), 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.cfg.CommittedIndex(c.acked), RaftIndex(c.want));
  }
  EXPECT_EQ(MajorityConfig().CommittedIndex({}), RaftIndex(UINT64_MAX));
}

TEST(QuorumTest, JointCommittedIndexIsTheMinimumOfBothHalves) {
  JointConfig j{.incoming = M({1, 2, 3}), .outgoing = M({3, 4, 5})};
  // incoming majority at 7 (1, 2), outgoing majority at 2 (3 and one of 4/5).
  EXPECT_EQ(j.CommittedIndex(A({{1, 7}, {2, 7}, {3, 2}, {4, 1}, {5, 2}})), RaftIndex(2));
  JointConfig simple{.incoming = M({1, 2, 3}), .outgoing = {}};
  EXPECT_EQ(simple.CommittedIndex(A({{1, 7}, {2, 7}})), RaftIndex(7));
}

TEST(QuorumTest, Votes) {
  auto V = [](std::initializer_list<std::pair<uint64_t, bool>> vs) {
    std::map<NodeId, bool> m;
    for (auto [id, v] : vs) m[NodeId(id)] = v;
    return m;
  };
  struct Case {
    const char* name;
    MajorityConfig cfg;
    std::map<NodeId, bool> votes;
    VoteResult want;
  };
  const Case cases[] = {
      {"empty config wins", MajorityConfig(), {}, VoteResult::kWon},
      {"no votes yet", M({1, 2, 3}), {}, VoteResult::kPending},
      {"two of three", M({1, 2, 3}), V({{1, true}, {2, true}}), VoteResult::kWon},
      {"one yes one no", M({1, 2, 3}), V({{1, true}, {2, false}}), VoteResult::kPending},
      {"two no", M({1, 2, 3}), V({{1, false}, {2, false}}), VoteResult::kLost},
      {"two of four pending", M({1, 2, 3, 4}), V({{1, true}, {2, true}}), VoteResult::kPending},
      {"two of four with two no lost", M({1, 2, 3, 4}),
       V({{1, true}, {2, true}, {3, false}, {4, false}}), VoteResult::kLost},
      {"outsiders do not count", M({1, 2, 3}), V({{1, true}, {8, true}, {9, true}}),
       VoteResult::kPending},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.cfg.Vote(c.votes), c.want);
  }
  JointConfig j{.incoming = M({1, 2, 3}), .outgoing = M({3, 4, 5})};
  EXPECT_EQ(j.Vote(V({{1, true}, {2, true}})), VoteResult::kPending);
  EXPECT_EQ(j.Vote(V({{1, true}, {2, true}, {3, true}})), VoteResult::kPending);
  EXPECT_EQ(j.Vote(V({{1, true}, {3, true}, {4, true}})), VoteResult::kWon);
  EXPECT_EQ(j.Vote(V({{1, true}, {2, true}, {4, false}, {5, false}})), VoteResult::kLost);
  EXPECT_EQ(j.String(), "(1 2 3)&&(3 4 5)");
}

}  // namespace
}  // namespace cl::consensus
