// activediff state-memory: the metastable-state memory experiment (MATH.md 6,
// the seed paper's class memory on molecular states). MD frames labelled by
// their metastable state (featurize/states.h) are noised to t* with the
// model's forward kernel and reversed to t_eps, once with the auxiliary
// variable as drawn (kept) and once with it shuffled across the batch; the
// fraction that returns to its starting state is reported against t* for
// every model (model/memory_analysis.h: stateMemoryExperiment).
//
// --mixture diamond replaces the trained models by the exact score of the
// 9-peak Gaussian mixture (gaussian_mixture.h) under processes given with
// --process, the states being the mixture's modes: an oracle run that needs
// no training. Writes report.json, report.md and state_memory.png.
#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>

#include "activediff/featurize/atomic_output.h"
#include "activediff/featurize/dataset.h"
#include "activediff/featurize/error.h"
#include "activediff/featurize/states.h"
#include "activediff/model/config.h"
#include "activediff/model/gaussian_mixture.h"
#include "activediff/model/generator.h"
#include "activediff/model/memory_analysis.h"
#include "activediff/model/samplers.h"
#include "activediff/model/time_grid.h"
#include "activediff/model/trainer.h"
#include "activediff/version.h"
#include "analysis_processes.h"
#include "commands.h"
#include "option_checks.h"
#include "plots.h"
#include "provenance.h"

