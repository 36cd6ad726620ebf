// Snapshots: checkpoint -> chunks -> staged install on another node, its
// verification and errors, and recovery of an install interrupted by a crash.
#include "storage/snapshot.h"

#include <atomic>
#include <filesystem>
#include <thread>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/storage/fault_fs.h"
#include "tests/storage/test_util.h"

namespace cl::storage::testing {
namespace {

std::vector<SnapshotChunk> ReadAll(const std::string& dir, const crypto::Suite& suite, size_t chunk) {
  auto reader = CheckpointReader::Open(dir, suite, chunk);
  EXPECT_TRUE(reader.ok()) << reader.status();
  std::vector<SnapshotChunk> out;
  for (;;) {
    auto c = (*reader)->Next();
    EXPECT_TRUE(c.ok()) << c.status();
    if (!c.ok() || !c->has_value()) break;
    out.push_back(std::move(**c));
  }
  return out;
}

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    leader_ = MustOpen(dir_.Sub("leader"));
    ChainBuilder chain(leader_->suite());
    ApplyBlocks(*leader_, chain, 12, 3);
    auto meta = leader_->CreateCheckpoint(dir_.Sub("cp"));
    ASSERT_TRUE(meta.ok()) << meta.status();
    meta_ = *meta;
    chunks_ = ReadAll(dir_.Sub("cp"), leader_->suite(), 4096);
    // The follower has its own raft state and a short log of its own.
    follower_ = MustOpen(dir_.Sub("follower"));
    hs_.set_term(7);
    hs_.set_vote(2);
    hs_.set_commit(1);
    ASSERT_TRUE(follower_->raft_log().Persist(&hs_, MakeEntries(1, 2, 7), true).ok());
  }

  TempDir dir_;
  std::unique_ptr<Store> leader_, follower_;
  raft::SnapshotMetadata meta_;
  std::vector<SnapshotChunk> chunks_;
  raft::HardState hs_;
};

TEST_F(SnapshotTest, ChunksAreBoundedAndCoverEveryFile) {
  ASSERT_FALSE(chunks_.empty());
  auto reader = CheckpointReader::Open(dir_.Sub("cp"), leader_->suite(), 4096);
  uint64_t total = 0;
  for (const auto& c : chunks_) {
    EXPECT_LE(c.data.size(), 4096u);
    EXPECT_EQ(c.digest, leader_->suite().Hash(c.data));
    total += c.data.size();
  }
  EXPECT_EQ(total, (*reader)->total_bytes());
  EXPECT_EQ(CheckpointReader::Open(dir_.Sub("cp"), leader_->suite(), 0).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(CheckpointReader::Open(dir_.Sub("nope"), leader_->suite(), 10).status().code(),
            Code::kNotFound);
  EXPECT_EQ(leader_->CreateCheckpoint(dir_.Sub("cp")).status().code(), Code::kAlreadyExists);
}

TEST_F(SnapshotTest, InstallReplacesTheStoreAndKeepsLocalRaftState) {
  const Height height = leader_->blocks().latest_height();
  const crypto::Digest hash = leader_->blocks().latest_hash();
  auto inst = SnapshotInstaller::Begin(dir_.Sub("follower"), TestOptions());
  ASSERT_TRUE(inst.ok());
  for (const auto& c : chunks_) { ASSERT_TRUE((*inst)->Write(c).ok()); }
  ASSERT_TRUE((*inst)->Verify(meta_).ok());
  // Verification did not touch the live store.
  EXPECT_EQ(follower_->blocks().latest_height(), Height(0));
  raft::HardState hs = follower_->raft_log().GetInitialState()->hard_state;
  follower_.reset();
  ASSERT_TRUE((*inst)->Install(hs).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("follower.staging")));
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("follower.old")));

  follower_ = MustOpen(dir_.Sub("follower"));
  EXPECT_EQ(follower_->blocks().latest_height(), height);
  EXPECT_EQ(follower_->blocks().latest_hash(), hash);
  EXPECT_EQ(follower_->applied_index().value(), meta_.index());
  auto& log = follower_->raft_log();
  auto init = log.GetInitialState();
  EXPECT_EQ(init->hard_state.term(), 7u);
  EXPECT_EQ(init->hard_state.vote(), 2u);
  EXPECT_EQ(init->hard_state.commit(), meta_.index());
  EXPECT_EQ(log.FirstIndex()->value(), meta_.index() + 1);
  EXPECT_EQ(log.LastIndex()->value(), meta_.index());
  EXPECT_EQ(log.Term(RaftIndex(meta_.index()))->value(), meta_.term());
  EXPECT_EQ(log.Snapshot()->metadata().index(), meta_.index());
  Status check = CheckStore(*follower_, nullptr);
  EXPECT_TRUE(check.ok()) << check;
  // The node continues from the snapshot.
  ChainBuilder chain(follower_->suite());
  chain.ResumeFrom(*follower_);
  ApplyBlocks(*follower_, chain, 3, 2);
  EXPECT_TRUE(CheckStore(*follower_, nullptr).ok());
}

