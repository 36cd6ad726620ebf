#include "consensus/sim/simulator.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "base/bytes.h"
#include "consensus/sim/checker.h"
#include "consensus/sim/disk.h"
#include "consensus/sim/network.h"
#include "consensus/sim/rng.h"

namespace cl::consensus::sim {

namespace {

constexpr uint64_t kTickUnits = 10;  // time units per tick
constexpr int kElectionTicks = 10;
constexpr uint64_t kSpares = 4;  // node ids that may join later
constexpr uint64_t kMinVoters = 3;

std::string Str(uint64_t v) { return std::to_string(v); }

// The bootstrap entry every initial node starts from (index 1, term 1): its
// log begins with a snapshot at 1 holding the initial configuration.
raft::Entry BootstrapEntry() {
  raft::Entry e;
  e.set_index(1);
  e.set_term(1);
  e.set_data("bootstrap");
  return e;
}

// The state machine is the list of applied entries; its snapshot encoding is
// (term, content hash) big-endian per entry.
Bytes EncodeState(const std::vector<EntryId>& sm) {
  Bytes out;
  out.reserve(sm.size() * 16);
  for (const EntryId& e : sm) {
    PutBigEndian64(&out, e.term);
    PutBigEndian64(&out, e.content);
  }
  return out;
}

std::optional<std::vector<EntryId>> DecodeState(ByteView data) {
  if (data.size() % 16 != 0) return std::nullopt;
  std::vector<EntryId> sm;
  sm.reserve(data.size() / 16);
  for (size_t i = 0; i < data.size(); i += 16) {
    sm.push_back({ReadBigEndian64(data.substr(i, 8)), ReadBigEndian64(data.substr(i + 8, 8))});
  }
  return sm;
}

Bytes ProposalData(char kind, uint64_t id) {
  Bytes d(1, kind);
  PutBigEndian64(&d, id);
  return d;
}

std::string ShortType(raft::MessageType t) {
  std::string s = raft::MessageType_Name(t);
  return s.rfind("MSG_", 0) == 0 ? s.substr(4) : s;
}

std::string Describe(const raft::Message& m) {
  std::string s =
      ShortType(m.type()) + " " + Str(m.from()) + "->" + Str(m.to()) + " t" + Str(m.term());
  switch (m.type()) {
    case raft::MSG_APP:
      s += " prev=" + Str(m.index()) + "/t" + Str(m.log_term());
      if (m.entries_size() > 0) {
        s += " ents=[" + Str(m.entries(0).index()) + ".." +
             Str(m.entries(m.entries_size() - 1).index()) + "]";
      }
      s += " c" + Str(m.commit());
      break;
    case raft::MSG_APP_RESP:
      s += " i" + Str(m.index());
      if (m.reject()) s += " reject hint=" + Str(m.reject_hint());
      break;
    case raft::MSG_VOTE:
    case raft::MSG_PRE_VOTE:
      s += " last=" + Str(m.index()) + "/t" + Str(m.log_term());
      break;
    case raft::MSG_VOTE_RESP:
    case raft::MSG_PRE_VOTE_RESP:
      s += m.reject() ? " reject" : " grant";
      break;
    case raft::MSG_HEARTBEAT:
      s += " c" + Str(m.commit());
      break;
    case raft::MSG_SNAP:
      s += " snap=" + Str(m.snapshot().metadata().index()) + "/t" +
           Str(m.snapshot().metadata().term());
      break;
    default:
      break;
  }
  return s;
}

const char* RoleName(StateRole r) {
  switch (r) {
    case StateRole::kFollower:
      return "follower";
    case StateRole::kPreCandidate:
      return "pre-candidate";
    case StateRole::kCandidate:
      return "candidate";
    case StateRole::kLeader:
      return "leader";
  }
  return "?";
}

// The fault and workload mix of one run, drawn from the seed ("swarm
// testing": each run stresses a different corner).
struct Profile {
  NetworkOptions net;
  uint64_t crash_pm = 0;  // per tick: crash a node
  uint64_t max_down_ticks = 0;
  uint64_t ready_crash_pm = 0;  // per crash point while handling a Ready
  uint64_t partition_pm = 0;    // per tick: start a partition
  uint64_t max_partition_ticks = 0;
  uint64_t propose_pm = 0;  // per tick: a burst of proposals
  uint64_t max_burst = 1;
  uint64_t crash_after_propose_pm = 0;
  uint64_t conf_pm = 0;            // per tick: a membership change
  uint64_t transfer_pm = 0;        // per tick: a leader transfer
  uint64_t compact_pm = 0;         // per tick: a node compacts its log
  uint64_t campaign_pm = 0;        // per tick: a node starts an election
  uint64_t isolate_leader_pm = 0;  // per tick: cut the leader off for a while
  uint64_t max_isolate_ticks = 0;
  bool pre_vote = true;
  bool check_quorum = true;
  uint64_t max_size_per_msg = 1 << 20;
  int max_inflight = 256;
};

Profile DrawProfile(Rng& rng) {
  Profile p;
  static constexpr uint64_t kDrops[] = {0, 10000, 50000, 150000};
  static constexpr uint64_t kDups[] = {0, 10000, 50000};
  static constexpr uint64_t kDelays[] = {2, 5, 15, 40};
  p.net.drop_per_million = kDrops[rng.Uniform(4)];
  p.net.duplicate_per_million = kDups[rng.Uniform(3)];
  p.net.min_delay = 1;
  p.net.max_delay = kDelays[rng.Uniform(4)];
  static constexpr uint64_t kCrash[] = {0, 10000, 30000, 60000};
  p.crash_pm = kCrash[rng.Uniform(4)];
  p.max_down_ticks = rng.Range(2, 60);
  static constexpr uint64_t kReadyCrash[] = {0, 500, 3000};
  p.ready_crash_pm = kReadyCrash[rng.Uniform(3)];
  static constexpr uint64_t kPartition[] = {0, 10000, 40000};
  p.partition_pm = kPartition[rng.Uniform(3)];
  p.max_partition_ticks = rng.Range(5, 80);
  p.propose_pm = rng.Range(100000, 900000);
  p.max_burst = rng.Range(1, 6);
  p.crash_after_propose_pm = rng.Chance(500000) ? rng.Range(50000, 300000) : 0;
  p.conf_pm = rng.Chance(700000) ? rng.Range(20000, 100000) : 0;
  p.transfer_pm = rng.Chance(500000) ? rng.Range(5000, 30000) : 0;
  p.compact_pm = rng.Chance(600000) ? rng.Range(10000, 100000) : 0;
  p.campaign_pm = rng.Chance(400000) ? rng.Range(5000, 40000) : 0;
  // A quarter of the runs churn leaders hard: short leaderships whose last
  // entries reach only some nodes (the setting of the paper's Figure 8).
  if (rng.Chance(250000)) {
    p.isolate_leader_pm = rng.Range(100000, 400000);
    p.max_isolate_ticks = rng.Range(3, 25);
  }
  p.pre_vote = rng.Chance(500000);
  p.check_quorum = rng.Chance(500000);
  static constexpr uint64_t kMsgSize[] = {1, 64, 1 << 20};
  p.max_size_per_msg = kMsgSize[rng.Uniform(3)];
  static constexpr int kInflight[] = {1, 4, 256};
  p.max_inflight = kInflight[rng.Uniform(3)];
  return p;
}

struct SimNode {
  NodeId id;
  std::unique_ptr<SimDisk> disk = std::make_unique<SimDisk>();
  std::unique_ptr<RawNode> raw;  // null while down
  std::vector<EntryId> sm;       // applied entries; durable (one atomic apply write)
  uint64_t tick_phase = 0;
  bool started = false;         // the process exists (initial or added)
  bool decommissioned = false;  // removed from the cluster and stopped
  bool stop_requested = false;
  uint64_t restart_tick = 0;  // when down: the tick to restart at
  StateRole role = StateRole::kFollower;
  NodeId lead;
  uint64_t term = 0;
  raft::ConfState conf;
  std::vector<raft::ConfState> recent_confs;  // applied since the last leader-commit check
  bool up() const { return raw != nullptr; }
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& options)
      : options_(options), rng_(options.seed), net_(&rng_) {}

