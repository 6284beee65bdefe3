// Costs of the torch-free model core (no network): exact kernels per t, the
// training-batch construction at the trainer's batch size, and each sampler's
// own work per step with a trivial score (s = -z), i.e. its overhead beyond
// the network. Build: ninja model_bench; run: model/model_bench.
#include <benchmark/benchmark.h>

#include "activediff/model/samplers.h"
#include "activediff/model/training_targets.h"

namespace {

using namespace activediff::model;

LinearSde processFor(int index) {
  switch (index) {
    case 0:
      return LinearSde::passive(1.0, 1.0);
    case 1:
      return LinearSde::active(1.0, 0.5, 1.5, 0.0);
    default:
      return LinearSde::cld(4.0, 0.25, 0.04);
  }
}

const char* processName(int index) { return index == 0 ? "passive" : index == 1 ? "active" : "cld"; }

// The Gaussian noise every sampler and the trainer draw, per number.
void BM_StandardNormal(benchmark::State& state) {
  Eigen::ArrayXXd a(1000, 4);
  Rng rng(1);
  for (auto _ : state) {
    fillStandardNormal(a, rng);
    benchmark::DoNotOptimize(a.data());
  }
  state.counters["ns_per_number"] = benchmark::Counter(
      double(state.iterations()) * a.size(), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_StandardNormal);

// One x0-only kernel (exp(A t), S(t), aux start marginalized) per t drawn
// uniformly from [t_eps, T], as the trainer draws them.
void BM_KernelPerT(benchmark::State& state) {
  const LinearSde sde = processFor(static_cast<int>(state.range(0)));
  const VanLoanKernel kernel(sde);
  Rng rng(1);
  const Eigen::ArrayXd t = drawTrainingTimes(4096, kDefaultTimeEpsilon, chooseEndTime(sde), rng);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(kernel.givenX0(t(i++ & 4095)));
  }
  state.SetLabel(processName(static_cast<int>(state.range(0))));
}
BENCHMARK(BM_KernelPerT)->DenseRange(0, 2);

// Everything the trainer needs per step at batch 512, D = 2: per-sample
// kernels, z_t and the whitened targets.
void BM_TrainingBatch512(benchmark::State& state) {
  const LinearSde sde = processFor(static_cast<int>(state.range(0)));
  const TrainingTargets targets(VanLoanKernel(sde), requiredScoreChannels(sde, false));
  Rng rng(2);
  const int n = 512, dims = 2;
  const Eigen::ArrayXd t = drawTrainingTimes(n, kDefaultTimeEpsilon, chooseEndTime(sde), rng);
  const Eigen::ArrayXXd x0 = Eigen::ArrayXXd::Random(n, dims);
  const Eigen::ArrayXXd noise = Eigen::ArrayXXd::Random(n, sde.channels() * dims);
  Eigen::ArrayXXd zt, out;
  for (auto _ : state) {
    targets.makeBatch(x0, t, noise, zt, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(processName(static_cast<int>(state.range(0))));
}
BENCHMARK(BM_TrainingBatch512)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);

// A sampler's own cost per step for 1,000 samples of D = 2 with s = -z.
void BM_SamplerStep(benchmark::State& state) {
  const LinearSde sde = processFor(static_cast<int>(state.range(0)));
  const SamplerKind kind = static_cast<SamplerKind>(state.range(1));
  const VanLoanKernel kernel(sde);
  SamplerOptions options;
  options.kind = kind;
  options.steps = 100;
  const Sampler sampler(kernel, kernel.prior(chooseEndTime(sde)), options);
  FunctionScoreModel trivial(ScoreChannels{true, sde.channels() == 2},
                             [](const Eigen::ArrayXXd& z, double, Eigen::ArrayXXd& s) { s = -z; });
  long steps = 0, calls = 0;
  for (auto _ : state) {
    const SampleResult r = sampler.sample(trivial, 1000, 2, 3);
    steps += r.steps;
    calls += r.scoreCalls;
  }
  state.counters["ns_per_sample_step"] = benchmark::Counter(
      double(steps) * 1000, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["calls_per_run"] = double(calls) / state.iterations();
  state.SetLabel(std::string(processName(static_cast<int>(state.range(0)))) + " " +
                 samplerName(kind));
}
BENCHMARK(BM_SamplerStep)
    ->ArgsProduct({{0, 1, 2}, {0, 1, 2, 3}})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
