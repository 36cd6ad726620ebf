// Fault injection: the same workload and invariants as the crash test, in
// process, on a file system that drops (or tears) every unsynced write at a
// "crash"; and the sticky error after a failed write.
#include <chrono>
#include <cstdlib>

#include <gtest/gtest.h>

#include "tests/storage/fault_fs.h"
#include "tests/storage/test_util.h"

namespace cl::storage::testing {
namespace {

uint64_t Seed() {
  if (const char* s = std::getenv("CL_CRASH_SEED")) return std::strtoull(s, nullptr, 10);
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

TEST(StorageFaultTest, DroppedUnsyncedWritesLoseNothingAcknowledged) {
  const uint64_t seed = Seed();
  std::printf("fault test seed %llu (replay with CL_CRASH_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  TempDir dir;
  const std::string db = dir.Sub("db");
  MustOpen(db);  // created outside the fault file system
  FaultEnv fault;
  LogModel model;
  size_t dropped = 0;
  for (int round = 0; round < 40; ++round) {
    SCOPED_TRACE("round " + std::to_string(round) + ", seed " + std::to_string(seed));
    const bool durable = round % 2 == 0;
    StoreOptions o = TestOptions();
    o.env = fault.env.get();
    o.sync_applies = durable;
    {
      auto store = Store::Open(db, o);
      ASSERT_TRUE(store.ok()) << store.status();
      Status check = CheckStore(**store, &model);
      ASSERT_TRUE(check.ok()) << check;
      CrashWorkload work(**store, rng(), [&](const std::string& l) { model.Consume(l); }, durable);
      const int steps = 10 + static_cast<int>(rng() % 120);
      for (int i = 0; i < steps; ++i) {
        Status s = work.Step();
        ASSERT_TRUE(s.ok()) << s;
      }
      fault.fs->SetActive(false);  // the power goes out: nothing more reaches the disk
    }
    dropped += fault.fs->Crash(&rng, /*torn_tails=*/round % 3 == 0);
    fault.fs->SetActive(true);
  }
  auto store = MustOpen(db);
  Status check = CheckStore(*store, &model);
  EXPECT_TRUE(check.ok()) << check;
  EXPECT_GT(dropped, 0u) << "no unsynced data was ever dropped: the test tested nothing";
  EXPECT_GT(store->blocks().latest_height(), Height(20));
}

TEST(StorageFaultTest, FailedWriteMakesTheStoreRefuseWrites) {
  TempDir dir;
  const std::string db = dir.Sub("db");
  MustOpen(db);
  FaultEnv fault;
  StoreOptions o = TestOptions();
  o.env = fault.env.get();
  {
    auto store = MustOpen(db, o);
    ASSERT_TRUE(store->raft_log().Append(MakeEntries(1, 2, 1), true).ok());
    fault.fs->SetActive(false);
    EXPECT_FALSE(store->raft_log().Append(MakeEntries(3, 3, 1), true).ok());
    fault.fs->SetActive(true);  // the disk "comes back": the store must not trust it
    EXPECT_FALSE(store->write_error().ok());
    Status again = store->raft_log().Append(MakeEntries(3, 3, 1), true);
    EXPECT_FALSE(again.ok());
    EXPECT_NE(again.message().find("refuses writes"), std::string::npos) << again;
    EXPECT_FALSE(store->ApplyNonBlock(RaftIndex(1), nullptr).ok());
    EXPECT_FALSE(store->SetGenesis("g").ok());
    EXPECT_EQ(store->applied_index(), RaftIndex(0));
  }
  // A restart finds what was acknowledged.
  auto store = MustOpen(db);
  EXPECT_GE(*store->raft_log().LastIndex(), RaftIndex(2));
}

}  // namespace
}  // namespace cl::storage::testing
