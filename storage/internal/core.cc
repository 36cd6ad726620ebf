#include "storage/internal/core.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <rocksdb/cache.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

#include "proto/records.pb.h"

namespace cl::storage::internal {

// ---------------------------------------------------------------- keys

namespace key {
Bytes RaftLog(RaftIndex i) { return BigEndian64(i.value()); }
Bytes Block(Height h) {
  Bytes k(1, kBlockPrefix);
  PutBigEndian64(&k, h.value());
  return k;
}
Bytes BlockHash(const crypto::Digest& d) {
  Bytes k(1, kBlockHashPrefix);
  k.append(d.view());
  return k;
}
Bytes CommitCert(Height h) {
  Bytes k(1, kCommitCertPrefix);
  PutBigEndian64(&k, h.value());
  return k;
}
Bytes TxIndex(const crypto::Digest& tx_id) { return tx_id.ToBytes(); }
Bytes Receipt(Height h, uint32_t position) {
  Bytes k = BigEndian64(h.value());
  PutBigEndian32(&k, position);
  return k;
}
Bytes HistoryNode(uint32_t level, uint64_t index) {
  CL_CHECK_LT(level, 64u, "history tree level out of range");
  Bytes k(1, static_cast<char>(level));
  PutBigEndian64(&k, index);
  return k;
}
}  // namespace key

// ---------------------------------------------------------------- errors

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.ok()) return Status::Ok();
  if (s.IsCorruption()) return Corruption(std::move(msg));
  if (s.IsNotFound()) return NotFound(std::move(msg));
  if (s.IsIOError()) return IoError(std::move(msg));
  if (s.IsInvalidArgument()) return InvalidArgument(std::move(msg));
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return Unavailable(std::move(msg));
  if (s.IsNotSupported()) return Unimplemented(std::move(msg));
  return IoError(std::move(msg));
}

// ---------------------------------------------------------------- POSIX helpers

bool PathExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

Status FsyncPath(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return IoError("open " + path + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return IoError("fsync " + path + ": " + std::strerror(err));
  return Status::Ok();
}

Status FsyncParentDir(const std::string& path) {
  std::filesystem::path p(path);
  std::string parent = p.has_parent_path() ? p.parent_path().string() : ".";
  if (parent.empty()) parent = ".";
  return FsyncPath(parent, /*directory=*/true);
}

Status RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return IoError("remove " + path + ": " + ec.message());
  return Status::Ok();
}

Status Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    return IoError("rename " + from + " -> " + to + ": " + std::strerror(errno));
  return Status::Ok();
}

// ---------------------------------------------------------------- Core

Core::~Core() { CloseDb(); }

void Core::CloseDb() {
  if (db) {
    if (!options.read_only) {
      // Flush the memtables so that the next Open replays no WAL. Not needed
      // for consistency, but a restart then costs the same at any data size:
      // unsynced applies leave up to a memtable per column family in the WAL
      // (139 MB at 100k certificates), which Open replays — 29 s before this,
      // when it replayed it twice (docs/performance.md, "Restart"). A failed
      // flush leaves the WAL, which Open still replays.
      rocksdb::FlushOptions fo;
      fo.allow_write_stall = true;
      db->Flush(fo, cf).PermitUncheckedError();
    }
    for (auto* handle : cf) {
      if (handle != nullptr) db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    }
    cf.clear();
    db->Close().PermitUncheckedError();  // a crash-consistent store needs no clean close
    db.reset();
  }
}

Result<std::optional<Bytes>> Core::Get(Cf c, ByteView k) const {
  std::string value;
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  std::shared_lock db_lock(db_mu);
  CL_RETURN_IF_ERROR(DbOpen());
  rocksdb::Status s = db->Get(ro, cf[c], ToSlice(k), &value);
  if (s.IsNotFound()) return std::optional<Bytes>();
  if (!s.ok()) return FromRocks(s, std::string("read ") + kCfNames[c]);
  return std::optional<Bytes>(std::move(value));
}

