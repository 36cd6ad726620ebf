#include "node/raft_driver.h"

#include <chrono>

#include "base/thread_name.h"
#include "consensus/confchange.h"
#include "proto/raft.pb.h"
#include "proto/records.pb.h"
#include "storage/snapshot.h"
#include "storage/store.h"

namespace cl::node {

namespace raftpb = certledger::raft;

// Runs one job at a time on its own thread; Wait blocks until it is done.
class RaftDriver::AheadRunner {
 public:
  AheadRunner()
      : thread_([this] {
          NameThisThread("cl-prepare");
          Loop();
        }) {}
  ~AheadRunner() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Run(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      CL_CHECK(!job_, "a job is running already");
      job_ = std::move(job);
    }
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !job_; });
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || job_; });
      if (!job_) return;  // stopping, nothing left to run
      lock.unlock();
      job_();  // job_ is not touched by Run while set
      lock.lock();
      job_ = nullptr;
      cv_.notify_all();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::function<void()> job_;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the members above exist
};

RaftDriver::RaftDriver(RaftDriverOptions options, Ledger& ledger, Mempool& mempool, Hooks hooks)
    : options_(std::move(options)), ledger_(ledger), mempool_(mempool), hooks_(std::move(hooks)) {}

RaftDriver::~RaftDriver() { Stop(); }  // then ahead_ joins its idle thread

Result<std::unique_ptr<RaftDriver>> RaftDriver::Create(RaftDriverOptions options, Ledger& ledger,
                                                       Mempool& mempool, Hooks hooks) {
  if (!hooks.send || !hooks.now_ms) return InvalidArgument("raft driver needs send and now_ms hooks");
  if (options.tick_ms == 0) return InvalidArgument("tick_ms must be positive");
  storage::Store& store = ledger.store();
  std::unique_ptr<RaftDriver> d(new RaftDriver(std::move(options), ledger, mempool, std::move(hooks)));
  const RaftDriverOptions& o = d->options_;
  consensus::Config cfg{
      .id = o.id,
      .storage = &store.raft_log(),
      .applied = ledger.applied_index(),
      .election_ticks = o.election_ticks,
      .heartbeat_ticks = o.heartbeat_ticks,
      .random_seed = o.random_seed != 0 ? o.random_seed : o.id.value() * 0x9e3779b97f4a7c15ull,
  };
  CL_ASSIGN_OR_RETURN(d->raw_, consensus::RawNode::Create(cfg));
  if (auto snap = store.raft_log().Snapshot(); snap.ok())
    d->snapshot_index_ = RaftIndex(snap->metadata().index());
  if (auto init = store.raft_log().GetInitialState(); init.ok())
    d->durable_term_ = init->hard_state.term();
  if (o.metrics != nullptr) {
    d->apply_seconds_ = &o.metrics->GetHistogram(
        "certledger_apply_seconds",
        "Time to apply one committed block (verify, execute, atomic write; "
        "only the write if it was prepared)",
        LatencyBucketsSeconds());
    d->block_txs_ = &o.metrics->GetHistogram(
        "certledger_block_txs", "Transactions per applied block",
        {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000});
    d->persist_seconds_ = &o.metrics->GetHistogram(
        "certledger_raft_persist_seconds", "Time to persist one Ready's raft entries and state",
        LatencyBucketsSeconds());
    d->blocks_prepared_ = &o.metrics->GetCounter(
        "certledger_blocks_prepared_total",
        "Blocks whose signatures and contracts ran while their raft-log write was in flight");
  }
  d->RefreshStatus();
  return d;
}

void RaftDriver::Start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  ahead_ = std::make_unique<AheadRunner>();
  thread_ = std::thread([this] {
    NameThisThread("cl-raft");
    Run();
  });
}

void RaftDriver::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RaftDriver::Receive(raftpb::Message m) {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    inbox_.emplace_back(std::move(m));
  }
  cv_.notify_one();
}

void RaftDriver::Post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    inbox_.emplace_back(std::move(fn));
  }
  cv_.notify_one();
}

void RaftDriver::NotifyPending() {
  {
    std::lock_guard lock(mu_);
    pending_hint_ = true;
  }
  cv_.notify_one();
}