  SimResult Run() {
    Status s = RunLoop();
    result_.ok = s.ok();
    if (!s.ok()) {
      result_.failure = s.message();
      Trace("FAIL " + s.message());
    }
    result_.committed = checker_.canonical().size();
    result_.acknowledged = acked_.size();
    result_.max_term = checker_.max_leader_term();
    return std::move(result_);
  }

 private:
  // ---- tracing ----
  bool tracing() const { return options_.trace; }
  void Trace(const std::string& line) {
    if (!tracing()) return;
    std::string t = Str(now_ / kTickUnits) + "." + Str(now_ % kTickUnits);
    result_.trace.push_back("@" + t + " " + line);
  }

  // ---- setup ----
  Status Setup() {
    CL_RETURN_IF_ERROR(EnableBugIfAny());
    profile_ = DrawProfile(rng_);
    net_.SetOptions(profile_.net);
    if (tracing()) {
      Trace("seed " + Str(options_.seed) + " nodes " + Str(options_.nodes) +
            (options_.bug.empty() ? "" : " bug " + options_.bug) + " | drop " +
            Str(profile_.net.drop_per_million) + "ppm dup " +
            Str(profile_.net.duplicate_per_million) + "ppm delay 1.." +
            Str(profile_.net.max_delay) + " crash " + Str(profile_.crash_pm) + "ppm/tick" +
            " ready-crash " + Str(profile_.ready_crash_pm) + "ppm partition " +
            Str(profile_.partition_pm) + "ppm propose " + Str(profile_.propose_pm) + "ppm conf " +
            Str(profile_.conf_pm) + "ppm transfer " + Str(profile_.transfer_pm) + "ppm compact " +
            Str(profile_.compact_pm) + "ppm campaign " + Str(profile_.campaign_pm) +
            "ppm pre_vote " + Str(profile_.pre_vote) + " check_quorum " +
            Str(profile_.check_quorum) + " max_msg " + Str(profile_.max_size_per_msg) +
            " inflight " + Str(profile_.max_inflight));
    }
    raft::ConfState initial;
    for (int i = 1; i <= options_.nodes; ++i) initial.add_voters(i);
    const raft::Entry boot = BootstrapEntry();
    const uint64_t total = static_cast<uint64_t>(options_.nodes) + kSpares;
    for (uint64_t i = 1; i <= total; ++i) {
      SimNode& n = nodes_[i];
      n.id = NodeId(i);
      n.tick_phase = rng_.Uniform(kTickUnits);
      if (i > static_cast<uint64_t>(options_.nodes)) {
        CL_RETURN_IF_ERROR(checker_.AddNode(n.id, {}, raft::HardState(), 0));
        continue;
      }
      raft::Snapshot snap;
      snap.mutable_metadata()->set_index(1);
      snap.mutable_metadata()->set_term(1);
      *snap.mutable_metadata()->mutable_conf_state() = initial;
      n.sm = {IdOf(boot)};
      snap.set_data(EncodeState(n.sm));
      CL_RETURN_IF_ERROR(n.disk->storage().ApplySnapshot(snap));
      raft::HardState hs;
      hs.set_term(1);
      hs.set_commit(1);
      n.disk->storage().SetHardState(hs);
      CL_RETURN_IF_ERROR(checker_.AddNode(n.id, n.sm, hs, 1));
    }
    for (int i = 1; i <= options_.nodes; ++i) {
      CL_RETURN_IF_ERROR(Start(nodes_[static_cast<uint64_t>(i)]));
    }
    return Status::Ok();
  }

  Status EnableBugIfAny() {
    if (options_.bug.empty()) return Status::Ok();
    return EnableBug(options_.bug, &bugs_);
  }