Status Core::WriteAllowed() const {
  if (options.read_only) return FailedPrecondition("store opened read-only");
  std::lock_guard lock(mu);
  if (!sticky.ok()) return sticky;
  return Status::Ok();
}

Status Core::DbOpen() const {
  if (db) return Status::Ok();
  std::lock_guard lock(mu);
  if (!sticky.ok()) return sticky;
  return Unavailable("store is closed");
}

Status Core::Write(rocksdb::WriteBatch* batch, bool sync) {
  CL_RETURN_IF_ERROR(WriteAllowed());
  std::shared_lock db_lock(db_mu);
  CL_RETURN_IF_ERROR(DbOpen());
  return WriteLocked(batch, sync);
}

Status Core::WriteLocked(rocksdb::WriteBatch* batch, bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  rocksdb::Status s = db->Write(wo, batch);
  if (s.ok()) return Status::Ok();
  Status err = FromRocks(s, "write batch");
  std::lock_guard lock(mu);
  if (sticky.ok()) {
    // After a failed write or fsync nothing about the disk is known: refuse
    // every later write rather than pretend (STYLE.md, Errors).
    sticky = Status(err.code(), "store refuses writes after a failed write: " + err.message());
  }
  return err;
}

Status Core::WriteWithState(rocksdb::WriteBatch* batch,
                            const std::map<Bytes, std::optional<Bytes>>* state_ops, bool sync) {
  if (state_ops == nullptr || state_ops->empty()) return Write(batch, sync);
  for (const auto& [k, v] : *state_ops) {
    if (v) batch->Put(h(kState), ToSlice(k), ToSlice(*v));
    else batch->Delete(h(kState), ToSlice(k));
  }
  state_cache->BeginWrite(*state_ops);
  Status s = Write(batch, sync);
  state_cache->EndWrite();
  return s;
}

// ---------------------------------------------------------------- open

namespace {

// Discards RocksDB's info log: the identity probe must not create or rotate
// the LOG file of a directory it may turn out not to own.
class NullLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char* /*format*/, va_list /*ap*/) override {}
};

struct RocksConfig {
  rocksdb::DBOptions db;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
};

RocksConfig MakeConfig(const StoreOptions& o, const std::shared_ptr<rocksdb::Cache>& cache) {
  RocksConfig c;
  c.db.env = o.env != nullptr ? o.env : rocksdb::Env::Default();
  c.db.paranoid_checks = true;
  c.db.max_open_files = o.max_open_files;
  c.db.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  c.db.max_background_jobs = 2;
  c.db.keep_log_file_num = 4;
  c.db.db_write_buffer_size = o.memtable_bytes;
  // Column families written rarely (raft state, meta) would otherwise keep
  // every WAL file alive until they flush; past this size RocksDB flushes
  // them, so the WAL a crash restart replays stays small.
  c.db.max_total_wal_size = 2 * o.memtable_bytes;
  c.db.max_log_file_size = 8 << 20;
  for (size_t i = 0; i < kCfCount; ++i) {
    rocksdb::ColumnFamilyOptions cfo;
    cfo.write_buffer_size = std::max<size_t>(o.memtable_bytes / 4, size_t{1} << 20);
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = cache;
    // XXH3, not CRC32C: Debian's RocksDB is built without SSE4.2, so CRC32C
    // runs in software (~10x slower) on every block read from a file — the
    // cost of a lookup that misses the block cache. Tables written with
    // CRC32C before stay readable (each records its checksum type).
    t.checksum = rocksdb::kXXH3;
    t.format_version = 5;
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    // Partitioned index and filters: a point read loads one small partition,
    // not a table's whole filter (megabytes at 10^7+ keys), so memory stays
    // bounded by the cache at any size and the tx-index duplicate check on
    // every apply stays cheap.
    t.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
    t.partition_filters = true;
    t.metadata_block_size = 4096;
    t.cache_index_and_filter_blocks = true;
    t.pin_top_level_index_and_filter = true;
    t.pin_l0_filter_and_index_blocks_in_cache = true;
    cfo.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
    // A Bloom filter over each memtable's keys: most point reads (the tx-index
    // duplicate check on every apply, state reads of records written long
    // ago) miss the memtable, and without it each miss walks the skip list.
    cfo.memtable_prefix_bloom_size_ratio = 0.02;
    cfo.memtable_whole_key_filtering = true;
    // (memtable_insert_with_hint_prefix_extractor for the in-order column
    // families was tried: RocksDB 7.8 aborts on an assertion in the skip
    // list when the raft log rewrites a suffix.)
    // Hashes do not compress: the history tree and tx index skip compression.
    // The state (records keyed and largely made of hashes) gains little from
    // it and is read on every lookup: a block read from a file is used as is.
    if (i == kHistory || i == kTxIndex || i == kState) cfo.compression = rocksdb::kNoCompression;
    c.cfs.emplace_back(kCfNames[i], cfo);
  }
  return c;
}