void RaftDriver::Campaign() {
  Post([this] { raw_->Campaign(); });
}

void RaftDriver::ReadIndex(uint32_t timeout_ms, std::function<void(Result<RaftIndex>)> done) {
  Post([this, timeout_ms, done = std::move(done)]() mutable {
    if (failed_) return done(status_.failure);
    const uint64_t seq = ++read_seq_;
    Bytes ctx = BigEndian64(options_.id.value());
    PutBigEndian64(&ctx, seq);
    reads_.push_back(PendingRead{.ctx = ctx,
                                 .deadline_tick = ticks_ + timeout_ms / options_.tick_ms + 1,
                                 .done = std::move(done)});
    raw_->ReadIndex(std::move(ctx));
  });
}

void RaftDriver::ChangeMembership(raftpb::ConfChange cc, uint32_t timeout_ms,
                                  std::function<void(Status)> done) {
  Post([this, cc = std::move(cc), timeout_ms, done = std::move(done)]() mutable {
    if (!conf_ops_.empty()) return done(FailedPrecondition("a membership change is in progress"));
    if (Status s = raw_->ProposeConfChange(cc); !s.ok()) return done(s);
    conf_ops_.emplace(++conf_seq_, PendingOp{ticks_ + timeout_ms / options_.tick_ms + 1,
                                             std::move(done)});
  });
}

void RaftDriver::TransferLeader(NodeId to, uint32_t timeout_ms, std::function<void(Status)> done) {
  Post([this, to, timeout_ms, done = std::move(done)]() mutable {
    const consensus::RaftStatus st = raw_->GetStatus();
    if (st.soft_state.role != consensus::StateRole::kLeader)
      return done(FailedPrecondition("not the leader; ask node " +
                                     std::to_string(st.soft_state.lead.value())));
    if (st.soft_state.lead == to) return done(Status::Ok());
    transfer_target_ = to;
    transfer_ops_.push_back(PendingOp{ticks_ + timeout_ms / options_.tick_ms + 1, std::move(done)});
    raw_->TransferLeader(to);
  });
}

void RaftDriver::ReportUnreachable(NodeId peer) {
  Post([this, peer] { raw_->ReportUnreachable(peer); });
}

void RaftDriver::ReportSnapshot(NodeId to, bool failed) {
  Post([this, to, failed] { raw_->ReportSnapshot(to, failed); });
}

void RaftDriver::InstallSnapshot(raftpb::Message msg_snap,
                                 std::unique_ptr<storage::SnapshotInstaller> installer,
                                 std::function<void(Status)> done) {
  // std::function needs a copyable callable: share the installer.
  auto inst = std::make_shared<std::unique_ptr<storage::SnapshotInstaller>>(std::move(installer));
  Post([this, msg = std::move(msg_snap), inst, done = std::move(done)]() mutable {
    done(StepSnapshot(msg, std::move(*inst)));
  });
}

// Raft restores from a snapshot only when it is newer than the commit index,
// from a current term, names this node, and does not match the log (etcd
// raft.restore). Otherwise stepping it is harmless (raft answers with its
// commit index) and nothing is installed.
Status RaftDriver::StepSnapshot(const raftpb::Message& msg,
                                std::unique_ptr<storage::SnapshotInstaller> inst) {
  if (failed_) return status_.failure;
  const consensus::RaftStatus st = raw_->GetStatus();
  const raftpb::SnapshotMetadata& meta = msg.snapshot().metadata();
  if (msg.term() < st.hard_state.term()) return FailedPrecondition("snapshot from a stale term");
  const bool named = consensus::ConfStateNames(meta.conf_state(), options_.id);
  auto term_at = ledger_.store().raft_log().Term(RaftIndex(meta.index()));
  const bool restores = meta.index() > st.hard_state.commit() && named &&
                        !(term_at.ok() && term_at->value() == meta.term());
  if (restores) {
    // Checked before raft sees it: raft must never adopt a snapshot the
    // store cannot install.
    CL_RETURN_IF_ERROR(inst->Verify(meta));
    pending_install_ = std::move(inst);
  }
  (void)raw_->Step(msg);
  return Status::Ok();
}

