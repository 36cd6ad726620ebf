// The simulator's one source of randomness: a seeded xoshiro256** generator.
//
// Everything random in a simulation run (network delays, drops, crashes, the
// workload, the raft nodes' election-timeout seeds) is drawn from one Rng
// seeded from the run's seed, so a seed replays the run exactly. Never seeded
// from the clock. Not thread-safe (the simulator has no threads).
#pragma once

#include <cstdint>

#include "base/check.h"

namespace cl::consensus::sim {

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    // SplitMix64 expands the seed into the 256-bit state (never all zero).
    uint64_t x = seed;
    for (uint64_t& s : s_) {
      x += 0x9E3779B97F4A7C15ULL;
      uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      s = z ^ (z >> 31);
    }
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n); n > 0. No modulo bias.
  uint64_t Uniform(uint64_t n) {
    CL_CHECK(n > 0, "Rng::Uniform(0)");
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    for (;;) {
      const uint64_t r = Next();
      if (r < limit) return r % n;
    }
  }
  // Uniform in [lo, hi]; lo <= hi.
  uint64_t Range(uint64_t lo, uint64_t hi) {
    CL_CHECK(lo <= hi, "Rng::Range lo > hi");
    return lo + Uniform(hi - lo + 1);
  }
  // True with probability per_million / 1e6.
  bool Chance(uint64_t per_million) { return Uniform(1000000) < per_million; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace cl::consensus::sim
