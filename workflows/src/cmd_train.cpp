// activediff train: fit a score network to a featurize dataset (or a plain
// N x D .npy) with the process, network and training settings of a TOML
// config; writes checkpoint.adck, training_log.json, config.toml and
// train_summary.json into the output directory.
#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <nlohmann/json.hpp>

#include "activediff/featurize/error.h"
#include "activediff/model/config.h"
#include "activediff/model/trainer.h"
#include "commands.h"
#include "option_checks.h"
#include "progress.h"
#include "provenance.h"

namespace activediff::cli {
namespace {

struct TrainCommand {
  std::string data;
  std::string output;
  std::string config;
  std::vector<std::string> set;
  bool resume = false;
  // Shorthands for the most common --set keys. Every value given, however
  // impossible (--tau nan, --steps -5), goes to the config check, which names
  // the key; only an absent option leaves the config's value.
  std::optional<std::string> process, device;
  std::optional<double> tau;
  std::optional<std::int64_t> steps, seed;
  std::optional<int> batchSize, threads;
  bool randomSeed = false;  // --seed -1: drawn by resolveSeed()

  // --seed -1 draws a seed (recorded in the effective config of every output).
  void resolveSeed() { randomSeed = resolveSeedOption(seed, "train", "training.seed"); }

  std::vector<std::string> overrides() const {
    std::vector<std::string> o;
    if (process) o.push_back("process.kind=\"" + *process + "\"");
    if (tau) o.push_back(fmt::format("process.tau={}", *tau));
    if (steps) o.push_back(fmt::format("training.steps={}", *steps));
    if (seed) o.push_back(fmt::format("training.seed={}", *seed));
    if (batchSize) o.push_back(fmt::format("training.batch_size={}", *batchSize));
    if (device) o.push_back("runtime.device=\"" + *device + "\"");
    if (threads) o.push_back(fmt::format("runtime.threads={}", *threads));
    o.insert(o.end(), set.begin(), set.end());
    return o;
  }
};

void runTrain(const TrainCommand& c) {
  using namespace activediff::model;
  const std::filesystem::path dir = c.output;
  ModelConfig config;
  if (c.resume && c.config.empty()) {
    // Continue with the checkpoint's own config; --set may change what
    // resuming allows (training.steps, runtime.*, sampler.*).
    const ModelConfig stored = readCheckpointConfig(checkpointPath(dir));
    config = parseConfig(toToml(stored), checkpointPath(dir).string(), c.overrides());
  } else {
    config = loadConfig(c.config, c.overrides());
  }
  const TrainingData data = loadTrainingData(c.data, config.training.validationFraction);
  declareInputs({c.data, c.config});
  outputSession().resume = c.resume;

  nlohmann::json settings = {{"data", c.data},
                             {"output", c.output},
                             {"config_file", c.config},
                             {"resume", c.resume},
                             {"seed_drawn_at_random", c.randomSeed},
                             {"model", nlohmann::json::parse(toJsonText(config))}};
  // Training writes in place (rolling checkpoints): the policy is applied to
  // the directory now, and a summary marks it as a training directory from
  // the start, so a killed run is still recognised as activediff's own.
  claimDirectoryInPlace(dir);
  if (!c.resume) {
    nlohmann::json running = provenance(settings);
    running["summary"] = {{"status", "running"}};
    writeJsonInside(dir / "train_summary.json", running);
  }
  TrainOptions options;
  options.outputDirectory = dir;
  options.resume = c.resume;
  options.provenanceJson = provenance(settings).dump();
  auto progress = std::make_shared<ProgressDisplay>("train", config.training.steps);
  options.progress = [progress](const TrainingProgress& p) {
    std::string detail = fmt::format("loss {:.4f}, {:.0f} it/s", p.loss, p.itPerSecond);
    if (p.validationLoss >= 0.0) detail += fmt::format(", validation (EMA) {:.4f}", p.validationLoss);
    progress->update(p.step, detail);
  };
  std::cerr << fmt::format("training on {}: {} train / {} validation rows, {} features\n",
                           data.source, data.train.rows(), data.validation.rows(),
                           data.spec.dims());
  const TrainSummary s = train(config, data, options);
  progress->finish(fmt::format("loss {:.4f}", s.finalLoss));

  nlohmann::json document = provenance(settings);
  document["effective_config_toml"] = s.effectiveConfigToml;
  document["summary"] = {{"steps", s.steps},
                         {"resumed_from", s.resumedFrom},
                         {"final_loss", s.finalLoss},
                         {"final_validation_loss_ema",
                          s.finalValidationLoss >= 0.0 ? nlohmann::json(s.finalValidationLoss)
                                                       : nlohmann::json(nullptr)},
                         {"it_per_s", s.itPerSecond},
                         {"checkpoint", s.checkpoint.string()},
                         {"log", s.log.string()}};
  document["summary"]["status"] = "complete";
  writeJsonInside(dir / "train_summary.json", document);
  std::cout << fmt::format(
      "trained {} steps ({} this run, {:.0f} it/s): loss {:.4f}, validation (EMA) {}\n"
      "wrote {}, {}, {}\n",
      s.steps, s.steps - s.resumedFrom, s.itPerSecond, s.finalLoss,
      s.finalValidationLoss >= 0.0 ? fmt::format("{:.4f}", s.finalValidationLoss) : "-",
      s.checkpoint.string(), s.log.string(), (dir / "train_summary.json").string());
}

void addTrain(CLI::App& app) {
  auto c = std::make_shared<TrainCommand>();
  CLI::App* sub = app.add_subcommand("train", commandSummary("train"));
  sub->add_option("-d,--data", c->data, "featurize dataset directory or N x D .npy")->required();
  sub->add_option("-o,--output", c->output, "output directory (checkpoint, logs)")->required();
  sub->add_option("-c,--config", c->config, "TOML config ([process] [network] [training] [runtime])");
  sub->add_option("--set", c->set, "override a config key: section.key=value (repeatable)");
  sub->add_flag("--resume", c->resume,
                "continue the checkpoint in the output directory exactly (same weights as an "
                "uninterrupted run); raise training.steps to train longer");
  sub->add_option("--process", c->process, "shorthand for process.kind (passive, active, cld)");
  sub->add_option("--tau", c->tau, "shorthand for process.tau");
  sub->add_option("--steps", c->steps, "shorthand for training.steps");
  sub->add_option("--seed", c->seed, "shorthand for training.seed; -1: a random seed, recorded in the outputs");
  sub->add_option("--batch-size", c->batchSize, "shorthand for training.batch_size");
  sub->add_option("--device", c->device, "shorthand for runtime.device (cpu, cuda, cuda:N)");
  sub->add_option("--threads", c->threads, "shorthand for runtime.threads (default 1)");
  sub->callback([c] {
    c->resolveSeed();
    runTrain(*c);
  });
}

const CommandRegistration registration(40, "train", addTrain);

}  // namespace
}  // namespace activediff::cli
