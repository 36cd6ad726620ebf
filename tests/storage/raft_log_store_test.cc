// RaftLogStore: the LogStorage contract (etcd Storage semantics) on RocksDB.
#include <gtest/gtest.h>

#include "tests/storage/test_util.h"

namespace cl::storage::testing {
namespace {

std::vector<uint64_t> Indexes(const std::vector<raft::Entry>& es) {
  std::vector<uint64_t> out;
  for (const auto& e : es) out.push_back(e.index());
  return out;
}

// A store with entries 1..10 (term 1, entries 6..10 term 2), applied to 7,
// compacted to 3.
std::unique_ptr<Store> Prepared(const std::string& path) {
  auto store = MustOpen(path);
  EXPECT_TRUE(store->raft_log().Append(MakeEntries(1, 5, 1), true).ok());
  EXPECT_TRUE(store->raft_log().Append(MakeEntries(6, 10, 2), true).ok());
  for (uint64_t i = 1; i <= 7; ++i) { EXPECT_TRUE(store->ApplyNonBlock(RaftIndex(i), nullptr).ok()); }
  EXPECT_TRUE(store->raft_log().Compact(RaftIndex(3)).ok());
  return store;
}

TEST(RaftLogStoreTest, BoundsAndTermsAfterCompaction) {
  TempDir dir;
  auto store = Prepared(dir.Sub("db"));
  auto& log = store->raft_log();
  EXPECT_EQ(*log.FirstIndex(), RaftIndex(4));
  EXPECT_EQ(*log.LastIndex(), RaftIndex(10));
  struct Case {
    uint64_t index;
    Code code;
    uint64_t term;
  };
  std::vector<Case> cases = {{2, Code::kCompacted, 0},      {3, Code::kOk, 1},  // kept at compaction
                             {4, Code::kOk, 1},             {6, Code::kOk, 2},
                             {10, Code::kOk, 2},            {11, Code::kLogUnavailable, 0}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.index);
    auto t = log.Term(RaftIndex(c.index));
    EXPECT_EQ(t.status().code(), c.code);
    if (t.ok()) { EXPECT_EQ(t->value(), c.term); }
  }
}

TEST(RaftLogStoreTest, EntriesRangesLimitsAndErrors) {
  TempDir dir;
  auto store = Prepared(dir.Sub("db"));
  auto& log = store->raft_log();
  const uint64_t one = MakeEntry(4, 1).ByteSizeLong();
  struct Case {
    std::string name;
    uint64_t lo, hi, max_bytes;
    Code code;
    std::vector<uint64_t> want;
  };
  std::vector<Case> cases = {
      {"all", 4, 11, UINT64_MAX, Code::kOk, {4, 5, 6, 7, 8, 9, 10}},
      {"middle", 5, 7, UINT64_MAX, Code::kOk, {5, 6}},
      {"empty range", 6, 6, UINT64_MAX, Code::kOk, {}},
      {"at least one entry", 4, 11, 0, Code::kOk, {4}},
      {"byte limit", 4, 11, one * 3, Code::kOk, {4, 5, 6}},
      {"byte limit not exact", 4, 11, one * 3 - 1, Code::kOk, {4, 5}},
      {"compacted", 3, 5, UINT64_MAX, Code::kCompacted, {}},
      {"past the end", 9, 12, UINT64_MAX, Code::kLogUnavailable, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = log.Entries(RaftIndex(c.lo), RaftIndex(c.hi), c.max_bytes);
    EXPECT_EQ(r.status().code(), c.code) << r.status();
    if (r.ok()) {
      EXPECT_EQ(Indexes(*r), c.want);
      for (const auto& e : *r) { EXPECT_EQ(e.data(), EntryData(e.index(), e.term())); }
    }
  }
}

TEST(RaftLogStoreTest, AppendReplacesAConflictingSuffix) {
  TempDir dir;
  auto store = Prepared(dir.Sub("db"));
  auto& log = store->raft_log();
  ASSERT_TRUE(log.Append(MakeEntries(8, 9, 3), true).ok());  // Raft §5.3: 10 goes away
  EXPECT_EQ(*log.LastIndex(), RaftIndex(9));
  EXPECT_EQ(log.Term(RaftIndex(8))->value(), 3u);
  EXPECT_EQ(log.Term(RaftIndex(7))->value(), 2u);
  EXPECT_EQ(log.Term(RaftIndex(10)).status().code(), Code::kLogUnavailable);
  // Entries at or below the compaction point are skipped, the rest kept.
  ASSERT_TRUE(log.Append(MakeEntries(2, 5, 1), true).ok());
  EXPECT_EQ(*log.LastIndex(), RaftIndex(5));
  EXPECT_EQ(*log.FirstIndex(), RaftIndex(4));
}

TEST(RaftLogStoreTest, AppendRejectsGapsAndHoles) {
  TempDir dir;
  auto store = Prepared(dir.Sub("db"));
  auto& log = store->raft_log();
  std::vector<raft::Entry> holey = {MakeEntry(11, 2), MakeEntry(13, 2)};
  struct Case {
    std::string name;
    std::vector<raft::Entry> entries;
  };
  std::vector<Case> cases = {{"starts past last + 1", MakeEntries(12, 13, 2)},
                             {"not contiguous", holey},
                             {"index zero", {MakeEntry(0, 2)}}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(log.Append(c.entries, true).code(), Code::kInvalidArgument);
    EXPECT_EQ(*log.LastIndex(), RaftIndex(10));
  }
  EXPECT_TRUE(log.Append({}, true).ok());
}

TEST(RaftLogStoreTest, CompactErrors) {
  TempDir dir;
  auto store = Prepared(dir.Sub("db"));
  auto& log = store->raft_log();
  EXPECT_EQ(log.Compact(RaftIndex(3)).code(), Code::kCompacted);
  EXPECT_EQ(log.Compact(RaftIndex(2)).code(), Code::kCompacted);
  EXPECT_EQ(log.Compact(RaftIndex(8)).code(), Code::kFailedPrecondition);  // not applied
  EXPECT_TRUE(log.Compact(RaftIndex(7)).ok());
  EXPECT_EQ(*log.FirstIndex(), RaftIndex(8));
  EXPECT_EQ(log.Term(RaftIndex(7))->value(), 2u);
}

TEST(RaftLogStoreTest, StateAndLogSurviveReopen) {
  TempDir dir;
  {
    auto store = Prepared(dir.Sub("db"));
    raft::HardState hs;
    hs.set_term(2);
    hs.set_vote(3);
    hs.set_commit(7);
    ASSERT_TRUE(store->raft_log().SetHardState(hs, true).ok());
    ASSERT_TRUE(store->raft_log().Persist(&hs, MakeEntries(11, 12, 2), true).ok());
  }
  auto store = MustOpen(dir.Sub("db"));
  auto& log = store->raft_log();
  auto init = log.GetInitialState();
  ASSERT_TRUE(init.ok());
  EXPECT_EQ(init->hard_state.term(), 2u);
  EXPECT_EQ(init->hard_state.vote(), 3u);
  EXPECT_EQ(init->hard_state.commit(), 7u);
  EXPECT_EQ(*log.FirstIndex(), RaftIndex(4));
  EXPECT_EQ(*log.LastIndex(), RaftIndex(12));
  EXPECT_EQ(log.Term(RaftIndex(3))->value(), 1u);
  EXPECT_EQ(store->applied_index(), RaftIndex(7));
}

TEST(RaftLogStoreTest, SnapshotMetadataFollowsCheckpointsAndCompaction) {
  TempDir dir;
  auto store = MustOpen(dir.Sub("db"));
  auto& log = store->raft_log();
  auto empty = log.Snapshot();
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->metadata().index(), 0u);
  ASSERT_TRUE(log.Append(MakeEntries(1, 6, 1), true).ok());
  for (uint64_t i = 1; i <= 6; ++i) { ASSERT_TRUE(store->ApplyNonBlock(RaftIndex(i), nullptr).ok()); }
  ASSERT_TRUE(log.Compact(RaftIndex(2)).ok());
  EXPECT_EQ(log.Snapshot().status().code(), Code::kLogUnavailable);  // no snapshot covers 1..2
  auto meta = store->CreateCheckpoint(dir.Sub("cp"));
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->index(), 6u);
  EXPECT_EQ(meta->term(), 1u);
  auto snap = log.Snapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->metadata().index(), 6u);
  EXPECT_TRUE(snap->data().empty());
}

}  // namespace
}  // namespace cl::storage::testing
