// activediff evaluate: MD against itself, numbers recomputed independently
// (numpy), damaged samples counted, bad inputs clear errors.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "activediff/featurize/divergence.h"
#include "support/test_support.h"

namespace activediff {
namespace {

using testing::examplesDir;
using testing::runActivediff;
using testing::runOracle;
using testing::ScratchDirectory;

const std::string kPdb = (examplesDir() / "ala2" / "ala2.pdb").string();
const std::string kSystem = (examplesDir() / "ala2" / "system.xml").string();
const std::string kRuns =
    (examplesDir() / "ala2" / "md" / "run1.xtc").string() + " " + (examplesDir() / "ala2" / "md" / "run2.xtc").string();

class EvaluateCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new ScratchDirectory();
    for (const char* set : {"2d", "25d"}) {
      const auto result = runActivediff(std::string("featurize -q -f ") + kRuns + " -s " + kPdb + " --features " + set +
                                        " --stride 2 -o " + ((*scratch_) / (std::string("md") + set)).string());
      ASSERT_EQ(result.exitCode, 0) << result.output;
    }
  }
  static void TearDownTestSuite() { delete scratch_; }
  static std::string path(const std::string& name) { return ((*scratch_) / name).string(); }
  static nlohmann::json readJson(const std::string& file) {
    std::ifstream in(file);
    return nlohmann::json::parse(in);
  }
  static ScratchDirectory* scratch_;
};
ScratchDirectory* EvaluateCli::scratch_ = nullptr;

TEST_F(EvaluateCli, MdAgainstItselfHasZeroDivergenceAndTheIndependentFloor) {
  const auto result = runActivediff("evaluate --reference " + path("md2d") + " --generated " + path("md2d") + " -o " +
                                    path("self"));
  ASSERT_EQ(result.exitCode, 0) << result.output;
  const auto report = readJson(path("self") + "/report.json");
  EXPECT_EQ(report["ramachandran"]["js_nats"].get<double>(), 0.0);
  const double floorJs = report["ramachandran"]["floor_js_nats"].get<double>();
  EXPECT_GT(floorJs, 0.0);
  EXPECT_LT(floorJs, std::log(2.0));
  const auto check = runOracle("check_report.py", path("self") + "/report.json " + path("md2d") + " " + path("md2d"));
  EXPECT_EQ(check.exitCode, 0) << check.output;
}

TEST_F(EvaluateCli, ReportNumbersPlotsAndMarkdownAgreeWithAnIndependentRecomputation) {
  ASSERT_EQ(runOracle("synthetic_dataset.py", path("md25d") + " " + path("gen25d") + " 3 0.05 1").exitCode, 0);
  const auto result = runActivediff("evaluate --reference " + path("md25d") + " --generated " + path("gen25d") +
                                    " -o " + path("report25") + " --topology " + kPdb + " --system " + kSystem +
                                    " --energy-samples 60");
  ASSERT_EQ(result.exitCode, 0) << result.output;
  const std::string dir = path("report25");
  const auto report = readJson(dir + "/report.json");
  const auto check = runOracle("check_report.py", dir + "/report.json " + path("md25d") + " " + path("gen25d"));
  EXPECT_EQ(check.exitCode, 0) << check.output;
  // Damaged rows (NaN, inf, negative bond) are counted, not fatal.
  EXPECT_EQ(report["validity"]["non_finite"].get<int>(), 2);
  EXPECT_EQ(report["validity"]["unphysical"].get<int>(), 1);
  EXPECT_EQ(report["features"].size(), 25u);
  for (const auto& e : {"reference", "generated"}) {
    EXPECT_TRUE(report["energies"][e]["median"].is_number()) << e;
  }
  EXPECT_EQ(report["energies"]["reference_non_finite_fraction"].get<double>(), 0.0);
  for (const auto& [name, file] : report["plots"].items()) {
    EXPECT_TRUE(testing::runCommand("head -c 8 " + dir + "/" + file.get<std::string>() + " | grep -q PNG").exitCode == 0)
        << name;
  }
  std::ifstream markdown(dir + "/report.md");
  const std::string text((std::istreambuf_iterator<char>(markdown)), std::istreambuf_iterator<char>());
  char js[32];
  std::snprintf(js, sizeof js, "%.4f", report["ramachandran"]["js_nats"].get<double>());
  EXPECT_NE(text.find(js), std::string::npos) << "report.md must show the JSON's JS divergence " << js;
  EXPECT_NE(text.find("ramachandran.png"), std::string::npos);
}

TEST_F(EvaluateCli, ReportsTheModelLikelihoodOfReferenceFramesAndTheLossCurve) {
  for (const char* process : {"passive", "active"}) {
    const std::string run = path(std::string("run-") + process);
    const auto train = runActivediff("train -d " + path("md2d") + " -o " + run + " -c " +
                                     (testing::sourceDir() / "examples" / "configs" / "2d-active.toml").string() +
                                     " --process " + process + " --steps 200 --set training.validation_every=100");
    ASSERT_EQ(train.exitCode, 0) << train.output;
    ASSERT_EQ(runActivediff("sample -m " + run + " -o " + run + "/gen -n 500 --steps 20").exitCode, 0);
    const auto result = runActivediff("evaluate --reference " + path("md2d") + " --generated " + run + "/gen -o " +
                                      run + "/report --model " + run + "/checkpoint.adck --likelihood-frames 100" +
                                      " --training-log " + run + "/training_log.json");
    ASSERT_EQ(result.exitCode, 0) << result.output;
    const auto report = readJson(run + "/report/report.json");
    const double natsPerDim = report["likelihood"]["nats_per_dim"].get<double>();
    EXPECT_TRUE(std::isfinite(natsPerDim)) << process;
    // Per dimension, the log-density of angles lies within a few nats of the
    // uniform density's -log(2 pi) = -1.84; outside (-5, 5) means a broken
    // density (a wrong Jacobian or standardization term shifts it by far more).
    EXPECT_GT(natsPerDim, -5.0) << process;
    EXPECT_LT(natsPerDim, 5.0) << process;
    EXPECT_EQ(report["plots"]["loss"].get<std::string>(), "loss.png");
  }
}

TEST_F(EvaluateCli, WrongDimensionAndMissingReferenceAreClearErrors) {
  const auto wrong = runActivediff("evaluate --reference " + path("md2d") + " --generated " + path("md25d") + " -o " +
                                   path("wrong"));
  EXPECT_NE(wrong.exitCode, 0);
  EXPECT_NE(wrong.output.find("md25d"), std::string::npos) << wrong.output;
  EXPECT_NE(wrong.output.find("25 features"), std::string::npos) << wrong.output;
  const auto missing = runActivediff("evaluate --reference " + path("nothing") + " --generated " + path("md2d") +
                                     " -o " + path("missing"));
  EXPECT_NE(missing.exitCode, 0);
  EXPECT_NE(missing.output.find("nothing"), std::string::npos) << missing.output;
  EXPECT_FALSE(std::filesystem::exists(path("missing") + "/report.json"));
}

}  // namespace
}  // namespace activediff
