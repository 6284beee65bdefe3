#include "activediff/featurize/populations.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "activediff/featurize/error.h"

namespace activediff {

double integratedAutocorrelationTime(const std::vector<double>& series) {
  const std::size_t n = series.size();
  if (n < 2) return 0.5;
  double mean = 0.0;
  for (double x : series) mean += x;
  mean /= static_cast<double>(n);
  std::vector<double> centred(n);
  double variance = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    centred[i] = series[i] - mean;
    variance += centred[i] * centred[i];
  }
  variance /= static_cast<double>(n);
  if (variance <= 0.0) return 0.5;  // constant series: no information either way
  double tau = 0.5;
  constexpr double kWindowFactor = 5.0;
  for (std::size_t lag = 1; lag < n / 2; ++lag) {
    double c = 0.0;
    for (std::size_t i = 0; i + lag < n; ++i) c += centred[i] * centred[i + lag];
    tau += c / (static_cast<double>(n - lag) * variance);
    if (static_cast<double>(lag) >= kWindowFactor * tau) break;
  }
  return std::max(0.5, tau);
}

constexpr double kBlockPerTau = 5.0;

Populations populationsWithConfidence(const std::vector<int>& labels, int categories, SampleCorrelation correlation,
                                      const BootstrapOptions& options) {
  const auto n = static_cast<std::int64_t>(labels.size());
  if (n == 0) throw Error("state populations: no samples");
  if (categories <= 0) throw Error("state populations: no categories");
  if (options.resamples < 10) throw Error("state populations: need at least 10 bootstrap resamples");
  for (int label : labels)
    if (label < 0 || label >= categories) throw Error("state populations: label out of range");

  Populations result;
  result.samples = n;
  result.resamples = options.resamples;
  result.confidence = options.confidence;
  int block = options.blockLength;
  if (block <= 0) {
    block = 1;
    if (correlation == SampleCorrelation::CorrelatedTimeSeries) {
      double tau = 0.5;
      std::vector<double> indicator(labels.size());
      for (int c = 0; c < categories; ++c) {
        for (std::size_t i = 0; i < labels.size(); ++i) indicator[i] = labels[i] == c ? 1.0 : 0.0;
        tau = std::max(tau, integratedAutocorrelationTime(indicator));
      }
      block = static_cast<int>(std::ceil(kBlockPerTau * tau));
    }
  }
  block = static_cast<int>(std::clamp<std::int64_t>(block, 1, n));
  result.blockLength = block;

  // prefix[c][i] = count of label c in the circular series before position i.
  const std::int64_t extended = n + block;
  std::vector<std::vector<std::int32_t>> prefix(categories, std::vector<std::int32_t>(extended + 1, 0));
  for (std::int64_t i = 0; i < extended; ++i) {
    const int label = labels[i % n];
    for (int c = 0; c < categories; ++c) prefix[c][i + 1] = prefix[c][i] + (label == c ? 1 : 0);
  }
  for (int c = 0; c < categories; ++c) result.categories.push_back({prefix[c][n] / static_cast<double>(n), 0, 0});

  std::mt19937_64 rng(options.seed);
  std::uniform_int_distribution<std::int64_t> start(0, n - 1);
  const std::int64_t blocks = (n + block - 1) / block;
  std::vector<std::vector<double>> fractions(categories, std::vector<double>(options.resamples));
  std::vector<std::int64_t> counts(categories);
  for (int r = 0; r < options.resamples; ++r) {
    std::fill(counts.begin(), counts.end(), 0);
    std::int64_t taken = 0;
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::int64_t s = start(rng);
      const std::int64_t length = std::min<std::int64_t>(block, n - taken);  // last block trimmed to n samples
      for (int c = 0; c < categories; ++c) counts[c] += prefix[c][s + length] - prefix[c][s];
      taken += length;
    }
    for (int c = 0; c < categories; ++c) fractions[c][r] = counts[c] / static_cast<double>(n);
  }
  const double tail = 0.5 * (1.0 - options.confidence);
  auto quantile = [](std::vector<double>& v, double q) {
    std::sort(v.begin(), v.end());
    const double position = q * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(position));
    const std::size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (position - static_cast<double>(lo)) * (v[hi] - v[lo]);
  };
  for (int c = 0; c < categories; ++c) {
    result.categories[c].ciLow = quantile(fractions[c], tail);
    result.categories[c].ciHigh = quantile(fractions[c], 1.0 - tail);
  }
  return result;
}

Populations statePopulations(const std::vector<double>& phiRad, const std::vector<double>& psiRad,
                             SampleCorrelation correlation, const BootstrapOptions& options) {
  if (phiRad.size() != psiRad.size()) throw Error("state populations: phi and psi have different lengths");
  std::vector<int> labels(phiRad.size());
  for (std::size_t i = 0; i < phiRad.size(); ++i) labels[i] = static_cast<int>(classifyStateRad(phiRad[i], psiRad[i]));
  return populationsWithConfidence(labels, kMetastableStateCount, correlation, options);
}

}  // namespace activediff
