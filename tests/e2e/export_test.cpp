// activediff export: the TorchScript module, loaded and called by Debian's
// python3-torch (tests/oracles/torchscript_check.py, which has no network code
// of its own), reproduces activediff's own network outputs -- computed by the
// C++ network through `export --reference-outputs` -- to 1e-6, for whatever
// network the checkpoints of the shipped 2D and 25D configs hold.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "activediff/featurize/npy.h"
#include "support/test_support.h"

namespace activediff {
namespace {

namespace fs = std::filesystem;
using testing::examplesDir;
using testing::runActivediff;
using testing::runOracle;
using testing::ScratchDirectory;

// A few training steps: the weights are what matters here, not their quality.
const std::string kQuickTraining =
    " --steps 6 --set training.checkpoint_every=6 --set training.validation_every=6"
    " --set training.validation_samples=64 --set training.warmup_steps=1 --set training.batch_size=32";

nlohmann::json readJson(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

class ExportCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new ScratchDirectory();
    // Training data: the shipped MD, featurized as users do (2d and 25d), so
    // the export carries a real feature spec (periodic flags, branch cuts).
    for (const std::string features : {"2d", "25d"}) {
      const auto r = runActivediff("featurize -q --features " + features + " -s " +
                                   (examplesDir() / "ala2" / "ala2.pdb").string() + " -f " +
                                   (examplesDir() / "ala2" / "md" / "run1.xtc").string() + " -o " +
                                   path("data" + features));
      EXPECT_EQ(r.exitCode, 0) << r.output;
    }
  }
  // The training directory of a shipped config (examples/configs/<config>.toml),
  // trained on first use in this process (ctest runs each test alone).
  // variant/sets: a named variant of the config with extra train options.
  static std::string trainedRun(const std::string& config, const std::string& variant = "",
                                const std::string& sets = "") {
    const std::string run = path("run-" + config + variant);
    if (fs::exists(fs::path(run) / "checkpoint.adck")) return run;
    const std::string data = config.rfind("25d", 0) == 0 ? "data25d" : "data2d";
    const auto r = runActivediff("train -q -d " + path(data) + " -o " + run + " -c " +
                                 (examplesDir() / "configs" / (config + ".toml")).string() + kQuickTraining + sets);
    EXPECT_EQ(r.exitCode, 0) << "train " << config << ": " << r.output;
    return run;
  }
  static void TearDownTestSuite() {
    delete scratch_;
    scratch_ = nullptr;
  }
  static std::string path(const std::string& name) { return ((*scratch_) / name).string(); }

  // Rows (z, t): standard-normal states, times spread over [t_eps, T] in log
  // t (both ends included), where the time features change fastest.
  static std::string writeInputs(const std::string& name, int width, double tEps, double endTime, int rows) {
    const std::string file = path(name);
    NpyWriter writer(file, NpyType::Float64, width + 1);
    std::mt19937_64 rng(7);
    std::normal_distribution<double> normal;
    std::vector<double> row(width + 1);
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < width; ++c) row[c] = normal(rng);
      row[width] = std::exp(std::log(tEps) + (std::log(endTime) - std::log(tEps)) * r / (rows - 1));
      writer.appendRow(row.data());
    }
    writer.finish();
    return file;
  }

  // Exports run-<config>, computes the C++ network's outputs and has Python
  // compare; returns the export's JSON.
  static nlohmann::json exportAndCompare(const std::string& config, bool rawWeights = false,
                                         const std::string& variant = "", const std::string& sets = "") {
    const std::string run = trainedRun(config, variant, sets);
    const std::string name = config + variant + (rawWeights ? "-raw" : "");
    const std::string weights = rawWeights ? " --raw-weights" : "";
    const std::string module = path(name + ".pt");
    const auto exported = runActivediff("export -c " + run + " -o " + module + weights);
    EXPECT_EQ(exported.exitCode, 0) << exported.output;
    const fs::path jsonFile = fs::path(module).replace_extension(".json");
    if (exported.exitCode != 0 || !fs::exists(jsonFile)) return {};
    const nlohmann::json description = readJson(jsonFile);
    const int width = description["forward_inputs"]["z"]["shape"][1].get<int>();
    const auto range = description["forward_inputs"]["t"]["range"];
    const std::string inputs = writeInputs(name + "-in.npy", width, range[0].get<double>(),
                                           range[1].get<double>(), 64);
    const std::string reference = path(name + "-reference.npy");
    const auto ref = runActivediff("export -c " + run + weights + " --reference-inputs " + inputs +
                                   " --reference-outputs " + reference);
    EXPECT_EQ(ref.exitCode, 0) << ref.output;
    const auto check = runOracle("torchscript_check.py",
                                 module + " " + jsonFile.string() + " " + inputs + " " + reference + " 1e-6");
    EXPECT_EQ(check.exitCode, 0) << name << ": " << check.output;
    return description;
  }

  static ScratchDirectory* scratch_;
};
ScratchDirectory* ExportCli::scratch_ = nullptr;

