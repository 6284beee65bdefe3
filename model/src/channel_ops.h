#pragma once
// Internal helpers over the channel-major layout of layout.h and over padded
// 2x2 blocks (a one-channel block uses only its (0, 0) entry).
#include <Eigen/Core>
#include <Eigen/LU>
#include <algorithm>
#include <cmath>

#include "activediff/model/layout.h"

namespace activediff::model::detail {

// out = (m (x) I_D) z: channel c of out is sum_c' m(c, c') channel c' of z.
inline void applyBlock(const Eigen::Matrix2d& m, const Eigen::ArrayXXd& z, int channels,
                       int dims, Eigen::ArrayXXd& out) {
  out.resize(z.rows(), z.cols());
  if (channels == 1) {
    out = m(0, 0) * z;
    return;
  }
  const auto x = z.middleCols(0, dims);
  const auto a = z.middleCols(dims, dims);
  out.middleCols(0, dims) = m(0, 0) * x + m(0, 1) * a;
  out.middleCols(dims, dims) = m(1, 0) * x + m(1, 1) * a;
}

// Lower Cholesky factor of a positive semi-definite block on its channels;
// a vanishing pivot (deterministic channel) gives a zero column.
inline Eigen::Matrix2d choleskyLower(const Eigen::Matrix2d& s, int channels) {
  Eigen::Matrix2d l = Eigen::Matrix2d::Zero();
  const double l11 = std::sqrt(std::max(s(0, 0), 0.0));
  l(0, 0) = l11;
  if (channels == 1) return l;
  l(1, 0) = l11 > 0.0 ? s(1, 0) / l11 : 0.0;
  l(1, 1) = std::sqrt(std::max(s(1, 1) - l(1, 0) * l(1, 0), 0.0));
  return l;
}

// Inverse on the channels (padding stays 0).
inline Eigen::Matrix2d inverseOnChannels(const Eigen::Matrix2d& s, int channels) {
  Eigen::Matrix2d inv = Eigen::Matrix2d::Zero();
  if (channels == 1) {
    inv(0, 0) = 1.0 / s(0, 0);
    return inv;
  }
  return s.inverse();
}

inline double logDetOnChannels(const Eigen::Matrix2d& s, int channels) {
  return channels == 1 ? std::log(s(0, 0)) : std::log(s.determinant());
}

// The one Gaussian noise source (layout.h), also reachable as detail::.
using activediff::model::fillStandardNormal;

}  // namespace activediff::model::detail
