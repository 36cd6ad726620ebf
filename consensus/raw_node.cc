// RawNode: the Ready/Advance interface around the raft state machine, and
// Config validation.
#include <string>

#include "consensus/raft.h"
#include "consensus/raft_core.h"

namespace cl::consensus {

Status Config::Validate() const {
  if (id == NodeId(0)) return InvalidArgument("config.id must be non-zero");
  if (storage == nullptr) return InvalidArgument("config.storage must be set");
  if (heartbeat_ticks <= 0) return InvalidArgument("config.heartbeat_ticks must be positive");
  if (election_ticks <= heartbeat_ticks) {
    return InvalidArgument("config.election_ticks (" + std::to_string(election_ticks) +
                           ") must be greater than config.heartbeat_ticks (" +
                           std::to_string(heartbeat_ticks) + ")");
  }
  if (max_size_per_msg == 0) return InvalidArgument("config.max_size_per_msg must be positive");
  if (max_committed_size_per_ready == 0) {
    return InvalidArgument("config.max_committed_size_per_ready must be positive");
  }
  if (max_uncommitted_entries_size == 0) {
    return InvalidArgument("config.max_uncommitted_entries_size must be positive");
  }
  if (max_inflight_msgs <= 0) return InvalidArgument("config.max_inflight_msgs must be positive");
  if (max_inflight_bytes != 0 && max_inflight_bytes < max_size_per_msg) {
    return InvalidArgument(
        "config.max_inflight_bytes must be 0 (no limit) or at least config.max_size_per_msg");
  }
  if (read_only == ReadOnlyOption::kLeaseBased && !check_quorum) {
    return InvalidArgument("config.read_only = kLeaseBased requires config.check_quorum");
  }
  if (bugs.any() && !allow_testing_bugs) {
    return InvalidArgument("config.bugs set without config.allow_testing_bugs (tests only)");
  }
  return Status::Ok();
}

namespace {

bool IsHardStateEqual(const raft::HardState& a, const raft::HardState& b) {
  return a.term() == b.term() && a.vote() == b.vote() && a.commit() == b.commit();
}

bool IsEmptyHardState(const raft::HardState& hs) {
  return hs.term() == 0 && hs.vote() == 0 && hs.commit() == 0;
}

// Shape checks on a peer's message, so that a malformed one is refused with
// an error instead of tripping an invariant check of the core.
Status CheckWellFormed(const raft::Message& m) {
  switch (m.type()) {
    case raft::MSG_READ_INDEX:
    case raft::MSG_READ_INDEX_RESP:
      if (m.entries_size() != 1) {
        return InvalidArgument("read index message must carry exactly one context entry");
      }
      break;
    case raft::MSG_PROP:
      if (m.entries_size() == 0) return InvalidArgument("empty proposal");
      break;
    case raft::MSG_APP:
      for (int k = 0; k < m.entries_size(); ++k) {
        const raft::Entry& e = m.entries(k);
        if (e.index() != m.index() + 1 + static_cast<uint64_t>(k)) {
          return InvalidArgument("append entries are not contiguous after the index");
        }
        if (e.term() > m.term() || (k > 0 && e.term() < m.entries(k - 1).term()) ||
            (k == 0 && e.term() < m.log_term())) {
          return InvalidArgument("append entries have inconsistent terms");
        }
      }
      break;
    default:
      break;
  }
  return Status::Ok();
}

class RawNodeImpl final : public RawNode {
 public:
  explicit RawNodeImpl(std::unique_ptr<Raft> r) : r_(std::move(r)) {
    prev_soft_ = r_->GetSoftState();
    prev_hard_ = r_->HardState();
  }

  void Tick() override { r_->Tick(); }

  void Campaign() override {
    raft::Message m;
    m.set_type(raft::MSG_HUP);
    m.set_from(r_->id().value());
    (void)r_->Step(m);
  }

  Status Propose(Bytes data) override {
    raft::Message m;
    m.set_type(raft::MSG_PROP);
    m.set_from(r_->id().value());
    m.add_entries()->set_data(std::move(data));
    return r_->Step(m);
  }

  Status ProposeConfChange(const raft::ConfChange& cc) override {
    CL_RETURN_IF_ERROR(r_->CheckConfChangeProposal(cc));
    raft::Message m;
    m.set_type(raft::MSG_PROP);
    m.set_from(r_->id().value());
    raft::Entry* e = m.add_entries();
    e->set_type(raft::ENTRY_CONF_CHANGE);
    e->set_data(cc.SerializeAsString());
    return r_->Step(m);
  }

  raft::ConfState ApplyConfChange(const raft::ConfChange& cc) override {
    return r_->ApplyConfChange(cc);
  }

  Status Step(const raft::Message& m) override {
    if (!raft::MessageType_IsValid(m.type())) {
      return InvalidArgument("unknown message type " + std::to_string(m.type()));
    }
    if (IsLocalMessage(m.type())) {
      return InvalidArgument(std::string(MessageTypeName(m.type())) +
                             " is local and cannot come from a peer");
    }
    if (NodeId(m.to()) != r_->id()) {
      return InvalidArgument("message for node " + std::to_string(m.to()) + " stepped into node " +
                             std::to_string(r_->id().value()));
    }
    if (m.from() == 0) return InvalidArgument("message without a sender");
    CL_RETURN_IF_ERROR(CheckWellFormed(m));
    return r_->Step(m);
  }

