#include "activediff/featurize/quality.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "activediff/featurize/divergence.h"
#include "activediff/featurize/error.h"
#include "activediff/featurize/geometry.h"

namespace activediff {

namespace {

void checkAngles(const PhiPsiAngles& angles, const std::string& what) {
  if (angles.phiRad.size() != angles.psiRad.size()) throw Error("quality measure", what + ": phi and psi differ in length");
  if (angles.size() == 0) throw Error("quality measure", what + ": no frames");
  for (std::size_t i = 0; i < angles.size(); ++i) {
    if (!std::isfinite(angles.phiRad[i]) || !std::isfinite(angles.psiRad[i])) {
      throw Error("quality measure", what + ": non-finite phi/psi at row " + std::to_string(i));
    }
  }
}

// Uniform in (0, 1] from 53 random bits.
double unitOpenBelow(std::mt19937_64& rng) { return (static_cast<double>(rng() >> 11) + 1.0) * 0x1.0p-53; }

// The index stream and the noise stream of one seed: independent engines, so
// that kdeSample with h = 0 picks exactly the frames replaySample picks.
std::mt19937_64 indexStream(std::int64_t seed) { return std::mt19937_64(static_cast<std::uint64_t>(seed)); }
std::mt19937_64 noiseStream(std::int64_t seed) {
  return std::mt19937_64(static_cast<std::uint64_t>(seed) ^ 0x9E3779B97F4A7C15ULL);
}

void checkDraw(const PhiPsiAngles& training, std::int64_t n, std::int64_t seed) {
  if (training.size() == 0) throw Error("quality measure", "no training frames to draw from");
  if (n < 1) throw Error("quality measure", "draws need n >= 1 (got " + std::to_string(n) + ")");
  if (seed < 0) throw Error("quality measure", "seeds must be >= 0 (got " + std::to_string(seed) + ")");
}

}  // namespace

RamachandranHistogram ramachandranHistogramOf(const PhiPsiAngles& angles) {
  RamachandranHistogram histogram;
  for (std::size_t i = 0; i < angles.size(); ++i) histogram.addRad(angles.phiRad[i], angles.psiRad[i]);
  return histogram;
}

std::vector<std::int64_t> QualitySeeds::list(std::int64_t offset) const {
  if (first < 0) throw Error("--quality-seed", "must be >= 0 (got " + std::to_string(first) + ")");
  if (count < 1) throw Error("--quality-seeds", "must be >= 1 (got " + std::to_string(count) + ")");
  std::vector<std::int64_t> seeds(count);
  for (int k = 0; k < count; ++k) seeds[k] = first + offset + k;
  return seeds;
}

QualityResult summarizeRatios(std::vector<double> perSeed, std::vector<std::int64_t> seeds, std::int64_t n) {
  QualityResult result;
  const double k = static_cast<double>(perSeed.size());
  result.mean = k > 0 ? std::accumulate(perSeed.begin(), perSeed.end(), 0.0) / k : NAN;
  if (perSeed.size() >= 2) {
    double squares = 0.0;
    for (double r : perSeed) squares += (r - result.mean) * (r - result.mean);
    result.standardError = std::sqrt(squares / (k - 1.0)) / std::sqrt(k);
  } else {
    result.standardError = NAN;
  }
  result.perSeed = std::move(perSeed);
  result.seeds = std::move(seeds);
  result.n = n;
  return result;
}

QualityReference::QualityReference(PhiPsiAngles training, const PhiPsiAngles& unseen) : training_(std::move(training)) {
  checkAngles(training_, "training frames");
  checkAngles(unseen, "unseen frames");
  unseen_ = ramachandranHistogramOf(unseen);
  unseenFrames_ = static_cast<std::int64_t>(unseen.size());
  trainingJs_ = jensenShannonNats(ramachandranHistogramOf(training_), unseen_);
  if (!(trainingJs_ > 0.0)) {
    throw Error("quality measure",
                "the training frames have the same Ramachandran histogram as the unseen frames (JS 0): the ratio is "
                "undefined; score against MD frames from another run");
  }
}

double QualityReference::jsNats(const PhiPsiAngles& samples) const {
  checkAngles(samples, "samples");
  return jensenShannonNats(ramachandranHistogramOf(samples), unseen_);
}

double QualityReference::ratio(const PhiPsiAngles& samples) const {
  if (static_cast<std::int64_t>(samples.size()) != n()) {
    throw Error("quality measure", "the ratio compares equal numbers of points: " + std::to_string(samples.size()) +
                                       " samples against " + std::to_string(n()) + " training frames");
  }
  return jsNats(samples) / trainingJs_;
}

PhiPsiAngles replaySample(const PhiPsiAngles& training, std::int64_t n, std::int64_t seed) {
  return kdeSample(training, n, 0.0, seed);
}

PhiPsiAngles kdeSample(const PhiPsiAngles& training, std::int64_t n, double bandwidthRad, std::int64_t seed) {
  checkDraw(training, n, seed);
  if (!(bandwidthRad >= 0.0) || !std::isfinite(bandwidthRad)) {
    throw Error("quality measure", "the KDE bandwidth must be finite and >= 0");
  }
  std::mt19937_64 pick = indexStream(seed), noise = noiseStream(seed);
  const auto frames = static_cast<std::uint64_t>(training.size());
  PhiPsiAngles sample;
  sample.phiRad.resize(n);
  sample.psiRad.resize(n);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint64_t r = pick() % frames;  // bias < frames / 2^64
    sample.phiRad[i] = training.phiRad[r];
    sample.psiRad[i] = training.psiRad[r];
  }
  if (bandwidthRad > 0.0) {
    for (std::int64_t i = 0; i < n; ++i) {
      // Box-Muller: two independent N(0, 1) from two uniforms.
      const double radius = std::sqrt(-2.0 * std::log(unitOpenBelow(noise)));
      const double angle = 2.0 * kPi * unitOpenBelow(noise);
      sample.phiRad[i] = wrapToPiRad(sample.phiRad[i] + bandwidthRad * radius * std::cos(angle));
      sample.psiRad[i] = wrapToPiRad(sample.psiRad[i] + bandwidthRad * radius * std::sin(angle));
    }
  }
  return sample;
}