Status OpenRocks(const std::string& path, const StoreOptions& o,
                 const std::shared_ptr<rocksdb::Cache>& cache, bool read_only, bool create,
                 Core* core, bool quiet = false) {
  RocksConfig c = MakeConfig(o, cache);
  if (quiet) c.db.info_log = std::make_shared<NullLogger>();
  c.db.create_if_missing = create;
  c.db.create_missing_column_families = create;
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s =
      read_only ? rocksdb::DB::OpenForReadOnly(rocksdb::Options(c.db, rocksdb::ColumnFamilyOptions()),
                                               path, c.cfs, &handles, &raw)
                : rocksdb::DB::Open(c.db, path, c.cfs, &handles, &raw);
  if (!s.ok()) return FromRocks(s, "open store at " + path);
  core->db.reset(raw);
  core->cf = std::move(handles);
  return Status::Ok();
}

bool DirIsEmpty(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_empty(path, ec) && !ec;
}

// What a store says it is: its meta format version, chain id and suite.
struct Identity {
  std::optional<Bytes> version;  // BE32
  std::optional<std::string> chain_id;
  std::optional<std::string> suite;
};

// OK if `id` is a store of this format, chain and suite.
Status CompareIdentity(const std::string& path, const Identity& id, const StoreOptions& o) {
  if (!id.version || id.version->size() != 4)
    return FailedPrecondition(path + " is not a certledger store (no format version)");
  uint32_t v = ReadBigEndian32(*id.version);
  if (v != kFormatVersion)
    return FailedPrecondition(path + " has store format version " + std::to_string(v) +
                              "; this build reads only version " +
                              std::to_string(kFormatVersion));
  if (!id.chain_id || *id.chain_id != o.chain_id)
    return FailedPrecondition(path + " belongs to chain '" + id.chain_id.value_or("") +
                              "', not '" + o.chain_id + "'");
  if (!id.suite || *id.suite != o.suite)
    return FailedPrecondition(path + " uses crypto suite '" + id.suite.value_or("") + "', not '" +
                              o.suite + "'");
  return Status::Ok();
}

Result<Identity> ReadIdentity(const Core& core) {
  Identity id;
  CL_ASSIGN_OR_RETURN(id.version, core.Get(kMeta, key::kFormatVersion));
  CL_ASSIGN_OR_RETURN(id.chain_id, core.Get(kMeta, key::kChainId));
  CL_ASSIGN_OR_RETURN(id.suite, core.Get(kMeta, key::kSuite));
  return id;
}

// The identity file: the meta identity again, as text, beside the database.
// Open checks it instead of opening the database read-only first, which
// replays the whole WAL only for the real open to replay it again (a crash
// restart paid that twice). Written at creation, or after a store without a
// matching one (an older build's, a torn or stale file) passed the read-only
// check.
constexpr char kIdentityFile[] = "CERTLEDGER_IDENTITY";

std::string IdentityText(const StoreOptions& o) {
  return "certledger store\nformat_version " + std::to_string(kFormatVersion) + "\nchain_id " +
         o.chain_id + "\nsuite " + o.suite + "\n";
}

