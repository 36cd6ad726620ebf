// The raft simulator over thousands of seeds (3, 5 and 7 nodes): every
// safety invariant after every step, liveness after the faults heal, and a
// seed replays byte for byte.
#include "consensus/sim/simulator.h"

#include <gtest/gtest.h>

#include "tests/consensus/sim/sim_test_util.h"

namespace cl::consensus::sim {
namespace {

// 8 chunks, so `ctest -j2` spreads them over both cores. The sanitizer build
// (Debug, ASan+UBSan) is several times slower and runs fewer seeds.
constexpr int kChunks = 8;
#ifdef CL_SANITIZE
constexpr uint64_t kSeedsPerChunk = 40;  // 320 seeds
#else
constexpr uint64_t kSeedsPerChunk = 250;  // 2,000 seeds
#endif

class SeedChunkTest : public ::testing::TestWithParam<int> {};

TEST_P(SeedChunkTest, EverySeedKeepsEveryInvariantAndConverges) {
  const uint64_t first = 1 + static_cast<uint64_t>(GetParam()) * kSeedsPerChunk;
  uint64_t committed = 0, acknowledged = 0, crashes = 0, conf_changes = 0, snapshots = 0;
  int sizes_seen[8] = {};
  for (uint64_t seed = first; seed < first + kSeedsPerChunk; ++seed) {
    const SimOptions options{.seed = seed, .nodes = NodesForSeed(seed)};
    const SimResult r = RunSimulation(options);
    ASSERT_TRUE(r.ok) << FailureReport(options, r);
    committed += r.committed;
    acknowledged += r.acknowledged;
    crashes += r.crashes;
    conf_changes += r.conf_changes;
    snapshots += r.snapshots_installed;
    ++sizes_seen[options.nodes];
  }
  // The runs did real work under real faults (not a hollow pass).
  EXPECT_GT(committed, 10 * kSeedsPerChunk);
  EXPECT_GT(acknowledged, 5 * kSeedsPerChunk);
  EXPECT_GT(crashes, kSeedsPerChunk / 2);
  EXPECT_GT(conf_changes, kSeedsPerChunk / 4);
  EXPECT_GT(snapshots, 0u);
  EXPECT_GT(sizes_seen[3], 0);
  EXPECT_GT(sizes_seen[5], 0);
  EXPECT_GT(sizes_seen[7], 0);
}

INSTANTIATE_TEST_SUITE_P(Seeds, SeedChunkTest, ::testing::Range(0, kChunks));

TEST(SimulatorTest, SameSeedGivesTheSameTraceByteForByte) {
  for (uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE(seed);
    const SimOptions options{.seed = seed, .nodes = NodesForSeed(seed), .trace = true};
    const SimResult a = RunSimulation(options);
    const SimResult b = RunSimulation(options);
    ASSERT_TRUE(a.ok) << a.failure;
    ASSERT_GT(a.trace.size(), 100u);
    EXPECT_EQ(a.trace, b.trace);
    EXPECT_EQ(a.steps, b.steps);
    const SimResult other =
        RunSimulation({.seed = seed + 100, .nodes = options.nodes, .trace = true});
    EXPECT_NE(a.trace, other.trace);
  }
}

TEST(SimulatorTest, TracingDoesNotChangeTheRun) {
  const SimOptions quiet{.seed = 5, .nodes = 5};
  SimOptions traced = quiet;
  traced.trace = true;
  const SimResult a = RunSimulation(quiet);
  const SimResult b = RunSimulation(traced);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_EQ(a.committed, b.committed);
  EXPECT_TRUE(a.trace.empty());
}

TEST(SimulatorTest, ReplayCommandNamesTheRun) {
  EXPECT_EQ(
      ReplayCommand({.seed = 42, .nodes = 5, .bug = "vote_without_log_check"}),
      "build/bin/raftsim --seeds 1 --start 42 --nodes 5 --bug vote_without_log_check --trace");
}

TEST(SimulatorTest, BugNames) {
  struct Case {
    const char* name;
    bool TestingBugs::*field;
  };
  const Case cases[] = {
      {"commit_previous_term_by_counting", &TestingBugs::commit_previous_term_by_counting},
      {"vote_without_log_check", &TestingBugs::vote_without_log_check},
      {"truncate_on_stale_append", &TestingBugs::truncate_on_stale_append},
      {"count_learner_in_quorum", &TestingBugs::count_learner_in_quorum},
      {"respond_before_persist", &TestingBugs::respond_before_persist},
  };
  EXPECT_EQ(BugNames().size(), std::size(cases));
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TestingBugs bugs;
    ASSERT_TRUE(EnableBug(c.name, &bugs).ok());
    EXPECT_TRUE(bugs.*c.field);
  }
  TestingBugs bugs;
  EXPECT_EQ(EnableBug("no_such_bug", &bugs).code(), Code::kInvalidArgument);
  EXPECT_FALSE(bugs.any());
}

}  // namespace
}  // namespace cl::consensus::sim
