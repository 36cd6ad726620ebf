// Internal to storage/: an LRU cache of state point reads (key -> value or
// absent), bounded in bytes. RocksDB's own row cache cannot be used here: it
// returns values a DeleteRange removed (facebook/rocksdb#4122), and the raft
// log column family relies on DeleteRange. This cache holds only the state
// column family, which no range deletion ever touches.
//
// Writers keep it coherent (Core::WriteWithState does it for every write of
// state keys): BeginWrite(keys) before the database write forgets those keys
// and refuses inserts until EndWrite() after it, so from the moment a write
// may be visible in the database no reader is answered from before it.
// Clear() forgets everything (the database was replaced). A reader that
// missed calls Lookup() for a ticket before its database read and Insert()
// with that ticket after it: the value is cached only if no write began or
// ended and no Clear() happened in between, so a value read before a write
// is never cached after it.
//
// Thread-safe. Capacity 0 disables it (every Lookup misses, Insert drops).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
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
  struct Stats {
    uint64_t hits = 0;    // Lookup()s answered
    uint64_t misses = 0;  // Lookup()s that went to the database
    uint64_t entries = 0;
    uint64_t bytes = 0;  // accounted (EntryBytes), at most the capacity
  };

  explicit StateCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}
  StateCache(const StateCache&) = delete;
  StateCache& operator=(const StateCache&) = delete;

  // The cached answer for `key`, or the ticket for a later Insert().
  std::pair<std::optional<Hit>, Ticket> Lookup(std::string_view key);
  // Caches what the database answered for `key`, unless a write or Clear()
  // came after `ticket` was taken or a write is in progress. Evicts least
  // recently used entries to stay in bounds.
  void Insert(std::string_view key, const std::optional<Bytes>& value, Ticket ticket);
  // Brackets one database write of the state keys in `ops` (key -> new value
  // or nullopt): cached ones are forgotten. One write at a time (the store's
  // apply lock); EndWrite() also after a failed write.
  void BeginWrite(const std::map<Bytes, std::optional<Bytes>>& ops);
  void EndWrite();
  // Called after the database was replaced: forgets everything.
  void Clear();

  Stats stats() const;

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

  void EraseLocked(List::iterator it);
  void EvictLocked();

  const size_t capacity_;
  mutable std::mutex mu_;
  List lru_;  // most recent first
  std::unordered_map<std::string_view, List::iterator> index_;  // views into lru_ keys
  size_t bytes_ = 0;
  uint64_t epoch_ = 0;   // bumped by BeginWrite(), EndWrite() and Clear()
  bool writing_ = false;  // between BeginWrite() and EndWrite()
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace cl::storage::internal
