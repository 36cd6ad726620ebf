// The core's view of the log: unstable tail over storage (consensus/raft_log.h).
#include "consensus/raft_log.h"

#include <gtest/gtest.h>

#include "consensus/memory_storage.h"

namespace cl::consensus {
namespace {

raft::Entry E(uint64_t i, uint64_t t) {
  raft::Entry e;
  e.set_index(i);
  e.set_term(t);
  return e;
}

std::vector<uint64_t> Terms(const RaftLog& log) {
  std::vector<uint64_t> out;
  for (const auto& e : log.AllEntries()) out.push_back(e.term());
  return out;
}

TEST(RaftLogTest, FindConflict) {
  MemoryLogStorage s;
  RaftLog log(&s, UINT64_MAX);
  log.Append({E(1, 1), E(2, 2), E(3, 3)});
  struct Case {
    const char* name;
    std::vector<raft::Entry> ents;
    uint64_t want;
  };
  const Case cases[] = {
      {"no entries", {}, 0},
      {"all match", {E(1, 1), E(2, 2), E(3, 3)}, 0},
      {"match then new", {E(2, 2), E(3, 3), E(4, 4)}, 4},
      {"conflict at 2", {E(2, 9), E(3, 9)}, 2},
      {"conflict at 1", {E(1, 4), E(2, 4)}, 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(log.FindConflict(c.ents), RaftIndex(c.want));
  }
}

TEST(RaftLogTest, MaybeAppend) {
  struct Case {
    const char* name;
    uint64_t index, log_term, commit;
    std::vector<raft::Entry> ents;
    bool ok;
    std::vector<uint64_t> want_terms;
    uint64_t want_commit;
  };
  const Case cases[] = {
      {"mismatch of prev term", 3, 2, 3, {E(4, 4)}, false, {1, 2, 3}, 1},
      {"prev past the end", 4, 3, 3, {E(5, 4)}, false, {1, 2, 3}, 1},
      {"append", 3, 3, 4, {E(4, 4)}, true, {1, 2, 3, 4}, 4},
      {"commit bounded by last new", 2, 2, 9, {}, true, {1, 2, 3}, 2},
      {"replace above commit", 2, 2, 3, {E(3, 4)}, true, {1, 2, 4}, 3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    MemoryLogStorage s;
    RaftLog log(&s, UINT64_MAX);
    log.Append({E(1, 1), E(2, 2), E(3, 3)});
    log.CommitTo(RaftIndex(1));
    auto r = log.MaybeAppend(RaftIndex(c.index), RaftTerm(c.log_term), RaftIndex(c.commit), c.ents);
    EXPECT_EQ(r.has_value(), c.ok);
    EXPECT_EQ(Terms(log), c.want_terms);
    EXPECT_EQ(log.committed(), RaftIndex(c.want_commit));
  }
}

TEST(RaftLogTest, ConflictWithCommittedEntryIsFatal) {
  MemoryLogStorage s;
  RaftLog log(&s, UINT64_MAX);
  log.Append({E(1, 1), E(2, 2), E(3, 3)});
  log.CommitTo(RaftIndex(2));
  EXPECT_DEATH(log.MaybeAppend(RaftIndex(1), RaftTerm(1), RaftIndex(2), {E(2, 5)}),
               "conflicts with a committed entry");
}

TEST(RaftLogTest, CommitNeverDecreasesAndNeverPassesLast) {
  MemoryLogStorage s;
  RaftLog log(&s, UINT64_MAX);
  log.Append({E(1, 1), E(2, 1)});
  log.CommitTo(RaftIndex(2));
  log.CommitTo(RaftIndex(1));
  EXPECT_EQ(log.committed(), RaftIndex(2));
  EXPECT_DEATH(log.CommitTo(RaftIndex(3)), "commit index past the last index");
}

TEST(RaftLogTest, IsUpToDate) {
  MemoryLogStorage s;
  RaftLog log(&s, UINT64_MAX);
  log.Append({E(1, 1), E(2, 2), E(3, 3)});
  EXPECT_TRUE(log.IsUpToDate(RaftIndex(3), RaftTerm(3)));
  EXPECT_TRUE(log.IsUpToDate(RaftIndex(4), RaftTerm(3)));
  EXPECT_FALSE(log.IsUpToDate(RaftIndex(2), RaftTerm(3)));
  EXPECT_TRUE(log.IsUpToDate(RaftIndex(1), RaftTerm(4)));
  EXPECT_FALSE(log.IsUpToDate(RaftIndex(9), RaftTerm(2)));
}

TEST(RaftLogTest, StableAndUnstableParts) {
  MemoryLogStorage s;
  ASSERT_TRUE(s.Append({E(1, 1), E(2, 1)}).ok());
  RaftLog log(&s, UINT64_MAX);
  EXPECT_EQ(log.StableLastIndex(), RaftIndex(2));
  log.Append({E(3, 2), E(4, 2)});
  EXPECT_EQ(log.UnstableEntries().size(), 2u);
  EXPECT_EQ(log.StableLastIndex(), RaftIndex(2));
  ASSERT_TRUE(s.Append(log.UnstableEntries()).ok());
  log.StableTo(RaftIndex(4), RaftTerm(2));
  EXPECT_TRUE(log.UnstableEntries().empty());
  EXPECT_EQ(log.StableLastIndex(), RaftIndex(4));
  // A stale acknowledgement (term no longer matching) is ignored.
  log.Append({E(4, 3)});
  log.StableTo(RaftIndex(4), RaftTerm(2));
  EXPECT_EQ(log.UnstableEntries().size(), 1u);
  EXPECT_EQ(Terms(log), (std::vector<uint64_t>{1, 1, 2, 3}));
}

TEST(RaftLogTest, SliceAcrossStorageAndUnstableWithSizeLimit) {
  MemoryLogStorage s;
  ASSERT_TRUE(s.Append({E(1, 1), E(2, 1)}).ok());
  RaftLog log(&s, UINT64_MAX);
  log.Append({E(3, 1), E(4, 1)});
  auto all = log.Slice(RaftIndex(1), RaftIndex(5), UINT64_MAX);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4u);
  auto limited = log.Slice(RaftIndex(2), RaftIndex(5), 2 * E(1, 1).ByteSizeLong());
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 2u);
  ASSERT_TRUE(s.Compact(RaftIndex(2)).ok());
  EXPECT_EQ(log.Slice(RaftIndex(1), RaftIndex(3), UINT64_MAX).status().code(), Code::kCompacted);
}

TEST(RaftLogTest, RestoreFromSnapshot) {
  MemoryLogStorage s;
  RaftLog log(&s, UINT64_MAX);
  log.Append({E(1, 1)});
  raft::Snapshot snap;
  snap.mutable_metadata()->set_index(10);
  snap.mutable_metadata()->set_term(4);
  log.Restore(snap);
  EXPECT_EQ(log.committed(), RaftIndex(10));
  EXPECT_EQ(log.LastIndex(), RaftIndex(10));
  EXPECT_EQ(log.FirstIndex(), RaftIndex(11));
  EXPECT_EQ(*log.Term(RaftIndex(10)), RaftTerm(4));
  EXPECT_TRUE(log.HasPendingSnapshot());
  EXPECT_TRUE(log.NextCommittedEntries().empty());
}

}  // namespace
}  // namespace cl::consensus
