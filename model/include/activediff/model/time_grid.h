#pragma once
// Time grids of the reverse integrators (ascending: t_0 = t_eps, t_N = T).
#include <string>
#include <vector>

namespace activediff::model {

class VanLoanKernel;

enum class TimeGrid {
  Uniform,           // t_i = t_eps + (i / N) (T - t_eps)
  DenseNearEpsilon,  // t_i = (t_eps^(1/3) + (i / N) (T^(1/3) - t_eps^(1/3)))^3 (MATH.md 4b)
  LogUniform,        // t_i = t_eps (T / t_eps)^(i / N)
  // Kernel grids (need the process's kernel): sigma(t) = sqrt(S_xx(t)) the
  // x standard deviation of the kernel given x_0 (VanLoanKernel::givenX0),
  // increasing in t; t_i = sigma^{-1}(sigma_i) by bisection.
  LogSigma,          // log sigma_i uniform between sigma(t_eps) and sigma(T)
  EdmSigma,          // Karras et al. 2022: sigma_i^(1/7) uniform (rho = 7)
};

// kernel may be null for the kernel-free grids; a kernel grid without one throws.
std::vector<double> makeTimeGrid(TimeGrid grid, double tEps, double endTime, int steps,
                                 const VanLoanKernel* kernel = nullptr);
// "uniform", "dense-near-eps", "log", "log-sigma", "edm"
std::string timeGridName(TimeGrid grid);
TimeGrid parseTimeGrid(const std::string& name);  // throws activediff::Error

}  // namespace activediff::model