double replayRatio(const QualityReference& reference, std::int64_t seed) {
  return reference.ratio(replaySample(reference.training(), reference.n(), seed));
}

double kdeRatio(const QualityReference& reference, double bandwidthRad, std::int64_t seed) {
  return reference.ratio(kdeSample(reference.training(), reference.n(), bandwidthRad, seed));
}

QualityResult replayBaseline(const QualityReference& reference, const QualitySeeds& seeds) {
  std::vector<double> ratios;
  const std::vector<std::int64_t> list = seeds.list();
  for (std::int64_t s : list) ratios.push_back(replayRatio(reference, s));
  return summarizeRatios(std::move(ratios), list, reference.n());
}

std::vector<double> defaultKdeBandwidthGridRad() {
  std::vector<double> grid;
  for (double deg : {1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0, 10.0, 12.0, 15.0, 20.0}) {
    grid.push_back(deg * kRadPerDeg);
  }
  return grid;
}

QualityResult kdeBaseline(const QualityReference& reference, const QualitySeeds& seeds,
                          std::vector<double> bandwidthGridRad) {
  if (bandwidthGridRad.empty()) bandwidthGridRad = defaultKdeBandwidthGridRad();
  const std::vector<std::int64_t> search = seeds.list(seeds.count);
  std::vector<double> means;
  std::size_t best = 0;
  for (std::size_t g = 0; g < bandwidthGridRad.size(); ++g) {
    double sum = 0.0;
    for (std::int64_t s : search) sum += kdeRatio(reference, bandwidthGridRad[g], s);
    means.push_back(sum / static_cast<double>(search.size()));
    const bool better = means[g] < means[best] ||
                        (means[g] == means[best] && bandwidthGridRad[g] < bandwidthGridRad[best]);
    if (better) best = g;
  }
  std::vector<double> ratios;
  const std::vector<std::int64_t> list = seeds.list();
  for (std::int64_t s : list) ratios.push_back(kdeRatio(reference, bandwidthGridRad[best], s));
  QualityResult result = summarizeRatios(std::move(ratios), list, reference.n());
  result.bandwidthRad = bandwidthGridRad[best];
  result.bandwidthGridRad = std::move(bandwidthGridRad);
  result.gridMeans = std::move(means);
  result.searchSeeds = search;
  return result;
}

std::vector<std::int64_t> evenlySpacedIndices(std::int64_t available, std::int64_t n) {
  std::vector<std::int64_t> indices;
  if (n >= available) {
    for (std::int64_t i = 0; i < available; ++i) indices.push_back(i);
    return indices;
  }
  for (std::int64_t i = 0; i < n; ++i) {
    indices.push_back(static_cast<std::int64_t>((static_cast<long double>(i) * available) / n));
  }
  return indices;
}

std::string qualityProtocolDescription() {
  return "Quality ratio = JS(generated, unseen) / JS(training, unseen): Jensen-Shannon divergence (nats) of 36 x 36 "
         "Ramachandran histograms (10-degree bins on [-180, 180)^2) against MD frames the model never saw (--reference), "
         "divided by the divergence of the training frames themselves (--training) from those unseen frames; 1 = as "
         "close as the training data. Every side of a ratio has N points, N = training frames (histogram JS is biased "
         "by N): generated samples beyond N are subsampled evenly spaced over the valid samples. Baselines, with N "
         "points each: replay = N training frames drawn with replacement (a perfect memorizer); KDE = the periodic "
         "Gaussian KDE of the training frames (a training frame picked at random plus N(0, h^2) on phi and psi, "
         "wrapped onto the torus), h the grid value minimizing the mean ratio over the search seeds (the K seeds after "
         "the evaluation seeds), its ratio reported over the evaluation seeds. Baselines: mean and standard error "
         "(sd / sqrt K) over K seeds; the generated ratio is one sampling seed (average K sample seeds, e.g. "
         "bench/quality_protocol.sh).";
}

}  // namespace activediff
