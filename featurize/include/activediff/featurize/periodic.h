#pragma once
// Periodic features (MATH.md section 5). Each torsion keeps its own branch
// cut, placed at the centre of the least populated bin of its training
// histogram; before standardization a value is unwrapped to
// [cut, cut + 2 pi) so that the density's gap, not its bulk, sits at the
// seam. Generated values are wrapped back to (-pi, pi].
#include <cstdint>
#include <vector>

namespace activediff {

// Bins used to choose a branch cut: 36 bins of 10 degrees on [-pi, pi).
constexpr int kBranchCutBins = 36;

// Streaming histogram of one periodic feature, for choosing its cut.
class BranchCutHistogram {
 public:
  void add(double angleRad);
  std::int64_t total() const { return total_; }
  // Centre of the least populated bin (the first one on ties), in radians.
  double cutRad() const;
  const std::vector<std::int64_t>& counts() const { return counts_; }

 private:
  std::vector<std::int64_t> counts_ = std::vector<std::int64_t>(kBranchCutBins, 0);
  std::int64_t total_ = 0;
};

// Any angle -> [cutRad, cutRad + 2 pi).
double unwrapFromCutRad(double angleRad, double cutRad);
// Any angle -> (-pi, pi].
double wrapAngleRad(double angleRad);

}  // namespace activediff
