#pragma once
// CLI11 checks for numeric options, with messages that say what is allowed
// (CLI::PositiveNumber prints a range up to 1.8e308 and lets NaN through).
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <string>

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

// A finite number > 0.
inline CLI::Validator finitePositive() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (end == text.c_str() || *end != '\0' || !std::isfinite(v) || !(v > 0.0))
          return "must be a finite number > 0 (got " + text + ")";
        return "";
      },
      "POSITIVE");
}

}  // namespace activediff::cli
