// Internal to storage/: an LRU cache of state point reads (key -> value or
// absent), bounded in bytes. RocksDB's own row cache cannot be used here: it
// returns values a DeleteRange removed (facebook/rocksdb#4122), and the raft
// log column family relies on DeleteRange. This cache holds only the state
// column family, which no range deletion ever touches.
//
// Writers keep it coherent: after a write of state keys reaches the database,
// the writer calls Update() (cached keys take their new value) or Clear()
// (the whole database was replaced). A reader that missed calls Lookup() for
// a ticket before its database read and Insert() with that ticket after it:
// the value is cached only if no Update()/Clear() happened in between, so a
// value read before a write is never cached after it.
//
// Thread-safe. Capacity 0 disables it (every Lookup misses, Insert drops).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "base/bytes.h"

namespace cl::storage::internal {

class StateCache {
 public:
  // What a miss hands back, to pass to Insert().
  struct Ticket {
    uint64_t epoch = 0;
  };
  // A hit: the cached answer (nullopt: the key is known absent).
  struct Hit {
    std::optional<Bytes> value;
  };

  explicit StateCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}
  StateCache(const StateCache&) = delete;
  StateCache& operator=(const StateCache&) = delete;

  // The cached answer for `key`, or the ticket for a later Insert().
  std::pair<std::optional<Hit>, Ticket> Lookup(std::string_view key);
  // Caches what the database answered for `key`, unless a write came after
  // `ticket` was taken. Evicts least recently used entries to stay in bounds.
  void Insert(std::string_view key, const std::optional<Bytes>& value, Ticket ticket);
  // Called after `ops` (key, new value or nullopt for a delete) reached the
  // database: cached keys among them take their new value.
  void Update(const std::map<Bytes, std::optional<Bytes>>& ops);
  // Called after the database was replaced: forgets everything.
  void Clear();

  size_t bytes() const;
  size_t entries() const;
  uint64_t hits() const;
  uint64_t misses() const;

  // Accounted size of one entry (key, value and bookkeeping).
  static size_t EntryBytes(std::string_view key, const std::optional<Bytes>& value) {
    return key.size() + (value ? value->size() : 0) + kOverheadBytes;
  }
  // Measured: a list node, a hash-map node and two heap strings cost ~200
  // bytes beyond the key and value bytes themselves (glibc malloc, x86-64).
  static constexpr size_t kOverheadBytes = 200;

 private:
  struct Entry {
    Bytes key;
    std::optional<Bytes> value;
  };
  using List = std::list<Entry>;

  void EvictLocked();

  const size_t capacity_;
  mutable std::mutex mu_;
  List lru_;  // most recent first
  std::unordered_map<std::string_view, List::iterator> index_;  // views into lru_ keys
  size_t bytes_ = 0;
  uint64_t epoch_ = 0;  // bumped by every Update() and Clear()
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace cl::storage::internal
