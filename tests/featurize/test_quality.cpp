// The quality measure (quality.h): properties with independent references.
// Synthetic phi/psi from a wrapped two-blob mixture; N = 4,000 a side.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "activediff/featurize/divergence.h"
#include "activediff/featurize/error.h"
#include "activediff/featurize/geometry.h"
#include "activediff/featurize/quality.h"

namespace activediff {
namespace {

constexpr std::int64_t kN = 4000;

// i.i.d. points of a mixture of two wrapped Gaussians (alphaR- and beta-like).
PhiPsiAngles mixture(std::int64_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  PhiPsiAngles a;
  for (std::int64_t i = 0; i < n; ++i) {
    const bool alpha = u(rng) < 0.45;
    const double phi = (alpha ? -70.0 : -120.0) + (alpha ? 15.0 : 25.0) * normal(rng);
    const double psi = (alpha ? -40.0 : 140.0) + 20.0 * normal(rng);
    a.phiRad.push_back(wrapToPiRad(phi * kRadPerDeg));
    a.psiRad.push_back(wrapToPiRad(psi * kRadPerDeg));
  }
  return a;
}

TEST(Quality, TrainingFramesThemselvesHaveRatioExactlyOneAndUnseenFramesZero) {
  const PhiPsiAngles training = mixture(kN, 1), unseen = mixture(kN, 2);
  const QualityReference reference(training, unseen);
  EXPECT_EQ(reference.n(), kN);
  EXPECT_EQ(reference.ratio(training), 1.0);
  // JS of identical histograms is 0: the unseen frames scored against themselves.
  EXPECT_EQ(reference.jsNats(unseen), 0.0);
  EXPECT_EQ(reference.ratio(unseen), 0.0);
  // The denominator is the one JS of divergence.h on the one histogram.
  EXPECT_EQ(reference.trainingJsNats(),
            jensenShannonNats(ramachandranHistogramOf(training), ramachandranHistogramOf(unseen)));
}

// i.i.d. points uniform on a 6 x 6 block of bins: phi in [-120, -60), psi in
// [100, 160) degrees; every bin well filled, so the small-deviation limit of JS holds.
PhiPsiAngles block(std::int64_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> phi(-119.9, -60.1), psi(100.1, 159.9);
  PhiPsiAngles a;
  for (std::int64_t i = 0; i < n; ++i) {
    a.phiRad.push_back(phi(rng) * kRadPerDeg);
    a.psiRad.push_back(psi(rng) * kRadPerDeg);
  }
  return a;
}

TEST(Quality, IndependentDrawsAndTheReplayAgainstTheMultinomialLimit) {
  // For two independent N-draws of a law on k well-filled bins,
  // E JS = (k - 1) / (8 N) * 2 (JS ~ chi^2 / 8N per side). A fresh draw of the
  // same law is as far from the unseen frames as the training frames are
  // (expected ratio 1); a bootstrap replay adds its own resampling noise,
  // (k - 1) / (8 N), on top of the training frames' (expected ratio 3/2).
  const int splits = 40;
  double training = 0.0, fresh = 0.0, replay = 0.0;
  for (int s = 0; s < splits; ++s) {
    const QualityReference reference(block(kN, 100 + s), block(kN, 300 + s));
    training += reference.trainingJsNats() / splits;
    fresh += reference.jsNats(block(kN, 200 + s)) / splits;
    replay += replayBaseline(reference, {static_cast<std::int64_t>(10 * s), 5}).mean * reference.trainingJsNats() / splits;
  }
  const double expected = 35.0 / (8.0 * kN) * 2.0;
  EXPECT_NEAR(training / expected, 1.0, 0.06);
  EXPECT_NEAR(fresh / training, 1.0, 0.06);
  EXPECT_NEAR(replay / training, 1.5, 0.1);  // ~3 standard errors of 40 splits
}

TEST(Quality, KdeWithBandwidthToZeroIsTheReplay) {
  const QualityReference reference(mixture(kN, 1), mixture(kN, 2));
  double replayMean = 0.0, tinyMean = 0.0;
  for (std::int64_t seed = 0; seed < 5; ++seed) {
    EXPECT_EQ(kdeRatio(reference, 0.0, seed), replayRatio(reference, seed));  // same frames picked
    replayMean += replayRatio(reference, seed) / 5;
    tinyMean += kdeRatio(reference, 1e-7, seed) / 5;
  }
  EXPECT_NEAR(tinyMean, replayMean, 1e-3);
  // A replay draw holds training frames only; a KDE draw moves them by ~h on
  // each angle, wrapped into (-pi, pi].
  const PhiPsiAngles& training = reference.training();
  const PhiPsiAngles replay = replaySample(training, kN, 3), kde = kdeSample(training, kN, 0.05, 3);
  double squares = 0.0;
  for (std::int64_t i = 0; i < kN; ++i) {
    bool found = false;
    for (std::size_t j = 0; j < training.size() && !found; ++j)
      found = training.phiRad[j] == replay.phiRad[i] && training.psiRad[j] == replay.psiRad[i];
    ASSERT_TRUE(found) << i;
    for (double d : {kde.phiRad[i] - replay.phiRad[i], kde.psiRad[i] - replay.psiRad[i]}) squares += std::pow(wrapToPiRad(d), 2);
    EXPECT_GT(kde.phiRad[i], -kPi);
    EXPECT_LE(kde.phiRad[i], kPi);
  }
  EXPECT_NEAR(std::sqrt(squares / (2.0 * kN)), 0.05, 0.002);
  // Very wide: wrapped onto the torus, phi becomes uniform (mean cos ~ 0).
  const PhiPsiAngles wide = kdeSample(training, kN, 20.0, 4);
  double cosine = 0.0;
  for (double phi : wide.phiRad) cosine += std::cos(phi) / kN;
  EXPECT_NEAR(cosine, 0.0, 0.05);
}

TEST(Quality, KdeBandwidthMinimizesTheSearchSeedsMeanOverTheGrid) {
  const QualityReference reference(mixture(kN, 1), mixture(kN, 2));
  const QualitySeeds seeds{5, 4};
  const QualityResult kde = kdeBaseline(reference, seeds);
  ASSERT_EQ(kde.bandwidthGridRad, defaultKdeBandwidthGridRad());
  EXPECT_EQ(kde.searchSeeds, (std::vector<std::int64_t>{9, 10, 11, 12}));
  EXPECT_EQ(kde.seeds, (std::vector<std::int64_t>{5, 6, 7, 8}));
  // Brute force: every grid value, every search seed.
  double bestMean = INFINITY, bestH = NAN;
  for (std::size_t g = 0; g < kde.bandwidthGridRad.size(); ++g) {
    double mean = 0.0;
    for (std::int64_t s = 9; s <= 12; ++s) mean += kdeRatio(reference, kde.bandwidthGridRad[g], s);
    mean /= 4.0;
    EXPECT_NEAR(kde.gridMeans[g], mean, 1e-15) << g;
    if (mean < bestMean) bestMean = mean, bestH = kde.bandwidthGridRad[g];
  }
  EXPECT_EQ(kde.bandwidthRad, bestH);
  // The reported figure: the evaluation seeds at that bandwidth.
  std::vector<double> values;
  for (std::int64_t s = 5; s <= 8; ++s) values.push_back(kdeRatio(reference, bestH, s));
  EXPECT_EQ(kde.perSeed, values);
  double mean = 0.0, squares = 0.0;
  for (double v : values) mean += v / 4.0;
  for (double v : values) squares += (v - mean) * (v - mean);
  EXPECT_NEAR(kde.mean, mean, 1e-15);
  EXPECT_NEAR(kde.standardError, std::sqrt(squares / 3.0 / 4.0), 1e-15);
  // Smoothing helps over the replay on smooth data, and is itself worse than
  // a fresh draw of the law (ratio ~ 1) only by a little.
  const QualityResult replay = replayBaseline(reference, seeds);
  EXPECT_LT(kde.mean, replay.mean);
  EXPECT_EQ(replay.n, kN);
  EXPECT_EQ(kde.bins, 36);
}

TEST(Quality, EqualNIsEnforcedAndBadInputsAreErrors) {
  const PhiPsiAngles training = mixture(kN, 1), unseen = mixture(kN, 2);
  const QualityReference reference(training, unseen);
  EXPECT_THROW(reference.ratio(mixture(kN - 1, 3)), Error);
  PhiPsiAngles withNan = mixture(kN, 3);
  withNan.psiRad[7] = NAN;
  EXPECT_THROW(reference.ratio(withNan), Error);
  EXPECT_THROW(QualityReference(training, training), Error);  // JS 0: no denominator
  EXPECT_THROW(QualityReference(PhiPsiAngles{}, unseen), Error);
  EXPECT_THROW(kdeSample(training, 10, -1.0, 1), Error);
  EXPECT_THROW(replaySample(training, 10, -2), Error);
  EXPECT_THROW(replayBaseline(reference, {1, 0}), Error);
  EXPECT_TRUE(std::isnan(replayBaseline(reference, {1, 1}).standardError));
  EXPECT_EQ(replaySample(training, 10, 1).phiRad, replaySample(training, 10, 1).phiRad);  // seeded
  EXPECT_NE(replaySample(training, 10, 1).phiRad, replaySample(training, 10, 2).phiRad);
}

TEST(Quality, EvenlySpacedIndices) {
  EXPECT_EQ(evenlySpacedIndices(10, 4), (std::vector<std::int64_t>{0, 2, 5, 7}));
  EXPECT_EQ(evenlySpacedIndices(3, 5), (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(evenlySpacedIndices(4, 4), (std::vector<std::int64_t>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace activediff
