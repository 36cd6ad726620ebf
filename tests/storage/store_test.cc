// Store: open and its errors, the atomic applies, block/tx/receipt reads,
// genesis, commit certificates, state views, integrity checks.
#include "storage/store.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "proto/records.pb.h"
#include "proto/tx.pb.h"
#include "tests/storage/test_util.h"

namespace cl::storage::testing {
namespace {

// Opens the raw RocksDB of a closed store (to tamper with it).
struct RawDb {
  explicit RawDb(const std::string& path) {
    std::vector<std::string> names;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    EXPECT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), path, cfs, &handles, &raw).ok());
    db.reset(raw);
    for (size_t i = 0; i < names.size(); ++i) by_name[names[i]] = handles[i];
  }
  ~RawDb() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  void Put(const std::string& cf, const std::string& k, const std::string& v) {
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), by_name.at(cf), k, v).ok());
  }
  std::string Get(const std::string& cf, const std::string& k) {
    std::string v;
    EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), by_name.at(cf), k, &v).ok());
    return v;
  }
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name;
};

// A listing of a directory's files with sizes and modification times.
std::map<std::string, std::pair<uintmax_t, std::filesystem::file_time_type>> Listing(
    const std::string& dir) {
  std::map<std::string, std::pair<uintmax_t, std::filesystem::file_time_type>> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    out[e.path().filename().string()] = {e.file_size(), e.last_write_time()};
  return out;
}

// ---------------------------------------------------------------- open

TEST(StoreOpenTest, CreatesAnEmptyStoreAndReopensIt) {
  TempDir dir;
  {
    auto store = MustOpen(dir.Sub("db"));
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->applied_index(), RaftIndex(0));
    EXPECT_EQ(store->blocks().latest_height(), Height(0));
    EXPECT_EQ(store->history().size(), 0u);
    EXPECT_EQ(*store->raft_log().FirstIndex(), RaftIndex(1));
    EXPECT_EQ(*store->raft_log().LastIndex(), RaftIndex(0));
  }
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("db.creating")));
  auto again = MustOpen(dir.Sub("db"), StoreOptions{.chain_id = kChainId, .create_if_missing = false});
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(CheckStore(*again, nullptr).ok());
}

TEST(StoreOpenTest, RefusesWhatIsNotItsStoreAndChangesNothing) {
  struct Case {
    std::string name;
    std::function<void(const std::string& path)> prepare;  // makes the directory
    StoreOptions options;
    Code want;
  };
  auto make_store = [](const std::string& p) { MustOpen(p); };
  std::vector<Case> cases = {
      {"missing without create", [](const std::string&) {},
       StoreOptions{.chain_id = kChainId, .create_if_missing = false}, Code::kNotFound},
      {"missing read-only", [](const std::string&) {},
       StoreOptions{.chain_id = kChainId, .read_only = true}, Code::kNotFound},
      {"empty chain id", [](const std::string&) {}, StoreOptions{}, Code::kInvalidArgument},
      {"unknown suite", [](const std::string&) {},
       StoreOptions{.chain_id = kChainId, .suite = "rot13"}, Code::kInvalidArgument},
      {"tiny block cache", [](const std::string&) {},
       StoreOptions{.chain_id = kChainId, .block_cache_bytes = 1000}, Code::kInvalidArgument},
      {"another chain", make_store, StoreOptions{.chain_id = "other-chain"},
       Code::kFailedPrecondition},
      {"another format version, in meta and identity file (a later build's store)",
       [&](const std::string& p) {
         make_store(p);
         {
           RawDb raw(p);
           raw.Put("meta", "format_version", BigEndian64(2).substr(4));
         }
         std::ofstream(p + "/CERTLEDGER_IDENTITY", std::ios::trunc)
             << "certledger store\nformat_version 2\nchain_id " << kChainId << "\nsuite "
             << crypto::kDefaultSuite << "\n";
       },
       TestOptions(), Code::kFailedPrecondition},
      {"another format version, without an identity file (found by opening it read-only)",
       [&](const std::string& p) {
         make_store(p);
         RawDb raw(p);
         raw.Put("meta", "format_version", BigEndian64(2).substr(4));
         std::filesystem::remove(p + "/CERTLEDGER_IDENTITY");
       },
       TestOptions(), Code::kFailedPrecondition},
      {"another chain, without an identity file",
       [&](const std::string& p) {
         make_store(p);
         std::filesystem::remove(p + "/CERTLEDGER_IDENTITY");
       },
       StoreOptions{.chain_id = "other-chain"}, Code::kFailedPrecondition},
      {"plain rocksdb without our column families",
       [](const std::string& p) {
         rocksdb::Options o;
         o.create_if_missing = true;
         rocksdb::DB* raw = nullptr;
         ASSERT_TRUE(rocksdb::DB::Open(o, p, &raw).ok());
         delete raw;
       },
       TestOptions(), Code::kFailedPrecondition},
      {"a directory of other files",
       [](const std::string& p) {
         std::filesystem::create_directories(p);
         std::ofstream(p + "/notes.txt") << "hello";
       },
       TestOptions(), Code::kFailedPrecondition},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    const std::string path = dir.Sub("db");
    c.prepare(path);
    const bool existed = std::filesystem::exists(path);
    auto before = existed ? Listing(path) : decltype(Listing(path)){};
    auto r = Store::Open(path, c.options);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.want) << r.status();
    EXPECT_EQ(std::filesystem::exists(path), existed);
    if (existed) { EXPECT_EQ(Listing(path), before) << "Open changed the directory"; }
  }
}

