#include "activediff/model/memory_analysis.h"

#include <cmath>
#include <numeric>
#include <sstream>

#include "activediff/featurize/error.h"
#include "channel_ops.h"

namespace activediff::model {

double fisherMemory(const VanLoanKernel& kernel, double t) {
  if (!(t > 0.0)) throw Error("Fisher memory: t must be > 0");
  const DataConditionedKernel k = kernel.givenX0(t);
  const Eigen::Matrix2d precision = detail::inverseOnChannels(k.covariance, kernel.channels());
  const Eigen::Vector2d m =
      kernel.channels() == 1 ? Eigen::Vector2d(k.meanCoefficient(0), 0.0) : k.meanCoefficient;
  return m.dot(precision * m);
}

double speciationTime(const VanLoanKernel& kernel, double largestEigenvalue, double tMax) {
  if (!(largestEigenvalue > 0.0 && tMax > 0.0))
    throw Error("speciation time: need Lambda > 0 and t_max > 0");
  // Signal minus noise in x; positive at t -> 0, negative after the crossing.
  auto excess = [&](double t) {
    const DataConditionedKernel k = kernel.givenX0(t);
    return k.meanCoefficient(0) * k.meanCoefficient(0) * largestEigenvalue - k.covariance(0, 0);
  };
  if (excess(tMax) > 0.0) {
    std::ostringstream m;
    m << "speciation time: no crossing before t_max = " << tMax << " for "
      << kernel.sde().describe();
    throw Error(m.str());
  }
  double lo = 0.0, hi = tMax;
  for (int i = 0; i < 100 && hi - lo > 1e-13 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (excess(mid) > 0.0 ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

std::vector<StateMemoryRun> stateMemoryExperiment(const Sampler& sampler,
                                                  const VanLoanKernel& kernel, ScoreModel& model,
                                                  const Eigen::ArrayXXd& x0,
                                                  const std::vector<double>& tStars, double tEnd,
                                                  const StateClassifier& classify,
                                                  std::uint64_t seed, int batchRows) {
  const int c = kernel.channels();
  const int dims = static_cast<int>(x0.cols());
  const Eigen::Index n = x0.rows();
  if (n < 2 || dims < 1) throw Error("state memory: need at least 2 starting points");
  if (batchRows < 1) throw Error("state memory: batch rows must be >= 1");
  std::vector<StateMemoryRun> runs;
  for (std::size_t k = 0; k < tStars.size(); ++k) {
    const double tStar = tStars[k];
    if (!(tStar > tEnd)) {
      std::ostringstream m;
      m << "state memory: t* = " << tStar << " must exceed the end time of the reversal " << tEnd;
      throw Error(m.str());
    }
    const DataConditionedKernel kk = kernel.givenX0(tStar);
    const Eigen::Matrix2d l = detail::choleskyLower(kk.covariance, c);
    Rng noiseRng(streamSeed(seed, 2 * k));
    Eigen::ArrayXXd noise(n, c * dims);
    detail::fillStandardNormal(noise, noiseRng);
    Eigen::ArrayXXd z(n, c * dims);
    z.leftCols(dims) = kk.meanCoefficient(0) * x0 + l(0, 0) * noise.leftCols(dims);
    if (c == 2)
      z.rightCols(dims) = kk.meanCoefficient(1) * x0 + l(1, 0) * noise.leftCols(dims) +
                          l(1, 1) * noise.rightCols(dims);
    StateMemoryRun run;
    run.tStar = tStar;
    const auto reverseAll = [&](const Eigen::ArrayXXd& start, std::vector<int>& final) {
      Eigen::ArrayXXd x(n, dims);
      for (Eigen::Index first = 0, b = 0; first < n; first += batchRows, ++b) {
        const Eigen::Index rows = std::min<Eigen::Index>(batchRows, n - first);
        Rng reverseRng(streamSeed(seed, 2 * k + 1) ^ streamSeed(0x5eed, static_cast<std::uint64_t>(b)));
        SampleResult r = sampler.reverse(model, start.middleRows(first, rows), tStar, tEnd, reverseRng);
        x.middleRows(first, rows) = r.z.leftCols(dims);
        run.scoreCalls += r.scoreCalls;
      }
      final = classify(x);
      if (static_cast<Eigen::Index>(final.size()) != n)
        throw Error("state memory: the classifier returned the wrong number of labels");
    };
    reverseAll(z, run.finalKept);
    if (c == 2) {
      std::vector<Eigen::Index> perm(static_cast<std::size_t>(n));
      std::iota(perm.begin(), perm.end(), Eigen::Index(0));
      Rng permRng(streamSeed(seed ^ 0x7065726dull, k));
      for (Eigen::Index i = n - 1; i > 0; --i) {
        const auto j = static_cast<Eigen::Index>(permRng() % static_cast<std::uint64_t>(i + 1));
        std::swap(perm[i], perm[j]);
      }
      Eigen::ArrayXXd shuffled = z;
      for (Eigen::Index i = 0; i < n; ++i) shuffled.row(i).tail(dims) = z.row(perm[i]).tail(dims);
      reverseAll(shuffled, run.finalShuffled);
    }
    runs.push_back(std::move(run));
  }
  return runs;
}

ReturnFraction returnFraction(const std::vector<int>& start, const std::vector<int>& final,
                              const std::vector<char>& use) {
  if (start.size() != final.size()) throw Error("return fraction: label counts differ");
  ReturnFraction r;
  for (std::size_t i = 0; i < start.size(); ++i) {
    if (!use.empty() && !use[i]) continue;
    ++r.n;
    r.returned += start[i] == final[i];
  }
  if (r.n > 0) {
    r.fraction = double(r.returned) / double(r.n);
    r.standardError = std::sqrt(r.fraction * (1.0 - r.fraction) / double(r.n));
  }
  return r;
}

PairedDifference pairedReturnDifference(const std::vector<int>& start, const std::vector<int>& kept,
                                        const std::vector<int>& shuffled) {
  if (start.size() != kept.size() || start.size() != shuffled.size())
    throw Error("paired difference: label counts differ");
  const double n = double(start.size());
  if (start.size() < 2) throw Error("paired difference: need at least 2 points");
  double sum = 0.0, sumSquares = 0.0;
  for (std::size_t i = 0; i < start.size(); ++i) {
    const double d = double(start[i] == kept[i]) - double(start[i] == shuffled[i]);
    sum += d;
    sumSquares += d * d;
  }
  PairedDifference p;
  p.mean = sum / n;
  const double variance = std::max(0.0, (sumSquares - n * p.mean * p.mean) / (n - 1.0));
  p.standardError = std::sqrt(variance / n);
  return p;
}

}  // namespace activediff::model
