// StateCache (storage/internal/state_cache.h): hits, misses, the epoch check
// that keeps a read from before a write out of the cache, LRU eviction within
// the byte bound; and, through a Store, that state reads stay coherent with
// applied blocks while the cache holds them.
#include "storage/internal/state_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "tests/storage/test_util.h"

namespace cl::storage::testing {
namespace {

using internal::StateCache;

std::optional<Bytes> V(std::string s) { return Bytes(std::move(s)); }
const std::optional<Bytes> kAbsent;

// What Lookup says for `key`: "miss", "absent" or the value.
std::string Probe(StateCache& c, std::string_view key) {
  auto [hit, ticket] = c.Lookup(key);
  if (!hit) return "miss";
  return hit->value ? *hit->value : "absent";
}

TEST(StateCacheTest, CachesValuesAndAbsenceAfterAMiss) {
  StateCache c(1 << 20);
  auto [hit, t] = c.Lookup("a");
  EXPECT_FALSE(hit);
  c.Insert("a", V("1"), t);
  auto [hit2, t2] = c.Lookup("b");
  EXPECT_FALSE(hit2);
  c.Insert("b", kAbsent, t2);
  EXPECT_EQ(Probe(c, "a"), "1");
  EXPECT_EQ(Probe(c, "b"), "absent");
  EXPECT_EQ(Probe(c, "c"), "miss");
  EXPECT_EQ(c.entries(), 2u);
  EXPECT_EQ(c.hits(), 2u);
  EXPECT_EQ(c.misses(), 3u);
}

TEST(StateCacheTest, AReadFromBeforeAWriteIsNotCached) {
  struct Case {
    std::string name;
    std::function<void(StateCache&)> between;  // runs between Lookup and Insert
    bool cached;
  };
  const std::vector<Case> cases = {
      {"nothing", [](StateCache&) {}, true},
      {"update of another key", [](StateCache& c) { c.Update({{"other", V("x")}}); }, false},
      {"update of the key", [](StateCache& c) { c.Update({{"k", V("new")}}); }, false},
      {"clear", [](StateCache& c) { c.Clear(); }, false},
      {"insert of another key", [](StateCache& c) {
         auto [h, t] = c.Lookup("other");
         c.Insert("other", V("x"), t);
       }, true},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    StateCache c(1 << 20);
    auto [hit, ticket] = c.Lookup("k");
    ASSERT_FALSE(hit);
    tc.between(c);
    c.Insert("k", V("old"), ticket);
    EXPECT_EQ(Probe(c, "k"), tc.cached ? "old" : "miss");
  }
}

TEST(StateCacheTest, UpdateChangesCachedKeysOnly) {
  StateCache c(1 << 20);
  for (const char* k : {"a", "b", "c"}) {
    auto [h, t] = c.Lookup(k);
    c.Insert(k, k == std::string_view("c") ? kAbsent : V(std::string(k) + "0"), t);
  }
  c.Update({{"a", V("a1")}, {"b", kAbsent}, {"c", V("c1")}, {"d", V("d1")}});
  EXPECT_EQ(Probe(c, "a"), "a1");
  EXPECT_EQ(Probe(c, "b"), "absent");
  EXPECT_EQ(Probe(c, "c"), "c1");
  EXPECT_EQ(Probe(c, "d"), "miss");  // not cached before: not added by a write
  EXPECT_EQ(c.bytes(), StateCache::EntryBytes("a", V("a1")) + StateCache::EntryBytes("b", kAbsent) +
                           StateCache::EntryBytes("c", V("c1")));
}

TEST(StateCacheTest, EvictsTheLeastRecentlyUsedWithinTheBound) {
  const std::string value(100, 'v');
  const size_t entry = StateCache::EntryBytes("k0", V(value));
  StateCache c(3 * entry);
  auto put = [&](const std::string& k) {
    auto [h, t] = c.Lookup(k);
    c.Insert(k, V(value), t);
  };
  put("k0");
  put("k1");
  put("k2");
  EXPECT_EQ(Probe(c, "k0"), value);  // k0 is now the most recent; k1 the least
  put("k3");
  EXPECT_EQ(c.entries(), 3u);
  EXPECT_LE(c.bytes(), 3 * entry);
  EXPECT_EQ(Probe(c, "k1"), "miss");
  for (const char* k : {"k0", "k2", "k3"}) EXPECT_EQ(Probe(c, k), value) << k;
  // An update that grows a value past the bound evicts others, never leaves
  // the cache over it.
  c.Update({{"k3", V(std::string(2 * entry, 'w'))}});
  EXPECT_LE(c.bytes(), 3 * entry);
}

TEST(StateCacheTest, CachesNothingBiggerThanItsCapacity) {
  struct Case {
    std::string name;
    size_t capacity;
    size_t value_bytes;
  };
  for (const Case& tc : std::vector<Case>{{"disabled", 0, 1}, {"entry over capacity", 200, 200}}) {
    SCOPED_TRACE(tc.name);
    StateCache c(tc.capacity);
    auto [h, t] = c.Lookup("k");
    c.Insert("k", V(std::string(tc.value_bytes, 'x')), t);
    EXPECT_EQ(Probe(c, "k"), "miss");
    EXPECT_EQ(c.bytes(), 0u);
  }
}

TEST(StateCacheTest, ConcurrentReadersAndAWriterNeverCacheAnOldValue) {
  // The writer publishes versions 1..N of one key: "database" first, then
  // Update (as Store::ApplyBlock does). Readers read through the cache; once
  // the writer is done, every reader must see the last version.
  StateCache c(1 << 20);
  std::mutex db_mu;
  std::string db = "0";
  constexpr int kVersions = 2000;
  std::atomic<bool> done{false};
  auto read = [&] {
    auto [hit, t] = c.Lookup("k");
    if (hit) return *hit->value;
    std::string v;
    {
      std::lock_guard lock(db_mu);
      v = db;
    }
    c.Insert("k", V(v), t);
    return v;
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i)
    readers.emplace_back([&] {
      while (!done) read();
    });
  for (int v = 1; v <= kVersions; ++v) {
    {
      std::lock_guard lock(db_mu);
      db = std::to_string(v);
    }
    c.Update({{"k", V(std::to_string(v))}});
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(read(), std::to_string(kVersions));
  EXPECT_EQ(read(), std::to_string(kVersions));
}

TEST(StateCacheTest, StoreReadsFollowAppliedBlocks) {
  // Every block rewrites "count", adds "h/<h>" and deletes "h/<h-5>"
  // (ChainBuilder): read them all before each block so they are cached, and
  // check each answer against what the chain wrote.
  TempDir dir;
  auto store = MustOpen(dir.Sub("db"));
  ASSERT_NE(store, nullptr);
  ChainBuilder chain(store->suite());
  auto hkey = [](uint64_t h) { return "h/" + BigEndian64(h); };
  for (uint64_t h = 1; h <= 12; ++h) {
    ApplyBlocks(*store, chain, 1, 2);
    const uint64_t height = store->blocks().latest_height().value();
    EXPECT_EQ(*store->state().Get("count"), V(BigEndian64(height)));
    for (uint64_t k = 1; k <= height; ++k) {
      const bool live = k + 5 > height;
      EXPECT_EQ(*store->state().Get(hkey(k)), live ? V("v" + std::to_string(k)) : kAbsent)
          << "h/" << k << " after block " << height;
    }
    // Not yet written: cached as absent until the next block writes it.
    EXPECT_EQ(*store->state().Get(hkey(height + 1)), kAbsent);
  }
  // A reopened store (empty cache) reads the same.
  const std::optional<Bytes> count = *store->state().Get("count");
  store.reset();
  store = MustOpen(dir.Sub("db"));
  EXPECT_EQ(*store->state().Get("count"), count);
}

}  // namespace
}  // namespace cl::storage::testing
