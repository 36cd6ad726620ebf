#include "node/waiters.h"

#include <gtest/gtest.h>

#include "crypto/suite.h"

namespace cl::node {
namespace {

crypto::Digest Id(int n) {
  crypto::Digest d;
  d.bytes[0] = static_cast<unsigned char>(n);
  return d;
}

TEST(TxWaitersTest, ResolvesEveryWaiterOfATxOnce) {
  TxWaiters w;
  const auto later = TxWaiters::Clock::now() + std::chrono::seconds(60);
  int calls = 0;
  Height seen;
  for (int i = 0; i < 2; ++i)
    ASSERT_TRUE(w.Register(Id(1), later, [&](Result<TxOutcome> r) {
                   ASSERT_TRUE(r.ok());
                   seen = r->height;
                   ++calls;
                 }).ok());
  ASSERT_TRUE(w.Register(Id(2), later, [&](Result<TxOutcome>) { FAIL() << "other tx"; }).ok());
  w.Resolve(Id(1), TxOutcome{.height = Height(5), .position = 0, .receipt = "r"});
  w.Resolve(Id(1), TxOutcome{.height = Height(6), .position = 0, .receipt = {}});  // nobody left
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(seen, Height(5));
  EXPECT_EQ(w.size(), 1u);
}

TEST(TxWaitersTest, DeadlinesCancelAndBound) {
  TxWaiters w(2);
  const auto now = TxWaiters::Clock::now();
  Code got = Code::kOk;
  ASSERT_TRUE(w.Register(Id(1), now, [&](Result<TxOutcome> r) { got = r.status().code(); }).ok());
  auto h = w.Register(Id(2), now + std::chrono::hours(1), [&](Result<TxOutcome>) { FAIL(); });
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(w.Register(Id(3), now, [](Result<TxOutcome>) {}).status().code(),
            Code::kResourceExhausted);
  w.Sweep(now);
  EXPECT_EQ(got, Code::kDeadlineExceeded);
  w.Cancel(Id(2), *h);
  EXPECT_EQ(w.size(), 0u);
  w.Resolve(Id(2), TxOutcome{});
}

TEST(TxWaitersTest, PendingListsEachWaitedTxOnceUntilResolved) {
  TxWaiters w;
  const auto later = TxWaiters::Clock::now() + std::chrono::seconds(10);
  int called = 0;
  ASSERT_TRUE(w.Register(Id(1), later, [&](Result<TxOutcome>) { ++called; }).ok());
  ASSERT_TRUE(w.Register(Id(1), later, [&](Result<TxOutcome>) { ++called; }).ok());
  ASSERT_TRUE(w.Register(Id(2), later, [&](Result<TxOutcome>) { ++called; }).ok());
  EXPECT_EQ(w.Pending(), (std::vector<crypto::Digest>{Id(1), Id(2)}));
  w.Resolve(Id(1), TxOutcome{});
  EXPECT_EQ(called, 2);
  EXPECT_EQ(w.Pending(), (std::vector<crypto::Digest>{Id(2)}));
  w.Sweep(TxWaiters::Clock::now(), /*shutting_down=*/true);
  EXPECT_TRUE(w.Pending().empty());
}

TEST(TxWaitersTest, ShutdownFailsEveryone) {
  TxWaiters w;
  Code got = Code::kOk;
  ASSERT_TRUE(w.Register(Id(1), TxWaiters::Clock::now() + std::chrono::hours(1),
                         [&](Result<TxOutcome> r) { got = r.status().code(); }).ok());
  w.Sweep(TxWaiters::Clock::now(), /*shutting_down=*/true);
  EXPECT_EQ(got, Code::kUnavailable);
}

TEST(BlockNotifierTest, PublishesToCurrentSubscribers) {
  BlockNotifier n;
  Height a, b;
  const uint64_t ida = n.Subscribe([&](Height h) { a = h; });
  n.Subscribe([&](Height h) { b = h; });
  n.Publish(Height(3));
  n.Unsubscribe(ida);
  n.Publish(Height(4));
  EXPECT_EQ(a, Height(3));
  EXPECT_EQ(b, Height(4));
  EXPECT_EQ(n.subscribers(), 1u);
}

}  // namespace
}  // namespace cl::node
