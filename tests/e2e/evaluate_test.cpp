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
                                     " --process " + process + " --steps 500 --set training.validation_every=100");
    ASSERT_EQ(train.exitCode, 0) << train.output;
    ASSERT_EQ(runActivediff("sample -m " + run + " -o " + run + "/gen -n 500 --steps 20").exitCode, 0);
    const auto result = runActivediff("evaluate --reference " + path("md2d") + " --generated " + run + "/gen -o " +
                                      run + "/report --model " + run + "/checkpoint.adck --likelihood-frames 40" +
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
    // Two channels: the K-sample estimate of the x-marginal, with its ESS.
    const auto& l = report["likelihood"];
    if (std::string(process) == "active") {
      EXPECT_EQ(l["importance_samples"].get<int>(), 8);  // the default K
      EXPECT_GT(l["mean_effective_sample_size"].get<double>(), 1.0);
      EXPECT_LE(l["mean_effective_sample_size"].get<double>(), 8.0 + 1e-9);
    }
    // The comparable likelihood (closed-form checks in test_marginal_likelihood.cpp):
    // in the same sane range.
    const double comparable = l["comparable"]["nats_per_dim"].get<double>();
    EXPECT_GT(comparable, -5.0) << process;
    EXPECT_LT(comparable, 5.0) << process;
    EXPECT_EQ(report["plots"]["loss"].get<std::string>(), "loss.png");
  }
}

TEST_F(EvaluateCli, QualityRatioAndBaselinesAgainstUnseenMdAgreeWithNumpy) {
  // Train on run1, unseen run2 (stride 2: 2,500 frames each).
  const std::string ex = (examplesDir() / "ala2" / "md").string();
  for (const char* run : {"run1", "run2"}) {
    const auto result = runActivediff("featurize -q -f " + ex + "/" + run + ".xtc -s " + kPdb +
                                      " --features 2d --stride 2 -o " + path(std::string("q-") + run));
    ASSERT_EQ(result.exitCode, 0) << result.output;
  }
  const std::string training = path("q-run1"), unseen = path("q-run2");
  // The training frames as the samples: ratio exactly 1.
  const auto self = runActivediff("evaluate --reference " + unseen + " --generated " + training + " --training " +
                                  training + " --quality-seeds 4 -o " + path("q-self"));
  ASSERT_EQ(self.exitCode, 0) << self.output;
  const auto selfReport = readJson(path("q-self") + "/report.json");
  const auto& q = selfReport["quality"];
  EXPECT_EQ(q["ratio"].get<double>(), 1.0);
  EXPECT_EQ(q["n"].get<int>(), 2500);
  EXPECT_EQ(q["replay"]["per_seed"].size(), 4u);
  // Both baselines above 1 on these correlated MD frames; smoothing beats replay.
  EXPECT_GT(q["replay"]["mean"].get<double>(), 1.0);
  EXPECT_GT(q["kde"]["mean"].get<double>(), 1.0);
  EXPECT_LT(q["kde"]["mean"].get<double>(), q["replay"]["mean"].get<double>());
  auto check = runOracle("check_report.py", path("q-self") + "/report.json " + unseen + " " + training + " " + training);
  EXPECT_EQ(check.exitCode, 0) << check.output;
  // More samples (5,000, two of them damaged) than training frames: subsampled
  // evenly to 2,500 of the valid ones; numpy recomputes histograms and JS.
  ASSERT_EQ(runOracle("synthetic_dataset.py", path("md2d") + " " + path("q-gen") + " 1 0.05 1").exitCode, 0);
  const auto more = runActivediff("evaluate --reference " + unseen + " --generated " + path("q-gen") + " --training " +
                                  training + " --quality-seeds 3 --quality-seed 7 -o " + path("q-more"));
  ASSERT_EQ(more.exitCode, 0) << more.output;
  const auto moreReport = readJson(path("q-more") + "/report.json");
  EXPECT_EQ(moreReport["quality"]["generated"]["valid_samples"].get<int>(), 4998);
  EXPECT_EQ(moreReport["quality"]["replay"]["seeds"], nlohmann::json({7, 8, 9}));
  check = runOracle("check_report.py", path("q-more") + "/report.json " + unseen + " " + path("q-gen") + " " + training);
  EXPECT_EQ(check.exitCode, 0) << check.output;
  std::ifstream markdown(path("q-more") + "/report.md");
  const std::string text((std::istreambuf_iterator<char>(markdown)), std::istreambuf_iterator<char>());
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.3f", moreReport["quality"]["ratio"].get<double>());
  EXPECT_NE(text.find(std::string("| generated (this sample set) | ") + ratio), std::string::npos) << text;
  // Fewer valid samples than training frames: an error naming both counts.
  const auto fewer = runActivediff("evaluate --reference " + unseen + " --generated " + training + " --training " +
                                   path("md2d") + " -o " + path("q-fewer"));
  EXPECT_NE(fewer.exitCode, 0);
  EXPECT_NE(fewer.output.find("2500 valid samples"), std::string::npos) << fewer.output;
  EXPECT_NE(fewer.output.find("5000 frames"), std::string::npos) << fewer.output;
  EXPECT_FALSE(std::filesystem::exists(path("q-fewer") + "/report.json"));
}

TEST_F(EvaluateCli, QualityProtocolScriptRunsTheBaselinesEachDirection) {
  // bench/quality_protocol.sh without training (the model part runs in the
  // benchmark): featurize each run, evaluate --training both ways, the table.
  const auto result = testing::runCommand("ACTIVEDIFF=" + testing::activediffBinary() + " " +
                                          (testing::sourceDir() / "bench" / "quality_protocol.sh").string() +
                                          " --baselines-only --seeds 3 --out " + path("protocol") + " --json " +
                                          path("protocol.json") + " 2>&1");
  ASSERT_EQ(result.exitCode, 0) << result.output;
  EXPECT_NE(result.output.find("train run2, unseen run1"), std::string::npos) << result.output;
  const auto table = readJson(path("protocol.json"));
  for (const char* direction : {"train-run1", "train-run2"}) {
    EXPECT_EQ(table[direction]["n"].get<int>(), 5000) << direction;
    EXPECT_EQ(table[direction]["replay"]["per_seed"].size(), 3u) << direction;
    const double replay = table[direction]["replay"]["mean"].get<double>();
    const double kde = table[direction]["kde"]["mean"].get<double>();
    // The shipped data's baselines (BENCHMARKS.md): replay ~1.36, KDE ~1.21.
    EXPECT_GT(replay, 1.2) << direction;
    EXPECT_LT(replay, 1.55) << direction;
    EXPECT_GT(kde, 1.05) << direction;
    EXPECT_LT(kde, replay) << direction;
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
