#pragma once
// THE Ramachandran histogram of activediff (PRODUCT.md "Measures"): 36 x 36
// bins of 10 degrees on [-180, 180)^2, phi along rows, psi along columns.
// Every module that compares Ramachandran maps uses this class.
#include <Eigen/Core>
#include <cstdint>

namespace activediff {

constexpr int kRamachandranBins = 36;
constexpr double kRamachandranBinDeg = 10.0;
constexpr double kRamachandranMinDeg = -180.0;

// Bin of an angle in degrees; any value is wrapped into [-180, 180) first, so
// 180 falls into bin 0 with -180. -1 for non-finite input.
int ramachandranBin(double angleDeg);

class RamachandranHistogram {
 public:
  using Counts = Eigen::Matrix<double, kRamachandranBins, kRamachandranBins, Eigen::RowMajor>;
  RamachandranHistogram() { counts_.setZero(); }
  // Non-finite pairs are counted in rejected(), not in the histogram.
  void addDeg(double phiDeg, double psiDeg, double weight = 1.0);
  void addRad(double phiRad, double psiRad, double weight = 1.0);
  const Counts& counts() const { return counts_; }
  double total() const { return total_; }
  std::int64_t rejected() const { return rejected_; }
  // Counts / total (all zero when empty).
  Counts probabilities() const;

 private:
  Counts counts_;
  double total_ = 0.0;
  std::int64_t rejected_ = 0;
};

}  // namespace activediff
