#include "tests/storage/fault_fs.h"

#include <filesystem>

namespace cl::storage::testing {

namespace {

std::string DirOf(const std::string& fname) {
  auto pos = fname.rfind('/');
  return pos == std::string::npos ? "." : fname.substr(0, pos);
}

class TrackedFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  TrackedFile(std::unique_ptr<rocksdb::FSWritableFile> f, FaultFs* fs, std::string name)
      : rocksdb::FSWritableFileOwnerWrapper(std::move(f)), fs_(fs), name_(std::move(name)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
    if (!fs_->active()) return rocksdb::IOStatus::IOError("fault fs: disk is dead");
    auto s = target()->Append(data, o, dbg);
    if (s.ok()) s = fs_->OnAppend(name_, data.size());
    return s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& v,
                           rocksdb::IODebugContext* dbg) override {
    if (!fs_->active()) return rocksdb::IOStatus::IOError("fault fs: disk is dead");
    auto s = target()->Append(data, o, v, dbg);
    if (s.ok()) s = fs_->OnAppend(name_, data.size());
    return s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice&, uint64_t, const rocksdb::IOOptions&,
                                     rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::NotSupported("fault fs: positioned append");
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice&, uint64_t, const rocksdb::IOOptions&,
                                     const rocksdb::DataVerificationInfo&,
                                     rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::NotSupported("fault fs: positioned append");
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
    if (!fs_->active()) return rocksdb::IOStatus::IOError("fault fs: disk is dead");
    auto s = target()->Truncate(size, o, dbg);
    if (s.ok()) s = fs_->OnTruncate(name_, size);
    return s;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (!fs_->active()) return rocksdb::IOStatus::IOError("fault fs: disk is dead");
    auto s = target()->Sync(o, dbg);
    if (s.ok()) s = fs_->OnSync(name_);
    return s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (!fs_->active()) return rocksdb::IOStatus::IOError("fault fs: disk is dead");
    auto s = target()->Fsync(o, dbg);
    if (s.ok()) s = fs_->OnSync(name_);
    return s;
  }
  // RangeSync promises nothing about durability: it does not count as a sync.
  rocksdb::IOStatus Close(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return target()->Close(o, dbg);
  }

 private:
  FaultFs* fs_;
  std::string name_;
};

class TrackedDir final : public rocksdb::FSDirectoryWrapper {
 public:
  TrackedDir(std::unique_ptr<rocksdb::FSDirectory> d, FaultFs* fs, std::string name)
      : rocksdb::FSDirectoryWrapper(std::move(d)), fs_(fs), name_(std::move(name)) {}
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (!fs_->active()) return rocksdb::IOStatus::IOError("fault fs: disk is dead");
    auto s = FSDirectoryWrapper::Fsync(o, dbg);
    if (s.ok()) fs_->OnDirSync(name_);
    return s;
  }
  rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg,
                                        const rocksdb::DirFsyncOptions& d) override {
    if (!fs_->active()) return rocksdb::IOStatus::IOError("fault fs: disk is dead");
    auto s = FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, d);
    if (s.ok()) fs_->OnDirSync(name_);
    return s;
  }

 private:
  FaultFs* fs_;
  std::string name_;
};

}  // namespace

void FaultFs::Track(const std::string& fname, uint64_t size, bool durable) {
  std::lock_guard lock(mu_);
  files_[fname] = FileState{.size = size, .synced = durable ? size : 0, .name_durable = durable};
}

rocksdb::IOStatus FaultFs::NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                           std::unique_ptr<rocksdb::FSWritableFile>* result,
                                           rocksdb::IODebugContext* dbg) {
  if (!active()) return Dead();
  std::unique_ptr<rocksdb::FSWritableFile> f;
  auto s = target()->NewWritableFile(fname, opts, &f, dbg);
  if (!s.ok()) return s;
  Track(fname, 0, /*durable=*/false);
  *result = std::make_unique<TrackedFile>(std::move(f), this, fname);
  return s;
}

rocksdb::IOStatus FaultFs::ReopenWritableFile(const std::string& fname,
                                              const rocksdb::FileOptions& opts,
                                              std::unique_ptr<rocksdb::FSWritableFile>* result,
                                              rocksdb::IODebugContext* dbg) {
  if (!active()) return Dead();
  std::unique_ptr<rocksdb::FSWritableFile> f;
  auto s = target()->ReopenWritableFile(fname, opts, &f, dbg);
  if (!s.ok()) return s;
  {
    std::lock_guard lock(mu_);
    if (files_.find(fname) == files_.end()) {
      std::error_code ec;
      uint64_t size = std::filesystem::file_size(fname, ec);
      files_[fname] = FileState{.size = ec ? 0 : size, .synced = ec ? 0 : size, .name_durable = true};
    }
  }
  *result = std::make_unique<TrackedFile>(std::move(f), this, fname);
  return s;
}