  Config MakeConfig(SimNode& n) {
    Config c;
    c.id = n.id;
    c.storage = &n.disk->storage();
    c.applied = RaftIndex(n.sm.size());
    c.election_ticks = kElectionTicks;
    c.heartbeat_ticks = 1;
    c.random_seed = rng_.Next();
    c.max_size_per_msg = profile_.max_size_per_msg;
    c.max_inflight_msgs = profile_.max_inflight;
    c.check_quorum = profile_.check_quorum;
    c.pre_vote = profile_.pre_vote;
    c.bugs = bugs_;
    c.allow_testing_bugs = bugs_.any();
    return c;
  }

  // Starts (or restarts) a node's process from its durable disk.
  Status Start(SimNode& n) {
    // A snapshot made durable but not yet applied (crash in between) is
    // applied first, as a real node does when it opens its store.
    Result<raft::Snapshot> snap = n.disk->storage().Snapshot();
    CL_RETURN_IF_ERROR(snap.status());
    if (snap->metadata().index() > n.sm.size()) {
      CL_RETURN_IF_ERROR(RestoreStateMachine(n, *snap));
    }
    Result<std::unique_ptr<RawNode>> raw = RawNode::Create(MakeConfig(n));
    if (!raw.ok()) {
      return Internal("node " + Str(n.id.value()) + " failed to start: " + raw.status().ToString());
    }
    n.raw = std::move(*raw);
    n.started = true;
    n.role = StateRole::kFollower;
    n.lead = NodeId();
    n.recent_confs.clear();
    Trace("n" + Str(n.id.value()) + " start applied=" + Str(n.sm.size()));
    ++result_.steps;
    CL_RETURN_IF_ERROR(HandleReadies(n));
    return Observe(n);
  }

  void Crash(SimNode& n, const std::string& why) {
    if (!n.up()) return;
    n.raw.reset();
    n.disk->Crash();
    checker_.OnCrash(n.id);
    n.role = StateRole::kFollower;
    n.lead = NodeId();
    n.restart_tick = Tick() + rng_.Range(1, std::max<uint64_t>(profile_.max_down_ticks, 1));
    ++result_.crashes;
    Trace("n" + Str(n.id.value()) + " CRASH (" + why + "), restart at tick " + Str(n.restart_tick));
  }

  bool MaybeCrashInReady(SimNode& n, const char* point) {
    if (!faults_on_ || !rng_.Chance(profile_.ready_crash_pm)) return false;
    Crash(n, point);
    return true;
  }

  uint64_t Tick() const { return now_ / kTickUnits; }

  // ---- the Ready loop (raft.h's contract; etcd's node loop) ----
  Status HandleReadies(SimNode& n) {
    while (n.up() && n.raw->HasReady()) {
      CL_RETURN_IF_ERROR(HandleReady(n));
    }
    return Status::Ok();
  }

  Status HandleReady(SimNode& n) {
    Ready rd = n.raw->GetReady();
    const RaftStatus st = n.raw->GetStatus();  // before this Ready's entries are applied
    const std::string who = "n" + Str(n.id.value());
    if (tracing()) TraceReady(n, rd);
    if (rd.soft_state) {
      n.role = rd.soft_state->role;
      n.lead = rd.soft_state->lead;
      if (n.role == StateRole::kLeader) {
        CL_RETURN_IF_ERROR(
            checker_.OnElected(n.id, st.hard_state.term(), st.conf_state, st.hard_state.commit()));
      }
    }
    // 1. Write (volatile until synced).
    std::vector<EntryId> snap_prefix;
    if (rd.snapshot) {
      std::optional<std::vector<EntryId>> decoded = DecodeState(rd.snapshot->data());
      if (!decoded) return Internal(who + " received a snapshot with undecodable data");
      n.disk->WriteSnapshot(*rd.snapshot);
      CL_RETURN_IF_ERROR(checker_.OnWriteSnapshot(n.id, rd.snapshot->metadata().index(), *decoded));
    }
    if (!rd.entries.empty()) {
      n.disk->WriteEntries(rd.entries);
      CL_RETURN_IF_ERROR(checker_.OnWriteEntries(n.id, rd.entries));
    }
    if (rd.hard_state) {
      n.disk->WriteHardState(*rd.hard_state);
      CL_RETURN_IF_ERROR(checker_.OnWriteHardState(n.id, *rd.hard_state));
    }
    if (MaybeCrashInReady(n, "after write, before sync")) return Status::Ok();
    const bool sync = rd.must_sync || !rd.entries.empty() || rd.snapshot.has_value() ||
                      !rd.committed_entries.empty();
    // 2. A leader's appends leave before its own write is durable, as the
    //    node's driver does (Raft thesis §10.2.1); everything else is sent
    //    after the sync (the buggy driver sends it first).
    const uint64_t durable_term = n.disk->storage().GetInitialState()->hard_state.term();
    const std::vector<raft::Message> early =
        TakeMessagesSendableBeforePersist(rd, st.soft_state.role, durable_term);
    CL_RETURN_IF_ERROR(Send(n, early));
    if (!early.empty() && MaybeCrashInReady(n, "after a leader's appends, before sync"))
      return Status::Ok();
    if (bugs_.respond_before_persist) {
      CL_RETURN_IF_ERROR(Send(n, rd.messages));
      if (MaybeCrashInReady(n, "after send, before sync")) return Status::Ok();
      if (sync) CL_RETURN_IF_ERROR(Sync(n));
    } else {
      if (sync) CL_RETURN_IF_ERROR(Sync(n));
      if (MaybeCrashInReady(n, "after sync, before send")) return Status::Ok();
      CL_RETURN_IF_ERROR(Send(n, rd.messages));
    }
    if (st.soft_state.role == StateRole::kLeader && rd.hard_state) {
      std::vector<raft::ConfState> confs = std::move(n.recent_confs);
      n.recent_confs.clear();
      confs.push_back(st.conf_state);
      CL_RETURN_IF_ERROR(checker_.OnLeaderCommitDurable(n.id, st.hard_state.term(),
                                                        rd.hard_state->commit(), confs));
    }
    // 3. Apply.
    if (rd.snapshot) {
      CL_RETURN_IF_ERROR(RestoreStateMachine(n, *rd.snapshot));
      ++result_.snapshots_installed;
    }
    for (const raft::Entry& e : rd.committed_entries) {
      CL_RETURN_IF_ERROR(ApplyEntry(n, e));
      if (!n.up()) return Status::Ok();
    }
    if (MaybeCrashInReady(n, "after apply, before advance")) return Status::Ok();
    n.raw->Advance(rd);
    return Status::Ok();
  }