void RaftDriver::MaybeCompact() {
  if (!hooks_.make_snapshot || options_.snapshot_interval_entries == 0) return;
  const RaftIndex applied = ledger_.applied_index();
  if (applied.value() < snapshot_index_.value() + options_.snapshot_interval_entries) return;
  auto made = hooks_.make_snapshot();
  if (!made.ok()) {
    options_.log.Warn("snapshot_failed", {{"reason", made.status().ToString()}});
    if (!ledger_.store().write_error().ok()) Fail(made.status().WithContext("making a snapshot"));
    return;
  }
  snapshot_index_ = *made;
  storage::RaftLogStore& log = ledger_.store().raft_log();
  if (snapshot_index_.value() <= options_.compaction_keep_entries) return;
  const RaftIndex to(snapshot_index_.value() - options_.compaction_keep_entries);
  auto first = log.FirstIndex();
  if (!first.ok() || to < *first) return;
  if (Status s = log.Compact(to); !s.ok() && s.code() != Code::kCompacted) {
    options_.log.Warn("compaction_failed", {{"reason", s.ToString()}});
    if (!ledger_.store().write_error().ok()) Fail(s.WithContext("compacting the raft log"));
    return;
  }
  options_.log.Info("log_compacted", {{"through", to}, {"snapshot", snapshot_index_}});
}

DriverStatus RaftDriver::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

void RaftDriver::RefreshStatus() {
  const consensus::RaftStatus st = raw_->GetStatus();
  std::lock_guard lock(mu_);
  status_.id = options_.id;
  status_.leader = st.soft_state.lead;
  status_.role = st.soft_state.role;
  status_.term = RaftTerm(st.hard_state.term());
  status_.commit = RaftIndex(st.hard_state.commit());
  status_.applied = ledger_.applied_index();
  status_.height = ledger_.height();
  status_.voters.assign(st.conf_state.voters().begin(), st.conf_state.voters().end());
  status_.learners.assign(st.conf_state.learners().begin(), st.conf_state.learners().end());
  if (auto first = ledger_.store().raft_log().FirstIndex(); first.ok()) status_.first_log_index = *first;
  status_.snapshot_index = snapshot_index_;
}

void RaftDriver::Fail(Status s) {
  options_.log.Error("raft_driver_stopped", {{"reason", s.ToString()}});
  failed_ = true;
  std::lock_guard lock(mu_);
  status_.failure = std::move(s);
  stop_ = true;
}

void RaftDriver::Run() {
  using Clock = std::chrono::steady_clock;
  const auto tick = std::chrono::milliseconds(options_.tick_ms);
  auto next_tick = Clock::now() + tick;
  for (;;) {
    std::deque<Command> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait_until(lock, next_tick, [&] { return stop_ || !inbox_.empty() || pending_hint_; });
      if (stop_) break;
      batch.swap(inbox_);
      pending_hint_ = false;  // it only had to wake us: MaybePropose looks below
    }
    for (Command& c : batch) {
      if (auto* m = std::get_if<raftpb::Message>(&c)) {
        // Errors are messages for another node or of a local type from a
        // peer: raft refused them without changing state; nothing to do.
        (void)raw_->Step(*m);
      } else {
        std::get<std::function<void()>>(c)();
      }
    }
    if (Clock::now() >= next_tick) {
      raw_->Tick();
      ++ticks_;
      next_tick += tick;
      if (Clock::now() > next_tick) next_tick = Clock::now() + tick;  // we fell behind
      ExpireWaiters();
    }
    MaybePropose();
    while (!failed_ && raw_->HasReady()) HandleReady();
    if (failed_) break;
    RefreshStatus();
  }
  // Nobody will answer the waiters now.
  for (auto& r : reads_) r.done(Unavailable("node is stopping"));
  reads_.clear();
  for (auto& [seq, op] : conf_ops_) op.done(Unavailable("node is stopping"));
  conf_ops_.clear();
  for (auto& op : transfer_ops_) op.done(Unavailable("node is stopping"));
  transfer_ops_.clear();
}

