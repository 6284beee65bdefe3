// activediff evaluate: generated samples against reference MD and physics.
// Every number comes from the measures defined once in featurize/ (histogram,
// JS divergence, state populations, Wasserstein-1, clashes) and from the one
// features -> structures -> energies path (structure_pipeline.h).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>

#include "activediff/featurize/atomic_output.h"
#include "activediff/featurize/divergence.h"
#include "activediff/featurize/error.h"
#include "activediff/featurize/geometry.h"
#include "activediff/featurize/populations.h"
#include "activediff/featurize/quality.h"
#include "activediff/featurize/ramachandran.h"
#include "activediff/featurize/states.h"
#include "activediff/plugin/openmm_setup.h"
#include "activediff/model/layout.h"
#include "activediff/version.h"
#include "commands.h"
#include "option_checks.h"
#include "distribution_summary.h"
#include "model_likelihood.h"
#include "plots.h"
#include "provenance.h"
#include "structure_chunks.h"
#include "structure_pipeline.h"

namespace activediff::cli {

ModelLikelihood& modelLikelihood() {
  static ModelLikelihood hook;
  return hook;
}

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct EvaluateOptions {
  std::string reference;
  std::string generated;
  std::string output = "report";
  StructurePathOptions path;
  std::int64_t energySamples = 1000;
  std::string model;
  std::int64_t likelihoodFrames = 500;
  int likelihoodSamples = 8;  // K, importance samples of aux per frame (two-channel models)
  std::string trainingLog;
  double temperatureK = 300.0;
  std::string training;  // the frames the model was trained on: the quality ratio
  QualitySeeds qualitySeeds;
  std::string referenceLabel = "MD";
  std::string generatedLabel = "generated";
  json toJson() const {
    return {{"reference", reference},       {"generated", generated},
            {"output", output},             {"structure_path", path.toJson()},
            {"energy_samples", energySamples}, {"model", model},
            {"likelihood_frames", likelihoodFrames}, {"likelihood_samples", likelihoodSamples},
            {"training_log", trainingLog},
            {"temperature_k", temperatureK}, {"training", training},
            {"quality_seed", qualitySeeds.first}, {"quality_seeds", qualitySeeds.count}};
  }
};

using PhiPsi = PhiPsiAngles;  // quality.h

PhiPsi phiPsiOf(const Dataset& dataset, const std::vector<std::int64_t>& rows, const std::string& file) {
  const int phi = dataset.featureIndex("phi");
  const int psi = dataset.featureIndex("psi");
  if (phi < 0 || psi < 0) throw Error(file, "has no features named phi and psi");
  PhiPsi result;
  for (std::int64_t r : rows) {
    result.phiRad.push_back(dataset.features(r, phi));
    result.psiRad.push_back(dataset.features(r, psi));
  }
  return result;
}

RamachandranHistogram histogramOf(const PhiPsi& angles) { return ramachandranHistogramOf(angles); }

json populationsJson(const Populations& populations) {
  json states = json::object();
  for (int s = 0; s < kMetastableStateCount; ++s) {
    const PopulationEstimate& e = populations.categories[s];
    states[stateName(static_cast<MetastableState>(s))] = {{"fraction", e.fraction}, {"ci_low", e.ciLow}, {"ci_high", e.ciHigh}};
  }
  return {{"states", states}, {"samples", populations.samples}, {"block_length", populations.blockLength},
          {"resamples", populations.resamples}, {"confidence", populations.confidence}};
}

std::vector<std::int64_t> allRows(std::int64_t n) {
  std::vector<std::int64_t> rows(n);
  for (std::int64_t i = 0; i < n; ++i) rows[i] = i;
  return rows;
}

// Two independent halves of the reference: by source file when it has two or
// more (independent runs), else the first and second half in time.
std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>> referenceHalves(const Dataset& reference,
                                                                                 std::string& how) {
  std::vector<std::int64_t> first, second;
  const auto sources = static_cast<std::int64_t>(reference.info.sources.size());
  if (sources >= 2) {
    how = "by source file (independent runs)";
    for (std::int64_t i = 0; i < reference.frames(); ++i) {
      (reference.sourceFile[i] < (sources + 1) / 2 ? first : second).push_back(i);
    }
  } else {
    how = "first and second half in time";
    for (std::int64_t i = 0; i < reference.frames(); ++i) (i < reference.frames() / 2 ? first : second).push_back(i);
  }
  return {first, second};
}

std::string md(double value, int digits = 4) { return std::isfinite(value) ? fmt::format("{:.{}f}", value, digits) : "n/a"; }

json qualityResultJson(const QualityResult& r) {
  const auto orNull = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  return {{"mean", r.mean}, {"standard_error", orNull(r.standardError)}, {"per_seed", r.perSeed}, {"seeds", r.seeds},
          {"n", r.n}};
}

// The quality ratio and its baselines (quality.h): --reference is the unseen
// MD, --training the frames the model was trained on.
json qualityJson(const EvaluateOptions& options, const Dataset& training, const PhiPsi& unseen,
                 const PhiPsi& generatedValid) {
  const QualityReference reference = [&] {
    try {
      return QualityReference(phiPsiOf(training, allRows(training.frames()), options.training), unseen);
    } catch (const Error& e) {
      throw Error(options.training, std::string(e.what()) + " (--training against --reference " + options.reference + ")");
    }
  }();
  const std::int64_t n = reference.n();
  const auto valid = static_cast<std::int64_t>(generatedValid.size());
  if (valid < n) {
    throw Error(options.generated,
                fmt::format("has {} valid samples but --training {} has {} frames: the quality ratio compares equal "
                            "numbers of points (histogram JS is biased by N); sample at least {} (sample -n {})",
                            valid, options.training, n, n, n));
  }
  PhiPsi used;
  for (std::int64_t i : evenlySpacedIndices(valid, n)) {
    used.phiRad.push_back(generatedValid.phiRad[i]);
    used.psiRad.push_back(generatedValid.psiRad[i]);
  }
  const double generatedJs = reference.jsNats(used);
  const QualityResult replay = replayBaseline(reference, options.qualitySeeds);
  const QualityResult kde = kdeBaseline(reference, options.qualitySeeds);
  json kdeJson = qualityResultJson(kde);
  std::vector<double> gridDeg;
  for (double h : kde.bandwidthGridRad) gridDeg.push_back(h * kDegPerRad);
  kdeJson["bandwidth_rad"] = kde.bandwidthRad;
  kdeJson["bandwidth_deg"] = kde.bandwidthRad * kDegPerRad;
  kdeJson["bandwidth_grid_deg"] = gridDeg;
  kdeJson["grid_mean_ratio"] = kde.gridMeans;
  kdeJson["search_seeds"] = kde.searchSeeds;
  return {{"protocol", qualityProtocolDescription()},
          {"bins", kRamachandranBins},
          {"n", n},
          {"training", {{"dataset", options.training}, {"frames", training.frames()}}},
          {"unseen", {{"dataset", options.reference}, {"frames", reference.unseenFrames()}}},
          {"generated",
           {{"valid_samples", valid},
            {"used", n},
            {"selection", "evenly spaced over the valid samples: valid sample floor(i * valid_samples / n), i = 0 .. n-1"}}},
          {"training_js_nats", reference.trainingJsNats()},
          {"generated_js_nats", generatedJs},
          {"ratio", generatedJs / reference.trainingJsNats()},
          {"replay", qualityResultJson(replay)},
          {"kde", kdeJson},
          {"seeds", {{"first", options.qualitySeeds.first}, {"count", options.qualitySeeds.count}}}};
}

void runEvaluate(const EvaluateOptions& options) {
  declareInputs({options.reference, options.generated, options.path.topology, options.path.systemXml, options.model,
                 options.trainingLog, options.training});
  const Dataset reference = readDataset(options.reference);
  const Dataset generated = readDataset(options.generated, FeatureValidation::AllowNonFinite);
  if (generated.dimension() != reference.dimension() || generated.info.featureSet != reference.info.featureSet) {
    throw Error(options.generated, fmt::format("has {} features ({}) but the reference {} has {} ({})",
                                               generated.dimension(), generated.info.featureSet, options.reference,
                                               reference.dimension(), reference.info.featureSet));
  }
  std::optional<Dataset> training;
  if (!options.training.empty()) training = readDataset(options.training);
  // The report is assembled in a temporary directory of the tool's own and
  // moved into place when complete (backed up / refused by the policy).
  OutputClaim reportClaim(options.output, OutputShape::Directory);
  const fs::path dir = reportClaim.temporary();
  json report = provenance(options.toJson());
  report["reference"] = {{"dataset", options.reference}, {"frames", reference.frames()},
                         {"feature_set", reference.info.featureSet}};
  report["generated"] = {{"dataset", options.generated}, {"samples", generated.frames()}};
  json plots = json::object();

  // Validity of generated samples: counted and reported, never fatal.
  std::vector<std::int64_t> validRows;
  std::map<std::string, std::int64_t> reasons;
  std::int64_t nonFinite = 0, unphysical = 0;
  for (std::int64_t r = 0; r < generated.frames(); ++r) {
    const std::string reason = invalidFeatureReason(generated.info.features, generated.features.row(r).data());
    if (reason.empty()) {
      validRows.push_back(r);
    } else {
      (reason.rfind("non-finite", 0) == 0 ? nonFinite : unphysical) += 1;
      ++reasons[reason];
    }
  }
  report["validity"] = {{"samples", generated.frames()}, {"valid", validRows.size()}, {"non_finite", nonFinite},
                        {"unphysical", unphysical}, {"reasons", reasons}};
  if (validRows.empty()) throw Error(options.generated, "no valid generated sample to evaluate");

  // Ramachandran histograms, JS divergence and the MD-vs-MD floor.
  const PhiPsi referenceAngles = phiPsiOf(reference, allRows(reference.frames()), options.reference);
  const PhiPsi generatedAngles = phiPsiOf(generated, validRows, options.generated);
  const RamachandranHistogram referenceHistogram = histogramOf(referenceAngles);
  const RamachandranHistogram generatedHistogram = histogramOf(generatedAngles);
  std::string halvesHow;
  const auto [firstHalf, secondHalf] = referenceHalves(reference, halvesHow);
  const double js = jensenShannonNats(referenceHistogram, generatedHistogram);
  const double floorJs = jensenShannonNats(histogramOf(phiPsiOf(reference, firstHalf, options.reference)),
                                           histogramOf(phiPsiOf(reference, secondHalf, options.reference)));
  report["ramachandran"] = {{"bins", kRamachandranBins},
                            {"bin_deg", kRamachandranBinDeg},
                            {"js_nats", js},
                            {"floor_js_nats", floorJs},
                            {"js_over_floor", floorJs > 0 ? js / floorJs : NAN},
                            {"floor_halves", halvesHow},
                            {"floor_half_frames", {firstHalf.size(), secondHalf.size()}}};
  if (training) report["quality"] = qualityJson(options, *training, referenceAngles, generatedAngles);
  plotRamachandranComparison((dir / "ramachandran.png").string(), referenceHistogram, generatedHistogram,
                             options.referenceLabel, options.generatedLabel, options.temperatureK);
  plots["ramachandran"] = "ramachandran.png";

  // The histograms themselves, so that users can replot (counts, not
  // densities), and the 1D free-energy profiles F(phi), F(psi).
  {
    std::vector<double> edges(kRamachandranBins + 1), centers(kRamachandranBins);
    for (int b = 0; b <= kRamachandranBins; ++b) edges[b] = kRamachandranMinDeg + b * kRamachandranBinDeg;
    for (int b = 0; b < kRamachandranBins; ++b) centers[b] = kRamachandranMinDeg + (b + 0.5) * kRamachandranBinDeg;
    const auto grid = [](const RamachandranHistogram& h) {
      json rows = json::array();
      for (int i = 0; i < kRamachandranBins; ++i) {
        json row = json::array();
        for (int j = 0; j < kRamachandranBins; ++j) row.push_back(h.counts()(i, j));
        rows.push_back(row);
      }
      return rows;
    };
    const auto orNull = [](const std::vector<double>& values) {
      json array = json::array();
      for (double v : values) array.push_back(std::isfinite(v) ? json(v) : json(nullptr));
      return array;
    };
    json histograms = {
        {"description",
         "counts of the reference (all frames) and the valid generated samples; angles in degrees wrapped into "
         "[-180, 180), bins closed on the left"},
        {"phi_psi",
         {{"phi_edges_deg", edges}, {"psi_edges_deg", edges}, {"layout", "reference[i][j]: phi bin i, psi bin j"},
          {"reference", grid(referenceHistogram)}, {"generated", grid(generatedHistogram)}}}};
    const double kT = plugin::kMolarGasConstantKjPerMolK * options.temperatureK;
    json freeEnergy = {{"unit", "kJ/mol"},
                       {"temperature_k", options.temperatureK},
                       {"kt_kj_mol", kT},
                       {"definition", "F = -kT ln(p / p_max) per 10-degree bin, minimum 0; null: no samples in the bin"},
                       {"bin_centers_deg", centers}};
    const char* names[2] = {"phi", "psi"};
    for (int axis = 0; axis < 2; ++axis) {
      const std::vector<double> a = ramachandranMarginal(referenceHistogram, axis);
      const std::vector<double> b = ramachandranMarginal(generatedHistogram, axis);
      histograms[names[axis]] = {{"edges_deg", edges}, {"reference", a}, {"generated", b}};
      freeEnergy[names[axis]] = {{"reference", orNull(freeEnergyProfileKjPerMol(a, options.temperatureK))},
                                 {"generated", orNull(freeEnergyProfileKjPerMol(b, options.temperatureK))}};
    }
    report["histograms"] = histograms;
    report["free_energy_profiles"] = freeEnergy;
  }
  plotFreeEnergyProfiles((dir / "free_energy_1d.png").string(), referenceHistogram, generatedHistogram,
                         options.referenceLabel, options.generatedLabel, options.temperatureK);
  plots["free_energy_1d"] = "free_energy_1d.png";

  // Metastable-state populations with 95 % intervals.
  const Populations referencePopulations = statePopulations(referenceAngles.phiRad, referenceAngles.psiRad,
                                                            SampleCorrelation::CorrelatedTimeSeries);
  const Populations generatedPopulations =
      statePopulations(generatedAngles.phiRad, generatedAngles.psiRad, SampleCorrelation::Independent);
  report["states"] = {{"reference", populationsJson(referencePopulations)},
                      {"generated", populationsJson(generatedPopulations)},
                      {"method", "percentile bootstrap; circular block bootstrap for the correlated MD frames"}};

  // 25D: per-feature marginal distances and the bond/angle/torsion distributions.
  if (reference.dimension() > 2) {
    json perFeature = json::array();
    std::vector<PanelData> panels;
    for (int k = 0; k < reference.dimension(); ++k) {
      const FeatureInfo& info = reference.info.features[k];
      std::vector<double> a(reference.frames()), b;
      for (std::int64_t r = 0; r < reference.frames(); ++r) a[r] = reference.features(r, k);
      for (std::int64_t r : validRows) b.push_back(generated.features(r, k));
      // Periodic features are compared on the reference's own branch: unwrapped from its cut.
      if (info.periodic) {
        const double cut = reference.info.branchCutsRad[k];
        for (double& v : a) v = unwrapFromCutRad(v, cut);
        for (double& v : b) v = unwrapFromCutRad(v, cut);
      }
      const double w1 = wasserstein1(a, b);
      const double scale = info.unit == "rad" ? kDegPerRad : 1.0;
      for (double& v : a) v *= scale;
      for (double& v : b) v *= scale;
      panels.push_back({info.name + (info.unit == "rad" ? " (deg)" : " (nm)"), a, b});
      // The counts features.png draws, so that users can replot them.
      const PanelHistogram histogram = histogramOfPanel(panels.back());
      perFeature.push_back({{"name", info.name},
                            {"unit", info.unit},
                            {"wasserstein1", w1},
                            {"periodic", info.periodic},
                            {"histogram",
                             {{"unit", info.unit == "rad" ? "deg" : info.unit},
                              {"values", info.periodic ? "unwrapped from the reference's branch cut" : "as stored"},
                              {"edges", histogram.edges},
                              {"reference", histogram.reference},
                              {"generated", histogram.generated}}}});
    }
    report["features"] = perFeature;
    plotHistogramGrid((dir / "features.png").string(), panels, options.referenceLabel, options.generatedLabel);
    plots["features"] = "features.png";
  }

  // Energies after the same rebuild/relax path for MD frames and samples.
  if (!options.path.systemXml.empty()) {
    StructurePathOptions pathOptions = options.path;
    if (pathOptions.relax == "auto") pathOptions.relax = reference.dimension() > 2 ? "hydrogens" : "phi-psi";
    const StructurePath path(reference.info.featureSet, pathOptions);
    FeatureMatrix generatedValid(static_cast<Eigen::Index>(validRows.size()), generated.dimension());
    for (std::size_t i = 0; i < validRows.size(); ++i) generatedValid.row(i) = generated.features.row(validRows[i]);
    const FeatureMatrix referenceRows = evenlySpacedRows(reference.features, options.energySamples);
    const FeatureMatrix generatedRows = evenlySpacedRows(generatedValid, options.energySamples);
    ProgressDisplay progress("evaluate: rebuild, relax, energies", referenceRows.rows() + generatedRows.rows());
    const auto referenceScored = runInChunks(path, referenceRows, progress);
    const auto generatedScored = runInChunks(path, generatedRows, progress, referenceRows.rows());
    progress.finish();
    const json referenceSummary = distributionSummary(referenceScored.energiesKjPerMol);
    const json generatedSummary = distributionSummary(generatedScored.energiesKjPerMol);
    const auto fraction = [](double count, const json& summary) { return count / summary["n"].get<double>(); };
    report["energies"] = {
        {"relax", pathOptions.relax},
        {"platform", pathOptions.platform},
        {"reference", referenceSummary},
        {"generated", generatedSummary},
        {"wasserstein1_kj_mol", wasserstein1(referenceScored.energiesKjPerMol, generatedScored.energiesKjPerMol)},
        {"reference_non_finite_fraction", fraction(referenceSummary["non_finite"].get<double>(), referenceSummary)},
        {"generated_non_finite_fraction", fraction(generatedSummary["non_finite"].get<double>(), generatedSummary)},
        {"reference_clash_fraction", fraction(referenceScored.structuresWithClashes, referenceSummary)},
        {"generated_clash_fraction", fraction(generatedScored.structuresWithClashes, generatedSummary)}};
    plotHistograms((dir / "energies.png").string(),
                   {{options.referenceLabel, referenceScored.energiesKjPerMol, {}},
                    {options.generatedLabel, generatedScored.energiesKjPerMol, {}}},
                   "potential energy after " + pathOptions.relax + " relaxation (kJ/mol)", "OpenMM potential energy");
    plots["energies"] = "energies.png";
  }

  // The model's log-likelihood of reference frames (exact, probability flow).
  if (!options.model.empty()) {
    report["likelihood"] = modelLikelihood().ofFrames(options.model, evenlySpacedRows(reference.features, options.likelihoodFrames),
                                                    options.likelihoodSamples);
  }

  // Training-loss curve from the trainer's log.
  if (!options.trainingLog.empty()) {
    std::ifstream in(options.trainingLog);
    if (!in) throw Error(options.trainingLog, "cannot open training log");
    json log;
    try {
      log = json::parse(in);
      const json& h = log.at("history");
      const auto values = [](const json& a) {
        std::vector<double> v;
        for (const json& x : a) v.push_back(x.is_null() ? NAN : x.get<double>());
        return v;
      };
      plotCurves((dir / "loss.png").string(),
                 {{"training", values(h.at("step")), values(h.at("loss"))},
                  {"validation (EMA)", values(h.at("validation").at("step")), values(h.at("validation").at("loss_ema"))}},
                 "step", "loss (whitened DSM)", "training loss", true);
      plots["loss"] = "loss.png";
    } catch (const json::exception& e) {
      throw Error(options.trainingLog, std::string("not a training log: ") + e.what());
    }
  }
  report["plots"] = plots;

  // report.md: the same numbers for people, with the pictures.
  std::string text = "# activediff evaluation\n\n";
  text += fmt::format("Reference: `{}` ({} frames). Generated: `{}` ({} samples, {} valid).\n\n", options.reference,
                      reference.frames(), options.generated, generated.frames(), validRows.size());
  text += "## Ramachandran\n\n| measure | value |\n|---|---|\n";
  text += fmt::format("| JS divergence, generated vs MD (nats) | {} |\n| floor: JS of two MD halves ({}) | {} |\n| ratio to floor | {} |\n\n",
                      md(js), halvesHow, md(floorJs), md(floorJs > 0 ? js / floorJs : NAN, 2));
  text += "![Ramachandran](ramachandran.png)\n\n";
  if (report.contains("quality")) {
    const json& q = report["quality"];
    const auto pm = [](const json& r) {
      return md(r["mean"].get<double>(), 3) + " +- " +
             (r["standard_error"].is_null() ? std::string("n/a") : md(r["standard_error"].get<double>(), 3));
    };
    text += fmt::format(
        "## Quality ratio\n\nJS(samples, unseen MD) / JS(training frames, unseen MD), N = {} points a side "
        "(training: `{}`; unseen: the reference). Baselines: mean +- standard error over {} seeds.\n\n"
        "| | ratio |\n|---|---|\n| generated (this sample set) | {} |\n| replay of the training frames (perfect "
        "memorizer) | {} |\n| best periodic Gaussian KDE (h = {:.1f} deg) | {} |\n\n{}\n\n",
        q["n"].get<std::int64_t>(), options.training, options.qualitySeeds.count, md(q["ratio"].get<double>(), 3),
        pm(q["replay"]), q["kde"]["bandwidth_deg"].get<double>(), pm(q["kde"]), q["protocol"].get<std::string>());
  }
  text += fmt::format(
      "## Free-energy profiles\n\nF(phi) and F(psi) = -kT ln p per 10-degree bin, in kJ/mol at {:g} K "
      "(kT = {:.3f} kJ/mol; --temperature), minimum 0; {} beside {}. The histogram counts behind them and the 2D "
      "map are in report.json (\"histograms\", \"free_energy_profiles\").\n\n![free-energy profiles](free_energy_1d.png)\n\n",
      options.temperatureK, plugin::kMolarGasConstantKjPerMolK * options.temperatureK, options.referenceLabel,
      options.generatedLabel);
  text += "## Metastable states (95 % CI)\n\n| state | MD | generated |\n|---|---|---|\n";
  for (int s = 0; s < kMetastableStateCount; ++s) {
    const auto& a = referencePopulations.categories[s];
    const auto& b = generatedPopulations.categories[s];
    text += fmt::format("| {} | {:.3f} [{:.3f}, {:.3f}] | {:.3f} [{:.3f}, {:.3f}] |\n",
                        stateName(static_cast<MetastableState>(s)), a.fraction, a.ciLow, a.ciHigh, b.fraction, b.ciLow, b.ciHigh);
  }
  text += fmt::format("\nValidity: {} non-finite, {} unphysical of {} generated samples.\n\n", nonFinite, unphysical,
                      generated.frames());
  if (report.contains("energies")) {
    const json& e = report["energies"];
    const auto median = [](const json& q) { return q["median"].is_null() ? NAN : q["median"].get<double>(); };
    text += "## Energies (kJ/mol, after " + e["relax"].get<std::string>() + " relaxation)\n\n| | MD | generated |\n|---|---|---|\n";
    text += fmt::format("| median | {} | {} |\n| non-finite fraction | {} | {} |\n| clash fraction | {} | {} |\n\n",
                        md(median(e["reference"]), 2), md(median(e["generated"]), 2),
                        md(e["reference_non_finite_fraction"].get<double>(), 3), md(e["generated_non_finite_fraction"].get<double>(), 3),
                        md(e["reference_clash_fraction"].get<double>(), 3), md(e["generated_clash_fraction"].get<double>(), 3));
    text += fmt::format("Wasserstein-1 between the energy distributions: {} kJ/mol.\n\n![energies](energies.png)\n\n",
                        md(e["wasserstein1_kj_mol"].get<double>(), 3));
  }
  if (report.contains("features")) {
    text += "## Internal coordinates\n\n| feature | unit | Wasserstein-1 |\n|---|---|---|\n";
    for (const json& f : report["features"])
      text += fmt::format("| {} | {} | {} |\n", f["name"].get<std::string>(), f["unit"].get<std::string>(),
                          md(f["wasserstein1"].get<double>(), 5));
    text += "\n![features](features.png)\n\n";
  }
  if (report.contains("likelihood")) {
    const json& l = report["likelihood"];
    text += "## Likelihood of the reference MD frames\n\n" +
            (l["nats_per_dim"].is_null() ? l["kind"].get<std::string>()
                                         : fmt::format("{} nats per dimension ({} frames; {})",
                                                       md(l["nats_per_dim"].get<double>(), 4), l["frames"].get<std::int64_t>(),
                                                       l["kind"].get<std::string>())) +
            "\n\n";
    if (l.contains("importance_samples") && l["importance_samples"].get<int>() > 1) {
      text += fmt::format("Importance samples K = {}, mean effective sample size {}, Monte-Carlo standard error {} "
                          "nats/dim, frames' standard error {} nats/dim.\n\n",
                          l["importance_samples"].get<int>(), md(l["mean_effective_sample_size"].get<double>(), 1),
                          md(l["monte_carlo_standard_error_nats_per_dim"].get<double>(), 4),
                          md(l["frames_standard_error_nats_per_dim"].get<double>(), 4));
    }
    if (l.contains("comparable")) {
      const json& c = l["comparable"];
      text += fmt::format("Comparable across processes (the data smoothed by N(0, {}^2) in standardized units, "
                          "evaluated at t* = {}): {} nats per dimension.\n\n",
                          c["x_smoothing_sd_standardized"].get<double>(), md(c["evaluation_time"].get<double>(), 5),
                          md(c["nats_per_dim"].get<double>(), 4));
    }
  }
  if (plots.contains("loss")) text += "## Training\n\n![loss](loss.png)\n\n";
  text += "Full numbers and configuration: report.json (activediff " + std::string(kVersion) + ").\n";
  writeFileAtomically(dir / "report.md", text);
  writeJsonInside(dir / "report.json", report);  // the summary last: it marks the directory as complete
  reportClaim.commit();
  std::cout << fmt::format("JS {:.4f} nats (floor {:.4f}, ratio {:.2f}); report: {}\n", js, floorJs,
                           floorJs > 0 ? js / floorJs : NAN, (reportClaim.target() / "report.md").string());
  if (report.contains("quality")) {
    const json& q = report["quality"];
    std::cout << fmt::format("quality ratio {:.3f} (replay {:.3f}, best KDE {:.3f}; N = {})\n", q["ratio"].get<double>(),
                             q["replay"]["mean"].get<double>(), q["kde"]["mean"].get<double>(), q["n"].get<std::int64_t>());
  }
}

void addEvaluate(CLI::App& app) {
  auto options = std::make_shared<EvaluateOptions>();
  options->path.relax = "auto";
  CLI::App* sub = app.add_subcommand("evaluate", commandSummary("evaluate"));
  sub->add_option("--reference", options->reference, "reference MD dataset (activediff featurize)")->required();
  sub->add_option("--generated", options->generated, "generated dataset (activediff sample)")->required();
  sub->add_option("-o,--output", options->output, "report directory")->capture_default_str();
  sub->add_option("--topology,--template", options->path.topology, "template structure (needed with --system)");
  sub->add_option("--system", options->path.systemXml, "OpenMM System XML: energies of rebuilt structures");
  sub->add_option("--relax", options->path.relax, "auto (hydrogens for 25D, phi-psi for 2D) | none | hydrogens | phi-psi")
      ->capture_default_str();
  sub->add_option("--platform", options->path.platform, "OpenMM platform for energies")->capture_default_str();
  sub->add_option("--workers", options->path.workers, "parallel OpenMM contexts")
      ->capture_default_str()
      ->check(atLeast(1));
  sub->add_option("--energy-samples", options->energySamples, "structures scored per side")
      ->capture_default_str()
      ->check(atLeast(1));
  sub->add_option("--model", options->model,
                  "checkpoint.adck or a training output directory: log-likelihood of reference frames");
  sub->add_option("--likelihood-frames", options->likelihoodFrames, "reference frames scored")
      ->capture_default_str()
      ->check(atLeast(1));
  sub->add_option("--likelihood-samples", options->likelihoodSamples,
                  "K: importance samples of the auxiliary channel per frame for two-channel models (active, CLD); "
                  "the report gives the effective sample size and standard errors")
      ->capture_default_str()
      ->check(atLeast(1));
  sub->add_option("--training-log", options->trainingLog, "training_log.json for the loss curve");
  sub->add_option("--temperature", options->temperatureK, "K, for free energies in plots")
      ->capture_default_str()
      ->check(finitePositive());
  sub->add_option("--training", options->training,
                  "the dataset the model was trained on (--reference then being MD it never saw): adds the quality "
                  "ratio with its replay and KDE baselines");
  sub->add_option("--quality-seeds", options->qualitySeeds.count, "seeds K of the quality baselines")
      ->capture_default_str()
      ->check(atLeast(1));
  sub->add_option("--quality-seed", options->qualitySeeds.first, "first seed of the quality baselines")
      ->capture_default_str()
      ->check(atLeast(0));
  sub->add_option("--reference-label", options->referenceLabel, "label in plots")->capture_default_str();
  sub->add_option("--generated-label", options->generatedLabel, "label in plots")->capture_default_str();
  sub->callback([options] {
    if (!options->path.systemXml.empty() && options->path.topology.empty()) {
      throw Error("--topology", "energies (--system) need the template structure");
    }
    // The model and energies live in fuller executables: hand on before any
    // work or claim (commands.h).
    if (!options->model.empty()) requireCapability(Capability::Torch);
    if (!options->path.systemXml.empty()) requireCapability(Capability::OpenMM);
    // A training directory, as sample -m takes it; checked before any work.
    if (!options->model.empty()) options->model = modelLikelihood().resolveCheckpoint(options->model);
    runEvaluate(*options);
  });
}

const CommandRegistration registration(70, "evaluate", addEvaluate);

}  // namespace
}  // namespace activediff::cli
