// Fisher memory and speciation time (MATH.md 6).
#include <gtest/gtest.h>

#include <cmath>

#include "activediff/featurize/error.h"
#include "activediff/model/memory_analysis.h"

namespace activediff::model {
namespace {

TEST(FisherMemory, PassiveIsExpMinus2ktOverSigma2) {
  const double k = 1.3, temperature = 0.7;
  const VanLoanKernel kernel(LinearSde::passive(k, temperature));
  for (double t : {1e-4, 1e-2, 0.5, 2.0, 6.0}) {
    const double sigma2 = -temperature / k * std::expm1(-2 * k * t);
    const double expected = std::exp(-2 * k * t) / sigma2;
    EXPECT_NEAR(fisherMemory(kernel, t), expected, 1e-12 * expected) << t;
  }
}

TEST(FisherMemory, LargerTauDecaysMoreSlowly) {
  // Equal stationary Var(x) = 1 (Ta = k (1 + k tau)), as in the fair comparison.
  const double k = 1.0;
  const std::vector<double> taus = {0.1, 0.25, 0.5, 1.0, 2.0};
  for (double t : {0.05, 0.2, 0.5, 1.0, 2.0, 4.0}) {
    double previous = fisherMemory(VanLoanKernel(LinearSde::passive(k, 1.0)), t);
    for (double tau : taus) {
      const double j = fisherMemory(VanLoanKernel(LinearSde::active(k, tau, k * (1 + k * tau))), t);
      EXPECT_GT(j, previous) << "t " << t << " tau " << tau;
      previous = j;
    }
  }
}

TEST(SpeciationTime, ActiveSpeciatesEarlierInReverseThanPassive) {
  // Earlier in the reverse direction = at a larger forward time.
  const LinearSde active = LinearSde::active(1.0, 0.5, 1.5, 0.0);
  const double lambda = 0.76;
  const double tActive = speciationTime(VanLoanKernel(active), lambda, 20.0);
  const double tPassive =
      speciationTime(VanLoanKernel(LinearSde::passiveMatching(active)), lambda, 20.0);
  EXPECT_GT(tActive, tPassive);
  // Passive closed form: Lambda e^{-2kt} = (T/k)(1 - e^{-2kt}) => e^{-2kt} = 1 / (1 + Lambda).
  EXPECT_NEAR(tPassive, 0.5 * std::log(1 + lambda), 1e-10);
  EXPECT_THROW(speciationTime(VanLoanKernel(active), lambda, 1e-3), Error);
}

}  // namespace
}  // namespace activediff::model
