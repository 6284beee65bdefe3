// A network trained on the analytic 9-peak diamond within the test budget
// comes within a stated tolerance of the analytic-score sampler (same
// sampler, steps and sample count):
//   every mode's weight within 0.04 (absolute; each is 1/9 = 0.111),
//   every mode's mean within 0.10 (modes are 1.06 apart, sd 0.1),
//   the fraction of samples within 3 sd of their mode within 0.10
// (measured, EM-200 on the dense-near-eps grid: passive at 2,500 steps near-mode
// fraction 0.945 vs analytic 0.977; active at 5,000 steps 0.946 vs 0.985;
// both with the log-uniform time schedule, uniform times left the peaks
// blurred). CLD is not here: it reached 0.47 at 5,000 steps (issue 11 note).
#include <gtest/gtest.h>

#include <iostream>

#include "activediff/model/gaussian_mixture.h"
#include "activediff/model/generator.h"
#include "activediff/model/samplers.h"
#include "activediff/model/trainer.h"
#include "support/test_support.h"
#include "torch_test_support.h"

namespace activediff::testing {
namespace {
using namespace activediff::model;

struct ModeStats {
  Eigen::ArrayXd weight;
  Eigen::ArrayXXd mean;
  double nearFraction = 0.0;  // within 3 sd of the nearest mode
};

ModeStats modeStats(const GaussianMixture& m, const Eigen::ArrayXXd& x) {
  const Eigen::ArrayXi mode = m.nearestMode(x);
  ModeStats s;
  s.weight = Eigen::ArrayXd::Zero(m.components());
  s.mean = Eigen::ArrayXXd::Zero(m.components(), m.dims());
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    s.weight(mode(i)) += 1.0;
    s.mean.row(mode(i)) += x.row(i);
    const double r = (x.row(i) - m.means.row(mode(i))).matrix().norm();
    if (r < 3.0 * std::sqrt(m.variances(mode(i), 0))) s.nearFraction += 1.0;
  }
  for (int k = 0; k < m.components(); ++k)
    if (s.weight(k) > 0) s.mean.row(k) /= s.weight(k);
  s.weight /= double(x.rows());
  s.nearFraction /= double(x.rows());
  return s;
}

// Trains on 8,000 diamond samples with the given process and steps and
// compares the EM-200 samples of the network with those of the analytic score.
void expectNetworkMatchesAnalyticScore(const std::string& process, const std::string& steps) {
  ScratchDirectory scratch;
  const GaussianMixture diamond = GaussianMixture::diamond();
  writeDiamond(scratch / "diamond.npy", 8000, 1);
  const TrainingData data = loadTrainingData(scratch / "diamond.npy", 0.1);
  ModelConfig config = parseConfig("", "test", {"process.kind=" + process,
                                                "training.steps=" + steps,
                                                "training.batch_size=512",
                                                "training.learning_rate=2e-3",
                                                "training.warmup_steps=100",
                                                "training.time_sampling=log-uniform",
                                                "training.ema_decay=0.995",
                                                "training.validation_every=500",
                                                "training.checkpoint_every=" + steps});
  TrainOptions options;
  options.outputDirectory = scratch / "run";
  const TrainSummary summary = train(config, data, options);
  std::cout << "trained " << summary.steps << " steps at " << summary.itPerSecond
            << " it/s, validation loss (EMA) " << summary.finalValidationLoss << "\n";

  Generator generator(summary.checkpoint);
  SamplerConfig sc;
  sc.kind = "em";
  sc.steps = 200;
  const int n = 4000;
  const GeneratedSamples learned = generator.sample(n, sc, 3);

  // The analytic score of the same (standardized) mixture, same sampler.
  const FeatureSpec& spec = generator.features();
  GaussianMixture standardized = diamond;
  for (int d = 0; d < 2; ++d) {
    standardized.means.col(d) = (diamond.means.col(d) - spec.mean(d)) / spec.stddev(d);
    standardized.variances.col(d) = diamond.variances.col(d) / (spec.stddev(d) * spec.stddev(d));
  }
  const VanLoanKernel kernel(generator.sde());
  MixtureMarginal analytic(kernel, standardized);
  SamplerOptions so;
  so.kind = SamplerKind::EulerMaruyama;
  so.steps = 200;
  so.tEps = generator.timeEpsilon();
  const Sampler sampler(kernel, kernel.prior(generator.endTime(), 1.0), so);
  const Eigen::ArrayXXd reference = spec.fromModel(sampler.sample(analytic, n, 2, 3).z.leftCols(2));

  const ModeStats a = modeStats(diamond, reference);
  const ModeStats b = modeStats(diamond, learned.features);
  std::cout << "mode weights analytic " << a.weight.transpose() << "\n             learned  "
            << b.weight.transpose() << "\nnear-mode fraction analytic " << a.nearFraction
            << ", learned " << b.nearFraction << "\n";
  for (int k = 0; k < diamond.components(); ++k) {
    EXPECT_LT(std::abs(a.weight(k) - b.weight(k)), 0.04) << "mode " << k;
    EXPECT_LT((a.mean.row(k) - b.mean.row(k)).matrix().norm(), 0.10) << "mode " << k;
  }
  EXPECT_LT(std::abs(a.nearFraction - b.nearFraction), 0.10);
}

TEST(MixtureTraining, PassiveNetworkMatchesAnalyticScoreSampler) {
  expectNetworkMatchesAnalyticScore("passive", "2500");
}

// Active noise (tau 0.5) needs the time features in every layer: with them at
// the input only, 2,500 steps put 27 % of its samples near a mode (analytic
// 98.5 %); every-layer time conditioning 80 % at 2,500 and 94.6 % at 5,000.
TEST(MixtureTraining, ActiveNetworkMatchesAnalyticScoreSampler) {
  expectNetworkMatchesAnalyticScore("active", "5000");
}

}  // namespace
}  // namespace activediff::testing
