// activediff speciation: the speciation time of the forward process against
// tau for a dataset's covariance (MATH.md 6): the t at which the decayed data
// variance a_x(t)^2 Lambda equals the kernel's noise variance in x,
// S_x0,xx(t), Lambda the largest eigenvalue of the covariance of the model-
// space features (periodic ones unwrapped at the dataset's branch cuts, every
// feature standardized: the map the model trains on). Passive and active over
// a range of tau at the same k and stationary Var(x) (analysis_processes.h).
// Writes report.json, report.md and speciation.png into the output directory.
#include <fmt/format.h>

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "activediff/featurize/atomic_output.h"
#include "activediff/featurize/dataset.h"
#include "activediff/featurize/error.h"
#include "activediff/featurize/periodic.h"
#include "activediff/model/memory_analysis.h"
#include "activediff/model/van_loan_kernel.h"
#include "activediff/version.h"
#include "analysis_processes.h"
#include "commands.h"
#include "option_checks.h"
#include "plots.h"
#include "provenance.h"

namespace activediff::cli {
namespace {

using nlohmann::json;

struct SpeciationOptions {
  std::string dataset;
  double eigenvalue = 0.0;  // instead of a dataset
  std::string output = "speciation";
  AnalysisProcesses processes;
  json toJson() const {
    return {{"dataset", dataset}, {"eigenvalue", eigenvalue}, {"output", output}, {"processes", processes.toJson()}};
  }
};

// Eigenvalues (descending) of the covariance of the standardized, unwrapped
// features: n - 1 in both the standard deviations and the covariance, so it
// is the correlation matrix of the unwrapped features.
std::vector<double> standardizedCovarianceEigenvalues(const Dataset& d) {
  if (d.frames() < 3) throw Error("speciation: the dataset needs at least 3 frames");
  Eigen::MatrixXd u = d.features;
  for (int k = 0; k < d.dimension(); ++k) {
    if (!d.info.features[k].periodic) continue;
    const double cut = d.info.branchCutsRad[k];
    for (Eigen::Index r = 0; r < u.rows(); ++r) u(r, k) = unwrapFromCutRad(u(r, k), cut);
  }
  const Eigen::RowVectorXd mean = u.colwise().mean();
  u.rowwise() -= mean;
  const double n1 = double(u.rows() - 1);
  const Eigen::ArrayXd sd = (u.array().square().colwise().sum() / n1).sqrt().transpose();
  for (int k = 0; k < d.dimension(); ++k)
    if (!(sd(k) > 1e-12)) throw Error("speciation: feature " + d.info.features[k].name + " is constant");
  for (int k = 0; k < d.dimension(); ++k) u.col(k) /= sd(k);
  const Eigen::MatrixXd covariance = (u.transpose() * u) / n1;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(covariance, Eigen::EigenvaluesOnly);
  std::vector<double> values(solver.eigenvalues().data(), solver.eigenvalues().data() + solver.eigenvalues().size());
  std::sort(values.rbegin(), values.rend());
  return values;
}

double speciationOf(const model::LinearSde& sde, double lambda) {
  // The crossing comes before the kernel forgets the data: search up to 20
  // times the end-time rule's T, far beyond it.
  return model::speciationTime(model::VanLoanKernel(sde), lambda, 20.0 * model::chooseEndTime(sde));
}

void runSpeciation(const SpeciationOptions& o) {
  o.processes.validate();
  if (o.dataset.empty() == (o.eigenvalue <= 0.0))
    throw Error("speciation: give exactly one of --dataset and --eigenvalue");
  declareInputs({o.dataset});
  json data;
  double lambda = o.eigenvalue;
  if (!o.dataset.empty()) {
    const Dataset d = readDataset(o.dataset);
    const std::vector<double> eigenvalues = standardizedCovarianceEigenvalues(d);
    lambda = eigenvalues.front();
    std::vector<std::string> names;
    for (const auto& f : d.info.features) names.push_back(f.name);
    data = {{"dataset", o.dataset},
            {"frames", d.frames()},
            {"feature_set", d.info.featureSet},
            {"features", names},
            {"covariance",
             "of the model-space features: periodic ones unwrapped to [cut, cut + 2 pi) at the dataset's branch "
             "cuts, every feature standardized (mean 0, standard deviation with n - 1); the covariance with n - 1, "
             "i.e. the correlation matrix of the unwrapped features; all frames"},
            {"eigenvalues", eigenvalues}};
  } else {
    data = {{"eigenvalue_given", o.eigenvalue}};
  }
  OutputClaim claim(o.output, OutputShape::Directory);
  const std::filesystem::path dir = claim.temporary();

  const model::LinearSde passive = o.processes.passive();
  const double tPassive = speciationOf(passive, lambda);
  json active = json::array();
  std::vector<double> taus, tActive;
  for (double tau : o.processes.taus) {
    const model::LinearSde sde = o.processes.active(tau);
    const double t = speciationOf(sde, lambda);
    taus.push_back(tau);
    tActive.push_back(t);
    active.push_back({{"tau", tau}, {"sde", sdeJson(sde)}, {"t_speciation", t}, {"minus_passive", t - tPassive}});
  }
  json report = provenance(o.toJson());
  report["definition"] =
      "t_s: the forward time with a_x(t)^2 Lambda = S_x0,xx(t), a_x = exp(A t)_xx and S_x0 the kernel covariance "
      "given x0 (MATH.md 6); Lambda the largest eigenvalue of the data covariance. A larger t_s means speciation "
      "earlier in the reverse direction. Passive closed form: t_s = ln(1 + Lambda / V) / (2 k).";
  report["data"] = data;
  report["largest_eigenvalue"] = lambda;
  report["passive"] = {{"sde", sdeJson(passive)}, {"t_speciation", tPassive}};
  report["active"] = active;
  plotCurves((dir / "speciation.png").string(),
             {{"active", taus, tActive}, {"passive (same k, stationary Var(x))", taus, std::vector<double>(taus.size(), tPassive)}},
             "tau (correlation time of eta)", "speciation time t_s (forward)",
             fmt::format("speciation time, Lambda = {:.4g}, k = {:g}, stationary Var(x) = {:g}", lambda, o.processes.k,
                         o.processes.variance),
             CurveAxes{true, false});
  report["plots"] = {{"speciation", "speciation.png"}};

  std::string text = "# Speciation time against tau\n\n";
  text += fmt::format(
      "t_s solves a_x(t)^2 Lambda = S_x0,xx(t) (MATH.md 6), Lambda = {:.6g} the largest eigenvalue of the {}. "
      "Every process has k = {:g} and stationary Var(x) = {:g} (Tp = {:g}). Forward time: a larger t_s is an earlier "
      "speciation in the reverse direction.\n\n| process | t_s | minus passive |\n|---|---|---|\n| passive | {:.5f} | "
      "0 |\n",
      lambda,
      o.dataset.empty() ? std::string("given covariance (--eigenvalue)")
                        : "model-space covariance of `" + o.dataset + "` (standardized, unwrapped features)",
      o.processes.k, o.processes.variance, o.processes.passiveTemperature, tPassive);
  for (const json& a : active)
    text += fmt::format("| active tau={:g} | {:.5f} | {:+.5f} |\n", a["tau"].get<double>(),
                        a["t_speciation"].get<double>(), a["minus_passive"].get<double>());
  text += "\n![speciation time](speciation.png)\n\nFull numbers: report.json (activediff " + std::string(kVersion) + ").\n";
  writeFileAtomically(dir / "report.md", text);
  writeJsonInside(dir / "report.json", report);
  claim.commit();
  std::cout << fmt::format("Lambda {:.4f}: passive t_s {:.4f}", lambda, tPassive);
  for (std::size_t i = 0; i < taus.size(); ++i) std::cout << fmt::format(", tau {:g}: {:.4f}", taus[i], tActive[i]);
  std::cout << "\nreport: " << (claim.target() / "report.md").string() << "\n";
}

void addSpeciation(CLI::App& app) {
  auto o = std::make_shared<SpeciationOptions>();
  CLI::App* sub = app.add_subcommand("speciation", commandSummary("speciation"));
  sub->add_option("-d,--dataset", o->dataset, "featurize dataset directory whose covariance gives Lambda");
  sub->add_option("--eigenvalue", o->eigenvalue, "Lambda itself, instead of --dataset")->check(finitePositive());
  sub->add_option("-o,--output", o->output, "report directory")->capture_default_str();
  o->processes.addOptions(sub);
  sub->callback([o] { runSpeciation(*o); });
}

const CommandRegistration registration(100, "speciation", addSpeciation);

}  // namespace
}  // namespace activediff::cli
