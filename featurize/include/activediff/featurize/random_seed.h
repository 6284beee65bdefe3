#pragma once
// One seed policy for every command, as in GROMACS: --seed -1 draws a seed,
// which the command then records in its outputs; anything below -1 is an
// error. (A drawn seed stays below 2^31 - 1 so that OpenMM's int seeds take it.)
#include <cstdint>
#include <random>
#include <string>

#include "activediff/featurize/error.h"

namespace activediff {

inline constexpr std::int64_t kRandomSeedRequest = -1;

// Throws for a seed below -1 (naming the option).
inline void checkSeed(std::int64_t seed, const std::string& option = "--seed") {
  if (seed < kRandomSeedRequest) {
    throw Error(option, "must be >= 0, or -1 for a random seed (got " + std::to_string(seed) + ")");
  }
}

// The seed to use: the given one, or a freshly drawn one for -1.
inline std::int64_t resolveSeed(std::int64_t seed, const std::string& option = "--seed") {
  checkSeed(seed, option);
  if (seed != kRandomSeedRequest) return seed;
  std::random_device entropy;
  return std::uniform_int_distribution<std::int64_t>(0, 2147483646)(entropy);
}

}  // namespace activediff