// Whether the identity file in `dir` names exactly `o`'s identity. Anything
// else (no file, a torn, stale or foreign one) is left to the read-only check.
bool IdentityFileMatches(const std::string& dir, const StoreOptions& o) {
  const std::string want = IdentityText(o);
  std::ifstream in(dir + "/" + kIdentityFile, std::ios::binary);
  std::string text(want.size() + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return text == want;
}

// Writes the identity file into `dir` (atomically: a crash leaves the old
// file, none, or the new one).
Status WriteIdentityFile(const std::string& dir, const StoreOptions& o) {
  const std::string file = dir + "/" + kIdentityFile, tmp = file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << IdentityText(o);
    out.flush();
    if (!out) return IoError("write " + tmp);
  }
  CL_RETURN_IF_ERROR(FsyncPath(tmp, /*directory=*/false));
  CL_RETURN_IF_ERROR(Rename(tmp, file));
  return FsyncPath(dir, /*directory=*/true);
}

// Creates a new store in a side directory and renames it into place, so a
// crash during creation never leaves a half-initialized store at `path`.
Status CreateFresh(const std::string& path, const StoreOptions& o,
                   const std::shared_ptr<rocksdb::Cache>& cache) {
  if (PathExists(path)) {
    if (!DirIsEmpty(path))
      return FailedPrecondition(path + " is not empty and holds no certledger store");
    if (::rmdir(path.c_str()) != 0) return IoError("rmdir " + path + ": " + std::strerror(errno));
  }
  std::string tmp = path + ".creating";
  CL_RETURN_IF_ERROR(RemoveAll(tmp));
  if (std::filesystem::path parent = std::filesystem::path(path).parent_path(); !parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) return IoError("create " + parent.string() + ": " + ec.message());
  }
  {
    Core core;
    core.options = o;
    CL_RETURN_IF_ERROR(OpenRocks(tmp, o, cache, /*read_only=*/false, /*create=*/true, &core));
    rocksdb::WriteBatch b;
    Bytes version;
    PutBigEndian32(&version, kFormatVersion);
    b.Put(core.h(kMeta), ToSlice(key::kFormatVersion), version);
    b.Put(core.h(kMeta), ToSlice(key::kChainId), o.chain_id);
    b.Put(core.h(kMeta), ToSlice(key::kSuite), o.suite);
    CL_RETURN_IF_ERROR(core.Write(&b, /*sync=*/true));
  }
  CL_RETURN_IF_ERROR(WriteIdentityFile(tmp, o));
  CL_RETURN_IF_ERROR(FsyncPath(tmp, /*directory=*/true));
  CL_RETURN_IF_ERROR(Rename(tmp, path));
  return FsyncParentDir(path);
}

// Checks, without modifying anything, that `path` is a store of this format,
// chain and suite, by opening it read-only (which replays its WAL).
Status CheckIdentity(const std::string& path, const StoreOptions& o,
                     const std::shared_ptr<rocksdb::Cache>& cache) {
  std::vector<std::string> names;
  RocksConfig c = MakeConfig(o, cache);
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(c.db, path, &names);
  if (!s.ok()) return FromRocks(s, "list column families of " + path);
  for (const char* want : kCfNames) {
    if (std::find(names.begin(), names.end(), want) == names.end())
      return FailedPrecondition(path + " is not a certledger store of format version " +
                                std::to_string(kFormatVersion) + " (no column family " + want +
                                ")");
  }
  Core probe;
  probe.options = o;
  CL_RETURN_IF_ERROR(
      OpenRocks(path, o, cache, /*read_only=*/true, /*create=*/false, &probe, /*quiet=*/true));
  CL_ASSIGN_OR_RETURN(Identity id, ReadIdentity(probe));
  return CompareIdentity(path, id, o);
}

