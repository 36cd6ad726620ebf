#include "node/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>

namespace cl::node {
namespace {

TEST(WorkerPoolTest, RunsEveryIndexExactlyOnce) {
  for (size_t threads : {0, 1, 3}) {
    WorkerPool pool(threads);
    for (size_t n : {0, 1, 2, 100, 1000}) {
      std::vector<std::atomic<int>> hits(n);
      pool.ParallelFor(n, [&](size_t i) { hits[i].fetch_add(1); });
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << threads << " " << n << " " << i;
    }
  }
}

TEST(WorkerPoolTest, ReusableAcrossManyRounds) {
  WorkerPool pool(2);
  std::atomic<uint64_t> sum{0};
  for (int round = 0; round < 500; ++round)
    pool.ParallelFor(17, [&](size_t i) { sum.fetch_add(i); });
  EXPECT_EQ(sum.load(), 500u * (16 * 17 / 2));
}

}  // namespace
}  // namespace cl::node
