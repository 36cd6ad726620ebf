// The executor's envelope checks, block assembly, time rule and replay index.
#include "contracts/executor.h"

#include <random>

#include <gtest/gtest.h>

#include "contracts/keys.h"
#include "contracts/queries.h"
#include "crypto/domain.h"
#include "tests/contracts/fixture.h"

namespace cl::contracts::testing {
namespace {

constexpr int64_t kT1 = kGenesisTimeMs + 60'000;

v1::Receipt Decode(const Bytes& b) {
  v1::Receipt r;
  EXPECT_TRUE(r.ParseFromString(b));
  return r;
}

Bytes AnchorId(const Fixture& f, std::string_view id, int64_t now) {
  return f.Anchor("PSB/issuer", now,
                  f.Cert(id, "ID_CARD", "PSB", f.HolderRef("110101199001011234"), kGenesisTimeMs));
}

struct GenesisCase {
  std::string name;
  std::function<void(v1::Genesis&)> mutate;
  std::string want_in_message;
};

TEST(ExecutorGenesisTest, RejectsInvalidGenesis) {
  const std::vector<GenesisCase> cases = {
      {"wrong_suite", [](v1::Genesis& g) { g.set_suite("sm2-sm3"); }, "suite"},
      {"no_chain_id", [](v1::Genesis& g) { g.clear_chain_id(); }, "chain_id"},
      {"threshold_above_admins", [](v1::Genesis& g) { g.set_admin_threshold(9); },
       "admin_threshold"},
      {"threshold_zero", [](v1::Genesis& g) { g.set_admin_threshold(0); }, "admin_threshold"},
      {"repeated_department", [](v1::Genesis& g) { *g.add_departments() = g.departments(0); },
       "department"},
      {"member_of_unknown_department",
       [](v1::Genesis& g) { g.mutable_members(0)->set_department("NOPE"); }, "unknown department"},
      {"identity_clerk_outside_identity_authority",
       [](v1::Genesis& g) {
         for (auto& m : *g.mutable_members()) {
           if (m.department() == "CAB") m.add_roles(v1::IDENTITY_CLERK);
         }
       },
       "IDENTITY_CLERK"},
      {"type_with_unknown_issuer",
       [](v1::Genesis& g) { g.mutable_cert_types(0)->add_issuers("NOPE"); }, "unknown issuer"},
      {"service_with_unknown_type",
       [](v1::Genesis& g) {
         *g.add_services() = Service("X", "x", {"ASC"}, {"ASC"}, {}, CertLeaf("x", "NO_SUCH_TYPE"));
       },
       "unknown certificate type"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Fixture f;
    c.mutate(f.mutable_genesis());
    auto ex = Executor::Create(f.genesis(), f.suite_ptr());
    ASSERT_FALSE(ex.ok());
    EXPECT_EQ(ex.status().code(), Code::kInvalidArgument);
    EXPECT_NE(ex.status().message().find(c.want_in_message), std::string::npos) << ex.status();
  }
}

TEST(ExecutorGenesisTest, GenesisStateHoldsDepartmentsMembersTypesAndServices) {
  Fixture f;
  *f.mutable_genesis().add_services() = PensionClaimMatter();
  Chain chain(f);
  EXPECT_TRUE(GetDepartment(chain.state(), "PSB")->value().identity_authority());
  EXPECT_EQ(GetMember(chain.state(), f.Pub("HRSS/admin"))->value().department(), "HRSS");
  EXPECT_EQ(GetCertType(chain.state(), "MED_INVOICE")->value().doc_class(), v1::EBILL);
  EXPECT_EQ(GetAdminThreshold(chain.state()).value(), 3u);
  EXPECT_EQ(GetService(chain.state(), "PENSION_CLAIM")->value().version(), 1u);
}

struct EnvelopeCase {
  std::string name;
  std::function<Bytes(const Fixture&)> make;
  v1::ResultCode want;
};

TEST(ExecutorEnvelopeTest, RejectsBadEnvelopes) {
  const std::vector<EnvelopeCase> cases = {
      {"undecodable_signed_tx", [](const Fixture&) { return Bytes("\xff\xff\xff", 3); },
       v1::MALFORMED},
      {"undecodable_body",
       [](const Fixture& f) {
         v1::SignedTx tx;
         tx.set_body("\xff\xff");
         tx.set_signer(f.Pub("PSB/issuer"));
         tx.set_signature(
             f.suite().Sign(f.Key("PSB/issuer").secret_key, crypto::TxMessage(tx.body())).value());
         return tx.SerializeAsString();
       },
       v1::MALFORMED},
      {"too_large",
       [](const Fixture& f) {
         auto a = f.Cert("big", "ID_CARD", "PSB", f.HolderRef("1"), kGenesisTimeMs);
         a.set_jurisdiction(std::string(70000, '1'));
         return f.Anchor("PSB/issuer", kT1, a);
       },
       v1::MALFORMED},
      {"no_payload", [](const Fixture& f) { return f.Sign(f.Body(kT1), "PSB/issuer"); },
       v1::MALFORMED},
      {"wrong_chain",
       [](const Fixture& f) {
         auto b = f.Body(kT1);
         b.set_chain_id("other-city");
         b.mutable_revoke_certificate()->set_cert_id("x");
         return f.Sign(b, "PSB/issuer");
       },
       v1::WRONG_CHAIN},
      {"expired",
       [](const Fixture& f) {
         auto b = f.Body(kT1, kT1 - 1);
         b.mutable_revoke_certificate()->set_cert_id("x");
         return f.Sign(b, "PSB/issuer");
       },
       v1::TX_EXPIRED},
      {"valid_too_far_ahead",
       [](const Fixture& f) {
         auto b = f.Body(kT1, kT1 + 86'400'000 + 1);
         b.mutable_revoke_certificate()->set_cert_id("x");
         return f.Sign(b, "PSB/issuer");
       },
       v1::TX_EXPIRED},
      {"bad_signature",
       [](const Fixture& f) {
         v1::SignedTx tx;
         tx.ParseFromString(AnchorId(f, "c1", kT1));
         tx.set_signer(f.Pub("CAB/issuer"));
         return tx.SerializeAsString();
       },
       v1::BAD_SIGNATURE},
      {"bad_cosignature",
       [](const Fixture& f) {
         v1::SignedTx tx;
         tx.ParseFromString(AnchorId(f, "c1", kT1));
         auto* c = tx.add_cosignatures();
         c->set_signer(f.Pub("CAB/admin"));
         c->set_signature(tx.signature());
         return tx.SerializeAsString();
       },
       v1::BAD_SIGNATURE},
      {"unknown_signer",
       [](const Fixture& f) {
         return f.Anchor("stranger", kT1,
                         f.Cert("c1", "ID_CARD", "PSB", f.HolderRef("1"), kGenesisTimeMs));
       },
       v1::UNKNOWN_SIGNER},
      {"valid_anchor", [](const Fixture& f) { return AnchorId(f, "c1", kT1); }, v1::OK},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Fixture f;
    Chain chain(f);
    v1::Receipt r = chain.ApplyOne(c.make(f), kT1);
    EXPECT_EQ(r.code(), c.want) << r.message();
    EXPECT_EQ(r.height(), 1u);
  }
}

TEST(ExecutorEnvelopeTest, DuplicateTxRejectedInSameBlockAndLater) {
  Fixture f;
  Chain chain(f);
  Bytes tx = AnchorId(f, "c1", kT1);
  auto out = chain.Apply({tx, tx}, kT1);
  EXPECT_EQ(Decode(out.receipts[0]).code(), v1::OK);
  EXPECT_EQ(Decode(out.receipts[1]).code(), v1::DUPLICATE_TX);
  EXPECT_EQ(out.tx_ids[0], out.tx_ids[1]);
  EXPECT_EQ(chain.ApplyOne(tx, kT1 + 1000).code(), v1::DUPLICATE_TX);
}

TEST(ExecutorEnvelopeTest, BadSignatureDoesNotBlockTheGenuineTx) {
  Fixture f;
  Chain chain(f);
  Bytes good = AnchorId(f, "c1", kT1);
  v1::SignedTx forged;
  forged.ParseFromString(good);
  forged.set_signature(Bytes(64, 'x'));
  EXPECT_EQ(chain.ApplyOne(forged.SerializeAsString(), kT1).code(), v1::BAD_SIGNATURE);
  EXPECT_EQ(chain.ApplyOne(good, kT1).code(), v1::OK);
}

TEST(ExecutorEnvelopeTest, RejectedTxKeepsNoWritesButIsRemembered) {
  Fixture f;
  Chain chain(f);
  // CAB may not issue identity cards.
  Bytes tx =
      f.Anchor("CAB/issuer", kT1, f.Cert("c1", "ID_CARD", "CAB", f.HolderRef("1"), kGenesisTimeMs));
  auto out = chain.Apply({tx}, kT1);
  EXPECT_EQ(Decode(out.receipts[0]).code(), v1::PERMISSION_DENIED);
  EXPECT_FALSE(GetCertificate(chain.state(), "c1")->has_value());
  EXPECT_TRUE(chain.state().Get(keys::Seen(out.tx_ids[0].view()))->has_value());
  EXPECT_EQ(chain.ApplyOne(tx, kT1).code(), v1::DUPLICATE_TX);
}

TEST(ExecutorEnvelopeTest, ReplayIndexIsPrunedOnceTheTxHasExpired) {
  Fixture f;
  Chain chain(f);
  auto body = f.Body(kT1, kT1 + 5000);
  *body.mutable_anchor_certificate() =
      f.Cert("c1", "ID_CARD", "PSB", f.HolderRef("1"), kGenesisTimeMs);
  Bytes tx = f.Sign(body, "PSB/issuer");
  auto out = chain.Apply({tx}, kT1);
  Bytes seen = keys::Seen(out.tx_ids[0].view());
  Bytes exp = keys::Expiry(kT1 + 5000, out.tx_ids[0].view());
  EXPECT_TRUE(chain.state().Get(seen)->has_value());
  EXPECT_TRUE(chain.state().Get(exp)->has_value());
  chain.Apply({}, kT1 + 5000);  // valid_until == block time: still remembered
  EXPECT_TRUE(chain.state().Get(seen)->has_value());
  EXPECT_EQ(chain.ApplyOne(tx, kT1 + 5000).code(), v1::DUPLICATE_TX);
  chain.Apply({}, kT1 + 5001);
  EXPECT_FALSE(chain.state().Get(seen)->has_value());
  EXPECT_FALSE(chain.state().Get(exp)->has_value());
  EXPECT_EQ(chain.ApplyOne(tx, kT1 + 5002).code(), v1::TX_EXPIRED);
}

// Pruning reads the expiry index in pages: every expired entry goes, across
// page boundaries, and entries not yet expired stay.
TEST(ExecutorEnvelopeTest, ReplayIndexPruneCrossesPagesAndKeepsUnexpired) {
  Fixture f;
  Chain chain(f);
  std::vector<Bytes> txs;
  for (int i = 0; i < 60; ++i) {
    auto body = f.Body(kT1, kT1 + 1000 + (i % 2 == 0 ? 0 : 100'000) + i);
    *body.mutable_anchor_certificate() =
        f.Cert("p" + std::to_string(i), "ID_CARD", "PSB", f.HolderRef("1"), kGenesisTimeMs);
    txs.push_back(f.Sign(body, "PSB/issuer"));
  }
  auto out = chain.Apply(txs, kT1);
  chain.Apply({}, kT1 + 50'000);  // the 30 even ones have expired, the odd ones not
  for (int i = 0; i < 60; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(chain.state().Get(keys::Seen(out.tx_ids[static_cast<size_t>(i)].view()))->has_value(),
              i % 2 == 1);
  }
}

// A block told the replay index's expiry floor (ExecInput::expiry_floor)
// does not read the index while nothing in it can have expired. That must
// never change a block: a chain passing the floor on and one that never does
// build the same blocks and state, through expiries, txs expiring before the
// current floor, resent txs, a restart (the floor is forgotten) and a cap hit.
TEST(ExecutorEnvelopeTest, ExpiryFloorSkipsReadingTheIndexWithoutChangingBlocks) {
  Fixture f;
  Chain with(f), without(f);
  without.set_pass_expiry_floor(false);
  std::mt19937_64 rng(20261127);
  std::vector<Bytes> sent;
  int skipped = 0, known = 0, unknown = 0, n = 0;
  std::optional<int64_t> floor;
  for (int b = 0; b < 60; ++b) {
    SCOPED_TRACE("block " + std::to_string(b + 1));
    const int64_t t = kT1 + b * 700;
    std::vector<Bytes> txs;
    // Blocks 31-33 carry more txs than a block prunes (kMaxPrunePerBlock),
    // all expiring at one time.
    const bool big = b >= 30 && b < 33;
    const int count = big ? 1500 : static_cast<int>(rng() % 4);
    for (int i = 0; i < count; ++i) {
      // Mostly short validity, sometimes long: the floor is often above the
      // expiry of the next tx, which must lower it.
      const int64_t spread = static_cast<int64_t>(rng() % 3000);
      const int64_t until =
          big ? kT1 + 33 * 700 + 2000 : t + (rng() % 3 == 0 ? 20'000 : 0) + spread;
      auto body = f.Body(t, until);
      *body.mutable_anchor_certificate() =
          f.Cert("e" + std::to_string(n++), "ID_CARD", "PSB", f.HolderRef("1"), kGenesisTimeMs);
      txs.push_back(f.Sign(body, "PSB/issuer"));
    }
    if (!sent.empty() && rng() % 4 == 0) txs.push_back(sent[rng() % sent.size()]);  // resent
    for (const Bytes& tx : txs) sent.push_back(tx);
    if (floor) {
      ++known;
      if (*floor >= t) ++skipped;
    }
    if (b == 45) with.Restart();
    ExecOutput a = with.Apply(txs, t);
    ExecOutput c = without.Apply(txs, t);
    ASSERT_EQ(a.block_hash, c.block_hash);
    ASSERT_EQ(with.state().contents(), without.state().contents());
    floor = a.expiry_floor;
    if (!floor) ++unknown;
    if (floor) {
      auto index = with.state().Scan(keys::kExpiry, "", 1'000'000);
      ASSERT_TRUE(index.ok());
      for (const auto& [k, v] : *index) {
        const auto until =
            static_cast<int64_t>(ReadBigEndian64(ByteView(k).substr(keys::kExpiry.size())));
        ASSERT_GE(until, *floor) << "the floor is above an expiry in the index";
      }
    }
  }
  // The cap left entries for the next block: the floor was unknown then.
  EXPECT_GE(unknown, 1);
  EXPECT_GT(known, 40);
  EXPECT_GT(skipped, 10) << "the floor never let a block skip the index";
  EXPECT_LT(skipped, known) << "every block skipped: expiries were never met";
}

// The floor is what lets a block skip the read: at or after the block time
// the replay index is not scanned; unknown or earlier, it is.
TEST(ExecutorEnvelopeTest, ExpiryFloorAtOrAfterBlockTimeSkipsTheIndexScan) {
  struct CountingState final : StateView {
    explicit CountingState(const StateView& b) : base(b) {}
    Result<std::optional<Bytes>> Get(ByteView key) const override { return base.Get(key); }
    Result<std::vector<KeyValue>> Scan(ByteView prefix, ByteView start_after,
                                       size_t limit) const override {
      if (prefix == keys::kExpiry) ++expiry_scans;
      return base.Scan(prefix, start_after, limit);
    }
    const StateView& base;
    mutable int expiry_scans = 0;
  };
  Fixture f;
  Chain chain(f);
  chain.Apply({AnchorId(f, "c1", kT1)}, kT1);
  CountingState state(chain.state());
  const int64_t t = kT1 + 1000;
  ExecInput in;
  in.prev_header = &chain.last_header();
  in.prev_hash = chain.genesis_hash();
  in.prev_time_ms = chain.time_ms();
  in.ctx = BlockContext{.height = Height(chain.height() + 1),
                        .time_ms = t,
                        .proposer = NodeId(1),
                        .raft_term = RaftTerm(1),
                        .raft_index = RaftIndex(100)};
  in.state = &state;
  in.history = chain.history();
  const std::vector<std::pair<std::optional<int64_t>, int>> cases = {
      {std::nullopt, 1}, {t, 0}, {t + 5000, 0}, {t - 1, 1}};
  for (const auto& [floor, scans] : cases) {
    SCOPED_TRACE(floor ? std::to_string(*floor - t) : "unknown");
    state.expiry_scans = 0;
    in.expiry_floor = floor;
    ASSERT_TRUE(chain.executor().Apply(in).ok());
    EXPECT_EQ(state.expiry_scans, scans);
  }
}

TEST(ExecutorBlockTest, HeaderChainsAndCommitsToTxsReceiptsAndHistory) {
  Fixture f;
  Chain chain(f);
  std::vector<crypto::Digest> all_leaves;
  crypto::Digest prev = chain.genesis_hash();
  for (int b = 0; b < 3; ++b) {
    std::vector<Bytes> txs;
    for (int i = 0; i <= b; ++i)
      txs.push_back(AnchorId(f, "c" + std::to_string(b) + "-" + std::to_string(i), kT1));
    txs.push_back("garbage");
    ExecOutput out = chain.Apply(txs, kT1 + b * 1000);
    v1::BlockHeader h;
    ASSERT_TRUE(h.ParseFromString(out.header_bytes));
    EXPECT_EQ(h.height(), static_cast<uint64_t>(b + 1));
    EXPECT_EQ(h.chain_id(), kChainId);
    EXPECT_EQ(h.prev_hash(), prev.ToBytes());
    EXPECT_EQ(h.tx_count(), txs.size());
    EXPECT_EQ(h.time_ms(), kT1 + b * 1000);
    EXPECT_EQ(out.block_hash, f.suite().Hash(out.header_bytes));
    std::vector<crypto::Digest> tx_leaves, result_leaves;
    for (size_t i = 0; i < txs.size(); ++i) {
      tx_leaves.push_back(crypto::MerkleLeafHash(f.suite(), out.tx_ids[i].view()));
      result_leaves.push_back(crypto::MerkleLeafHash(f.suite(), out.receipts[i]));
      EXPECT_EQ(Decode(out.receipts[i]).index(), i);
    }
    all_leaves.insert(all_leaves.end(), tx_leaves.begin(), tx_leaves.end());
    EXPECT_EQ(h.tx_root(), crypto::MerkleRoot(f.suite(), tx_leaves).ToBytes());
    EXPECT_EQ(h.result_root(), crypto::MerkleRoot(f.suite(), result_leaves).ToBytes());
    EXPECT_EQ(h.history_size(), all_leaves.size());
    EXPECT_EQ(h.history_root(), crypto::MerkleRoot(f.suite(), all_leaves).ToBytes());
    v1::Block block;
    ASSERT_TRUE(block.ParseFromString(out.block));
    EXPECT_EQ(block.header(), out.header_bytes);
    ASSERT_EQ(block.txs_size(), static_cast<int>(txs.size()));
    EXPECT_EQ(block.txs(0), txs[0]);
    EXPECT_EQ(block.receipts(0), out.receipts[0]);
    prev = out.block_hash;
  }
  EXPECT_EQ(Decode(chain.Apply({"garbage"}, kT1 + 9000).receipts[0]).code(), v1::MALFORMED);
}

TEST(ExecutorBlockTest, BlockTimeNeverGoesBackwards) {
  Fixture f;
  Chain chain(f);
  chain.Apply({}, kT1 + 10'000);
  ExecOutput out = chain.Apply({}, kT1);  // a leader with a slow clock
  EXPECT_EQ(out.time_ms, kT1 + 10'000);
  EXPECT_EQ(chain.last_header().time_ms(), kT1 + 10'000);
}

TEST(ExecutorBlockTest, RejectsInputThatBreaksTheContract) {
  Fixture f;
  Chain chain(f);
  chain.Apply({}, kT1);
  ExecInput in;
  in.prev_header = &chain.last_header();
  in.ctx.height = Height(5);
  in.state = &chain.state();
  in.history = chain.history();
  EXPECT_EQ(chain.executor().Apply(in).status().code(), Code::kInvalidArgument);
  in.ctx.height = Height(2);
  std::vector<Bytes> txs = {AnchorId(f, "c1", kT1)};
  std::vector<uint8_t> presigned;  // wrong size
  in.txs = txs;
  in.presigned_ok = &presigned;
  EXPECT_EQ(chain.executor().Apply(in).status().code(), Code::kInvalidArgument);
}

TEST(ExecutorBlockTest, PresignedResultsAreTrusted) {
  Fixture f;
  Chain chain(f);
  std::vector<Bytes> txs = {AnchorId(f, "c1", kT1), AnchorId(f, "c2", kT1)};
  EXPECT_TRUE(VerifyTxSignatures(f.suite(), txs[0]));
  EXPECT_FALSE(VerifyTxSignatures(f.suite(), "garbage"));
  std::vector<uint8_t> presigned = {1, 0};
  ExecInput in;
  in.ctx = BlockContext{.height = Height(1),
                        .time_ms = kT1,
                        .proposer = NodeId(1),
                        .raft_term = RaftTerm(1),
                        .raft_index = RaftIndex(1)};
  in.prev_hash = chain.genesis_hash();
  in.txs = txs;
  in.state = &chain.state();
  in.presigned_ok = &presigned;
  auto out = chain.executor().Apply(in);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Decode(out->receipts[0]).code(), v1::OK);
  EXPECT_EQ(Decode(out->receipts[1]).code(), v1::BAD_SIGNATURE);
}

TEST(ExecutorBlockTest, RevokedKeySignsRestOfItsBlockButNothingAfter) {
  Fixture f;
  Chain chain(f);
  v1::Governance g;
  g.set_revoke_member(f.Pub("PSB/issuer"));
  auto out = chain.Apply(
      {f.Govern("PSB/admin", {"CAB/admin", "HRSS/admin"}, kT1, g), AnchorId(f, "same-block", kT1)},
      kT1);
  EXPECT_EQ(Decode(out.receipts[0]).code(), v1::OK) << Decode(out.receipts[0]).message();
  EXPECT_EQ(Decode(out.receipts[1]).code(), v1::OK);
  EXPECT_EQ(chain.ApplyOne(AnchorId(f, "next-block", kT1), kT1 + 1000).code(), v1::UNKNOWN_SIGNER);
}

TEST(ExecutorBlockTest, BlockTxLimitIsEnforced) {
  Fixture f;
  f.mutable_genesis().mutable_params()->set_max_block_txs(2);
  Chain chain(f);
  auto out =
      chain.Apply({AnchorId(f, "a", kT1), AnchorId(f, "b", kT1), AnchorId(f, "c", kT1)}, kT1);
  EXPECT_EQ(Decode(out.receipts[1]).code(), v1::OK);
  EXPECT_EQ(Decode(out.receipts[2]).code(), v1::INVALID_ARGUMENT);
  EXPECT_FALSE(GetCertificate(chain.state(), "c")->has_value());
}

}  // namespace
}  // namespace cl::contracts::testing
