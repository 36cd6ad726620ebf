// Raft snapshots of a node: checkpoints made for log compaction, streamed in
// chunks to a node that fell behind the compacted log (or joined with an
// empty data directory), and received, verified and handed to the raft
// driver for installation.
//
// Leader side. MakeCheckpoint (raft driver thread) writes a RocksDB
// checkpoint of the store to `<dir>/<index>`; the store records it as its
// raft snapshot, so the raft core names it in the MsgSnap it emits. Stream
// sends that checkpoint to one peer on Channel::kSnapshot — one sender thread
// per peer, chunks of chunk_bytes, the transport's full queue as backpressure
// — then the MsgSnap itself in the final frame, and reports the outcome to
// raft (ReportSnapshot). A checkpoint replaced by a newer one is removed once
// no stream reads it.
//
// Receiver side. OnFrame (transport I/O thread) writes the chunks of the
// current stream into a SnapshotInstaller (staging directory beside the
// store); a frame out of order breaks the stream (raft retries). The final
// frame hands the installer and the MsgSnap to `install`, which verifies and
// installs on the raft driver thread (RaftDriver::InstallSnapshot); frames
// are dropped until InstallFinished is called.
//
// Thread-safety: every method is thread-safe. Stop joins the sender threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/bytes.h"
#include "base/status.h"
#include "base/strong_types.h"
#include "crypto/suite.h"
#include "node/log.h"
#include "storage/store.h"

namespace certledger::raft {
class Message;
}  // namespace certledger::raft
namespace cl::storage {
class SnapshotInstaller;
}  // namespace cl::storage

namespace cl::node {

struct SnapshotOptions {
  std::string dir;                       // checkpoints: <dir>/<index>
  std::string store_path;                // the live store (staging goes beside it)
  storage::StoreOptions store_options;   // chain id and suite the staged store must have
  size_t chunk_bytes = 256 << 10;
  uint32_t stream_timeout_ms = 600'000;  // a stream that takes longer is abandoned
  Logger log;
};

// Counters for /metrics.
struct SnapshotStats {
  uint64_t checkpoints = 0;
  uint64_t streams_sent = 0;
  uint64_t streams_failed = 0;
  uint64_t bytes_sent = 0;
  uint64_t frames_received = 0;
  uint64_t streams_received = 0;   // complete streams handed to the driver
  uint64_t streams_broken = 0;     // dropped on the receiving side
};

class SnapshotManager {
 public:
  // Sends one payload to a peer on the snapshot channel; false = queue full.
  using SendFn = std::function<bool(NodeId to, Bytes payload)>;
  // Tells raft how the stream to `to` ended.
  using ReportFn = std::function<void(NodeId to, bool failed)>;
  // Verifies and installs a received snapshot (RaftDriver::InstallSnapshot).
  using InstallFn = std::function<void(certledger::raft::Message msg_snap,
                                       std::unique_ptr<storage::SnapshotInstaller> installer)>;

  // Creates `dir` if needed and removes checkpoints other than the one the
  // store names as its snapshot. If the store names one that is missing (it
  // was compacted behind a checkpoint that is gone), makes a new one.
  static Result<std::unique_ptr<SnapshotManager>> Open(SnapshotOptions options,
                                                       storage::Store& store);
  ~SnapshotManager();  // Stops.
  SnapshotManager(const SnapshotManager&) = delete;
  SnapshotManager& operator=(const SnapshotManager&) = delete;

  void SetCallbacks(SendFn send, ReportFn report, InstallFn install);

  // Makes a checkpoint at the applied index; returns that index.
  Result<RaftIndex> MakeCheckpoint();
  // The index of the newest checkpoint (0 if none).
  RaftIndex checkpoint_index() const;

  // Streams the checkpoint named by `msg_snap` to its recipient. Reports
  // failure at once if that checkpoint is gone; ignored if a stream to the
  // same peer is running.
  void Stream(const certledger::raft::Message& msg_snap);

  // A frame from a peer on the snapshot channel.
  void OnFrame(NodeId from, ByteView payload);
  // The driver finished with the last handed-over snapshot.
  void InstallFinished(const Status& result);

  SnapshotStats stats() const;
  void Stop();

 private:
  struct Checkpoint;
  struct Receiving;
  SnapshotManager(SnapshotOptions options, storage::Store& store);
  void SendStream(NodeId to, std::shared_ptr<const Checkpoint> cp, Bytes msg_snap);
  bool SendWithBackpressure(NodeId to, const Bytes& payload,
                            std::chrono::steady_clock::time_point deadline);

  const SnapshotOptions options_;
  storage::Store& store_;
  SendFn send_;
  ReportFn report_;
  InstallFn install_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::shared_ptr<const Checkpoint> current_;
  struct Sender {
    std::thread thread;
    bool done = false;  // set by the thread as it ends; reaped by Stream
  };
  std::map<NodeId, Sender> senders_;  // at most one stream per peer
  std::unique_ptr<Receiving> receiving_;
  bool installing_ = false;
  SnapshotStats stats_;
};

}  // namespace cl::node
