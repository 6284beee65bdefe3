// Issue 9: command-line values of train and sample that make no sense are
// errors (not the config's value), --seed -1 draws a seed that is recorded
// and reproduces the run, --resume refuses other data of the same dimension
// and names the config keys that changed, evaluate --model takes a training
// directory.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "activediff/model/config.h"
#include "activediff/model/generator.h"
#include "activediff/model/trainer.h"
#include "support/test_support.h"
#include "torch_test_support.h"

namespace activediff::testing {
namespace {
namespace fs = std::filesystem;

nlohmann::json readJson(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}
std::string readBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A model of 20 tiny steps, shared by the tests of this file.
class TinyModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new ScratchDirectory();
    writeDiamond(*scratch_ / "a.npy", 500, 3);
    const CommandResult r = runActivediff(train("a.npy", "run") + " --steps 20");
    ASSERT_EQ(r.exitCode, 0) << r.output;
  }
  static void TearDownTestSuite() { delete scratch_; }
  static std::string path(const std::string& name) { return (*scratch_ / name).string(); }
  static std::string train(const std::string& data, const std::string& out) {
    return "train -d " + path(data) + " -o " + path(out) + " " + tinyTrainingArgs();
  }
  static ScratchDirectory* scratch_;
};
ScratchDirectory* TinyModel::scratch_ = nullptr;

TEST_F(TinyModel, NonsenseTrainValuesAreErrorsNamingTheKey) {
  // A config of 10 steps: a value silently replaced by it would train and
  // exit 0. No --set here: a --set of the same key would rightly win.
  std::ofstream(path("ten.toml")) << "[training]\nsteps = 10\nbatch_size = 64\n[network]\nwidth = 16\ndepth = 1\n";
  const std::string base = "train -d " + path("a.npy") + " -c " + path("ten.toml") + " --process active";
  const std::vector<std::pair<std::string, std::string>> cases = {{"--tau nan", "process.tau"},
                                                                  {"--steps -5", "training.steps"},
                                                                  {"--batch-size -1", "training.batch_size"},
                                                                  {"--seed -2", "--seed"}};
  int k = 0;
  for (const auto& [args, key] : cases) {
    const std::string out = path("bad" + std::to_string(k++));
    const CommandResult r = runActivediff(base + " " + args + " -o " + out);
    EXPECT_NE(r.exitCode, 0) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(key), std::string::npos) << args << "\n" << r.output;
    EXPECT_FALSE(fs::exists(model::checkpointPath(out))) << args;
  }
}

TEST_F(TinyModel, NonsenseSampleValuesAreErrorsNamingTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"-n -5", "sampler.count"}, {"-n 20 --threads -1", "runtime.threads"}, {"-n 20 --seed -2", "--seed"},
      {"-n 20 --sampler gsscs --stochasticity 1.5", "sampler.stochasticity"},
      {"-n 20 --sampler gsscs --stochasticity nan", "sampler.stochasticity"}};
  int k = 0;
  for (const auto& [args, key] : cases) {
    const std::string out = path("badsample" + std::to_string(k++));
    const CommandResult r = runActivediff("sample -m " + path("run") + " -o " + out + " --steps 5 " + args);
    EXPECT_NE(r.exitCode, 0) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(key), std::string::npos) << args << "\n" << r.output;
    EXPECT_FALSE(fs::exists(out)) << args;
  }
}

// --seed -1: a fresh seed each run, recorded in the outputs, and the recorded
// seed given explicitly reproduces the run bit for bit.
TEST_F(TinyModel, SampleSeedMinusOneIsRandomRecordedAndReproducible) {
  std::vector<std::uint64_t> seeds;
  for (const char* out : {"rand1", "rand2"}) {
    const CommandResult r = runActivediff("sample -m " + path("run") + " -o " + path(out) + " -n 50 --steps 5 --seed -1");
    ASSERT_EQ(r.exitCode, 0) << r.output;
    const auto summary = readJson(path(out) + ".json");
    EXPECT_TRUE(summary["config"]["seed_drawn_at_random"].get<bool>());
    seeds.push_back(summary["config"]["effective_config"]["sampler"]["seed"].get<std::uint64_t>());
  }
  EXPECT_NE(seeds[0], seeds[1]) << "two --seed -1 runs drew the same seed";
  EXPECT_NE(readBytes(path("rand1") + "/features.npy"), readBytes(path("rand2") + "/features.npy"));
  const CommandResult again = runActivediff("sample -m " + path("run") + " -o " + path("again") +
                                            " -n 50 --steps 5 --seed " + std::to_string(seeds[0]));
  ASSERT_EQ(again.exitCode, 0) << again.output;
  EXPECT_EQ(readBytes(path("again") + "/features.npy"), readBytes(path("rand1") + "/features.npy"));
}

TEST_F(TinyModel, TrainSeedMinusOneIsRandomAndRecorded) {
  const CommandResult r = runActivediff(train("a.npy", "trand") + " --steps 10 --seed -1");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const auto summary = readJson(path("trand") + "/train_summary.json");
  EXPECT_TRUE(summary["config"]["seed_drawn_at_random"].get<bool>());
  const auto seed = summary["config"]["model"]["training"]["seed"].get<std::uint64_t>();
  EXPECT_EQ(model::readCheckpointConfig(path("trand")).training.seed, seed);
  EXPECT_NE(seed, 1u) << "the config's default seed, not a drawn one";
  EXPECT_NE(r.output.find("random seed " + std::to_string(seed)), std::string::npos) << r.output;
}