namespace activediff::cli {
namespace {

using nlohmann::json;
namespace m = activediff::model;

struct StateMemoryOptions {
  std::vector<std::string> models;     // [LABEL=]PATH
  std::string frames;                  // featurize dataset with phi and psi
  std::string mixture;                 // "diamond": the analytic oracle
  std::vector<std::string> processes;  // with --mixture: KIND[:key=value,...]
  std::string output = "state-memory";
  std::vector<double> tStars = {0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0};
  std::int64_t count = 1000;
  std::uint64_t seed = 1;
  std::string sampler = "em";
  int steps = 100;
  std::string grid = "uniform";
  int threads = 1;
  std::string device = "cpu";
  json toJson() const {
    return {{"models", models},   {"frames", frames}, {"mixture", mixture}, {"processes", processes},
            {"output", output},   {"t_star", tStars}, {"count", count},     {"seed", seed},
            {"sampler", sampler}, {"steps", steps},   {"grid", grid},       {"threads", threads},
            {"device", device}};
  }
};

// "active:tau=0.5,active_temperature=1.5" -> the [process] of a config.
m::LinearSde parseProcess(const std::string& spec) {
  const std::size_t colon = spec.find(':');
  std::vector<std::string> overrides = {"process.kind=\"" + spec.substr(0, colon) + "\""};
  if (colon != std::string::npos) {
    std::string rest = spec.substr(colon + 1);
    for (std::size_t start = 0; start <= rest.size();) {
      const std::size_t comma = std::min(rest.find(',', start), rest.size());
      const std::string item = rest.substr(start, comma - start);
      if (!item.empty()) overrides.push_back("process." + item);
      start = comma + 1;
    }
  }
  return m::LinearSde::fromParameters(m::parseConfig("", "--process " + spec, overrides).process.sde);
}

std::string processLabel(const m::LinearSde& sde) {
  const auto& p = sde.parameters();
  if (sde.kind() == m::ProcessKind::Active) return fmt::format("active tau={:g}", p.tau);
  return m::processKindName(sde.kind());
}

// Evenly spaced indices among the candidates.
std::vector<std::int64_t> evenlySpaced(const std::vector<std::int64_t>& candidates, std::int64_t count) {
  const auto n = static_cast<std::int64_t>(candidates.size());
  if (count >= n) return candidates;
  std::vector<std::int64_t> out;
  for (std::int64_t i = 0; i < count; ++i) out.push_back(candidates[(i * n) / count]);
  return out;
}

json fractionJson(const m::ReturnFraction& f) {
  return {{"n", f.n}, {"returned", f.returned}, {"fraction", f.fraction}, {"standard_error", f.standardError}};
}

void runStateMemory(const StateMemoryOptions& o) {
  const bool analytic = !o.mixture.empty();
  if (analytic == !o.models.empty()) throw Error("state-memory: give either --model (with --frames) or --mixture");
  if (analytic && o.mixture != "diamond") throw Error("--mixture", "the only analytic mixture is 'diamond'");
  if (analytic && o.processes.empty()) throw Error("--mixture needs at least one --process");
  if (!analytic && o.frames.empty()) throw Error("--model needs --frames (an MD dataset with phi and psi)");
  if (!analytic && !o.processes.empty()) throw Error("--process is for --mixture; a model brings its own process");
  for (double t : o.tStars)
    if (!(t > 0.0 && std::isfinite(t))) throw Error(fmt::format("--t-star {} must be a finite time > 0", t));
  std::vector<std::string> paths;
  std::vector<std::string> labels;
  for (const std::string& spec : o.models) {
    const std::size_t eq = spec.find('=');
    labels.push_back(eq == std::string::npos ? "" : spec.substr(0, eq));
    paths.push_back(eq == std::string::npos ? spec : spec.substr(eq + 1));
  }
  declareInputs({o.frames});
  declareInputs(paths);
  std::vector<std::filesystem::path> checkpoints;
  for (const std::string& p : paths) checkpoints.push_back(m::resolveCheckpoint(p));
  OutputClaim claim(o.output, OutputShape::Directory);
  const std::filesystem::path dir = claim.temporary();

  m::SamplerOptions samplerOptions;
  samplerOptions.kind = m::parseSamplerKind(o.sampler);
  samplerOptions.steps = o.steps;
  samplerOptions.grid = m::parseTimeGrid(o.grid);

  // Starting points: dataset units (frames) or the mixture's own samples.
  const m::GaussianMixture mixture = m::GaussianMixture::diamond();
  Eigen::ArrayXXd startFeatures;
  std::vector<int> startState;
  std::vector<std::string> stateNames;
  json framesJson;
  std::vector<std::string> featureNames;
  int phiColumn = -1, psiColumn = -1;
  if (analytic) {
    m::Rng rng(o.seed);
    startFeatures = mixture.sample(static_cast<int>(o.count), rng);
    const Eigen::ArrayXi modes = mixture.nearestMode(startFeatures);
    startState.assign(modes.data(), modes.data() + modes.size());
    for (int k = 0; k < mixture.components(); ++k)
      stateNames.push_back(fmt::format("mode{} ({:g}, {:g})", k, mixture.means(k, 0), mixture.means(k, 1)));
    framesJson = {{"source", "the 9-peak diamond mixture (gaussian_mixture.h), sampled with --seed"},
                  {"count", o.count},
                  {"states", "the mixture's modes; a point's state is its nearest mode mean"}};
  } else {
    const Dataset d = readDataset(o.frames);
    phiColumn = d.featureIndex("phi");
    psiColumn = d.featureIndex("psi");
    if (phiColumn < 0 || psiColumn < 0) throw Error(o.frames, "has no features named phi and psi");
    for (const auto& f : d.info.features) featureNames.push_back(f.name);
    std::vector<std::int64_t> candidates;
    for (std::int64_t r = 0; r < d.frames(); ++r)
      if (classifyStateRad(d.features(r, phiColumn), d.features(r, psiColumn)) != MetastableState::Other)
        candidates.push_back(r);
    if (candidates.size() < 2) throw Error(o.frames, "has fewer than 2 frames in a metastable state");
    const std::vector<std::int64_t> rows = evenlySpaced(candidates, o.count);
    startFeatures.resize(static_cast<Eigen::Index>(rows.size()), d.dimension());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      for (int c = 0; c < d.dimension(); ++c) startFeatures(Eigen::Index(i), c) = d.features(rows[i], c);
      startState.push_back(static_cast<int>(
          classifyStateRad(d.features(rows[i], phiColumn), d.features(rows[i], psiColumn))));
    }
    for (int s = 0; s < kMetastableStateCount; ++s) stateNames.push_back(stateName(static_cast<MetastableState>(s)));
    framesJson = {{"dataset", o.frames},
                  {"frames", d.frames()},
                  {"in_a_state", candidates.size()},
                  {"used", rows.size()},
                  {"selection", "evenly spaced among the frames in a metastable state (frames in 'other' are left out)"},
                  {"states", "featurize/states.h boxes on phi/psi; the reversed samples are classified the same way"}};
  }
  const auto n = static_cast<std::int64_t>(startState.size());
  std::vector<std::int64_t> startCounts(stateNames.size(), 0);
  for (int s : startState) ++startCounts[s];
  double chance = 0.0;
  json startJson = json::object();
  for (std::size_t s = 0; s < stateNames.size(); ++s) {
    chance += std::pow(double(startCounts[s]) / double(n), 2);
    if (startCounts[s] > 0) startJson[stateNames[s]] = startCounts[s];
  }

