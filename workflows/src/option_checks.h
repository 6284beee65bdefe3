#pragma once
// CLI11 checks for numeric options, with messages that say what is allowed
// (CLI::PositiveNumber prints a range up to 1.8e308 and lets NaN through).
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "activediff/featurize/random_seed.h"

namespace activediff::cli {

// An integer >= minimum.
inline CLI::Validator atLeast(long long minimum) {
  return CLI::Validator(
      [minimum](std::string& text) -> std::string {
        char* end = nullptr;
        const long long v = std::strtoll(text.c_str(), &end, 10);
        if (end == text.c_str() || *end != '\0' || v < minimum)
          return "must be an integer >= " + std::to_string(minimum) + " (got " + text + ")";
        return "";
      },
      ">=" + std::to_string(minimum));
}

// A finite number > 0, or (allowZero) >= 0.
inline CLI::Validator finitePositive(bool allowZero = false) {
  return CLI::Validator(
      [allowZero](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        const bool inRange = allowZero ? v >= 0.0 : v > 0.0;
        if (end == text.c_str() || *end != '\0' || !std::isfinite(v) || !inRange)
          return std::string("must be a finite number ") + (allowZero ? ">= 0" : "> 0") + " (got " + text + ")";
        return "";
      },
      allowZero ? "NONNEGATIVE" : "POSITIVE");
}
// A finite number >= 0.
inline CLI::Validator finiteNonNegative() { return finitePositive(true); }

// A --seed option under the one seed policy (random_seed.h): -1 is drawn now,
// so that the effective config of every output records the seed used, and
// said on stderr. Returns whether the seed was drawn.
inline bool resolveSeedOption(std::optional<std::int64_t>& seed, const std::string& command,
                              const std::string& configKey) {
  if (!seed) return false;
  const bool drawn = *seed == kRandomSeedRequest;
  seed = resolveSeed(*seed);
  if (drawn) std::cerr << command << ": --seed -1: using random seed " << *seed << " (" << configKey << ")\n";
  return drawn;
}

}  // namespace activediff::cli
