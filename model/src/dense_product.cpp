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
// One ymm register of doubles (4 lanes) or floats (8 lanes).
template <typename T>
struct Lanes;
template <>
struct Lanes<double> {
  using Vector = __m256d;
  static constexpr int kCount = 4;
  __attribute__((target("avx2,fma"))) static Vector zero() { return _mm256_setzero_pd(); }
  __attribute__((target("avx2,fma"))) static Vector load(const double* p) { return _mm256_loadu_pd(p); }
  __attribute__((target("avx2,fma"))) static Vector broadcast(const double* p) { return _mm256_broadcast_sd(p); }
  __attribute__((target("avx2,fma"))) static Vector fma(Vector a, Vector b, Vector c) { return _mm256_fmadd_pd(a, b, c); }
  __attribute__((target("avx2,fma"))) static void store(double* p, Vector v) { _mm256_storeu_pd(p, v); }
};
template <>
struct Lanes<float> {
  using Vector = __m256;
  static constexpr int kCount = 8;
  __attribute__((target("avx2,fma"))) static Vector zero() { return _mm256_setzero_ps(); }
  __attribute__((target("avx2,fma"))) static Vector load(const float* p) { return _mm256_loadu_ps(p); }
  __attribute__((target("avx2,fma"))) static Vector broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  __attribute__((target("avx2,fma"))) static Vector fma(Vector a, Vector b, Vector c) { return _mm256_fmadd_ps(a, b, c); }
  __attribute__((target("avx2,fma"))) static void store(float* p, Vector v) { _mm256_storeu_ps(p, v); }
};

// R rows by L * V outputs (L lanes) starting at output o0: R * V
// accumulators (R * V <= 12 of the 16 ymm registers), one broadcast of
// x(r, k) and V loads of W's column k a step.
template <typename T, int R, int V>
__attribute__((target("avx2,fma"))) void productBlock(const T* x, int ldx, int in, const T* w, int out, int o0, T* y,
                                                      int ldy) {
  using L = Lanes<T>;
  typename L::Vector acc[R][V];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) acc[r][v] = L::zero();
  for (int k = 0; k < in; ++k) {
    const T* column = w + static_cast<long>(k) * out + o0;
    typename L::Vector wk[V];
    for (int v = 0; v < V; ++v) wk[v] = L::load(column + L::kCount * v);
    for (int r = 0; r < R; ++r) {
      const typename L::Vector xr = L::broadcast(x + static_cast<long>(r) * ldx + k);
      for (int v = 0; v < V; ++v) acc[r][v] = L::fma(wk[v], xr, acc[r][v]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) L::store(y + static_cast<long>(r) * ldy + o0 + L::kCount * v, acc[r][v]);
}

// R rows at a time: up to 3 in 4-register output blocks, 4 to 6 in
// 2-register blocks, so that W's columns are read once for all R rows.
template <typename T, int R>
__attribute__((target("avx2,fma"))) void productRows(const T* x, int ldx, int in, const T* w, int out, T* y,
                                                     int ldy) {
  constexpr int kLanes = Lanes<T>::kCount;
  int o = 0;
  if constexpr (R <= 3) {
    for (; o + 4 * kLanes <= out; o += 4 * kLanes) productBlock<T, R, 4>(x, ldx, in, w, out, o, y, ldy);
  } else {
    for (; o + 2 * kLanes <= out; o += 2 * kLanes) productBlock<T, R, 2>(x, ldx, in, w, out, o, y, ldy);
  }
  for (; o + kLanes <= out; o += kLanes) productBlock<T, R, 1>(x, ldx, in, w, out, o, y, ldy);
  // The last out % lanes outputs: the same fused chain, one lane at a time.
  for (; o < out; ++o)
    for (int r = 0; r < R; ++r) {
      T sum = 0;
      for (int k = 0; k < in; ++k)
        sum = std::fma(w[static_cast<long>(k) * out + o], x[static_cast<long>(r) * ldx + k], sum);
      y[static_cast<long>(r) * ldy + o] = sum;
    }
}

template <typename T>
__attribute__((target("avx2,fma"))) void productVectorized(const T* x, int rows, int in, int ldx, const T* w,
                                                           int out, T* y, int ldy) {
  for (int r = 0; r < rows;) {
    const T* xr = x + static_cast<long>(r) * ldx;
    T* yr = y + static_cast<long>(r) * ldy;
    switch (std::min(rows - r, 6)) {
      case 6: productRows<T, 6>(xr, ldx, in, w, out, yr, ldy); r += 6; break;
      case 5: productRows<T, 5>(xr, ldx, in, w, out, yr, ldy); r += 5; break;
      case 4: productRows<T, 4>(xr, ldx, in, w, out, yr, ldy); r += 4; break;
      case 3: productRows<T, 3>(xr, ldx, in, w, out, yr, ldy); r += 3; break;
      case 2: productRows<T, 2>(xr, ldx, in, w, out, yr, ldy); r += 2; break;
      default: productRows<T, 1>(xr, ldx, in, w, out, yr, ldy); r += 1; break;
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

namespace {

template <typename T>
void product(const T* x, int rows, int in, int ldx, const T* w, int out, T* y, int ldy) {
  if (rows <= 0 || out <= 0) return;
#ifdef ACTIVEDIFF_DENSE_AVX2
  if (denseProductVectorized()) {
    productVectorized<T>(x, rows, in, ldx, w, out, y, ldy);
    return;
  }
#endif
  using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using ColumnMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  Eigen::Map<const RowMajor, 0, Eigen::OuterStride<>> xm(x, rows, in, Eigen::OuterStride<>(ldx));
  Eigen::Map<const ColumnMajor> wm(w, out, in);
  Eigen::Map<RowMajor, 0, Eigen::OuterStride<>> ym(y, rows, out, Eigen::OuterStride<>(ldy));
  ym.noalias() = xm * wm.transpose();
}

}  // namespace

void denseProductTransposed(const double* x, int rows, int in, int ldx, const double* w, int out, double* y,
                            int ldy) {
  product(x, rows, in, ldx, w, out, y, ldy);
}

void denseProductTransposed(const float* x, int rows, int in, int ldx, const float* w, int out, float* y,
                            int ldy) {
  product(x, rows, in, ldx, w, out, y, ldy);
}

}  // namespace activediff::model::detail