rocksdb::IOStatus FaultFs::ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                             const rocksdb::FileOptions& opts,
                                             std::unique_ptr<rocksdb::FSWritableFile>* result,
                                             rocksdb::IODebugContext* dbg) {
  if (!active()) return Dead();
  std::unique_ptr<rocksdb::FSWritableFile> f;
  auto s = target()->ReuseWritableFile(fname, old_fname, opts, &f, dbg);
  if (!s.ok()) return s;
  {
    std::lock_guard lock(mu_);
    files_.erase(old_fname);
  }
  Track(fname, 0, /*durable=*/false);
  *result = std::make_unique<TrackedFile>(std::move(f), this, fname);
  return s;
}

rocksdb::IOStatus FaultFs::NewDirectory(const std::string& name, const rocksdb::IOOptions& io_opts,
                                        std::unique_ptr<rocksdb::FSDirectory>* result,
                                        rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> d;
  auto s = target()->NewDirectory(name, io_opts, &d, dbg);
  if (!s.ok()) return s;
  *result = std::make_unique<TrackedDir>(std::move(d), this, name);
  return s;
}

rocksdb::IOStatus FaultFs::RenameFile(const std::string& src, const std::string& target_name,
                                      const rocksdb::IOOptions& options,
                                      rocksdb::IODebugContext* dbg) {
  if (!active()) return Dead();
  auto s = target()->RenameFile(src, target_name, options, dbg);
  if (!s.ok()) return s;
  std::lock_guard lock(mu_);
  FileState st;
  auto it = files_.find(src);
  if (it != files_.end()) {
    st = it->second;
    files_.erase(it);
  } else {
    std::error_code ec;
    st.size = st.synced = std::filesystem::file_size(target_name, ec);
  }
  st.name_durable = false;  // until the directory is synced
  files_[target_name] = st;
  return s;
}

rocksdb::IOStatus FaultFs::DeleteFile(const std::string& fname, const rocksdb::IOOptions& options,
                                      rocksdb::IODebugContext* dbg) {
  if (!active()) return Dead();
  auto s = target()->DeleteFile(fname, options, dbg);
  if (s.ok()) {
    std::lock_guard lock(mu_);
    files_.erase(fname);
  }
  return s;
}

rocksdb::IOStatus FaultFs::LinkFile(const std::string& src, const std::string& target_name,
                                    const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) {
  if (!active()) return Dead();
  return target()->LinkFile(src, target_name, options, dbg);
}

void FaultFs::SetActive(bool active) {
  std::lock_guard lock(mu_);
  active_ = active;
}

bool FaultFs::active() const {
  std::lock_guard lock(mu_);
  return active_;
}

rocksdb::IOStatus FaultFs::OnAppend(const std::string& fname, uint64_t n) {
  std::lock_guard lock(mu_);
  files_[fname].size += n;
  return rocksdb::IOStatus::OK();
}

rocksdb::IOStatus FaultFs::OnSync(const std::string& fname) {
  std::lock_guard lock(mu_);
  auto& f = files_[fname];
  f.synced = f.size;
  return rocksdb::IOStatus::OK();
}

rocksdb::IOStatus FaultFs::OnTruncate(const std::string& fname, uint64_t size) {
  std::lock_guard lock(mu_);
  auto& f = files_[fname];
  f.size = size;
  if (f.synced > size) f.synced = size;
  return rocksdb::IOStatus::OK();
}

void FaultFs::OnDirSync(const std::string& dir) {
  std::lock_guard lock(mu_);
  for (auto& [name, f] : files_)
    if (DirOf(name) == dir || DirOf(name) + "/" == dir) f.name_durable = true;
}

size_t FaultFs::Crash(std::mt19937_64* rng, bool torn_tails) {
  std::lock_guard lock(mu_);
  size_t touched = 0;
  for (const auto& [name, f] : files_) {
    std::error_code ec;
    if (!f.name_durable) {
      touched += std::filesystem::remove(name, ec) ? 1 : 0;
      continue;
    }
    uint64_t keep = f.synced;
    if (torn_tails && f.size > f.synced) keep = f.synced + (*rng)() % (f.size - f.synced + 1);
    uint64_t now = std::filesystem::file_size(name, ec);
    if (!ec && now > keep) {
      std::filesystem::resize_file(name, keep, ec);
      ++touched;
    }
  }
  files_.clear();
  return touched;
}

FaultEnv::FaultEnv() : fs(std::make_shared<FaultFs>(rocksdb::FileSystem::Default())) {
  env = rocksdb::NewCompositeEnv(fs);
}

}  // namespace cl::storage::testing
