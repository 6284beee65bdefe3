#pragma once
// THE quality measure of activediff (issue 11, item 6), defined once here and
// used by `activediff evaluate --training` and bench/quality_protocol.sh.
//
// Protocol. A model is trained on N MD frames (the training frames) and
// generates N samples: equal N is part of the measure, because the
// Jensen-Shannon divergence of histograms is biased upwards by sampling noise
// that shrinks with N. The quality ratio is
//     JS(H(generated), H(unseen)) / JS(H(training), H(unseen))
// with H the 36 x 36 Ramachandran histogram (ramachandran.h), JS the one
// Jensen-Shannon divergence (divergence.h) and `unseen` MD frames the model
// never saw (independent runs). 1 = as close to the unseen frames as the
// training frames themselves. Two baselines put it in context, both drawn
// with N points:
//  - replay: a bootstrap of the training frames (N drawn with replacement),
//    i.e. a perfect memorizer;
//  - KDE: each point a training frame picked at random plus isotropic
//    Gaussian noise of bandwidth h on phi and psi, wrapped onto the torus
//    (a sample of the periodic Gaussian KDE of the training frames); h is the
//    grid value that minimizes the mean ratio over the search seeds (so it is
//    chosen on the unseen frames: the data limit), and the reported ratio is
//    the mean over separate evaluation seeds, so that the choice does not
//    bias the reported number downwards.
// One draw of N points varies by a few hundredths in the ratio: every figure
// is a mean and a standard error over K seeds.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "activediff/featurize/ramachandran.h"

namespace activediff {

// phi/psi pairs in radians, any branch (the histogram wraps).
struct PhiPsiAngles {
  std::vector<double> phiRad, psiRad;
  std::size_t size() const { return phiRad.size(); }
};

RamachandranHistogram ramachandranHistogramOf(const PhiPsiAngles& angles);

// The K seeds of one figure: first, first + 1, ..., first + count - 1.
struct QualitySeeds {
  std::int64_t first = 1;
  int count = 10;
  std::vector<std::int64_t> list(std::int64_t offset = 0) const;
};

// Mean and standard error over seeds of one figure.
struct QualityResult {
  double mean = 0.0;
  double standardError = 0.0;   // sd (ddof 1) / sqrt(K); NaN for K = 1
  std::vector<double> perSeed;  // the ratio of each seed
  std::vector<std::int64_t> seeds;
  std::int64_t n = 0;           // points per draw (= training frames)
  int bins = kRamachandranBins; // per axis
  // KDE only (NaN / empty otherwise): the chosen bandwidth, the grid and the
  // mean ratio at each grid value over the search seeds.
  double bandwidthRad = NAN;
  std::vector<double> bandwidthGridRad;
  std::vector<double> gridMeans;
  std::vector<std::int64_t> searchSeeds;
};

QualityResult summarizeRatios(std::vector<double> perSeed, std::vector<std::int64_t> seeds, std::int64_t n);

// The training frames and unseen frames of one comparison, with H(unseen)
// and the denominator JS(H(training), H(unseen)) computed once. Throws
// activediff::Error for empty or non-finite inputs, or when the training
// frames' histogram equals the unseen one (a zero denominator).
class QualityReference {
 public:
  QualityReference(PhiPsiAngles training, const PhiPsiAngles& unseen);
  const PhiPsiAngles& training() const { return training_; }
  std::int64_t n() const { return static_cast<std::int64_t>(training_.size()); }
  std::int64_t unseenFrames() const { return unseenFrames_; }
  const RamachandranHistogram& unseenHistogram() const { return unseen_; }
  double trainingJsNats() const { return trainingJs_; }  // the denominator
  // JS(H(samples), H(unseen)) in nats.
  double jsNats(const PhiPsiAngles& samples) const;
  // The ratio; throws activediff::Error unless samples has exactly n() finite
  // pairs (equal N is part of the protocol).
  double ratio(const PhiPsiAngles& samples) const;

 private:
  PhiPsiAngles training_;
  RamachandranHistogram unseen_;
  double trainingJs_ = 0.0;
  std::int64_t unseenFrames_ = 0;
};

// n training frames drawn with replacement (mt19937_64 seeded with seed).
PhiPsiAngles replaySample(const PhiPsiAngles& training, std::int64_t n, std::int64_t seed);
// n points of the wrapped Gaussian KDE: the frames replaySample(training, n,
// seed) picks, plus N(0, h^2) on each angle from a second stream of the same
// seed, wrapped into (-pi, pi]. With h = 0 it is exactly replaySample.
PhiPsiAngles kdeSample(const PhiPsiAngles& training, std::int64_t n, double bandwidthRad, std::int64_t seed);

double replayRatio(const QualityReference& reference, std::int64_t seed);
double kdeRatio(const QualityReference& reference, double bandwidthRad, std::int64_t seed);

// The replay baseline over seeds.list().
QualityResult replayBaseline(const QualityReference& reference, const QualitySeeds& seeds);
// The KDE baseline: h chosen on the search seeds seeds.list(seeds.count)
// (the K seeds after the evaluation seeds), reported over seeds.list().
// Ties go to the smaller bandwidth. An empty grid means the default grid.
QualityResult kdeBaseline(const QualityReference& reference, const QualitySeeds& seeds,
                          std::vector<double> bandwidthGridRad = {});
// 1 ... 20 degrees, denser near the optimum of ~4 degrees for 5,000 frames.
std::vector<double> defaultKdeBandwidthGridRad();

// n indices evenly spaced over [0, available): floor(i * available / n);
// all of them when n >= available.
std::vector<std::int64_t> evenlySpacedIndices(std::int64_t available, std::int64_t n);

// The protocol in words, for reports.
std::string qualityProtocolDescription();

}  // namespace activediff
