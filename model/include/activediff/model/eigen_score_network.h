#pragma once
// A trained score network evaluated torch-free: the same forward as the
// LibTorch network (model/src/torch/score_network.cpp: mlp or resmlp, SiLU,
// log-time sinusoidal features, time in every layer or at the input,
// optional marginal preconditioning), and the exact diagonal of its Jacobian
// by forward-mode differentiation (one tangent per output column of a
// channel with noise). The layers run in float32, as LibTorch holds the
// weights, with the value and its tangents stacked as rows of one matrix
// (model/src/dense_product.h); the analytic Gaussian part and everything
// outside the network stay float64. For small batches -- the Monte Carlo
// move evaluates one state at a time, where a LibTorch call with autograd
// costs 100-300 us -- it avoids every per-call framework overhead.
// Generator builds one from a checkpoint when GeneratorOptions::eigenNetwork
// is set; the weights come from there. Not thread-safe (per-call buffers).
#include <Eigen/Core>
#include <string>
#include <unordered_map>
#include <vector>

#include "activediff/model/score_model.h"
#include "activediff/model/training_targets.h"

namespace activediff::model {

struct EigenNetworkWeights {
  std::string kind;             // "mlp" or "resmlp"
  bool preconditioned = false;  // network.preconditioning = "marginal"
  int dims = 0;                 // D
  int channels = 1;             // c
  double timeLogAnchor = 0.0, timeLogRange = 1.0;
  Eigen::VectorXd timeFrequencies;       // F
  std::vector<Eigen::MatrixXd> weights;  // layer i: out x in, in forward's order
  std::vector<Eigen::VectorXd> biases;
  std::vector<Eigen::MatrixXd> timeWeights;  // out x 2F after layer i; 0 x 0 where none
};

class EigenScoreNetwork : public ScoreModel {
 public:
  // targets: the process's TrainingTargets (the whitened-output -> score map
  // and the preconditioning table). Throws activediff::Error on shapes that
  // do not fit together.
  EigenScoreNetwork(EigenNetworkWeights weights, const TrainingTargets& targets);
  ScoreChannels channels() const override { return targets_.outputs(); }
  void score(const Eigen::ArrayXXd& z, double t, Eigen::ArrayXXd& score) override;
  bool hasJacobianDiagonal() const override { return true; }
  void scoreAndJacobianDiagonal(const Eigen::ArrayXXd& z, double t, Eigen::ArrayXXd& score,
                                Eigen::ArrayXXd& jacobianDiagonal) override;
  // The network's whitened outputs (as the LibTorch forward), B x outputs*D.
  Eigen::MatrixXd whitenedOutputs(const Eigen::ArrayXXd& z, double t) const;

 private:
  // What depends on t alone, kept per t: RK4 evaluates several calls at one
  // t, and the move integrates every density on the same grid, attempt after
  // attempt, while the Van Loan coefficients and time projections of one t
  // cost about a tenth of a batch-1 density step.
  struct AtTime {
    TargetCoefficients coefficients;
    Eigen::ArrayXXd preconditioning;     // 1 x kPreconditioningColumns
    std::vector<Eigen::VectorXf> offsets;  // per layer: bias + time terms
  };
  const AtTime& at(double t) const;
  Eigen::MatrixXd forward(const Eigen::ArrayXXd& z, double t, std::vector<Eigen::MatrixXd>* tangents) const;
  EigenNetworkWeights w_;
  const TrainingTargets& targets_;
  // Bounded: a sampler with times drawn at random would otherwise grow it.
  static constexpr std::size_t kCachedTimes = 4096;
  mutable std::unordered_map<double, AtTime> atTimes_;
  // forward's buffers, kept between calls: values and tangents stacked by rows.
  using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  struct Scratch {
    RowMatrix input, h, a, b, slope;
  };
  mutable Scratch scratch_;
  // The layers in float32, as the LibTorch network holds them.
  std::vector<Eigen::MatrixXf> weightsFloat_;
  Eigen::VectorXf outputBiasFloat_;
  // The output layer with each output's weights contiguous (row-major).
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> outputRowsFloat_;
};

}  // namespace activediff::model
