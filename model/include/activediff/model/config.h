#pragma once
// The configuration of a model: process, network, training, sampler and
// runtime settings. Read from a TOML file (examples/configs/*.toml), every
// value overridable with "section.key=value" strings (the CLI's --set), and
// validated once here: unknown keys, wrong types and impossible values
// (tau <= 0, an end time too short for the prior, ...) throw activediff::Error
// naming the key. The effective configuration is written back as TOML and
// JSON with every output (checkpoints, sample sets, logs).
//
// Torch-free: the CLI, the Generator and a future OpenMM plugin include it.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "activediff/model/linear_sde.h"

namespace activediff::model {

// Defaults of each process kind (k = 1 units): passive T = 1; active tau = 0.5,
// Ta = 1, Tp = 0; CLD beta = 4, M = 0.25, gamma = 0.04.
LinearSdeParameters defaultProcessParameters(ProcessKind kind);
std::string processKindName(ProcessKind kind);  // "passive", "active", "cld"

struct ProcessConfig {
  // kind and the parameters of that kind (process.kind resets them to its defaults)
  LinearSdeParameters sde = defaultProcessParameters(ProcessKind::Passive);
  double endTime = 0.0;     // 0: chooseEndTime(sde) (MATH.md 2); else checked
  double tEps = 1e-3;       // t ~ U(t_eps, T); samplers stop at t_eps
};

struct NetworkConfig {
  std::string kind = "mlp";  // "mlp" (the paper's 2D model) or "resmlp" (25D)
  int width = 128;
  int depth = 4;             // hidden layers (mlp) or residual blocks (resmlp)
  int timeFrequencies = 16;  // sinusoidal time features: 2 per frequency
  bool allChannels = false;  // also learn the x score when Q_xx = 0 (for Tweedie)
  // "marginal": inputs whitened by the exact marginal covariance of z_t and
  // the Gaussian part of the score analytic (training_targets.h); "none":
  // raw inputs, the network learns the whole score. "none" is the default
  // because "marginal" measured worse on multimodal data at the training
  // budgets that matter (docs/departures.md "Preconditioning").
  std::string preconditioning = "none";
  // "every-layer": the time features enter every hidden layer (a learned
  // projection added before each activation); "input": the first layer only
  // (checkpoints written before it). docs/departures.md has the measurement.
  std::string timeConditioning = "every-layer";
};

struct TrainingConfig {
  std::int64_t steps = 20000;
  int batchSize = 512;
  double learningRate = 1e-3;
  std::int64_t warmupSteps = 500;  // linear LR ramp from 0
  // After the warm-up: "constant" (the peak rate to the end), or "cosine":
  // half a cosine from the peak at warmup_steps to 0 at `steps`, so a shorter
  // budget anneals too. learningRateAt() is the one definition.
  std::string learningRateSchedule = "constant";
  // Training times: "uniform" t ~ U(t_eps, T) (MATH.md 3, the core's
  // drawTrainingTimes), "log-uniform" t = t_eps (T / t_eps)^u, u ~ U(0, 1) (an
  // importance schedule that spends more of each batch near t_eps, where the
  // score is sharpest: uniform puts 1.4 % of the times below t = 0.1 for
  // T = 7), or "mixed": each time from one of the two with probability 1/2.
  // With unit-variance whitened targets this only reweights the loss over t.
  // "mixed" is the default: on the shipped MD (active tau 0.5, DEIS-20) it
  // gave quality ratios 1.86 / 1.81 at 5,000 / 10,000 steps, against 2.24 /
  // 2.18 for log-uniform and 3.07 / 1.79 for uniform (docs/departures.md
  // "The network").
  std::string timeSampling = "mixed";
  double emaDecay = 0.999;
  double gradientClip = 0.0;       // max global L2 norm; 0 = off
  std::uint64_t seed = 1;
  double validationFraction = 0.1;  // last contiguous block when the dataset has no split
  std::int64_t validationEvery = 1000;
  int validationSamples = 4096;     // fixed (x0, t, noise) draws, the same at every evaluation
  std::int64_t checkpointEvery = 1000;
  std::int64_t logEvery = 100;
};

// The learning rate of training step `step` (1-based, 1..steps): the linear
// warm-up, then training.learning_rate_schedule.
double learningRateAt(const TrainingConfig& training, std::int64_t step);


struct SamplerConfig {
  // Defaults without a config file: DEIS-3, 20 steps (20 network calls a
  // sample) on the grid dense near t_eps, deterministic and exact on the
  // diamond for every process. The shipped configs choose GSSCS-20, better on
  // MD data (BENCHMARKS.md, "stochastic samplers on the learned score").
  std::string kind = "deis";  // em | heun | rk45 | sscs | deis | gsscs (model/samplers.h)
  int steps = 20;
  std::string grid = "dense-near-eps";  // uniform | dense-near-eps | log | log-sigma | edm
  int order = 3;                        // deis: polynomial order 1-3
  double relativeTolerance = 1e-5;
  double absoluteTolerance = 1e-5;
  bool tweedie = false;  // needs a network trained with network.all_channels
  double stochasticity = 1.0;  // gsscs: 1 the reverse SDE, 0 the probability flow (samplers.h)
  std::int64_t count = 10000;
  int batchSize = 2048;  // network batch: 2048 keeps activations in cache (4096 was 3.5x slower per sample)
  std::uint64_t seed = 1;
  bool useEma = true;
};

struct RuntimeConfig {
  std::string device = "cpu";  // "cpu", "cuda", "cuda:N"
  int threads = 1;             // torch intra-op threads (and OpenBLAS)
};

struct ModelConfig {
  ProcessConfig process;
  NetworkConfig network;
  TrainingConfig training;
  SamplerConfig sampler;
  RuntimeConfig runtime;
};

// The file (may be empty: defaults only), then the overrides in order.
// `source` names the text in error messages.
ModelConfig loadConfig(const std::filesystem::path& file,
                       const std::vector<std::string>& overrides = {});
ModelConfig parseConfig(const std::string& tomlText, const std::string& source,
                        const std::vector<std::string>& overrides = {});
// Throws activediff::Error for impossible values (also called by the parsers).
void validateConfig(const ModelConfig& config);

// The end time actually used: process.endTime, or the rule of MATH.md 2.
double effectiveEndTime(const ModelConfig& config);

// The effective configuration; parseConfig(toToml(c)) == c.
std::string toToml(const ModelConfig& config);
std::string toJsonText(const ModelConfig& config);

// The keys whose values differ between two configs, in section order, each as
// "section.key: <value in a> vs <value in b>" (TOML values; "(unset)" for a
// key only one of them has, e.g. a parameter of another process kind). Empty
// when toToml(a) == toToml(b).
std::vector<std::string> configDifferences(const ModelConfig& a, const ModelConfig& b);

}  // namespace activediff::model
