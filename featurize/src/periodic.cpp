#include "activediff/featurize/periodic.h"

#include <algorithm>
#include <cmath>

#include "activediff/featurize/geometry.h"

namespace activediff {

void BranchCutHistogram::add(double angleRad) {
  if (!std::isfinite(angleRad)) return;
  const double fromStart = unwrapFromCutRad(angleRad, -kPi) + kPi;  // [0, 2 pi)
  int bin = static_cast<int>(std::floor(fromStart / (2.0 * kPi) * kBranchCutBins));
  bin = std::clamp(bin, 0, kBranchCutBins - 1);
  ++counts_[bin];
  ++total_;
}

double BranchCutHistogram::cutRad() const {
  const auto least = std::min_element(counts_.begin(), counts_.end()) - counts_.begin();
  const double binWidth = 2.0 * kPi / kBranchCutBins;
  return -kPi + (static_cast<double>(least) + 0.5) * binWidth;
}

double unwrapFromCutRad(double angleRad, double cutRad) {
  double offset = std::fmod(angleRad - cutRad, 2.0 * kPi);
  if (offset < 0.0) offset += 2.0 * kPi;
  if (offset >= 2.0 * kPi) offset = 0.0;  // fmod rounding at the seam
  return cutRad + offset;
}

double wrapAngleRad(double angleRad) { return wrapToPiRad(angleRad); }

}  // namespace activediff