// The identity file lets Open check a directory without opening the
// database read-only first (a second WAL replay). A store without one (an
// older build's, an installed snapshot) is checked read-only and gets one;
// a read-only open writes nothing; a file that disagrees with the database
// is reported, and the database decides.
TEST(StoreOpenTest, IdentityFileIsWrittenCheckedAndMendedAndTheStoreDecides) {
  TempDir dir;
  const std::string db = dir.Sub("db"), file = db + "/CERTLEDGER_IDENTITY";
  MustOpen(db);
  ASSERT_TRUE(std::filesystem::exists(file)) << "a new store has its identity file";
  std::filesystem::remove(file);
  MustOpen(db, StoreOptions{.chain_id = kChainId, .read_only = true});
  EXPECT_FALSE(std::filesystem::exists(file)) << "a read-only open wrote the identity file";
  MustOpen(db);
  ASSERT_TRUE(std::filesystem::exists(file)) << "a store without one did not get its identity file";
  {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), "certledger store\nformat_version 1\nchain_id " + std::string(kChainId) +
                              "\nsuite " + std::string(crypto::kDefaultSuite) + "\n");
  }
  // A torn or foreign file is not an answer: the read-only check decides,
  // and the file is written again.
  for (const std::string torn : {"certledger store\nformat_vers", "hello\n", ""}) {
    SCOPED_TRACE(torn);
    std::ofstream(file, std::ios::trunc) << torn;
    auto store = MustOpen(db);
    ASSERT_NE(store, nullptr);
    EXPECT_GT(std::filesystem::file_size(file), 40u);
  }
  // A file naming another chain over this store: the read-only check
  // decides, the store opens, and the file is mended.
  const std::string other = "certledger store\nformat_version 1\nchain_id other-chain\nsuite " +
                            std::string(crypto::kDefaultSuite) + "\n";
  std::ofstream(file, std::ios::trunc) << other;
  ASSERT_NE(MustOpen(db), nullptr);
  EXPECT_LT(std::filesystem::file_size(file), other.size()) << "the stale file was not mended";
  // And over a store of another chain, opened as that chain: the store
  // decides after the open.
  std::ofstream(file, std::ios::trunc) << other;
  auto r = Store::Open(db, StoreOptions{.chain_id = "other-chain"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorruption) << r.status();
  EXPECT_NE(r.status().message().find("belongs to chain 'test-chain'"), std::string::npos)
      << r.status();
}

TEST(StoreOpenTest, ErrorMessagesNameTheMismatch) {
  TempDir dir;
  MustOpen(dir.Sub("db"));
  auto r = Store::Open(dir.Sub("db"), StoreOptions{.chain_id = "other-chain"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("belongs to chain 'test-chain', not 'other-chain'"),
            std::string::npos)
      << r.status();
}

TEST(StoreOpenTest, ReadOnlyStoreRefusesWrites) {
  TempDir dir;
  MustOpen(dir.Sub("db"));
  auto store = MustOpen(dir.Sub("db"), StoreOptions{.chain_id = kChainId, .read_only = true});
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->raft_log().Append(MakeEntries(1, 1, 1), true).code(), Code::kFailedPrecondition);
  EXPECT_EQ(store->ApplyNonBlock(RaftIndex(1), nullptr).code(), Code::kFailedPrecondition);
  EXPECT_EQ(store->SetGenesis("g").code(), Code::kFailedPrecondition);
}

// ---------------------------------------------------------------- apply and blocks