  json models = json::array();
  std::vector<Series> curves;
  std::string table;
  const std::size_t arms = analytic ? o.processes.size() : checkpoints.size();
  for (std::size_t a = 0; a < arms; ++a) {
    std::unique_ptr<m::Generator> generator;
    std::unique_ptr<m::MixtureMarginal> exact;
    m::ScoreModel* score = nullptr;
    std::optional<m::VanLoanKernel> kernel;
    double endTime = 0.0, tEps = m::kDefaultTimeEpsilon;
    Eigen::ArrayXXd x0;
    std::string label, source;
    m::StateClassifier classify;
    if (analytic) {
      const m::LinearSde sde = parseProcess(o.processes[a]);
      kernel.emplace(sde);
      endTime = m::chooseEndTime(sde);
      exact = std::make_unique<m::MixtureMarginal>(*kernel, mixture);
      score = exact.get();
      x0 = startFeatures;
      label = processLabel(sde);
      source = "exact score of the diamond mixture";
      classify = [&mixture](const Eigen::ArrayXXd& x) {
        const Eigen::ArrayXi modes = mixture.nearestMode(x);
        return std::vector<int>(modes.data(), modes.data() + modes.size());
      };
    } else {
      m::GeneratorOptions go;
      go.threads = o.threads;
      go.device = o.device;
      generator = std::make_unique<m::Generator>(checkpoints[a], go);
      std::cerr << "model: " << generator->describe() << "\n";
      const m::FeatureSpec& spec = generator->features();
      if (spec.names != featureNames)
        throw Error(o.frames, "has features that differ from the model " + checkpoints[a].string() + "'s");
      kernel.emplace(generator->sde());
      endTime = generator->endTime();
      tEps = generator->timeEpsilon();
      score = &generator->scoreModel();
      x0 = spec.toModel(startFeatures);
      label = labels[a].empty() ? processLabel(generator->sde()) : labels[a];
      source = checkpoints[a].string();
      classify = [&spec, phiColumn, psiColumn](const Eigen::ArrayXXd& x) {
        const Eigen::ArrayXXd f = spec.fromModel(x);
        std::vector<int> states(static_cast<std::size_t>(f.rows()));
        for (Eigen::Index i = 0; i < f.rows(); ++i)
          states[i] = static_cast<int>(classifyStateRad(f(i, phiColumn), f(i, psiColumn)));
        return states;
      };
    }
    for (double t : o.tStars)
      if (!(t > tEps && t <= endTime))
        throw Error(fmt::format("--t-star {} lies outside (t_eps, T] = ({:g}, {:g}] of {}", t, tEps, endTime, label));
    samplerOptions.tEps = tEps;
    const m::Sampler sampler(*kernel, kernel->prior(endTime, 1.0), samplerOptions);
    const std::vector<m::StateMemoryRun> runs = m::stateMemoryExperiment(
        sampler, *kernel, *score, x0, o.tStars, tEps, classify, o.seed + 1000003ull * (a + 1));
    const bool hasAux = kernel->channels() == 2;
    json points = json::array();
    Series keptCurve{label + " (aux kept)", {}, {}}, shuffledCurve{label + " (aux shuffled)", {}, {}};
    if (!hasAux) keptCurve.name = label;
    long calls = 0;
    for (const m::StateMemoryRun& run : runs) {
      calls += run.scoreCalls;
      const m::ReturnFraction kept = m::returnFraction(startState, run.finalKept);
      json point = {{"t_star", run.tStar}, {"kept", fractionJson(kept)}};
      keptCurve.x.push_back(run.tStar);
      keptCurve.y.push_back(kept.fraction);
      json byState = json::object();
      for (std::size_t s = 0; s < stateNames.size(); ++s) {
        if (startCounts[s] == 0) continue;
        std::vector<char> use(startState.size());
        for (std::size_t i = 0; i < use.size(); ++i) use[i] = startState[i] == int(s);
        json entry = {{"kept", fractionJson(m::returnFraction(startState, run.finalKept, use))}};
        entry["shuffled"] = hasAux ? fractionJson(m::returnFraction(startState, run.finalShuffled, use)) : json(nullptr);
        byState[stateNames[s]] = entry;
      }
      std::string row = fmt::format("| {} | {:g} | {:.3f} +- {:.3f} |", label, run.tStar, kept.fraction, kept.standardError);
      if (hasAux) {
        const m::ReturnFraction shuffled = m::returnFraction(startState, run.finalShuffled);
        const m::PairedDifference diff = m::pairedReturnDifference(startState, run.finalKept, run.finalShuffled);
        point["shuffled"] = fractionJson(shuffled);
        point["difference"] = {{"mean", diff.mean},
                               {"standard_error", diff.standardError},
                               {"z", diff.standardError > 0 ? json(diff.mean / diff.standardError) : json(nullptr)}};
        shuffledCurve.x.push_back(run.tStar);
        shuffledCurve.y.push_back(shuffled.fraction);
        row += fmt::format(" {:.3f} +- {:.3f} | {:+.3f} +- {:.3f} |", shuffled.fraction, shuffled.standardError,
                           diff.mean, diff.standardError);
      } else {
        point["shuffled"] = nullptr;
        point["difference"] = nullptr;
        row += " (no aux) | |";
      }
      point["by_start_state"] = byState;
      points.push_back(point);
      table += row + "\n";
    }
    curves.push_back(keptCurve);
    if (hasAux) curves.push_back(shuffledCurve);
    models.push_back({{"label", label},
                      {"source", source},
                      {"sde", sdeJson(kernel->sde())},
                      {"has_aux", hasAux},
                      {"end_time", endTime},
                      {"t_eps", tEps},
                      {"score_calls", calls},
                      {"points", points}});
  }
  curves.push_back({"chance (sum of squared start fractions)", o.tStars, std::vector<double>(o.tStars.size(), chance)});

