#include "activediff/featurize/ramachandran.h"

#include <cmath>

#include "activediff/featurize/geometry.h"

namespace activediff {

int ramachandranBin(double angleDeg) {
  if (!std::isfinite(angleDeg)) return -1;
  double wrapped = std::fmod(angleDeg - kRamachandranMinDeg, 360.0);
  if (wrapped < 0.0) wrapped += 360.0;
  int bin = static_cast<int>(std::floor(wrapped / kRamachandranBinDeg));
  if (bin >= kRamachandranBins) bin = 0;  // fmod rounding just below 360
  return bin;
}

void RamachandranHistogram::addDeg(double phiDeg, double psiDeg, double weight) {
  const int i = ramachandranBin(phiDeg), j = ramachandranBin(psiDeg);
  if (i < 0 || j < 0 || !std::isfinite(weight)) {
    ++rejected_;
    return;
  }
  counts_(i, j) += weight;
  total_ += weight;
}

void RamachandranHistogram::addRad(double phiRad, double psiRad, double weight) {
  addDeg(phiRad * kDegPerRad, psiRad * kDegPerRad, weight);
}

RamachandranHistogram::Counts RamachandranHistogram::probabilities() const {
  if (total_ <= 0.0) return Counts::Zero();
  return counts_ / total_;
}

}  // namespace activediff
