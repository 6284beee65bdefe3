// activediff sample: generate features from a trained checkpoint with a
// chosen sampler; writes them as a featurize dataset directory (periodic
// features wrapped to (-pi, pi], standardization undone) and a JSON summary
// beside it (<output>.json).
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <nlohmann/json.hpp>

#include "activediff/featurize/error.h"
#include "activediff/featurize/npy.h"
#include "activediff/model/config.h"
#include "activediff/model/feature_spec.h"
#include "activediff/model/generator.h"
#include "activediff/model/trainer.h"
#include "commands.h"
#include "option_checks.h"
#include "provenance.h"

namespace activediff::cli {
namespace {

struct SampleCommand {
  std::string model;
  std::string output;
  std::string config;
  std::vector<std::string> set;
  // Absent: the config's value. Given: passed on, so that an impossible
  // value (-n -5, --steps 0) is an error naming the key, never ignored.
  std::optional<std::string> sampler, device, grid;
  std::optional<std::int64_t> count, seed;
  std::optional<int> steps, threads, batchSize, order;
  std::optional<double> stochasticity;
  bool tweedie = false, rawWeights = false, logDensity = false;
  int densitySteps = 100;
  bool randomSeed = false;  // --seed -1: drawn by resolveSeed()

  // --seed -1 draws a seed (recorded in the effective config of the outputs).
  void resolveSeed() { randomSeed = resolveSeedOption(seed, "sample", "sampler.seed"); }

