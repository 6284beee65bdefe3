// The Eigen evaluator of a trained network (eigen_score_network.h) against
// the LibTorch network it was copied from (float32): scores and Jacobian
// diagonals on random states over the whole time range, for every network
// shape the configs can make. The LibTorch Jacobian diagonal is autograd's
// (one vector-Jacobian product per column), an independent computation.
#include <gtest/gtest.h>

#include <cmath>

#include "activediff/model/generator.h"
#include "activediff/model/trainer.h"
#include "support/test_support.h"
#include "torch_test_support.h"

namespace activediff::testing {
namespace {
using namespace activediff::model;

TEST(EigenScoreNetwork, MatchesTheLibTorchNetworkAndItsAutogradJacobian) {
  ScratchDirectory scratch;
  writeDiamond(scratch / "diamond.npy", 2000, 1);
  const TrainingData data = loadTrainingData(scratch / "diamond.npy", 0.1);
  const std::vector<std::vector<std::string>> variants = {
      {"process.kind=passive"},
      {"process.kind=active", "network.time_conditioning=input"},
      {"process.kind=active", "network.preconditioning=marginal", "network.all_channels=true"},
      {"process.kind=cld", "network.kind=resmlp", "network.depth=2"},
      {"process.kind=passive", "network.kind=resmlp", "network.depth=1", "network.preconditioning=marginal"},
      // A width that is not a multiple of the AVX2 kernel's 4-, 8- and 16-output blocks.
      {"process.kind=active", "network.preconditioning=marginal", "network.all_channels=true", "network.width=37"},
  };
  int index = 0;
  for (const std::vector<std::string>& sets : variants) {
    // The variant's settings last: they override the common ones.
    std::vector<std::string> all = {"training.steps=30",          "training.batch_size=64",
                                    "training.warmup_steps=5",    "training.validation_every=30",
                                    "training.checkpoint_every=30", "network.width=48"};
    all.insert(all.end(), sets.begin(), sets.end());
    const ModelConfig config = parseConfig("", "test", all);
    TrainOptions options;
    options.outputDirectory = scratch / ("run" + std::to_string(index++));
    const TrainSummary summary = train(config, data, options);
    Generator torch(summary.checkpoint);
    GeneratorOptions eigenOptions;
    eigenOptions.eigenNetwork = true;
    Generator eigen(summary.checkpoint, eigenOptions);
    const int width = eigen.sde().channels() * 2;
    Rng rng(9);
    for (double t : {eigen.timeEpsilon(), 0.01, 0.3, 2.0, eigen.endTime()}) {
      Eigen::ArrayXXd z(7, width);
      fillStandardNormal(z, rng);
      Eigen::ArrayXXd s1, j1, s2, j2;
      torch.scoreModel().scoreAndJacobianDiagonal(z, t, s1, j1);
      eigen.scoreModel().scoreAndJacobianDiagonal(z, t, s2, j2);
      const ScoreChannels out = eigen.scoreModel().channels();
      for (int c = 0; c < eigen.sde().channels(); ++c) {
        if (!out.has(c)) continue;
        const auto a = s1.middleCols(2 * c, 2), b = s2.middleCols(2 * c, 2);
        const auto ja = j1.middleCols(2 * c, 2), jb = j2.middleCols(2 * c, 2);
        const double scale = 1.0 + a.abs().maxCoeff(), jscale = 1.0 + ja.abs().maxCoeff();
        EXPECT_LT((a - b).abs().maxCoeff(), 2e-5 * scale) << sets[0] << " " << sets[1] << " t " << t << " channel " << c;
        // The Jacobian diagonal is computed for the channels with noise only (score_model.h).
        if (!eigen.sde().hasNoise(c)) continue;
        EXPECT_LT((ja - jb).abs().maxCoeff(), 2e-5 * jscale) << sets[0] << " " << sets[1] << " t " << t << " channel " << c;
      }
      // A state alone (the move's batch of 1) gets what it gets in a batch:
      // values and tangents are stacked by rows, and no row may leak into
      // another. Bit for bit on the AVX2 kernel; Eigen's generic float32
      // product sums in an order that depends on the rows, hence 1e-6.
      for (int r = 0; r < z.rows(); ++r) {
        Eigen::ArrayXXd s3, j3;
        eigen.scoreModel().scoreAndJacobianDiagonal(z.row(r), t, s3, j3);
        const double scale = 1.0 + s2.row(r).abs().maxCoeff(), jscale = 1.0 + j2.row(r).abs().maxCoeff();
        EXPECT_LT((s3.row(0) - s2.row(r)).abs().maxCoeff(), 1e-6 * scale) << sets[0] << " t " << t << " row " << r;
        EXPECT_LT((j3.row(0) - j2.row(r)).abs().maxCoeff(), 1e-6 * jscale) << sets[0] << " t " << t << " row " << r;
      }
    }
  }
}

}  // namespace
}  // namespace activediff::testing