TEST_F(SnapshotTest, InstallInPlaceKeepsTheStoreObjectUsable) {
  // A running node cannot close its store (the API and the driver hold
  // references): Store::InstallSnapshot swaps the database underneath, while
  // readers keep reading.
  const Height height = leader_->blocks().latest_height();
  const crypto::Digest hash = leader_->blocks().latest_hash();
  auto inst = SnapshotInstaller::Begin(dir_.Sub("follower"), TestOptions());
  ASSERT_TRUE(inst.ok());
  for (const auto& c : chunks_) ASSERT_TRUE((*inst)->Write(c).ok());
  ASSERT_TRUE((*inst)->Verify(meta_).ok());

  const BlockStore& blocks = follower_->blocks();
  // A state read before the install is cached (as absent); the install
  // must not leave it describing the old store.
  ASSERT_EQ(*follower_->state().Get("count"), std::nullopt);
  const std::optional<Bytes> leader_count = *leader_->state().Get("count");
  ASSERT_TRUE(leader_count.has_value());
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!stop) {
      const Height h = blocks.latest_height();
      if (h > Height(0)) {
        EXPECT_TRUE(blocks.Get(h).ok());
      }
      EXPECT_TRUE(follower_->raft_log().LastIndex().ok());
      // State reads race the install too (the state cache is cleared by it).
      auto count = follower_->state().Get("count");
      EXPECT_TRUE(count.ok());
      if (count.ok() && *count) {
        EXPECT_EQ(*count, leader_count);
      }
      ++reads;
    }
  });
  raft::HardState hs = follower_->raft_log().GetInitialState()->hard_state;
  Status s = follower_->InstallSnapshot(**inst, hs);
  while (reads < 10) std::this_thread::yield();
  stop = true;
  reader.join();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("follower.staging")));
  EXPECT_EQ(blocks.latest_height(), height);
  EXPECT_EQ(blocks.latest_hash(), hash);
  EXPECT_EQ(follower_->applied_index().value(), meta_.index());
  EXPECT_EQ(follower_->raft_log().GetInitialState()->hard_state.term(), 7u);
  EXPECT_EQ(follower_->raft_log().FirstIndex()->value(), meta_.index() + 1);
  EXPECT_EQ(*follower_->state().Get("count"), leader_count);
  Status check = CheckStore(*follower_, nullptr);
  EXPECT_TRUE(check.ok()) << check;
  // It keeps applying, and survives a reopen.
  ChainBuilder chain(follower_->suite());
  chain.ResumeFrom(*follower_);
  ApplyBlocks(*follower_, chain, 2, 2);
  const Height after = follower_->blocks().latest_height();
  follower_.reset();
  follower_ = MustOpen(dir_.Sub("follower"));
  EXPECT_EQ(follower_->blocks().latest_height(), after);
  EXPECT_TRUE(CheckStore(*follower_, nullptr).ok());
}

