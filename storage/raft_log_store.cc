// The raft log in RocksDB: entries in `raft_log` keyed by big-endian index;
// hard state, conf state, compaction point and snapshot metadata in `raft_state`.
#include <memory>
#include <shared_mutex>

#include "storage/internal/core.h"
#include "storage/store.h"

namespace cl::storage {

using internal::Core;
using internal::ToSlice;
namespace key = internal::key;

Result<consensus::InitialState> RaftLogStore::GetInitialState() const {
  consensus::InitialState st;
  CL_ASSIGN_OR_RETURN(auto hs, core_.Get(internal::kRaftState, key::kHardState));
  if (hs && !st.hard_state.ParseFromString(*hs)) return Corruption("raft_state hard_state is damaged");
  CL_ASSIGN_OR_RETURN(auto cs, core_.Get(internal::kRaftState, key::kConfState));
  if (cs && !st.conf_state.ParseFromString(*cs)) return Corruption("raft_state conf_state is damaged");
  return st;
}

Result<std::vector<raft::Entry>> RaftLogStore::Entries(RaftIndex lo, RaftIndex hi,
                                                       uint64_t max_bytes) const {
  internal::Positions p = core_.positions();
  if (lo <= p.log_base_index)
    return Status(Code::kCompacted, "entries from " + std::to_string(lo.value()) + " are compacted");
  if (hi > p.last_index + 1)
    return Status(Code::kLogUnavailable, "entries up to " + std::to_string(hi.value()) +
                                             " are past the last index " +
                                             std::to_string(p.last_index.value()));
  if (lo > hi) return InvalidArgument("Entries: lo > hi");
  std::vector<raft::Entry> out;
  if (lo == hi) return out;
  Bytes upper = key::RaftLog(hi);
  rocksdb::Slice upper_slice = ToSlice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::shared_lock db_lock(core_.db_mu);
  CL_RETURN_IF_ERROR(core_.DbOpen());
  std::unique_ptr<rocksdb::Iterator> it(core_.db->NewIterator(ro, core_.h(internal::kRaftLog)));
  uint64_t bytes = 0;
  RaftIndex want = lo;
  bool limited = false;
  for (it->Seek(ToSlice(key::RaftLog(lo))); it->Valid(); it->Next()) {
    raft::Entry e;
    if (!e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())) ||
        e.index() != want.value())
      break;  // a gap or a damaged entry: reported below
    uint64_t size = e.ByteSizeLong();
    if (!out.empty() && bytes + size > max_bytes) {
      limited = true;
      break;
    }
    bytes += size;
    out.push_back(std::move(e));
    ++want;
  }
  CL_RETURN_IF_ERROR(internal::FromRocks(it->status(), "read raft_log"));
  if (!limited && want < hi) {
    // Compacted concurrently, or lost/damaged on disk.
    if (lo <= core_.positions().log_base_index)
      return Status(Code::kCompacted, "entries from " + std::to_string(lo.value()) + " are compacted");
    return Corruption("raft_log is missing or has a damaged entry at index " +
                      std::to_string(want.value()));
  }
  return out;
}

Result<RaftTerm> RaftLogStore::Term(RaftIndex i) const {
  return internal::TermAt(core_, core_.positions(), i);
}

Result<RaftIndex> RaftLogStore::FirstIndex() const { return core_.positions().log_base_index + 1; }

Result<RaftIndex> RaftLogStore::LastIndex() const { return core_.positions().last_index; }

Result<raft::Snapshot> RaftLogStore::Snapshot() const {
  internal::Positions p = core_.positions();
  raft::Snapshot snap;
  CL_ASSIGN_OR_RETURN(auto meta, core_.Get(internal::kRaftState, key::kSnapshot));
  if (meta) {
    if (!snap.mutable_metadata()->ParseFromString(*meta))
      return Corruption("raft_state snapshot is damaged");
  }
  if (snap.metadata().index() < p.log_base_index.value())
    return Status(Code::kLogUnavailable, "log compacted past the last snapshot");
  return snap;
}

Status RaftLogStore::Persist(const raft::HardState* hard_state,
                             std::span<const raft::Entry> entries, bool sync) {
  std::lock_guard write_lock(core_.raft_write_mu);
  CL_RETURN_IF_ERROR(core_.WriteAllowed());
  internal::Positions p = core_.positions();
  // Validate before writing anything.
  if (!entries.empty() && entries.front().index() == 0) return InvalidArgument("raft entry index 0");
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].index() != entries[i - 1].index() + 1)
      return InvalidArgument("raft entries are not contiguous at index " +
                             std::to_string(entries[i].index()));
  }
  if (!entries.empty() && entries.front().index() > p.last_index.value() + 1)
    return InvalidArgument("raft entries start at " + std::to_string(entries.front().index()) +
                           ", past last index + 1 = " + std::to_string(p.last_index.value() + 1));
  // Entries at or below the compaction point are already applied; skip them
  // (etcd MemoryStorage.Append does the same).
  while (!entries.empty() && entries.front().index() <= p.log_base_index.value())
    entries = entries.subspan(1);

  rocksdb::WriteBatch batch;
  if (hard_state != nullptr)
    batch.Put(core_.h(internal::kRaftState), ToSlice(key::kHardState), hard_state->SerializeAsString());
  RaftIndex new_last = p.last_index;
  if (!entries.empty()) {
    for (const raft::Entry& e : entries) {
      batch.Put(core_.h(internal::kRaftLog), ToSlice(key::RaftLog(RaftIndex(e.index()))),
                e.SerializeAsString());
    }
    new_last = RaftIndex(entries.back().index());
    if (p.last_index > new_last) {
      // Raft §5.3: a conflicting suffix is replaced; drop what lies past the new end.
      batch.DeleteRange(core_.h(internal::kRaftLog), ToSlice(key::RaftLog(new_last + 1)),
                        ToSlice(key::RaftLog(p.last_index + 1)));
    }
  }
  if (batch.Count() == 0) return Status::Ok();
  CL_RETURN_IF_ERROR(core_.Write(&batch, sync));
  std::lock_guard lock(core_.mu);
  core_.pos.last_index = new_last;
  return Status::Ok();
}

Status RaftLogStore::Compact(RaftIndex i) {
  std::lock_guard write_lock(core_.raft_write_mu);
  CL_RETURN_IF_ERROR(core_.WriteAllowed());
  internal::Positions p = core_.positions();
  if (i <= p.log_base_index)
    return Status(Code::kCompacted, "already compacted to " + std::to_string(p.log_base_index.value()));
  if (i > p.applied)
    return FailedPrecondition("cannot compact to " + std::to_string(i.value()) +
                              ", past the applied index " + std::to_string(p.applied.value()));
  CL_ASSIGN_OR_RETURN(RaftTerm term, internal::TermAt(core_, p, i));
  rocksdb::WriteBatch batch;
  batch.DeleteRange(core_.h(internal::kRaftLog), ToSlice(key::RaftLog(RaftIndex(0))),
                    ToSlice(key::RaftLog(i + 1)));
  Bytes base = BigEndian64(i.value());
  PutBigEndian64(&base, term.value());
  batch.Put(core_.h(internal::kRaftState), ToSlice(key::kLogBase), base);
  CL_RETURN_IF_ERROR(core_.Write(&batch, /*sync=*/true));
  std::lock_guard lock(core_.mu);
  core_.pos.log_base_index = i;
  core_.pos.log_base_term = term;
  if (core_.pos.last_index < i) core_.pos.last_index = i;
  return Status::Ok();
}

}  // namespace cl::storage