  void TraceReady(const SimNode& n, const Ready& rd) {
    std::string s = "n" + Str(n.id.value()) + " ready";
    if (rd.soft_state) {
      s += " role=" + std::string(RoleName(rd.soft_state->role)) +
           " lead=" + Str(rd.soft_state->lead.value());
    }
    if (rd.hard_state) {
      s += " hs=(t" + Str(rd.hard_state->term()) + " v" + Str(rd.hard_state->vote()) + " c" +
           Str(rd.hard_state->commit()) + ")";
    }
    if (rd.snapshot) s += " snap=" + Str(rd.snapshot->metadata().index());
    if (!rd.entries.empty()) {
      s += " write=[" + Str(rd.entries.front().index()) + ".." + Str(rd.entries.back().index()) +
           "]/t" + Str(rd.entries.back().term());
    }
    if (!rd.committed_entries.empty()) {
      s += " apply=[" + Str(rd.committed_entries.front().index()) + ".." +
           Str(rd.committed_entries.back().index()) + "]";
    }
    if (!rd.messages.empty()) s += " msgs=" + Str(rd.messages.size());
    if (rd.must_sync) s += " sync";
    Trace(s);
  }

  Status Sync(SimNode& n) {
    Status s = n.disk->Sync();
    if (!s.ok())
      return Internal("node " + Str(n.id.value()) + " disk write failed: " + s.ToString());
    return checker_.OnSync(n.id);
  }

  Status Send(SimNode& n, const std::vector<raft::Message>& msgs) {
    for (const raft::Message& m : msgs) {
      // A follower forwards a proposal with its original sender (etcd does too).
      if (m.from() != n.id.value() && m.type() != raft::MSG_PROP) {
        return Internal("node " + Str(n.id.value()) + " sent a message from " + Str(m.from()));
      }
      CL_RETURN_IF_ERROR(checker_.OnSend(m));
      const SendOutcome out = net_.Send(now_, m);
      // A transport learns that a snapshot stream failed and reports it.
      if (out.dropped && m.type() == raft::MSG_SNAP) lost_snapshots_.push_back(m);
      if (tracing()) {
        Trace("send " + Describe(m) +
              (out.dropped       ? " LOST"
               : out.copies == 2 ? " DUPLICATED"
                                 : ""));
      }
    }
    return Status::Ok();
  }

  Status RestoreStateMachine(SimNode& n, const raft::Snapshot& snap) {
    std::optional<std::vector<EntryId>> sm = DecodeState(snap.data());
    if (!sm || sm->size() != snap.metadata().index()) {
      return Internal("node " + Str(n.id.value()) + " has a snapshot whose data does not match");
    }
    n.sm = std::move(*sm);
    Trace("n" + Str(n.id.value()) + " restore state machine to " + Str(n.sm.size()));
    return checker_.OnRestoreSnapshot(n.id, n.sm.size());
  }

  Status ApplyEntry(SimNode& n, const raft::Entry& e) {
    const EntryId id = IdOf(e);
    CL_RETURN_IF_ERROR(checker_.OnApply(n.id, e.index(), id));
    n.sm.push_back(id);
    if (e.type() == raft::ENTRY_CONF_CHANGE) {
      raft::ConfChange cc;
      if (!cc.ParseFromString(e.data())) return Internal("undecodable conf change entry");
      const raft::ConfState before = n.raw->GetStatus().conf_state;
      const raft::ConfState after = n.raw->ApplyConfChange(cc);
      Trace("n" + Str(n.id.value()) + " conf " + Str(e.index()) + ": [" + ConfToString(before) +
            "] -> [" + ConfToString(after) + "]");
      CL_RETURN_IF_ERROR(checker_.OnConfApplied(n.id, e.index(), before, after));
      if (conf_indexes_.insert(e.index()).second) ++result_.conf_changes;
      n.recent_confs.push_back(after);
      // The durable config must match the applied index (the storage returns
      // the snapshot's config at restart): snapshot at every applied change.
      Result<raft::Snapshot> snap =
          n.disk->storage().CreateSnapshot(RaftIndex(e.index()), after, EncodeState(n.sm));
      if (!snap.ok() && snap.status().code() != Code::kCompacted) {
        return Internal("snapshot at a conf change failed: " + snap.status().ToString());
      }
      if (e.index() > latest_conf_index_) {  // only the newest config decides who stays
        latest_conf_index_ = e.index();
        RequestStops(after);
      }
    } else if (e.data().size() == 9 && e.data()[0] == 'P') {
      const uint64_t pid = ReadBigEndian64(ByteView(e.data()).substr(1));
      auto it = proposer_.find(pid);
      if (it != proposer_.end() && it->second == n.id.value()) acked_.insert(pid);
    }
    return Status::Ok();
  }

  // Nodes no longer in any part of the config are stopped (an operator shuts
  // a removed member down).
  void RequestStops(const raft::ConfState& cs) {
    const ConfSets s = Normalize(cs);
    for (auto& [id, node] : nodes_) {
      if (!node.started || node.decommissioned) continue;
      const bool member = std::binary_search(s.voters.begin(), s.voters.end(), id) ||
                          std::binary_search(s.learners.begin(), s.learners.end(), id) ||
                          std::binary_search(s.outgoing.begin(), s.outgoing.end(), id) ||
                          std::binary_search(s.learners_next.begin(), s.learners_next.end(), id);
      if (!member && ever_member_.contains(id)) node.stop_requested = true;
    }
  }

