#include "storage/internal/state_cache.h"

namespace cl::storage::internal {

std::pair<std::optional<StateCache::Hit>, StateCache::Ticket> StateCache::Lookup(std::string_view key) {
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
  if (ticket.epoch != epoch_) return;  // a write may have changed the key since the read
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

void StateCache::Update(const std::map<Bytes, std::optional<Bytes>>& ops) {
  std::lock_guard lock(mu_);
  ++epoch_;
  for (const auto& [key, value] : ops) {
    auto it = index_.find(key);
    if (it == index_.end()) continue;
    Entry& e = *it->second;
    bytes_ -= EntryBytes(e.key, e.value);
    e.value = value;
    bytes_ += EntryBytes(e.key, e.value);
  }
  EvictLocked();
}

void StateCache::Clear() {
  std::lock_guard lock(mu_);
  ++epoch_;
  index_.clear();
  lru_.clear();
  bytes_ = 0;
}

void StateCache::EvictLocked() {
  while (bytes_ > capacity_ && !lru_.empty()) {
    const Entry& e = lru_.back();
    bytes_ -= EntryBytes(e.key, e.value);
    index_.erase(std::string_view(e.key));
    lru_.pop_back();
  }
}

size_t StateCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

size_t StateCache::entries() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

uint64_t StateCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

uint64_t StateCache::misses() const {
  std::lock_guard lock(mu_);
  return misses_;
}

}  // namespace cl::storage::internal