TEST_F(SnapshotTest, StoreThatCannotReopenAfterAnInstallAnswersErrors) {
  // The install swaps the directories and then reopens the database. If the
  // reopen fails (here: the disk dies between the two), the store has no
  // database: every read and write must return the reason, not crash, and
  // the installed store is there for the next start.
  FaultEnv fault;
  StoreOptions o = TestOptions();
  o.env = fault.env.get();
  follower_.reset();
  follower_ = MustOpen(dir_.Sub("follower"), o);
  ASSERT_NE(follower_, nullptr);
  auto inst = SnapshotInstaller::Begin(dir_.Sub("follower"), TestOptions());
  ASSERT_TRUE(inst.ok());
  for (const auto& c : chunks_) ASSERT_TRUE((*inst)->Write(c).ok());
  ASSERT_TRUE((*inst)->Verify(meta_).ok());
  raft::HardState hs = follower_->raft_log().GetInitialState()->hard_state;

  fault.fs->SetActive(false);
  Status s = follower_->InstallSnapshot(**inst, hs);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("unusable after a snapshot install"), std::string::npos) << s;
  auto expect_refused = [](const Status& st, const char* what) {
    EXPECT_FALSE(st.ok()) << what;
    EXPECT_NE(st.message().find("unusable after a snapshot install"), std::string::npos)
        << what << ": " << st;
  };
  expect_refused(follower_->state().Get("count").status(), "state Get");
  expect_refused(follower_->state().Scan("", "", 10).status(), "state Scan");
  expect_refused(follower_->raft_log().Entries(RaftIndex(1), RaftIndex(2), 1 << 20).status(),
                 "raft log Entries");
  expect_refused(follower_->raft_log().Persist(&hs, MakeEntries(3, 3, 7), true),
                 "raft log Persist");
  expect_refused(follower_->raft_log().Compact(RaftIndex(1)), "raft log Compact");
  expect_refused(follower_->blocks().FindTx(crypto::Digest()).status(), "FindTx");
  expect_refused(follower_->PutCommitCert(Height(1), "x"), "PutCommitCert");
  expect_refused(follower_->CreateCheckpoint(dir_.Sub("cp2")).status(), "CreateCheckpoint");
  expect_refused(follower_->ApplyNonBlock(RaftIndex(3), nullptr), "ApplyNonBlock");
  expect_refused(follower_->InstallSnapshot(**inst, hs), "InstallSnapshot again");
  follower_.reset();  // closing a store without a database is fine too

  fault.fs->SetActive(true);
  follower_ = MustOpen(dir_.Sub("follower"));
  ASSERT_NE(follower_, nullptr);
  EXPECT_EQ(follower_->blocks().latest_height(), leader_->blocks().latest_height());
  EXPECT_EQ(follower_->applied_index().value(), meta_.index());
  EXPECT_TRUE(CheckStore(*follower_, nullptr).ok());
}

TEST_F(SnapshotTest, InstallInPlaceWithoutVerifyChangesNothing) {
  auto inst = SnapshotInstaller::Begin(dir_.Sub("follower"), TestOptions());
  ASSERT_TRUE(inst.ok());
  for (const auto& c : chunks_) ASSERT_TRUE((*inst)->Write(c).ok());
  Status s = follower_->InstallSnapshot(**inst, hs_);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s;
  EXPECT_EQ(follower_->blocks().latest_height(), Height(0));
  EXPECT_EQ(follower_->raft_log().LastIndex()->value(), 2u);
  EXPECT_TRUE(follower_->write_error().ok());
}

TEST_F(SnapshotTest, BadChunksAreRefused) {
  auto inst = SnapshotInstaller::Begin(dir_.Sub("follower"), TestOptions());
  ASSERT_TRUE(inst.ok());
  const SnapshotChunk good = chunks_.front();
  struct Case {
    std::string name;
    std::function<void(SnapshotChunk&)> mutate;
    Code want;
  };
  std::vector<Case> cases = {
      {"damaged data", [](SnapshotChunk& c) { c.data.push_back('x'); }, Code::kCorruption},
      {"path escape", [](SnapshotChunk& c) { c.file = "../evil"; }, Code::kInvalidArgument},
      {"directory", [](SnapshotChunk& c) { c.file = "a/b"; }, Code::kInvalidArgument},
      {"empty name", [](SnapshotChunk& c) { c.file = ""; }, Code::kInvalidArgument},
      {"first chunk not at 0", [](SnapshotChunk& c) { c.offset = 5; }, Code::kInvalidArgument},
      {"runs past file size",
       [&](SnapshotChunk& c) {
         c.file_size = 1;
         c.file = "other";
       },
       Code::kInvalidArgument},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    SnapshotChunk bad = good;
    c.mutate(bad);
    bad.digest = c.want == Code::kCorruption ? good.digest : leader_->suite().Hash(bad.data);
    EXPECT_EQ((*inst)->Write(bad).code(), c.want);
  }
  ASSERT_TRUE((*inst)->Write(good).ok());
  EXPECT_EQ((*inst)->Write(good).code(), Code::kInvalidArgument) << "repeated chunk";
}

