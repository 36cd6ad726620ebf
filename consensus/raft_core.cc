// The raft state machine. Section numbers refer to the Raft paper (Ongaro &
// Ousterhout, "In Search of an Understandable Consensus Algorithm", 2014) and,
// where marked "thesis", to Ongaro's dissertation (2014).
#include "consensus/raft_core.h"

#include <algorithm>
#include <string>

#include "consensus/confchange.h"

namespace cl::consensus {

namespace {

uint64_t PayloadSize(const std::vector<raft::Entry>& es) {
  uint64_t n = 0;
  for (const auto& e : es) n += e.data().size();
  return n;
}

raft::MessageType VoteRespType(raft::MessageType t) {
  switch (t) {
    case raft::MSG_VOTE: return raft::MSG_VOTE_RESP;
    case raft::MSG_PRE_VOTE: return raft::MSG_PRE_VOTE_RESP;
    default: CL_UNREACHABLE("not a vote message");
  }
}

Status ProposalDropped(std::string why) { return Unavailable("proposal dropped: " + why); }

}  // namespace

std::string_view StateRoleName(StateRole r) {
  switch (r) {
    case StateRole::kFollower: return "StateFollower";
    case StateRole::kPreCandidate: return "StatePreCandidate";
    case StateRole::kCandidate: return "StateCandidate";
    case StateRole::kLeader: return "StateLeader";
  }
  return "?";
}

std::string_view MessageTypeName(raft::MessageType t) {
  switch (t) {
    case raft::MSG_HUP: return "MsgHup";
    case raft::MSG_BEAT: return "MsgBeat";
    case raft::MSG_PROP: return "MsgProp";
    case raft::MSG_APP: return "MsgApp";
    case raft::MSG_APP_RESP: return "MsgAppResp";
    case raft::MSG_VOTE: return "MsgVote";
    case raft::MSG_VOTE_RESP: return "MsgVoteResp";
    case raft::MSG_SNAP: return "MsgSnap";
    case raft::MSG_HEARTBEAT: return "MsgHeartbeat";
    case raft::MSG_HEARTBEAT_RESP: return "MsgHeartbeatResp";
    case raft::MSG_UNREACHABLE: return "MsgUnreachable";
    case raft::MSG_SNAP_STATUS: return "MsgSnapStatus";
    case raft::MSG_CHECK_QUORUM: return "MsgCheckQuorum";
    case raft::MSG_TRANSFER_LEADER: return "MsgTransferLeader";
    case raft::MSG_TIMEOUT_NOW: return "MsgTimeoutNow";
    case raft::MSG_READ_INDEX: return "MsgReadIndex";
    case raft::MSG_READ_INDEX_RESP: return "MsgReadIndexResp";
    case raft::MSG_PRE_VOTE: return "MsgPreVote";
    case raft::MSG_PRE_VOTE_RESP: return "MsgPreVoteResp";
    default: return "MsgUnknown";
  }
}

bool IsLocalMessage(raft::MessageType t) {
  return t == raft::MSG_HUP || t == raft::MSG_BEAT || t == raft::MSG_UNREACHABLE ||
         t == raft::MSG_SNAP_STATUS || t == raft::MSG_CHECK_QUORUM;
}

bool IsResponseMessage(raft::MessageType t) {
  return t == raft::MSG_APP_RESP || t == raft::MSG_VOTE_RESP || t == raft::MSG_HEARTBEAT_RESP ||
         t == raft::MSG_UNREACHABLE || t == raft::MSG_PRE_VOTE_RESP;
}

// ---- construction ----

Raft::Raft(const Config& config)
    : cfg_(config),
      id_(config.id),
      log_(config.storage, config.max_committed_size_per_ready),
      trk_(config.max_inflight_msgs, config.max_inflight_bytes),
      read_only_(config.read_only),
      rng_(config.random_seed) {}

Result<std::unique_ptr<Raft>> Raft::Create(const Config& config) {
  CL_RETURN_IF_ERROR(config.Validate());
  CL_ASSIGN_OR_RETURN(InitialState init, config.storage->GetInitialState());
  std::unique_ptr<Raft> r(new Raft(config));
  CL_ASSIGN_OR_RETURN(ConfigAndProgress cp,
                      RestoreConfig(init.conf_state, r->log_.LastIndex(), config.max_inflight_msgs,
                                    config.max_inflight_bytes));
  r->SwitchToConfig(std::move(cp));
  const raft::HardState& hs = init.hard_state;
  if (hs.term() != 0 || hs.vote() != 0 || hs.commit() != 0) {
    const RaftIndex commit(hs.commit());
    if (commit < r->log_.committed() || commit > r->log_.LastIndex()) {
      return InvalidArgument("hard state commit " + std::to_string(hs.commit()) +
                             " is out of the log's range [" +
                             std::to_string(r->log_.committed().value()) + ", " +
                             std::to_string(r->log_.LastIndex().value()) + "]");
    }
    r->log_.CommitTo(commit);
    r->term_ = RaftTerm(hs.term());
    r->vote_ = NodeId(hs.vote());
  }
  if (config.applied > RaftIndex(0)) {
    if (config.applied > r->log_.committed()) {
      return InvalidArgument("config.applied " + std::to_string(config.applied.value()) +
                             " is past the commit index " +
                             std::to_string(r->log_.committed().value()));
    }
    r->log_.AppliedTo(config.applied);
  }
  r->BecomeFollower(r->term_, NodeId(0));
  return r;
}

raft::HardState Raft::HardState() const {
  raft::HardState hs;
  hs.set_term(term_.value());
  hs.set_vote(vote_.value());
  hs.set_commit(log_.committed().value());
  return hs;
}

// ---- sending ----

void Raft::Send(raft::Message m) {
  if (m.from() == 0) m.set_from(id_.value());
  const auto t = m.type();
  if (t == raft::MSG_VOTE || t == raft::MSG_VOTE_RESP || t == raft::MSG_PRE_VOTE ||
      t == raft::MSG_PRE_VOTE_RESP) {
    // Vote messages carry the term of the election they are for (a pre-vote
    // is for term+1 without moving to it), never implicitly ours.
    CL_CHECK(m.term() != 0, "vote message without a term");
  } else {
    CL_CHECK(m.term() == 0, "term set on a non-vote message");
    // Proposals and read requests forwarded to the leader stay local-like:
    // they carry no term so a leader of any term handles them.
    if (t != raft::MSG_PROP && t != raft::MSG_READ_INDEX) m.set_term(term_.value());
  }
  msgs_.push_back(std::move(m));
}

bool Raft::MaybeSendAppend(NodeId to, bool send_if_empty) {
  auto it = trk_.progress.find(to);
  if (it == trk_.progress.end()) return false;
  Progress& pr = it->second;
  if (pr.IsPaused()) return false;
  CL_CHECK(pr.next <= log_.LastIndex().next(), "progress next past the leader's log");
  raft::Message m;
  m.set_to(to.value());
  auto term = log_.Term(pr.next - 1);
  auto ents = log_.Entries(pr.next, cfg_.max_size_per_msg);
  if (ents.ok() && ents->empty() && !send_if_empty) return false;
  if (!term.ok() || !ents.ok()) {
    // §7: the entries the follower needs are compacted; send a snapshot.
    if (!pr.recent_active) return false;  // do not ship snapshots to the unreachable
    auto snap = log_.Snapshot();
    if (!snap.ok()) {
      CL_CHECK(snap.status().code() == Code::kLogUnavailable, "snapshot unavailable");
      return false;  // being made; try again later
    }
    CL_CHECK(snap->metadata().index() != 0, "need a non-empty snapshot");
    m.set_type(raft::MSG_SNAP);
    *m.mutable_snapshot() = *snap;
    pr.BecomeSnapshot(RaftIndex(snap->metadata().index()));
  } else {
    m.set_type(raft::MSG_APP);
    m.set_index((pr.next - 1).value());
    m.set_log_term(term->value());
    m.set_commit(log_.committed().value());
    for (auto& e : *ents) *m.add_entries() = std::move(e);
    uint64_t bytes = 0;
    for (const auto& e : m.entries()) bytes += e.ByteSizeLong();
    pr.SentEntries(static_cast<uint64_t>(m.entries_size()), bytes);
  }
  Send(std::move(m));
  return true;
}

void Raft::SendHeartbeat(NodeId to, const std::string& ctx) {
  // The follower may not have all committed entries yet: never tell it to
  // commit past what it is known to store.
  const RaftIndex commit = std::min(trk_.progress.at(to).match, log_.committed());
  raft::Message m;
  m.set_to(to.value());
  m.set_type(raft::MSG_HEARTBEAT);
  m.set_commit(commit.value());
  m.set_context(ctx);
  Send(std::move(m));
}

void Raft::BcastAppend() {
  for (const auto& [id, pr] : trk_.progress) {
    if (id != id_) SendAppend(id);
  }
}

void Raft::BcastHeartbeat() { BcastHeartbeatWithCtx(read_only_.LastPendingRequestCtx()); }

void Raft::BcastHeartbeatWithCtx(const std::string& ctx) {
  for (const auto& [id, pr] : trk_.progress) {
    if (id != id_) SendHeartbeat(id, ctx);
  }
}

void Raft::SendTimeoutNow(NodeId to) {
  raft::Message m;
  m.set_to(to.value());
  m.set_type(raft::MSG_TIMEOUT_NOW);
  Send(std::move(m));
}

// ---- log and commit ----

bool Raft::AppendEntry(std::vector<raft::Entry> es) {
  RaftIndex li = log_.LastIndex();
  for (size_t i = 0; i < es.size(); ++i) {
    es[i].set_term(term_.value());
    es[i].set_index((li + (i + 1)).value());
  }
  if (!IncreaseUncommittedSize(es)) return false;
  log_.Append(es);
  // The leader acknowledges its own entries once the caller has persisted
  // them (OnPersisted), so a commit never counts an entry only in memory.
  return true;
}

bool Raft::MaybeCommit() {
  const RaftIndex mci = trk_.Committed(cfg_.bugs.count_learner_in_quorum);
  if (cfg_.bugs.commit_previous_term_by_counting) {
    // TestingBugs: commit whatever a majority stores, whatever its term
    // (exactly what Figure 8 shows to be unsafe).
    if (mci > log_.committed() && mci <= log_.LastIndex()) {
      log_.CommitTo(mci);
      return true;
    }
    return false;
  }
  // §5.4.2: "Raft never commits log entries from previous terms by counting
  // replicas. Only log entries from the leader's current term are committed
  // by counting replicas."
  return log_.MaybeCommit(mci, term_);
}

bool Raft::IncreaseUncommittedSize(const std::vector<raft::Entry>& es) {
  const uint64_t s = PayloadSize(es);
  // Always admit one proposal into an empty window, however large.
  if (uncommitted_size_ > 0 && s > 0 && uncommitted_size_ + s > cfg_.max_uncommitted_entries_size) {
    return false;
  }
  uncommitted_size_ += s;
  return true;
}

void Raft::ReduceUncommittedSize(const std::vector<raft::Entry>& ents) {
  if (state_ != StateRole::kLeader) return;
  const uint64_t s = PayloadSize(ents);
  // Entries of a previous term were never counted: saturate at zero.
  uncommitted_size_ = s > uncommitted_size_ ? 0 : uncommitted_size_ - s;
}

bool Raft::CommittedEntryInCurrentTerm() const {
  return log_.ZeroTermOnErr(log_.committed()) == term_;
}

void Raft::ReleasePendingReadIndexMessages() {
  if (pending_read_index_messages_.empty() || !CommittedEntryInCurrentTerm()) return;
  auto msgs = std::move(pending_read_index_messages_);
  pending_read_index_messages_.clear();
  for (const auto& m : msgs) SendMsgReadIndexResponse(m);
}

void Raft::SendMsgReadIndexResponse(const raft::Message& m) {
  switch (read_only_.option()) {
    case ReadOnlyOption::kSafe: {
      // Thesis §6.4: record the commit index, then confirm leadership with a
      // heartbeat round carrying the request context.
      const std::string& ctx = m.entries(0).data();
      read_only_.AddRequest(log_.committed(), m);
      read_only_.RecvAck(id_, ctx);
      BcastHeartbeatWithCtx(ctx);
      break;
    }
    case ReadOnlyOption::kLeaseBased:
      // Thesis §6.4.1: the lease (check-quorum) stands in for the round.
      if (auto resp = ResponseToReadIndexReq(m, log_.committed())) Send(std::move(*resp));
      break;
  }
}

std::optional<raft::Message> Raft::ResponseToReadIndexReq(const raft::Message& req,
                                                          RaftIndex read_index) {
  if (req.from() == 0 || NodeId(req.from()) == id_) {
    read_states_.push_back(ReadState{.index = read_index, .request_ctx = req.entries(0).data()});
    return std::nullopt;
  }
  raft::Message resp;
  resp.set_type(raft::MSG_READ_INDEX_RESP);
  resp.set_to(req.from());
  resp.set_index(read_index.value());
  *resp.mutable_entries() = req.entries();
  return resp;
}

// ---- role transitions ----

void Raft::Reset(RaftTerm term) {
  if (term_ != term) {
    term_ = term;
    vote_ = NodeId(0);
  }
  lead_ = NodeId(0);
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedElectionTimeout();
  AbortLeaderTransfer();
  trk_.ResetVotes();
  const RaftIndex last = log_.LastIndex();
  for (auto& [id, pr] : trk_.progress) {
    const bool learner = pr.is_learner;
    pr = Progress(last.next(), cfg_.max_inflight_msgs, cfg_.max_inflight_bytes, learner);
    if (id == id_) pr.match = log_.StableLastIndex();
  }
  pending_conf_index_ = RaftIndex(0);
  uncommitted_size_ = 0;
  read_only_ = ReadOnly(cfg_.read_only);
  pending_read_index_messages_.clear();
}

void Raft::ResetRandomizedElectionTimeout() {
  // §5.2: randomized in [election_ticks, 2 * election_ticks).
  randomized_election_timeout_ =
      cfg_.election_ticks + static_cast<int>(rng_.Uniform(static_cast<uint64_t>(cfg_.election_ticks)));
}

void Raft::BecomeFollower(RaftTerm term, NodeId lead) {
  Reset(term);
  lead_ = lead;
  state_ = StateRole::kFollower;
}

void Raft::BecomeCandidate() {
  CL_CHECK(state_ != StateRole::kLeader, "invalid transition leader -> candidate");
  // §5.2: "To begin an election, a follower increments its current term ...
  // votes for itself".
  Reset(term_ + 1);
  vote_ = id_;
  state_ = StateRole::kCandidate;
}

void Raft::BecomePreCandidate() {
  CL_CHECK(state_ != StateRole::kLeader, "invalid transition leader -> pre-candidate");
  // Thesis §9.6: a pre-candidate changes neither its term nor its vote, so
  // a node that cannot win does not disturb the cluster.
  trk_.ResetVotes();
  lead_ = NodeId(0);
  state_ = StateRole::kPreCandidate;
}

void Raft::BecomeLeader() {
  CL_CHECK(state_ != StateRole::kFollower, "invalid transition follower -> leader");
  Reset(term_);
  lead_ = id_;
  state_ = StateRole::kLeader;
  if (auto it = trk_.progress.find(id_); it != trk_.progress.end()) {
    it->second.BecomeReplicate();
    it->second.recent_active = true;
  }
  // Any conf change in the uncommitted tail may still be pending: allow no
  // new one until everything up to here is applied.
  pending_conf_index_ = log_.LastIndex();
  // §8 / thesis §6.4: a no-op entry of the new term lets the leader learn
  // what is committed (and commit earlier terms' entries indirectly, §5.4.2).
  raft::Entry empty;
  CL_CHECK(AppendEntry({empty}), "appending the leader's empty entry failed");
}

bool Raft::Promotable() const {
  auto it = trk_.progress.find(id_);
  return it != trk_.progress.end() && !it->second.is_learner && !log_.HasPendingSnapshot();
}

bool Raft::HasUnappliedConfChanges() const {
  // Scanned in pages of max_committed_size_per_ready bytes, so a long
  // unapplied tail is never loaded at once.
  RaftIndex lo = std::max(log_.applied().next(), log_.FirstIndex());
  const RaftIndex hi = log_.committed().next();
  while (lo < hi) {
    auto ents = log_.Slice(lo, hi, cfg_.max_committed_size_per_ready);
    if (!ents.ok() || ents->empty()) return false;
    for (const auto& e : *ents) {
      if (e.type() == raft::ENTRY_CONF_CHANGE) return true;
    }
    lo += ents->size();
  }
  return false;
}

void Raft::Hup(CampaignType t) {
  if (state_ == StateRole::kLeader) return;
  if (!Promotable()) return;
  // A node must not campaign with a configuration it has committed but not
  // applied: it might count votes of the wrong membership.
  if (HasUnappliedConfChanges()) return;
  Campaign(t);
}

ProgressTracker::Tally Raft::Poll(NodeId id, raft::MessageType, bool granted) {
  trk_.RecordVote(id, granted);
  return trk_.TallyVotes();
}

void Raft::Campaign(CampaignType t) {
  if (!Promotable()) return;
  RaftTerm term;
  raft::MessageType vote_msg;
  if (t == CampaignType::kPreElection) {
    BecomePreCandidate();
    vote_msg = raft::MSG_PRE_VOTE;
    term = term_ + 1;  // the term the real election would use
  } else {
    BecomeCandidate();
    vote_msg = raft::MSG_VOTE;
    term = term_;
  }
  const auto self = Poll(id_, VoteRespType(vote_msg), true);
  if (self.result == VoteResult::kWon) {
    // A single-voter configuration wins at once.
    if (t == CampaignType::kPreElection) {
      Campaign(CampaignType::kElection);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (NodeId id : trk_.VoterNodes()) {
    if (id == id_) continue;
    raft::Message m;
    m.set_to(id.value());
    m.set_type(vote_msg);
    m.set_term(term.value());
    m.set_index(log_.LastIndex().value());
    m.set_log_term(log_.LastTerm().value());
    if (t == CampaignType::kTransfer) m.set_context(kCampaignTransfer);
    Send(std::move(m));
  }
}

// ---- Step ----

Status Raft::Step(const raft::Message& m) {
  const RaftTerm mterm(m.term());
  const auto type = m.type();
  if (m.term() == 0) {
    // Local message (or a forwarded proposal / read request).
  } else if (mterm > term_) {
    if (type == raft::MSG_VOTE || type == raft::MSG_PRE_VOTE) {
      const bool force = m.context() == kCampaignTransfer;
      // Thesis §4.2.3: while a follower hears from a leader within the minimum
      // election timeout it ignores vote requests, so a removed or
      // partitioned node cannot depose a working leader.
      const bool in_lease = cfg_.check_quorum && lead_ != NodeId(0) &&
                            election_elapsed_ < cfg_.election_ticks;
      if (!force && in_lease) return Status::Ok();
    }
    if (type == raft::MSG_PRE_VOTE) {
      // A pre-vote never changes our term.
    } else if (type == raft::MSG_PRE_VOTE_RESP && !m.reject()) {
      // A granted pre-vote carries the future term; we move to it only if
      // the pre-election wins.
    } else {
      // §5.1: "If a server receives a request with a higher term, it updates
      // its current term"; a leader of that term is known from appends.
      if (type == raft::MSG_APP || type == raft::MSG_HEARTBEAT || type == raft::MSG_SNAP) {
        BecomeFollower(mterm, NodeId(m.from()));
      } else {
        BecomeFollower(mterm, NodeId(0));
      }
    }
  } else if (mterm < term_) {
    if ((cfg_.check_quorum || cfg_.pre_vote) &&
        (type == raft::MSG_HEARTBEAT || type == raft::MSG_APP)) {
      // A stale leader (e.g. healed from a partition) learns the new term
      // from this response and steps down. Without it, with check-quorum or
      // pre-vote this node would never raise its term to reach the leader.
      raft::Message resp;
      resp.set_to(m.from());
      resp.set_type(raft::MSG_APP_RESP);
      Send(std::move(resp));
    } else if (type == raft::MSG_PRE_VOTE) {
      raft::Message resp;
      resp.set_to(m.from());
      resp.set_term(term_.value());
      resp.set_type(raft::MSG_PRE_VOTE_RESP);
      resp.set_reject(true);
      Send(std::move(resp));
    }
    // §5.1: "If a server receives a request with a stale term number, it
    // rejects the request" (here: ignores it).
    return Status::Ok();
  }

  switch (type) {
    case raft::MSG_HUP:
      Hup(cfg_.pre_vote ? CampaignType::kPreElection : CampaignType::kElection);
      return Status::Ok();
    case raft::MSG_VOTE:
    case raft::MSG_PRE_VOTE:
      HandleVote(m);
      return Status::Ok();
    default:
      break;
  }
  switch (state_) {
    case StateRole::kLeader: return StepLeader(m);
    case StateRole::kCandidate:
    case StateRole::kPreCandidate: return StepCandidate(m);
    case StateRole::kFollower: return StepFollower(m);
  }
  return Status::Ok();
}

void Raft::HandleVote(const raft::Message& m) {
  const NodeId from(m.from());
  // §5.2: "each server will vote for at most one candidate in a given term,
  // on a first-come-first-served basis". A repeated request from the same
  // candidate is granted again; a pre-vote for a later term is always a
  // candidate for granting.
  const bool can_vote = vote_ == from || (vote_ == NodeId(0) && lead_ == NodeId(0)) ||
                        (m.type() == raft::MSG_PRE_VOTE && RaftTerm(m.term()) > term_);
  // §5.4.1 election restriction: "the voter denies its vote if its own log is
  // more up-to-date than that of the candidate".
  const bool up_to_date = cfg_.bugs.vote_without_log_check ||
                          log_.IsUpToDate(RaftIndex(m.index()), RaftTerm(m.log_term()));
  raft::Message resp;
  resp.set_to(m.from());
  resp.set_type(VoteRespType(m.type()));
  if (can_vote && up_to_date) {
    // Answer with the term of the request: a pre-vote response at our own
    // (lower) term would be ignored by the pre-candidate.
    resp.set_term(m.term());
    if (m.type() == raft::MSG_VOTE) {
      election_elapsed_ = 0;
      vote_ = from;
    }
  } else {
    resp.set_term(term_.value());
    resp.set_reject(true);
  }
  Send(std::move(resp));
}

Status Raft::HandleProposal(raft::Message m) {
  if (m.entries_size() == 0) return InvalidArgument("empty proposal");
  if (!trk_.progress.contains(id_)) return ProposalDropped("this leader was removed");
  if (lead_transferee_ != NodeId(0)) {
    return Aborted("leadership transfer to " + std::to_string(lead_transferee_.value()) +
                   " in progress");
  }
  std::vector<raft::Entry> es(m.entries().begin(), m.entries().end());
  for (size_t i = 0; i < es.size(); ++i) {
    if (es[i].type() != raft::ENTRY_CONF_CHANGE) continue;
    raft::ConfChange cc;
    const bool parsed = cc.ParseFromString(es[i].data());
    const bool ok = parsed && CheckConfChangeProposal(cc).ok();
    if (!ok) {
      // Keep the entry's slot (a forwarded batch stays in order) but make it
      // a no-op: one pending change at a time, and never before this term's
      // first commit.
      es[i] = raft::Entry();
    } else {
      pending_conf_index_ = log_.LastIndex() + (i + 1);
    }
  }
  if (!AppendEntry(std::move(es))) {
    return ResourceExhausted("uncommitted log exceeds max_uncommitted_entries_size");
  }
  BcastAppend();
  return Status::Ok();
}

Status Raft::CheckConfChangeProposal(const raft::ConfChange& cc) const {
  if (state_ != StateRole::kLeader) return Status::Ok();  // the leader checks again
  if (pending_conf_index_ > log_.applied()) {
    return FailedPrecondition("a configuration change at index " +
                              std::to_string(pending_conf_index_.value()) +
                              " is not yet applied (applied " +
                              std::to_string(log_.applied().value()) + ")");
  }
  // The 2015 single-server membership bug (Ongaro, raft-dev, "bug in
  // single-server membership changes"): a new leader must commit an entry of
  // its own term before it appends a configuration entry.
  if (!CommittedEntryInCurrentTerm()) {
    return FailedPrecondition("the leader has not yet committed an entry of its term");
  }
  const ConfChangeMode mode = ClassifyConfChange(cc);
  Changer ch(trk_, log_.LastIndex());
  Result<ConfigAndProgress> r = mode.leave_joint  ? ch.LeaveJoint()
                                : mode.enter_joint ? ch.EnterJoint(mode.auto_leave,
                                                                   {cc.changes().begin(),
                                                                    cc.changes().end()})
                                                   : ch.Simple({cc.changes().begin(),
                                                                cc.changes().end()});
  if (!r.ok()) return FailedPrecondition(r.status().message());
  return Status::Ok();
}

Status Raft::StepLeader(const raft::Message& m) {
  switch (m.type()) {
    case raft::MSG_BEAT:
      BcastHeartbeat();
      return Status::Ok();
    case raft::MSG_CHECK_QUORUM:
      // Thesis §6.2: a leader that has not heard from a quorum within an
      // election timeout steps down (it may be partitioned away).
      if (!trk_.QuorumActive()) BecomeFollower(term_, NodeId(0));
      for (auto& [id, pr] : trk_.progress) {
        if (id != id_) pr.recent_active = false;
      }
      return Status::Ok();
    case raft::MSG_PROP:
      return HandleProposal(m);
    case raft::MSG_READ_INDEX:
      if (trk_.IsSingleton()) {
        if (auto resp = ResponseToReadIndexReq(m, log_.committed())) Send(std::move(*resp));
        return Status::Ok();
      }
      // Thesis §6.4 step 1: until an entry of this term is committed the
      // leader does not know the full commit index; postpone.
      if (!CommittedEntryInCurrentTerm()) {
        pending_read_index_messages_.push_back(m);
        return Status::Ok();
      }
      SendMsgReadIndexResponse(m);
      return Status::Ok();
    default:
      break;
  }
  auto it = trk_.progress.find(NodeId(m.from()));
  if (it == trk_.progress.end()) return Status::Ok();  // from a non-member
  Progress& pr = it->second;
  switch (m.type()) {
    case raft::MSG_APP_RESP:
      HandleAppendResponse(m, pr);
      break;
    case raft::MSG_HEARTBEAT_RESP:
      HandleHeartbeatResponse(m, pr);
      break;
    case raft::MSG_SNAP_STATUS:
      if (pr.state != ProgressState::kSnapshot) break;
      if (m.reject()) pr.pending_snapshot = RaftIndex(0);
      pr.BecomeProbe();
      // Wait for a heartbeat response before the next append: the snapshot
      // may still be in flight.
      pr.msg_app_flow_paused = true;
      break;
    case raft::MSG_UNREACHABLE:
      // Optimistic replication to an unreachable follower loses messages:
      // fall back to probing.
      if (pr.state == ProgressState::kReplicate) pr.BecomeProbe();
      break;
    case raft::MSG_TRANSFER_LEADER:
      HandleTransferLeader(m, pr);
      break;
    default:
      break;
  }
  return Status::Ok();
}

void Raft::HandleAppendResponse(const raft::Message& m, Progress& pr) {
  const NodeId from(m.from());
  pr.recent_active = true;
  if (m.reject()) {
    // §5.3: "After a rejection, the leader decrements nextIndex and retries";
    // the follower's hint skips a whole conflicting term at once.
    RaftIndex next_probe(m.reject_hint());
    if (m.log_term() > 0) {
      next_probe = log_.FindConflictByTerm(RaftIndex(m.reject_hint()), RaftTerm(m.log_term())).first;
    }
    if (pr.MaybeDecrTo(RaftIndex(m.index()), next_probe)) {
      if (pr.state == ProgressState::kReplicate) pr.BecomeProbe();
      SendAppend(from);
    }
    return;
  }
  const bool old_paused = pr.IsPaused();
  if (!pr.MaybeUpdate(RaftIndex(m.index()))) return;
  switch (pr.state) {
    case ProgressState::kProbe:
      pr.BecomeReplicate();
      break;
    case ProgressState::kSnapshot:
      // The follower caught up past the snapshot (or through the log).
      if (pr.match >= pr.pending_snapshot || pr.match.next() >= log_.FirstIndex()) {
        pr.BecomeProbe();
        pr.BecomeReplicate();
      }
      break;
    case ProgressState::kReplicate:
      pr.inflights.FreeLE(RaftIndex(m.index()));
      break;
  }
  if (MaybeCommit()) {
    ReleasePendingReadIndexMessages();
    BcastAppend();
  } else if (old_paused) {
    SendAppend(from);
  }
  // Fill the flow-control window.
  while (MaybeSendAppend(from, false)) {
  }
  // Thesis §3.10: transfer once the target's log is up to date.
  if (from == lead_transferee_ && pr.match == log_.LastIndex()) SendTimeoutNow(from);
}

void Raft::HandleHeartbeatResponse(const raft::Message& m, Progress& pr) {
  pr.recent_active = true;
  pr.msg_app_flow_paused = false;
  if (pr.state == ProgressState::kReplicate && pr.inflights.Full()) pr.inflights.FreeFirstOne();
  if (pr.match < log_.LastIndex()) SendAppend(NodeId(m.from()));
  if (read_only_.option() != ReadOnlyOption::kSafe || m.context().empty()) return;
  const std::set<NodeId>* acks = read_only_.RecvAck(NodeId(m.from()), m.context());
  if (acks == nullptr) return;
  std::map<NodeId, bool> votes;
  for (NodeId id : *acks) votes[id] = true;
  if (trk_.config.voters.Vote(votes) != VoteResult::kWon) return;
  for (const ReadIndexStatus& rs : read_only_.Advance(m.context())) {
    if (auto resp = ResponseToReadIndexReq(rs.req, rs.index)) Send(std::move(*resp));
  }
}

void Raft::HandleTransferLeader(const raft::Message& m, Progress& pr) {
  if (pr.is_learner) return;  // a learner cannot lead
  const NodeId transferee(m.from());
  if (lead_transferee_ != NodeId(0)) {
    if (lead_transferee_ == transferee) return;  // already under way
    AbortLeaderTransfer();
  }
  if (transferee == id_) return;  // already leader
  // The transfer must finish within an election timeout (TickHeartbeat aborts it).
  election_elapsed_ = 0;
  lead_transferee_ = transferee;
  if (pr.match == log_.LastIndex()) {
    SendTimeoutNow(transferee);
  } else {
    SendAppend(transferee);
  }
}

Status Raft::StepCandidate(const raft::Message& m) {
  const raft::MessageType my_resp =
      state_ == StateRole::kPreCandidate ? raft::MSG_PRE_VOTE_RESP : raft::MSG_VOTE_RESP;
  switch (m.type()) {
    case raft::MSG_PROP:
      return ProposalDropped("no leader (campaigning)");
    case raft::MSG_APP:
      // §5.2: "If the AppendEntries RPC is from another server claiming to be
      // leader and the leader's term is at least as large as the candidate's
      // current term, then the candidate ... returns to follower state."
      BecomeFollower(RaftTerm(m.term()), NodeId(m.from()));
      HandleAppendEntries(m);
      return Status::Ok();
    case raft::MSG_HEARTBEAT:
      BecomeFollower(RaftTerm(m.term()), NodeId(m.from()));
      HandleHeartbeat(m);
      return Status::Ok();
    case raft::MSG_SNAP:
      BecomeFollower(RaftTerm(m.term()), NodeId(m.from()));
      HandleSnapshot(m);
      return Status::Ok();
    default:
      break;
  }
  if (m.type() == my_resp) {
    const auto tally = Poll(NodeId(m.from()), m.type(), !m.reject());
    if (tally.result == VoteResult::kWon) {
      if (state_ == StateRole::kPreCandidate) {
        Campaign(CampaignType::kElection);
      } else {
        BecomeLeader();
        BcastAppend();
      }
    } else if (tally.result == VoteResult::kLost) {
      // A pre-candidate that lost learns the higher term from the rejecting
      // responses' term handling above (if any).
      BecomeFollower(term_, NodeId(0));
    }
  }
  return Status::Ok();
}

Status Raft::StepFollower(const raft::Message& m) {
  switch (m.type()) {
    case raft::MSG_PROP: {
      if (lead_ == NodeId(0)) return ProposalDropped("no leader");
      if (cfg_.disable_proposal_forwarding) return ProposalDropped("forwarding disabled");
      raft::Message fwd = m;
      fwd.set_to(lead_.value());
      fwd.set_term(0);  // forwarded proposals carry no term (see Send)
      Send(std::move(fwd));
      return Status::Ok();
    }
    case raft::MSG_APP:
      election_elapsed_ = 0;
      lead_ = NodeId(m.from());
      HandleAppendEntries(m);
      return Status::Ok();
    case raft::MSG_HEARTBEAT:
      election_elapsed_ = 0;
      lead_ = NodeId(m.from());
      HandleHeartbeat(m);
      return Status::Ok();
    case raft::MSG_SNAP:
      election_elapsed_ = 0;
      lead_ = NodeId(m.from());
      HandleSnapshot(m);
      return Status::Ok();
    case raft::MSG_TRANSFER_LEADER: {
      if (lead_ == NodeId(0)) return Status::Ok();
      raft::Message fwd = m;
      fwd.set_to(lead_.value());
      fwd.set_term(0);
      Send(std::move(fwd));
      return Status::Ok();
    }
    case raft::MSG_TIMEOUT_NOW:
      // Thesis §3.10: the leader asked us to start an election now. Transfers
      // skip pre-vote: there is no partition to protect against.
      Hup(CampaignType::kTransfer);
      return Status::Ok();
    case raft::MSG_READ_INDEX: {
      if (lead_ == NodeId(0)) return Status::Ok();
      raft::Message fwd = m;
      fwd.set_to(lead_.value());
      fwd.set_term(0);
      Send(std::move(fwd));
      return Status::Ok();
    }
    case raft::MSG_READ_INDEX_RESP:
      if (m.entries_size() != 1) return Status::Ok();
      read_states_.push_back(
          ReadState{.index = RaftIndex(m.index()), .request_ctx = m.entries(0).data()});
      return Status::Ok();
    default:
      return Status::Ok();
  }
}

void Raft::HandleAppendEntries(const raft::Message& m) {
  raft::Message resp;
  resp.set_to(m.from());
  resp.set_type(raft::MSG_APP_RESP);
  if (RaftIndex(m.index()) < log_.committed()) {
    // Everything up to our commit index is settled: tell the leader.
    resp.set_index(log_.committed().value());
    Send(std::move(resp));
    return;
  }
  std::vector<raft::Entry> ents(m.entries().begin(), m.entries().end());
  if (auto last_new = log_.MaybeAppend(RaftIndex(m.index()), RaftTerm(m.log_term()),
                                       RaftIndex(m.commit()), ents,
                                       cfg_.bugs.truncate_on_stale_append)) {
    resp.set_index(last_new->value());
    Send(std::move(resp));
    return;
  }
  // §5.3: reject when the log has no entry at index with term log_term. The
  // hint is the largest index <= m.index whose term is <= m.log_term, so
  // the leader can skip a whole term of mismatches.
  const RaftIndex hint_index = std::min(RaftIndex(m.index()), log_.LastIndex());
  const auto [idx, term] = log_.FindConflictByTerm(hint_index, RaftTerm(m.log_term()));
  resp.set_index(m.index());
  resp.set_reject(true);
  resp.set_reject_hint(idx.value());
  resp.set_log_term(term.value());
  Send(std::move(resp));
}

void Raft::HandleHeartbeat(const raft::Message& m) {
  log_.CommitTo(std::min(RaftIndex(m.commit()), log_.LastIndex()));
  raft::Message resp;
  resp.set_to(m.from());
  resp.set_type(raft::MSG_HEARTBEAT_RESP);
  resp.set_context(m.context());
  Send(std::move(resp));
}

void Raft::HandleSnapshot(const raft::Message& m) {
  raft::Message resp;
  resp.set_to(m.from());
  resp.set_type(raft::MSG_APP_RESP);
  if (Restore(m.snapshot())) {
    resp.set_index(log_.LastIndex().value());
  } else {
    resp.set_index(log_.committed().value());
  }
  Send(std::move(resp));
}

bool Raft::Restore(const raft::Snapshot& snap) {
  const RaftIndex sindex(snap.metadata().index());
  const RaftTerm sterm(snap.metadata().term());
  if (sindex <= log_.committed()) return false;
  CL_CHECK(state_ == StateRole::kFollower, "only a follower restores a snapshot");
  const raft::ConfState& cs = snap.metadata().conf_state();
  // A snapshot whose configuration does not include us is not for us.
  if (!ConfStateNames(cs, id_)) return false;
  if (log_.MatchTerm(sindex, sterm)) {
    // We have the entry: fast-forward the commit index instead.
    log_.CommitTo(sindex);
    return false;
  }
  log_.Restore(snap);
  auto cp = RestoreConfig(cs, log_.LastIndex(), cfg_.max_inflight_msgs, cfg_.max_inflight_bytes);
  CL_CHECK(cp.ok(), "snapshot carries an invalid configuration");
  SwitchToConfig(std::move(cp).value());
  return true;
}

// ---- configuration ----

raft::ConfState Raft::ApplyConfChange(const raft::ConfChange& cc) {
  const ConfChangeMode mode = ClassifyConfChange(cc);
  Changer ch(trk_, log_.LastIndex());
  std::vector<raft::ConfChangeSingle> changes(cc.changes().begin(), cc.changes().end());
  Result<ConfigAndProgress> r = mode.leave_joint  ? ch.LeaveJoint()
                                : mode.enter_joint ? ch.EnterJoint(mode.auto_leave, changes)
                                                   : ch.Simple(changes);
  // Every node has the same configuration at this log index, so an invalid
  // change is skipped identically everywhere (the leader refuses them at
  // proposal time; a forwarded one may slip through).
  if (!r.ok()) return trk_.config.ToConfState();
  return SwitchToConfig(std::move(r).value());
}

raft::ConfState Raft::SwitchToConfig(ConfigAndProgress cp) {
  trk_.config = std::move(cp.config);
  trk_.progress = std::move(cp.progress);
  const raft::ConfState cs = trk_.config.ToConfState();
  auto self = trk_.progress.find(id_);
  is_learner_ = self != trk_.progress.end() && self->second.is_learner;
  if ((self == trk_.progress.end() || is_learner_) && state_ == StateRole::kLeader) {
    // This leader was removed or demoted: it steps down so that the remaining
    // voters elect a leader among themselves. To spare them an election
    // timeout (their leases still point at us), it first hands leadership to
    // the most up-to-date voter if that one has the whole log (thesis §3.10:
    // MsgTimeoutNow starts an election at once).
    NodeId best;
    RaftIndex best_match;
    for (const auto& [id, pr] : trk_.progress) {
      if (id == id_ || !trk_.config.voters.contains(id)) continue;
      if (best == NodeId(0) || pr.match > best_match) {
        best = id;
        best_match = pr.match;
      }
    }
    if (best != NodeId(0) && best_match == log_.LastIndex()) SendTimeoutNow(best);
    BecomeFollower(term_, NodeId(0));
    return cs;
  }
  if (state_ != StateRole::kLeader || cs.voters_size() == 0) return cs;
  // The quorum changed: the commit index may move; new members need appends.
  if (MaybeCommit()) {
    ReleasePendingReadIndexMessages();
    BcastAppend();
  } else {
    for (const auto& [id, pr] : trk_.progress) {
      if (id != id_) MaybeSendAppend(id, false);
    }
  }
  if (lead_transferee_ != NodeId(0) && !trk_.config.voters.contains(lead_transferee_)) {
    AbortLeaderTransfer();
  }
  return cs;
}

// ---- ticks and housekeeping ----

void Raft::Tick() {
  if (state_ == StateRole::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
}

void Raft::TickElection() {
  ++election_elapsed_;
  if (Promotable() && PastElectionTimeout()) {
    election_elapsed_ = 0;
    raft::Message m;
    m.set_type(raft::MSG_HUP);
    m.set_from(id_.value());
    (void)Step(m);
  }
}

void Raft::TickHeartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= cfg_.election_ticks) {
    election_elapsed_ = 0;
    if (cfg_.check_quorum) {
      raft::Message m;
      m.set_type(raft::MSG_CHECK_QUORUM);
      m.set_from(id_.value());
      (void)Step(m);
    }
    // A transfer that did not finish within an election timeout is abandoned.
    if (state_ == StateRole::kLeader && lead_transferee_ != NodeId(0)) AbortLeaderTransfer();
  }
  if (state_ != StateRole::kLeader) return;
  if (heartbeat_elapsed_ >= cfg_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    raft::Message m;
    m.set_type(raft::MSG_BEAT);
    m.set_from(id_.value());
    (void)Step(m);
  }
}

void Raft::AppliedTo(RaftIndex i) {
  const RaftIndex old = log_.applied();
  log_.AppliedTo(i);
  // Joint consensus with auto_leave: once the joint configuration is applied
  // the leader proposes leaving it (an empty ConfChange).
  if (trk_.config.auto_leave && i > old && i >= pending_conf_index_ &&
      state_ == StateRole::kLeader) {
    raft::ConfChange leave;
    raft::Entry e;
    e.set_type(raft::ENTRY_CONF_CHANGE);
    e.set_data(leave.SerializeAsString());
    raft::Message m;
    m.set_type(raft::MSG_PROP);
    m.set_from(id_.value());
    *m.add_entries() = std::move(e);
    (void)Step(m);  // refused only during a transfer; retried on the next apply
  }
}

void Raft::OnPersisted() {
  if (state_ != StateRole::kLeader) return;
  auto it = trk_.progress.find(id_);
  if (it == trk_.progress.end()) return;
  if (it->second.MaybeUpdate(log_.StableLastIndex()) && MaybeCommit()) {
    ReleasePendingReadIndexMessages();
    BcastAppend();
  }
}

void Raft::ForgetLeader() {
  // With lease-based reads a follower that forgets its leader might vote
  // while the old leader still serves reads from its lease: refuse.
  if (read_only_.option() == ReadOnlyOption::kLeaseBased) return;
  if (state_ != StateRole::kFollower) return;
  lead_ = NodeId(0);
}

}  // namespace cl::consensus
