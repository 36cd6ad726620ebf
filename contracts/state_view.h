// The contracts' view of the ledger state: an ordered key-value map.
//
// The executor reads through a StateView and collects its changes in a
// WriteSet; the node applies the WriteSet atomically together with the block
// (one RocksDB write batch). Implementations: storage::StateStore (RocksDB)
// and contracts::MemState (below; tests and simulators).
//
// Keys are byte strings ordered bytewise; layouts are documented in
// docs/storage.md. Values are serialized protobuf records.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace cl::contracts {

using KeyValue = std::pair<Bytes, Bytes>;

class StateView {
 public:
  virtual ~StateView() = default;

  // The value at `key`, or nullopt. Errors only on I/O failure or corruption.
  virtual Result<std::optional<Bytes>> Get(ByteView key) const = 0;

  // Up to `limit` entries whose key starts with `prefix` and is strictly
  // greater than `start_after` (empty: from the start of the prefix), in key
  // order. Page by passing the last key returned as the next start_after.
  virtual Result<std::vector<KeyValue>> Scan(ByteView prefix, ByteView start_after,
                                             size_t limit) const = 0;
};

// Pending changes: a put or a delete (nullopt) per key, ordered, last write wins.
class WriteSet {
 public:
  void Put(ByteView key, ByteView value) { ops_[Bytes(key)] = Bytes(value); }
  void Delete(ByteView key) { ops_[Bytes(key)] = std::nullopt; }

  // The pending change at key: nullopt = untouched; optional(nullopt) = deleted.
  std::optional<std::optional<Bytes>> Find(ByteView key) const {
    auto it = ops_.find(Bytes(key));
    if (it == ops_.end()) return std::nullopt;
    return it->second;
  }

  const std::map<Bytes, std::optional<Bytes>>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  void Merge(const WriteSet& later) {
    for (const auto& [k, v] : later.ops_) ops_[k] = v;
  }
  void Clear() { ops_.clear(); }

  friend bool operator==(const WriteSet&, const WriteSet&) = default;

 private:
  std::map<Bytes, std::optional<Bytes>> ops_;
};

// An in-memory StateView (tests, simulators). Not thread-safe.
class MemState final : public StateView {
 public:
  Result<std::optional<Bytes>> Get(ByteView key) const override {
    auto it = kv_.find(Bytes(key));
    if (it == kv_.end()) return std::optional<Bytes>();
    return std::optional<Bytes>(it->second);
  }

  Result<std::vector<KeyValue>> Scan(ByteView prefix, ByteView start_after,
                                     size_t limit) const override {
    std::vector<KeyValue> out;
    auto it = start_after.empty() ? kv_.lower_bound(Bytes(prefix))
                                  : kv_.upper_bound(Bytes(start_after));
    for (; it != kv_.end() && out.size() < limit; ++it) {
      if (ByteView(it->first).substr(0, prefix.size()) != prefix) {
        if (it->first > Bytes(prefix)) break;
        continue;
      }
      out.emplace_back(it->first, it->second);
    }
    return out;
  }

  void Apply(const WriteSet& ws) {
    for (const auto& [k, v] : ws.ops()) {
      if (v) kv_[k] = *v;
      else kv_.erase(k);
    }
  }

  const std::map<Bytes, Bytes>& contents() const { return kv_; }

 private:
  std::map<Bytes, Bytes> kv_;
};

}  // namespace cl::contracts
