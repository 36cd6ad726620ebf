// Determinism: seeded random transaction sequences (valid and invalid mixed)
// applied by two executors, by one that restarts half-way, and re-applied
// block by block from state snapshots, must give byte-identical blocks,
// receipts, write sets and state. A failure prints the seed.
#include <gtest/gtest.h>

#include <random>

#include "crypto/domain.h"
#include "tests/contracts/determinism_gen.h"

namespace cl::contracts::testing {
namespace {

constexpr int kBlocks = 30;

TEST(DeterminismTest, TwoExecutorsRestartAndReapplyAgree) {
  for (uint64_t seed : {1u, 7u, 2024u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Fixture f;
    RandomWorkload gen(f, seed);
    std::vector<std::pair<std::vector<Bytes>, int64_t>> blocks;
    for (int b = 0; b < kBlocks; ++b) blocks.push_back(gen.NextBlock());

    Chain a(f), b2(f), c(f);
    std::map<v1::ResultCode, int> codes;
    for (int i = 0; i < kBlocks; ++i) {
      if (i == kBlocks / 2) c.Restart();
      ExecOutput oa = a.Apply(blocks[i].first, blocks[i].second);
      ExecOutput ob = b2.Apply(blocks[i].first, blocks[i].second);
      ExecOutput oc = c.Apply(blocks[i].first, blocks[i].second);
      ASSERT_EQ(oa.block, ob.block) << "block " << i + 1;
      ASSERT_EQ(oa.block, oc.block) << "block " << i + 1 << " after restart";
      ASSERT_EQ(oa.writes, ob.writes);
      ASSERT_EQ(oa.writes, oc.writes);
      ASSERT_EQ(oa.history_nodes, oc.history_nodes);
      for (const auto& raw : oa.receipts) {
        v1::Receipt r;
        ASSERT_TRUE(r.ParseFromString(raw));
        ++codes[r.code()];
      }
    }
    EXPECT_EQ(a.state().contents(), b2.state().contents());
    EXPECT_EQ(a.state().contents(), c.state().contents());
    // The workload exercises both acceptance and the main rejection paths.
    EXPECT_GT(codes[v1::OK], 50);
    for (auto code :
         {v1::MALFORMED, v1::DUPLICATE_TX, v1::TX_EXPIRED, v1::PERMISSION_DENIED, v1::NOT_FOUND}) {
      EXPECT_GT(codes[code], 0) << v1::ResultCode_Name(code);
    }

    // Re-applying any block on the snapshot before it, with a fresh executor
    // (a node recovering from its last durable apply), gives the same bytes.
    for (int i = 0; i < kBlocks; i += 7) {
      auto ex = Executor::Create(f.genesis(), f.suite_ptr()).value();
      const uint64_t h = static_cast<uint64_t>(i) + 1;
      v1::Block stored;
      ASSERT_TRUE(stored.ParseFromString(a.blocks().at(h)));
      v1::BlockHeader hdr;
      ASSERT_TRUE(hdr.ParseFromString(stored.header()));
      ExecInput in;
      v1::BlockHeader prev;
      if (h > 1) {
        v1::Block pb;
        ASSERT_TRUE(pb.ParseFromString(a.blocks().at(h - 1)));
        ASSERT_TRUE(prev.ParseFromString(pb.header()));
        in.prev_header = &prev;
        in.prev_hash = f.suite().Hash(pb.header());
        in.prev_time_ms = prev.time_ms();
        // Rebuild the frontier from the tx ids of all earlier blocks.
        for (uint64_t k = 1; k < h; ++k) {
          v1::Block kb;
          ASSERT_TRUE(kb.ParseFromString(a.blocks().at(k)));
          for (const auto& tx : kb.txs()) {
            in.history.Append(f.suite(),
                              crypto::MerkleLeafHash(f.suite(), TxIdOf(f.suite(), tx).view()),
                              nullptr);
          }
        }
      } else {
        in.prev_hash = a.genesis_hash();
        in.prev_time_ms = kGenesisTimeMs;
      }
      in.ctx = BlockContext{.height = Height(h),
                            .time_ms = blocks[i].second,
                            .proposer = NodeId(hdr.proposer()),
                            .raft_term = RaftTerm(hdr.raft_term()),
                            .raft_index = RaftIndex(hdr.raft_index())};
      std::vector<Bytes> txs(stored.txs().begin(), stored.txs().end());
      in.txs = txs;
      in.state = &a.StateAt(h - 1);
      auto out = ex->Apply(in);
      ASSERT_TRUE(out.ok()) << out.status();
      EXPECT_EQ(out->block, a.blocks().at(h)) << "re-applied block " << h;
      MemState after = a.StateAt(h - 1);
      after.Apply(out->writes);
      EXPECT_EQ(after.contents(), a.StateAt(h).contents()) << "state after re-applied block " << h;
    }
  }
}

// Bad input never crashes the executor: bodies of valid txs with random bytes
// flipped, re-signed by real members (so they reach the contracts), give a
// receipt with a defined code each, identically on two executors.
TEST(DeterminismTest, MutatedBodiesSignedByMembersYieldReceipts) {
  Fixture f;
  RandomWorkload gen(f, 99);
  std::mt19937_64 rng(99);
  const std::vector<std::string> signers = {"PSB/admin",   "PSB/issuer",      "PSB/identity",
                                            "HRSS/service", "HOUSING/verifier", "AMR/issuer"};
  Chain a(f), b(f);
  int contract_outcomes = 0;
  for (int block = 0; block < 20; ++block) {
    auto [txs, t] = gen.NextBlock();
    std::vector<Bytes> mutated;
    for (const auto& raw : txs) {
      v1::SignedTx tx;
      if (!tx.ParseFromString(raw)) continue;
      v1::TxBody body;
      if (!body.ParseFromString(tx.body())) continue;
      body.set_valid_until_ms(t + 1000);
      body.set_chain_id(std::string(kChainId));
      Bytes bytes = body.SerializeAsString();
      if (!bytes.empty()) bytes[rng() % bytes.size()] ^= static_cast<char>(1u << (rng() % 8));
      v1::SignedTx out;
      out.set_body(bytes);
      const std::string& signer = signers[rng() % signers.size()];
      out.set_signer(f.Pub(signer));
      out.set_signature(f.suite().Sign(f.Key(signer).secret_key, crypto::TxMessage(bytes)).value());
      for (const char* c : {"CAB/admin", "HRSS/admin"}) {
        auto* cs = out.add_cosignatures();
        cs->set_signer(f.Pub(c));
        cs->set_signature(f.suite().Sign(f.Key(c).secret_key, crypto::TxMessage(bytes)).value());
      }
      mutated.push_back(out.SerializeAsString());
    }
    ExecOutput oa = a.Apply(mutated, t);
    ExecOutput ob = b.Apply(mutated, t);
    ASSERT_EQ(oa.block, ob.block);
    for (const auto& raw : oa.receipts) {
      v1::Receipt r;
      ASSERT_TRUE(r.ParseFromString(raw));
      EXPECT_NE(r.code(), v1::RESULT_CODE_UNSPECIFIED);
      EXPECT_FALSE(r.message().empty());
      if (r.code() != v1::MALFORMED && r.code() != v1::WRONG_CHAIN && r.code() != v1::TX_EXPIRED) {
        ++contract_outcomes;
      }
    }
  }
  EXPECT_EQ(a.state().contents(), b.state().contents());
  EXPECT_GT(contract_outcomes, 20);
}

TEST(DeterminismTest, DifferentInputOrderGivesADifferentBlock) {
  Fixture f;
  Chain a(f), b(f);
  const int64_t t = kGenesisTimeMs + 1000;
  Bytes x =
      f.Anchor("PSB/issuer", t, f.Cert("x", "ID_CARD", "PSB", f.HolderRef("1"), kGenesisTimeMs));
  Bytes y =
      f.Anchor("PSB/issuer", t, f.Cert("y", "ID_CARD", "PSB", f.HolderRef("2"), kGenesisTimeMs));
  ExecOutput oa = a.Apply({x, y}, t);
  ExecOutput ob = b.Apply({y, x}, t);
  EXPECT_NE(oa.block_hash, ob.block_hash);
  EXPECT_EQ(oa.writes.size(), ob.writes.size());
}

}  // namespace
}  // namespace cl::contracts::testing