TEST_F(SnapshotTest, VerifyRefusesWhatDoesNotMatch) {
  struct Case {
    std::string name;
    StoreOptions options;
    size_t drop_last_chunks;
    std::function<void(raft::SnapshotMetadata&)> mutate;
    Code want;
  };
  std::vector<Case> cases = {
      {"no chunks", TestOptions(), chunks_.size(), [](raft::SnapshotMetadata&) {},
       Code::kFailedPrecondition},
      {"incomplete", TestOptions(), 1, [](raft::SnapshotMetadata&) {}, Code::kFailedPrecondition},
      {"another chain", StoreOptions{.chain_id = "other-chain"}, 0, [](raft::SnapshotMetadata&) {},
       Code::kFailedPrecondition},
      {"another index", TestOptions(), 0, [](raft::SnapshotMetadata& m) { m.set_index(m.index() + 1); },
       Code::kFailedPrecondition},
      {"another term", TestOptions(), 0, [](raft::SnapshotMetadata& m) { m.set_term(9); },
       Code::kFailedPrecondition},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto inst = SnapshotInstaller::Begin(dir_.Sub("follower"), c.options);
    ASSERT_TRUE(inst.ok());
    for (size_t i = 0; i + c.drop_last_chunks < chunks_.size(); ++i)
      ASSERT_TRUE((*inst)->Write(chunks_[i]).ok());
    raft::SnapshotMetadata meta = meta_;
    c.mutate(meta);
    EXPECT_EQ((*inst)->Verify(meta).code(), c.want);
    EXPECT_EQ((*inst)->Install(hs_).code(), Code::kFailedPrecondition) << "install before verify";
  }
  // The live store never changed.
  EXPECT_EQ(*follower_->raft_log().LastIndex(), RaftIndex(2));
}

TEST_F(SnapshotTest, OpenFinishesOrRollsBackAnInterruptedSwap) {
  // Build an installed copy of the snapshot elsewhere, to stage it by hand.
  const std::string fresh = dir_.Sub("fresh");
  MustOpen(fresh);
  auto inst = SnapshotInstaller::Begin(fresh, TestOptions());
  for (const auto& c : chunks_) { ASSERT_TRUE((*inst)->Write(c).ok()); }
  ASSERT_TRUE((*inst)->Verify(meta_).ok());
  ASSERT_TRUE((*inst)->Install(hs_).ok());
  follower_.reset();
  const std::string db = dir_.Sub("follower");
  const Height leader_height = leader_->blocks().latest_height();

  struct Case {
    std::string name;
    bool marker;  // the staged store was ready
    Height want;
  };
  for (const Case& c : {Case{"crash between the renames", true, leader_height},
                        Case{"crash before the staged store was ready", false, Height(0)}}) {
    SCOPED_TRACE(c.name);
    std::filesystem::remove_all(db + ".staging");
    std::filesystem::copy(fresh, db + ".staging");
    if (c.marker) std::ofstream(db + ".staging/CERTLEDGER_INSTALL_READY");
    std::filesystem::rename(db, db + ".old");  // the first rename happened, then the crash
    auto store = MustOpen(db);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->blocks().latest_height(), c.want);
    EXPECT_FALSE(std::filesystem::exists(db + ".old"));
    EXPECT_FALSE(std::filesystem::exists(db + "/CERTLEDGER_INSTALL_READY"));
    if (c.want == Height(0)) {
      std::filesystem::remove_all(db + ".staging");
    } else {
      // Undo for the next case: put an empty follower back.
      store.reset();
      std::filesystem::remove_all(db);
      MustOpen(db);
    }
  }
}

}  // namespace
}  // namespace cl::storage::testing
