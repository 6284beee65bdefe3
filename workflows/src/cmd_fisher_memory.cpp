// activediff fisher-memory: the Fisher memory curve J(t) of the forward
// process (MATH.md 6) for passive and active over a range of tau, all at the
// same k and stationary Var(x) (analysis_processes.h). No model, no data:
// J(t) = P^T exp(A^T t) S_x0(t)^{-1} exp(A t) P from the exact kernel
// (model/memory_analysis.h). Writes report.json, report.md and
// fisher_memory.png into the output directory.
#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "activediff/featurize/atomic_output.h"
#include "activediff/featurize/error.h"
#include "activediff/model/memory_analysis.h"
#include "activediff/version.h"
#include "analysis_processes.h"
#include "commands.h"
#include "option_checks.h"
#include "plots.h"
#include "provenance.h"

namespace activediff::cli {
namespace {

using nlohmann::json;

struct FisherOptions {
  std::string output = "fisher-memory";
  AnalysisProcesses processes;
  double tMin = 1e-3;
  double tMax = 8.0;
  int points = 120;
  json toJson() const {
    return {{"output", output}, {"processes", processes.toJson()}, {"t_min", tMin}, {"t_max", tMax}, {"points", points}};
  }
};

void runFisher(const FisherOptions& o) {
  o.processes.validate();
  if (!(o.tMax > o.tMin)) throw Error(fmt::format("--t-max {} must exceed --t-min {}", o.tMax, o.tMin));
  OutputClaim claim(o.output, OutputShape::Directory);
  const std::filesystem::path dir = claim.temporary();
  std::vector<double> times(o.points);
  for (int i = 0; i < o.points; ++i)
    times[i] = o.tMin * std::pow(o.tMax / o.tMin, o.points == 1 ? 0.0 : double(i) / double(o.points - 1));
  std::vector<double> tableTimes;
  for (double t : {0.01, 0.1, 0.5, 1.0, 2.0, 4.0})
    if (t >= o.tMin && t <= o.tMax) tableTimes.push_back(t);

  std::vector<std::pair<std::string, model::LinearSde>> sdes = {{"passive", o.processes.passive()}};
  for (double tau : o.processes.taus) sdes.emplace_back(fmt::format("active tau={:g}", tau), o.processes.active(tau));

  json report = provenance(o.toJson());
  report["definition"] =
      "J(t) = P^T exp(A^T t) S_x0(t)^{-1} exp(A t) P, P = (1, 0)^T, S_x0 the kernel covariance given x0 alone "
      "(aux start marginalized; MATH.md 2 and 6); passive: exp(-2 k t) / sigma^2(t). Per feature dimension, in "
      "model units (1 / variance).";
  report["t"] = times;
  report["table_t"] = tableTimes;
  json processes = json::array();
  std::vector<Series> curves;
  std::vector<double> passiveJ;
  for (const auto& [label, sde] : sdes) {
    const model::VanLoanKernel kernel(sde);
    std::vector<double> j, table, ratio;
    for (double t : times) j.push_back(model::fisherMemory(kernel, t));
    for (double t : tableTimes) table.push_back(model::fisherMemory(kernel, t));
    if (passiveJ.empty()) passiveJ = j;
    for (std::size_t i = 0; i < j.size(); ++i) ratio.push_back(j[i] / passiveJ[i]);
    json entry = {{"label", label}, {"sde", sdeJson(sde)}, {"j", j}, {"j_over_passive", ratio}, {"j_at_table_t", table}};
    entry["tau"] = sde.kind() == model::ProcessKind::Passive ? json(nullptr) : json(sde.parameters().tau);
    processes.push_back(entry);
    curves.push_back({label, times, j});
  }
  report["processes"] = processes;
  plotCurves((dir / "fisher_memory.png").string(), curves, "forward time t", "J(t) (Fisher memory of x0)",
             fmt::format("Fisher memory, k = {:g}, stationary Var(x) = {:g}, Tp = {:g}", o.processes.k,
                         o.processes.variance, o.processes.passiveTemperature),
             CurveAxes{true, true});
  report["plots"] = {{"fisher_memory", "fisher_memory.png"}};

  std::string text = "# Fisher memory of the forward process\n\n";
  text += fmt::format(
      "J(t) = P^T exp(A^T t) S_x0(t)^-1 exp(A t) P (MATH.md 6): how much a perturbation of x0 is still visible in "
      "z_t. Every process has k = {:g} and stationary Var(x) = {:g} (passive T = k V; active Ta = (1 + k tau) (k V - "
      "Tp), Tp = {:g}).\n\n",
      o.processes.k, o.processes.variance, o.processes.passiveTemperature);
  text += "| process |";
  for (double t : tableTimes) text += fmt::format(" J({:g}) |", t);
  text += "\n|---|";
  for (std::size_t i = 0; i < tableTimes.size(); ++i) text += "---|";
  text += "\n";
  for (const json& p : processes) {
    text += "| " + p["label"].get<std::string>() + " |";
    for (const json& v : p["j_at_table_t"]) text += fmt::format(" {:.4g} |", v.get<double>());
    text += "\n";
  }
  text += "\n![Fisher memory](fisher_memory.png)\n\nCurves on a log grid of " + std::to_string(o.points) +
          " times: report.json (\"t\", \"processes\"[].\"j\"; activediff " + std::string(kVersion) + ").\n";
  writeFileAtomically(dir / "report.md", text);
  writeJsonInside(dir / "report.json", report);
  claim.commit();
  std::cout << fmt::format("Fisher memory of {} processes at {} times; report: {}\n", sdes.size(), o.points,
                           (claim.target() / "report.md").string());
}

void addFisher(CLI::App& app) {
  auto o = std::make_shared<FisherOptions>();
  CLI::App* sub = app.add_subcommand("fisher-memory", commandSummary("fisher-memory"));
  sub->add_option("-o,--output", o->output, "report directory")->capture_default_str();
  o->processes.addOptions(sub);
  sub->add_option("--t-min", o->tMin, "first time of the log grid")->capture_default_str()->check(finitePositive());
  sub->add_option("--t-max", o->tMax, "last time of the log grid")->capture_default_str()->check(finitePositive());
  sub->add_option("--points", o->points, "times on the log grid")->capture_default_str()->check(atLeast(2));
  sub->callback([o] { runFisher(*o); });
}

const CommandRegistration registration(90, "fisher-memory", addFisher);

}  // namespace
}  // namespace activediff::cli
