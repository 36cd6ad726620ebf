// MemoryLogStorage: the in-memory LogStorage used by tests and the simulator.
//
// Layout (as in etcd's MemoryStorage): ents_[0] is a dummy entry standing for
// the snapshot position (index = snapshot index, term = snapshot term), so
// ents_[i] holds the entry at index ents_[0].index() + i.
#include "consensus/memory_storage.h"

#include <string>

namespace cl::consensus {

namespace {
uint64_t Offset(const std::vector<raft::Entry>& ents) { return ents.front().index(); }
uint64_t Last(const std::vector<raft::Entry>& ents) {
  return ents.front().index() + ents.size() - 1;
}
}  // namespace

MemoryLogStorage::MemoryLogStorage() { ents_.resize(1); }

Result<InitialState> MemoryLogStorage::GetInitialState() const {
  return InitialState{.hard_state = hard_state_, .conf_state = snapshot_.metadata().conf_state()};
}

Result<std::vector<raft::Entry>> MemoryLogStorage::Entries(RaftIndex lo, RaftIndex hi,
                                                           uint64_t max_bytes) const {
  CL_CHECK(lo <= hi, "Entries: lo > hi");
  const uint64_t offset = Offset(ents_);
  if (lo.value() <= offset) return Status(Code::kCompacted, "entries compacted");
  if (hi.value() > Last(ents_) + 1) {
    return Status(Code::kLogUnavailable, "entries past the last index " +
                                             std::to_string(Last(ents_)));
  }
  std::vector<raft::Entry> out;
  uint64_t bytes = 0;
  for (uint64_t i = lo.value(); i < hi.value(); ++i) {
    const raft::Entry& e = ents_[i - offset];
    bytes += e.ByteSizeLong();
    // Always at least one entry, then stop before max_bytes is exceeded.
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

Result<RaftTerm> MemoryLogStorage::Term(RaftIndex i) const {
  const uint64_t offset = Offset(ents_);
  if (i.value() < offset) return Status(Code::kCompacted, "term of a compacted index");
  if (i.value() > Last(ents_)) return Status(Code::kLogUnavailable, "term past the last index");
  return RaftTerm(ents_[i.value() - offset].term());
}

Result<RaftIndex> MemoryLogStorage::FirstIndex() const { return RaftIndex(Offset(ents_) + 1); }

Result<RaftIndex> MemoryLogStorage::LastIndex() const { return RaftIndex(Last(ents_)); }

Result<raft::Snapshot> MemoryLogStorage::Snapshot() const { return snapshot_; }

void MemoryLogStorage::SetHardState(const raft::HardState& hs) { hard_state_ = hs; }

void MemoryLogStorage::SetConfState(const raft::ConfState& cs) {
  *snapshot_.mutable_metadata()->mutable_conf_state() = cs;
}

Status MemoryLogStorage::Append(const std::vector<raft::Entry>& entries) {
  if (entries.empty()) return Status::Ok();
  for (size_t k = 1; k < entries.size(); ++k) {
    if (entries[k].index() != entries[k - 1].index() + 1) {
      return InvalidArgument("Append: entries are not contiguous");
    }
  }
  const uint64_t first = Offset(ents_) + 1;
  const uint64_t last_new = entries.back().index();
  // Entries entirely below the compaction point are already covered by the snapshot.
  if (last_new < first) return Status::Ok();
  size_t skip = 0;
  if (entries.front().index() < first) skip = first - entries.front().index();
  const uint64_t start = entries[skip].index();
  if (start > Last(ents_) + 1) {
    return InvalidArgument("Append: gap after the last index " + std::to_string(Last(ents_)));
  }
  // Replace the conflicting suffix from `start` on (callers only append after
  // the core decided the suffix conflicts).
  ents_.resize(start - Offset(ents_));
  ents_.insert(ents_.end(), entries.begin() + static_cast<std::ptrdiff_t>(skip), entries.end());
  return Status::Ok();
}

Status MemoryLogStorage::ApplySnapshot(const raft::Snapshot& snap) {
  if (snap.metadata().index() < snapshot_.metadata().index()) {
    return FailedPrecondition("snapshot at " + std::to_string(snap.metadata().index()) +
                              " is older than ours at " +
                              std::to_string(snapshot_.metadata().index()));
  }
  snapshot_ = snap;
  ents_.assign(1, raft::Entry());
  ents_[0].set_index(snap.metadata().index());
  ents_[0].set_term(snap.metadata().term());
  return Status::Ok();
}

Result<raft::Snapshot> MemoryLogStorage::CreateSnapshot(RaftIndex i, const raft::ConfState& cs,
                                                        Bytes data) {
  if (i.value() <= snapshot_.metadata().index()) {
    return Status(Code::kCompacted, "snapshot at or below the current snapshot");
  }
  if (i.value() > Last(ents_)) {
    return OutOfRange("snapshot index " + std::to_string(i.value()) + " past the last index " +
                      std::to_string(Last(ents_)));
  }
  snapshot_.mutable_metadata()->set_index(i.value());
  snapshot_.mutable_metadata()->set_term(ents_[i.value() - Offset(ents_)].term());
  *snapshot_.mutable_metadata()->mutable_conf_state() = cs;
  snapshot_.set_data(std::move(data));
  return snapshot_;
}

Status MemoryLogStorage::Compact(RaftIndex i) {
  const uint64_t offset = Offset(ents_);
  if (i.value() <= offset) return Status(Code::kCompacted, "already compacted");
  if (i.value() > Last(ents_)) {
    return OutOfRange("compact index " + std::to_string(i.value()) + " past the last index " +
                      std::to_string(Last(ents_)));
  }
  // The entry at i becomes the new dummy (its data is dropped, index and term kept).
  const size_t k = i.value() - offset;
  raft::Entry dummy;
  dummy.set_index(ents_[k].index());
  dummy.set_term(ents_[k].term());
  std::vector<raft::Entry> rest;
  rest.reserve(ents_.size() - k);
  rest.push_back(std::move(dummy));
  for (size_t j = k + 1; j < ents_.size(); ++j) rest.push_back(std::move(ents_[j]));
  ents_ = std::move(rest);
  return Status::Ok();
}

}  // namespace cl::consensus
