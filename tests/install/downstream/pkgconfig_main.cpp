// Built with `c++ $(pkg-config --cflags --libs activediff)` alone.
#include <activediff/model/linear_sde.h>
#include <activediff/model/van_loan_kernel.h>
#include <activediff/version.h>

#include <cmath>
#include <cstdio>

int main() {
  const activediff::model::VanLoanKernel kernel(activediff::model::LinearSde::passive(2.0, 0.5));
  const double s = kernel.moments(0.5).covariance(0, 0);
  const double expected = 0.5 / 2.0 * (1.0 - std::exp(-2.0));  // T/k (1 - exp(-2 k t))
  std::printf("activediff %s: S(0.5) = %.12f (expected %.12f)\n", activediff::kVersion, s, expected);
  return std::abs(s - expected) < 1e-12 ? 0 : 1;
}
