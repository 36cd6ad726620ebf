// Flow control (Inflights) and follower Progress (consensus/progress.h).
#include "consensus/progress.h"

#include <gtest/gtest.h>

#include "consensus/rand.h"

namespace cl::consensus {
namespace {

TEST(InflightsTest, CountLimit) {
  Inflights in(3, 0);
  in.Add(RaftIndex(1), 10);
  in.Add(RaftIndex(2), 10);
  EXPECT_FALSE(in.Full());
  in.Add(RaftIndex(3), 10);
  EXPECT_TRUE(in.Full());
  in.FreeLE(RaftIndex(2));
  EXPECT_EQ(in.Count(), 1);
  EXPECT_FALSE(in.Full());
  in.FreeLE(RaftIndex(0));  // stale ack: nothing freed
  EXPECT_EQ(in.Count(), 1);
  in.FreeFirstOne();
  EXPECT_EQ(in.Count(), 0);
  EXPECT_EQ(in.bytes(), 0u);
}

TEST(InflightsTest, ByteLimit) {
  Inflights in(100, 25);
  in.Add(RaftIndex(1), 10);
  in.Add(RaftIndex(2), 10);
  EXPECT_FALSE(in.Full());
  in.Add(RaftIndex(3), 10);
  EXPECT_TRUE(in.Full()) << "30 bytes in flight over a 25-byte limit";
  in.FreeLE(RaftIndex(1));
  EXPECT_EQ(in.bytes(), 20u);
  EXPECT_FALSE(in.Full());
}

TEST(InflightsTest, AddingToAFullWindowIsABug) {
  Inflights in(1, 0);
  in.Add(RaftIndex(1), 1);
  EXPECT_DEATH(in.Add(RaftIndex(2), 1), "full window");
}

Progress P(uint64_t match, uint64_t next, ProgressState s) {
  Progress p(RaftIndex(next), 256, 0, false);
  p.match = RaftIndex(match);
  p.state = s;
  return p;
}

TEST(ProgressTest, MaybeDecrTo) {
  struct Case {
    const char* name;
    ProgressState state;
    uint64_t match, next, rejected, hint;
    bool ok;
    uint64_t want_next;
  };
  const Case cases[] = {
      {"replicate: stale rejection", ProgressState::kReplicate, 5, 10, 5, 5, false, 10},
      {"replicate: falls back to match+1", ProgressState::kReplicate, 5, 10, 9, 9, true, 6},
      {"probe: rejection not of the last probe", ProgressState::kProbe, 0, 10, 5, 5, false, 10},
      {"probe: hint moves next down", ProgressState::kProbe, 0, 10, 9, 3, true, 4},
      {"probe: above match+1 while the hint is above match", ProgressState::kProbe, 5, 10, 9, 7, true, 8},
      {"probe: a follower that lost its log starts over", ProgressState::kProbe, 5, 6, 5, 0, true, 1},
      {"probe: hint above rejected is capped", ProgressState::kProbe, 0, 10, 9, 20, true, 9},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Progress p = P(c.match, c.next, c.state);
    EXPECT_EQ(p.MaybeDecrTo(RaftIndex(c.rejected), RaftIndex(c.hint)), c.ok);
    EXPECT_EQ(p.next, RaftIndex(c.want_next));
    EXPECT_LE(p.match, RaftIndex(c.match));
    EXPECT_LT(p.match, p.next);
  }
}

TEST(ProgressTest, MaybeUpdateNeverMovesMatchBack) {
  Progress p = P(5, 6, ProgressState::kReplicate);
  EXPECT_FALSE(p.MaybeUpdate(RaftIndex(3)));
  EXPECT_EQ(p.match, RaftIndex(5));
  EXPECT_TRUE(p.MaybeUpdate(RaftIndex(8)));
  EXPECT_EQ(p.match, RaftIndex(8));
  EXPECT_EQ(p.next, RaftIndex(9));
}

TEST(ProgressTest, PausedByState) {
  Progress probe = P(0, 1, ProgressState::kProbe);
  EXPECT_FALSE(probe.IsPaused());
  probe.SentEntries(1, 10);
  EXPECT_TRUE(probe.IsPaused()) << "one probe at a time";
  Progress snap = P(0, 1, ProgressState::kProbe);
  snap.BecomeSnapshot(RaftIndex(10));
  EXPECT_TRUE(snap.IsPaused());
  snap.match = RaftIndex(10);
  snap.BecomeProbe();
  EXPECT_EQ(snap.next, RaftIndex(11));
  Progress rep = P(0, 1, ProgressState::kProbe);
  rep.BecomeReplicate();
  for (uint64_t i = 0; i < 256; ++i) rep.SentEntries(1, 1);
  EXPECT_TRUE(rep.IsPaused());
  EXPECT_EQ(rep.next, RaftIndex(257));
}

TEST(RandTest, SeededAndWithinRange) {
  Xoshiro256 a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs = differs || x != c.Next();
  }
  EXPECT_TRUE(differs);
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t v = a.Uniform(7);
    EXPECT_LT(v, 7u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 7u);
}

}  // namespace
}  // namespace cl::consensus