  std::vector<std::string> overrides() const {
    std::vector<std::string> o;
    if (sampler) o.push_back("sampler.kind=\"" + *sampler + "\"");
    if (grid) o.push_back("sampler.grid=\"" + *grid + "\"");
    if (steps) o.push_back(fmt::format("sampler.steps={}", *steps));
    if (order) o.push_back(fmt::format("sampler.order={}", *order));
    if (stochasticity) o.push_back(fmt::format("sampler.stochasticity={}", *stochasticity));
    if (count) o.push_back(fmt::format("sampler.count={}", *count));
    if (seed) o.push_back(fmt::format("sampler.seed={}", *seed));
    if (batchSize) o.push_back(fmt::format("sampler.batch_size={}", *batchSize));
    if (tweedie) o.push_back("sampler.tweedie=true");
    if (rawWeights) o.push_back("sampler.use_ema=false");
    if (device) o.push_back("runtime.device=\"" + *device + "\"");
    if (threads) o.push_back(fmt::format("runtime.threads={}", *threads));
    o.insert(o.end(), set.begin(), set.end());
    return o;
  }
};

void writeMatrix(const std::filesystem::path& file, const Eigen::ArrayXXd& a) {
  NpyWriter writer(file, NpyType::Float64, a.cols());
  Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows = a;
  for (Eigen::Index i = 0; i < rows.rows(); ++i) writer.appendRow(rows.row(i).data());
  writer.finish();
}

void runSample(const SampleCommand& c) {
  using namespace activediff::model;
  const std::filesystem::path checkpoint = resolveCheckpoint(c.model);
  declareInputs({c.model, c.config});
  // The dataset is claimed when it is written, after sampling: refuse now.
  checkOutputAllowed(c.output, OutputShape::Directory);
  std::filesystem::path summary = std::filesystem::path(c.output);
  summary += ".json";
  OutputClaim summaryClaim(summary, OutputShape::File);
  // The checkpoint's config with the sampler and runtime settings of the
  // command line (a --config file contributes its [sampler] and [runtime]).
  const ModelConfig stored = readCheckpointConfig(checkpoint);
  ModelConfig config = parseConfig(toToml(stored), checkpoint.string(), c.overrides());
  if (!c.config.empty()) {
    const ModelConfig file = loadConfig(c.config);
    config.sampler = file.sampler;
    config.runtime = file.runtime;
    config = parseConfig(toToml(config), c.config, c.overrides());
  }
  const std::vector<std::string> changed = configDifferences(
      stored, [&] { ModelConfig a = config; a.sampler = stored.sampler; a.runtime = stored.runtime; return a; }());
  if (!changed.empty()) {
    std::string keys;
    for (const std::string& k : changed) keys += (keys.empty() ? "" : "; ") + k;
    throw Error("sample: only sampler.* and runtime.* settings can change after training, but " + keys +
                " (checkpoint vs now)");
  }

  GeneratorOptions options;
  options.device = config.runtime.device;
  options.threads = config.runtime.threads;
  options.useEma = config.sampler.useEma;
  options.batchSize = config.sampler.batchSize;
  Generator generator(checkpoint, options);
  std::cerr << "model: " << generator.describe() << "\n";

  const SamplerConfig& s = config.sampler;
  const GeneratedSamples out =
      c.logDensity ? generator.sampleWithLogDensity(s.count, s.seed, c.densitySteps)
                   : generator.sample(s.count, s, s.seed);
  const double rate = double(s.count) / std::max(out.seconds, 1e-9);
  const double callsPerSample = out.networkCallsPerSample;

  nlohmann::json settings = {{"model", checkpoint.string()},
                             {"seed_drawn_at_random", c.randomSeed},
                             {"output", c.output},
                             {"config_file", c.config},
                             {"log_density", c.logDensity},
                             {"log_density_steps", c.densitySteps},
                             {"effective_config", nlohmann::json::parse(toJsonText(config))}};
  nlohmann::json document = provenance(settings);
  document["generator"] = {{"describe", generator.describe()},
                           {"trained_steps", generator.trainedSteps()},
                           {"end_time", generator.endTime()},
                           {"t_eps", generator.timeEpsilon()},
                           {"model_branch_cuts_rad", generator.features().branchCutsRad}};
  document["summary"] = {
      {"samples", s.count},
      {"sampler", c.logDensity ? std::string("probability-flow rk4 (log-density)") : s.kind},
      {"steps", c.logDensity ? c.densitySteps : s.steps},
      {"tweedie", s.tweedie && !c.logDensity},
      {"stochasticity", !c.logDensity && (s.kind == "gsscs" || s.kind == "sdeis") ? nlohmann::json(s.stochasticity) : nlohmann::json()},
      {"score_calls", out.scoreCalls},
      {"network_calls_per_sample", callsPerSample},
      {"seconds", out.seconds},
      {"samples_per_s", rate}};
  if (c.logDensity)
    document["summary"]["mean_log_density_model_space"] = out.logDensity.mean();

  const std::filesystem::path dir = c.output;
  writeFeatureDataset(dir, generator.features(), out.features, checkpoint.string(),
                      nlohmann::json{{"generated", document}}.dump());
  // Model-space states (x, aux) and their log-densities, for Metropolis-Hastings.
  if (c.logDensity) {
    writeMatrix(dir / "states.npy", out.z);
    writeMatrix(dir / "log_density.npy", out.logDensity.matrix());
  }
  writeJson(summaryClaim, document);
  std::cout << fmt::format("{} samples in {:.2f} s ({:.0f} samples/s, {} network calls a sample)\nwrote {} and {}\n",
                           s.count, out.seconds, rate, callsPerSample, dir.string(),
                           summary.string());
}

void addSample(CLI::App& app) {
  auto c = std::make_shared<SampleCommand>();
  CLI::App* sub = app.add_subcommand("sample", commandSummary("sample"));
  sub->add_option("-m,--model", c->model, "checkpoint.adck or a training output directory")
      ->required();
  sub->add_option("-o,--output", c->output, "output dataset directory")->required();
  sub->add_option("-n,--count", c->count, "number of samples (sampler.count)");
  sub->add_option("--sampler", c->sampler, "deis, sdeis, em, heun, rk45, sscs or gsscs (sampler.kind)");
  sub->add_option("--steps", c->steps, "sampler steps (sampler.steps)");
  sub->add_option("--order", c->order, "DEIS polynomial order 1-3 (sampler.order)");
  sub->add_option("--stochasticity", c->stochasticity,
                  "gsscs, sdeis: noise level in [0, 1], 1 the reverse SDE, 0 the probability flow "
                  "(sampler.stochasticity)");
  sub->add_option("--grid", c->grid,
                  "time grid: dense-near-eps, uniform, log, log-sigma or edm (sampler.grid)");
  sub->add_option("--seed", c->seed, "random seed (sampler.seed); -1: a random seed, recorded in the outputs");
  sub->add_flag("--tweedie", c->tweedie, "Tweedie denoising at t_eps (sampler.tweedie)");
  sub->add_flag("--raw-weights", c->rawWeights, "use the raw weights instead of the EMA");
  sub->add_option("--batch-size", c->batchSize, "network batch (sampler.batch_size)");
  sub->add_flag("--log-density", c->logDensity,
                "sample with the probability-flow ODE (RK4) and write states.npy and "
                "log_density.npy (joint model-space log-density)");
  sub->add_option("--log-density-steps", c->densitySteps, "RK4 steps for --log-density")
      ->capture_default_str()
      ->check(atLeast(1));
  sub->add_option("--device", c->device, "cpu, cuda or cuda:N (runtime.device)");
  sub->add_option("--threads", c->threads, "torch threads (runtime.threads)");
  sub->add_option("-c,--config", c->config, "TOML config whose [sampler] and [runtime] apply");
  sub->add_option("--set", c->set, "override a config key: sampler.key=value (repeatable)");
  sub->callback([c] {
    c->resolveSeed();
    runSample(*c);
  });
}

const CommandRegistration registration(50, "sample", addSample);

}  // namespace
}  // namespace activediff::cli
