#include "consensus/raft_log.h"

#include <algorithm>

namespace cl::consensus {

// ---- Unstable ----

std::optional<RaftIndex> Unstable::MaybeFirstIndex() const {
  if (snapshot) return RaftIndex(snapshot->metadata().index() + 1);
  return std::nullopt;
}

std::optional<RaftIndex> Unstable::MaybeLastIndex() const {
  if (!entries.empty()) return offset + (entries.size() - 1);
  if (snapshot) return RaftIndex(snapshot->metadata().index());
  return std::nullopt;
}

std::optional<RaftTerm> Unstable::MaybeTerm(RaftIndex i) const {
  if (i < offset) {
    if (snapshot && snapshot->metadata().index() == i.value()) {
      return RaftTerm(snapshot->metadata().term());
    }
    return std::nullopt;
  }
  auto last = MaybeLastIndex();
  if (!last || i > *last) return std::nullopt;
  if (entries.empty()) return std::nullopt;
  return RaftTerm(entries[i - offset].term());
}

void Unstable::StableTo(RaftIndex i, RaftTerm t) {
  auto gt = MaybeTerm(i);
  if (!gt || *gt != t || i < offset) return;
  entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(i - offset + 1));
  offset = i.next();
}

void Unstable::StableSnapTo(RaftIndex i) {
  if (snapshot && snapshot->metadata().index() == i.value()) snapshot.reset();
}

void Unstable::Restore(const raft::Snapshot& snap) {
  offset = RaftIndex(snap.metadata().index() + 1);
  entries.clear();
  snapshot = snap;
}

void Unstable::TruncateAndAppend(const std::vector<raft::Entry>& ents) {
  if (ents.empty()) return;
  const RaftIndex after(ents.front().index());
  if (after == offset + entries.size()) {
    entries.insert(entries.end(), ents.begin(), ents.end());
  } else if (after <= offset) {
    // Replaces the whole unstable tail (and, once persisted, a stable suffix).
    offset = after;
    entries = ents;
  } else {
    entries.resize(after - offset);
    entries.insert(entries.end(), ents.begin(), ents.end());
  }
}

std::vector<raft::Entry> Unstable::Slice(RaftIndex lo, RaftIndex hi) const {
  CL_CHECK(lo <= hi, "unstable slice lo > hi");
  CL_CHECK(offset <= lo && hi <= offset + entries.size(), "unstable slice out of bounds");
  return {entries.begin() + static_cast<std::ptrdiff_t>(lo - offset),
          entries.begin() + static_cast<std::ptrdiff_t>(hi - offset)};
}

// ---- helpers ----

uint64_t EntriesSize(const std::vector<raft::Entry>& ents) {
  uint64_t n = 0;
  for (const auto& e : ents) n += e.ByteSizeLong();
  return n;
}

void LimitSize(std::vector<raft::Entry>& ents, uint64_t max_bytes) {
  if (ents.empty()) return;
  uint64_t size = ents[0].ByteSizeLong();
  size_t k = 1;
  for (; k < ents.size(); ++k) {
    size += ents[k].ByteSizeLong();
    if (size > max_bytes) break;
  }
  ents.resize(k);
}

// ---- RaftLog ----

RaftLog::RaftLog(const LogStorage* storage, uint64_t max_next_ents_size)
    : storage_(storage), max_next_ents_size_(max_next_ents_size) {
  CL_CHECK(storage != nullptr, "RaftLog needs a storage");
  auto first = storage->FirstIndex();
  auto last = storage->LastIndex();
  CL_CHECK(first.ok() && last.ok(), "storage lost its first/last index");
  unstable_.offset = last->next();
  committed_ = *first - 1;
  applied_ = *first - 1;
}

RaftIndex RaftLog::FirstIndex() const {
  if (auto i = unstable_.MaybeFirstIndex()) return *i;
  auto r = storage_->FirstIndex();
  CL_CHECK(r.ok(), "storage FirstIndex failed");
  return *r;
}

RaftIndex RaftLog::LastIndex() const {
  if (auto i = unstable_.MaybeLastIndex()) return *i;
  auto r = storage_->LastIndex();
  CL_CHECK(r.ok(), "storage LastIndex failed");
  return *r;
}

