// Parameter validation, named constructors and the passive T_eq rule.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "activediff/featurize/error.h"
#include "activediff/model/linear_sde.h"
#include "activediff/model/van_loan_kernel.h"

namespace activediff::model {
namespace {

// Expects an activediff::Error whose message names the parameter.
template <typename F>
void expectErrorNaming(F make, const std::string& name) {
  try {
    make();
    FAIL() << "no error for a bad " << name;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
  }
}

TEST(LinearSde, BadParametersAreErrorsNamingTheParameter) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  expectErrorNaming([] { LinearSde::active(1.0, 0.0, 1.0); }, "tau");
  expectErrorNaming([] { LinearSde::active(1.0, -0.5, 1.0); }, "tau");
  expectErrorNaming([&] { LinearSde::active(1.0, nan, 1.0); }, "tau");
  expectErrorNaming([] { LinearSde::active(0.0, 0.5, 1.0); }, "k");
  expectErrorNaming([] { LinearSde::active(1.0, 0.5, -1.0); }, "Ta");
  expectErrorNaming([] { LinearSde::active(1.0, 0.5, 1.0, -0.1); }, "Tp");
  expectErrorNaming([] { LinearSde::passive(-1.0, 1.0); }, "k");
  expectErrorNaming([] { LinearSde::passive(1.0, 0.0); }, "T");
  expectErrorNaming([] { LinearSde::cld(0.0, 0.25, 0.04); }, "beta");
  expectErrorNaming([] { LinearSde::cld(4.0, 0.0, 0.04); }, "M");
  expectErrorNaming([&] { LinearSde::cld(4.0, 0.25, std::numeric_limits<double>::infinity()); },
                    "gamma");
  EXPECT_NO_THROW(LinearSde::active(1.0, 0.5, 1.5, 0.0));  // Tp = 0 is allowed
}

TEST(LinearSde, BlocksAndChannels) {
  const LinearSde p = LinearSde::passive(2.0, 0.5);
  EXPECT_EQ(p.channels(), 1);
  EXPECT_EQ(p.drift()(0, 0), -2.0);
  EXPECT_EQ(p.diffusion()(0, 0), 1.0);
  EXPECT_EQ(p.drift()(1, 1), 0.0);  // padding
  EXPECT_EQ(p.auxStartVariance(), 0.0);

  const LinearSde a = LinearSde::active(1.0, 0.5, 1.5, 0.0);
  EXPECT_EQ(a.channels(), 2);
  EXPECT_EQ(a.drift()(0, 1), 1.0);
  EXPECT_EQ(a.drift()(1, 1), -2.0);
  EXPECT_DOUBLE_EQ(a.diffusion()(1, 1), 12.0);
  EXPECT_DOUBLE_EQ(a.auxStartVariance(), 3.0);
  EXPECT_FALSE(a.hasNoise(0));
  EXPECT_TRUE(a.hasNoise(1));
  EXPECT_EQ(a.channelName(1), "eta");

  const LinearSde c = LinearSde::cld(4.0, 0.25, 0.04);
  EXPECT_DOUBLE_EQ(c.drift()(0, 1), 16.0);
  EXPECT_DOUBLE_EQ(c.drift()(1, 1), -16.0);  // -beta Gamma / M, Gamma = 2 sqrt(M) = 1
  EXPECT_DOUBLE_EQ(c.diffusion()(1, 1), 8.0);
  EXPECT_DOUBLE_EQ(c.auxStartVariance(), 0.01);
  EXPECT_EQ(c.channelName(1), "v");

  const LinearSde round = LinearSde::fromParameters(a.parameters());
  EXPECT_EQ(round.drift(), a.drift());
  EXPECT_EQ(round.describe(), a.describe());
}

TEST(LinearSde, PassiveMatchingHasTheActiveStationaryVarianceOfX) {
  for (double tau : {0.1, 0.5, 1.0, 3.0})
    for (double tp : {0.0, 0.2}) {
      const LinearSde active = LinearSde::active(1.3, tau, 0.8, tp);
      const LinearSde passive = LinearSde::passiveMatching(active);
      const double activeVar = VanLoanKernel(active).stationaryCovariance()(0, 0);
      const double passiveVar = VanLoanKernel(passive).stationaryCovariance()(0, 0);
      EXPECT_NEAR(passiveVar, activeVar, 1e-12 * activeVar) << "tau " << tau << " Tp " << tp;
      // MATH.md 1: active Var(x) = Ta / (k (1 + k tau)) at Tp = 0.
      if (tp == 0.0) EXPECT_NEAR(activeVar, 0.8 / (1.3 * (1 + 1.3 * tau)), 1e-12);
    }
  EXPECT_THROW(LinearSde::passiveMatching(LinearSde::passive(1, 1)), Error);
}

}  // namespace
}  // namespace activediff::model
