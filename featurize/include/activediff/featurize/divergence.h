#pragma once
#include <vector>
// THE Jensen-Shannon divergence of activediff, in nats (natural logarithm),
// bounded by ln 2: JS(P, Q) = KL(P || M)/2 + KL(Q || M)/2 with M = (P + Q)/2,
// 0 log 0 = 0. Inputs are normalized first, so raw counts are fine.
#include <Eigen/Core>

#include "activediff/featurize/ramachandran.h"

namespace activediff {

// Throws activediff::Error on different sizes, negative or non-finite
// entries, or an empty (all-zero) distribution.
double jensenShannonNats(const Eigen::Ref<const Eigen::ArrayXd>& p, const Eigen::Ref<const Eigen::ArrayXd>& q);
double jensenShannonNats(const RamachandranHistogram& p, const RamachandranHistogram& q);

// THE Wasserstein-1 (earth mover's) distance between two 1-D empirical
// distributions, in the unit of the values; non-finite values are dropped.
// Throws activediff::Error when either sample has no finite value.
double wasserstein1(std::vector<double> a, std::vector<double> b);

}  // namespace activediff
