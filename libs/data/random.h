// Pseudo-random numbers that are the same on every machine, compiler and
// standard library (std::uniform_int_distribution and std::shuffle are not):
// SplitMix64 (Steele, Lea and Flood, 2014) and an unbiased draw below a
// bound. Sampling that users reproduce by seed builds on these alone.
//
// Thread-safety: a SplitMix64 is a plain value; use one per thread.
#ifndef TRANSAXX_LIBS_DATA_RANDOM_H_
#define TRANSAXX_LIBS_DATA_RANDOM_H_

#include <cstdint>

namespace transaxx::data {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  // The next 64 random bits: the state advances by 0x9e3779b97f4a7c15 and
  // is mixed by two xor-shift-multiply rounds.
  uint64_t Next() {
    uint64_t z = state_ += 0x9e3779b97f4a7c15;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

// A uniform draw from [0, bound): draws x = rng.Next() until x is not among
// the 2^64 mod bound smallest values, then returns x mod bound. The rejected
// values are those that would make small remainders more likely.
// REQUIRES: bound >= 1.
inline uint64_t UniformBelow(SplitMix64& rng, uint64_t bound) {
  const uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
  for (;;) {
    const uint64_t x = rng.Next();
    if (x >= threshold) return x % bound;
  }
}

}  // namespace transaxx::data

#endif  // TRANSAXX_LIBS_DATA_RANDOM_H_
