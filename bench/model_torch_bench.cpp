// Benchmark of the LibTorch half of model/ (not a test):
//  1. training it/s of the trainer (train(): batches from the core's
//     TrainingTargets, Adam, warm-up, EMA, validation, checkpoint) against a
//     bare LibTorch loop of the same network (random tensors, forward, MSE,
//     backward, Adam step) in the same run;
//  2. samples/s of every sampler at 100 steps through the Generator against a
//     bare loop of the same number of forward passes of the same network.
// Usage: model_torch_bench [train_steps=1000] [sample_batch=2048] [threads=1] [rounds=3]
#include <algorithm>
#include <chrono>
#include <vector>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <torch/optim/adam.h>

#include "../model/src/torch/score_network.h"
#include "../model/src/torch/torch_support.h"
#include "activediff/model/gaussian_mixture.h"
#include "activediff/model/generator.h"
#include "activediff/model/trainer.h"
#include "activediff/model/training_targets.h"
#include "activediff/model/van_loan_kernel.h"

using namespace activediff::model;
namespace ad = activediff::model;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

static double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

static ad::detail::NetworkShape shapeOf(const ModelConfig& c) {
  const LinearSde sde = LinearSde::fromParameters(c.process.sde);
  return {c.network, 2, sde.channels(), requiredScoreChannels(sde, c.network.allChannels),
          effectiveEndTime(c), c.process.tEps};
}

// Bare LibTorch training loop of the same network: it/s.
static double bareTraining(const ad::detail::NetworkShape& shape, int batch, int steps) {
  torch::manual_seed(1);
  ad::detail::ScoreNetwork net(shape);
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-3));
  const auto t0 = Clock::now();
  for (int i = 0; i < steps; ++i) {
    const torch::Tensor z = torch::randn({batch, shape.inputs()});
    const torch::Tensor t = torch::rand({batch}) * shape.endTime;
    const torch::Tensor target = torch::randn({batch, shape.outputCount()});
    const torch::Tensor pre = torch::rand({batch, ad::kPreconditioningColumns});
    adam.zero_grad();
    const torch::Tensor loss = torch::mse_loss(net->forward(z, t, pre), target);
    loss.backward();
    adam.step();
  }
  return steps / since(t0);
}

