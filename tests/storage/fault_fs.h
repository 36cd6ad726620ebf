// A RocksDB FileSystem that remembers what was not yet durable and can
// "crash": RocksDB's own FaultInjectionTestFS is not in the Debian package's
// public headers, so this is the equivalent for the storage tests.
//
// It tracks, for every file written through it, the bytes appended and the
// bytes synced, and whether the file's directory entry was made durable (a
// directory fsync after creation or rename). Crash() drops what a power loss
// may drop: files whose names were never made durable are deleted, the others
// are truncated to their synced size (or, with torn tails, to a random length
// between synced and written). Limitation: a rename whose directory was not
// synced is modelled by deleting the new name; the old name is not restored
// (RocksDB syncs the directory after every rename it relies on).
//
// SetActive(false) makes every write, sync, rename and delete fail with an
// I/O error (a dead disk), so a store can be closed without writing more.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

namespace cl::storage::testing {

class FaultFs final : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultFs(std::shared_ptr<rocksdb::FileSystem> base)
      : rocksdb::FileSystemWrapper(std::move(base)) {}
  static const char* kClassName() { return "CertledgerFaultFs"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& opts,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& io_opts,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& target,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& fname, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& target,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;

  void SetActive(bool active);
  bool active() const;
  // Drops everything not durable (see above) and forgets all tracking; call
  // with the store closed. With `torn_tails`, unsynced tails are cut at a
  // random point instead of at the synced size. Returns files touched.
  size_t Crash(std::mt19937_64* rng, bool torn_tails);

  // Called by the tracked files.
  rocksdb::IOStatus OnAppend(const std::string& fname, uint64_t n);
  rocksdb::IOStatus OnSync(const std::string& fname);
  rocksdb::IOStatus OnTruncate(const std::string& fname, uint64_t size);
  void OnDirSync(const std::string& dir);

 private:
  struct FileState {
    uint64_t size = 0;
    uint64_t synced = 0;
    bool name_durable = false;
  };
  rocksdb::IOStatus Dead() const { return rocksdb::IOStatus::IOError("fault fs: disk is dead"); }
  void Track(const std::string& fname, uint64_t size, bool durable);

  mutable std::mutex mu_;
  bool active_ = true;
  std::map<std::string, FileState> files_;
};

// An Env over a FaultFs on the default file system.
struct FaultEnv {
  FaultEnv();
  std::shared_ptr<FaultFs> fs;
  std::unique_ptr<rocksdb::Env> env;
};

}  // namespace cl::storage::testing
