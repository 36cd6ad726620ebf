// Snapshots for a lagging or new node: a RocksDB checkpoint of the whole store
// (Store::CreateCheckpoint), read out in bounded chunks on the leader and
// written, verified and swapped in on the receiver.
//
// Receiver's procedure (node/):
//   CL_ASSIGN_OR_RETURN(auto inst, SnapshotInstaller::Begin(db_path, options));
//   for each chunk received: CL_RETURN_IF_ERROR(inst->Write(chunk));
//   CL_RETURN_IF_ERROR(inst->Verify(msg_snap.metadata()));   // nothing replaced yet
//   raft::HardState hs = store->raft_log().GetInitialState()->hard_state;
//   store.reset();                                            // close the live store
//   CL_RETURN_IF_ERROR(inst->Install(hs));                    // atomic swap
//   CL_ASSIGN_OR_RETURN(store, Store::Open(db_path, options));
// A crash at any point leaves either the old store or the new one at db_path
// (Store::Open finishes or rolls back an interrupted swap).
//
// Thread-safety: none; one thread drives a reader or an installer.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "crypto/digest.h"
#include "crypto/suite.h"
#include "storage/store.h"

namespace cl::storage {

// One piece of one checkpoint file.
struct SnapshotChunk {
  std::string file;        // file name inside the checkpoint (no directories)
  uint64_t file_size = 0;  // size of the whole file
  uint64_t offset = 0;     // where `data` starts in the file
  Bytes data;
  crypto::Digest digest;   // suite.Hash(data): catches damage in transit or on disk
  friend bool operator==(const SnapshotChunk&, const SnapshotChunk&) = default;
};

// Reads a checkpoint directory as chunks: files in name order, each from
// offset 0, at most max_chunk_bytes of data per chunk (an empty file is one
// empty chunk). The directory must not change while it is read.
class CheckpointReader {
 public:
  // INVALID_ARGUMENT if max_chunk_bytes is 0 or above 64 MiB; NOT_FOUND if
  // `dir` is missing. `suite` must outlive the reader.
  static Result<std::unique_ptr<CheckpointReader>> Open(const std::string& dir,
                                                       const crypto::Suite& suite,
                                                       size_t max_chunk_bytes);
  // The next chunk, or nullopt after the last one. IO_ERROR if a read fails.
  Result<std::optional<SnapshotChunk>> Next();
  uint64_t total_bytes() const { return total_bytes_; }

 private:
  CheckpointReader(std::string dir, const crypto::Suite& suite, size_t max_chunk_bytes)
      : dir_(std::move(dir)), suite_(suite), max_chunk_bytes_(max_chunk_bytes) {}
  std::string dir_;
  const crypto::Suite& suite_;
  size_t max_chunk_bytes_;
  std::vector<std::pair<std::string, uint64_t>> files_;  // name, size
  size_t file_ = 0;
  uint64_t offset_ = 0;
  uint64_t total_bytes_ = 0;
};

// Receives a checkpoint into `db_path + ".staging"`, verifies it, and swaps
// it in place of the store at db_path.
class SnapshotInstaller {
 public:
  // Starts an empty staging directory (removing a stale one). `options` are
  // the live store's (chain id and suite are verified against them).
  static Result<std::unique_ptr<SnapshotInstaller>> Begin(const std::string& db_path,
                                                          const StoreOptions& options);
  ~SnapshotInstaller();
  SnapshotInstaller(const SnapshotInstaller&) = delete;
  SnapshotInstaller& operator=(const SnapshotInstaller&) = delete;

  // Writes one chunk. Chunks of a file must arrive in order (offset = bytes
  // received so far). CORRUPTION if the digest does not match the data;
  // INVALID_ARGUMENT for a bad file name, offset or size; IO_ERROR from disk.
  Status Write(const SnapshotChunk& chunk);

  // Checks the staged store without touching the live one: every file
  // complete and synced; it opens read-only as a store of this format, chain
  // and suite; its latest block matches its hash and the history frontier; its
  // applied index and term are `expected`'s. The reason otherwise
  // (FAILED_PRECONDITION, CORRUPTION, IO_ERROR).
  Status Verify(const raft::SnapshotMetadata& expected);

  // After Verify succeeded and with the live store closed: makes the staged
  // store this node's (raft log emptied and based at the snapshot index,
  // snapshot metadata recorded, `local_hard_state` kept with its commit
  // raised to the snapshot index), then atomically replaces db_path with it.
  Status Install(const raft::HardState& local_hard_state);

 private:
  SnapshotInstaller(std::string db_path, StoreOptions options);
  struct FileState {
    int fd = -1;
    uint64_t size = 0;
    uint64_t received = 0;
  };
  std::string db_path_;
  std::string staging_;
  StoreOptions options_;
  std::shared_ptr<const crypto::Suite> suite_;
  std::map<std::string, FileState> files_;
  std::optional<raft::SnapshotMetadata> verified_;
};

}  // namespace cl::storage