RaftIndex RaftLog::StableLastIndex() const {
  if (unstable_.snapshot) {
    auto r = storage_->LastIndex();
    CL_CHECK(r.ok(), "storage LastIndex failed");
    return std::min(*r, unstable_.offset - 1);
  }
  return unstable_.offset - 1;
}

RaftTerm RaftLog::LastTerm() const {
  auto t = Term(LastIndex());
  CL_CHECK(t.ok(), "term of the last entry is unknown");
  return *t;
}

Result<RaftTerm> RaftLog::Term(RaftIndex i) const {
  // Valid range: [first - 1, last]; the entry before first is the snapshot's.
  const RaftIndex dummy = FirstIndex() - 1;
  if (i < dummy) return Status(Code::kCompacted, "term of a compacted index");
  if (i > LastIndex()) return Status(Code::kLogUnavailable, "term past the last index");
  if (auto t = unstable_.MaybeTerm(i)) return *t;
  auto t = storage_->Term(i);
  if (t.ok()) return t;
  const Code c = t.status().code();
  CL_CHECK(c == Code::kCompacted || c == Code::kLogUnavailable,
           "storage Term failed unexpectedly");
  return t;
}

RaftTerm RaftLog::ZeroTermOnErr(RaftIndex i) const { return Term(i).value_or(RaftTerm(0)); }

bool RaftLog::MatchTerm(RaftIndex i, RaftTerm t) const {
  auto term = Term(i);
  return term.ok() && *term == t;
}

std::optional<RaftIndex> RaftLog::MaybeAppend(RaftIndex index, RaftTerm log_term,
                                              RaftIndex leader_commit,
                                              const std::vector<raft::Entry>& ents,
                                              bool truncate_on_stale_append) {
  // §5.3 consistency check: reject unless our log holds (index, log_term).
  if (!MatchTerm(index, log_term)) return std::nullopt;
  const RaftIndex last_new = index + ents.size();
  const RaftIndex ci = FindConflict(ents);
  if (ci == RaftIndex(0)) {
    // Every entry already present: a stale or duplicate append. The entries
    // after last_new may be newer ones this follower has acknowledged, so
    // they must stay (§5.3: delete only what *conflicts*).
    if (truncate_on_stale_append && !ents.empty() && last_new < LastIndex() &&
        last_new >= committed_) {
      unstable_.TruncateAndAppend(ents);  // TestingBugs: drops the matching suffix
    }
  } else {
    // A conflict with a committed entry would mean two leaders committed
    // different entries at one index: safety is already lost.
    CL_CHECK(ci > committed_, "append conflicts with a committed entry");
    Append({ents.begin() + static_cast<std::ptrdiff_t>(ci - (index + 1)), ents.end()});
  }
  CommitTo(std::min(leader_commit, last_new));
  return last_new;
}

RaftIndex RaftLog::Append(const std::vector<raft::Entry>& ents) {
  if (ents.empty()) return LastIndex();
  const RaftIndex after(ents.front().index() - 1);
  CL_CHECK(after >= committed_, "append would truncate committed entries");
  CL_CHECK(after <= LastIndex(), "append leaves a gap in the log");
  for (size_t k = 1; k < ents.size(); ++k) {
    CL_CHECK(ents[k].index() == ents[k - 1].index() + 1, "appended entries not contiguous");
  }
  unstable_.TruncateAndAppend(ents);
  return LastIndex();
}

RaftIndex RaftLog::FindConflict(const std::vector<raft::Entry>& ents) const {
  for (const auto& e : ents) {
    if (!MatchTerm(RaftIndex(e.index()), RaftTerm(e.term()))) return RaftIndex(e.index());
  }
  return RaftIndex(0);
}

std::pair<RaftIndex, RaftTerm> RaftLog::FindConflictByTerm(RaftIndex index,
                                                           RaftTerm term) const {
  for (;;) {
    auto t = Term(index);
    if (!t.ok()) return {index, RaftTerm(0)};
    if (*t <= term) return {index, *t};
    if (index == RaftIndex(0)) return {index, *t};
    index = index - 1;
  }
}