  void ApplyStops() {
    for (auto& [id, node] : nodes_) {
      if (!node.stop_requested || node.decommissioned) continue;
      node.raw.reset();
      node.disk->Crash();
      checker_.OnCrash(node.id);
      node.decommissioned = true;
      Trace("n" + Str(id) + " stopped (removed from the cluster)");
    }
  }

  Status Observe(SimNode& n) {
    if (!n.up()) return Status::Ok();
    const RaftStatus st = n.raw->GetStatus();
    n.term = st.hard_state.term();
    n.role = st.soft_state.role;
    n.lead = st.soft_state.lead;
    n.conf = st.conf_state;
    for (uint64_t v : st.conf_state.voters()) ever_member_.insert(v);
    for (uint64_t v : st.conf_state.learners()) ever_member_.insert(v);
    NodeObservation obs{.term = st.hard_state.term(),
                        .commit = st.hard_state.commit(),
                        .leader = st.soft_state.role == StateRole::kLeader,
                        .conf = st.conf_state};
    return checker_.OnObserve(n.id, obs);
  }

  // Runs one step on a node: `action` (Tick, Step, Propose, ...), then its
  // Readies, then the checks.
  template <typename F>
  Status StepNode(SimNode& n, F action) {
    ++result_.steps;
    CL_RETURN_IF_ERROR(action(*n.raw));
    CL_RETURN_IF_ERROR(HandleReadies(n));
    CL_RETURN_IF_ERROR(Observe(n));
    ApplyStops();
    return Status::Ok();
  }

  // ---- events ----
  Status Deliver(raft::Message m) {
    ++result_.steps;
    auto it = nodes_.find(m.to());
    const bool blocked = net_.Blocked(NodeId(m.from()), NodeId(m.to()));
    const bool down = it == nodes_.end() || !it->second.up();
    if (blocked || down) {
      if (tracing()) Trace("drop " + Describe(m) + (blocked ? " (partition)" : " (down)"));
      if (m.type() == raft::MSG_SNAP) return ReportSnapshot(m, /*failed=*/true);
      return Status::Ok();
    }
    if (tracing()) Trace("deliver " + Describe(m));
    checker_.OnDeliver(m);
    SimNode& n = it->second;
    CL_RETURN_IF_ERROR(StepNode(n, [&](RawNode& raw) {
      Status s = raw.Step(m);
      if (!s.ok() && tracing()) Trace("n" + Str(n.id.value()) + " step error " + s.ToString());
      return Status::Ok();
    }));
    if (m.type() == raft::MSG_SNAP) return ReportSnapshot(m, /*failed=*/false);
    return Status::Ok();
  }

  Status ReportSnapshot(const raft::Message& m, bool failed) {
    auto it = nodes_.find(m.from());
    if (it == nodes_.end() || !it->second.up()) return Status::Ok();
    Trace("n" + Str(m.from()) + " snapshot to " + Str(m.to()) + (failed ? " failed" : " done"));
    return StepNode(it->second, [&](RawNode& raw) {
      raw.ReportSnapshot(NodeId(m.to()), failed);
      return Status::Ok();
    });
  }

  Status FlushSnapshotReports() {
    while (!lost_snapshots_.empty()) {
      const raft::Message m = std::move(lost_snapshots_.front());
      lost_snapshots_.erase(lost_snapshots_.begin());
      CL_RETURN_IF_ERROR(ReportSnapshot(m, /*failed=*/true));
    }
    return Status::Ok();
  }

  Status TickNodes() {
    for (auto& [id, n] : nodes_) {
      if (!n.up() || now_ % kTickUnits != n.tick_phase) continue;
      if (tracing()) Trace("n" + Str(id) + " tick");
      CL_RETURN_IF_ERROR(StepNode(n, [](RawNode& raw) {
        raw.Tick();
        return Status::Ok();
      }));
    }
    return Status::Ok();
  }

  SimNode* Leader() {
    SimNode* best = nullptr;
    for (auto& [id, n] : nodes_) {
      if (n.up() && n.role == StateRole::kLeader && (best == nullptr || n.term > best->term)) {
        best = &n;
      }
    }
    return best;
  }

  SimNode* RandomUpNode() {
    std::vector<SimNode*> up;
    for (auto& [id, n] : nodes_) {
      if (n.up()) up.push_back(&n);
    }
    if (up.empty()) return nullptr;
    return up[rng_.Uniform(up.size())];
  }

  Status Propose(SimNode& n, char kind) {
    const uint64_t pid = next_proposal_++;
    Status st;
    CL_RETURN_IF_ERROR(StepNode(n, [&](RawNode& raw) {
      st = raw.Propose(ProposalData(kind, pid));
      return Status::Ok();
    }));
    Trace("n" + Str(n.id.value()) + " propose " + std::string(1, kind) + Str(pid) + ": " +
          st.ToString());
    if (st.ok()) {
      ++result_.proposals;
      proposer_[pid] = n.id.value();
    }
    return Status::Ok();
  }

