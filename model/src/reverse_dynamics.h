#pragma once
// The reverse-time drifts of MATH.md 4, defined once for every sampler and
// for the likelihood integrator.
#include <Eigen/Core>
#include <string>

#include "activediff/featurize/error.h"
#include "activediff/model/linear_sde.h"
#include "activediff/model/score_model.h"

namespace activediff::model::detail {

// out = A z - weight Q s: weight 1 is the reverse SDE's drift, 1/2 the
// probability flow's. Channels without noise never read s.
inline void reverseDrift(const LinearSde& sde, int dims, const Eigen::ArrayXXd& z,
                         const Eigen::ArrayXXd& s, double weight, Eigen::ArrayXXd& out) {
  const Eigen::Matrix2d& a = sde.drift();
  const Eigen::Matrix2d& q = sde.diffusion();
  const int c = sde.channels();
  out.resize(z.rows(), z.cols());
  for (int i = 0; i < c; ++i) {
    auto o = out.middleCols(i * dims, dims);
    o = a(i, 0) * z.middleCols(0, dims);
    if (c == 2) o += a(i, 1) * z.middleCols(dims, dims);
    if (q(i, i) > 0.0) o -= (weight * q(i, i)) * s.middleCols(i * dims, dims);
  }
}

// div_z of the probability flow, per row: D tr(A) - 1/2 sum_c Q_cc sum_d ds_c,d/dz_c,d.
inline Eigen::ArrayXd flowDivergence(const LinearSde& sde, int dims,
                                     const Eigen::ArrayXXd& jacobianDiagonal) {
  const Eigen::Matrix2d& q = sde.diffusion();
  Eigen::ArrayXd div =
      Eigen::ArrayXd::Constant(jacobianDiagonal.rows(), dims * sde.drift().trace());
  for (int i = 0; i < sde.channels(); ++i)
    if (q(i, i) > 0.0)
      div -= 0.5 * q(i, i) * jacobianDiagonal.middleCols(i * dims, dims).rowwise().sum();
  return div;
}

// The score channels a caller needs: those with noise, or all of them.
inline void requireScoreChannels(const ScoreModel& model, const LinearSde& sde, bool all,
                                 const std::string& who) {
  const ScoreChannels have = model.channels();
  for (int i = 0; i < sde.channels(); ++i)
    if ((all || sde.hasNoise(i)) && !have.has(i))
      throw Error(who + " for " + sde.describe() + " needs the score of channel " +
                  sde.channelName(i) + ", which the score model does not provide" +
                  (all ? " (Tweedie denoising needs every channel)" : ""));
}

inline void requireLayout(const Eigen::ArrayXXd& z, const LinearSde& sde, int dims,
                          const std::string& who) {
  if (dims < 1 || z.cols() != sde.channels() * dims)
    throw Error(who + ": states have " + std::to_string(z.cols()) + " columns, expected " +
                std::to_string(sde.channels()) + " channels x " + std::to_string(dims) +
                " dimensions");
}

}  // namespace activediff::model::detail
