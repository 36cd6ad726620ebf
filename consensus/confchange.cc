#include "consensus/confchange.h"

#include <algorithm>
#include <string>

namespace cl::consensus {

Status CheckConfigInvariants(const TrackerConfig& cfg, const ProgressMap& prs) {
  auto has = [&](NodeId id) { return prs.contains(id); };
  for (NodeId id : cfg.voters.Ids()) {
    if (!has(id)) return InvalidArgument("no progress for voter " + std::to_string(id.value()));
  }
  for (NodeId id : cfg.learners) {
    if (!has(id)) return InvalidArgument("no progress for learner " + std::to_string(id.value()));
    if (cfg.voters.contains(id)) {
      return InvalidArgument(std::to_string(id.value()) + " is both learner and voter");
    }
    if (!prs.at(id).is_learner) {
      return InvalidArgument(std::to_string(id.value()) + " is a learner without the flag");
    }
  }
  for (NodeId id : cfg.learners_next) {
    if (!has(id)) return InvalidArgument("no progress for learner " + std::to_string(id.value()));
    if (!cfg.voters.outgoing.contains(id)) {
      return InvalidArgument(std::to_string(id.value()) +
                             " is in learners_next but not an outgoing voter");
    }
    if (prs.at(id).is_learner) {
      return InvalidArgument(std::to_string(id.value()) +
                             " is in learners_next but already marked learner");
    }
  }
  for (NodeId id : cfg.voters.Ids()) {
    if (prs.at(id).is_learner) {
      return InvalidArgument(std::to_string(id.value()) + " is a voter marked learner");
    }
  }
  for (const auto& [id, pr] : prs) {
    if (!cfg.voters.contains(id) && !cfg.learners.contains(id) && !cfg.learners_next.contains(id)) {
      return InvalidArgument("progress for non-member " + std::to_string(id.value()));
    }
  }
  if (!cfg.voters.joint()) {
    if (!cfg.learners_next.empty()) return InvalidArgument("learners_next in a non-joint config");
    if (cfg.auto_leave) return InvalidArgument("auto_leave in a non-joint config");
  }
  return Status::Ok();
}

Result<ConfigAndProgress> Changer::CheckAndCopy() const {
  ConfigAndProgress cp{tracker_.config, tracker_.progress};
  CL_RETURN_IF_ERROR(CheckConfigInvariants(cp.config, cp.progress));
  return cp;
}

Result<ConfigAndProgress> Changer::EnterJoint(
    bool auto_leave, const std::vector<raft::ConfChangeSingle>& ccs) const {
  CL_ASSIGN_OR_RETURN(ConfigAndProgress cp, CheckAndCopy());
  if (cp.config.voters.joint()) return InvalidArgument("config is already joint");
  if (cp.config.voters.incoming.empty()) {
    return InvalidArgument("can't make a zero-voter config joint");
  }
  cp.config.voters.outgoing = cp.config.voters.incoming;  // C_old
  CL_RETURN_IF_ERROR(Apply(cp, ccs));                      // incoming becomes C_new
  cp.config.auto_leave = auto_leave;
  CL_RETURN_IF_ERROR(CheckConfigInvariants(cp.config, cp.progress));
  return cp;
}

Result<ConfigAndProgress> Changer::LeaveJoint() const {
  CL_ASSIGN_OR_RETURN(ConfigAndProgress cp, CheckAndCopy());
  if (!cp.config.voters.joint()) return InvalidArgument("can't leave a non-joint config");
  for (NodeId id : cp.config.learners_next) {
    cp.config.learners.insert(id);
    cp.progress.at(id).is_learner = true;
  }
  cp.config.learners_next.clear();
  for (NodeId id : cp.config.voters.outgoing.ids()) {
    if (!cp.config.voters.incoming.contains(id) && !cp.config.learners.contains(id)) {
      cp.progress.erase(id);
    }
  }
  cp.config.voters.outgoing = MajorityConfig();
  cp.config.auto_leave = false;
  CL_RETURN_IF_ERROR(CheckConfigInvariants(cp.config, cp.progress));
  return cp;
}

Result<ConfigAndProgress> Changer::Simple(const std::vector<raft::ConfChangeSingle>& ccs) const {
  CL_ASSIGN_OR_RETURN(ConfigAndProgress cp, CheckAndCopy());
  if (cp.config.voters.joint()) {
    return InvalidArgument("can't apply a simple config change in a joint config");
  }
  CL_RETURN_IF_ERROR(Apply(cp, ccs));
  // Symmetric difference of the voter sets: a simple change moves one voter at most.
  const auto& before = tracker_.config.voters.incoming.ids();
  const auto& after = cp.config.voters.incoming.ids();
  size_t diff = 0;
  for (NodeId id : before) diff += after.contains(id) ? 0 : 1;
  for (NodeId id : after) diff += before.contains(id) ? 0 : 1;
  if (diff > 1) {
    return InvalidArgument("more than one voter changed without entering a joint config");
  }
  CL_RETURN_IF_ERROR(CheckConfigInvariants(cp.config, cp.progress));
  return cp;
}

Status Changer::Apply(ConfigAndProgress& cp,
                      const std::vector<raft::ConfChangeSingle>& ccs) const {
  for (const raft::ConfChangeSingle& cc : ccs) {
    const NodeId id(cc.node_id());
    if (id == NodeId(0)) continue;  // etcd's convention: a no-op change
    switch (cc.type()) {
      case raft::CONF_ADD_NODE: MakeVoter(cp, id); break;
      case raft::CONF_ADD_LEARNER: MakeLearner(cp, id); break;
      case raft::CONF_REMOVE_NODE: Remove(cp, id); break;
      default: return InvalidArgument("unknown conf change type " + std::to_string(cc.type()));
    }
  }
  if (cp.config.voters.incoming.empty()) return InvalidArgument("removed all voters");
  return Status::Ok();
}

void Changer::InitProgress(ConfigAndProgress& cp, NodeId id, bool learner) const {
  if (learner) {
    cp.config.learners.insert(id);
  } else {
    cp.config.voters.incoming.mutable_ids().insert(id);
  }
  // Probe from the leader's last index; the follower's rejection hint brings
  // next down quickly. A new node counts as active so that adding it does
  // not make check-quorum step the leader down at once.
  Progress pr(std::max(last_index_, RaftIndex(1)), tracker_.max_inflight(),
              tracker_.max_inflight_bytes(), learner);
  pr.recent_active = true;
  cp.progress.insert_or_assign(id, std::move(pr));
}

void Changer::MakeVoter(ConfigAndProgress& cp, NodeId id) const {
  auto it = cp.progress.find(id);
  if (it == cp.progress.end()) {
    InitProgress(cp, id, false);
    return;
  }
  it->second.is_learner = false;
  cp.config.learners.erase(id);
  cp.config.learners_next.erase(id);
  cp.config.voters.incoming.mutable_ids().insert(id);
}

void Changer::MakeLearner(ConfigAndProgress& cp, NodeId id) const {
  auto it = cp.progress.find(id);
  if (it == cp.progress.end()) {
    InitProgress(cp, id, true);
    return;
  }
  if (it->second.is_learner) return;
  // Demote: leave every role, keep the Progress.
  cp.config.voters.incoming.mutable_ids().erase(id);
  cp.config.learners.erase(id);
  cp.config.learners_next.erase(id);
  // A voter of the outgoing half keeps voting there until the joint config
  // is left; it becomes a learner then.
  if (cp.config.voters.outgoing.contains(id)) {
    cp.config.learners_next.insert(id);
  } else {
    it->second.is_learner = true;
    cp.config.learners.insert(id);
  }
}

void Changer::Remove(ConfigAndProgress& cp, NodeId id) const {
  if (!cp.progress.contains(id)) return;
  cp.config.voters.incoming.mutable_ids().erase(id);
  cp.config.learners.erase(id);
  cp.config.learners_next.erase(id);
  // Still needed while it votes in the outgoing half.
  if (!cp.config.voters.outgoing.contains(id)) cp.progress.erase(id);
}

Result<ConfigAndProgress> RestoreConfig(const raft::ConfState& cs, RaftIndex last_index,
                                        int max_inflight, uint64_t max_inflight_bytes) {
  ConfigAndProgress cp;
  auto add = [&](uint64_t raw, bool learner) {
    const NodeId id(raw);
    if (cp.progress.contains(id)) return;
    Progress pr(std::max(last_index, RaftIndex(1)), max_inflight, max_inflight_bytes, learner);
    pr.recent_active = true;
    cp.progress.insert_or_assign(id, std::move(pr));
  };
  for (uint64_t id : cs.voters()) {
    if (id == 0) return InvalidArgument("conf state has voter 0");
    cp.config.voters.incoming.mutable_ids().insert(NodeId(id));
    add(id, false);
  }
  for (uint64_t id : cs.voters_outgoing()) {
    if (id == 0) return InvalidArgument("conf state has outgoing voter 0");
    cp.config.voters.outgoing.mutable_ids().insert(NodeId(id));
    add(id, false);
  }
  for (uint64_t id : cs.learners()) {
    if (id == 0) return InvalidArgument("conf state has learner 0");
    cp.config.learners.insert(NodeId(id));
    add(id, true);
  }
  for (uint64_t id : cs.learners_next()) {
    cp.config.learners_next.insert(NodeId(id));
    add(id, false);
  }
  cp.config.auto_leave = cs.auto_leave();
  CL_RETURN_IF_ERROR(CheckConfigInvariants(cp.config, cp.progress));
  return cp;
}

ConfChangeMode ClassifyConfChange(const raft::ConfChange& cc) {
  ConfChangeMode m;
  if (cc.changes().empty()) {
    m.leave_joint = true;
    return m;
  }
  const bool explicit_joint = cc.transition() != raft::ConfChange::AUTO;
  if (cc.changes_size() > 1 || explicit_joint) {
    m.enter_joint = true;
    m.auto_leave = cc.transition() != raft::ConfChange::EXPLICIT;
  }
  return m;
}

bool ConfStateNames(const raft::ConfState& cs, NodeId id) {
  for (const auto* list : {&cs.voters(), &cs.learners(), &cs.voters_outgoing()})
    for (uint64_t member : *list)
      if (NodeId(member) == id) return true;
  return false;
}

std::string ConfStateString(const raft::ConfState& cs) {
  auto list = [](const auto& rep) {
    std::vector<uint64_t> v(rep.begin(), rep.end());
    std::sort(v.begin(), v.end());
    std::string s;
    for (uint64_t x : v) {
      if (!s.empty()) s += ' ';
      s += std::to_string(x);
    }
    return "(" + s + ")";
  };
  std::string s = "voters=" + list(cs.voters());
  if (cs.voters_outgoing_size() > 0) s += "&&" + list(cs.voters_outgoing());
  if (cs.learners_size() > 0) s += " learners=" + list(cs.learners());
  if (cs.learners_next_size() > 0) s += " learners_next=" + list(cs.learners_next());
  if (cs.auto_leave()) s += " autoleave";
  return s;
}

}  // namespace cl::consensus