  // ---- the controller: faults and workload, once per tick ----
  Status Chaos() {
    for (auto& [id, n] : nodes_) {
      if (n.started && !n.decommissioned && !n.up() && n.restart_tick <= Tick()) {
        CL_RETURN_IF_ERROR(Start(n));
      }
    }
    ExpireCuts();
    if (rng_.Chance(profile_.partition_pm)) StartPartition();
    if (rng_.Chance(profile_.isolate_leader_pm)) {
      if (SimNode* leader = Leader()) Isolate(*leader, profile_.max_isolate_ticks);
    }
    if (rng_.Chance(profile_.crash_pm)) {
      SimNode* leader = Leader();
      SimNode* victim = (leader != nullptr && rng_.Chance(500000)) ? leader : RandomUpNode();
      if (victim != nullptr) Crash(*victim, "fault");
    }
    if (rng_.Chance(profile_.propose_pm)) {
      const uint64_t burst = rng_.Range(1, profile_.max_burst);
      for (uint64_t i = 0; i < burst; ++i) {
        SimNode* leader = Leader();
        SimNode* target = (leader != nullptr && rng_.Chance(700000)) ? leader : RandomUpNode();
        if (target == nullptr) break;
        CL_RETURN_IF_ERROR(Propose(*target, 'P'));
        if (target->up() && rng_.Chance(profile_.crash_after_propose_pm)) {
          // Leader churn with entries left on one node only: crash it, or cut
          // it off (which also loses the appends still in flight).
          if (rng_.Chance(500000)) {
            Crash(*target, "right after a proposal");
          } else {
            Isolate(*target);
          }
        }
      }
    }
    if (rng_.Chance(profile_.conf_pm)) CL_RETURN_IF_ERROR(ChangeMembership(/*only_leave=*/false));
    if (rng_.Chance(profile_.transfer_pm)) CL_RETURN_IF_ERROR(TransferLeader());
    if (rng_.Chance(profile_.compact_pm)) CL_RETURN_IF_ERROR(CompactRandomNode());
    if (rng_.Chance(profile_.campaign_pm)) {
      SimNode* n = RandomUpNode();
      if (n != nullptr) {
        Trace("n" + Str(n->id.value()) + " campaign");
        CL_RETURN_IF_ERROR(StepNode(*n, [](RawNode& raw) {
          raw.Campaign();
          return Status::Ok();
        }));
      }
    }
    return Status::Ok();
  }

  // Partitions ("cuts") overlap; each blocks its links until its end tick.
  struct Cut {
    std::vector<std::pair<NodeId, NodeId>> links;
    uint64_t until = 0;
    std::string what;
  };

  static std::vector<std::pair<NodeId, NodeId>> Links(const std::vector<NodeId>& a,
                                                      const std::vector<NodeId>& b, bool one_way) {
    std::vector<std::pair<NodeId, NodeId>> links;
    for (NodeId x : a) {
      for (NodeId y : b) {
        if (x == y) continue;
        links.emplace_back(x, y);
        if (!one_way) links.emplace_back(y, x);
      }
    }
    return links;
  }

  void RebuildNetworkCuts() {
    net_.HealAll();
    for (const Cut& c : cuts_) {
      for (const auto& [from, to] : c.links) net_.Block(from, to);
    }
  }

  void AddCut(std::vector<std::pair<NodeId, NodeId>> links, uint64_t until, std::string what) {
    Trace("PARTITION " + what + " until tick " + Str(until));
    cuts_.push_back({std::move(links), until, std::move(what)});
    RebuildNetworkCuts();
  }

  void ExpireCuts() {
    const size_t before = cuts_.size();
    for (const Cut& c : cuts_) {
      if (c.until <= Tick()) Trace("partition healed: " + c.what);
    }
    std::erase_if(cuts_, [&](const Cut& c) { return c.until <= Tick(); });
    if (cuts_.size() != before) RebuildNetworkCuts();
  }

  void Isolate(const SimNode& lone, uint64_t max_ticks = 30) {
    std::vector<NodeId> rest;
    for (auto& [id, n] : nodes_) {
      if (n.started && !n.decommissioned && n.id != lone.id) rest.push_back(n.id);
    }
    const uint64_t until = Tick() + rng_.Range(1, std::max<uint64_t>(max_ticks, 1));
    AddCut(Links({lone.id}, rest, /*one_way=*/false), until, "isolate n" + Str(lone.id.value()));
  }

  void StartPartition() {
    std::vector<NodeId> all;
    for (auto& [id, n] : nodes_) {
      if (n.started && !n.decommissioned) all.push_back(n.id);
    }
    if (all.size() < 2) return;
    std::vector<NodeId> a, b;
    const uint64_t kind = rng_.Uniform(4);
    SimNode* leader = Leader();
    if (kind == 0 || kind == 2) {  // random split
      for (NodeId id : all) (rng_.Chance(500000) ? a : b).push_back(id);
      if (a.empty() || b.empty()) return;
    } else {  // one node (the leader, if any, in kind 3) cut off
      const NodeId lone =
          (kind == 3 && leader != nullptr) ? leader->id : all[rng_.Uniform(all.size())];
      for (NodeId id : all) (id == lone ? a : b).push_back(id);
    }
    const bool one_way = kind == 2 || (kind == 1 && rng_.Chance(500000));
    std::string what = one_way ? "one-way {" : "symmetric {";
    for (NodeId id : a) what += Str(id.value()) + " ";
    what += one_way ? "} -/-> {" : "} | {";
    for (NodeId id : b) what += Str(id.value()) + " ";
    const uint64_t until =
        Tick() + rng_.Range(2, std::max<uint64_t>(profile_.max_partition_ticks, 2));
    AddCut(Links(a, b, one_way), until, what + "}");
  }

