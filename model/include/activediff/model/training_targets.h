#pragma once
// Denoising score matching targets, whitened per channel (MATH.md 3), and the
// inverse map from whitened network outputs to scores. The trainer (LibTorch)
// calls exactly these; nothing here depends on LibTorch.
//
// With the x0-only kernel z_t | x_0 ~ N(m x_0, S) (VanLoanKernel::givenX0)
// and S = L L^T:
//   z_t       = m x_0 + L noise,                 noise ~ N(0, I) per dimension
//   s_true    = -S^{-1} (z_t - m x_0) = -L^{-T} noise
//   v_c       = 1 / (S^{-1})_cc                   (v_x = det S / S_22, v_aux = det S / S_11)
//   target_c  = sqrt(v_c) s_true_c               unit variance at every t, every process
//   score_c   = network_c / sqrt(v_c)            the inverse map used when sampling
// Passive: target = -noise. Never one scalar whitener for both channels.
//
// The trainer's use, per step (batch B, D features, c = sde.channels()):
//   outputs = requiredScoreChannels(sde, tweedie)       once
//   TrainingTargets targets(VanLoanKernel(sde), outputs)  once
//   t = drawTrainingTimes(B, t_eps, T, rng); noise: B x (c D), fillStandardNormal
//   targets.makeBatch(x0, t, noise, zt, target)           exact per-sample kernels
//   loss = mean((network(zt, t) - target)^2)
// and when sampling, inside its ScoreModel (score_model.h):
//   targets.scoresFromWhitened(t, network(z, t), score)
// A GPU trainer may instead upload coefficientTable(t) and do the same
// arithmetic on tensors (column meanings below).
//
// Network outputs / targets layout: like layout.h but only the output
// channels, channel-major: with outputs {x, aux} columns [x_1..x_D, aux_1..aux_D],
// with outputs {aux} columns [aux_1..aux_D], with {x} columns [x_1..x_D].
#include <Eigen/Core>

#include "activediff/model/layout.h"
#include "activediff/model/van_loan_kernel.h"

namespace activediff::model {

// t ~ U(t_eps, T) in units where k = O(1) (MATH.md 3).
inline constexpr double kDefaultTimeEpsilon = 1e-3;

// The channels the network must output: each channel with noise (Q_cc > 0),
// plus every channel when Tweedie denoising is wanted (MATH.md 4).
ScoreChannels requiredScoreChannels(const LinearSde& sde, bool tweedie);

// Everything the targets need at one t; the same for every feature dimension.
// One-channel processes use only the (0) / (0, 0) entries (the rest is 0).
struct TargetCoefficients {
  Eigen::Vector2d mean;             // E[z_t | x_0] = mean * x_0, per channel
  Eigen::Matrix2d cholesky;         // L: z_t = mean x_0 + L noise
  Eigen::Vector2d whitening;        // sqrt(v_c): target_c = whitening_c * s_true_c
  Eigen::Matrix2d targetFromNoise;  // targets (both channels) = targetFromNoise * noise
};

// Columns of coefficientTable(), for a tensor implementation of makeBatch:
// z_x = kMeanX x0 + kCholXX n_x;  z_aux = kMeanAux x0 + kCholAuxX n_x + kCholAuxAux n_aux;
// target_x = kTargetXX n_x + kTargetXAux n_aux;  target_aux = kTargetAuxAux n_aux
// (kTargetAuxX is 0 because L^{-T} is upper triangular; kept for clarity);
// score_c = network_c / kWhiteningC.
enum TargetTableColumn : int {
  kMeanX = 0, kMeanAux, kCholXX, kCholAuxX, kCholAuxAux,
  kWhiteningX, kWhiteningAux, kTargetXX, kTargetXAux, kTargetAuxX, kTargetAuxAux,
  kTargetTableColumns
};

// Preconditioning of the network (docs/departures.md "Preconditioning"),
// per feature dimension at time t, with C = marginalCovariance(t, 1) the 2x2
// covariance of z_t for unit-variance data (standardized features):
//   network input  z~ = W z,  W = L_C^{-1}   (C = L_C L_C^T; unit covariance
//                                             at every t for Gaussian data)
//   network output whitened_c = G z + F(z~, t),  G = -diag(sqrt(v_c)) C^{-1}
// G z is the score of N(0, C) in the units of the whitened targets (the
// "mixed score" of CLD-SGM): exact for Gaussian data, and the whole score
// at t -> T, so the network F learns only the data's departure from a
// Gaussian. "none" is W = I, G = 0 (checkpoints written before it).
// Columns of preconditioningTable(); for a one-channel process only the xx
// entries are non-zero.
enum PreconditioningColumn : int {
  kInputXX = 0, kInputAuxX, kInputAuxAux,
  kGaussianXX, kGaussianXAux, kGaussianAuxX, kGaussianAuxAux,
  kPreconditioningColumns
};

class TrainingTargets {
 public:
  // outputs must contain requiredScoreChannels(sde, false); throws otherwise.
  TrainingTargets(VanLoanKernel kernel, ScoreChannels outputs);
  const VanLoanKernel& kernel() const { return kernel_; }
  const ScoreChannels& outputs() const { return outputs_; }
  int channels() const { return kernel_.channels(); }

  TargetCoefficients coefficients(double t) const;
  // t.size() x kTargetTableColumns; row b holds coefficients(t(b)).
  Eigen::ArrayXXd coefficientTable(const Eigen::ArrayXd& t) const;

  // x0: B x D data; t: B times; noise: B x (channels * D), layout.h.
  // zt: B x (channels * D), the network input; targets: B x (outputs.count() * D).
  void makeBatch(const Eigen::ArrayXXd& x0, const Eigen::ArrayXd& t,
                 const Eigen::ArrayXXd& noise, Eigen::ArrayXXd& zt,
                 Eigen::ArrayXXd& targets) const;

  // whitened: B x (outputs.count() * D) network outputs at the common time t.
  // score: B x (channels * D); output channels = whitened / sqrt(v_c), the
  // other channels 0 (no sampler reads them).
  void scoresFromWhitened(double t, const Eigen::ArrayXXd& whitened,
                          Eigen::ArrayXXd& score) const;
  // The same with coefficients(t) already at hand (callers that evaluate
  // many calls at one t keep them: each costs a Van Loan evaluation).
  void scoresFromWhitened(const TargetCoefficients& k, const Eigen::ArrayXXd& whitened,
                          Eigen::ArrayXXd& score) const;

  // t.size() x kPreconditioningColumns: W and G above at each t (marginal),
  // or the identity and zero (preconditioned = false). Gaussian rows are in
  // output order: the xx/xAux entries belong to the x output, auxX/auxAux
  // to the aux output, each zero when that channel is not an output.
  Eigen::ArrayXXd preconditioningTable(const Eigen::ArrayXd& t, bool preconditioned) const;

 private:
  VanLoanKernel kernel_;
  ScoreChannels outputs_;
};

// n times drawn uniformly from [tEps, endTime].
Eigen::ArrayXd drawTrainingTimes(int n, double tEps, double endTime, Rng& rng);

}  // namespace activediff::model