Status LoadPositions(Core* core) {
  Positions p;
  CL_ASSIGN_OR_RETURN(auto applied, core->Get(kMeta, key::kApplied));
  if (applied) {
    if (applied->size() != 8) return Corruption("meta applied_index: bad length");
    p.applied = RaftIndex(ReadBigEndian64(*applied));
  }
  CL_ASSIGN_OR_RETURN(auto genesis, core->Get(kMeta, key::kGenesis));
  if (genesis) {
    if (genesis->size() < crypto::Digest::kSize) return Corruption("meta genesis: too short");
    auto h = crypto::Digest::FromBytes(ByteView(*genesis).substr(0, crypto::Digest::kSize));
    if (core->suite->Hash(ByteView(*genesis).substr(crypto::Digest::kSize)) != *h)
      return Corruption("meta genesis: bytes do not match their hash");
    p.genesis_hash = *h;
    p.latest_hash = *h;
  }
  CL_ASSIGN_OR_RETURN(auto latest, core->Get(kMeta, key::kLatest));
  if (latest) {
    if (latest->size() != 8 + crypto::Digest::kSize) return Corruption("meta latest_block: bad length");
    p.latest_height = Height(ReadBigEndian64(*latest));
    p.latest_hash = *crypto::Digest::FromBytes(ByteView(*latest).substr(8));
  }
  CL_ASSIGN_OR_RETURN(auto frontier, core->Get(kMeta, key::kFrontier));
  if (frontier) {
    if (frontier->size() < 8 || (frontier->size() - 8) % crypto::Digest::kSize != 0)
      return Corruption("meta history_frontier: bad length");
    uint64_t size = ReadBigEndian64(*frontier);
    std::vector<crypto::Digest> roots;
    for (size_t off = 8; off < frontier->size(); off += crypto::Digest::kSize)
      roots.push_back(*crypto::Digest::FromBytes(ByteView(*frontier).substr(off, crypto::Digest::kSize)));
    auto restored = crypto::MerkleFrontier::Restore(size, std::move(roots));
    if (!restored.ok()) return Corruption("meta history_frontier: " + restored.status().message());
    p.frontier = std::move(restored).value();
  }
  CL_ASSIGN_OR_RETURN(auto base, core->Get(kRaftState, key::kLogBase));
  if (base) {
    if (base->size() != 16) return Corruption("raft_state log_base: bad length");
    p.log_base_index = RaftIndex(ReadBigEndian64(*base));
    p.log_base_term = RaftTerm(ReadBigEndian64(ByteView(*base).substr(8)));
  }
  p.last_index = p.log_base_index;
  {
    std::unique_ptr<rocksdb::Iterator> it(core->db->NewIterator(rocksdb::ReadOptions(), core->h(kRaftLog)));
    it->SeekToLast();
    if (it->Valid()) {
      if (it->key().size() != 8) return Corruption("raft_log: bad key length");
      RaftIndex last(ReadBigEndian64(ByteView(it->key().data(), it->key().size())));
      if (last > p.log_base_index) p.last_index = last;
    }
    CL_RETURN_IF_ERROR(FromRocks(it->status(), "scan raft_log"));
  }
  // The latest block must be intact and agree with the history frontier.
  if (p.latest_height > Height(0)) {
    CL_ASSIGN_OR_RETURN(auto value, core->Get(kBlocks, key::Block(p.latest_height)));
    if (!value) return Corruption("latest block " + std::to_string(p.latest_height.value()) + " missing");
    CL_ASSIGN_OR_RETURN(StoredBlock b, DecodeBlock(*core, p.latest_height, *value));
    if (b.hash != p.latest_hash) return Corruption("latest block hash differs from meta latest_block");
    certledger::v1::Block block;
    certledger::v1::BlockHeader header;
    if (!block.ParseFromString(b.block) || !header.ParseFromString(block.header()))
      return Corruption("latest block does not parse");
    if (header.history_size() != p.frontier.size() ||
        header.history_root() != p.frontier.Root(*core->suite).view())
      return Corruption("history frontier disagrees with the latest block header");
  }
  std::lock_guard lock(core->mu);
  core->pos = std::move(p);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Core>> OpenCore(const std::string& path, const StoreOptions& options) {
  if (options.chain_id.empty()) return InvalidArgument("StoreOptions.chain_id is required");
  if (options.block_cache_bytes < (size_t{1} << 20))
    return InvalidArgument("StoreOptions.block_cache_bytes must be at least 1 MiB");
  if (options.memtable_bytes < (size_t{4} << 20))
    return InvalidArgument("StoreOptions.memtable_bytes must be at least 4 MiB");
  CL_ASSIGN_OR_RETURN(auto suite, crypto::MakeSuite(options.suite));
  auto core = std::make_unique<Core>();
  core->options = options;
  core->path = path;
  core->suite = std::move(suite);
  core->block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  core->state_cache = std::make_unique<StateCache>(options.state_cache_bytes);
  if (!PathExists(path + "/CURRENT")) {
    if (!options.create_if_missing || options.read_only)
      return NotFound("no store at " + path);
    CL_RETURN_IF_ERROR(CreateFresh(path, options, core->block_cache));
  }
  // A file naming this identity saves the read-only check; any other file
  // (stale, torn, foreign) only sends Open the long way.
  const bool matched = IdentityFileMatches(path, options);
  if (!matched) CL_RETURN_IF_ERROR(CheckIdentity(path, options, core->block_cache));
  CL_RETURN_IF_ERROR(OpenRocks(path, options, core->block_cache, options.read_only,
                               /*create=*/false, core.get()));
  // The file is only a faster way to the same answer: the database decides.
  // (A file copied over another chain's store is caught here, after RocksDB
  // has opened that store for writing: its data is unchanged, its WAL,
  // MANIFEST and LOG files are not.)
  CL_ASSIGN_OR_RETURN(Identity id, ReadIdentity(*core));
  if (Status same = CompareIdentity(path, id, options); !same.ok())
    return Corruption("the store disagrees with its " + std::string(kIdentityFile) +
                      " file: " + same.message());
  if (!matched && !options.read_only) {
    // Best effort: without the file the next open checks read-only again.
    static_cast<void>(WriteIdentityFile(path, options));
  }
  CL_RETURN_IF_ERROR(LoadPositions(core.get()));
  return core;
}

Result<StoredBlock> DecodeBlock(const Core& core, Height expected_height, ByteView value) {
  const std::string where = "block " + std::to_string(expected_height.value());
  if (value.size() < crypto::Digest::kSize) return Corruption(where + ": value too short");
  StoredBlock out;
  out.height = expected_height;
  out.hash = *crypto::Digest::FromBytes(value.substr(0, crypto::Digest::kSize));
  out.block = Bytes(value.substr(crypto::Digest::kSize));
  certledger::v1::Block block;
  certledger::v1::BlockHeader header;
  if (!block.ParseFromString(out.block)) return Corruption(where + ": does not parse");
  if (core.suite->Hash(block.header()) != out.hash)
    return Corruption(where + ": header does not match its hash " + out.hash.ToHex());
  if (!header.ParseFromString(block.header())) return Corruption(where + ": header does not parse");
  if (header.height() != expected_height.value())
    return Corruption(where + ": header says height " + std::to_string(header.height()));
  return out;
}

Result<RaftTerm> TermAt(const Core& core, const Positions& p, RaftIndex i) {
  if (i == p.log_base_index) return p.log_base_term;
  if (i < p.log_base_index)
    return Status(Code::kCompacted, "entry " + std::to_string(i.value()) + " is compacted");
  if (i > p.last_index)
    return Status(Code::kLogUnavailable, "entry " + std::to_string(i.value()) + " is past the last");
  CL_ASSIGN_OR_RETURN(auto value, core.Get(kRaftLog, key::RaftLog(i)));
  if (!value) {
    if (i <= core.positions().log_base_index)
      return Status(Code::kCompacted, "entry " + std::to_string(i.value()) + " is compacted");
    return Corruption("raft entry " + std::to_string(i.value()) + " missing");
  }
  raft::Entry e;
  if (!e.ParseFromString(*value) || e.index() != i.value())
    return Corruption("raft entry " + std::to_string(i.value()) + " is damaged");
  return RaftTerm(e.term());
}

}  // namespace cl::storage::internal