  Status ChangeMembership(bool only_leave) {
    SimNode* leader = Leader();
    if (leader == nullptr) return Status::Ok();
    const ConfSets cs = Normalize(leader->conf);
    raft::ConfChange cc;
    auto add = [&](raft::ConfChangeType t, uint64_t id) {
      raft::ConfChangeSingle* c = cc.add_changes();
      c->set_type(t);
      c->set_node_id(id);
    };
    std::string what;
    if (!cs.outgoing.empty()) {
      if (leader->conf.auto_leave()) return Status::Ok();
      what = "leave joint";
    } else if (only_leave) {
      return Status::Ok();
    } else {
      std::vector<uint64_t> spares;
      for (auto& [id, n] : nodes_) {
        if (!n.started) spares.push_back(id);
      }
      const size_t members = cs.voters.size() + cs.learners.size();
      auto pick = [&](const std::vector<uint64_t>& v) { return v[rng_.Uniform(v.size())]; };
      // The applicable operations; one is drawn.
      std::vector<int> ops;
      if (!spares.empty() && members < static_cast<size_t>(options_.nodes) + 3) ops.push_back(0);
      if (!cs.learners.empty()) ops.insert(ops.end(), {1, 4, 5});
      if (cs.voters.size() > kMinVoters) ops.insert(ops.end(), {2, 3});
      if (ops.empty()) return Status::Ok();
      const int op = ops[rng_.Uniform(ops.size())];
      if (op == 0) {
        const uint64_t id = spares.front();
        add(raft::CONF_ADD_LEARNER, id);
        what = "add learner " + Str(id);
        CL_RETURN_IF_ERROR(Start(nodes_[id]));
      } else if (op == 1) {
        const uint64_t id = pick(cs.learners);
        add(raft::CONF_ADD_NODE, id);
        what = "promote " + Str(id);
      } else if (op == 2) {
        const uint64_t id = pick(cs.voters);
        add(raft::CONF_REMOVE_NODE, id);
        what = "remove voter " + Str(id);
      } else if (op == 3) {
        const uint64_t id = pick(cs.voters);
        add(raft::CONF_ADD_LEARNER, id);
        what = "demote " + Str(id);
      } else if (op == 4) {
        const uint64_t id = pick(cs.learners);
        add(raft::CONF_REMOVE_NODE, id);
        what = "remove learner " + Str(id);
      } else {
        const uint64_t in = pick(cs.learners);
        const uint64_t out = pick(cs.voters);
        add(raft::CONF_ADD_NODE, in);
        add(raft::CONF_REMOVE_NODE, out);
        static constexpr raft::ConfChange::Transition kTransitions[] = {
            raft::ConfChange::AUTO, raft::ConfChange::IMPLICIT, raft::ConfChange::EXPLICIT};
        cc.set_transition(kTransitions[rng_.Uniform(3)]);
        what = "joint replace " + Str(out) + " by " + Str(in) + " (" +
               raft::ConfChange::Transition_Name(cc.transition()) + ")";
      }
    }
    Status st;
    CL_RETURN_IF_ERROR(StepNode(*leader, [&](RawNode& raw) {
      st = raw.ProposeConfChange(cc);
      return Status::Ok();
    }));
    Trace("n" + Str(leader->id.value()) + " propose conf change: " + what + ": " + st.ToString());
    return Status::Ok();
  }

  Status TransferLeader() {
    SimNode* leader = Leader();
    if (leader == nullptr) return Status::Ok();
    std::vector<uint64_t> voters;
    for (uint64_t v : Normalize(leader->conf).voters) {
      if (v != leader->id.value()) voters.push_back(v);
    }
    if (voters.empty()) return Status::Ok();
    const uint64_t to = voters[rng_.Uniform(voters.size())];
    Trace("n" + Str(leader->id.value()) + " transfer leadership to " + Str(to));
    return StepNode(*leader, [&](RawNode& raw) {
      raw.TransferLeader(NodeId(to));
      return Status::Ok();
    });
  }

  Status CompactRandomNode() {
    SimNode* n = RandomUpNode();
    if (n == nullptr) return Status::Ok();
    MemoryLogStorage& s = n->disk->storage();
    const uint64_t applied = n->sm.size();
    const uint64_t snap_index = s.Snapshot()->metadata().index();
    if (applied <= snap_index + 1) return Status::Ok();
    const raft::ConfState conf = n->raw->GetStatus().conf_state;
    Result<raft::Snapshot> snap = s.CreateSnapshot(RaftIndex(applied), conf, EncodeState(n->sm));
    if (!snap.ok()) return Internal("CreateSnapshot failed: " + snap.status().ToString());
    const uint64_t keep = rng_.Range(0, std::min<uint64_t>(3, applied - snap_index - 1));
    const Status st = s.Compact(RaftIndex(applied - keep));
    Trace("n" + Str(n->id.value()) + " compact: snapshot at " + Str(applied) + ", log from " +
          Str(applied - keep + 1) + ": " + st.ToString());
    return Status::Ok();
  }

  // ---- heal and liveness ----
  Status Heal() {
    faults_on_ = false;
    cuts_.clear();
    net_.HealAll();
    net_.SetOptions(
        {.drop_per_million = 0, .duplicate_per_million = 0, .min_delay = 1, .max_delay = 3});
    Trace("HEAL: partitions end, crashed nodes restart, the network is reliable");
    for (auto& [id, n] : nodes_) {
      if (n.started && !n.decommissioned && !n.up()) CL_RETURN_IF_ERROR(Start(n));
    }
    heal_tick_ = Tick();
    return Status::Ok();
  }

  // Members of the leader's configuration, all of which must converge.
  std::vector<uint64_t> Members(const SimNode& leader) const {
    const ConfSets cs = Normalize(leader.conf);
    std::set<uint64_t> m(cs.voters.begin(), cs.voters.end());
    m.insert(cs.learners.begin(), cs.learners.end());
    m.insert(cs.outgoing.begin(), cs.outgoing.end());
    m.insert(cs.learners_next.begin(), cs.learners_next.end());
    return {m.begin(), m.end()};
  }

  bool StableLeader(SimNode** out) {
    SimNode* leader = Leader();
    if (leader == nullptr) return false;
    for (uint64_t v : Normalize(leader->conf).voters) {
      auto it = nodes_.find(v);
      if (it == nodes_.end() || !it->second.up() || it->second.lead != leader->id ||
          it->second.term != leader->term) {
        return false;
      }
    }
    *out = leader;
    return true;
  }

  // Returns true when the run is complete.
  Result<bool> Liveness() {
    const uint64_t since = Tick() - heal_tick_;
    SimNode* leader = nullptr;
    if (!StableLeader(&leader)) {
      if (!had_stable_leader_ && since > options_.leader_timeouts * kElectionTicks) {
        return Internal("liveness: no stable leader within " + Str(options_.leader_timeouts) +
                        " election timeouts after the faults healed");
      }
    } else {
      if (!had_stable_leader_) Trace("stable leader n" + Str(leader->id.value()));
      had_stable_leader_ = true;
      CL_RETURN_IF_ERROR(ChangeMembership(/*only_leave=*/true));
      const bool marker_done = marker_id_ != 0 && HasMarker(*leader);
      if (!marker_done && (marker_id_ == 0 || Tick() >= marker_retry_tick_)) {
        marker_id_ = next_proposal_;
        raft::Entry marker;
        marker.set_data(ProposalData('M', marker_id_));
        marker_content_ = ContentHash(marker);
        marker_retry_tick_ = Tick() + 2 * kElectionTicks;
        CL_RETURN_IF_ERROR(Propose(*leader, 'M'));
      }
      if (marker_done && Converged(*leader)) return true;
    }
    if (since > options_.converge_timeouts * kElectionTicks) {
      return Internal("liveness: the cluster did not converge within " +
                      Str(options_.converge_timeouts) + " election timeouts after the faults " +
                      "healed: " + ConvergenceReport());
    }
    return false;
  }

