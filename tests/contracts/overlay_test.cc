// OverlayState: reads through pending writes, scans merge puts and hide deletes.
#include "contracts/overlay.h"

#include <gtest/gtest.h>

namespace cl::contracts {
namespace {

std::vector<Bytes> Keys(const std::vector<KeyValue>& kvs) {
  std::vector<Bytes> out;
  for (const auto& kv : kvs) out.push_back(kv.first);
  return out;
}

TEST(OverlayStateTest, GetPrefersPendingWritesAndDeletes) {
  MemState base;
  WriteSet seed;
  seed.Put("a", "1");
  seed.Put("b", "2");
  base.Apply(seed);
  WriteSet ws;
  OverlayState o(base, &ws);
  o.Put("a", "9");
  o.Delete("b");
  EXPECT_EQ(o.Get("a")->value(), "9");
  EXPECT_FALSE(o.Get("b")->has_value());
  EXPECT_EQ(base.Get("a")->value(), "1");
}

TEST(OverlayStateTest, ScanMergesInKeyOrderAcrossPages) {
  MemState base;
  WriteSet seed;
  for (char c = 'a'; c <= 'j'; ++c) seed.Put(std::string("p/") + c, "base");
  seed.Put("q/x", "other prefix");
  base.Apply(seed);
  WriteSet ws;
  OverlayState o(base, &ws);
  o.Delete("p/b");
  o.Delete("p/c");
  o.Delete("p/d");
  o.Put("p/cc", "new");
  o.Put("p/z", "new");
  o.Put("p/e", "changed");
  std::vector<Bytes> all;
  Bytes after;
  for (;;) {
    auto page = o.Scan("p/", after, 2);
    ASSERT_TRUE(page.ok());
    for (auto& k : Keys(*page)) all.push_back(k);
    if (page->size() < 2) break;
    after = page->back().first;
  }
  EXPECT_EQ(all,
            (std::vector<Bytes>{"p/a", "p/cc", "p/e", "p/f", "p/g", "p/h", "p/i", "p/j", "p/z"}));
  auto e = o.Scan("p/e", "", 1);
  EXPECT_EQ((*e)[0].second, "changed");
}

TEST(OverlayStateTest, StackedOverlaysSeeEachOther) {
  MemState base;
  WriteSet block, tx;
  OverlayState b(base, &block);
  b.Put("k/1", "x");
  OverlayState t(b, &tx);
  t.Put("k/2", "y");
  EXPECT_EQ(t.Scan("k/", "", 10)->size(), 2u);
  EXPECT_EQ(b.Scan("k/", "", 10)->size(), 1u);
}

}  // namespace
}  // namespace cl::contracts
