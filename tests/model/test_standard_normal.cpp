// The ziggurat normal generator: distribution (bin probabilities including
// the tail beyond the base layer, moments) and determinism.
#include <gtest/gtest.h>

#include <cmath>

#include "activediff/model/layout.h"

namespace activediff::model {
namespace {

double normalCdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

TEST(StandardNormal, BinProbabilitiesAndMomentsMatchN01) {
  const int n = 4000000;
  Eigen::ArrayXXd a(n / 4, 4);
  Rng rng(99);
  fillStandardNormal(a, rng);
  EXPECT_NEAR(a.mean(), 0.0, 0.003);
  EXPECT_NEAR(a.square().mean(), 1.0, 0.004);
  EXPECT_NEAR(a.pow(4).mean(), 3.0, 0.03);
  // Chi-square over 0.25-wide bins on [-5, 5] plus the two tails.
  const int bins = 40;
  Eigen::ArrayXd counts = Eigen::ArrayXd::Zero(bins + 2);
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    const double x = a.data()[i];
    const int b = x < -5.0 ? 0 : x >= 5.0 ? bins + 1 : 1 + static_cast<int>((x + 5.0) / 0.25);
    counts(std::min(b, bins)) += 1;
  }
  double chi2 = 0.0;
  for (int b = 0; b < bins + 2; ++b) {
    const double lo = b == 0 ? -INFINITY : -5.0 + (b - 1) * 0.25;
    const double hi = b == bins + 1 ? INFINITY : b == 0 ? -5.0 : lo + 0.25;
    const double expected = n * (normalCdf(hi) - normalCdf(lo));
    if (expected < 5) continue;
    chi2 += (counts(b) - expected) * (counts(b) - expected) / expected;
  }
  EXPECT_LT(chi2, 90.0);  // ~40 degrees of freedom: p ~ 1e-5
  // The tail beyond the base layer's r = 3.44 has its exact weight.
  const double beyond = (a.abs() > 3.6).cast<double>().sum() / n;
  EXPECT_NEAR(beyond, 2.0 * (1.0 - normalCdf(3.6)), 6e-5);
}

TEST(StandardNormal, DeterministicForASeed) {
  Eigen::ArrayXXd a(100, 3), b(100, 3);
  Rng r1(5), r2(5);
  fillStandardNormal(a, r1);
  fillStandardNormal(b, r2);
  EXPECT_EQ(a.matrix(), b.matrix());
}

}  // namespace
}  // namespace activediff::model
