#include "base/strong_types.h"

#include <gtest/gtest.h>

#include <type_traits>
#include <unordered_set>

namespace cl {
namespace {

static_assert(!std::is_convertible_v<Height, RaftIndex>, "heights are not raft indexes");
static_assert(!std::is_convertible_v<uint64_t, Height>, "no implicit construction");
static_assert(!std::is_convertible_v<RaftTerm, NodeId>);

TEST(StrongTypesTest, OrderAndArithmetic) {
  RaftIndex a(5);
  RaftIndex b = a + 3;
  EXPECT_LT(a, b);
  EXPECT_EQ(b - a, 3u);
  EXPECT_EQ(b.next(), RaftIndex(9));
  ++b;
  EXPECT_EQ(b.value(), 9u);
  std::unordered_set<NodeId> ids{NodeId(1), NodeId(2), NodeId(1)};
  EXPECT_EQ(ids.size(), 2u);
}

}  // namespace
}  // namespace cl
