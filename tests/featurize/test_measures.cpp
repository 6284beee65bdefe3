// Ramachandran histogram, Jensen-Shannon divergence, states, populations.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "activediff/featurize/divergence.h"
#include "activediff/featurize/error.h"
#include "activediff/featurize/geometry.h"
#include "activediff/featurize/populations.h"
#include "activediff/featurize/ramachandran.h"
#include "activediff/featurize/states.h"

namespace activediff {
namespace {

TEST(Ramachandran, BinsAreTenDegreesOnMinus180To180) {
  EXPECT_EQ(ramachandranBin(-180.0), 0);
  EXPECT_EQ(ramachandranBin(-170.0001), 0);
  EXPECT_EQ(ramachandranBin(-170.0), 1);
  EXPECT_EQ(ramachandranBin(-1e-9), 17);
  EXPECT_EQ(ramachandranBin(0.0), 18);
  EXPECT_EQ(ramachandranBin(179.9999), 35);
  EXPECT_EQ(ramachandranBin(180.0), 0);  // periodic: 180 is -180
  EXPECT_EQ(ramachandranBin(545.0), ramachandranBin(-175.0));
  EXPECT_EQ(ramachandranBin(std::nan("")), -1);
  RamachandranHistogram h;
  h.addDeg(-75.0, 145.0);
  h.addRad(-75.0 * kRadPerDeg, 145.0 * kRadPerDeg);
  h.addDeg(std::nan(""), 0.0);
  EXPECT_DOUBLE_EQ(h.counts()(10, 32), 2.0);
  EXPECT_DOUBLE_EQ(h.total(), 2.0);
  EXPECT_EQ(h.rejected(), 1);
  EXPECT_DOUBLE_EQ(h.probabilities().sum(), 1.0);
}

TEST(JensenShannon, ClosedForms) {
  Eigen::ArrayXd p(2), q(2);
  p << 1, 0;
  q << 0, 1;
  EXPECT_NEAR(jensenShannonNats(p, q), std::log(2.0), 1e-15);  // disjoint: ln 2
  EXPECT_DOUBLE_EQ(jensenShannonNats(p, p), 0.0);
  // p = (1, 0), q = (1/2, 1/2): m = (3/4, 1/4).
  q << 1, 1;  // unnormalized on purpose
  const double expected = 0.5 * std::log(4.0 / 3.0) + 0.5 * (0.5 * std::log(2.0 / 3.0) + 0.5 * std::log(2.0));
  EXPECT_NEAR(jensenShannonNats(p, q), expected, 1e-15);
  EXPECT_NEAR(jensenShannonNats(q, p), expected, 1e-15);  // symmetric
  Eigen::ArrayXd bad(2);
  bad << -1, 2;
  EXPECT_THROW(jensenShannonNats(p, bad), Error);
  EXPECT_THROW(jensenShannonNats(p, Eigen::ArrayXd::Zero(2)), Error);
  EXPECT_THROW(jensenShannonNats(p, Eigen::ArrayXd::Ones(3)), Error);
  // Histograms: two points in disjoint bins -> ln 2; same points -> 0.
  RamachandranHistogram a, b;
  a.addDeg(-60, -45);
  b.addDeg(60, 45);
  EXPECT_NEAR(jensenShannonNats(a, b), std::log(2.0), 1e-15);
  EXPECT_DOUBLE_EQ(jensenShannonNats(a, a), 0.0);
}

TEST(States, BoxesOfProductMd) {
  EXPECT_EQ(classifyStateDeg(-60, -45), MetastableState::AlphaR);
  EXPECT_EQ(classifyStateDeg(-150, 150), MetastableState::Beta);
  EXPECT_EQ(classifyStateDeg(-150, -150), MetastableState::Beta);  // psi < -120 wraps into beta
  EXPECT_EQ(classifyStateDeg(-75, 145), MetastableState::PPII);
  EXPECT_EQ(classifyStateDeg(60, 45), MetastableState::L);
  EXPECT_EQ(classifyStateDeg(60, -150), MetastableState::L);
  EXPECT_EQ(classifyStateDeg(-60, 50), MetastableState::PPII);      // psi >= 50 is outside alphaR
  EXPECT_EQ(classifyStateDeg(-60, -120), MetastableState::Other);   // edge of alphaR (open)
  EXPECT_EQ(classifyStateDeg(-90, 150), MetastableState::Other);    // edge between beta and PPII
  EXPECT_EQ(classifyStateDeg(0, 0), MetastableState::Other);
  EXPECT_EQ(classifyStateRad(-60 * kRadPerDeg, -45 * kRadPerDeg), MetastableState::AlphaR);
  EXPECT_EQ(stateName(MetastableState::PPII), "PPII");
}

// A two-state Markov chain with stationary population 0.25 for state 1 and
// correlation time ~ 1 / (p01 + p10) = 12.5 steps.
std::vector<int> markovChain(int n, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<int> labels(n);
  int state = u(rng) < 0.25 ? 1 : 0;
  for (int i = 0; i < n; ++i) {
    if (state == 0 && u(rng) < 0.02) state = 1;
    else if (state == 1 && u(rng) < 0.06) state = 0;
    labels[i] = state;
  }
  return labels;
}

double coverage(SampleCorrelation correlation, int trials) {
  std::mt19937_64 rng(7);
  int covered = 0;
  for (int t = 0; t < trials; ++t) {
    const std::vector<int> labels = markovChain(2000, rng);
    BootstrapOptions options;
    options.resamples = 300;
    options.seed = 1000 + t;
    const Populations p = populationsWithConfidence(labels, 2, correlation, options);
    covered += p.categories[1].ciLow <= 0.25 && 0.25 <= p.categories[1].ciHigh;
  }
  return static_cast<double>(covered) / trials;
}

TEST(Populations, BlockBootstrapCoversTheTruthOnCorrelatedData) {
  const double block = coverage(SampleCorrelation::CorrelatedTimeSeries, 200);
  RecordProperty("block_bootstrap_coverage", std::to_string(block));
  EXPECT_GE(block, 0.85);
  EXPECT_LE(block, 0.995);
  // Treating correlated frames as independent is badly overconfident: the
  // block bootstrap is what makes the intervals honest.
  const double plain = coverage(SampleCorrelation::Independent, 200);
  RecordProperty("plain_bootstrap_coverage_on_correlated", std::to_string(plain));
  EXPECT_LT(plain, 0.7);
}

TEST(Populations, PlainBootstrapCoversTheTruthOnIndependentData) {
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> u(0, 1);
  int covered = 0;
  constexpr int kTrials = 200;
  for (int t = 0; t < kTrials; ++t) {
    std::vector<int> labels(500);
    for (int& l : labels) l = u(rng) < 0.3 ? 1 : 0;
    BootstrapOptions options;
    options.resamples = 300;
    options.seed = t;
    const Populations p = populationsWithConfidence(labels, 2, SampleCorrelation::Independent, options);
    EXPECT_EQ(p.blockLength, 1);
    covered += p.categories[1].ciLow <= 0.3 && 0.3 <= p.categories[1].ciHigh;
  }
  EXPECT_GE(covered, 0.88 * kTrials);
  EXPECT_LE(covered, 0.99 * kTrials);
}

TEST(Populations, StatePopulationsSumToOneAndBracketTheEstimate) {
  std::vector<double> phi = {-1.0, -1.0, -2.6, -1.3, 1.0}, psi = {-0.8, -0.8, 2.6, 2.5, 0.7};
  const Populations p = statePopulations(phi, psi, SampleCorrelation::Independent);
  double sum = 0;
  for (const auto& c : p.categories) {
    sum += c.fraction;
    EXPECT_LE(c.ciLow, c.fraction);
    EXPECT_GE(c.ciHigh, c.fraction);
  }
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(p.categories[static_cast<int>(MetastableState::AlphaR)].fraction, 0.4);
  EXPECT_THROW(statePopulations({}, {}, SampleCorrelation::Independent), Error);
}

TEST(Populations, AutocorrelationTimeOfKnownChains) {
  std::vector<double> white(20000);
  std::mt19937_64 rng(5);
  std::normal_distribution<double> g;
  for (double& x : white) x = g(rng);
  EXPECT_NEAR(integratedAutocorrelationTime(white), 0.5, 0.1);
  // AR(1) with a = 0.9: tau_int = (1 + a) / (2 (1 - a)) = 9.5.
  std::vector<double> ar(50000);
  double x = 0;
  for (double& v : ar) v = x = 0.9 * x + g(rng);
  EXPECT_NEAR(integratedAutocorrelationTime(ar), 9.5, 1.5);
}

}  // namespace
}  // namespace activediff
