#include "distribution_summary.h"

#include <algorithm>
#include <cmath>

namespace activediff::cli {

double quantileOfSorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return NAN;
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(position));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (position - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

nlohmann::json distributionSummary(const std::vector<double>& values) {
  std::vector<double> finite;
  std::copy_if(values.begin(), values.end(), std::back_inserter(finite), [](double v) { return std::isfinite(v); });
  std::sort(finite.begin(), finite.end());
  nlohmann::json summary = {{"n", values.size()}, {"non_finite", values.size() - finite.size()}};
  if (finite.empty()) {
    for (const char* key : {"mean", "std", "min", "q05", "q25", "median", "q75", "q95", "max"}) summary[key] = nullptr;
    return summary;
  }
  double mean = 0.0;
  for (double v : finite) mean += v / static_cast<double>(finite.size());
  double variance = 0.0;
  for (double v : finite) variance += (v - mean) * (v - mean) / static_cast<double>(finite.size());
  summary["mean"] = mean;
  summary["std"] = std::sqrt(variance);
  summary["min"] = finite.front();
  summary["q05"] = quantileOfSorted(finite, 0.05);
  summary["q25"] = quantileOfSorted(finite, 0.25);
  summary["median"] = quantileOfSorted(finite, 0.5);
  summary["q75"] = quantileOfSorted(finite, 0.75);
  summary["q95"] = quantileOfSorted(finite, 0.95);
  summary["max"] = finite.back();
  return summary;
}

}  // namespace activediff::cli