TEST(StoreApplyTest, AppliedBlocksAreReadableByHeightHashAndTx) {
  TempDir dir;
  auto store = MustOpen(dir.Sub("db"));
  ChainBuilder chain(store->suite());
  ApplyBlocks(*store, chain, 6, 3);
  ASSERT_EQ(store->blocks().latest_height(), Height(6));
  EXPECT_EQ(store->blocks().latest_hash(), chain.hash());
  EXPECT_EQ(store->history().size(), 18u);

  auto b = store->blocks().Get(Height(6));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->hash, chain.hash());
  auto by_hash = store->blocks().GetByHash(chain.hash());
  ASSERT_TRUE(by_hash.ok());
  EXPECT_EQ(by_hash->block, b->block);

  certledger::v1::Block block;
  ASSERT_TRUE(block.ParseFromString(b->block));
  certledger::v1::SignedTx tx;
  ASSERT_TRUE(tx.ParseFromString(block.txs(2)));
  auto loc = store->blocks().FindTx(store->suite().Hash(tx.body()));
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(*loc, (TxLocation{Height(6), 2, 17}));
  EXPECT_EQ(*store->blocks().Receipt(Height(6), 2), block.receipts(2));
  EXPECT_TRUE(CheckStore(*store, nullptr).ok()) << CheckStore(*store, nullptr);
}

TEST(StoreApplyTest, ReadErrorsAreNotFound) {
  TempDir dir;
  auto store = MustOpen(dir.Sub("db"));
  ChainBuilder chain(store->suite());
  ApplyBlocks(*store, chain, 2, 1);
  EXPECT_EQ(store->blocks().Get(Height(3)).status().code(), Code::kNotFound);
  EXPECT_EQ(store->blocks().Get(Height(0)).status().code(), Code::kNotFound);
  EXPECT_EQ(store->blocks().GetByHash(crypto::Digest{}).status().code(), Code::kNotFound);
  EXPECT_EQ(store->blocks().FindTx(crypto::Digest{}).status().code(), Code::kNotFound);
  EXPECT_EQ(store->blocks().Receipt(Height(1), 1).status().code(), Code::kNotFound);
  EXPECT_EQ(store->blocks().CommitCert(Height(1)).status().code(), Code::kNotFound);
  EXPECT_EQ(store->blocks().Genesis().status().code(), Code::kNotFound);
}

