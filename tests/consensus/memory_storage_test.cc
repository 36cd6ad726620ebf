// MemoryLogStorage: the LogStorage contract (log_storage.h) on the in-memory fake.
#include "consensus/memory_storage.h"

#include <gtest/gtest.h>

namespace cl::consensus {
namespace {

raft::Entry E(uint64_t index, uint64_t term, std::string data = "") {
  raft::Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_data(std::move(data));
  return e;
}

// A storage holding a snapshot at 3 (term 3) and entries 4..5 (terms 4, 5),
// the same fixture etcd's storage tests use.
MemoryLogStorage Make345() {
  MemoryLogStorage s;
  raft::Snapshot snap;
  snap.mutable_metadata()->set_index(3);
  snap.mutable_metadata()->set_term(3);
  EXPECT_TRUE(s.ApplySnapshot(snap).ok());
  EXPECT_TRUE(s.Append({E(4, 4), E(5, 5)}).ok());
  return s;
}

TEST(MemoryStorageTest, EmptyHasDummyAtZero) {
  MemoryLogStorage s;
  EXPECT_EQ(*s.FirstIndex(), RaftIndex(1));
  EXPECT_EQ(*s.LastIndex(), RaftIndex(0));
  EXPECT_EQ(*s.Term(RaftIndex(0)), RaftTerm(0));
  EXPECT_EQ(s.Term(RaftIndex(1)).status().code(), Code::kLogUnavailable);
}

TEST(MemoryStorageTest, Term) {
  struct Case {
    const char* name;
    uint64_t i;
    Code code;
    uint64_t term;
  };
  const Case cases[] = {
      {"below snapshot", 2, Code::kCompacted, 0},
      {"snapshot index keeps its term", 3, Code::kOk, 3},
      {"first entry", 4, Code::kOk, 4},
      {"last entry", 5, Code::kOk, 5},
      {"past last", 6, Code::kLogUnavailable, 0},
  };
  MemoryLogStorage s = Make345();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto t = s.Term(RaftIndex(c.i));
    EXPECT_EQ(t.status().code(), c.code);
    if (t.ok()) {
      EXPECT_EQ(*t, RaftTerm(c.term));
    }
  }
}

TEST(MemoryStorageTest, EntriesRangeAndSizeLimit) {
  MemoryLogStorage s = Make345();
  ASSERT_TRUE(s.Append({E(6, 6, "x"), E(7, 6, "y")}).ok());
  const uint64_t one = E(4, 4).ByteSizeLong();
  struct Case {
    const char* name;
    uint64_t lo, hi, max_bytes;
    Code code;
    size_t n;
  };
  const Case cases[] = {
      {"compacted lo", 2, 6, UINT64_MAX, Code::kCompacted, 0},
      {"lo at snapshot", 3, 4, UINT64_MAX, Code::kCompacted, 0},
      {"hi past last+1", 4, 9, UINT64_MAX, Code::kLogUnavailable, 0},
      {"empty range", 5, 5, UINT64_MAX, Code::kOk, 0},
      {"all", 4, 8, UINT64_MAX, Code::kOk, 4},
      {"limit zero still returns one", 4, 8, 0, Code::kOk, 1},
      {"limit exactly two", 4, 8, 2 * one, Code::kOk, 2},
      {"limit just under two", 4, 8, 2 * one - 1, Code::kOk, 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = s.Entries(RaftIndex(c.lo), RaftIndex(c.hi), c.max_bytes);
    EXPECT_EQ(r.status().code(), c.code);
    if (r.ok()) {
      ASSERT_EQ(r->size(), c.n);
      for (size_t k = 0; k < r->size(); ++k) EXPECT_EQ((*r)[k].index(), c.lo + k);
    }
  }
}

TEST(MemoryStorageTest, AppendReplacesConflictingSuffix) {
  MemoryLogStorage s = Make345();
  ASSERT_TRUE(s.Append({E(5, 6), E(6, 6)}).ok());
  EXPECT_EQ(*s.LastIndex(), RaftIndex(6));
  EXPECT_EQ(*s.Term(RaftIndex(5)), RaftTerm(6));
  // A shorter overwrite truncates what came after.
  ASSERT_TRUE(s.Append({E(5, 7)}).ok());
  EXPECT_EQ(*s.LastIndex(), RaftIndex(5));
  EXPECT_EQ(*s.Term(RaftIndex(5)), RaftTerm(7));
}

TEST(MemoryStorageTest, AppendBelowSnapshotKeepsOnlyNewPart) {
  MemoryLogStorage s = Make345();
  ASSERT_TRUE(s.Append({E(2, 3), E(3, 3), E(4, 4), E(5, 5), E(6, 5)}).ok());
  EXPECT_EQ(*s.FirstIndex(), RaftIndex(4));
  EXPECT_EQ(*s.LastIndex(), RaftIndex(6));
  // Entirely below the snapshot: nothing happens.
  ASSERT_TRUE(s.Append({E(1, 1), E(2, 2)}).ok());
  EXPECT_EQ(*s.LastIndex(), RaftIndex(6));
}

TEST(MemoryStorageTest, AppendRejectsGapsAndNonContiguous) {
  MemoryLogStorage s = Make345();
  EXPECT_EQ(s.Append({E(7, 5)}).code(), Code::kInvalidArgument);
  EXPECT_EQ(s.Append({E(6, 5), E(8, 5)}).code(), Code::kInvalidArgument);
  EXPECT_EQ(*s.LastIndex(), RaftIndex(5));
}

TEST(MemoryStorageTest, CompactKeepsTermOfCompactionPoint) {
  MemoryLogStorage s = Make345();
  ASSERT_TRUE(s.Append({E(6, 5), E(7, 6)}).ok());
  EXPECT_EQ(s.Compact(RaftIndex(3)).code(), Code::kCompacted);
  EXPECT_EQ(s.Compact(RaftIndex(8)).code(), Code::kOutOfRange);
  ASSERT_TRUE(s.Compact(RaftIndex(5)).ok());
  EXPECT_EQ(*s.FirstIndex(), RaftIndex(6));
  EXPECT_EQ(*s.LastIndex(), RaftIndex(7));
  EXPECT_EQ(*s.Term(RaftIndex(5)), RaftTerm(5));
  EXPECT_EQ(s.Term(RaftIndex(4)).status().code(), Code::kCompacted);
  auto ents = s.Entries(RaftIndex(6), RaftIndex(8), UINT64_MAX);
  ASSERT_TRUE(ents.ok());
  EXPECT_EQ(ents->size(), 2u);
}

TEST(MemoryStorageTest, CreateSnapshotRecordsTermAndConfState) {
  MemoryLogStorage s = Make345();
  raft::ConfState cs;
  cs.add_voters(1);
  cs.add_voters(2);
  EXPECT_EQ(s.CreateSnapshot(RaftIndex(3), cs, Bytes("d")).status().code(), Code::kCompacted);
  EXPECT_EQ(s.CreateSnapshot(RaftIndex(6), cs, Bytes("d")).status().code(), Code::kOutOfRange);
  auto snap = s.CreateSnapshot(RaftIndex(4), cs, Bytes("data"));
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->metadata().index(), 4u);
  EXPECT_EQ(snap->metadata().term(), 4u);
  EXPECT_EQ(snap->data(), "data");
  EXPECT_EQ(s.Snapshot()->metadata().conf_state().voters_size(), 2);
  EXPECT_EQ(s.GetInitialState()->conf_state.voters_size(), 2);
}

TEST(MemoryStorageTest, ApplySnapshotReplacesLogAndRefusesOlder) {
  MemoryLogStorage s = Make345();
  raft::Snapshot snap;
  snap.mutable_metadata()->set_index(10);
  snap.mutable_metadata()->set_term(7);
  snap.mutable_metadata()->mutable_conf_state()->add_voters(9);
  ASSERT_TRUE(s.ApplySnapshot(snap).ok());
  EXPECT_EQ(*s.FirstIndex(), RaftIndex(11));
  EXPECT_EQ(*s.LastIndex(), RaftIndex(10));
  EXPECT_EQ(*s.Term(RaftIndex(10)), RaftTerm(7));
  EXPECT_EQ(s.GetInitialState()->conf_state.voters(0), 9u);
  raft::Snapshot older;
  older.mutable_metadata()->set_index(4);
  EXPECT_EQ(s.ApplySnapshot(older).code(), Code::kFailedPrecondition);
}

TEST(MemoryStorageTest, HardStateRoundTrips) {
  MemoryLogStorage s;
  raft::HardState hs;
  hs.set_term(3);
  hs.set_vote(2);
  hs.set_commit(1);
  s.SetHardState(hs);
  auto st = s.GetInitialState();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->hard_state.term(), 3u);
  EXPECT_EQ(st->hard_state.vote(), 2u);
  EXPECT_EQ(st->hard_state.commit(), 1u);
}

}  // namespace
}  // namespace cl::consensus
