// StateCache (storage/internal/state_cache.h): hits, misses, the epoch check
// that keeps a read from before a write out of the cache, LRU eviction within
// the byte bound; and, through a Store, that state reads stay coherent with
// the genesis state, applied blocks and a snapshot install (snapshot_test.cc)
// while the cache holds them.
#include "storage/internal/state_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "contracts/state_view.h"
#include "tests/storage/test_util.h"

namespace cl::storage::testing {
namespace {

using internal::StateCache;
using Ops = std::map<Bytes, std::optional<Bytes>>;

std::optional<Bytes> V(std::string s) { return Bytes(std::move(s)); }
const std::optional<Bytes> kAbsent;

// What Lookup says for `key`: "miss", "absent" or the value.
std::string Probe(StateCache& c, std::string_view key) {
  auto [hit, ticket] = c.Lookup(key);
  if (!hit) return "miss";
  return hit->value ? *hit->value : "absent";
}

// A reader's miss followed by its insert of what it read.
void Fill(StateCache& c, std::string_view key, const std::optional<Bytes>& value) {
  auto [hit, ticket] = c.Lookup(key);
  c.Insert(key, value, ticket);
}

void Write(StateCache& c, const Ops& ops) {
  c.BeginWrite(ops);
  c.EndWrite();
}

TEST(StateCacheTest, CachesValuesAndAbsenceAfterAMiss) {
  StateCache c(1 << 20);
  Fill(c, "a", V("1"));
  Fill(c, "b", kAbsent);
  EXPECT_EQ(Probe(c, "a"), "1");
  EXPECT_EQ(Probe(c, "b"), "absent");
  EXPECT_EQ(Probe(c, "c"), "miss");
  const StateCache::Stats s = c.stats();
  EXPECT_EQ(s.entries, 2u);
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 3u);
  EXPECT_EQ(s.bytes, StateCache::EntryBytes("a", V("1")) + StateCache::EntryBytes("b", kAbsent));
}

TEST(StateCacheTest, AReadFromBeforeAWriteIsNotCached) {
  struct Case {
    std::string name;
    std::function<void(StateCache&)> between;  // runs between Lookup and Insert
    bool cached;
  };
  const std::vector<Case> cases = {
      {"nothing", [](StateCache&) {}, true},
      {"a write of another key", [](StateCache& c) { Write(c, {{"other", V("x")}}); }, false},
      {"a write of the key", [](StateCache& c) { Write(c, {{"k", V("new")}}); }, false},
      {"a write begun, not ended", [](StateCache& c) { c.BeginWrite({{"other", V("x")}}); }, false},
      {"a clear", [](StateCache& c) { c.Clear(); }, false},
      {"another reader's insert", [](StateCache& c) { Fill(c, "other", V("x")); }, true},
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

TEST(StateCacheTest, NothingIsCachedWhileAWriteIsUnderWay) {
  // From BeginWrite the database may already hold the new value: a reader
  // that misses then must not cache what it read, even with a fresh ticket.
  StateCache c(1 << 20);
  c.BeginWrite({{"k", V("new")}});
  Fill(c, "k", V("old-or-new"));
  EXPECT_EQ(Probe(c, "k"), "miss");
  c.EndWrite();
  Fill(c, "k", V("new"));
  EXPECT_EQ(Probe(c, "k"), "new");
}

TEST(StateCacheTest, AWriteForgetsTheKeysItWrites) {
  StateCache c(1 << 20);
  Fill(c, "a", V("a0"));
  Fill(c, "b", V("b0"));
  Fill(c, "c", kAbsent);
  c.BeginWrite({{"a", V("a1")}, {"c", V("c1")}, {"d", kAbsent}});
  EXPECT_EQ(Probe(c, "a"), "miss");  // forgotten before the database changes
  EXPECT_EQ(Probe(c, "c"), "miss");
  EXPECT_EQ(Probe(c, "b"), "b0");    // not written: kept
  c.EndWrite();
  EXPECT_EQ(Probe(c, "d"), "miss");  // a write adds nothing
  EXPECT_EQ(c.stats().entries, 1u);
  EXPECT_EQ(c.stats().bytes, StateCache::EntryBytes("b", V("b0")));
}

TEST(StateCacheTest, EvictsTheLeastRecentlyUsedWithinTheBound) {
  const std::string value(100, 'v');
  const size_t entry = StateCache::EntryBytes("k0", V(value));
  StateCache c(3 * entry);
  for (const char* k : {"k0", "k1", "k2"}) Fill(c, k, V(value));
  EXPECT_EQ(Probe(c, "k0"), value);  // k0 is now the most recent; k1 the least
  Fill(c, "k3", V(value));
  EXPECT_EQ(c.stats().entries, 3u);
  EXPECT_LE(c.stats().bytes, 3 * entry);
  EXPECT_EQ(Probe(c, "k1"), "miss");
  for (const char* k : {"k0", "k2", "k3"}) EXPECT_EQ(Probe(c, k), value) << k;
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
    Fill(c, "k", V(std::string(tc.value_bytes, 'x')));
    EXPECT_EQ(Probe(c, "k"), "miss");
    EXPECT_EQ(c.stats().bytes, 0u);
  }
}

TEST(StateCacheTest, ConcurrentReadersNeverSeeAValueOlderThanTheLastWrite) {
  // The writer publishes versions 1..N of "k" as a store does (BeginWrite,
  // database, EndWrite) and after each one reads "k" itself: it must see
  // that version. Readers read "k" and "j" through the cache; the cache
  // holds one entry, so their inserts keep replacing each other and most
  // reads of "k" go to the "database" and race the writer.
  StateCache c(StateCache::EntryBytes("k", V("1000000")));
  std::mutex db_mu;
  std::map<std::string, std::string> db = {{"k", "0"}, {"j", "0"}};
  auto read = [&](const std::string& key) {
    auto [hit, t] = c.Lookup(key);
    if (hit) return std::stoi(*hit->value);
    std::string v;
    {
      std::lock_guard lock(db_mu);
      v = db[key];
    }
    c.Insert(key, V(v), t);
    return std::stoi(v);
  };
  constexpr int kVersions = 3000;
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i)
    readers.emplace_back([&] {
      int last = 0;
      while (!done) {
        const int v = read("k");
        EXPECT_GE(v, last) << "a reader went back in time";
        last = v;
        read("j");
      }
    });
  for (int v = 1; v <= kVersions; ++v) {
    c.BeginWrite({{"k", V(std::to_string(v))}});
    {
      std::lock_guard lock(db_mu);
      db["k"] = std::to_string(v);
    }
    c.EndWrite();
    ASSERT_EQ(read("k"), v) << "after write " << v;
  }
  done = true;
  for (auto& t : readers) t.join();
}

TEST(StateCacheTest, StoreReadsFollowTheGenesisState) {
  TempDir dir;
  auto store = MustOpen(dir.Sub("db"));
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(*store->state().Get("registry/1"), kAbsent);  // cached as absent
  contracts::WriteSet genesis_state;
  genesis_state.Put("registry/1", "node one");
  ASSERT_TRUE(store->SetGenesis("{\"chain_id\":\"test-chain\"}", &genesis_state, nullptr).ok());
  EXPECT_EQ(*store->state().Get("registry/1"), V("node one"));
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
  for (int block = 0; block < 12; ++block) {
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
  EXPECT_GT(store->state_cache_stats().hits, 0u);
}

}  // namespace
}  // namespace cl::storage::testing