bool RaftLog::IsUpToDate(RaftIndex last_index, RaftTerm term) const {
  // §5.4.1: compare the terms of the last entries; with equal terms the
  // longer log is more up to date.
  const RaftTerm lt = LastTerm();
  return term > lt || (term == lt && last_index >= LastIndex());
}

void RaftLog::CommitTo(RaftIndex to) {
  if (to <= committed_) return;  // never decreases
  CL_CHECK(to <= LastIndex(), "commit index past the last index");
  committed_ = to;
}

bool RaftLog::MaybeCommit(RaftIndex max_index, RaftTerm term) {
  if (max_index > committed_ && ZeroTermOnErr(max_index) == term) {
    CommitTo(max_index);
    return true;
  }
  return false;
}

void RaftLog::AppliedTo(RaftIndex i) {
  if (i == RaftIndex(0)) return;
  CL_CHECK(i <= committed_, "applied past committed");
  CL_CHECK(i >= applied_, "applied index went backwards");
  applied_ = i;
}

void RaftLog::Restore(const raft::Snapshot& snap) {
  const RaftIndex idx(snap.metadata().index());
  CL_CHECK(idx >= committed_, "snapshot below the commit index");
  committed_ = idx;
  unstable_.Restore(snap);
}

std::vector<raft::Entry> RaftLog::NextCommittedEntries() const {
  const RaftIndex off = std::max(applied_.next(), FirstIndex());
  if (committed_.next() <= off) return {};
  auto r = Slice(off, committed_.next(), max_next_ents_size_);
  CL_CHECK(r.ok(), "committed entries not available");
  return std::move(r).value();
}

bool RaftLog::HasNextCommittedEntries() const {
  const RaftIndex off = std::max(applied_.next(), FirstIndex());
  return committed_.next() > off;
}

Result<raft::Snapshot> RaftLog::Snapshot() const {
  if (unstable_.snapshot) return *unstable_.snapshot;
  return storage_->Snapshot();
}

Result<std::vector<raft::Entry>> RaftLog::Entries(RaftIndex i, uint64_t max_bytes) const {
  if (i > LastIndex()) return std::vector<raft::Entry>{};
  return Slice(i, LastIndex().next(), max_bytes);
}

Result<std::vector<raft::Entry>> RaftLog::Slice(RaftIndex lo, RaftIndex hi,
                                                uint64_t max_bytes) const {
  CL_CHECK(lo <= hi, "slice lo > hi");
  if (lo < FirstIndex()) return Status(Code::kCompacted, "slice below the first index");
  CL_CHECK(hi <= LastIndex().next(), "slice past the last index");
  std::vector<raft::Entry> out;
  if (lo == hi) return out;
  if (lo < unstable_.offset) {
    auto stored = storage_->Entries(lo, std::min(hi, unstable_.offset), max_bytes);
    if (!stored.ok()) {
      if (stored.status().code() == Code::kCompacted) return stored.status();
      CL_CHECK(false, "storage Entries failed unexpectedly");
    }
    out = std::move(stored).value();
    // Storage stopped early because of the size limit: done.
    if (out.size() < std::min(hi, unstable_.offset) - lo) return out;
  }
  if (hi > unstable_.offset) {
    auto tail = unstable_.Slice(std::max(lo, unstable_.offset), hi);
    out.insert(out.end(), tail.begin(), tail.end());
  }
  LimitSize(out, max_bytes);
  return out;
}

std::vector<raft::Entry> RaftLog::AllEntries() const {
  auto r = Entries(FirstIndex(), UINT64_MAX);
  CL_CHECK(r.ok(), "AllEntries raced a compaction");
  return std::move(r).value();
}

std::string RaftLog::String() const {
  return "committed=" + std::to_string(committed_.value()) +
         " applied=" + std::to_string(applied_.value()) +
         " unstable.offset=" + std::to_string(unstable_.offset.value()) +
         " len(unstable)=" + std::to_string(unstable_.entries.size());
}

}  // namespace cl::consensus
