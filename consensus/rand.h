// A small deterministic pseudo-random generator for the raft core.
//
// The core draws randomized election timeouts (Raft paper §5.2: "election
// timeouts are chosen randomly from a fixed interval") from this generator,
// seeded from Config::random_seed, so a run is reproducible from its seed.
// It is xoshiro256** (Blackman & Vigna) with its state expanded from the seed
// by SplitMix64, the seeding the authors recommend. Not cryptographic.
//
// Thread-safety: none. Value type; copying it forks the sequence.
#pragma once

#include <cstdint>

#include "base/check.h"

namespace cl::consensus {

// SplitMix64: used to expand a 64-bit seed into generator state.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : x_(seed) {}
  uint64_t Next() {
    uint64_t z = (x_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t x_;
};

class Xoshiro256 {
 public:
  explicit Xoshiro256(uint64_t seed) {
    SplitMix64 sm(seed);
    for (uint64_t& w : s_) w = sm.Next();
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

  // A value in [0, n), n > 0, without modulo bias (rejects the top partial range).
  uint64_t Uniform(uint64_t n) {
    CL_CHECK(n > 0, "Uniform(0)");
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    for (;;) {
      const uint64_t r = Next();
      if (r < limit) return r % n;
    }
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace cl::consensus