TEST(StoreApplyTest, RangeHonoursCountAndByteLimits) {
  TempDir dir;
  auto store = MustOpen(dir.Sub("db"));
  ChainBuilder chain(store->suite());
  ApplyBlocks(*store, chain, 8, 2);
  struct Case {
    std::string name;
    uint64_t from;
    size_t max_count;
    uint64_t max_bytes;
    std::vector<uint64_t> want;
  };
  uint64_t one = store->blocks().Get(Height(1))->block.size();
  std::vector<Case> cases = {
      {"all", 1, 100, UINT64_MAX, {1, 2, 3, 4, 5, 6, 7, 8}},
      {"from zero skips genesis", 0, 3, UINT64_MAX, {1, 2, 3}},
      {"count", 3, 2, UINT64_MAX, {3, 4}},
      {"bytes give at least one", 5, 100, 1, {5}},
      {"bytes", 1, 100, one * 2 + one / 2, {1, 2}},
      {"past the end", 9, 10, UINT64_MAX, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = store->blocks().Range(Height(c.from), c.max_count, c.max_bytes);
    ASSERT_TRUE(r.ok()) << r.status();
    std::vector<uint64_t> got;
    for (const auto& b : *r) got.push_back(b.height.value());
    EXPECT_EQ(got, c.want);
  }
}

TEST(StoreApplyTest, RejectsInconsistentBlocksAndWritesNothing) {
  TempDir dir;
  auto store = MustOpen(dir.Sub("db"));
  ChainBuilder chain(store->suite());
  ApplyBlocks(*store, chain, 2, 2);
  ASSERT_TRUE(store->raft_log().Append(MakeEntries(3, 4, 1), true).ok());
  contracts::WriteSet ws;
  const BlockWrite good = chain.Next(RaftIndex(3), RaftTerm(1), 4, &ws);
  struct Case {
    std::string name;
    std::function<void(BlockWrite&)> mutate;
    Code want;
  };
  std::vector<Case> cases = {
      {"raft index already applied", [](BlockWrite& w) { w.raft_index = RaftIndex(2); },
       Code::kFailedPrecondition},
      {"height gap", [](BlockWrite& w) { w.height = Height(4); }, Code::kFailedPrecondition},
      {"height repeated", [](BlockWrite& w) { w.height = Height(2); }, Code::kFailedPrecondition},
      {"hash differs", [](BlockWrite& w) { w.block_hash.bytes[0] ^= 1; }, Code::kInvalidArgument},
      {"block bytes garbage", [](BlockWrite& w) { w.block = "\xff\xff garbage"; },
       Code::kInvalidArgument},
      {"raft index not the header's", [](BlockWrite& w) { w.raft_index = RaftIndex(4); },
       Code::kInvalidArgument},
      {"missing receipt", [](BlockWrite& w) { w.receipts.pop_back(); }, Code::kInvalidArgument},
      {"missing tx id", [](BlockWrite& w) { w.tx_ids.pop_back(); }, Code::kInvalidArgument},
      {"missing history node", [](BlockWrite& w) { w.history_nodes.pop_back(); },
       Code::kInvalidArgument},
      {"history node repeated",
       [](BlockWrite& w) { w.history_nodes.back() = w.history_nodes.front(); },
       Code::kInvalidArgument},
      {"history node from an old leaf",
       [](BlockWrite& w) { w.history_nodes.front().first = crypto::MerkleNodeId{0, 0}; },
       Code::kInvalidArgument},
      {"leaf not its tx id", [](BlockWrite& w) { w.history_nodes.front().second.bytes[3] ^= 1; },
       Code::kInvalidArgument},
      {"frontier not the header's",
       [](BlockWrite& w) { w.history_frontier = crypto::MerkleFrontier(); },
       Code::kInvalidArgument},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    BlockWrite w = good;
    c.mutate(w);
    Status s = store->ApplyBlock(w);
    EXPECT_EQ(s.code(), c.want) << s;
    EXPECT_EQ(store->blocks().latest_height(), Height(2));
    EXPECT_EQ(store->applied_index(), RaftIndex(2));
  }
  EXPECT_TRUE(CheckStore(*store, nullptr).ok());
  // Wrong chain and wrong prev hash need a differently built header.
  ChainBuilder forked(store->suite());
  forked.ResumeFrom(*store);
  forked.set_prev_hash(crypto::Digest{});
  EXPECT_EQ(store->ApplyBlock(forked.Next(RaftIndex(3), RaftTerm(1), 1, nullptr)).code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(store->ApplyBlock(good).ok());
}

TEST(StoreApplyTest, DuplicateTxKeepsItsFirstLocation) {
  TempDir dir;
  auto store = MustOpen(dir.Sub("db"));
  ChainBuilder chain(store->suite());
  ASSERT_TRUE(store->raft_log().Append(MakeEntries(1, 1, 1), true).ok());
  BlockWrite w = chain.Next(RaftIndex(1), RaftTerm(1), 3, nullptr, /*duplicate_of_first=*/true);
  ASSERT_EQ(w.tx_ids[0], w.tx_ids[2]);
  ASSERT_TRUE(store->ApplyBlock(w).ok());
  EXPECT_EQ(*store->blocks().FindTx(w.tx_ids[0]), (TxLocation{Height(1), 0, 0}));
  EXPECT_EQ(*store->blocks().Receipt(Height(1), 2), w.receipts[2]);
  EXPECT_EQ(store->history().size(), 3u);
}

TEST(StoreApplyTest, NonBlockEntriesAdvanceTheAppliedIndexAndConfiguration) {
  TempDir dir;
  {
    auto store = MustOpen(dir.Sub("db"));
    raft::ConfState cs;
    cs.add_voters(1);
    cs.add_voters(2);
    EXPECT_TRUE(store->ApplyNonBlock(RaftIndex(1), nullptr).ok());
    EXPECT_TRUE(store->ApplyNonBlock(RaftIndex(2), &cs).ok());
    EXPECT_EQ(store->ApplyNonBlock(RaftIndex(2), nullptr).code(), Code::kFailedPrecondition);
    EXPECT_EQ(store->ApplyNonBlock(RaftIndex(1), &cs).code(), Code::kFailedPrecondition);
  }
  auto store = MustOpen(dir.Sub("db"));
  EXPECT_EQ(store->applied_index(), RaftIndex(2));
  auto init = store->raft_log().GetInitialState();
  ASSERT_TRUE(init.ok());
  EXPECT_EQ(init->conf_state.voters_size(), 2);
}

TEST(StoreApplyTest, AppliedIndexAndStateSurviveReopen) {
  TempDir dir;
  crypto::Digest hash;
  {
    auto store = MustOpen(dir.Sub("db"));
    ChainBuilder chain(store->suite());
    ApplyBlocks(*store, chain, 12, 2);
    hash = chain.hash();
  }
  auto store = MustOpen(dir.Sub("db"));
  EXPECT_EQ(store->blocks().latest_height(), Height(12));
  EXPECT_EQ(store->blocks().latest_hash(), hash);
  EXPECT_EQ(store->applied_index(), RaftIndex(14));  // entries 5 and 10 formed no block
  EXPECT_TRUE(CheckStore(*store, nullptr).ok()) << CheckStore(*store, nullptr);
  // Continues exactly where it stopped.
  ChainBuilder chain(store->suite());
  chain.ResumeFrom(*store);
  ApplyBlocks(*store, chain, 1, 1);
  EXPECT_EQ(store->blocks().latest_height(), Height(13));
}

// ---------------------------------------------------------------- genesis, commit certs

TEST(StoreGenesisTest, StoredOnceBeforeTheFirstBlockAndChainedTo) {
  TempDir dir;
  auto store = MustOpen(dir.Sub("db"));
  ASSERT_TRUE(store->SetGenesis("{\"chain_id\":\"test-chain\"}").ok());
  EXPECT_TRUE(store->SetGenesis("{\"chain_id\":\"test-chain\"}").ok());
  EXPECT_EQ(store->SetGenesis("{}").code(), Code::kAlreadyExists);
  auto g = store->blocks().Genesis();
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->hash, store->suite().Hash("{\"chain_id\":\"test-chain\"}"));
  EXPECT_EQ(store->blocks().latest_hash(), g->hash);
  // Block 1 must chain to the genesis hash.
  ChainBuilder chain(store->suite());
  ASSERT_TRUE(store->raft_log().Append(MakeEntries(1, 1, 1), true).ok());
  EXPECT_EQ(store->ApplyBlock(chain.Next(RaftIndex(1), RaftTerm(1), 1, nullptr)).code(),
            Code::kInvalidArgument);
  chain.ResumeFrom(*store);
  ApplyBlocks(*store, chain, 1, 1);
  EXPECT_TRUE(CheckStore(*store, nullptr).ok()) << CheckStore(*store, nullptr);

  TempDir dir2;
  auto late = MustOpen(dir2.Sub("db"));
  ChainBuilder chain2(late->suite());
  ApplyBlocks(*late, chain2, 1, 1);
  EXPECT_EQ(late->SetGenesis("{}").code(), Code::kFailedPrecondition);
}

TEST(StoreCommitCertTest, StoredPerHeightWhenTheyMatchTheBlock) {
  TempDir dir;
  auto store = MustOpen(dir.Sub("db"));
  ChainBuilder chain(store->suite());
  ApplyBlocks(*store, chain, 1, 1);
  const crypto::Digest h1 = chain.hash();
  ApplyBlocks(*store, chain, 1, 1);
  auto cert = [&](uint64_t h, const crypto::Digest& hash) {
    certledger::v1::CommitCertificate c;
    c.set_height(h);
    c.set_block_hash(hash.ToBytes());
    c.add_signatures()->set_node_id(1);
    return c.SerializeAsString();
  };
  const crypto::Digest h2 = chain.hash();
  struct Case {
    std::string name;
    uint64_t height;
    Bytes cert;
    Code want;
  };
  std::vector<Case> cases = {
      {"matches", 2, cert(2, h2), Code::kOk},
      {"height differs", 1, cert(2, h2), Code::kInvalidArgument},
      {"hash differs", 2, cert(2, crypto::Digest{}), Code::kInvalidArgument},
      {"hash of another block", 2, cert(2, h1), Code::kInvalidArgument},
      {"garbage", 2, "\xff\xff\xff", Code::kInvalidArgument},
      {"block not applied", 3, cert(3, h2), Code::kNotFound},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(store->PutCommitCert(Height(c.height), c.cert).code(), c.want);
  }
  EXPECT_EQ(*store->blocks().CommitCert(Height(2)), cert(2, h2));
}

// ---------------------------------------------------------------- state

TEST(StoreStateTest, ReadsLikeTheInMemoryState) {
  TempDir dir;
  auto store = MustOpen(dir.Sub("db"));
  contracts::MemState mem;
  contracts::WriteSet ws;
  for (const char* k : {"a", "ab", "abc", "abd", "b", "b/1", "b/2", "b/3", "c"}) ws.Put(k, std::string("v-") + k);
  ws.Delete("abd");
  ws.Delete("zz");  // deleting an absent key is fine
  mem.Apply(ws);
  ChainBuilder chain(store->suite());
  ASSERT_TRUE(store->raft_log().Append(MakeEntries(1, 1, 1), true).ok());
  BlockWrite w = chain.Next(RaftIndex(1), RaftTerm(1), 1, nullptr);
  w.state = &ws;
  ASSERT_TRUE(store->ApplyBlock(w).ok());

  struct Case {
    std::string prefix, start_after;
    size_t limit;
  };
  std::vector<Case> cases = {{"", "", 100},   {"a", "", 100}, {"a", "ab", 100}, {"b/", "", 2},
                             {"b/", "b/2", 5}, {"x", "", 10},  {"a", "zzz", 10}, {"b", "a", 10},
                             {"ab", "", 0}};
  for (const auto& c : cases) {
    SCOPED_TRACE("prefix '" + c.prefix + "' after '" + c.start_after + "' limit " + std::to_string(c.limit));
    auto got = store->state().Scan(c.prefix, c.start_after, c.limit);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, *mem.Scan(c.prefix, c.start_after, c.limit));
  }
  for (const char* k : {"a", "abd", "b/3", "zz", ""}) {
    SCOPED_TRACE(k);
    EXPECT_EQ(*store->state().Get(k), *mem.Get(k));
  }
}

