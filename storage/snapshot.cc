// Checkpoint streaming and installation (docs/storage.md, Snapshots).
#include "storage/snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "storage/internal/core.h"

namespace cl::storage {

namespace fs = std::filesystem;
using internal::ToSlice;
namespace key = internal::key;

namespace {

constexpr size_t kMaxChunkBytes = size_t{64} << 20;
// Written into the staging directory once it is verified and rewritten for
// this node; its presence means the staged store may replace the live one.
constexpr std::string_view kReadyMarker = "CERTLEDGER_INSTALL_READY";

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

bool ValidFileName(std::string_view name) {
  return !name.empty() && name.size() < 256 && name != "." && name != ".." &&
         name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos &&
         name != kReadyMarker;
}

}  // namespace

// ---------------------------------------------------------------- recovery

namespace internal {

Status RecoverInterruptedInstall(const std::string& path) {
  const std::string staging = path + ".staging";
  const std::string old = path + ".old";
  if (!PathExists(path)) {
    if (PathExists(staging + "/" + std::string(kReadyMarker))) {
      CL_RETURN_IF_ERROR(Rename(staging, path));  // the swap's second rename
      CL_RETURN_IF_ERROR(FsyncParentDir(path));
    } else if (PathExists(old)) {
      CL_RETURN_IF_ERROR(Rename(old, path));  // staged store not ready: roll back
      CL_RETURN_IF_ERROR(FsyncParentDir(path));
    }
  }
  if (PathExists(path) && PathExists(old)) CL_RETURN_IF_ERROR(RemoveAll(old));
  const std::string marker = path + "/" + std::string(kReadyMarker);
  if (PathExists(marker)) {
    if (::unlink(marker.c_str()) != 0) return IoError(Errno("unlink " + marker));
    CL_RETURN_IF_ERROR(FsyncPath(path, /*directory=*/true));
  }
  return Status::Ok();
}

}  // namespace internal

// ---------------------------------------------------------------- reader

Result<std::unique_ptr<CheckpointReader>> CheckpointReader::Open(const std::string& dir,
                                                                 const crypto::Suite& suite,
                                                                 size_t max_chunk_bytes) {
  if (max_chunk_bytes == 0 || max_chunk_bytes > kMaxChunkBytes)
    return InvalidArgument("max_chunk_bytes must be in [1, 64 MiB]");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFound("no checkpoint directory " + dir);
  std::unique_ptr<CheckpointReader> r(new CheckpointReader(dir, suite, max_chunk_bytes));
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    uint64_t size = entry.file_size();
    r->files_.emplace_back(entry.path().filename().string(), size);
    r->total_bytes_ += size;
  }
  if (ec) return IoError("list " + dir + ": " + ec.message());
  std::sort(r->files_.begin(), r->files_.end());
  return r;
}

Result<std::optional<SnapshotChunk>> CheckpointReader::Next() {
  if (file_ >= files_.size()) return std::optional<SnapshotChunk>();
  const auto& [name, size] = files_[file_];
  SnapshotChunk c;
  c.file = name;
  c.file_size = size;
  c.offset = offset_;
  uint64_t n = std::min<uint64_t>(max_chunk_bytes_, size - offset_);
  c.data.resize(n);
  if (n > 0) {
    const std::string path = dir_ + "/" + name;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return IoError(Errno("open " + path));
    uint64_t done = 0;
    while (done < n) {
      ssize_t got = ::pread(fd, c.data.data() + done, n - done, static_cast<off_t>(offset_ + done));
      if (got <= 0) {
        Status s = got == 0 ? IoError(path + " shrank while read") : IoError(Errno("read " + path));
        ::close(fd);
        return s;
      }
      done += static_cast<uint64_t>(got);
    }
    ::close(fd);
  }
  c.digest = suite_.Hash(c.data);
  offset_ += n;
  if (offset_ >= size) {
    ++file_;
    offset_ = 0;
  }
  return std::optional<SnapshotChunk>(std::move(c));
}

// ---------------------------------------------------------------- installer

SnapshotInstaller::SnapshotInstaller(std::string db_path, StoreOptions options)
    : db_path_(std::move(db_path)), staging_(db_path_ + ".staging"), options_(std::move(options)) {}

SnapshotInstaller::~SnapshotInstaller() {
  for (auto& [name, f] : files_)
    if (f.fd >= 0) ::close(f.fd);
}

Result<std::unique_ptr<SnapshotInstaller>> SnapshotInstaller::Begin(const std::string& db_path,
                                                                    const StoreOptions& options) {
  if (options.chain_id.empty()) return InvalidArgument("StoreOptions.chain_id is required");
  std::unique_ptr<SnapshotInstaller> inst(new SnapshotInstaller(db_path, options));
  CL_ASSIGN_OR_RETURN(inst->suite_, crypto::MakeSuite(options.suite));
  CL_RETURN_IF_ERROR(internal::RemoveAll(inst->staging_));
  if (::mkdir(inst->staging_.c_str(), 0755) != 0) return IoError(Errno("mkdir " + inst->staging_));
  return inst;
}

