#include "dense_product.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "activediff/featurize/error.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ACTIVEDIFF_DENSE_AVX2 1
#endif

namespace activediff::model::detail {
namespace {

#ifdef ACTIVEDIFF_DENSE_AVX2
// R rows by 4 * V outputs starting at output o0: R * V accumulators of four
// doubles (R * V <= 12 of the 16 ymm registers), one broadcast of x(r, k)
// and V loads of W's column k a step.
template <int R, int V>
__attribute__((target("avx2,fma"))) void productBlock(const double* x, int ldx, int in, const double* w, int out,
                                                      int o0, double* y, int ldy) {
  __m256d acc[R][V];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) acc[r][v] = _mm256_setzero_pd();
  for (int k = 0; k < in; ++k) {
    const double* column = w + static_cast<long>(k) * out + o0;
    __m256d wk[V];
    for (int v = 0; v < V; ++v) wk[v] = _mm256_loadu_pd(column + 4 * v);
    for (int r = 0; r < R; ++r) {
      const __m256d xr = _mm256_broadcast_sd(x + static_cast<long>(r) * ldx + k);
      for (int v = 0; v < V; ++v) acc[r][v] = _mm256_fmadd_pd(wk[v], xr, acc[r][v]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) _mm256_storeu_pd(y + static_cast<long>(r) * ldy + o0 + 4 * v, acc[r][v]);
}

// R rows at a time: up to 3 in 16-output blocks, 4 to 6 in 8-output blocks,
// so that W's columns are read once for all R rows.
template <int R>
__attribute__((target("avx2,fma"))) void productRows(const double* x, int ldx, int in, const double* w, int out,
                                                     double* y, int ldy) {
  int o = 0;
  if constexpr (R <= 3) {
    for (; o + 16 <= out; o += 16) productBlock<R, 4>(x, ldx, in, w, out, o, y, ldy);
  } else {
    for (; o + 8 <= out; o += 8) productBlock<R, 2>(x, ldx, in, w, out, o, y, ldy);
  }
  for (; o + 4 <= out; o += 4) productBlock<R, 1>(x, ldx, in, w, out, o, y, ldy);
  // The last out % 4 outputs: the same fused chain, one lane at a time.
  for (; o < out; ++o)
    for (int r = 0; r < R; ++r) {
      double sum = 0.0;
      for (int k = 0; k < in; ++k)
        sum = std::fma(w[static_cast<long>(k) * out + o], x[static_cast<long>(r) * ldx + k], sum);
      y[static_cast<long>(r) * ldy + o] = sum;
    }
}

__attribute__((target("avx2,fma"))) void productVectorized(const double* x, int rows, int in, int ldx,
                                                           const double* w, int out, double* y, int ldy) {
  for (int r = 0; r < rows;) {
    const double* xr = x + static_cast<long>(r) * ldx;
    double* yr = y + static_cast<long>(r) * ldy;
    switch (std::min(rows - r, 6)) {
      case 6: productRows<6>(xr, ldx, in, w, out, yr, ldy); r += 6; break;
      case 5: productRows<5>(xr, ldx, in, w, out, yr, ldy); r += 5; break;
      case 4: productRows<4>(xr, ldx, in, w, out, yr, ldy); r += 4; break;
      case 3: productRows<3>(xr, ldx, in, w, out, yr, ldy); r += 3; break;
      case 2: productRows<2>(xr, ldx, in, w, out, yr, ldy); r += 2; break;
      default: productRows<1>(xr, ldx, in, w, out, yr, ldy); r += 1; break;
    }
  }
}

bool detectVectorized() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
#else
bool detectVectorized() { return false; }
#endif

// ACTIVEDIFF_DENSE_KERNEL=generic takes Eigen's product on any CPU (the
// tests run the network both ways); unset or "auto" picks by the CPU.
bool chooseVectorized() {
  const char* choice = std::getenv("ACTIVEDIFF_DENSE_KERNEL");
  if (!choice || !*choice || std::strcmp(choice, "auto") == 0) return detectVectorized();
  if (std::strcmp(choice, "generic") == 0) return false;
  throw Error(std::string("ACTIVEDIFF_DENSE_KERNEL is \"") + choice + "\"; expected auto or generic");
}

}  // namespace

bool denseProductVectorized() {
  static const bool vectorized = chooseVectorized();
  return vectorized;
}

void denseProductTransposed(const double* x, int rows, int in, int ldx, const double* w, int out, double* y,
                            int ldy) {
  if (rows <= 0 || out <= 0) return;
#ifdef ACTIVEDIFF_DENSE_AVX2
  if (denseProductVectorized()) {
    productVectorized(x, rows, in, ldx, w, out, y, ldy);
    return;
  }
#endif
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const RowMajor, 0, Eigen::OuterStride<>> xm(x, rows, in, Eigen::OuterStride<>(ldx));
  Eigen::Map<const Eigen::MatrixXd> wm(w, out, in);
  Eigen::Map<RowMajor, 0, Eigen::OuterStride<>> ym(y, rows, out, Eigen::OuterStride<>(ldy));
  ym.noalias() = xm * wm.transpose();
}

}  // namespace activediff::model::detail