// ---------------------------------------------------------------- integrity

TEST(StoreIntegrityTest, TamperedBlockIsReportedAsCorruption) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  {
    auto store = MustOpen(path);
    ChainBuilder chain(store->suite());
    ApplyBlocks(*store, chain, 3, 2);
  }
  {
    RawDb raw(path);
    Bytes k(1, 'h');
    PutBigEndian64(&k, 2);
    std::string v = raw.Get("blocks", k);
    v[v.size() / 2] ^= 0x01;  // one bit in the stored block
    raw.Put("blocks", k, v);
  }
  auto store = MustOpen(path);  // the latest block (3) is intact: opens
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->blocks().Get(Height(2)).status().code(), Code::kCorruption);
  EXPECT_EQ(store->blocks().Range(Height(1), 10, UINT64_MAX).status().code(), Code::kCorruption);
  EXPECT_TRUE(store->blocks().Get(Height(1)).ok());
}

TEST(StoreIntegrityTest, TamperedLatestBlockFailsOpen) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  {
    auto store = MustOpen(path);
    ChainBuilder chain(store->suite());
    ApplyBlocks(*store, chain, 2, 1);
  }
  {
    RawDb raw(path);
    Bytes k(1, 'h');
    PutBigEndian64(&k, 2);
    std::string v = raw.Get("blocks", k);
    v[40] ^= 0x01;
    raw.Put("blocks", k, v);
  }
  auto r = Store::Open(path, TestOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorruption) << r.status();
}

