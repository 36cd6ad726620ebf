// The simulated disk: writes are volatile until synced, and a crash loses them.
#include "consensus/sim/disk.h"

#include <gtest/gtest.h>

namespace cl::consensus::sim {
namespace {

raft::Entry E(uint64_t index, uint64_t term) {
  raft::Entry e;
  e.set_index(index);
  e.set_term(term);
  return e;
}

raft::HardState HS(uint64_t term, uint64_t vote, uint64_t commit) {
  raft::HardState hs;
  hs.set_term(term);
  hs.set_vote(vote);
  hs.set_commit(commit);
  return hs;
}

TEST(SimDiskTest, WritesAreInvisibleUntilSynced) {
  SimDisk d;
  d.WriteEntries({E(1, 1), E(2, 1)});
  d.WriteHardState(HS(1, 1, 0));
  EXPECT_TRUE(d.HasPending());
  EXPECT_EQ(*d.storage().LastIndex(), RaftIndex(0));
  EXPECT_EQ(d.storage().GetInitialState()->hard_state.term(), 0u);
  ASSERT_TRUE(d.Sync().ok());
  EXPECT_FALSE(d.HasPending());
  EXPECT_EQ(*d.storage().LastIndex(), RaftIndex(2));
  EXPECT_EQ(d.storage().GetInitialState()->hard_state.vote(), 1u);
}

TEST(SimDiskTest, CrashLosesOnlyUnsyncedWrites) {
  SimDisk d;
  d.WriteEntries({E(1, 1)});
  d.WriteHardState(HS(1, 1, 1));
  ASSERT_TRUE(d.Sync().ok());
  d.WriteEntries({E(2, 2)});
  d.WriteHardState(HS(2, 2, 1));
  d.Crash();
  EXPECT_FALSE(d.HasPending());
  ASSERT_TRUE(d.Sync().ok());  // nothing left to sync
  EXPECT_EQ(*d.storage().LastIndex(), RaftIndex(1));
  EXPECT_EQ(d.storage().GetInitialState()->hard_state.term(), 1u);
}

TEST(SimDiskTest, SyncAppliesWritesInOrder) {
  SimDisk d;
  d.WriteEntries({E(1, 1), E(2, 1), E(3, 1)});
  d.WriteEntries({E(2, 2)});  // replaces the suffix from 2
  raft::Snapshot snap;
  snap.mutable_metadata()->set_index(5);
  snap.mutable_metadata()->set_term(3);
  ASSERT_TRUE(d.Sync().ok());
  EXPECT_EQ(*d.storage().LastIndex(), RaftIndex(2));
  EXPECT_EQ(*d.storage().Term(RaftIndex(2)), RaftTerm(2));
  d.WriteSnapshot(snap);
  d.WriteEntries({E(6, 3)});
  ASSERT_TRUE(d.Sync().ok());
  EXPECT_EQ(*d.storage().FirstIndex(), RaftIndex(6));
  EXPECT_EQ(*d.storage().LastIndex(), RaftIndex(6));
}

TEST(SimDiskTest, AnInvalidWriteFailsTheSync) {
  SimDisk d;
  d.WriteEntries({E(3, 1)});  // a gap after the empty log
  EXPECT_FALSE(d.Sync().ok());
}

}  // namespace
}  // namespace cl::consensus::sim