// FNV-1a 64 of the float64 values, computed by numpy and Python integers.
std::string pythonChecksum(const std::string& npy) {
  const std::string script =
      "import numpy as np,sys\n"
      "h=0xcbf29ce484222325\n"
      "for b in np.ascontiguousarray(np.load(sys.argv[1]),dtype='<f8').tobytes():\n"
      "    h=((h^b)*0x100000001b3)&0xffffffffffffffff\n"
      "print('fnv1a64:%016x'%h)\n";
  const CommandResult r = runCommand(std::string(ACTIVEDIFF_PYTHON) + " -c \"" + script + "\" " + npy);
  return r.output.substr(0, r.output.find('\n'));
}

TEST_F(TinyModel, ResumeOnOtherDataOfTheSameDimensionIsAnErrorNamingWhatDiffers) {
  fs::copy(path("run"), path("resumed"), fs::copy_options::recursive);
  const std::string recorded =
      nlohmann::json::parse(model::Generator(path("resumed")).metadataJson())["data"]["checksum"].get<std::string>();
  EXPECT_EQ(recorded, pythonChecksum(path("a.npy")));

  // Other values, same shape: refused, naming the checksums and the file.
  writeDiamond(*scratch_ / "b.npy", 500, 4);
  const CommandResult other = runActivediff(train("b.npy", "resumed") + " --steps 40 --resume");
  EXPECT_NE(other.exitCode, 0) << other.output;
  EXPECT_NE(other.output.find("checksum " + recorded + " vs " + pythonChecksum(path("b.npy"))), std::string::npos)
      << other.output;
  EXPECT_NE(other.output.find("b.npy"), std::string::npos) << other.output;
  EXPECT_EQ(model::Generator(path("resumed")).trainedSteps(), 20);

  // A changed config names the keys that differ, not the whole config.
  const CommandResult changed = runActivediff(
      train("a.npy", "resumed") + " --steps 40 --resume --set training.learning_rate=0.002 --set network.width=48");
  EXPECT_NE(changed.exitCode, 0) << changed.output;
  EXPECT_NE(changed.output.find("training.learning_rate: 0.001 vs 0.002"), std::string::npos) << changed.output;
  EXPECT_NE(changed.output.find("network.width: 32 vs 48"), std::string::npos) << changed.output;
  EXPECT_EQ(changed.output.find("[network]"), std::string::npos) << "the whole config was dumped:\n" << changed.output;

  // The same values under another name are the same data: resumed.
  fs::copy_file(path("a.npy"), path("a-copy.npy"));
  const CommandResult same = runActivediff(train("a-copy.npy", "resumed") + " --steps 40 --resume");
  EXPECT_EQ(same.exitCode, 0) << same.output;
  EXPECT_EQ(model::Generator(path("resumed")).trainedSteps(), 40);
}

TEST(ConfigDifferences, NamesEachDifferingKeyWithBothValues) {
  model::ModelConfig a = model::parseConfig("", "a", {"process.kind=\"active\"", "process.tau=0.5"});
  model::ModelConfig b = model::parseConfig("", "b", {"process.kind=\"active\"", "process.tau=0.25"});
  EXPECT_TRUE(model::configDifferences(a, a).empty());
  EXPECT_EQ(model::configDifferences(a, b), (std::vector<std::string>{"process.tau: 0.5 vs 0.25"}));
  b = model::parseConfig("", "b", {"process.kind=\"passive\"", "runtime.device=\"cuda\""});
  const std::vector<std::string> d = model::configDifferences(a, b);
  const auto has = [&](const std::string& s) { return std::find(d.begin(), d.end(), s) != d.end(); };
  EXPECT_TRUE(has("process.kind: \"active\" vs \"passive\"")) << ::testing::PrintToString(d);
  EXPECT_TRUE(has("process.tau: 0.5 vs (unset)")) << ::testing::PrintToString(d);
  EXPECT_TRUE(has("runtime.device: \"cpu\" vs \"cuda\"")) << ::testing::PrintToString(d);
}

// evaluate --model used to read the directory as a 0-byte checkpoint.
TEST(EvaluateModel, ATrainingDirectoryIsAcceptedAsSampleDoes) {
  ScratchDirectory scratch;
  const std::string pdb = (examplesDir() / "ala2" / "ala2.pdb").string();
  const std::string xtc = (examplesDir() / "ala2" / "md" / "run1.xtc").string();
  const std::string md = (scratch / "md2").string();
  ASSERT_EQ(runActivediff("featurize -q -f " + xtc + " -s " + pdb + " --features 2d --last-frame 399 -o " + md).exitCode, 0);
  const std::string run = (scratch / "run").string();
  const CommandResult t = runActivediff("train -d " + md + " -o " + run + " --steps 20 " + tinyTrainingArgs());
  ASSERT_EQ(t.exitCode, 0) << t.output;
  std::vector<double> nats;
  for (const std::string& model : {run, model::checkpointPath(run).string()}) {
    const std::string report = (scratch / ("report" + std::to_string(nats.size()))).string();
    const CommandResult e = runActivediff("evaluate --reference " + md + " --generated " + md + " -o " + report +
                                          " --model " + model + " --likelihood-frames 20");
    ASSERT_EQ(e.exitCode, 0) << model << "\n" << e.output;
    nats.push_back(readJson(report + "/report.json")["likelihood"]["nats_per_dim"].get<double>());
  }
  EXPECT_TRUE(std::isfinite(nats[0]));
  EXPECT_EQ(nats[0], nats[1]) << "the directory and its checkpoint are the same model";
}

}  // namespace
}  // namespace activediff::testing