  json report = provenance(o.toJson());
  report["definition"] =
      "Starting points labelled by state are noised to t* with the x0-only forward kernel and reversed to t_eps; "
      "kept: the auxiliary variable as drawn; shuffled: its rows permuted across the batch (x untouched). fraction = "
      "share of starting points whose reversed sample is in the starting state; standard_error = sqrt(p (1 - p) / "
      "n); difference = kept - shuffled, paired (the same forward and reverse noise), its standard error that of "
      "the mean per-point difference. One-channel (passive) models have no aux: shuffled and difference are null.";
  report["mode"] = analytic ? "mixture" : "models";
  report["frames"] = framesJson;
  report["start_states"] = startJson;
  report["chance_level"] = chance;
  report["sampler"] = {{"kind", o.sampler}, {"steps", o.steps}, {"grid", o.grid},
                       {"span", "from t* down to the model's t_eps"}};
  report["t_star"] = o.tStars;
  report["models"] = models;
  plotCurves((dir / "state_memory.png").string(), curves, "t* (forward time the frames were noised to)",
             "fraction returning to the starting state", "metastable-state memory", CurveAxes{true, false});
  report["plots"] = {{"state_memory", "state_memory.png"}};

  std::string text = "# Metastable-state memory\n\n";
  text += fmt::format(
      "{} starting points ({}), noised to t* and reversed with the {} sampler ({} steps, {} grid) to t_eps. "
      "Fraction returning to the starting state, +- its standard error; kept minus shuffled is paired. Chance "
      "(start-state fractions squared, summed): {:.3f}.\n\n| model | t* | aux kept | aux shuffled | kept - shuffled "
      "|\n|---|---|---|---|---|\n",
      n, analytic ? "diamond mixture, states = modes" : "MD frames `" + o.frames + "`, metastable states", o.sampler,
      o.steps, o.grid, chance);
  text += table + "\n![state memory](state_memory.png)\n\nPer start state and full numbers: report.json (activediff " +
          std::string(kVersion) + ").\n";
  writeFileAtomically(dir / "report.md", text);
  writeJsonInside(dir / "report.json", report);
  claim.commit();
  std::cout << fmt::format("state memory of {} model(s) at {} t* values, {} starting points; report: {}\n", arms,
                           o.tStars.size(), n, (claim.target() / "report.md").string());
}

void addStateMemory(CLI::App& app) {
  auto o = std::make_shared<StateMemoryOptions>();
  CLI::App* sub = app.add_subcommand("state-memory", commandSummary("state-memory"));
  sub->add_option("-m,--model", o->models,
                  "[LABEL=]checkpoint.adck or training directory; repeatable (e.g. passive and active models)");
  sub->add_option("-f,--frames", o->frames, "MD dataset directory (featurize) with phi and psi: the starting frames");
  sub->add_option("--mixture", o->mixture, "'diamond': the exact 9-peak mixture score instead of models (oracle)");
  sub->add_option("--process", o->processes,
                  "with --mixture: KIND[:key=value,...] with the keys of a config's [process] (e.g. passive, "
                  "active:tau=0.5,active_temperature=1.5); repeatable");
  sub->add_option("-o,--output", o->output, "report directory")->capture_default_str();
  sub->add_option("--t-star", o->tStars, "noise levels t* (comma-separated forward times)")
      ->delimiter(',')
      ->capture_default_str()
      ->check(finitePositive());
  sub->add_option("-n,--count", o->count, "starting points (frames evenly spaced among those in a state)")
      ->capture_default_str()
      ->check(atLeast(2));
  sub->add_option("--seed", o->seed, "random seed (forward noise, reverse noise, shuffles)")->capture_default_str();
  sub->add_option("--sampler", o->sampler, "reverse sampler: em (reverse SDE: samples the posterior), sscs, heun, rk45, deis")
      ->capture_default_str();
  sub->add_option("--steps", o->steps, "sampler steps from t* to t_eps")->capture_default_str()->check(atLeast(1));
  sub->add_option("--grid", o->grid, "time grid from t_eps to t*: uniform, dense-near-eps, log, log-sigma, edm")
      ->capture_default_str();
  sub->add_option("--threads", o->threads, "torch threads")->capture_default_str()->check(atLeast(1));
  sub->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  sub->callback([o] { runStateMemory(*o); });
}

const CommandRegistration registration(110, "state-memory", addStateMemory);

}  // namespace
}  // namespace activediff::cli
