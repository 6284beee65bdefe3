#pragma once
// The one summary of a sample of numbers (energies, ...) that every CLI
// output uses: count, non-finite count, mean, standard deviation, min, max
// and the 5/25/50/75/95 % quantiles (linear interpolation) of the finite values.
#include <nlohmann/json.hpp>
#include <vector>

namespace activediff::cli {

// Quantile q in [0, 1] of sorted finite values, linearly interpolated.
double quantileOfSorted(const std::vector<double>& sorted, double q);

// null entries where there is no finite value.
nlohmann::json distributionSummary(const std::vector<double>& values);

}  // namespace activediff::cli
