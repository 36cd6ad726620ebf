// Replay: every stored verdict, re-evaluated against the state as of its
// height (the snapshot before its block plus the block's earlier txs), is the
// same verdict, byte for byte.
#include <gtest/gtest.h>

#include "contracts/queries.h"
#include "tests/contracts/determinism_gen.h"

namespace cl::contracts::testing {
namespace {

// Replays every accepted proof request of every block of `chain`; returns how many.
int ReplayAll(const Chain& chain) {
  int replayed = 0;
  for (const auto& [h, raw] : chain.blocks()) {
    v1::Block block;
    EXPECT_TRUE(block.ParseFromString(raw));
    v1::BlockHeader hdr;
    EXPECT_TRUE(hdr.ParseFromString(block.header()));
    std::vector<Bytes> txs(block.txs().begin(), block.txs().end());
    for (int i = 0; i < block.receipts_size(); ++i) {
      v1::Receipt r;
      EXPECT_TRUE(r.ParseFromString(block.receipts(i)));
      if (!r.has_verdict()) continue;
      auto v = chain.executor().ReplayVerdict(chain.StateAt(h - 1),
                                              ReplayTarget{.height = Height(h),
                                                           .time_ms = hdr.time_ms(),
                                                           .txs = txs,
                                                           .index = static_cast<uint32_t>(i)});
      EXPECT_TRUE(v.ok()) << v.status();
      if (!v.ok()) continue;
      EXPECT_EQ(v->SerializeAsString(), r.verdict().SerializeAsString())
          << "height " << h << " tx " << i;
      auto stored = GetVerdict(chain.state(), r.verdict().request_id());
      EXPECT_EQ(stored->value().SerializeAsString(), v->SerializeAsString());
      ++replayed;
    }
  }
  return replayed;
}

TEST(ReplayTest, EveryVerdictOfARandomHistoryReplaysIdentically) {
  for (uint64_t seed : {3u, 11u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Fixture f;
    RandomWorkload gen(f, seed);
    Chain chain(f);
    for (int b = 0; b < 25; ++b) {
      auto [txs, t] = gen.NextBlock();
      chain.Apply(txs, t);
    }
    EXPECT_GT(ReplayAll(chain), 10);
  }
}

TEST(ReplayTest, ReplayUsesTheStateOfItsHeightNotToday) {
  Fixture f;
  Chain chain(f);
  const int64_t t = kGenesisTimeMs + kDayMs;
  Bytes ref = f.HolderRef("330102199001011234");
  auto service = Service(
      "CHECK", "核验", {"HOUSING"}, {"HOUSING"}, {"identity"},
      AllOf("all", {CertLeaf("身份证", "ID_CARD", {"PSB"}), ConsentLeaf("授权", {"identity"})}));
  chain.Apply({f.DefineService("HOUSING/admin", t, service),
               f.RegisterHolder("PSB/identity", t, ref, "citizen"),
               f.Anchor("PSB/issuer", t, f.Cert("id1", "ID_CARD", "PSB", ref, kGenesisTimeMs))},
              t);
  // The grant and the request share a block: replay must re-run the grant first.
  auto g = f.GrantMsg("g1", ref, "HOUSING", {"identity"}, t, t + kDayMs, 1);
  ExecOutput out =
      chain.Apply({f.Grant("citizen", t + 1000, g),
                   f.Request("HOUSING/service", t + 1000, f.RequestMsg("r1", "CHECK", ref))},
                  t + 1000);
  v1::Receipt r;
  ASSERT_TRUE(r.ParseFromString(out.receipts[1]));
  ASSERT_TRUE(r.verdict().approved());
  const uint64_t h = chain.height();
  // Later the card is revoked and the (single-use) grant is spent.
  chain.Apply({f.Revoke("PSB/issuer", t + 2000, "id1")}, t + 2000);
  std::vector<Bytes> txs;
  v1::Block block;
  ASSERT_TRUE(block.ParseFromString(chain.blocks().at(h)));
  txs.assign(block.txs().begin(), block.txs().end());
  auto replayed = chain.executor().ReplayVerdict(
      chain.StateAt(h - 1),
      ReplayTarget{.height = Height(h), .time_ms = t + 1000, .txs = txs, .index = 1});
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_TRUE(replayed->approved());
  EXPECT_EQ(replayed->SerializeAsString(), r.verdict().SerializeAsString());
  // The same question asked today is denied: the card has been revoked since.
  v1::Receipt again = chain.ApplyOne(
      f.Request("HOUSING/service", t + 3000, f.RequestMsg("r2", "CHECK", ref)), t + 3000);
  EXPECT_FALSE(again.verdict().approved());
  EXPECT_EQ(again.verdict().matters(0).leaves(0).reason(), v1::CERT_REVOKED);
  // A non-request tx cannot be replayed as a verdict.
  auto not_request = chain.executor().ReplayVerdict(
      chain.StateAt(h - 1),
      ReplayTarget{.height = Height(h), .time_ms = t + 1000, .txs = txs, .index = 0});
  EXPECT_EQ(not_request.status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace cl::contracts::testing