TEST(StoreIntegrityTest, DamagedTableFileIsCaughtByChecksums) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  {
    auto store = MustOpen(path, StoreOptions{.chain_id = kChainId, .block_cache_bytes = 1 << 20});
    ChainBuilder chain(store->suite());
    ApplyBlocks(*store, chain, 40, 20);
  }
  MustOpen(path);  // reopening flushes the recovered log into table files
  // Flip bytes in the middle of every table file.
  for (const auto& e : std::filesystem::directory_iterator(path)) {
    if (e.path().extension() != ".sst" || e.file_size() < 4096) continue;
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    for (uintmax_t off = 1024; off + 1024 < e.file_size(); off += 2048) {
      f.seekg(static_cast<std::streamoff>(off));
      char c = 0;
      f.read(&c, 1);
      f.seekp(static_cast<std::streamoff>(off));
      c = static_cast<char>(c ^ 0x5a);
      f.write(&c, 1);
    }
  }
  auto r = Store::Open(path, TestOptions());
  if (!r.ok()) {
    EXPECT_EQ(r.status().code(), Code::kCorruption) << r.status();
    return;
  }
  int corrupt = 0;
  for (uint64_t h = 1; h <= 40; ++h) {
    auto b = (*r)->blocks().Get(Height(h));
    EXPECT_TRUE(b.ok() || b.status().code() == Code::kCorruption) << b.status();
    corrupt += b.ok() ? 0 : 1;
  }
  EXPECT_GT(corrupt, 0) << "damaged table files were read without an error";
}

}  // namespace
}  // namespace cl::storage::testing