void RaftDriver::MaybePropose() {
  const consensus::RaftStatus st = raw_->GetStatus();
  if (st.soft_state.role != consensus::StateRole::kLeader || st.lead_transferee != NodeId()) return;
  while (inflight_batches_ < options_.max_inflight_batches) {
    std::vector<AdmittedTx> txs =
        mempool_.TakeBatch(options_.max_batch_txs, options_.max_batch_bytes, hooks_.now_ms());
    if (txs.empty()) return;
    certledger::v1::Batch b;
    b.set_time_ms(hooks_.now_ms());
    b.set_proposer(options_.id.value());
    for (AdmittedTx& t : txs) b.add_txs(std::move(t.raw));
    if (Status s = raw_->Propose(b.SerializeAsString()); !s.ok()) {
      // Not leader any more, or over the uncommitted budget: the mempool
      // proposes them again after its re-proposal delay.
      options_.log.Warn("propose_failed", {{"reason", s.ToString()}});
      return;
    }
    ++inflight_batches_;
    std::lock_guard lock(mu_);
    status_.batches_proposed++;
    status_.txs_proposed += static_cast<uint64_t>(b.txs_size());
  }
}

void RaftDriver::HandleReady() {
  consensus::Ready rd = raw_->GetReady();
  storage::Store& store = ledger_.store();
  // 1. Persist, before anything that depends on it leaves this node (§5.1:
  //    a vote or an append acknowledgement promises durable state).
  if (rd.snapshot) {
    // Raft restored from the snapshot StepSnapshot verified: install it
    // before the hard state and entries that follow it.
    const uint64_t index = rd.snapshot->metadata().index();
    if (!pending_install_)
      return Fail(Internal("raft restored snapshot " + std::to_string(index) + " without its data"));
    raftpb::HardState hs;
    if (rd.hard_state) {
      hs = *rd.hard_state;
    } else {
      auto init = store.raft_log().GetInitialState();
      if (!init.ok()) return Fail(init.status().WithContext("reading raft state"));
      hs = init->hard_state;
    }
    Status s = store.InstallSnapshot(*pending_install_, hs);
    pending_install_.reset();
    if (!s.ok()) return Fail(s.WithContext("installing snapshot " + std::to_string(index)));
    ledger_.ForgetPrepared();  // computed on the state the snapshot replaced
    durable_term_ = hs.term();
    snapshot_index_ = RaftIndex(index);
    {
      std::lock_guard lock(mu_);
      status_.snapshots_installed++;
    }
    options_.log.Info("snapshot_installed", {{"index", index}, {"height", ledger_.height()}});
    mempool_.RequeueProposed();
    if (hooks_.on_snapshot_installed) hooks_.on_snapshot_installed(ledger_.height());
  } else {
    pending_install_.reset();  // raft did not restore: nothing to install
  }
  // A leader's appends leave now, so its own disk write overlaps the
  // followers' (Raft thesis §10.2.1; raft.h says why this is safe).
  for (const raftpb::Message& m :
       consensus::TakeMessagesSendableBeforePersist(rd, role_, durable_term_))
    hooks_.send(m);
  // The next entry to apply, with nothing to apply before it: execute it
  // while it is being persisted (and, on a leader, replicated). It refers to
  // rd, so it is waited for on every way out of this function.
  struct WaitAhead {
    AheadRunner* runner = nullptr;
    ~WaitAhead() {
      if (runner != nullptr) runner->Wait();
    }
  } wait_ahead;
  if (!rd.snapshot && rd.committed_entries.empty() && !rd.entries.empty() &&
      ledger_.WouldPrepare(rd.entries.front())) {
    const raftpb::Entry& next = rd.entries.front();
    ahead_->Run([this, &next] { ledger_.Prepare(next); });
    wait_ahead.runner = ahead_.get();
  }
  if (rd.hard_state || !rd.entries.empty()) {
    const auto t0 = std::chrono::steady_clock::now();
    Status s = store.raft_log().Persist(rd.hard_state ? &*rd.hard_state : nullptr, rd.entries,
                                        rd.must_sync);
    if (!s.ok()) return Fail(s.WithContext("persisting raft state"));
    if (rd.hard_state) durable_term_ = rd.hard_state->term();
    if (persist_seconds_ != nullptr)
      persist_seconds_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  // 2. Send the rest.
  for (const raftpb::Message& m : rd.messages) hooks_.send(m);
  // 3. Apply.
  ApplyCommitted(rd.committed_entries);
  if (failed_) return;
  if (!rd.committed_entries.empty()) MaybeCompact();
  if (failed_) return;
  // Read states: answer once applied has caught up with their index.
  for (const consensus::ReadState& rs : rd.read_states) {
    for (PendingRead& r : reads_)
      if (r.ctx == rs.request_ctx) {
        r.index = rs.index;
        r.ready = true;
      }
  }
  const RaftIndex applied = ledger_.applied_index();
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->ready && it->index <= applied) {
      it->done(it->index);
      it = reads_.erase(it);
    } else {
      ++it;
    }
  }
  if (rd.soft_state) {
    role_ = rd.soft_state->role;
    if (rd.soft_state->role != consensus::StateRole::kLeader) {
      inflight_batches_ = 0;
      mempool_.RequeueProposed();
    }
    if (transfer_target_ != NodeId() && rd.soft_state->lead == transfer_target_) {
      for (auto& op : transfer_ops_) op.done(Status::Ok());
      transfer_ops_.clear();
      transfer_target_ = NodeId();
    }
    options_.log.Info("raft_role", {{"lead", std::to_string(rd.soft_state->lead.value())},
                                    {"term", std::to_string(raw_->GetStatus().hard_state.term())}});
    if (hooks_.on_soft_state) hooks_.on_soft_state(*rd.soft_state);
  }
  // 4. Advance.
  raw_->Advance(rd);
}

