#pragma once
// THE state populations with 95 % confidence intervals of activediff.
// Populations are fractions of samples per category (e.g. MetastableState).
// Intervals are percentile bootstrap intervals:
//  - Correlated samples (consecutive MD frames): circular block bootstrap
//    (Politis & Romano 1992); blocks keep the time correlation that a plain
//    bootstrap would destroy (it would give far too narrow intervals). The
//    block length defaults to 5x the largest integrated autocorrelation time
//    of the category indicators (Sokal's automatic window, c = 5).
//  - Independent samples (generated structures): plain bootstrap (block 1).
#include <cstdint>
#include <vector>

#include "activediff/featurize/states.h"

namespace activediff {

enum class SampleCorrelation { CorrelatedTimeSeries, Independent };

struct BootstrapOptions {
  int resamples = 1000;
  double confidence = 0.95;
  std::uint64_t seed = 20241111;
  int blockLength = 0;  // 0 = automatic (correlated) or 1 (independent)
};

struct PopulationEstimate {
  double fraction = 0.0;
  double ciLow = 0.0;
  double ciHigh = 0.0;
};

struct Populations {
  std::vector<PopulationEstimate> categories;
  std::int64_t samples = 0;
  int blockLength = 1;
  int resamples = 0;
  double confidence = 0.95;
};

// labels[i] in [0, categories). Throws activediff::Error when empty or out of range.
Populations populationsWithConfidence(const std::vector<int>& labels, int categories, SampleCorrelation correlation,
                                      const BootstrapOptions& options = {});

// Metastable states of phi/psi pairs in radians (categories: MetastableState).
Populations statePopulations(const std::vector<double>& phiRad, const std::vector<double>& psiRad,
                             SampleCorrelation correlation, const BootstrapOptions& options = {});

// Integrated autocorrelation time (in samples, >= 0.5) of a series, with
// Sokal's automatic window (c = 5).
double integratedAutocorrelationTime(const std::vector<double>& series);

}  // namespace activediff
