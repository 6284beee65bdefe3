// Checkpoints and the CLI: exact --resume after SIGKILL, corrupt and
// truncated checkpoints, dimension mismatches, CUDA on a CPU-only build,
// the Jacobian diagonal used by the exact log-density.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <random>
#include <fstream>
#include <iterator>
#include <thread>

#include "activediff/featurize/dataset.h"
#include "activediff/featurize/error.h"
#include "activediff/featurize/periodic.h"
#include "activediff/model/generator.h"
#include "activediff/model/trainer.h"
#include "support/test_support.h"
#include "torch_test_support.h"

namespace activediff::testing {
namespace {
namespace fs = std::filesystem;

// One tiny trained model shared by the tests of this file.
class TrainedModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new ScratchDirectory();
    writeDiamond(*scratch_ / "data.npy", 2000, 7);
    const CommandResult r = runActivediff(
        "train -d " + (*scratch_ / "data.npy").string() + " -o " + (*scratch_ / "run").string() +
        " --process active --steps 100 " + tinyTrainingArgs());
    ASSERT_EQ(r.exitCode, 0) << r.output;
  }
  static void TearDownTestSuite() { delete scratch_; }
  static fs::path checkpoint() { return *scratch_ / "run" / "checkpoint.adck"; }
  static fs::path dir() { return scratch_->path(); }
  static ScratchDirectory* scratch_;
};
ScratchDirectory* TrainedModel::scratch_ = nullptr;

std::string readBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void writeBytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

TEST_F(TrainedModel, WritesCheckpointLogAndConfig) {
  EXPECT_TRUE(fs::exists(dir() / "run" / "training_log.json"));
  EXPECT_TRUE(fs::exists(dir() / "run" / "config.toml"));
  EXPECT_TRUE(fs::exists(dir() / "run" / "train_summary.json"));
  model::Generator g(checkpoint());
  EXPECT_EQ(g.trainedSteps(), 100);
  EXPECT_EQ(g.dims(), 2);
  EXPECT_EQ(g.sde().kind(), model::ProcessKind::Active);
  const std::string log = readBytes(dir() / "run" / "training_log.json");
  EXPECT_NE(log.find("\"loss\""), std::string::npos);
  EXPECT_NE(log.find("\"activediff_version\""), std::string::npos);
}

TEST_F(TrainedModel, SampleWritesADatasetAndSummary) {
  const fs::path out = dir() / "samples";
  const CommandResult r = runActivediff("sample -m " + (dir() / "run").string() + " -o " +
                                        out.string() + " -n 300 --sampler sscs --steps 20");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(fs::exists(out / "features.npy"));
  EXPECT_TRUE(fs::exists(out / "meta.json"));
  fs::path summary = out;
  summary += ".json";
  const std::string text = readBytes(summary);
  EXPECT_NE(text.find("samples_per_s"), std::string::npos);
  const NpyArray a = readNpy(out / "features.npy");
  EXPECT_EQ(a.rows(), 300);
  EXPECT_EQ(a.columns(), 2);
  // The config's default sampler (DEIS-3, 20 steps): 20 network calls a
  // sample, whatever the batching (3 batches of <= 128 here).
  const fs::path byDefault = dir() / "samples-default";
  const CommandResult d = runActivediff("sample -m " + (dir() / "run").string() + " -o " +
                                        byDefault.string() + " -n 300 --batch-size 128");
  ASSERT_EQ(d.exitCode, 0) << d.output;
  fs::path defaultSummary = byDefault;
  defaultSummary += ".json";
  const std::string json = readBytes(defaultSummary);
  const std::size_t key = json.find("\"network_calls_per_sample\"");
  ASSERT_NE(key, std::string::npos) << json;
  EXPECT_DOUBLE_EQ(std::stod(json.substr(json.find(':', key) + 1)), 20.0) << json;
  EXPECT_NE(json.find("\"deis\""), std::string::npos);
}

TEST_F(TrainedModel, CorruptAndTruncatedCheckpointsAreClearErrors) {
  const std::string bytes = readBytes(checkpoint());
  const fs::path truncated = dir() / "truncated.adck";
  writeBytes(truncated, bytes.substr(0, bytes.size() / 2));
  std::string flipped = bytes;
  flipped[flipped.size() * 3 / 4] ^= 0x5a;
  const fs::path corrupt = dir() / "corrupt.adck";
  writeBytes(corrupt, flipped);
  const fs::path empty = dir() / "empty.adck";
  writeBytes(empty, "");
  for (const fs::path& bad : {truncated, corrupt, empty}) {
    const CommandResult r = runActivediff("sample -m " + bad.string() + " -o " +
                                          (dir() / "never").string() + " -n 10");
    EXPECT_NE(r.exitCode, 0) << r.output;
    EXPECT_NE(r.output.find(bad.string()), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("checkpoint"), std::string::npos) << r.output;
    EXPECT_THROW(model::Generator{bad}, Error);
  }
  EXPECT_FALSE(fs::exists(dir() / "never"));
}

