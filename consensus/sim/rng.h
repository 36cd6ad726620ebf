// The simulator's one source of randomness: a seeded xoshiro256** generator.
//
// Everything random in a simulation run (network delays, drops, crashes, the
// workload, the raft nodes' election-timeout seeds) is drawn from one Rng
// seeded from the run's seed, so a seed replays the run exactly. Never seeded
// from the clock. Not thread-safe (the simulator has no threads).
//
// The generator is the raft core's own (consensus/rand.h: xoshiro256** seeded
// by SplitMix64); Rng adds the draws the simulator needs on top of it, so a
// seed gives the same sequence in both.
#pragma once

#include <cstdint>

#include "base/check.h"
#include "consensus/rand.h"

namespace cl::consensus::sim {

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}

  uint64_t Next() { return gen_.Next(); }

  // Uniform in [0, n); n > 0. No modulo bias.
  uint64_t Uniform(uint64_t n) { return gen_.Uniform(n); }
  // Uniform in [lo, hi]; lo <= hi.
  uint64_t Range(uint64_t lo, uint64_t hi) {
    CL_CHECK(lo <= hi, "Rng::Range lo > hi");
    return lo + Uniform(hi - lo + 1);
  }
  // True with probability per_million / 1e6.
  bool Chance(uint64_t per_million) { return Uniform(1000000) < per_million; }

 private:
  Xoshiro256 gen_;
};

}  // namespace cl::consensus::sim