Status SnapshotInstaller::Write(const SnapshotChunk& chunk) {
  if (verified_) return FailedPrecondition("snapshot already verified; no more chunks");
  if (!ValidFileName(chunk.file)) return InvalidArgument("bad snapshot file name '" + chunk.file + "'");
  if (suite_->Hash(chunk.data) != chunk.digest)
    return Corruption("snapshot chunk of " + chunk.file + " at " + std::to_string(chunk.offset) +
                      " does not match its digest");
  auto it = files_.find(chunk.file);
  if (it == files_.end()) {
    if (chunk.offset != 0) return InvalidArgument("first chunk of " + chunk.file + " is not at offset 0");
    const std::string path = staging_ + "/" + chunk.file;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return IoError(Errno("create " + path));
    it = files_.emplace(chunk.file, FileState{.fd = fd, .size = chunk.file_size}).first;
  }
  FileState& f = it->second;
  if (chunk.file_size != f.size) return InvalidArgument("file size of " + chunk.file + " changed");
  if (chunk.offset != f.received || f.fd < 0)
    return InvalidArgument("chunk of " + chunk.file + " at " + std::to_string(chunk.offset) +
                           ", expected " + std::to_string(f.received));
  if (chunk.data.size() > f.size - f.received)
    return InvalidArgument("chunk runs past the end of " + chunk.file);
  size_t done = 0;
  while (done < chunk.data.size()) {
    ssize_t n = ::write(f.fd, chunk.data.data() + done, chunk.data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError(Errno("write " + chunk.file));
    }
    done += static_cast<size_t>(n);
  }
  f.received += chunk.data.size();
  if (f.received == f.size) {
    int rc = ::fsync(f.fd);
    ::close(f.fd);
    f.fd = -1;
    if (rc != 0) return IoError(Errno("fsync " + chunk.file));
  }
  return Status::Ok();
}

Status SnapshotInstaller::Verify(const raft::SnapshotMetadata& expected) {
  if (files_.empty()) return FailedPrecondition("no snapshot chunks received");
  for (const auto& [name, f] : files_)
    if (f.received != f.size) return FailedPrecondition("snapshot file " + name + " is incomplete");
  CL_RETURN_IF_ERROR(internal::FsyncPath(staging_, /*directory=*/true));
  StoreOptions ro = options_;
  ro.read_only = true;
  ro.create_if_missing = false;
  ro.env = nullptr;
  // OpenCore checks format version, chain id and suite, the latest block
  // against its hash, and the history frontier against the latest header.
  CL_ASSIGN_OR_RETURN(auto core, internal::OpenCore(staging_, ro));
  internal::Positions p = core->positions();
  if (p.applied.value() != expected.index())
    return FailedPrecondition("snapshot store is applied to " + std::to_string(p.applied.value()) +
                              ", the raft snapshot says " + std::to_string(expected.index()));
  CL_ASSIGN_OR_RETURN(RaftTerm term, internal::TermAt(*core, p, p.applied));
  if (term.value() != expected.term())
    return FailedPrecondition("snapshot store's applied entry has term " +
                              std::to_string(term.value()) + ", the raft snapshot says " +
                              std::to_string(expected.term()));
  verified_ = expected;
  return Status::Ok();
}

Status SnapshotInstaller::Install(const raft::HardState& local_hard_state) {
  if (!verified_) return FailedPrecondition("Install before a successful Verify");
  const raft::SnapshotMetadata& meta = *verified_;
  {
    StoreOptions rw = options_;
    rw.read_only = false;
    rw.create_if_missing = false;
    rw.env = nullptr;
    CL_ASSIGN_OR_RETURN(auto core, internal::OpenCore(staging_, rw));
    // The sender's raft log and hard state are not ours: keep this node's
    // term and vote, start the log at the snapshot (etcd ApplySnapshot).
    raft::HardState hs = local_hard_state;
    hs.set_commit(std::max<uint64_t>(hs.commit(), meta.index()));
    rocksdb::WriteBatch b;
    b.DeleteRange(core->h(internal::kRaftLog), ToSlice(key::RaftLog(RaftIndex(0))),
                  ToSlice(Bytes(9, '\xff')));
    Bytes base = BigEndian64(meta.index());
    PutBigEndian64(&base, meta.term());
    b.Put(core->h(internal::kRaftState), ToSlice(key::kLogBase), base);
    b.Put(core->h(internal::kRaftState), ToSlice(key::kSnapshot), meta.SerializeAsString());
    b.Put(core->h(internal::kRaftState), ToSlice(key::kHardState), hs.SerializeAsString());
    b.Put(core->h(internal::kRaftState), ToSlice(key::kConfState),
          meta.conf_state().SerializeAsString());
    CL_RETURN_IF_ERROR(core->Write(&b, /*sync=*/true));
  }
  const std::string marker = staging_ + "/" + std::string(kReadyMarker);
  int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError(Errno("create " + marker));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return IoError(Errno("fsync " + marker));
  CL_RETURN_IF_ERROR(internal::FsyncPath(staging_, /*directory=*/true));
  // The swap: db -> db.old, staging -> db. Store::Open completes it after a crash.
  const std::string old = db_path_ + ".old";
  CL_RETURN_IF_ERROR(internal::RemoveAll(old));
  if (internal::PathExists(db_path_)) CL_RETURN_IF_ERROR(internal::Rename(db_path_, old));
  CL_RETURN_IF_ERROR(internal::Rename(staging_, db_path_));
  CL_RETURN_IF_ERROR(internal::FsyncParentDir(db_path_));
  return internal::RecoverInterruptedInstall(db_path_);  // removes db.old and the marker
}

}  // namespace cl::storage
