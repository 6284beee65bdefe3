#include "activediff/model/samplers.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <utility>
#include <vector>

#include <Eigen/Eigenvalues>

#include "activediff/featurize/error.h"
#include "channel_ops.h"
#include "reverse_dynamics.h"

namespace activediff::model {
namespace {

using Eigen::ArrayXXd;

// A score model that counts its calls for the SampleResult.
struct CountedScore {
  ScoreModel& model;
  long calls = 0;
  void operator()(const ArrayXXd& z, double t, ArrayXXd& s) {
    ++calls;
    model.score(z, t, s);
  }
};

// Adds sqrt(h Q_cc) N(0, 1) to each channel with noise.
void addDiffusion(const LinearSde& sde, int dims, double h, ArrayXXd& z, ArrayXXd& noise,
                  Rng& rng) {
  for (int i = 0; i < sde.channels(); ++i) {
    const double q = sde.diffusion()(i, i);
    if (q <= 0.0) continue;
    noise.resize(z.rows(), dims);
    detail::fillStandardNormal(noise, rng);
    z.middleCols(i * dims, dims) += std::sqrt(h * q) * noise;
  }
}

void eulerMaruyama(const LinearSde& sde, int dims, const std::vector<double>& grid,
                   CountedScore& score, ArrayXXd& z, Rng& rng, SampleResult& result) {
  ArrayXXd s, drift, noise;
  for (std::size_t i = grid.size() - 1; i > 0; --i) {
    const double t = grid[i];
    const double h = t - grid[i - 1];
    score(z, t, s);
    detail::reverseDrift(sde, dims, z, s, 1.0, drift);
    z -= h * drift;
    // The last step ends on its mean: noise injected there would stay in the
    // samples as an extra variance h Q (issue 11).
    if (i > 1) addDiffusion(sde, dims, h, z, noise, rng);
    ++result.steps;
  }
}

void heun(const LinearSde& sde, int dims, const std::vector<double>& grid, CountedScore& score,
          ArrayXXd& z, SampleResult& result) {
  ArrayXXd s, k1, k2, predictor;
  for (std::size_t i = grid.size() - 1; i > 0; --i) {
    const double t = grid[i];
    const double dt = grid[i - 1] - t;  // negative: backwards in time
    score(z, t, s);
    detail::reverseDrift(sde, dims, z, s, 0.5, k1);
    predictor = z + dt * k1;
    score(predictor, grid[i - 1], s);
    detail::reverseDrift(sde, dims, predictor, s, 0.5, k2);
    z += (0.5 * dt) * (k1 + k2);
    ++result.steps;
  }
}

// Dormand-Prince 5(4) on the probability flow, one step size for the batch.
void rk45(const LinearSde& sde, int dims, double tStart, double tEnd,
          const SamplerOptions& options, CountedScore& score, ArrayXXd& z,
          SampleResult& result) {
  static constexpr double c2 = 1.0 / 5, c3 = 3.0 / 10, c4 = 4.0 / 5, c5 = 8.0 / 9;
  static constexpr double a21 = 1.0 / 5;
  static constexpr double a31 = 3.0 / 40, a32 = 9.0 / 40;
  static constexpr double a41 = 44.0 / 45, a42 = -56.0 / 15, a43 = 32.0 / 9;
  static constexpr double a51 = 19372.0 / 6561, a52 = -25360.0 / 2187, a53 = 64448.0 / 6561,
                          a54 = -212.0 / 729;
  static constexpr double a61 = 9017.0 / 3168, a62 = -355.0 / 33, a63 = 46732.0 / 5247,
                          a64 = 49.0 / 176, a65 = -5103.0 / 18656;
  static constexpr double b1 = 35.0 / 384, b3 = 500.0 / 1113, b4 = 125.0 / 192,
                          b5 = -2187.0 / 6784, b6 = 11.0 / 84;
  // 5th minus 4th order weights.
  static constexpr double e1 = 71.0 / 57600, e3 = -71.0 / 16695, e4 = 71.0 / 1920,
                          e5 = -17253.0 / 339200, e6 = 22.0 / 525, e7 = -1.0 / 40;
  ArrayXXd s, k1, k2, k3, k4, k5, k6, k7, y, next;
  auto flow = [&](const ArrayXXd& state, double t, ArrayXXd& out) {
    score(state, t, s);
    detail::reverseDrift(sde, dims, state, s, 0.5, out);
  };
  double t = tStart;
  double h = -0.01 * (tStart - tEnd);
  flow(z, t, k1);
  while (t > tEnd) {
    const bool last = t + h <= tEnd;
    if (last) h = tEnd - t;
    flow(z + h * (a21 * k1), t + c2 * h, k2);
    flow(z + h * (a31 * k1 + a32 * k2), t + c3 * h, k3);
    flow(z + h * (a41 * k1 + a42 * k2 + a43 * k3), t + c4 * h, k4);
    flow(z + h * (a51 * k1 + a52 * k2 + a53 * k3 + a54 * k4), t + c5 * h, k5);
    flow(z + h * (a61 * k1 + a62 * k2 + a63 * k3 + a64 * k4 + a65 * k5), t + h, k6);
    next = z + h * (b1 * k1 + b3 * k3 + b4 * k4 + b5 * k5 + b6 * k6);
    flow(next, t + h, k7);
    const ArrayXXd scale = options.absoluteTolerance +
                           options.relativeTolerance * z.abs().max(next.abs());
    const double error =
        std::sqrt(((h * (e1 * k1 + e3 * k3 + e4 * k4 + e5 * k5 + e6 * k6 + e7 * k7)) / scale)
                      .square()
                      .mean());
    const bool accept = error <= 1.0;
    if (accept) {
      t = last ? tEnd : t + h;
      z.swap(next);
      k1.swap(k7);  // first same as last
      ++result.steps;
    } else {
      ++result.rejectedSteps;
    }
    if (result.steps + result.rejectedSteps > options.maxSteps)
      throw Error("RK45 sampler: more than " + std::to_string(options.maxSteps) +
                  " steps; loosen the tolerances or check the score");
    double factor = error > 0.0 ? 0.9 * std::pow(error, -0.2) : 5.0;
    factor = std::min(5.0, std::max(0.2, factor));
    if (!accept) factor = std::min(factor, 1.0);
    h *= factor;
  }
}

// The exact linear half step of a splitting sampler: z <- transition z + noiseFactor N(0, 1).
struct LinearHalfStep {
  Eigen::Matrix2d transition, noiseFactor;
};

// The symmetric splitting shared by SSCS and GSSCS (samplers.h): for each step
// t_i -> t_{i-1} with midpoint m, the linear half step t_i -> m, one Euler step
// of the residual part dz = -Q (s + P_m z) dt with the score at m, and the
// linear half step m -> t_{i-1}. halfSteps(t_{i-1}, m, t_i) returns the upper
// and the lower half step; precision(m) is the P the residual adds back;
// residualScale is reverseScoreWeight(lambda) (1 for the reverse SDE).
template <class HalfSteps, class Precision>
void symmetricSplitting(const LinearSde& sde, int dims, const std::vector<double>& grid,
                        HalfSteps halfSteps, Precision precision, double residualScale,
                        CountedScore& score, ArrayXXd& z, Rng& rng, SampleResult& result) {
  const int c = sde.channels();
  const Eigen::Matrix2d& q = sde.diffusion();
  ArrayXXd s, pz, noise(z.rows(), z.cols()), moved;
  auto halfStep = [&](const LinearHalfStep& step) {
    detail::applyBlock(step.transition, z, c, dims, moved);
    detail::fillStandardNormal(noise, rng);
    detail::applyBlock(step.noiseFactor, noise, c, dims, pz);
    z = moved + pz;
  };
  for (std::size_t i = grid.size() - 1; i > 0; --i) {
    const double h = grid[i] - grid[i - 1], mid = grid[i] - 0.5 * h;
    const std::pair<LinearHalfStep, LinearHalfStep> steps = halfSteps(grid[i - 1], mid, grid[i]);
    halfStep(steps.first);
    score(z, mid, s);
    detail::applyBlock(precision(mid), z, c, dims, pz);
    for (int ch = 0; ch < c; ++ch)
      if (q(ch, ch) > 0.0)
        z.middleCols(ch * dims, dims) +=
            (residualScale * h * q(ch, ch)) * (s.middleCols(ch * dims, dims) + pz.middleCols(ch * dims, dims));
    halfStep(steps.second);
    ++result.steps;
  }
}

void sscs(const VanLoanKernel& kernel, int dims, const std::vector<double>& grid,
          CountedScore& score, ArrayXXd& z, Rng& rng, SampleResult& result) {
  const LinearSde& sde = kernel.sde();
  const int c = sde.channels();
  const Eigen::Matrix2d& q = sde.diffusion();
  const Eigen::Matrix2d stationaryPrecision =
      detail::inverseOnChannels(kernel.stationaryCovariance(), c);
  const Eigen::Matrix2d b = -sde.drift() - q * stationaryPrecision;
  // Both half steps depend on the step size alone: recompute only when it
  // changes (never on a uniform grid).
  double cachedStep = -1.0;
  LinearHalfStep half;
  auto halfSteps = [&](double tLo, double, double tHi) {
    const double h = tHi - tLo;
    if (std::abs(h - cachedStep) > 1e-9 * h) {
      const TransitionMoments m = vanLoan(b, q, 0.5 * h);
      half = {m.transition, detail::choleskyLower(m.covariance, c)};
      cachedStep = h;
    }
    return std::make_pair(half, half);
  };
  symmetricSplitting(sde, dims, grid, halfSteps,
                     [&](double) -> const Eigen::Matrix2d& { return stationaryPrecision; }, 1.0, score,
                     z, rng, result);
}


// Gauss-Legendre nodes and weights on [-1, 1] (Newton on P_n).
void gaussLegendre(int n, std::vector<double>& x, std::vector<double>& w) {
  x.assign(n, 0.0);
  w.assign(n, 0.0);
  const double pi = std::acos(-1.0);
  for (int i = 0; i < n; ++i) {
    double r = std::cos(pi * (i + 0.75) / (n + 0.5));
    double dp = 1.0;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1.0, p1 = r;
      for (int k = 2; k <= n; ++k) {
        const double p2 = ((2.0 * k - 1.0) * r * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = n * (r * p1 - p0) / (r * r - 1.0);
      const double dr = p1 / dp;
      r -= dr;
      if (std::abs(dr) < 1e-16) break;
    }
    x[i] = r;
    w[i] = 2.0 / ((1.0 - r * r) * dp * dp);
  }
}

// The weight (1 + lambda^2) / 2 of Q s in the family's drift: the linear part
// carries its Gaussian share (Q P_t), the residual kick the rest (s + P_t z).
double reverseScoreWeight(double lambda) { return 0.5 * (1.0 + lambda * lambda); }

// DEIS. The linear part A~_t = A + (1/2) Q P_t of the flow, with P_t the
// precision the residual r = s + P_t z subtracts.
class DeisLinearPart {
 public:
  DeisLinearPart(const VanLoanKernel& kernel, const SamplerOptions& o)
      : kernel_(kernel), c_(kernel.channels()), referenceVariance_(o.deisReferenceVariance) {
    using Part = SamplerOptions::DeisLinearPart;
    part_ = o.deisLinearPart;
    if (part_ == Part::Stationary)
      constant_ = detail::inverseOnChannels(kernel.stationaryCovariance(), c_);
    else
      constant_ = Eigen::Matrix2d::Zero();
  }
  // P_t (padding 0).
  Eigen::Matrix2d precision(double t) const {
    if (part_ != SamplerOptions::DeisLinearPart::Gaussian) return constant_;
    return detail::inverseOnChannels(kernel_.marginalCovariance(t, referenceVariance_), c_);
  }
  Eigen::Matrix2d drift(double t) const {
    return kernel_.sde().drift() + 0.5 * kernel_.sde().diffusion() * precision(t);
  }
  // The linear part of the family member lambda (samplers.h), with
  // w = reverseScoreWeight(lambda): M_t = A + w Q P_t = 2 w A~_t - (2 w - 1) A,
  // A~_t itself for the flow (lambda = 0), 2 A~_t - A for the reverse SDE.
  Eigen::Matrix2d familyDrift(double t, double lambda) const {
    const double twoW = 2.0 * reverseScoreWeight(lambda);
    return twoW * drift(t) - (twoW - 1.0) * kernel_.sde().drift();
  }

 private:
  const VanLoanKernel& kernel_;
  int c_;
  double referenceVariance_;
  SamplerOptions::DeisLinearPart part_;
  Eigen::Matrix2d constant_;
};

// The DEIS coefficients of one grid: for step i (t_i -> t_{i-1}) the
// transition Phi(t_{i-1}, t_i) of the linear part and one 2x2 block per
// history value.
struct DeisStep {
  Eigen::Matrix2d transition;
  std::vector<Eigen::Matrix2d> weights;  // weights[j] multiplies rho at grid[i + j]
  Eigen::Matrix2d noiseFactor = Eigen::Matrix2d::Zero();  // stochastic DEIS: a root of Cov xi
};

// A symmetric square root of a noise covariance: it is near-singular where a
// channel has no noise and the step is short (active Tp = 0), which Cholesky
// refuses. Two-channel only; one channel: the scalar root, padding 0.
Eigen::Matrix2d noiseRoot(const Eigen::Matrix2d& covariance, int channels) {
  const Eigen::Matrix2d sym = 0.5 * (covariance + covariance.transpose());
  Eigen::Matrix2d root = Eigen::Matrix2d::Zero();
  if (channels == 1) {
    root(0, 0) = std::sqrt(std::max(sym(0, 0), 0.0));
    return root;
  }
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix2d> eig(sym);
  const Eigen::Vector2d r = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  return eig.eigenvectors() * r.asDiagonal() * eig.eigenvectors().transpose();
}

constexpr int kDeisQuadratureNodes = 24;
constexpr int kDeisSubsteps = 3;  // RK4 substeps of Phi between quadrature nodes

// sqrt(v_c(t)) of the kernel given x_0 (training_targets.h), per channel.
Eigen::Vector2d conditionalSd(const VanLoanKernel& kernel, double t) {
  const Eigen::Matrix2d s = kernel.givenX0(t).covariance;
  Eigen::Vector2d sd = Eigen::Vector2d::Zero();
  if (kernel.channels() == 1) {
    sd(0) = std::sqrt(s(0, 0));
  } else {
    const double det = s.determinant();
    sd(0) = std::sqrt(det / s(1, 1));
    sd(1) = std::sqrt(det / s(0, 0));
  }
  return sd;
}

// lambda: the member of the reverse-time family (samplers.h); 0 is DEIS on the
// probability flow, and then the noise factors are 0.
std::vector<DeisStep> deisCoefficients(const VanLoanKernel& kernel, const DeisLinearPart& linear,
                                       const std::vector<double>& grid, int order,
                                       double lambda = 0.0) {
  const LinearSde& sde = kernel.sde();
  const int c = sde.channels();
  const Eigen::Matrix2d& q = sde.diffusion();
  std::vector<double> gx, gw;
  gaussLegendre(kDeisQuadratureNodes, gx, gw);
  // d/du Phi(t_lo, u^2) = -Phi M(u^2) 2u, u = sqrt(tau), M the family's
  // linear part (A~ for the flow).
  const double scoreWeight = reverseScoreWeight(lambda);
  const Eigen::Matrix2d noise = (lambda * lambda) * q;
  auto derivative = [&](const Eigen::Matrix2d& phi, double u) -> Eigen::Matrix2d {
    return -2.0 * u * phi * linear.familyDrift(u * u, lambda);
  };
  auto advance = [&](Eigen::Matrix2d& phi, double u0, double u1) {
    const double hs = (u1 - u0) / kDeisSubsteps;
    for (int k = 0; k < kDeisSubsteps; ++k) {
      const double u = u0 + k * hs;
      const Eigen::Matrix2d k1 = derivative(phi, u);
      const Eigen::Matrix2d k2 = derivative(phi + 0.5 * hs * k1, u + 0.5 * hs);
      const Eigen::Matrix2d k3 = derivative(phi + 0.5 * hs * k2, u + 0.5 * hs);
      const Eigen::Matrix2d k4 = derivative(phi + hs * k3, u + hs);
      phi += (hs / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }
  };
  const std::size_t n = grid.size() - 1;
  std::vector<DeisStep> steps(n + 1);
  for (std::size_t i = n; i > 0; --i) {
    DeisStep& step = steps[i];
    const int r = static_cast<int>(std::min<std::size_t>(order, n - i + 1));
    // Lagrange nodes in u = sqrt(t) (the whitening makes rho ~ sqrt(t) near 0).
    std::vector<double> nodes(r);
    for (int j = 0; j < r; ++j) nodes[j] = std::sqrt(grid[i + j]);
    step.weights.assign(r, Eigen::Matrix2d::Zero());
    const double ua = std::sqrt(grid[i - 1]), ub = std::sqrt(grid[i]);
    Eigen::Matrix2d phi = Eigen::Matrix2d::Identity();  // Phi(t_{i-1}, u^2)
    Eigen::Matrix2d noiseCovariance = Eigen::Matrix2d::Zero();  // int Phi lambda^2 Q Phi^T dtau
    double uPrev = ua;
    for (int g = 0; g < kDeisQuadratureNodes; ++g) {
      // Gauss-Legendre nodes ascending in u.
      const double u = 0.5 * (ua + ub) - 0.5 * (ub - ua) * gx[g];
      advance(phi, uPrev, u);
      uPrev = u;
      const double dtau = 0.5 * (ub - ua) * gw[g] * 2.0 * u;  // dtau = 2 u du
      const Eigen::Vector2d sd = conditionalSd(kernel, u * u);
      Eigen::Matrix2d g2 = Eigen::Matrix2d::Zero();  // w Q W^{-1} on noisy channels
      for (int ch = 0; ch < c; ++ch)
        if (q(ch, ch) > 0.0) g2(ch, ch) = scoreWeight * q(ch, ch) / sd(ch);
      const Eigen::Matrix2d atNode = phi * g2;
      if (lambda > 0.0) noiseCovariance += dtau * phi * noise * phi.transpose();
      for (int j = 0; j < r; ++j) {
        double basis = 1.0;
        for (int m = 0; m < r; ++m)
          if (m != j) basis *= (u - nodes[m]) / (nodes[j] - nodes[m]);
        step.weights[j] -= (dtau * basis) * atNode;
      }
    }
    advance(phi, uPrev, ub);
    step.transition = phi;
    if (lambda > 0.0) step.noiseFactor = noiseRoot(noiseCovariance, c);
    if (c == 1) {  // padding stays 0
      step.transition(0, 1) = step.transition(1, 0) = step.transition(1, 1) = 0.0;
      for (auto& m : step.weights) m(0, 1) = m(1, 0) = m(1, 1) = 0.0;
    }
  }
  return steps;
}

// lambda > 0 (stochastic DEIS): the same multistep residual on the linear SDE
// of GSSCS, whose exact noise is added each step from rng.
void deis(const VanLoanKernel& kernel, int dims, const std::vector<double>& grid,
          const SamplerOptions& options, double lambda, CountedScore& score, ArrayXXd& z,
          Rng* rng, SampleResult& result) {
  const LinearSde& sde = kernel.sde();
  const int c = sde.channels();
  const DeisLinearPart linear(kernel, options);
  const std::vector<DeisStep> steps = deisCoefficients(kernel, linear, grid, options.order, lambda);
  // history[j]: rho at grid[i + j] (most recent first).
  std::vector<ArrayXXd> history;
  ArrayXXd s, pz, moved, term, noise;
  const std::size_t n = grid.size() - 1;
  for (std::size_t i = n; i > 0; --i) {
    score(z, grid[i], s);
    ArrayXXd rho = ArrayXXd::Zero(z.rows(), z.cols());
    detail::applyBlock(linear.precision(grid[i]), z, c, dims, pz);
    const Eigen::Vector2d sd = conditionalSd(kernel, grid[i]);
    for (int ch = 0; ch < c; ++ch)
      if (sde.hasNoise(ch))
        rho.middleCols(ch * dims, dims) =
            -sd(ch) * (s.middleCols(ch * dims, dims) + pz.middleCols(ch * dims, dims));
    history.insert(history.begin(), std::move(rho));
    if (static_cast<int>(history.size()) > options.order) history.pop_back();
    const DeisStep& step = steps[i];
    detail::applyBlock(step.transition, z, c, dims, moved);
    for (std::size_t j = 0; j < step.weights.size(); ++j) {
      detail::applyBlock(step.weights[j], history[j], c, dims, term);
      moved += term;
    }
    if (lambda > 0.0) {
      noise.resize(z.rows(), z.cols());
      detail::fillStandardNormal(noise, *rng);
      detail::applyBlock(step.noiseFactor, noise, c, dims, term);
      moved += term;
    }
    z.swap(moved);
    ++result.steps;
  }
}

// GSSCS (samplers.h): SSCS split around DEIS's Gaussian reference. The
// linear part dz = M_t z dt + lambda G dW_bar, M_t = A + (1 + lambda^2) / 2 Q P_t
// (reverse time; lambda = options.stochasticity), over
// [t_lo, t_hi]: z(t_lo) = Phi z(t_hi) + xi, d/dtau Phi(t_lo, tau) = -Phi M_tau,
// Cov xi = int Phi Q Phi^T dtau; RK4 in u = sqrt(tau), for every half step of
// every call (P_t varies with t, so no step size repeats them).
constexpr int kHalfStepSubsteps = 36;

LinearHalfStep gaussianLinearStep(const VanLoanKernel& kernel, const DeisLinearPart& linear,
                                  double lambda, double tLo, double tHi) {
  const LinearSde& sde = kernel.sde();
  const Eigen::Matrix2d& q = sde.diffusion();
  struct State {
    Eigen::Matrix2d phi, sigma;
  };
  // d/du at tau = u^2 (dtau = 2 u du), M the family's linear part.
  const Eigen::Matrix2d noise = (lambda * lambda) * q;
  auto derivative = [&](const State& y, double u) -> State {
    const Eigen::Matrix2d m = linear.familyDrift(u * u, lambda);
    return {-2.0 * u * y.phi * m, 2.0 * u * y.phi * noise * y.phi.transpose()};
  };
  auto axpy = [](const State& y, double h, const State& d) -> State {
    return {y.phi + h * d.phi, y.sigma + h * d.sigma};
  };
  const double ua = std::sqrt(tLo), ub = std::sqrt(tHi), hs = (ub - ua) / kHalfStepSubsteps;
  State y{Eigen::Matrix2d::Identity(), Eigen::Matrix2d::Zero()};
  for (int k = 0; k < kHalfStepSubsteps; ++k) {
    const double u = ua + k * hs;
    const State k1 = derivative(y, u);
    const State k2 = derivative(axpy(y, 0.5 * hs, k1), u + 0.5 * hs);
    const State k3 = derivative(axpy(y, 0.5 * hs, k2), u + 0.5 * hs);
    const State k4 = derivative(axpy(y, hs, k3), u + hs);
    y.phi += (hs / 6.0) * (k1.phi + 2.0 * k2.phi + 2.0 * k3.phi + k4.phi);
    y.sigma += (hs / 6.0) * (k1.sigma + 2.0 * k2.sigma + 2.0 * k3.sigma + k4.sigma);
  }
  LinearHalfStep out;
  out.transition = y.phi;
  out.noiseFactor = noiseRoot(y.sigma, kernel.channels());
  if (kernel.channels() == 1) out.transition(0, 1) = out.transition(1, 0) = out.transition(1, 1) = 0.0;
  return out;
}

void gaussianSscs(const VanLoanKernel& kernel, int dims, const std::vector<double>& grid,
                  const SamplerOptions& options, CountedScore& score, ArrayXXd& z, Rng& rng,
                  SampleResult& result) {
  const DeisLinearPart linear(kernel, options);
  const double lambda = options.stochasticity;
  auto halfSteps = [&](double tLo, double mid, double tHi) {
    return std::make_pair(gaussianLinearStep(kernel, linear, lambda, mid, tHi),
                          gaussianLinearStep(kernel, linear, lambda, tLo, mid));
  };
  symmetricSplitting(kernel.sde(), dims, grid, halfSteps,
                     [&](double t) { return linear.precision(t); }, reverseScoreWeight(lambda),
                     score, z, rng, result);
}

}  // namespace

std::string samplerName(SamplerKind kind) {
  switch (kind) {
    case SamplerKind::EulerMaruyama:
      return "em";
    case SamplerKind::Heun:
      return "heun";
    case SamplerKind::Rk45:
      return "rk45";
    case SamplerKind::Sscs:
      return "sscs";
    case SamplerKind::Deis:
      return "deis";
    case SamplerKind::GaussianSscs:
      return "gsscs";
    case SamplerKind::StochasticDeis:
      return "sdeis";
  }
  return "?";
}

SamplerKind parseSamplerKind(const std::string& name) {
  for (SamplerKind k : {SamplerKind::EulerMaruyama, SamplerKind::Heun, SamplerKind::Rk45,
                        SamplerKind::Sscs, SamplerKind::Deis, SamplerKind::GaussianSscs,
                        SamplerKind::StochasticDeis})
    if (samplerName(k) == name) return k;
  throw Error("sampler '" + name + "': expected em, heun, rk45, sscs, gsscs, deis or sdeis");
}

Sampler::Sampler(VanLoanKernel kernel, GaussianPrior prior, SamplerOptions options)
    : kernel_(std::move(kernel)), prior_(std::move(prior)), options_(options) {
  std::ostringstream m;
  if (prior_.channels() != kernel_.channels())
    m << "sampler: the prior has " << prior_.channels() << " channels, the process "
      << kernel_.channels();
  else if (!(options_.tEps > 0.0 && options_.tEps < prior_.endTime()))
    m << "sampler: t_eps = " << options_.tEps << " must lie in (0, end_time = "
      << prior_.endTime() << ")";
  else if (options_.steps < 1)
    m << "sampler: steps = " << options_.steps << " must be >= 1";
  else if (options_.order < 1 || options_.order > 3)
    m << "sampler: order = " << options_.order << " must be 1, 2 or 3 (DEIS)";
  else if (!(options_.deisReferenceVariance > 0.0 && std::isfinite(options_.deisReferenceVariance)))
    m << "sampler: the DEIS reference variance must be > 0";
  else if (!(options_.relativeTolerance > 0.0 && options_.absoluteTolerance > 0.0))
    m << "sampler: RK45 tolerances must be > 0";
  else if (!(options_.stochasticity >= 0.0 && options_.stochasticity <= 1.0))
    m << "sampler: stochasticity = " << options_.stochasticity << " must lie in [0, 1] (GSSCS, SDEIS)";
  if (!m.str().empty()) throw Error(m.str());
}

SampleResult Sampler::sample(ScoreModel& model, int n, int dims, std::uint64_t seed) const {
  if (n < 1 || dims < 1) throw Error("sampler: need n >= 1 samples of dims >= 1");
  Rng rng(seed);
  ArrayXXd z = prior_.sample(n, dims, rng);
  SampleResult result = reverse(model, std::move(z), prior_.endTime(), options_.tEps, rng);
  if (options_.tweedie) {
    denoise(model, result.z, options_.tEps);
    ++result.scoreCalls;
  }
  return result;
}

SampleResult Sampler::reverse(ScoreModel& model, ArrayXXd z, double tStart, double tEnd,
                              Rng& rng) const {
  const LinearSde& sde = kernel_.sde();
  const int dims = static_cast<int>(z.cols()) / sde.channels();
  detail::requireLayout(z, sde, dims, "sampler");
  detail::requireScoreChannels(model, sde, false, "sampler " + samplerName(options_.kind));
  CountedScore score{model};
  SampleResult result;
  if (options_.kind == SamplerKind::Rk45) {
    if (!(tEnd > 0.0 && tStart > tEnd)) throw Error("sampler: need 0 < t_end < t_start");
    rk45(sde, dims, tStart, tEnd, options_, score, z, result);
  } else {
    const std::vector<double> grid =
        makeTimeGrid(options_.grid, tEnd, tStart, options_.steps, &kernel_);
    switch (options_.kind) {
      case SamplerKind::EulerMaruyama:
        eulerMaruyama(sde, dims, grid, score, z, rng, result);
        break;
      case SamplerKind::Heun:
        heun(sde, dims, grid, score, z, result);
        break;
      case SamplerKind::Sscs:
        sscs(kernel_, dims, grid, score, z, rng, result);
        break;
      case SamplerKind::Deis:
        deis(kernel_, dims, grid, options_, 0.0, score, z, nullptr, result);
        break;
      case SamplerKind::StochasticDeis:
        deis(kernel_, dims, grid, options_, options_.stochasticity, score, z, &rng, result);
        break;
      case SamplerKind::GaussianSscs:
        gaussianSscs(kernel_, dims, grid, options_, score, z, rng, result);
        break;
      case SamplerKind::Rk45:
        break;
    }
  }
  result.z = std::move(z);
  result.scoreCalls = score.calls;
  return result;
}

void Sampler::denoise(ScoreModel& model, ArrayXXd& z, double t) const {
  const LinearSde& sde = kernel_.sde();
  const int c = sde.channels();
  const int dims = static_cast<int>(z.cols()) / c;
  detail::requireLayout(z, sde, dims, "Tweedie denoising");
  detail::requireScoreChannels(model, sde, true, "Tweedie denoising");
  const TransitionMoments m = kernel_.moments(t);
  const Eigen::Matrix2d covariance =
      VanLoanKernel::marginalCovariance(m, 0.0, sde.auxStartVariance());
  ArrayXXd s, correction;
  model.score(z, t, s);
  detail::applyBlock(covariance, s, c, dims, correction);
  const ArrayXXd mean = z + correction;  // E[exp(A t) (x_0, 0) | z]
  // Row 0 of exp(A t)^{-1}: the x_0 estimate.
  const Eigen::Matrix2d inverse = detail::inverseOnChannels(m.transition, c);
  z.middleCols(0, dims) = inverse(0, 0) * mean.middleCols(0, dims);
  if (c == 2) z.middleCols(0, dims) += inverse(0, 1) * mean.middleCols(dims, dims);
}

}  // namespace activediff::model