TEST_F(ExportCli, PythonReproducesThe2dMlpNetwork) {
  const auto d = exportAndCompare("2d-active");
  ASSERT_FALSE(d.is_null());
  EXPECT_EQ(d["network"]["kind"], "mlp");
  EXPECT_EQ(d["forward_inputs"]["z"]["shape"][1], 4);  // x and eta of phi, psi
  // The shipped config learns the x score too (network.all_channels); without
  // it the network outputs the noisy channel alone.
  EXPECT_EQ(d["forward_output"]["channels"], nlohmann::json::array({"x", "eta"}));
  const auto auxOnly = exportAndCompare("2d-active", false, "-aux-only", " --set network.all_channels=false");
  ASSERT_FALSE(auxOnly.is_null());
  EXPECT_EQ(auxOnly["forward_output"]["channels"], nlohmann::json::array({"eta"}));
}

// The shipped 25D config (a preconditioned MLP learning both channels) and
// the residual network, which no shipped config uses any more.
TEST_F(ExportCli, PythonReproducesThe25dNetworks) {
  const auto d = exportAndCompare("25d-active");
  ASSERT_FALSE(d.is_null());
  EXPECT_EQ(d["network"]["kind"], "mlp");
  EXPECT_EQ(d["network"]["preconditioning"]["kind"], "marginal");
  EXPECT_EQ(d["features"]["names"].size(), 25u);
  EXPECT_EQ(d["forward_inputs"]["z"]["shape"][1], 50);
  EXPECT_EQ(d["forward_output"]["shape"][1], 50);  // x and eta scores
  const auto residual = exportAndCompare("25d-active", false, "-resmlp",
                                         " --set network.kind=resmlp --set network.all_channels=false");
  ASSERT_FALSE(residual.is_null());
  EXPECT_EQ(residual["network"]["kind"], "resmlp");
  EXPECT_EQ(residual["forward_inputs"]["z"]["shape"][1], 50);
  EXPECT_EQ(residual["forward_output"]["shape"][1], 25);
}

TEST_F(ExportCli, PythonReproducesAOneChannelNetworkAndTheRawWeights) {
  const auto d = exportAndCompare("2d-passive");
  ASSERT_FALSE(d.is_null());
  EXPECT_EQ(d["process"]["channels"], 1);
  EXPECT_EQ(d["forward_output"]["channels"], nlohmann::json::array({"x"}));
  const auto raw = exportAndCompare("2d-active", true);
  ASSERT_FALSE(raw.is_null());
  EXPECT_EQ(raw["module"]["weights"], "raw");
}

