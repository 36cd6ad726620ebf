// The raft log as the core sees it (etcd log.go + log_unstable.go): the
// stable part in LogStorage plus an Unstable tail of entries (and perhaps a
// snapshot) that were accepted but not yet persisted by the caller.
//
//   storage: [first ........ stable last] unstable: [offset ..... last]
//   committed <= last; applied <= committed (checked).
//
// Pure; not thread-safe. The LogStorage is borrowed and must outlive the log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/strong_types.h"
#include "consensus/log_storage.h"

namespace cl::consensus {

// Entries and a snapshot received but not yet written to storage.
class Unstable {
 public:
  std::optional<raft::Snapshot> snapshot;
  std::vector<raft::Entry> entries;  // entries[k] has index offset + k
  RaftIndex offset;

  std::optional<RaftIndex> MaybeFirstIndex() const;
  std::optional<RaftIndex> MaybeLastIndex() const;
  std::optional<RaftTerm> MaybeTerm(RaftIndex i) const;
  // The caller persisted entries up to (i, t): drop them from here. Ignored
  // when (i, t) no longer matches (the tail was replaced meanwhile).
  void StableTo(RaftIndex i, RaftTerm t);
  void StableSnapTo(RaftIndex i);
  void Restore(const raft::Snapshot& snap);
  // Appends ents, replacing any conflicting unstable suffix.
  void TruncateAndAppend(const std::vector<raft::Entry>& ents);
  std::vector<raft::Entry> Slice(RaftIndex lo, RaftIndex hi) const;
};

class RaftLog {
 public:
  // Reads the first/last index from storage; committed = applied = first - 1.
  RaftLog(const LogStorage* storage, uint64_t max_next_ents_size);

  RaftIndex committed() const { return committed_; }
  RaftIndex applied() const { return applied_; }
  const Unstable& unstable() const { return unstable_; }

  RaftIndex FirstIndex() const;
  RaftIndex LastIndex() const;
  // The last index the caller has persisted (entries below the unstable tail).
  RaftIndex StableLastIndex() const;
  RaftTerm LastTerm() const;
  // Term of entry i; COMPACTED below first-1, LOG_UNAVAILABLE above last.
  Result<RaftTerm> Term(RaftIndex i) const;
  // Term or 0 when unknown.
  RaftTerm ZeroTermOnErr(RaftIndex i) const;
  bool MatchTerm(RaftIndex i, RaftTerm t) const;

  // Follower side of AppendEntries (§5.3). If the log has (index, log_term),
  // appends the new part of ents, commits up to min(leader_commit, last new
  // index) and returns the last new index; nullopt on a mismatch.
  // truncate_on_stale_append is TestingBugs: replace the suffix after a fully
  // matching (stale) append instead of keeping it.
  std::optional<RaftIndex> MaybeAppend(RaftIndex index, RaftTerm log_term,
                                       RaftIndex leader_commit,
                                       const std::vector<raft::Entry>& ents,
                                       bool truncate_on_stale_append = false);
  // Appends after any conflict point above committed; returns the last index.
  RaftIndex Append(const std::vector<raft::Entry>& ents);
  // The index of the first entry of ents whose term disagrees with the log,
  // or 0 if all match (entries past the end of the log disagree).
  RaftIndex FindConflict(const std::vector<raft::Entry>& ents) const;
  // The largest index <= index whose term is <= term, and that term (used to
  // skip back a whole term on a rejected append; thesis §5.3 optimisation).
  std::pair<RaftIndex, RaftTerm> FindConflictByTerm(RaftIndex index, RaftTerm term) const;

  // §5.4.1 election restriction: is (last_index, term) at least as up to date?
  bool IsUpToDate(RaftIndex last_index, RaftTerm term) const;

  void CommitTo(RaftIndex to);
  // Commits max_index if its term is `term` (only entries of the leader's own
  // term are committed by counting, §5.4.2); returns true if commit advanced.
  bool MaybeCommit(RaftIndex max_index, RaftTerm term);
  void AppliedTo(RaftIndex i);
  void StableTo(RaftIndex i, RaftTerm t) { unstable_.StableTo(i, t); }
  void StableSnapTo(RaftIndex i) { unstable_.StableSnapTo(i); }
  // Replaces the whole log with a snapshot (commit = snapshot index).
  void Restore(const raft::Snapshot& snap);

  std::vector<raft::Entry> UnstableEntries() const { return unstable_.entries; }
  // Committed entries not yet applied, at most max_next_ents_size bytes (at
  // least one entry if any).
  std::vector<raft::Entry> NextCommittedEntries() const;
  bool HasNextCommittedEntries() const;
  // The pending unstable snapshot if any, else the storage's.
  Result<raft::Snapshot> Snapshot() const;
  bool HasPendingSnapshot() const { return unstable_.snapshot.has_value(); }

  // Entries from i to the end, at most max_bytes (at least one). COMPACTED if
  // i is below the first index.
  Result<std::vector<raft::Entry>> Entries(RaftIndex i, uint64_t max_bytes) const;
  // [lo, hi), bounded by max_bytes (at least one entry).
  Result<std::vector<raft::Entry>> Slice(RaftIndex lo, RaftIndex hi, uint64_t max_bytes) const;
  // Every entry in the log (tests).
  std::vector<raft::Entry> AllEntries() const;

  std::string String() const;

 private:
  const LogStorage* storage_;
  Unstable unstable_;
  RaftIndex committed_;
  RaftIndex applied_;
  uint64_t max_next_ents_size_;
};

// Keeps a prefix of ents whose total ByteSizeLong() stays within max_bytes,
// always at least one entry.
void LimitSize(std::vector<raft::Entry>& ents, uint64_t max_bytes);
uint64_t EntriesSize(const std::vector<raft::Entry>& ents);

}  // namespace cl::consensus
