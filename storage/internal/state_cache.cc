#include "storage/internal/state_cache.h"

#include <iterator>

#include "base/check.h"

namespace cl::storage::internal {

std::pair<std::optional<StateCache::Hit>, StateCache::Ticket> StateCache::Lookup(
    std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++misses_;
    return {std::nullopt, Ticket{epoch_}};
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return {Hit{it->second->value}, Ticket{epoch_}};
}

void StateCache::Insert(std::string_view key, const std::optional<Bytes>& value, Ticket ticket) {
  const size_t size = EntryBytes(key, value);
  if (size > capacity_) return;  // also: capacity 0 caches nothing
  std::lock_guard lock(mu_);
  // A write began or ended since the read, or is under way: the database may
  // hold a newer value than the one read.
  if (writing_ || ticket.epoch != epoch_) return;
  if (auto it = index_.find(key); it != index_.end()) {
    // Another reader cached it meanwhile (same epoch: the same answer).
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(Entry{Bytes(key), value});
  index_.emplace(std::string_view(lru_.front().key), lru_.begin());
  bytes_ += size;
  EvictLocked();
}

void StateCache::BeginWrite(const std::map<Bytes, std::optional<Bytes>>& ops) {
  std::lock_guard lock(mu_);
  CL_CHECK(!writing_, "StateCache: BeginWrite while a write is in progress");
  writing_ = true;
  ++epoch_;
  for (const auto& [key, value] : ops)
    if (auto it = index_.find(key); it != index_.end()) EraseLocked(it->second);
}

void StateCache::EndWrite() {
  std::lock_guard lock(mu_);
  CL_CHECK(writing_, "StateCache: EndWrite without BeginWrite");
  writing_ = false;
  ++epoch_;
}

void StateCache::Clear() {
  std::lock_guard lock(mu_);
  ++epoch_;
  index_.clear();
  lru_.clear();
  bytes_ = 0;
}

void StateCache::EraseLocked(List::iterator it) {
  const size_t size = EntryBytes(it->key, it->value);
  CL_CHECK_LE(size, bytes_, "StateCache: accounted bytes below an entry's size");
  bytes_ -= size;
  index_.erase(std::string_view(it->key));
  lru_.erase(it);
  CL_CHECK_EQ(index_.size(), lru_.size(), "StateCache: index and list disagree");
}

void StateCache::EvictLocked() {
  while (bytes_ > capacity_) {
    CL_CHECK(!lru_.empty(), "StateCache: bytes accounted with no entries");
    EraseLocked(std::prev(lru_.end()));
  }
}

StateCache::Stats StateCache::stats() const {
  std::lock_guard lock(mu_);
  return Stats{.hits = hits_, .misses = misses_, .entries = lru_.size(), .bytes = bytes_};
}

}  // namespace cl::storage::internal
