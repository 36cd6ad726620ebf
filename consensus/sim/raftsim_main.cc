// raftsim: runs the deterministic raft simulator over a range of seeds.
//
//   raftsim --seeds N --start S [--nodes 3|5|7] [--bug NAME] [--trace]
//
// Exits 0 when every seed passes. On the first failing seed it prints the
// violated invariant, the last lines of the run's trace (replayed with tracing
// on; the run is deterministic) and the command that replays it exactly, and
// exits 1. --trace prints every event of every run.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "consensus/sim/simulator.h"

namespace {

using cl::consensus::sim::BugNames;
using cl::consensus::sim::NodesForSeed;
using cl::consensus::sim::ReplayCommand;
using cl::consensus::sim::RunSimulation;
using cl::consensus::sim::SimOptions;
using cl::consensus::sim::SimResult;

constexpr size_t kTraceTail = 200;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Deterministic raft simulator: seeded faults, invariants checked after every step"};
  uint64_t seeds = 100;
  uint64_t start = 1;
  int nodes = 0;
  std::string bug;
  bool trace = false;
  bool quiet = false;
  uint64_t chaos_ticks = SimOptions().chaos_ticks;
  app.add_option("--seeds", seeds, "number of seeds to run")->check(CLI::Range(1ULL, 100000000ULL));
  app.add_option("--start", start, "first seed");
  app.add_option("--nodes", nodes, "initial voters (default: 3, 5, 7 by seed)")
      ->check(CLI::Range(1, 7));
  app.add_option("--bug", bug, "enable one test-only raft bug")->check(CLI::IsMember(BugNames()));
  app.add_option("--chaos-ticks", chaos_ticks, "ticks of faults and workload per seed");
  app.add_flag("--trace", trace, "print every event of every run");
  app.add_flag("--quiet", quiet, "print only failures and the summary");
  CLI11_PARSE(app, argc, argv);

  uint64_t steps = 0, committed = 0, acknowledged = 0, crashes = 0, conf_changes = 0;
  for (uint64_t seed = start; seed < start + seeds; ++seed) {
    SimOptions options{.seed = seed,
                       .nodes = nodes > 0 ? nodes : NodesForSeed(seed),
                       .bug = bug,
                       .chaos_ticks = chaos_ticks,
                       .trace = trace};
    SimResult r = RunSimulation(options);
    if (trace) {
      for (const std::string& line : r.trace) std::cout << line << "\n";
    }
    steps += r.steps;
    committed += r.committed;
    acknowledged += r.acknowledged;
    crashes += r.crashes;
    conf_changes += r.conf_changes;
    if (!r.ok) {
      if (!trace) {
        options.trace = true;
        const SimResult replay = RunSimulation(options);
        const size_t from = replay.trace.size() > kTraceTail ? replay.trace.size() - kTraceTail : 0;
        std::cout << "---- last " << replay.trace.size() - from << " trace lines of seed " << seed
                  << " ----\n";
        for (size_t i = from; i < replay.trace.size(); ++i) std::cout << replay.trace[i] << "\n";
      }
      std::cout << "FAILED seed " << seed << " (" << options.nodes << " nodes"
                << (bug.empty() ? "" : ", bug " + bug) << "): " << r.failure << "\n"
                << "replay: " << ReplayCommand(options) << "\n";
      return 1;
    }
    if (!quiet && !trace) {
      std::cout << "seed " << seed << " ok: " << options.nodes << " nodes, " << r.steps
                << " steps, " << r.committed << " committed, " << r.acknowledged
                << " acknowledged, max term " << r.max_term << ", " << r.crashes << " crashes, "
                << r.conf_changes << " conf changes\n";
    }
  }
  std::cout << "all " << seeds << " seeds passed (" << start << ".." << start + seeds - 1
            << "): " << steps << " steps, " << committed << " entries committed, " << acknowledged
            << " proposals acknowledged, " << crashes << " crashes, " << conf_changes
            << " conf changes\n";
  return 0;
}