// Bare forward passes of the same network at a batch: seconds per call.
static double bareForward(const ad::detail::NetworkShape& shape, int batch, int calls) {
  ad::detail::ScoreNetwork net(shape);
  torch::InferenceMode inference;
  const torch::Tensor z = torch::randn({batch, shape.inputs()});
  const torch::Tensor t = torch::full({batch}, 1.0f);
  const torch::Tensor pre = torch::rand({1, ad::kPreconditioningColumns});
  torch::Tensor out = net->forward(z, t, pre);  // warm-up
  const auto t0 = Clock::now();
  for (int i = 0; i < calls; ++i) out = net->forward(z, t, pre);
  return since(t0) / calls;
}

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int sampleBatch = argc > 2 ? std::atoi(argv[2]) : 2048;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 1;
  const int rounds = argc > 4 ? std::atoi(argv[4]) : 3;  // alternations; best of each
  ad::detail::configureThreads(threads);
  const fs::path scratch = fs::temp_directory_path() / "activediff-model-torch-bench";
  fs::remove_all(scratch);

  Rng rng(1);
  TrainingData data;
  data.source = "diamond (in memory)";
  data.train = GaussianMixture::diamond().sample(8000, rng);
  data.validation = GaussianMixture::diamond().sample(800, rng);
  data.spec.featureSet = "diamond";
  data.spec.names = {"x", "y"};
  data.spec.units = {"", ""};
  data.spec.kinds = {-1, -1};
  data.spec.periodic = {false, false};
  data.spec.branchCutsRad = {NAN, NAN};

  std::printf("model_torch_bench: %d training steps, batch 512, 4x128 MLP, %d thread(s)\n\n",
              steps, threads);
  // Where the trainer's time beyond the network goes: the core's batch
  // construction (per-sample Van Loan coefficients, noise) for 512 rows.
  for (const char* kind : {"passive", "active"}) {
    const ModelConfig c = parseConfig("", "bench", {std::string("process.kind=") + kind});
    const LinearSde sde = LinearSde::fromParameters(c.process.sde);
    const TrainingTargets targets(VanLoanKernel(sde), requiredScoreChannels(sde, false));
    Rng r(2);
    const Eigen::ArrayXd t = drawTrainingTimes(512, 1e-3, effectiveEndTime(c), r);
    const Eigen::ArrayXXd x0 = Eigen::ArrayXXd::Random(512, 2);
    Eigen::ArrayXXd noise = Eigen::ArrayXXd::Random(512, 2 * sde.channels()), zt, target;
    const int reps = 200;
    auto t0 = Clock::now();
    for (int i = 0; i < reps; ++i) targets.coefficientTable(t);
    const double table = since(t0) / reps;
    t0 = Clock::now();
    for (int i = 0; i < reps; ++i) targets.makeBatch(x0, t, noise, zt, target);
    const double batch = since(t0) / reps;
    std::printf("%-8s core batch of 512: coefficientTable %.3f ms, makeBatch %.3f ms\n", kind,
                1e3 * table, 1e3 * batch);
  }
  std::printf("\n(best it/s of each; ratio* = median over rounds of adjacent trainer/bare pairs)\n");
  std::printf("%-8s %14s %14s %8s\n", "process", "trainer it/s", "bare it/s", "ratio*");
  fs::path checkpoints[2];
  int p = 0;
  for (const char* kind : {"passive", "active"}) {
    const ModelConfig config = parseConfig(
        "", "bench",
        {std::string("process.kind=") + kind, "training.steps=" + std::to_string(steps),
         "training.batch_size=512", "training.validation_every=1000",
         "training.checkpoint_every=" + std::to_string(steps),
         "runtime.threads=" + std::to_string(threads)});
    const ad::detail::NetworkShape shape = shapeOf(config);
    // Alternate bare and trainer runs (the machine is shared): the ratio of
    // each adjacent pair, reported as the median over rounds.
    std::vector<double> ratios;
    double bestTrainer = 0.0, bestBare = 0.0;
    for (int round = 0; round < rounds; ++round) {
      const double bare = bareTraining(shape, 512, steps);
      TrainOptions o;
      o.outputDirectory = scratch / (std::string(kind) + std::to_string(round));
      const double trainer = train(config, data, o).itPerSecond;
      checkpoints[p] = checkpointPath(o.outputDirectory);
      ratios.push_back(trainer / bare);
      bestTrainer = std::max(bestTrainer, trainer);
      bestBare = std::max(bestBare, bare);
    }
    std::printf("%-8s %14.0f %14.0f %8.2f\n", kind, bestTrainer, bestBare, median(ratios));
    ++p;
  }

  std::printf("\nsampling %d samples (one batch), 100 steps\n", sampleBatch);
  std::printf("%-8s %-6s %12s %8s %14s %14s %8s\n", "process", "sampler", "samples/s", "calls",
              "s/call", "bare s/call", "ratio*");
  p = 0;
  for (const char* kind : {"passive", "active"}) {
    GeneratorOptions go;
    go.threads = threads;
    go.batchSize = sampleBatch;
    Generator g(checkpoints[p++], go);
    ad::detail::NetworkShape shape = shapeOf(g.config());
    for (const char* sampler : {"em", "heun", "sscs", "rk45", "deis"}) {
      SamplerConfig sc;
      sc.kind = sampler;
      sc.steps = 100;
      sc.relativeTolerance = sc.absoluteTolerance = 1e-3;
      g.sample(256, sc, 1);  // warm-up (allocator, thread pool)
      std::vector<double> ratios;
      double best = 1e30, bestBare = 1e30;
      long calls = 0;
      for (int round = 0; round < rounds; ++round) {
        const GeneratedSamples s = g.sample(sampleBatch, sc, 1);
        calls = s.scoreCalls;
        const double bare = bareForward(shape, sampleBatch, static_cast<int>(calls));
        ratios.push_back(bare * calls / s.seconds);
        best = std::min(best, s.seconds);
        bestBare = std::min(bestBare, bare);
      }
      std::printf("%-8s %-6s %12.0f %8ld %14.3e %14.3e %8.2f\n", kind, sampler,
                  sampleBatch / best, calls, best / calls, bestBare, median(ratios));
    }
  }
  fs::remove_all(scratch);
  return 0;
}
