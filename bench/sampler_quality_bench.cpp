// Sample quality at few network calls with the EXACT score of the 9-peak
// diamond (data sd 0.1 per mode, gaussian_mixture.h): within-mode sd against
// the exact p_eps's, worst mode-weight error, and the aux channel's sd
// against its exact marginal, for each process of the shipped configs (and
// active tau = 0.1), each sampler and time grid at a given number of calls.
// Not a test. Build: ninja sampler_quality_bench; run:
//   build/model/sampler_quality_bench [samples=20000] [calls=20] [seed=1]
// Output: one markdown table row per (process, sampler, grid).
#include <Eigen/Core>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "activediff/model/gaussian_mixture.h"
#include "activediff/model/samplers.h"

namespace {

using namespace activediff::model;
using Eigen::ArrayXXd;

struct Process {
  std::string name;
  LinearSde sde;
};

struct Stats {
  double sd = 0.0;            // within-mode sd around the diamond's means
  double weightError = 0.0;   // worst |weight - 1/9|
  double auxSdRatio = 1.0;    // sd(aux) / exact sd(aux) at t_eps
};

Stats measure(const GaussianMixture& m, const ArrayXXd& z, int channels, double auxSd) {
  const ArrayXXd x = z.leftCols(2);
  const Eigen::ArrayXi mode = m.nearestMode(x);
  Stats s;
  double ss = 0.0;
  for (Eigen::Index i = 0; i < x.rows(); ++i) ss += (x.row(i) - m.means.row(mode(i))).square().sum();
  s.sd = std::sqrt(ss / (2.0 * x.rows()));
  for (int k = 0; k < m.components(); ++k)
    s.weightError = std::max(s.weightError,
                             std::abs(double((mode == k).count()) / x.rows() - m.weights(k)));
  if (channels == 2) {
    const ArrayXXd a = z.rightCols(2);
    s.auxSdRatio = std::sqrt((a - a.mean()).square().mean()) / auxSd;
  }
  return s;
}

// Exact draws of p_eps: x0 from the mixture, z = m x0 + L noise (aux start marginalized).
ArrayXXd exactSamples(const VanLoanKernel& kernel, const GaussianMixture& mix, double t, int n,
                      Rng& rng) {
  const int c = kernel.channels();
  const ArrayXXd x0 = mix.sample(n, rng);
  const DataConditionedKernel k = kernel.givenX0(t);
  ArrayXXd noise(n, c * 2);
  fillStandardNormal(noise, rng);
  ArrayXXd z(n, c * 2);
  if (c == 1) {
    z = k.meanCoefficient(0) * x0 + std::sqrt(k.covariance(0, 0)) * noise;
  } else {
    const double l11 = std::sqrt(k.covariance(0, 0));
    const double l21 = k.covariance(1, 0) / l11;
    const double l22 = std::sqrt(k.covariance(1, 1) - l21 * l21);
    z.leftCols(2) = k.meanCoefficient(0) * x0 + l11 * noise.leftCols(2);
    z.rightCols(2) = k.meanCoefficient(1) * x0 + l21 * noise.leftCols(2) + l22 * noise.rightCols(2);
  }
  return z;
}

}  // namespace

// Gaussian data N(0, sd^2) in 1D: the sampler is affine in z_T; the relative
// (Frobenius) error of its output covariance against p_eps's, exactly.
double gaussianError(const LinearSde& sde, SamplerOptions o, double sd, bool matched) {
  if (matched) o.deisReferenceVariance = sd * sd;
  const VanLoanKernel kernel(sde);
  const int c = sde.channels();
  GaussianMixture data;
  data.weights = Eigen::ArrayXd::Ones(1);
  data.means = ArrayXXd::Zero(1, 1);
  data.variances = ArrayXXd::Constant(1, 1, sd * sd);
  const GaussianPrior prior = kernel.prior(chooseEndTime(sde), sd * sd);
  MixtureMarginal score(kernel, data);
  ArrayXXd z = ArrayXXd::Zero(c + 1, c);
  for (int i = 0; i < c; ++i) z(i + 1, i) = 1.0;
  Rng rng(1);
  const ArrayXXd end = Sampler(kernel, prior, o).reverse(score, z, prior.endTime(), o.tEps, rng).z;
  Eigen::Matrix2d m = Eigen::Matrix2d::Zero();
  for (int i = 0; i < c; ++i)
    for (int j = 0; j < c; ++j) m(j, i) = end(i + 1, j) - end(0, j);
  const Eigen::Matrix2d cov = m * prior.covariance() * m.transpose();
  const Eigen::Matrix2d exact = kernel.marginalCovariance(o.tEps, sd * sd);
  return (cov - exact).topLeftCorner(c, c).norm() / exact.topLeftCorner(c, c).norm();
}

