// The simulated network: drops, duplicates, delays/reordering and partitions,
// all reproducible from the seed.
#include "consensus/sim/network.h"

#include <gtest/gtest.h>

#include <vector>

namespace cl::consensus::sim {
namespace {

raft::Message Msg(uint64_t from, uint64_t to, uint64_t tag) {
  raft::Message m;
  m.set_type(raft::MSG_HEARTBEAT);
  m.set_from(from);
  m.set_to(to);
  m.set_commit(tag);  // identifies the message in the tests
  return m;
}

// Delivers everything, returning the tags in delivery order.
std::vector<uint64_t> DrainTags(Network& net) {
  std::vector<uint64_t> tags;
  for (uint64_t t = 0; t < 10000 && net.InFlight() > 0; ++t) {
    while (auto m = net.PopDue(t)) tags.push_back(m->commit());
  }
  return tags;
}

TEST(NetworkTest, RatesAndCopies) {
  struct Case {
    const char* name;
    NetworkOptions options;
    size_t want_delivered;  // of 100 sent
  };
  const Case cases[] = {
      {"reliable",
       {.drop_per_million = 0, .duplicate_per_million = 0, .min_delay = 1, .max_delay = 1},
       100},
      {"drops everything",
       {.drop_per_million = 1000000, .duplicate_per_million = 0, .min_delay = 1, .max_delay = 3},
       0},
      {"duplicates everything",
       {.drop_per_million = 0, .duplicate_per_million = 1000000, .min_delay = 1, .max_delay = 3},
       200},
      {"drop wins over duplicate",
       {.drop_per_million = 1000000,
        .duplicate_per_million = 1000000,
        .min_delay = 1,
        .max_delay = 3},
       0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Rng rng(7);
    Network net(&rng);
    net.SetOptions(c.options);
    for (uint64_t i = 0; i < 100; ++i) net.Send(0, Msg(1, 2, i));
    EXPECT_EQ(DrainTags(net).size(), c.want_delivered);
  }
}

TEST(NetworkTest, PartialDropRateIsRoughlyRight) {
  Rng rng(11);
  Network net(&rng);
  net.SetOptions(
      {.drop_per_million = 200000, .duplicate_per_million = 0, .min_delay = 1, .max_delay = 2});
  int dropped = 0;
  for (uint64_t i = 0; i < 10000; ++i) dropped += net.Send(0, Msg(1, 2, i)).dropped ? 1 : 0;
  EXPECT_GT(dropped, 1700);
  EXPECT_LT(dropped, 2300);
}

TEST(NetworkTest, DelaysStayInRangeAndNothingArrivesEarly) {
  Rng rng(3);
  Network net(&rng);
  net.SetOptions(
      {.drop_per_million = 0, .duplicate_per_million = 0, .min_delay = 5, .max_delay = 9});
  for (uint64_t i = 0; i < 50; ++i) net.Send(100, Msg(1, 2, i));
  EXPECT_FALSE(net.PopDue(104).has_value());
  EXPECT_GE(*net.NextDeliveryTime(), 105u);
  size_t got = 0;
  while (net.PopDue(109)) ++got;
  EXPECT_EQ(got, 50u);
}

TEST(NetworkTest, SpreadDelaysReorderMessages) {
  Rng rng(5);
  Network net(&rng);
  net.SetOptions(
      {.drop_per_million = 0, .duplicate_per_million = 0, .min_delay = 1, .max_delay = 40});
  for (uint64_t i = 0; i < 100; ++i) net.Send(0, Msg(1, 2, i));
  const std::vector<uint64_t> tags = DrainTags(net);
  ASSERT_EQ(tags.size(), 100u);
  EXPECT_FALSE(std::is_sorted(tags.begin(), tags.end()));
}

TEST(NetworkTest, EqualDelaysKeepSendOrder) {
  Rng rng(5);
  Network net(&rng);
  net.SetOptions(
      {.drop_per_million = 0, .duplicate_per_million = 0, .min_delay = 2, .max_delay = 2});
  for (uint64_t i = 0; i < 20; ++i) net.Send(0, Msg(1, 2, i));
  const std::vector<uint64_t> tags = DrainTags(net);
  EXPECT_TRUE(std::is_sorted(tags.begin(), tags.end()));
}

TEST(NetworkTest, SameSeedSameSchedule) {
  auto run = [](uint64_t seed) {
    Rng rng(seed);
    Network net(&rng);
    net.SetOptions({.drop_per_million = 100000,
                    .duplicate_per_million = 100000,
                    .min_delay = 1,
                    .max_delay = 30});
    for (uint64_t i = 0; i < 200; ++i) net.Send(i, Msg(1 + i % 3, 1 + (i + 1) % 3, i));
    return DrainTags(net);
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

TEST(NetworkTest, Partitions) {
  const NodeId n1(1), n2(2), n3(3);
  struct Case {
    const char* name;
    void (*make)(Network&);
    bool blocked_12, blocked_21, blocked_13, blocked_31;
  };
  const Case cases[] = {
      {"none", [](Network&) {}, false, false, false, false},
      {"symmetric {1} | {2,3}",
       [](Network& n) {
         n.PartitionSymmetric({NodeId(1)}, {NodeId(2), NodeId(3)});
       },
       true, true, true, true},
      {"one-way {1} -/-> {2}", [](Network& n) { n.PartitionOneWay({NodeId(1)}, {NodeId(2)}); },
       true, false, false, false},
      {"healed",
       [](Network& n) {
         n.PartitionSymmetric({NodeId(1)}, {NodeId(2), NodeId(3)});
         n.HealAll();
       },
       false, false, false, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Rng rng(1);
    Network net(&rng);
    c.make(net);
    EXPECT_EQ(net.Blocked(n1, n2), c.blocked_12);
    EXPECT_EQ(net.Blocked(n2, n1), c.blocked_21);
    EXPECT_EQ(net.Blocked(n1, n3), c.blocked_13);
    EXPECT_EQ(net.Blocked(n3, n1), c.blocked_31);
    EXPECT_FALSE(net.Blocked(n2, n3));
  }
}

}  // namespace
}  // namespace cl::consensus::sim
