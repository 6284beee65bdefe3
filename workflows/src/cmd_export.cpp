// activediff export: a trained checkpoint's score network as a TorchScript
// module (<output>.pt) that Python loads with torch.jit.load and calls, and
// beside it a JSON (<output>.json) with the SDE, whitening, standardization,
// feature spec and provenance (model/network_export.h).
//
// Hidden, for tests: --reference-inputs in.npy --reference-outputs out.npy
// writes the network's outputs computed by activediff's own C++ network (not
// the export) for rows (z | t) of in.npy.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "activediff/featurize/error.h"
#include "activediff/featurize/npy.h"
#include "activediff/featurize/output_policy.h"
#include "activediff/model/network_export.h"
#include "activediff/model/trainer.h"
#include "commands.h"
#include "progress.h"
#include "provenance.h"

namespace activediff::cli {
namespace {

struct ExportCommand {
  std::string checkpoint;
  std::string output;
  bool rawWeights = false;
  std::string referenceInputs, referenceOutputs;
};

// Rows (z | t) of a 2-D float64 .npy: the states and, in the last column, the time.
void runReference(const ExportCommand& c) {
  if (c.referenceInputs.empty() || c.referenceOutputs.empty())
    throw Error("export: --reference-inputs and --reference-outputs go together");
  if (!c.output.empty()) throw Error("export: --reference-outputs writes no module; leave out -o");
  const std::filesystem::path out = c.referenceOutputs;
  declareInputs({c.checkpoint, c.referenceInputs});
  OutputClaim claim(out, OutputShape::File);
  const model::NetworkExport network(c.checkpoint, !c.rawWeights);
  const NpyArray in = readNpy(c.referenceInputs);
  if (in.type != NpyType::Float64 || in.shape.size() != 2 || in.columns() != network.inputWidth() + 1)
    throw Error(c.referenceInputs, fmt::format("must be a 2-D float64 array of {} columns (z, then t)",
                                               network.inputWidth() + 1));
  const Eigen::ArrayXXd rows = Eigen::Map<const Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      in.float64.data(), in.rows(), in.columns());
  const Eigen::ArrayXXd result = network.referenceOutputs(rows.leftCols(network.inputWidth()), rows.col(rows.cols() - 1));
  {
    NpyWriter writer(claim.temporary(), NpyType::Float64, result.cols());
    const Eigen::Array<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> r = result;
    for (Eigen::Index i = 0; i < r.rows(); ++i) writer.appendRow(r.row(i).data());
    writer.finish();
  }
  claim.commit();
  std::cout << fmt::format("{} x {} network outputs\nwrote {}\n", result.rows(), result.cols(), out.string());
}

void runExport(const ExportCommand& c) {
  if (!c.referenceInputs.empty() || !c.referenceOutputs.empty()) return runReference(c);
  if (c.output.empty()) throw Error("export: -o/--output is required (the module file, <name>.pt)");
  const std::filesystem::path modulePath = c.output;
  if (modulePath.extension() != ".pt") throw Error(c.output, "the exported module must end in .pt");
  std::filesystem::path jsonPath = modulePath;
  jsonPath.replace_extension(".json");
  declareInputs({c.checkpoint});
  // Claimed before any work; the module is committed first, its JSON last.
  OutputClaim moduleClaim(modulePath, OutputShape::File);
  OutputClaim jsonClaim(jsonPath, OutputShape::File);

  const model::NetworkExport network(c.checkpoint, !c.rawWeights);
  const nlohmann::json description = nlohmann::json::parse(network.describeJson(modulePath.filename().string()));
  nlohmann::json document = provenance({{"checkpoint", network.checkpoint().string()},
                                        {"output", modulePath.string()},
                                        {"json", jsonPath.string()},
                                        {"weights", c.rawWeights ? "raw" : "ema"}});
  for (const auto& [key, value] : description.items()) document[key] = value;
  // The module carries the same description (without the output marker).
  writeTemporary(moduleClaim, network.torchScriptModule(document.dump(2)));
  writeJsonTemporary(jsonClaim, document);
  moduleClaim.commit();
  jsonClaim.commit();
  std::cout << fmt::format("TorchScript module: {}\nwrote {} and {}\n", network.forwardSignature(),
                           modulePath.string(), jsonPath.string());
}

void addExport(CLI::App& app) {
  auto c = std::make_shared<ExportCommand>();
  CLI::App* sub = app.add_subcommand("export", commandSummary("export"));
  sub->footer(
      "In Python:  m = torch.jit.load('model.pt');  out = m(z, t)  with z [B, c*D] float32 (standardized "
      "features, then the auxiliary channel) and t [B] float32; model.json says what the columns are and "
      "how outputs become scores.");
  sub->add_option("-c,--checkpoint", c->checkpoint, "checkpoint.adck or a training output directory")->required();
  sub->add_option("-o,--output", c->output, "the module file, <name>.pt (its JSON goes to <name>.json)");
  sub->add_flag("--raw-weights", c->rawWeights, "export the raw weights instead of the EMA");
  sub->add_option("--reference-inputs", c->referenceInputs,
                  "(testing) N x (c*D + 1) float64 .npy of rows (z, t) for --reference-outputs")
      ->group("");
  sub->add_option("--reference-outputs", c->referenceOutputs,
                  "(testing) writes the C++ network's outputs on --reference-inputs to this .npy; no module")
      ->group("");
  sub->callback([c] { runExport(*c); });
}

const CommandRegistration registration(80, "export", addExport);

}  // namespace
}  // namespace activediff::cli
