#include "activediff/featurize/divergence.h"

#include <algorithm>
#include <cmath>

#include "activediff/featurize/error.h"

namespace activediff {

double jensenShannonNats(const Eigen::Ref<const Eigen::ArrayXd>& p, const Eigen::Ref<const Eigen::ArrayXd>& q) {
  if (p.size() != q.size()) throw Error("Jensen-Shannon divergence: distributions have different sizes");
  if (!p.allFinite() || !q.allFinite() || (p < 0).any() || (q < 0).any()) {
    throw Error("Jensen-Shannon divergence: entries must be finite and non-negative");
  }
  const double sp = p.sum(), sq = q.sum();
  if (sp <= 0.0 || sq <= 0.0) throw Error("Jensen-Shannon divergence: a distribution is empty");
  double js = 0.0;
  for (Eigen::Index k = 0; k < p.size(); ++k) {
    const double a = p[k] / sp, b = q[k] / sq, m = 0.5 * (a + b);
    if (a > 0.0) js += 0.5 * a * std::log(a / m);
    if (b > 0.0) js += 0.5 * b * std::log(b / m);
  }
  return std::max(0.0, js);
}

double jensenShannonNats(const RamachandranHistogram& p, const RamachandranHistogram& q) {
  const auto& a = p.counts();
  const auto& b = q.counts();
  return jensenShannonNats(Eigen::Map<const Eigen::ArrayXd>(a.data(), a.size()),
                           Eigen::Map<const Eigen::ArrayXd>(b.data(), b.size()));
}

}  // namespace activediff

namespace activediff {

double wasserstein1(std::vector<double> a, std::vector<double> b) {
  const auto dropNonFinite = [](std::vector<double>& v) {
    v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  };
  dropNonFinite(a);
  dropNonFinite(b);
  if (a.empty() || b.empty()) throw Error("Wasserstein-1 distance: a sample has no finite values");
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  // W1 = integral |F_a(x) - F_b(x)| dx over the merged support.
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  std::size_t i = 0, j = 0;
  double x = std::min(a.front(), b.front());
  double distance = 0.0;
  while (i < a.size() || j < b.size()) {
    const double next = (j >= b.size() || (i < a.size() && a[i] <= b[j])) ? a[i] : b[j];
    distance += std::abs(i / na - j / nb) * (next - x);
    x = next;
    while (i < a.size() && a[i] == x) ++i;
    while (j < b.size() && b[j] == x) ++j;
  }
  return distance;
}

}  // namespace activediff