int gaussianTable() {
  const std::vector<Process> processes = {
      {"passive", LinearSde::passive(1.0, 0.667)},
      {"active tau 0.5", LinearSde::active(1.0, 0.5, 1.0, 0.0)},
      {"active tau 0.5 Tp 0.1", LinearSde::active(1.0, 0.5, 1.0, 0.1)},
      {"active tau 0.1", LinearSde::active(1.0, 0.1, 1.0, 0.0)},
      {"cld", LinearSde::cld(4.0, 0.25, 0.04)},
  };
  const std::vector<TimeGrid> grids = {TimeGrid::DenseNearEpsilon, TimeGrid::LogUniform,
                                       TimeGrid::LogSigma, TimeGrid::EdmSigma};
  std::printf("| process | data sd | reference variance | grid | order | err 10 | err 20 | err 40 |\n|---|---|---|---|---|---|---|---|\n");
  for (const Process& p : processes)
    for (double sd : {0.1, 1.0})
      for (bool matched : {false, true})
      for (TimeGrid g : grids)
        for (int order = 1; order <= 3; ++order) {
          if (matched && sd == 1.0) continue;
          std::printf("| %s | %.1f | %s | %s | %d |", p.name.c_str(), sd, matched ? "sd^2" : "1",
                      timeGridName(g).c_str(), order);
          for (int steps : {10, 20, 40}) {
            SamplerOptions o;
            o.kind = SamplerKind::Deis;
            o.order = order;
            o.grid = g;
            o.steps = steps;
            std::printf(" %.2e |", gaussianError(p.sde, o, sd, matched));
          }
          std::printf("\n");
        }
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "gaussian") return gaussianTable();
  const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  const int calls = argc > 2 ? std::atoi(argv[2]) : 20;
  const std::uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1;
  const GaussianMixture mix = GaussianMixture::diamond();
  const double tEps = kDefaultTimeEpsilon;
  const std::vector<Process> processes = {
      {"passive (2d-passive)", LinearSde::passive(1.0, 0.667)},
      {"active tau 0.5 (2d-active, 25d-active)", LinearSde::active(1.0, 0.5, 1.0, 0.0)},
      {"active tau 0.1", LinearSde::active(1.0, 0.1, 1.0, 0.0)},
      {"cld (2d-cld)", LinearSde::cld(4.0, 0.25, 0.04)},
  };
  struct Config {
    std::string name;
    SamplerKind kind;
    int order;
    SamplerOptions::DeisLinearPart part = SamplerOptions::DeisLinearPart::Gaussian;
    double stochasticity = 1.0;  // gsscs
  };
  const std::vector<Config> samplers = {
      {"em", SamplerKind::EulerMaruyama, 1},       {"heun", SamplerKind::Heun, 1},
      {"sscs", SamplerKind::Sscs, 1},              {"deis-1", SamplerKind::Deis, 1},
      {"deis-2", SamplerKind::Deis, 2},            {"deis-3", SamplerKind::Deis, 3},
      {"deis-3 stationary", SamplerKind::Deis, 3, SamplerOptions::DeisLinearPart::Stationary},
      {"deis-3 drift", SamplerKind::Deis, 3, SamplerOptions::DeisLinearPart::Drift},
      {"gsscs", SamplerKind::GaussianSscs, 1},
      {"gsscs lambda 0.7", SamplerKind::GaussianSscs, 1, SamplerOptions::DeisLinearPart::Gaussian, 0.7},
      {"gsscs lambda 0.5", SamplerKind::GaussianSscs, 1, SamplerOptions::DeisLinearPart::Gaussian, 0.5},
      {"gsscs lambda 0.3", SamplerKind::GaussianSscs, 1, SamplerOptions::DeisLinearPart::Gaussian, 0.3},
      {"gsscs lambda 0", SamplerKind::GaussianSscs, 1, SamplerOptions::DeisLinearPart::Gaussian, 0.0},
  };
  const std::vector<TimeGrid> grids = {TimeGrid::Uniform, TimeGrid::DenseNearEpsilon,
                                       TimeGrid::LogUniform, TimeGrid::LogSigma,
                                       TimeGrid::EdmSigma};
  std::printf("samples %d, %d network calls a sample, seed %llu, t_eps %g\n\n", n, calls,
              static_cast<unsigned long long>(seed), tEps);
  std::printf("| process | sampler | grid | calls | within-mode sd | vs exact | worst weight err | aux sd / exact |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const Process& p : processes) {
    const VanLoanKernel kernel(p.sde);
    const double endTime = chooseEndTime(p.sde);
    const GaussianPrior prior = kernel.prior(endTime, mix.variance()(0));
    MixtureMarginal score(kernel, mix);
    const double auxSd =
        p.sde.channels() == 2 ? std::sqrt(kernel.marginalCovariance(tEps, mix.variance()(0))(1, 1)) : 1.0;
    Rng rng(seed + 1000);
    const Stats exact = measure(mix, exactSamples(kernel, mix, tEps, 200000, rng), p.sde.channels(), auxSd);
    std::printf("| %s | exact p_eps | - | - | %.4f | 1.00 | %.4f | %.3f |\n", p.name.c_str(), exact.sd,
                exact.weightError, exact.auxSdRatio);
    for (const Config& c : samplers) {
      for (TimeGrid g : grids) {
        SamplerOptions o;
        o.kind = c.kind;
        o.order = c.order;
        o.deisLinearPart = c.part;
        o.stochasticity = c.stochasticity;
        o.grid = g;
        o.tEps = tEps;
        o.steps = c.kind == SamplerKind::Heun ? calls / 2 : calls;
        try {
          const SampleResult r = Sampler(kernel, prior, o).sample(score, n, 2, seed);
          const Stats s = measure(mix, r.z, p.sde.channels(), auxSd);
          std::printf("| %s | %s | %s | %ld | %.4f | %.2f | %.4f | %.3f |\n", p.name.c_str(),
                      c.name.c_str(), timeGridName(g).c_str(), r.scoreCalls, s.sd,
                      s.sd / exact.sd, s.weightError, s.auxSdRatio);
        } catch (const std::exception& e) {
          std::printf("| %s | %s | %s | - | failed: %s |\n", p.name.c_str(), c.name.c_str(),
                      timeGridName(g).c_str(), e.what());
        }
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