  void ReadIndex(Bytes request_ctx) override {
    raft::Message m;
    m.set_type(raft::MSG_READ_INDEX);
    m.set_from(r_->id().value());
    m.add_entries()->set_data(std::move(request_ctx));
    (void)r_->Step(m);
  }

  void TransferLeader(NodeId transferee) override {
    raft::Message m;
    m.set_type(raft::MSG_TRANSFER_LEADER);
    m.set_from(transferee.value());  // etcd's convention: From names the transferee
    (void)r_->Step(m);
  }

  void ForgetLeader() override { r_->ForgetLeader(); }

  void ReportUnreachable(NodeId id) override {
    raft::Message m;
    m.set_type(raft::MSG_UNREACHABLE);
    m.set_from(id.value());
    (void)r_->Step(m);
  }

  void ReportSnapshot(NodeId id, bool failed) override {
    raft::Message m;
    m.set_type(raft::MSG_SNAP_STATUS);
    m.set_from(id.value());
    m.set_reject(failed);
    (void)r_->Step(m);
  }

  bool HasReady() const override {
    if (!(r_->GetSoftState() == prev_soft_)) return true;
    const raft::HardState hs = r_->HardState();
    if (!IsEmptyHardState(hs) && !IsHardStateEqual(hs, prev_hard_)) return true;
    const RaftLog& log = r_->log();
    if (log.HasPendingSnapshot()) return true;
    if (!log.unstable().entries.empty()) return true;
    if (log.HasNextCommittedEntries()) return true;
    return !r_->msgs().empty() || !r_->read_states().empty();
  }

  Ready GetReady() override {
    CL_CHECK(!ready_outstanding_, "GetReady called again before Advance");
    ready_outstanding_ = true;
    Ready rd;
    const SoftState ss = r_->GetSoftState();
    if (!(ss == prev_soft_)) {
      rd.soft_state = ss;
      prev_soft_ = ss;
    }
    const raft::HardState hs = r_->HardState();
    if (!IsHardStateEqual(hs, prev_hard_)) {
      rd.hard_state = hs;
      rd.must_sync = hs.term() != prev_hard_.term() || hs.vote() != prev_hard_.vote();
    }
    RaftLog& log = r_->mutable_log();
    if (log.HasPendingSnapshot()) {
      rd.snapshot = *log.unstable().snapshot;
      rd.must_sync = true;
    }
    rd.entries = log.UnstableEntries();
    if (!rd.entries.empty()) rd.must_sync = true;
    rd.committed_entries = log.NextCommittedEntries();
    rd.messages = std::move(r_->msgs());
    r_->msgs().clear();
    rd.read_states = std::move(r_->read_states());
    r_->read_states().clear();
    // Commit must never be persisted ahead of the entries it covers.
    if (rd.hard_state) {
      CL_CHECK(RaftIndex(rd.hard_state->commit()) <= log.LastIndex(),
               "hard state commit past the last index");
    }
    return rd;
  }

  void Advance(const Ready& rd) override {
    CL_CHECK(ready_outstanding_, "Advance without GetReady");
    ready_outstanding_ = false;
    if (rd.hard_state) prev_hard_ = *rd.hard_state;
    RaftLog& log = r_->mutable_log();
    if (rd.snapshot) {
      log.StableSnapTo(RaftIndex(rd.snapshot->metadata().index()));
      // Installing the snapshot applied everything up to its index.
      const RaftIndex si(rd.snapshot->metadata().index());
      if (si > log.applied() && si <= log.committed()) log.AppliedTo(si);
    }
    if (!rd.entries.empty()) {
      const raft::Entry& last = rd.entries.back();
      log.StableTo(RaftIndex(last.index()), RaftTerm(last.term()));
    }
    if (!rd.committed_entries.empty()) {
      r_->ReduceUncommittedSize(rd.committed_entries);
      r_->AppliedTo(RaftIndex(rd.committed_entries.back().index()));
    }
    r_->OnPersisted();
  }

  RaftStatus GetStatus() const override {
    RaftStatus s;
    s.id = r_->id();
    s.hard_state = r_->HardState();
    s.soft_state = r_->GetSoftState();
    s.applied = r_->log().applied();
    s.lead_transferee = r_->lead_transferee();
    s.conf_state = r_->tracker().config.ToConfState();
    if (r_->state() == StateRole::kLeader) {
      for (const auto& [id, pr] : r_->tracker().progress) s.progress.emplace(id, pr.View());
    }
    return s;
  }

  Raft& raft() { return *r_; }

 private:
  std::unique_ptr<Raft> r_;
  SoftState prev_soft_;
  raft::HardState prev_hard_;
  bool ready_outstanding_ = false;
};

}  // namespace

Result<std::unique_ptr<RawNode>> RawNode::Create(Config config) {
  CL_ASSIGN_OR_RETURN(std::unique_ptr<Raft> r, Raft::Create(config));
  return std::unique_ptr<RawNode>(new RawNodeImpl(std::move(r)));
}

std::vector<raft::Message> TakeMessagesSendableBeforePersist(Ready& rd, StateRole role,
                                                             uint64_t durable_term) {
  std::vector<raft::Message> early;
  if (role != StateRole::kLeader || rd.soft_state) return early;
  std::vector<raft::Message> late;
  for (raft::Message& m : rd.messages) {
    const bool append = (m.type() == raft::MSG_APP || m.type() == raft::MSG_HEARTBEAT) &&
                        m.term() == durable_term;
    (append ? early : late).push_back(std::move(m));
  }
  rd.messages = std::move(late);
  return early;
}

}  // namespace cl::consensus
