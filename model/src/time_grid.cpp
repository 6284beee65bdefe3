#include "activediff/model/time_grid.h"

#include <cmath>
#include <sstream>

#include "activediff/featurize/error.h"
#include "activediff/model/van_loan_kernel.h"

namespace activediff::model {
namespace {

constexpr TimeGrid kAllGrids[] = {TimeGrid::Uniform, TimeGrid::DenseNearEpsilon,
                                  TimeGrid::LogUniform, TimeGrid::LogSigma, TimeGrid::EdmSigma};

// t with sigma(t) = target in [lo, hi], sigma increasing (bisection to 1e-13 relative).
double invertSigma(const VanLoanKernel& kernel, double target, double lo, double hi) {
  auto sigma = [&](double t) { return std::sqrt(kernel.givenX0(t).covariance(0, 0)); };
  for (int it = 0; it < 200 && hi - lo > 1e-13 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    (sigma(mid) < target ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

std::vector<double> makeTimeGrid(TimeGrid grid, double tEps, double endTime, int steps,
                                 const VanLoanKernel* kernel) {
  if (!(tEps > 0.0 && endTime > tEps && std::isfinite(endTime)) || steps < 1) {
    std::ostringstream m;
    m << "time grid: need 0 < t_eps (" << tEps << ") < end_time (" << endTime
      << ") and steps (" << steps << ") >= 1";
    throw Error(m.str());
  }
  const bool kernelGrid = grid == TimeGrid::LogSigma || grid == TimeGrid::EdmSigma;
  if (kernelGrid && kernel == nullptr)
    throw Error("time grid '" + timeGridName(grid) + "' needs the process's kernel");
  std::vector<double> t(steps + 1);
  double sLo = 0.0, sHi = 0.0;
  if (kernelGrid) {
    sLo = std::sqrt(kernel->givenX0(tEps).covariance(0, 0));
    sHi = std::sqrt(kernel->givenX0(endTime).covariance(0, 0));
    if (!(sHi > sLo && sLo > 0.0))
      throw Error("time grid '" + timeGridName(grid) +
                  "': the kernel's x standard deviation does not grow from t_eps to T");
  }
  const double a = std::cbrt(tEps);
  const double b = std::cbrt(endTime);
  for (int i = 0; i <= steps; ++i) {
    const double u = static_cast<double>(i) / steps;
    switch (grid) {
      case TimeGrid::Uniform:
        t[i] = tEps + u * (endTime - tEps);
        break;
      case TimeGrid::DenseNearEpsilon: {
        const double r = a + u * (b - a);
        t[i] = r * r * r;
        break;
      }
      case TimeGrid::LogUniform:
        t[i] = tEps * std::pow(endTime / tEps, u);
        break;
      case TimeGrid::LogSigma:
      case TimeGrid::EdmSigma: {
        double s;
        if (grid == TimeGrid::LogSigma) {
          s = sLo * std::pow(sHi / sLo, u);
        } else {
          const double r = std::pow(sLo, 1.0 / 7.0) +
                           u * (std::pow(sHi, 1.0 / 7.0) - std::pow(sLo, 1.0 / 7.0));
          s = std::pow(r, 7.0);
        }
        t[i] = (i == 0 || i == steps) ? (i == 0 ? tEps : endTime)
                                      : invertSigma(*kernel, s, tEps, endTime);
        break;
      }
    }
  }
  t.front() = tEps;  // exact ends, whatever the rounding
  t.back() = endTime;
  for (int i = 1; i <= steps; ++i)
    if (!(t[i] > t[i - 1]))
      throw Error("time grid '" + timeGridName(grid) + "': times do not increase (steps " +
                  std::to_string(steps) + ")");
  return t;
}

std::string timeGridName(TimeGrid grid) {
  switch (grid) {
    case TimeGrid::Uniform:
      return "uniform";
    case TimeGrid::DenseNearEpsilon:
      return "dense-near-eps";
    case TimeGrid::LogUniform:
      return "log";
    case TimeGrid::LogSigma:
      return "log-sigma";
    case TimeGrid::EdmSigma:
      return "edm";
  }
  return "?";
}

TimeGrid parseTimeGrid(const std::string& name) {
  for (TimeGrid g : kAllGrids)
    if (timeGridName(g) == name) return g;
  throw Error("time grid '" + name + "': expected uniform, dense-near-eps, log, log-sigma or edm");
}

}  // namespace activediff::model