TEST_F(TrainedModel, DatasetDimensionMismatchIsAClearError) {
  const fs::path wide = dir() / "wide.npy";
  writeNpy(wide, Eigen::ArrayXXd::Random(500, 3));
  fs::copy(dir() / "run", dir() / "run3", fs::copy_options::recursive);
  const CommandResult r = runActivediff("train -d " + wide.string() + " -o " +
                                        (dir() / "run3").string() + " --resume --steps 200");
  EXPECT_NE(r.exitCode, 0) << r.output;
  EXPECT_NE(r.output.find(wide.string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("3 features"), std::string::npos) << r.output;
}

TEST_F(TrainedModel, CudaRequestOnCpuBuildIsAClearError) {
  const CommandResult r = runActivediff("sample -m " + checkpoint().string() + " -o " +
                                        (dir() / "cuda").string() + " -n 10 --device cuda");
  if (r.exitCode == 0) GTEST_SKIP() << "this LibTorch has CUDA and a GPU is visible";
  EXPECT_NE(r.output.find("CUDA is not available"), std::string::npos) << r.output;
  model::GeneratorOptions o;
  o.device = "cuda";
  EXPECT_THROW((model::Generator{checkpoint(), o}), Error);
}

TEST_F(TrainedModel, JacobianDiagonalMatchesFiniteDifferences) {
  model::Generator g(checkpoint());
  model::ScoreModel& s = g.scoreModel();
  ASSERT_TRUE(s.hasJacobianDiagonal());
  Eigen::ArrayXXd z = Eigen::ArrayXXd::Random(5, 4);
  const double t = 0.7;
  Eigen::ArrayXXd score, diag, plus, minus;
  s.scoreAndJacobianDiagonal(z, t, score, diag);
  const double h = 1e-2;  // float32 network: central differences at h = 1e-2
  for (int col = 0; col < 4; ++col) {
    if (!s.channels().has(col / 2)) continue;
    Eigen::ArrayXXd zp = z, zm = z;
    zp.col(col) += h;
    zm.col(col) -= h;
    s.score(zp, t, plus);
    s.score(zm, t, minus);
    const Eigen::ArrayXd fd = (plus.col(col) - minus.col(col)) / (2 * h);
    EXPECT_LT((fd - diag.col(col)).abs().maxCoeff(), 2e-2 * (1.0 + fd.abs().maxCoeff()))
        << "column " << col;
  }
  Eigen::ArrayXXd again;
  s.score(z, t, again);
  EXPECT_LT((again - score).abs().maxCoeff(), 1e-5);
}

TEST_F(TrainedModel, LogDensityOfSamplesMatchesForwardEvaluation) {
  // Backwards from the prior (sampleWithLogDensity) and forwards from the
  // points (logDensityOfStates) integrate the same probability flow.
  model::Generator g(checkpoint());
  const model::GeneratedSamples s = g.sampleWithLogDensity(200, 9, 60);
  ASSERT_EQ(s.logDensity.size(), 200);
  ASSERT_TRUE(s.logDensity.allFinite());
  const Eigen::ArrayXd forward = g.logDensityOfStates(s.z, 60);
  EXPECT_LT((forward - s.logDensity).abs().mean(), 0.05);
  EXPECT_THROW(g.logDensityOfFeatures(s.features), Error);  // active: joint in (x, eta)
}

// A featurize dataset with periodic torsions: trained on, and the samples
// come back as a dataset with every periodic value in (-pi, pi].
TEST(FeaturizeDataset, TrainAndSampleWithPeriodicFeatures) {
  ScratchDirectory scratch;
  DatasetInfo info;
  info.featureSet = "phi-psi-2d";
  info.features = {{"phi", "rad", true, FeatureKind::TorsionRad},
                   {"psi", "rad", true, FeatureKind::TorsionRad}};
  info.sources = {{"synthetic two-basin torsions", 1000}};
  const fs::path data = scratch / "dataset";
  {
    DatasetWriter writer(data, info);
    model::Rng rng(4);
    std::normal_distribution<double> normal(0.0, 0.3);
    for (int i = 0; i < 1000; ++i) {
      // Two basins, one across the +-pi seam.
      const double f[2] = {wrapAngleRad((i % 2 ? -1.4 : 3.0) + normal(rng)),
                           wrapAngleRad((i % 2 ? 2.6 : -0.7) + normal(rng))};
      writer.append(f, 0.1 * i, 0, i);
    }
    writer.commit();
  }
  const CommandResult t = runActivediff("train -d " + data.string() + " -o " +
                                        (scratch / "run").string() +
                                        " --process passive --steps 60 " + tinyTrainingArgs());
  ASSERT_EQ(t.exitCode, 0) << t.output;
  model::Generator g(model::checkpointPath(scratch / "run"));
  EXPECT_EQ(g.features().names, (std::vector<std::string>{"phi", "psi"}));
  EXPECT_TRUE(g.features().periodic[0]);
  EXPECT_TRUE(std::isfinite(g.features().branchCutsRad[1]));
  const CommandResult s = runActivediff("sample -m " + (scratch / "run").string() + " -o " +
                                        (scratch / "gen").string() + " -n 500 --steps 20");
  ASSERT_EQ(s.exitCode, 0) << s.output;
  const Dataset generated = readDataset(scratch / "gen");
  ASSERT_EQ(generated.frames(), 500);
  EXPECT_EQ(generated.info.features[1].name, "psi");
  EXPECT_TRUE(generated.info.features[0].periodic);
  const Eigen::ArrayXXd f = generated.features.array();
  EXPECT_LE(f.maxCoeff(), M_PI);
  EXPECT_GT(f.minCoeff(), -M_PI);
  // Features of a passive model have a density; it is finite on the data.
  const Eigen::ArrayXd logp = g.logDensityOfFeatures(f.topRows(20), 30);
  EXPECT_TRUE(logp.allFinite());
}

// SIGKILL during training, then --resume: the same weights (raw and EMA) as
// an uninterrupted run with the same seed, on CPU.
TEST(TrainResume, KilledAndResumedEqualsUninterrupted) {
  ScratchDirectory scratch;
  writeDiamond(scratch / "data.npy", 2000, 11);
  const std::string common = "train -d " + (scratch / "data.npy").string() +
                             " --process active --steps 1500 --seed 5 " + tinyTrainingArgs() +
                             " --set training.checkpoint_every=100";
  const CommandResult full = runActivediff(common + " -o " + (scratch / "full").string());
  ASSERT_EQ(full.exitCode, 0) << full.output;

  const fs::path killedDir = scratch / "killed";
  const fs::path ck = model::checkpointPath(killedDir);
  std::int64_t killedAt = -1;
  {
    BackgroundProcess child(std::string(ACTIVEDIFF_BINARY) + " " + common + " -o " +
                            killedDir.string() + " 2>/dev/null");
    ASSERT_TRUE(child.started());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!fs::exists(ck) && child.running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    child.killHard();
    const int status = child.wait();
    ASSERT_TRUE(WIFSIGNALED(status)) << "training finished before it could be killed";
  }
  killedAt = model::Generator(ck).trainedSteps();
  ASSERT_GT(killedAt, 0);
  ASSERT_LT(killedAt, 1500);
  const CommandResult resumed =
      runActivediff("train -d " + (scratch / "data.npy").string() + " -o " + killedDir.string() +
                    " --resume");
  ASSERT_EQ(resumed.exitCode, 0) << resumed.output;

  for (bool ema : {false, true}) {
    model::GeneratorOptions o;
    o.useEma = ema;
    const std::vector<float> a = model::Generator(model::checkpointPath(scratch / "full"), o).parameters();
    const std::vector<float> b = model::Generator(ck, o).parameters();
    ASSERT_EQ(a.size(), b.size());
    EXPECT_TRUE(a == b) << (ema ? "EMA" : "raw") << " weights differ after resuming from step "
                        << killedAt;
  }
  EXPECT_EQ(model::Generator(ck).trainedSteps(), 1500);
}

std::string readFileBytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Without --resume an earlier training directory is backed up (the output
// policy), never trained over; --resume with nothing to resume is an error.
TEST(TrainResume, ExistingRunWithoutResumeIsBackedUpAndMissingWithResumeIsAnError) {
  ScratchDirectory scratch;
  writeDiamond(scratch / "data.npy", 500, 3);
  const std::string base = "train -d " + (scratch / "data.npy").string() + " -o " +
                           (scratch / "run").string() + " --steps 20 " + tinyTrainingArgs();
  const CommandResult missing = runActivediff(base + " --resume");
  EXPECT_NE(missing.exitCode, 0);
  EXPECT_NE(missing.output.find("checkpoint.adck"), std::string::npos) << missing.output;
  ASSERT_EQ(runActivediff(base).exitCode, 0);
  const std::string firstCheckpoint = readFileBytes(scratch / "run" / "checkpoint.adck");
  const CommandResult again = runActivediff(base);
  EXPECT_EQ(again.exitCode, 0) << again.output;
  EXPECT_NE(again.output.find("backed up"), std::string::npos) << again.output;
  EXPECT_EQ(readFileBytes(scratch / "#run.1#" / "checkpoint.adck"), firstCheckpoint);
  EXPECT_TRUE(std::filesystem::exists(scratch / "run" / "checkpoint.adck"));
  const CommandResult badData = runActivediff("train -d " + (scratch / "nothing.npy").string() +
                                              " -o " + (scratch / "x").string());
  EXPECT_NE(badData.exitCode, 0);
  EXPECT_NE(badData.output.find("nothing.npy"), std::string::npos) << badData.output;
}

}  // namespace
}  // namespace activediff::testing
