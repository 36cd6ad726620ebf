#include "consensus/progress.h"

#include <algorithm>

namespace cl::consensus {

std::string_view ProgressStateName(ProgressState s) {
  switch (s) {
    case ProgressState::kProbe: return "StateProbe";
    case ProgressState::kReplicate: return "StateReplicate";
    case ProgressState::kSnapshot: return "StateSnapshot";
  }
  return "?";
}

// ---- Inflights ----

Inflights::Inflights(int max_count, uint64_t max_bytes)
    : max_count_(max_count), max_bytes_(max_bytes) {
  CL_CHECK(max_count > 0, "Inflights needs a positive capacity");
}

void Inflights::Add(RaftIndex index, uint64_t bytes) {
  CL_CHECK(!Full(), "Inflights::Add on a full window");
  CL_CHECK(items_.empty() || items_.back().index < index, "Inflights indexes must increase");
  items_.push_back({index, bytes});
  bytes_ += bytes;
}

void Inflights::FreeLE(RaftIndex index) {
  while (!items_.empty() && items_.front().index <= index) {
    bytes_ -= items_.front().bytes;
    items_.pop_front();
  }
}

void Inflights::FreeFirstOne() {
  if (items_.empty()) return;
  FreeLE(items_.front().index);
}

void Inflights::Reset() {
  items_.clear();
  bytes_ = 0;
}

bool Inflights::Full() const {
  return static_cast<int>(items_.size()) >= max_count_ ||
         (max_bytes_ != 0 && bytes_ >= max_bytes_);
}

// ---- Progress ----

void Progress::ResetState(ProgressState s) {
  msg_app_flow_paused = false;
  pending_snapshot = RaftIndex(0);
  state = s;
  inflights.Reset();
}

void Progress::BecomeProbe() {
  // After a snapshot the follower is at least at the snapshot index.
  if (state == ProgressState::kSnapshot) {
    const RaftIndex pending = pending_snapshot;
    ResetState(ProgressState::kProbe);
    next = std::max(match.next(), pending.next());
  } else {
    ResetState(ProgressState::kProbe);
    next = match.next();
  }
}

void Progress::BecomeReplicate() {
  ResetState(ProgressState::kReplicate);
  next = match.next();
}

void Progress::BecomeSnapshot(RaftIndex snapshot_index) {
  ResetState(ProgressState::kSnapshot);
  pending_snapshot = snapshot_index;
}

void Progress::SentEntries(uint64_t count, uint64_t bytes) {
  switch (state) {
    case ProgressState::kReplicate:
      if (count > 0) {
        next += count;
        inflights.Add(next - 1, bytes);
      }
      break;
    case ProgressState::kProbe:
      // One probe per heartbeat interval: wait for its answer.
      msg_app_flow_paused = true;
      break;
    case ProgressState::kSnapshot:
      CL_UNREACHABLE("sending entries to a follower in StateSnapshot");
  }
}

bool Progress::MaybeUpdate(RaftIndex n) {
  bool updated = false;
  if (match < n) {
    match = n;
    updated = true;
    msg_app_flow_paused = false;
  }
  next = std::max(next, n.next());
  return updated;
}

bool Progress::MaybeDecrTo(RaftIndex rejected, RaftIndex match_hint) {
  if (state == ProgressState::kReplicate) {
    // A rejection at or below match is stale (reordered): the follower has
    // since accepted up to match.
    if (rejected <= match) return false;
    next = match.next();
    return true;
  }
  // In probe only the answer to the last probe (at next-1) counts.
  if (next - 1 != rejected) return false;
  // A current answer hinting below match means the follower lost entries it
  // had acknowledged: its data directory was wiped or restored from an old
  // backup (raft assumes durable state; operators do not always oblige).
  // Start over from what it has, else the leader would probe at match+1
  // forever. Commit never moves back, so this is safe for what is committed;
  // the lost copy is simply made again. A legitimate hint is never below
  // match: entries up to match agree with the leader's log, whose terms are
  // not above the probe's log term.
  if (match_hint < match) match = match_hint;
  next = std::max(std::min(rejected, match_hint.next()), match.next());
  msg_app_flow_paused = false;
  return true;
}

bool Progress::IsPaused() const {
  switch (state) {
    case ProgressState::kProbe: return msg_app_flow_paused;
    case ProgressState::kReplicate: return inflights.Full();
    case ProgressState::kSnapshot: return true;
  }
  return true;
}

ProgressView Progress::View() const {
  return ProgressView{.match = match,
                      .next = next,
                      .state = state,
                      .learner = is_learner,
                      .recent_active = recent_active,
                      .inflight = inflights.Count()};
}

std::string Progress::String() const {
  std::string s = std::string(ProgressStateName(state)) + " match=" +
                  std::to_string(match.value()) + " next=" + std::to_string(next.value());
  if (is_learner) s += " learner";
  if (state == ProgressState::kSnapshot) {
    s += " pending_snap=" + std::to_string(pending_snapshot.value());
  }
  if (state == ProgressState::kProbe && msg_app_flow_paused) s += " paused";
  if (inflights.Count() > 0) s += " inflight=" + std::to_string(inflights.Count());
  if (inflights.Full() && state == ProgressState::kReplicate) s += "[full]";
  return s;
}

// ---- TrackerConfig ----

namespace {
std::string IdList(const std::set<NodeId>& ids) {
  std::string s;
  for (NodeId id : ids) {
    if (!s.empty()) s += ' ';
    s += std::to_string(id.value());
  }
  return s;
}
}  // namespace

std::string TrackerConfig::String() const {
  std::string s = "voters=" + voters.String();
  if (!learners.empty()) s += " learners=(" + IdList(learners) + ")";
  if (!learners_next.empty()) s += " learners_next=(" + IdList(learners_next) + ")";
  if (auto_leave) s += " autoleave";
  return s;
}

raft::ConfState TrackerConfig::ToConfState() const {
  raft::ConfState cs;
  for (NodeId id : voters.incoming.ids()) cs.add_voters(id.value());
  for (NodeId id : voters.outgoing.ids()) cs.add_voters_outgoing(id.value());
  for (NodeId id : learners) cs.add_learners(id.value());
  for (NodeId id : learners_next) cs.add_learners_next(id.value());
  cs.set_auto_leave(auto_leave);
  return cs;
}

// ---- ProgressTracker ----

RaftIndex ProgressTracker::Committed(bool count_learners) const {
  AckedIndexes acked;
  for (const auto& [id, pr] : progress) acked[id] = pr.match;
  if (!count_learners) return config.voters.CommittedIndex(acked);
  // TestingBugs::count_learner_in_quorum: learners wrongly join the incoming
  // majority, so fewer voters suffice to "commit".
  JointConfig buggy = config.voters;
  for (NodeId id : config.learners) buggy.incoming.mutable_ids().insert(id);
  return buggy.CommittedIndex(acked);
}

bool ProgressTracker::QuorumActive() const {
  std::map<NodeId, bool> votes;
  for (const auto& [id, pr] : progress) {
    if (pr.is_learner) continue;
    votes[id] = pr.recent_active;
  }
  return config.voters.Vote(votes) == VoteResult::kWon;
}

bool ProgressTracker::IsSingleton() const {
  return config.voters.incoming.size() == 1 && config.voters.outgoing.empty();
}

std::vector<NodeId> ProgressTracker::VoterNodes() const {
  const std::set<NodeId> ids = config.voters.Ids();
  return {ids.begin(), ids.end()};
}

std::vector<NodeId> ProgressTracker::LearnerNodes() const {
  std::set<NodeId> ids = config.learners;
  ids.insert(config.learners_next.begin(), config.learners_next.end());
  return {ids.begin(), ids.end()};
}

void ProgressTracker::RecordVote(NodeId id, bool granted) { votes_.try_emplace(id, granted); }

ProgressTracker::Tally ProgressTracker::TallyVotes() const {
  Tally t;
  for (const auto& [id, pr] : progress) {
    if (pr.is_learner) continue;
    auto it = votes_.find(id);
    if (it == votes_.end()) continue;
    if (it->second) {
      ++t.granted;
    } else {
      ++t.rejected;
    }
  }
  t.result = config.voters.Vote(votes_);
  return t;
}

}  // namespace cl::consensus
