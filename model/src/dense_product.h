#pragma once
// y = x W^T for the Eigen score network's small batches (the Monte Carlo
// move's density evaluates one state with its Jacobian tangents stacked as
// rows). x is rows x in and y rows x out, both row-major with leading
// dimensions ldx and ldy; W is an Eigen (column-major) out x in matrix, so
// the column k that multiplies x(., k) is contiguous.
//
// In float64 or float32. On CPUs with AVX2 and FMA (checked at run time; the library is built for
// the generic x86-64 baseline) a register-blocked kernel accumulates every
// y(r, o) as the same fused multiply-add chain over k = 0 .. in-1 whatever
// the number of rows, so a state's value does not depend on the batch it is
// evaluated in. Elsewhere, or with ACTIVEDIFF_DENSE_KERNEL=generic in the
// environment, Eigen's product.
namespace activediff::model::detail {

void denseProductTransposed(const double* x, int rows, int in, int ldx, const double* w, int out, double* y,
                            int ldy);
void denseProductTransposed(const float* x, int rows, int in, int ldx, const float* w, int out, float* y,
                            int ldy);

// Whether denseProductTransposed takes the AVX2/FMA kernel on this CPU.
bool denseProductVectorized();

}  // namespace activediff::model::detail
