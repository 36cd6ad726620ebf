// Helpers shared by the simulator's seed-suite tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "consensus/sim/simulator.h"

namespace cl::consensus::sim {

// How a failed seed is reported: the violation, the replay command and the
// tail of the run's trace (the run is replayed with tracing on).
inline std::string FailureReport(const SimOptions& options, const SimResult& r) {
  SimOptions traced = options;
  traced.trace = true;
  const SimResult replay = RunSimulation(traced);
  std::string out = "seed " + std::to_string(options.seed) + " (" + std::to_string(options.nodes) +
                    " nodes" + (options.bug.empty() ? "" : ", bug " + options.bug) +
                    "): " + r.failure + "\nreplay: " + ReplayCommand(options) + "\n";
  const size_t tail = 60;
  const size_t from = replay.trace.size() > tail ? replay.trace.size() - tail : 0;
  for (size_t i = from; i < replay.trace.size(); ++i) out += replay.trace[i] + "\n";
  return out;
}

}  // namespace cl::consensus::sim
