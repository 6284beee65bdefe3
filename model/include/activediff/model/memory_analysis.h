#pragma once
// Analyses of the forward process that need no network (MATH.md 6).
#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <vector>

#include "activediff/model/samplers.h"
#include "activediff/model/score_model.h"
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

// The metastable-state memory experiment (MATH.md 6, the seed paper's class
// memory). Starting points x0 (model space, n x D) carry state labels. For
// each t* the x0-only kernel noises them to z_{t*} (aux drawn from its start
// law and carried forward exactly); the batch is then reversed to tEnd with
// `sampler` twice:
//   kept      z_{t*} as drawn;
//   shuffled  the aux block's rows permuted at random across the batch
//             (Fisher-Yates), x untouched: the marginal of aux is the same,
//             its tie to x and x0 is cut.
// Both arms use the same forward noise and the same reverse noise (common
// random numbers), so their difference is paired. One-channel processes
// have no aux: `shuffled` is empty. `classify` labels the reversed x block
// (n x D model space). Rows are reversed in chunks of `batchRows`.
struct StateMemoryRun {
  double tStar = 0.0;
  std::vector<int> finalKept;      // per start point: the state it reached
  std::vector<int> finalShuffled;  // empty without aux
  long scoreCalls = 0;
};
using StateClassifier = std::function<std::vector<int>(const Eigen::ArrayXXd& x)>;
std::vector<StateMemoryRun> stateMemoryExperiment(const Sampler& sampler,
                                                  const VanLoanKernel& kernel, ScoreModel& model,
                                                  const Eigen::ArrayXXd& x0,
                                                  const std::vector<double>& tStars, double tEnd,
                                                  const StateClassifier& classify,
                                                  std::uint64_t seed, int batchRows = 2048);

// Fraction of returns (final == start) with its binomial standard error
// sqrt(p (1 - p) / n); the paired difference kept - shuffled with the
// standard error of the mean of the per-point differences (n - 1 in the
// variance).
struct ReturnFraction {
  std::int64_t n = 0;
  std::int64_t returned = 0;
  double fraction = 0.0;
  double standardError = 0.0;
};
ReturnFraction returnFraction(const std::vector<int>& start, const std::vector<int>& final,
                              const std::vector<char>& use = {});
struct PairedDifference {
  double mean = 0.0;
  double standardError = 0.0;
};
PairedDifference pairedReturnDifference(const std::vector<int>& start,
                                        const std::vector<int>& kept,
                                        const std::vector<int>& shuffled);

}  // namespace activediff::model
