#pragma once
// Mode weights and means of samples against a Gaussian mixture's modes.
#include <Eigen/Core>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "activediff/model/gaussian_mixture.h"

namespace activediff::model::testing {

struct ModeReport {
  double worstWeightError = 0.0;
  double worstMeanError = 0.0;
};

// x: n x D data coordinates (the x block of the samples).
inline ModeReport compareModes(const GaussianMixture& mixture, const Eigen::ArrayXXd& x) {
  const Eigen::ArrayXi mode = mixture.nearestMode(x);
  ModeReport r;
  for (int k = 0; k < mixture.components(); ++k) {
    const Eigen::Index count = (mode == k).count();
    r.worstWeightError = std::max(
        r.worstWeightError, std::abs(double(count) / x.rows() - mixture.weights(k)));
    if (count == 0) {
      r.worstMeanError = 1e300;
      continue;
    }
    Eigen::ArrayXd sum = Eigen::ArrayXd::Zero(x.cols());
    for (Eigen::Index i = 0; i < x.rows(); ++i)
      if (mode(i) == k) sum += x.row(i).transpose();
    const Eigen::ArrayXd mean = sum / double(count);
    r.worstMeanError = std::max(
        r.worstMeanError, (mean - mixture.means.row(k).transpose()).matrix().norm());
  }
  return r;
}

// Root-mean-square distance per coordinate of samples from their nearest
// mode's mean: the within-mode sd (x: n x D data coordinates).
inline double withinModeSd(const GaussianMixture& mixture, const Eigen::ArrayXXd& x) {
  const Eigen::ArrayXi mode = mixture.nearestMode(x);
  double ss = 0.0;
  for (Eigen::Index i = 0; i < x.rows(); ++i) ss += (x.row(i) - mixture.means.row(mode(i))).square().sum();
  return std::sqrt(ss / (double(x.cols()) * double(x.rows())));
}

}  // namespace activediff::model::testing
