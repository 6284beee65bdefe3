#pragma once
// Analyses of the forward process that need no network (MATH.md 6).
#include "activediff/model/van_loan_kernel.h"

namespace activediff::model {

// Fisher memory of an input perturbation of x_0:
// J(t) = P^T exp(A^T t) S_x0(t)^{-1} exp(A t) P, P = (1, 0)^T, S_x0 the
// x0-only kernel covariance. Passive: exp(-2 k t) / sigma^2(t).
double fisherMemory(const VanLoanKernel& kernel, double t);

// Speciation time: the t in (0, tMax] with a_x(t)^2 Lambda = S_x0,xx(t),
// a_x = exp(A t)_xx, Lambda the largest eigenvalue of the data covariance.
// Throws activediff::Error when there is no crossing below tMax.
double speciationTime(const VanLoanKernel& kernel, double largestEigenvalue, double tMax);

}  // namespace activediff::model
