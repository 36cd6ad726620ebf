// The deterministic raft simulator: a seeded cluster of raft nodes (RawNode
// from consensus/raft.h) over a simulated network (network.h) with simulated
// disks (disk.h), driven by one seeded Rng, checked after every step by the
// invariant checker (checker.h).
//
// One run (one seed):
//   1. chaos: for chaos_ticks ticks the network drops, delays, duplicates and
//      reorders messages and makes symmetric and asymmetric partitions; nodes
//      crash (also in the middle of handling a Ready, losing unsynced writes)
//      and restart from their durable disk; clients propose; the cluster adds
//      learners, promotes, demotes and removes nodes (simple and joint
//      changes); leaders transfer; nodes compact their logs.
//   2. heal: partitions end, crashed nodes restart, the network turns reliable.
//   3. liveness: a stable leader must appear within leader_timeouts election
//      timeouts, then a marker proposal must commit and every member of the
//      configuration must apply the same sequence (the canonical committed
//      one, which holds every acknowledged proposal) within
//      converge_timeouts election timeouts.
// The run stops at the first violation. The same options give the same run,
// byte for byte, with no clock, thread or other randomness involved.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "consensus/raft.h"

namespace cl::consensus::sim {

struct SimOptions {
  uint64_t seed = 1;
  int nodes = 3;                    // initial voters, 1..7 (the suite uses 3, 5, 7)
  std::string bug;                  // "" or one of BugNames()
  uint64_t chaos_ticks = 250;       // ticks with faults and workload
  uint64_t leader_timeouts = 20;    // after healing: a stable leader within this many
  uint64_t converge_timeouts = 40;  // after healing: convergence within this many
  bool trace = false;               // record every event into SimResult::trace
};

struct SimResult {
  bool ok = false;
  std::string failure;        // the violated invariant (when !ok)
  uint64_t steps = 0;         // events processed (deliveries, ticks, requests)
  uint64_t committed = 0;     // length of the canonical committed sequence
  uint64_t proposals = 0;     // proposals accepted by a node
  uint64_t acknowledged = 0;  // proposals applied by the node they were made on
  uint64_t max_term = 0;      // highest term that had a leader
  uint64_t crashes = 0;
  uint64_t conf_changes = 0;  // configuration changes applied (on any node, counted once)
  uint64_t snapshots_installed = 0;
  std::vector<std::string> trace;  // every event, when options.trace
};

// Names accepted by SimOptions::bug and `raftsim --bug`: the TestingBugs fields.
const std::vector<std::string>& BugNames();
// Sets the named field of *bugs; INVALID_ARGUMENT for an unknown name.
Status EnableBug(std::string_view name, TestingBugs* bugs);

// The cluster size the suite uses for a seed when none is given: 3, 5, 7, 3, ...
inline int NodesForSeed(uint64_t seed) { return 3 + 2 * static_cast<int>(seed % 3); }

SimResult RunSimulation(const SimOptions& options);

// The command line that replays `options` exactly, with a full trace.
std::string ReplayCommand(const SimOptions& options);

}  // namespace cl::consensus::sim