// The network options: marginal preconditioning (the module computes the Van
// Loan kernel itself, so its table must agree with the C++ one), with both
// output channels of a two-channel process and with one channel, none, and
// the time features at the input only (checkpoints before time_conditioning).
TEST_F(ExportCli, PythonReproducesPreconditionedAndInputTimeNetworks) {
  const auto both = exportAndCompare("2d-active", false, "-marginal",
                                     " --set network.preconditioning=marginal --set network.all_channels=true");
  ASSERT_FALSE(both.is_null());
  EXPECT_EQ(both["network"]["preconditioning"]["kind"], "marginal");
  EXPECT_EQ(both["forward_output"]["channels"], nlohmann::json::array({"x", "eta"}));
  const auto one = exportAndCompare("2d-passive", false, "-marginal", " --set network.preconditioning=marginal");
  ASSERT_FALSE(one.is_null());
  EXPECT_EQ(one["network"]["preconditioning"]["kind"], "marginal");
  // Shipped configs precondition; the plain network is still an option.
  const auto plain = exportAndCompare("2d-active", false, "-none", " --set network.preconditioning=none");
  ASSERT_FALSE(plain.is_null());
  EXPECT_EQ(plain["network"]["preconditioning"]["kind"], "none");
  const auto input = exportAndCompare("2d-cld", false, "-input", " --set network.time_conditioning=input");
  ASSERT_FALSE(input.is_null());
  EXPECT_EQ(input["network"]["time_conditioning"], "input");
  EXPECT_EQ(input["module"]["torchscript"].get<std::string>().find("time_layer"), std::string::npos);
  const auto every = exportAndCompare("2d-cld");
  ASSERT_FALSE(every.is_null());
  EXPECT_NE(every["module"]["torchscript"].get<std::string>().find("time_layer"), std::string::npos);
}

TEST_F(ExportCli, JsonHoldsProcessStandardizationFeaturesAndProvenance) {
  const std::string module = path("described.pt");
  const auto r = runActivediff("export -c " + trainedRun("25d-active") + "/checkpoint.adck -o " + module);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const auto d = readJson(path("described.json"));
  EXPECT_EQ(d["format"], "activediff-torchscript-export");
  EXPECT_EQ(d["activediff_output"], "export");
  EXPECT_NE(d["outputs"].dump().find("described.pt"), std::string::npos) << d["outputs"];
  ASSERT_TRUE(d["inputs"].is_array());
  EXPECT_EQ(d["inputs"][0]["sha256"].get<std::string>().size(), 64u) << d["inputs"];
  EXPECT_TRUE(d["built_against"].contains("libtorch"));
  EXPECT_EQ(d["module"]["file"], "described.pt");
  EXPECT_NE(d["module"]["torchscript"].get<std::string>().find("def forward(self, z: Tensor, t: Tensor)"),
            std::string::npos);
  EXPECT_EQ(d["process"]["kind"], "active");
  EXPECT_EQ(d["process"]["channel_names"], nlohmann::json::array({"x", "eta"}));
  EXPECT_EQ(d["features"]["feature_set"], "capped-residue-25d") << d["features"]["feature_set"];
  EXPECT_EQ(d["features"]["periodic"].size(), 25u);
  EXPECT_EQ(d["features"]["mean"].size(), 25u);
  EXPECT_EQ(d["features"]["stddev"].size(), 25u);
  EXPECT_EQ(d["forward_inputs"]["z"]["columns"].size(), 50u);
  const auto& w = d["whitening"];
  ASSERT_EQ(w["t"].size(), w["eta"].size());
  EXPECT_GT(w["eta"][0].get<double>(), 0.0);
  EXPECT_GT(d["checkpoint"]["step"].get<int>(), 0);
  // The module carries the same description (torchscript_check.py compares them).
  EXPECT_GT(fs::file_size(module), 100000u);
}

TEST_F(ExportCli, BadRequestsAreClearErrorsAndWriteNothing) {
  const auto missing = runActivediff("export -c " + path("no-such-run") + " -o " + path("missing.pt"));
  EXPECT_NE(missing.exitCode, 0);
  EXPECT_NE(missing.output.find("no-such-run"), std::string::npos) << missing.output;
  EXPECT_FALSE(fs::exists(path("missing.pt")));
  EXPECT_FALSE(fs::exists(path("missing.json")));
  const std::string run = trainedRun("2d-active");
  const auto extension = runActivediff("export -c " + run + " -o " + path("model.txt"));
  EXPECT_NE(extension.exitCode, 0);
  EXPECT_NE(extension.output.find(".pt"), std::string::npos) << extension.output;
  const auto noOutput = runActivediff("export -c " + run);
  EXPECT_NE(noOutput.exitCode, 0);
  EXPECT_NE(noOutput.output.find("--output"), std::string::npos) << noOutput.output;
  const auto help = runActivediff("export --help");
  EXPECT_EQ(help.exitCode, 0) << help.output;
  EXPECT_NE(help.output.find("--checkpoint"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("torch.jit.load"), std::string::npos) << help.output;
}

}  // namespace
}  // namespace activediff