void RaftDriver::ApplyCommitted(const std::vector<raftpb::Entry>& entries) {
  for (const raftpb::Entry& e : entries) {
    if (e.type() == raftpb::ENTRY_CONF_CHANGE) {
      raftpb::ConfChange cc;
      raftpb::ConfState cs;
      bool applied_change = false;
      if (RaftIndex(e.index()) > ledger_.applied_index() && cc.ParseFromString(e.data())) {
        cs = raw_->ApplyConfChange(cc);
        applied_change = true;
      }
      auto r = ledger_.ApplyEntry(e, applied_change ? &cs : nullptr);
      if (!r.ok()) return Fail(r.status().WithContext("applying conf change"));
      if (applied_change && !conf_ops_.empty()) {
        conf_ops_.begin()->second.done(Status::Ok());
        conf_ops_.erase(conf_ops_.begin());
      }
      continue;
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto r = ledger_.ApplyEntry(e, nullptr);
    if (!r.ok()) return Fail(r.status().WithContext("applying entry " + std::to_string(e.index())));
    if (!r->has_value()) continue;
    const AppliedBlock& b = **r;
    if (apply_seconds_ != nullptr) {
      apply_seconds_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      block_txs_->Observe(static_cast<double>(b.tx_ids.size()));
      if (b.prepared) blocks_prepared_->Inc();
    }
    mempool_.OnApplied(b.tx_ids);
    // A block from an entry of the current term was proposed by this term's
    // leader; if that is us, one of our batches has landed.
    const consensus::RaftStatus st = raw_->GetStatus();
    if (st.soft_state.role == consensus::StateRole::kLeader &&
        e.term() == st.hard_state.term() && inflight_batches_ > 0)
      --inflight_batches_;
    if (hooks_.on_block) hooks_.on_block(b);
  }
}

void RaftDriver::ExpireWaiters() {
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (ticks_ >= it->deadline_tick) {
      it->done(Unavailable("read index timed out (no leader or no quorum)"));
      it = reads_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = conf_ops_.begin(); it != conf_ops_.end();) {
    if (ticks_ >= it->second.deadline_tick) {
      it->second.done(DeadlineExceeded("membership change not applied in time"));
      it = conf_ops_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = transfer_ops_.begin(); it != transfer_ops_.end();) {
    if (ticks_ >= it->deadline_tick) {
      it->done(DeadlineExceeded("leadership transfer did not complete in time"));
      it = transfer_ops_.erase(it);
    } else {
      ++it;
    }
  }
  if (transfer_ops_.empty()) transfer_target_ = NodeId();
}

}  // namespace cl::node
