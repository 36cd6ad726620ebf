// Executor::Apply cost per transaction, by type: a block of kTxs txs of one
// kind is applied over the same prepared state each iteration (Apply does not
// modify its input state). "/verify" includes Ed25519 verification by the
// executor; "/presigned" passes presigned_ok as the node does after verifying
// in parallel, so it measures the contracts alone.
#include <benchmark/benchmark.h>

#include "tests/contracts/fixture.h"

namespace cl::contracts::testing {
namespace {

constexpr int kTxs = 200;
constexpr int64_t kT = kGenesisTimeMs + 10 * kDayMs;

struct Prepared {
  Fixture f;
  std::unique_ptr<Chain> chain;
  std::vector<Bytes> txs;
};

Bytes Citizen(const Fixture& f, int i) { return f.HolderRef("citizen-" + std::to_string(i)); }

std::unique_ptr<Prepared> Prepare(const std::string& kind) {
  auto p = std::make_unique<Prepared>();
  Fixture& f = p->f;
  p->chain = std::make_unique<Chain>(f);
  std::vector<Bytes> setup = {f.DefineService("HRSS/admin", kT, PensionClaimMatter())};
  for (int i = 0; i < kTxs; ++i) {
    Bytes ref = Citizen(f, i);
    std::string key = "citizen-key-" + std::to_string(i);
    setup.push_back(f.RegisterHolder("PSB/identity", kT, ref, key));
    if (kind != "request") continue;
    std::string s = std::to_string(i);
    setup.push_back(f.Anchor(
        "PSB/issuer", kT,
        f.Cert("id-" + s, "ID_CARD", "PSB", ref, kGenesisTimeMs, 0, {{"birth_year", "1960"}})));
    setup.push_back(f.Anchor("HRSS/issuer", kT,
                             f.Cert("si-" + s, "SOCIAL_INS", "HRSS", ref, kT - kDayMs, 0,
                                    {{"contribution_years", "30"}})));
    setup.push_back(
        f.Anchor("PSB/issuer", kT, f.Cert("hk-" + s, "HUKOU", "PSB", ref, kGenesisTimeMs)));
    setup.push_back(f.Grant(
        key, kT,
        f.GrantMsg("g-" + s, ref, "HRSS", {"identity", "social_insurance", "household_register"},
                   kT, kT + kYearMs)));
  }
  p->chain->Apply(setup, kT);
  for (int i = 0; i < kTxs; ++i) {
    std::string s = std::to_string(i);
    Bytes ref = Citizen(f, i);
    if (kind == "anchor") {
      p->txs.push_back(
          f.Anchor("PSB/issuer", kT, f.Cert("new-" + s, "ID_CARD", "PSB", ref, kGenesisTimeMs)));
    } else if (kind == "grant") {
      p->txs.push_back(f.Grant("citizen-key-" + s, kT,
                               f.GrantMsg("bench-g-" + s, ref, "HOUSING",
                                          {"identity", "real_estate"}, kT, kT + kDayMs)));
    } else {
      auto r = f.RequestMsg("req-" + s, "PENSION_CLAIM", ref, "申领基本养老金");
      *r.add_disclosures() = f.Disclose("id-" + s, "birth_year", "1960");
      *r.add_disclosures() = f.Disclose("si-" + s, "contribution_years", "30");
      p->txs.push_back(f.Request("HRSS/service", kT, r));
    }
  }
  return p;
}

void ApplyBlock(benchmark::State& state, const std::string& kind, bool presigned) {
  auto p = Prepare(kind);
  std::vector<uint8_t> ok(p->txs.size(), 1);
  ExecInput in;
  in.prev_header = &p->chain->last_header();
  in.prev_hash = p->f.suite().Hash("prev");
  in.prev_time_ms = p->chain->time_ms();
  in.ctx = BlockContext{.height = Height(p->chain->height() + 1),
                        .time_ms = kT + 1000,
                        .proposer = NodeId(1),
                        .raft_term = RaftTerm(1),
                        .raft_index = RaftIndex(99)};
  in.txs = p->txs;
  in.state = &p->chain->state();
  in.history = p->chain->history();
  in.presigned_ok = presigned ? &ok : nullptr;
  for (auto _ : state) {
    auto out = p->chain->executor().Apply(in);
    if (!out.ok()) state.SkipWithError("apply failed");
    benchmark::DoNotOptimize(out);
  }
  // Sanity: every tx of the block is accepted (a rejected tx would be cheaper).
  auto out = p->chain->executor().Apply(in);
  for (const auto& raw : out->receipts) {
    v1::Receipt r;
    r.ParseFromString(raw);
    if (r.code() != v1::OK || (r.has_verdict() && !r.verdict().approved()))
      state.SkipWithError("tx not accepted");
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(p->txs.size()));
}

BENCHMARK_CAPTURE(ApplyBlock, anchor_verify, std::string("anchor"), false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(ApplyBlock, anchor_presigned, std::string("anchor"), true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(ApplyBlock, grant_verify, std::string("grant"), false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(ApplyBlock, grant_presigned, std::string("grant"), true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(ApplyBlock, proof_request_verify, std::string("request"), false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(ApplyBlock, proof_request_presigned, std::string("request"), true)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cl::contracts::testing

BENCHMARK_MAIN();
