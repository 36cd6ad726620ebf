// The simulator catches real bugs: each classic raft bug, switched on through
// TestingBugs, must make some seed fail within a bounded number of seeds, and
// the same seeds must pass without the bug.
#include <gtest/gtest.h>

#include <string>

#include "consensus/sim/simulator.h"
#include "tests/consensus/sim/sim_test_util.h"

namespace cl::consensus::sim {
namespace {

constexpr uint64_t kMaxSeeds = 500;

class BugTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BugTest, CaughtWithinBoundedSeedsAndAbsentWithoutTheBug) {
  const std::string bug = GetParam();
  uint64_t caught = 0;
  SimResult failure;
  for (uint64_t seed = 1; seed <= kMaxSeeds && caught == 0; ++seed) {
    SimResult r = RunSimulation({.seed = seed, .nodes = NodesForSeed(seed), .bug = bug});
    if (!r.ok) {
      caught = seed;
      failure = std::move(r);
    }
  }
  ASSERT_NE(caught, 0u) << bug << " was not caught within " << kMaxSeeds << " seeds";
  std::cout << bug << " caught at seed " << caught << ": " << failure.failure << "\n";
  EXPECT_TRUE(failure.failure.starts_with("invariant violated") ||
              failure.failure.starts_with("liveness"))
      << failure.failure;
  for (uint64_t seed = 1; seed <= caught; ++seed) {
    const SimOptions options{.seed = seed, .nodes = NodesForSeed(seed)};
    const SimResult r = RunSimulation(options);
    ASSERT_TRUE(r.ok) << "without the bug: " << FailureReport(options, r);
  }
}

INSTANTIATE_TEST_SUITE_P(Bugs, BugTest, ::testing::ValuesIn(BugNames()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           return param.param;
                         });

}  // namespace
}  // namespace cl::consensus::sim
