#include "node/snapshots.h"

#include <chrono>
#include <filesystem>
#include <random>
#include <system_error>

#include "base/thread_name.h"
#include "consensus/confchange.h"
#include "proto/peer.pb.h"
#include "proto/raft.pb.h"
#include "storage/snapshot.h"

namespace cl::node {

namespace fs = std::filesystem;
namespace raftpb = certledger::raft;
using Clock = std::chrono::steady_clock;

// A checkpoint directory; removed when replaced and no stream reads it.
struct SnapshotManager::Checkpoint {
  std::string dir;
  raftpb::SnapshotMetadata meta;
  mutable std::atomic<bool> obsolete{false};
  ~Checkpoint() {
    if (!obsolete) return;
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// The stream being received.
struct SnapshotManager::Receiving {
  NodeId from;
  uint64_t stream_id = 0;
  uint64_t index = 0;
  std::unique_ptr<storage::SnapshotInstaller> installer;
  bool broken = false;
  uint64_t bytes = 0;
};

SnapshotManager::SnapshotManager(SnapshotOptions options, storage::Store& store)
    : options_(std::move(options)), store_(store) {}

SnapshotManager::~SnapshotManager() { Stop(); }

Result<std::unique_ptr<SnapshotManager>> SnapshotManager::Open(SnapshotOptions options,
                                                               storage::Store& store) {
  if (options.dir.empty()) return InvalidArgument("snapshot directory is empty");
  if (options.chunk_bytes == 0 || options.chunk_bytes > (16u << 20))
    return InvalidArgument("snapshot chunk_bytes must be in 1..16 MiB");
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return IoError("create " + options.dir + ": " + ec.message());
  std::unique_ptr<SnapshotManager> m(new SnapshotManager(std::move(options), store));

  uint64_t named = 0;
  if (auto snap = store.raft_log().Snapshot(); snap.ok()) named = snap->metadata().index();
  for (const auto& entry : fs::directory_iterator(m->options_.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (named != 0 && name == std::to_string(named)) {
      auto cp = std::make_shared<Checkpoint>();
      cp->dir = entry.path().string();
      cp->meta = store.raft_log().Snapshot()->metadata();
      m->current_ = std::move(cp);
      continue;
    }
    fs::remove_all(entry.path(), ec);  // older, or a checkpoint a crash cut short
  }
  if (ec) return IoError("list " + m->options_.dir + ": " + ec.message());
  if (named != 0 && !m->current_ && store.applied_index() > RaftIndex(0)) {
    CL_RETURN_IF_ERROR(m->MakeCheckpoint().status());
  }
  return m;
}

void SnapshotManager::SetCallbacks(SendFn send, ReportFn report, InstallFn install) {
  std::lock_guard lock(mu_);
  send_ = std::move(send);
  report_ = std::move(report);
  install_ = std::move(install);
}

Result<RaftIndex> SnapshotManager::MakeCheckpoint() {
  const RaftIndex applied = store_.applied_index();
  {
    std::lock_guard lock(mu_);
    if (current_ && RaftIndex(current_->meta.index()) == applied) return applied;
  }
  const std::string dir = options_.dir + "/" + std::to_string(applied.value());
  std::error_code ec;
  fs::remove_all(dir, ec);  // a leftover of a crash: the store never named it
  CL_ASSIGN_OR_RETURN(raftpb::SnapshotMetadata meta, store_.CreateCheckpoint(dir));
  auto cp = std::make_shared<Checkpoint>();
  cp->dir = dir;
  cp->meta = meta;
  std::lock_guard lock(mu_);
  if (current_) current_->obsolete = true;
  current_ = std::move(cp);
  stats_.checkpoints++;
  options_.log.Info("snapshot_checkpoint", {{"index", meta.index()}, {"term", meta.term()}});
  return RaftIndex(meta.index());
}

RaftIndex SnapshotManager::checkpoint_index() const {
  std::lock_guard lock(mu_);
  return current_ ? RaftIndex(current_->meta.index()) : RaftIndex(0);
}

SnapshotStats SnapshotManager::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void SnapshotManager::Stream(const raftpb::Message& msg_snap) {
  const NodeId to(msg_snap.to());
  std::unique_lock lock(mu_);
  if (stopping_) return;
  // Reap finished senders.
  for (auto it = senders_.begin(); it != senders_.end();) {
    if (it->second.done) {
      it->second.thread.join();
      it = senders_.erase(it);
    } else {
      ++it;
    }
  }
  if (senders_.count(to) != 0) return;  // one stream per peer; raft waits for it
  std::shared_ptr<const Checkpoint> cp = current_;
  auto names = [&](const raftpb::ConfState& cs) { return consensus::ConfStateNames(cs, to); };
  if (!cp || !names(cp->meta.conf_state())) {
    // A node added after the newest checkpoint would refuse it (raft restores
    // only a snapshot whose configuration names it): make a fresh one. The
    // leader applied the change that added the node, so it names it.
    lock.unlock();
    auto made = MakeCheckpoint();
    if (!made.ok())
      options_.log.Warn("snapshot_checkpoint_failed", {{"peer", to}, {"reason", made.status().ToString()}});
    lock.lock();
    if (stopping_ || senders_.count(to) != 0) return;
    cp = current_;
  }
  // Raft named the snapshot it knew of; a newer checkpoint serves as well
  // (the MsgSnap is rewritten to carry its metadata).
  if (!cp || cp->meta.index() < msg_snap.snapshot().metadata().index() || !names(cp->meta.conf_state())) {
    options_.log.Warn("snapshot_unavailable",
                      {{"peer", to}, {"index", msg_snap.snapshot().metadata().index()}});
    ReportFn report = report_;
    lock.unlock();
    if (report) report(to, /*failed=*/true);
    return;
  }
  raftpb::Message m = msg_snap;
  *m.mutable_snapshot()->mutable_metadata() = cp->meta;
  // mu_ is held until the thread is stored, so it cannot mark itself done earlier.
  senders_[to].thread = std::thread([this, to, cp = std::move(cp), raw = m.SerializeAsString()]() mutable {
    NameThisThread("cl-snap-send");
    SendStream(to, std::move(cp), std::move(raw));
    std::lock_guard done_lock(mu_);
    if (auto it = senders_.find(to); it != senders_.end()) it->second.done = true;
  });
}

bool SnapshotManager::SendWithBackpressure(NodeId to, const Bytes& payload, Clock::time_point deadline) {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (stopping_) return false;
    }
    if (send_(to, payload)) return true;
    if (Clock::now() > deadline) return false;
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(5), [&] { return stopping_; });
  }
}

void SnapshotManager::SendStream(NodeId to, std::shared_ptr<const Checkpoint> cp, Bytes msg_snap) {
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::milliseconds(options_.stream_timeout_ms);
  uint64_t stream_id = 0;
  {
    std::random_device rd;
    stream_id = (uint64_t{rd()} << 32) ^ rd();
    if (stream_id == 0) stream_id = 1;
  }
  auto fail = [&](const std::string& why) {
    options_.log.Warn("snapshot_send_failed",
                      {{"peer", to}, {"index", cp->meta.index()}, {"reason", why}});
    {
      std::lock_guard lock(mu_);
      stats_.streams_failed++;
    }
    if (report_) report_(to, /*failed=*/true);
  };
  options_.log.Info("snapshot_send", {{"peer", to}, {"index", cp->meta.index()}});
  auto reader = storage::CheckpointReader::Open(cp->dir, store_.suite(), options_.chunk_bytes);
  if (!reader.ok()) return fail(reader.status().ToString());
  uint64_t bytes = 0;
  certledger::peer::SnapshotFrame f;
  for (;;) {
    auto chunk = (*reader)->Next();
    if (!chunk.ok()) return fail(chunk.status().ToString());
    if (!chunk->has_value()) break;
    storage::SnapshotChunk& c = **chunk;
    f.Clear();
    f.set_stream_id(stream_id);
    f.set_index(cp->meta.index());
    f.set_term(cp->meta.term());
    f.set_file(c.file);
    f.set_file_size(c.file_size);
    f.set_offset(c.offset);
    bytes += c.data.size();
    f.set_data(std::move(c.data));
    f.set_digest(c.digest.ToBytes());
    if (!SendWithBackpressure(to, f.SerializeAsString(), deadline))
      return fail("peer did not take the stream in time (or the node is stopping)");
  }
  f.Clear();
  f.set_stream_id(stream_id);
  f.set_index(cp->meta.index());
  f.set_term(cp->meta.term());
  f.set_raft_message(std::move(msg_snap));
  if (!SendWithBackpressure(to, f.SerializeAsString(), deadline))
    return fail("peer did not take the final frame in time");
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  options_.log.Info("snapshot_sent",
                    {{"peer", to}, {"index", cp->meta.index()}, {"bytes", bytes}, {"ms", ms}});
  {
    std::lock_guard lock(mu_);
    stats_.streams_sent++;
    stats_.bytes_sent += bytes;
  }
  // Sent (not necessarily received): raft probes the peer next and sends
  // the snapshot again if it did not take.
  if (report_) report_(to, /*failed=*/false);
}

void SnapshotManager::OnFrame(NodeId from, ByteView payload) {
  certledger::peer::SnapshotFrame f;
  if (!f.ParseFromArray(payload.data(), static_cast<int>(payload.size())) || f.stream_id() == 0 ||
      f.index() == 0) {
    options_.log.Warn("snapshot_bad_frame", {{"peer", from}});
    return;
  }
  std::unique_lock lock(mu_);
  stats_.frames_received++;
  if (stopping_ || installing_) return;
  if (!receiving_ || receiving_->from != from || receiving_->stream_id != f.stream_id()) {
    if (!f.raft_message().empty() || f.offset() != 0) return;  // the middle of a stream we missed
    if (receiving_ && !receiving_->broken) stats_.streams_broken++;  // superseded
    auto inst = storage::SnapshotInstaller::Begin(options_.store_path, options_.store_options);
    if (!inst.ok()) {
      options_.log.Error("snapshot_receive_failed", {{"peer", from}, {"reason", inst.status().ToString()}});
      receiving_.reset();
      return;
    }
    receiving_ = std::make_unique<Receiving>();
    receiving_->from = from;
    receiving_->stream_id = f.stream_id();
    receiving_->index = f.index();
    receiving_->installer = std::move(*inst);
    options_.log.Info("snapshot_receive", {{"peer", from}, {"index", f.index()}});
  }
  Receiving& r = *receiving_;
  if (r.broken) return;
  if (f.index() != r.index) {
    r.broken = true;
    stats_.streams_broken++;
    return;
  }
  if (f.raft_message().empty()) {
    storage::SnapshotChunk c;
    c.file = f.file();
    c.file_size = f.file_size();
    c.offset = f.offset();
    c.data = std::move(*f.mutable_data());
    auto digest = crypto::Digest::FromBytes(f.digest());
    if (!digest) {
      r.broken = true;
      stats_.streams_broken++;
      options_.log.Warn("snapshot_stream_broken", {{"peer", from}, {"reason", "bad chunk digest"}});
      return;
    }
    c.digest = *digest;
    r.bytes += c.data.size();
    if (Status s = r.installer->Write(c); !s.ok()) {
      r.broken = true;
      stats_.streams_broken++;
      options_.log.Warn("snapshot_stream_broken", {{"peer", from}, {"reason", s.ToString()}});
    }
    return;
  }
  raftpb::Message m;
  if (!m.ParseFromString(f.raft_message()) || m.type() != raftpb::MSG_SNAP || NodeId(m.from()) != from ||
      m.snapshot().metadata().index() != r.index || m.snapshot().metadata().term() != f.term()) {
    r.broken = true;
    stats_.streams_broken++;
    options_.log.Warn("snapshot_stream_broken", {{"peer", from}, {"reason", "bad final frame"}});
    return;
  }
  std::unique_ptr<storage::SnapshotInstaller> inst = std::move(r.installer);
  options_.log.Info("snapshot_received", {{"peer", from}, {"index", r.index}, {"bytes", r.bytes}});
  receiving_.reset();
  installing_ = true;
  stats_.streams_received++;
  InstallFn install = install_;
  lock.unlock();
  if (install) {
    install(std::move(m), std::move(inst));
  } else {
    InstallFinished(FailedPrecondition("no installer"));
  }
}

void SnapshotManager::InstallFinished(const Status& result) {
  std::lock_guard lock(mu_);
  installing_ = false;
  if (!result.ok()) options_.log.Warn("snapshot_install_failed", {{"reason", result.ToString()}});
}

void SnapshotManager::Stop() {
  std::map<NodeId, Sender> senders;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    senders.swap(senders_);
    receiving_.reset();
  }
  cv_.notify_all();
  for (auto& [id, s] : senders)
    if (s.thread.joinable()) s.thread.join();
}

}  // namespace cl::node
