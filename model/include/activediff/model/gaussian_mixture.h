#pragma once
// Gaussian-mixture data with its exact marginals under every LinearSde: the
// analytic score (test oracle for samplers and likelihoods, and the demo).
//
// Data: x_0 ~ sum_k w_k N(mu_k, diag(sigma_k^2)) in D dimensions, aux_0 from
// the process's start law. Under the linear SDE each component stays Gaussian
// and the dimensions stay independent within a component, so at time t
//   p_t(z) = sum_k w_k prod_d N(z_d; exp(A t) (mu_kd, 0)^T, C_kd(t)),
//   C_kd(t) = VanLoanKernel::marginalCovariance(t, sigma_kd^2)
//           = S(t) + exp(A t) diag(sigma_kd^2, Var aux0) exp(A^T t),
// with z_d = (x_d, aux_d): a Gaussian mixture in (x, aux). Its score is
// sum_k r_k(z) g_k(z), g_k = -C_k^{-1} (z - m_k), r_k the responsibilities,
// and d s_i / d z_i = -sum_k r_k (C_k^{-1})_ii + sum_k r_k g_k,i^2 - s_i^2.
#include <Eigen/Core>

#include "activediff/model/layout.h"
#include "activediff/model/score_model.h"
#include "activediff/model/van_loan_kernel.h"

namespace activediff::model {

struct GaussianMixture {
  Eigen::ArrayXd weights;     // K, summing to 1
  Eigen::ArrayXXd means;      // K x D
  Eigen::ArrayXXd variances;  // K x D, diagonal covariances

  int components() const { return static_cast<int>(weights.size()); }
  int dims() const { return static_cast<int>(means.cols()); }
  // The 9-peak diamond of the seed paper's 2D experiments: a 3 x 3 grid
  // turned by 45 degrees, equal weights, isotropic standard deviation sd.
  // Modes: (0, 0); the tips (+-h, 0), (0, +-h); the edge midpoints
  // (+-h/2, +-h/2), h = halfDiagonal. Defaults: Var per coordinate 0.76,
  // neighbouring modes 1.06 (10.6 sd) apart.
  static GaussianMixture diamond(double halfDiagonal = 1.5, double sd = 0.1);
  // Throws activediff::Error unless weights are positive and sum to 1 and the
  // shapes agree.
  void validate() const;
  Eigen::ArrayXXd sample(int n, Rng& rng) const;  // n x D
  Eigen::ArrayXd variance() const;                // per dimension, of the mixture
  // Index of the nearest mode mean for each row of x (n x D).
  Eigen::ArrayXi nearestMode(const Eigen::ArrayXXd& x) const;
};

// p_t of the mixture under a process: exact score, Jacobian diagonal, log-density.
class MixtureMarginal : public ScoreModel {
 public:
  MixtureMarginal(VanLoanKernel kernel, GaussianMixture data);
  ScoreChannels channels() const override;  // every channel
  void score(const Eigen::ArrayXXd& z, double t, Eigen::ArrayXXd& score) override;
  bool hasJacobianDiagonal() const override { return true; }
  void scoreAndJacobianDiagonal(const Eigen::ArrayXXd& z, double t, Eigen::ArrayXXd& score,
                                Eigen::ArrayXXd& jacobianDiagonal) override;
  // log p_t(z), joint in (x, aux), one per row.
  Eigen::ArrayXd logDensity(const Eigen::ArrayXXd& z, double t) const;
  const GaussianMixture& data() const { return data_; }

 private:
  void evaluate(const Eigen::ArrayXXd& z, double t, Eigen::ArrayXd* logDensity,
                Eigen::ArrayXXd* score, Eigen::ArrayXXd* jacobianDiagonal) const;
  VanLoanKernel kernel_;
  GaussianMixture data_;
};

}  // namespace activediff::model