  bool Converged(const SimNode& leader) {
    const std::vector<EntryId>& canon = checker_.canonical();
    for (uint64_t id : Members(leader)) {
      const SimNode& n = nodes_.at(id);
      if (!n.up() || n.sm.size() != canon.size() || !(n.sm == canon)) return false;
      if (!HasMarker(n)) return false;
    }
    return true;
  }

  // The node's state machine holds the current marker (applied one by one or
  // received in a snapshot).
  bool HasMarker(const SimNode& n) const {
    return std::any_of(n.sm.rbegin(), n.sm.rend(),
                       [&](const EntryId& e) { return e.content == marker_content_; });
  }

  std::string ConvergenceReport() const {
    std::string s = "canonical length " + Str(checker_.canonical().size()) + ";";
    for (const auto& [id, n] : nodes_) {
      if (!n.started || n.decommissioned) continue;
      s += " n" + Str(id) + (n.up() ? "" : "(down)") + " " + RoleName(n.role) + " t" + Str(n.term) +
           " lead " + Str(n.lead.value()) + " applied " + Str(n.sm.size()) + ";";
    }
    return s;
  }

  Status FinalChecks() {
    std::set<uint64_t> contents;
    for (const EntryId& e : checker_.canonical()) contents.insert(e.content);
    raft::Entry probe;
    for (uint64_t pid : acked_) {
      probe.set_data(ProposalData('P', pid));
      if (!contents.contains(ContentHash(probe))) {
        return Internal("acknowledged proposal P" + Str(pid) + " is not in the committed sequence");
      }
    }
    Trace("PASS: " + Str(checker_.canonical().size()) + " entries committed, " +
          Str(acked_.size()) + " proposals acknowledged, all members converged");
    return Status::Ok();
  }

  Status RunLoop() {
    CL_RETURN_IF_ERROR(Setup());
    const uint64_t end_tick =
        options_.chaos_ticks + options_.converge_timeouts * kElectionTicks + 2;
    for (now_ = 1; Tick() < end_tick; ++now_) {
      while (std::optional<raft::Message> m = net_.PopDue(now_)) {
        CL_RETURN_IF_ERROR(Deliver(std::move(*m)));
        CL_RETURN_IF_ERROR(FlushSnapshotReports());
      }
      if (now_ % kTickUnits == 0) {
        if (Tick() < options_.chaos_ticks) {
          CL_RETURN_IF_ERROR(Chaos());
        } else {
          if (Tick() == options_.chaos_ticks) CL_RETURN_IF_ERROR(Heal());
          CL_ASSIGN_OR_RETURN(const bool done, Liveness());
          if (done) return FinalChecks();
        }
        CL_RETURN_IF_ERROR(FlushSnapshotReports());
      }
      CL_RETURN_IF_ERROR(TickNodes());
      CL_RETURN_IF_ERROR(FlushSnapshotReports());
    }
    return Internal("simulation ran past its end without converging");
  }

  const SimOptions options_;
  Rng rng_;
  Network net_;
  Checker checker_;
  Profile profile_;
  TestingBugs bugs_;
  std::map<uint64_t, SimNode> nodes_;
  uint64_t now_ = 0;
  std::vector<Cut> cuts_;
  uint64_t heal_tick_ = 0;
  bool had_stable_leader_ = false;
  bool faults_on_ = true;
  uint64_t latest_conf_index_ = 0;
  uint64_t next_proposal_ = 1;
  uint64_t marker_id_ = 0;
  uint64_t marker_retry_tick_ = 0;
  std::map<uint64_t, uint64_t> proposer_;  // proposal id -> node
  std::set<uint64_t> acked_;
  uint64_t marker_content_ = 0;  // ContentHash of the current marker entry
  std::set<uint64_t> ever_member_;
  std::set<uint64_t> conf_indexes_;
  std::vector<raft::Message> lost_snapshots_;  // dropped at send; reported after the step
  SimResult result_;
};

}  // namespace

const std::vector<std::string>& BugNames() {
  static const std::vector<std::string> kNames = {
      "commit_previous_term_by_counting", "vote_without_log_check", "truncate_on_stale_append",
      "count_learner_in_quorum", "respond_before_persist"};
  return kNames;
}

Status EnableBug(std::string_view name, TestingBugs* bugs) {
  if (name == "commit_previous_term_by_counting") {
    bugs->commit_previous_term_by_counting = true;
  } else if (name == "vote_without_log_check") {
    bugs->vote_without_log_check = true;
  } else if (name == "truncate_on_stale_append") {
    bugs->truncate_on_stale_append = true;
  } else if (name == "count_learner_in_quorum") {
    bugs->count_learner_in_quorum = true;
  } else if (name == "respond_before_persist") {
    bugs->respond_before_persist = true;
  } else {
    return InvalidArgument("unknown bug '" + std::string(name) + "'");
  }
  return Status::Ok();
}

SimResult RunSimulation(const SimOptions& options) { return Simulation(options).Run(); }

std::string ReplayCommand(const SimOptions& options) {
  std::string cmd = "build/bin/raftsim --seeds 1 --start " + Str(options.seed) + " --nodes " +
                    Str(static_cast<uint64_t>(options.nodes));
  if (!options.bug.empty()) cmd += " --bug " + options.bug;
  const SimOptions defaults;
  if (options.chaos_ticks != defaults.chaos_ticks) {
    cmd += " --chaos-ticks " + Str(options.chaos_ticks);
  }
  return cmd + " --trace";
}

}  // namespace cl::consensus::sim
