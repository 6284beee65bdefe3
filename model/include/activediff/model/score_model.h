#pragma once
// What the samplers and the likelihood integrator call: a score provider,
// grad_z log p_t(z), at a common time t for a whole batch. The LibTorch side
// wraps a trained network as a ScoreModel (TrainingTargets::scoresFromWhitened
// turns its whitened outputs into scores); the analytic Gaussian mixture
// (gaussian_mixture.h) is another implementation, used as a test oracle.
//
// Layout (layout.h): z and score are B x (c * D), rows = samples, columns
// channel-major [x_1..x_D | aux_1..aux_D]. A provider fills at least the
// channel blocks named by channels(); other blocks may hold anything (they are
// never read). Samplers need the channels with noise (Q_cc > 0), Tweedie
// denoising needs every channel, see requiredScoreChannels().
//
// The likelihood (MATH.md 4b) needs the exact divergence of the probability
// flow, i.e. the diagonal of the score's Jacobian: jacobianDiagonal(b, col) =
// d score(b, col) / d z(b, col), same layout, for the channel blocks with
// noise (Q_cc > 0): the divergence reads no other, so a provider may leave the
// rest (the x block of an active model without passive noise) unfilled.
// A network computes it with one vector-Jacobian product per output column
// (or forward mode); it is optional.
#include <Eigen/Core>
#include <functional>

#include "activediff/model/layout.h"

namespace activediff::model {

class ScoreModel {
 public:
  virtual ~ScoreModel() = default;
  // The channel blocks this provider fills.
  virtual ScoreChannels channels() const = 0;
  // score is resized by the provider (or already B x (c * D)).
  virtual void score(const Eigen::ArrayXXd& z, double t, Eigen::ArrayXXd& score) = 0;
  virtual bool hasJacobianDiagonal() const { return false; }
  // Default: throws activediff::Error ("this score model has no Jacobian").
  virtual void scoreAndJacobianDiagonal(const Eigen::ArrayXXd& z, double t,
                                        Eigen::ArrayXXd& score, Eigen::ArrayXXd& jacobianDiagonal);
};

// Adapts callables (lambdas, a network wrapper) to ScoreModel.
class FunctionScoreModel : public ScoreModel {
 public:
  using ScoreFunction =
      std::function<void(const Eigen::ArrayXXd& z, double t, Eigen::ArrayXXd& score)>;
  using ScoreJacobianFunction =
      std::function<void(const Eigen::ArrayXXd& z, double t, Eigen::ArrayXXd& score,
                         Eigen::ArrayXXd& jacobianDiagonal)>;
  FunctionScoreModel(ScoreChannels channels, ScoreFunction score,
                     ScoreJacobianFunction withJacobian = {});
  ScoreChannels channels() const override { return channels_; }
  void score(const Eigen::ArrayXXd& z, double t, Eigen::ArrayXXd& score) override;
  bool hasJacobianDiagonal() const override { return static_cast<bool>(withJacobian_); }
  void scoreAndJacobianDiagonal(const Eigen::ArrayXXd& z, double t, Eigen::ArrayXXd& score,
                                Eigen::ArrayXXd& jacobianDiagonal) override;

 private:
  ScoreChannels channels_;
  ScoreFunction score_;
  ScoreJacobianFunction withJacobian_;
};

}  // namespace activediff::model
