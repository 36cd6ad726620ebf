// Ledger::Prepare (executing a block ahead of its commit): the block that
// ApplyEntry writes from a prepared result is the block it would have
// computed itself, and a prepared result is never used for another entry or
// on another state.
#include <gtest/gtest.h>

#include <filesystem>

#include "node/ledger.h"
#include "proto/raft.pb.h"
#include "proto/records.pb.h"
#include "proto/tx.pb.h"
#include "storage/store.h"
#include "tests/contracts/fixture.h"

namespace cl::node {
namespace {

namespace v1 = certledger::v1;
namespace raftpb = certledger::raft;
using contracts::testing::Fixture;
using contracts::testing::kDayMs;
using contracts::testing::kGenesisTimeMs;

constexpr int64_t kNow = kGenesisTimeMs + kDayMs;

class LedgerPrepareTest : public ::testing::Test {
 protected:
  LedgerPrepareTest() {
    dir_ = std::filesystem::temp_directory_path() /
           ("cl-ledger-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    genesis_bytes_ = f_.genesis().SerializeAsString();
  }
  ~LedgerPrepareTest() override {
    plain_.reset();
    ahead_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // Two ledgers of one genesis: `plain_` only applies, `ahead_` prepares.
  void SetUp() override {
    plain_ = Open("plain");
    ahead_ = Open("ahead");
    ASSERT_TRUE(plain_ && ahead_);
  }

  std::unique_ptr<Ledger> Open(const std::string& name) {
    auto l = Ledger::Open(f_.genesis(), genesis_bytes_,
                          LedgerOptions{.data_dir = (dir_ / name).string(), .sync_applies = false});
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return l.ok() ? std::move(*l) : nullptr;
  }

  static raftpb::Entry BatchEntry(RaftIndex index, uint64_t term, const std::vector<Bytes>& txs,
                                  int64_t time_ms) {
    v1::Batch b;
    b.set_time_ms(time_ms);
    b.set_proposer(1);
    for (const Bytes& t : txs) b.add_txs(t);
    raftpb::Entry e;
    e.set_type(raftpb::ENTRY_NORMAL);
    e.set_index(index.value());
    e.set_term(term);
    e.set_data(b.SerializeAsString());
    return e;
  }
  // The entry after the last one applied.
  raftpb::Entry NextBatch(uint64_t term, const std::vector<Bytes>& txs, int64_t time_ms) const {
    return BatchEntry(ahead_->applied_index().next(), term, txs, time_ms);
  }
  // A leader's empty entry at `index`, applied to both ledgers.
  void ApplyEmptyToBoth(RaftIndex index) {
    raftpb::Entry empty;
    empty.set_type(raftpb::ENTRY_NORMAL);
    empty.set_index(index.value());
    empty.set_term(2);
    ASSERT_TRUE(ahead_->ApplyEntry(empty, nullptr).ok());
    ASSERT_TRUE(plain_->ApplyEntry(empty, nullptr).ok());
  }

  Bytes AnchorTx(std::string_view id) const {
    const Bytes holder = f_.HolderRef("110101199001011234");
    return f_.Anchor("PSB/issuer", kNow, f_.Cert(id, "ID_CARD", "PSB", holder, kGenesisTimeMs));
  }

  static AppliedBlock Apply(Ledger& l, const raftpb::Entry& e) {
    auto r = l.ApplyEntry(e, nullptr);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r.ok() && r->has_value());
    return r.ok() && r->has_value() ? std::move(**r) : AppliedBlock{};
  }

  // Prepares `prepared` on ahead_ (unless null), then applies `applied` to
  // both ledgers, which must write the same block; returns ahead_'s.
  AppliedBlock PrepareThenApply(const raftpb::Entry* prepared, const raftpb::Entry& applied) {
    if (prepared != nullptr) ahead_->Prepare(*prepared);
    AppliedBlock got = Apply(*ahead_, applied);
    const AppliedBlock want = Apply(*plain_, applied);
    EXPECT_FALSE(want.prepared);
    EXPECT_EQ(want.height, got.height);
    EXPECT_EQ(want.hash, got.hash);
    EXPECT_EQ(want.header, got.header);
    EXPECT_EQ(want.tx_ids, got.tx_ids);
    EXPECT_EQ(want.receipts, got.receipts);
    return got;
  }

  static v1::ResultCode CodeOf(const Bytes& receipt) {
    v1::Receipt r;
    EXPECT_TRUE(r.ParseFromString(receipt));
    return r.code();
  }

  Fixture f_;
  std::filesystem::path dir_;
  Bytes genesis_bytes_;
  std::unique_ptr<Ledger> plain_;
  std::unique_ptr<Ledger> ahead_;
};

// Blocks whose contracts read what the block before wrote (a revocation of
// the certificate anchored one block earlier, a duplicate anchor, a tx that
// fails its signature check): identical whether prepared or not.
TEST_F(LedgerPrepareTest, PreparedBlocksAreTheBlocksComputedAtApply) {
  Bytes forged = AnchorTx("forged");
  forged[forged.size() - 3] ^= 0x01;  // inside the signature
  const std::vector<std::vector<Bytes>> blocks = {
      {AnchorTx("c1"), AnchorTx("c2")},
      {f_.Revoke("PSB/issuer", kNow, "c1"), AnchorTx("c1")},
      {forged, f_.Revoke("PSB/issuer", kNow, "c2"), AnchorTx("c3")},
  };
  std::vector<AppliedBlock> applied;
  for (size_t k = 0; k < blocks.size(); ++k) {
    const raftpb::Entry e = NextBatch(2, blocks[k], kNow + static_cast<int64_t>(k));
    applied.push_back(PrepareThenApply(&e, e));
    EXPECT_TRUE(applied.back().prepared) << "block " << k + 1;
  }
  ASSERT_EQ(ahead_->height(), Height(3));
  // The revocations saw the anchors of the blocks before; the second anchor
  // of c1 did not replace the first; the forged tx was refused.
  EXPECT_EQ(CodeOf(applied[0].receipts.at(0)), v1::OK);
  EXPECT_EQ(CodeOf(applied[1].receipts.at(0)), v1::OK);
  EXPECT_NE(CodeOf(applied[1].receipts.at(1)), v1::OK);
  EXPECT_NE(CodeOf(applied[2].receipts.at(0)), v1::OK);
  EXPECT_EQ(CodeOf(applied[2].receipts.at(1)), v1::OK);
  EXPECT_EQ(CodeOf(applied[2].receipts.at(2)), v1::OK);
}

// A prepared entry replaced in the log (same index, a later term, other
// bytes) is executed again; the prepared one never reaches the store.
TEST_F(LedgerPrepareTest, AReplacedEntryIsExecutedAgain) {
  const raftpb::Entry first = NextBatch(2, {AnchorTx("old-leader")}, kNow);
  const raftpb::Entry replaced = NextBatch(3, {AnchorTx("new-leader")}, kNow + 5);
  ahead_->Prepare(first);
  EXPECT_EQ(ahead_->height(), Height(0));  // preparing writes nothing
  EXPECT_FALSE(PrepareThenApply(nullptr, replaced).prepared);

  // Same index and bytes, a later term (a new leader proposed the same
  // batch again): the header records the term, so it is computed again.
  const raftpb::Entry again = NextBatch(3, {AnchorTx("again")}, kNow + 6);
  raftpb::Entry again_later = again;
  again_later.set_term(4);
  const AppliedBlock got = PrepareThenApply(&again, again_later);
  EXPECT_FALSE(got.prepared);
  v1::BlockHeader header;
  ASSERT_TRUE(header.ParseFromString(got.header));
  EXPECT_EQ(header.raft_term(), 4u);

  // Same index and term, other bytes (never happens in raft; still refused).
  const raftpb::Entry next = NextBatch(4, {AnchorTx("a")}, kNow + 7);
  const raftpb::Entry other = NextBatch(4, {AnchorTx("b")}, kNow + 7);
  EXPECT_FALSE(PrepareThenApply(&next, other).prepared);
}

// A result prepared for an entry that was not the next one, or on a state
// that another entry (a leader's empty entry) changed since, is not used;
// nor after ForgetPrepared. (Prepare refuses an entry that is not the next
// one, and ApplyEntry checks the index and the state again: either check
// alone keeps these blocks right, so they are tested together.)
TEST_F(LedgerPrepareTest, OnlyTheNextEntryOnTheStateItWasPreparedOn) {
  const RaftIndex i1 = ahead_->applied_index().next();
  const raftpb::Entry skip = BatchEntry(i1.next(), 2, {AnchorTx("x")}, kNow);
  ahead_->Prepare(skip);  // not the next one
  ApplyEmptyToBoth(i1);
  EXPECT_FALSE(PrepareThenApply(nullptr, skip).prepared);

  // Prepared on the state before an empty entry, applied after it.
  const RaftIndex i3 = ahead_->applied_index().next();
  const raftpb::Entry late = BatchEntry(i3.next(), 2, {AnchorTx("y")}, kNow + 1);
  raftpb::Entry early = late;
  early.set_index(i3.value());
  ahead_->Prepare(early);
  ApplyEmptyToBoth(i3);
  EXPECT_FALSE(PrepareThenApply(nullptr, late).prepared);

  const raftpb::Entry next = NextBatch(2, {AnchorTx("z")}, kNow + 2);
  ahead_->Prepare(next);
  ahead_->ForgetPrepared();
  const AppliedBlock got = PrepareThenApply(nullptr, next);
  EXPECT_FALSE(got.prepared);
  EXPECT_EQ(CodeOf(got.receipts.at(0)), v1::OK);
}

// A ledger opened again has no cached previous header: Prepare reads it
// from the store, and the block is still the one computed at apply.
TEST_F(LedgerPrepareTest, PreparesRightAfterTheLedgerIsOpenedAgain) {
  const raftpb::Entry first = NextBatch(2, {AnchorTx("r1")}, kNow);
  EXPECT_TRUE(PrepareThenApply(&first, first).prepared);
  ahead_.reset();
  ahead_ = Open("ahead");
  ASSERT_TRUE(ahead_);
  const raftpb::Entry second = NextBatch(2, {f_.Revoke("PSB/issuer", kNow, "r1")}, kNow + 1);
  const AppliedBlock got = PrepareThenApply(&second, second);
  EXPECT_TRUE(got.prepared);
  EXPECT_EQ(CodeOf(got.receipts.at(0)), v1::OK);
}

// A node that admitted a tx (and so skips its signature check) prepares the
// same block as a node that checks it.
TEST_F(LedgerPrepareTest, AdmittedTxsGiveTheSameBlock) {
  const Bytes tx = AnchorTx("admitted");
  ahead_->NoteVerified(tx);
  const raftpb::Entry e = NextBatch(2, {tx, AnchorTx("other")}, kNow);
  EXPECT_TRUE(PrepareThenApply(&e, e).prepared);
}

}  // namespace
}  // namespace cl::node
