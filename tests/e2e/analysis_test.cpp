// The paper's analyses as subcommands (issue 12, Build 3; MATH.md 6):
// fisher-memory and speciation against independent numpy/scipy computations
// (tests/oracles/memory_analyses.py), state-memory on the exact mixture score
// (states = modes) and through trained checkpoints on the shipped MD.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace activediff {
namespace {

using nlohmann::json;
using testing::examplesDir;
using testing::runActivediff;
using testing::runOracle;
using testing::ScratchDirectory;

json readJson(const std::filesystem::path& file) {
  std::ifstream in(file);
  return json::parse(in);
}

std::string readText(const std::filesystem::path& file) {
  std::ifstream in(file);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool isPng(const std::filesystem::path& file) {
  return testing::runCommand("head -c 8 '" + file.string() + "' | grep -q PNG").exitCode == 0;
}

// Every report directory: report.json (marked), report.md, the PNG it names.
void expectReportFiles(const std::filesystem::path& dir, const std::string& kind) {
  const json report = readJson(dir / "report.json");
  EXPECT_EQ(report["activediff_output"], kind);
  ASSERT_TRUE(report["plots"].is_object());
  for (const auto& [name, file] : report["plots"].items()) {
    EXPECT_TRUE(isPng(dir / file.get<std::string>())) << name;
    EXPECT_NE(readText(dir / "report.md").find(file.get<std::string>()), std::string::npos) << name;
  }
}

const std::string kPdb = (examplesDir() / "ala2" / "ala2.pdb").string();
const std::string kRuns = (examplesDir() / "ala2" / "md" / "run1.xtc").string() + " " +
                          (examplesDir() / "ala2" / "md" / "run2.xtc").string();

TEST(FisherMemoryCli, PassiveMatchesTheClosedFormAndActiveTheLyapunovOde) {
  ScratchDirectory scratch;
  // The default processes, and a second setting with Tp > 0, k tau = 1 and V != 1.
  for (const std::string& options : {std::string("--tau 0.1,0.5,1,2 --points 60"),
                                     std::string("--k 1.3 --variance 0.8 --tp 0.2 --tau 0.25,0.769230769230769 "
                                                 "--t-min 1e-4 --t-max 5 --points 40")}) {
    const std::filesystem::path out = scratch / "fisher";
    const auto r = runActivediff("fisher-memory -q --overwrite -o " + out.string() + " " + options);
    ASSERT_EQ(r.exitCode, 0) << r.output;
    const auto check = runOracle("memory_analyses.py", "fisher " + (out / "report.json").string());
    EXPECT_EQ(check.exitCode, 0) << options << "\n" << check.output;
    expectReportFiles(out, "fisher-memory");
    const json report = readJson(out / "report.json");
    EXPECT_EQ(report["processes"][0]["label"], "passive");
    EXPECT_EQ(report["processes"].size(), 1 + report["config"]["processes"]["taus"].size());
  }
  const auto bad = runActivediff("fisher-memory -o " + (scratch / "bad").string() + " --tp 2");
  EXPECT_NE(bad.exitCode, 0);
  EXPECT_NE(bad.output.find("--tp"), std::string::npos) << bad.output;
}

TEST(SpeciationCli, LargestEigenvalueAndTimesAgreeWithNumpyAndScipy) {
  ScratchDirectory scratch;
  for (const char* set : {"2d", "25d"}) {
    const std::filesystem::path data = scratch / (std::string("md") + set);
    const auto f = runActivediff("featurize -q -f " + kRuns + " -s " + kPdb + " --features " + set + " --stride 4 -o " +
                                 data.string());
    ASSERT_EQ(f.exitCode, 0) << f.output;
    const std::filesystem::path out = scratch / (std::string("speciation") + set);
    const auto r = runActivediff("speciation -q -d " + data.string() + " -o " + out.string() +
                                 " --variance 0.667 --tau 0.1,0.5,1,2");
    ASSERT_EQ(r.exitCode, 0) << r.output;
    const auto check = runOracle("memory_analyses.py", "speciation " + (out / "report.json").string() + " " + data.string());
    EXPECT_EQ(check.exitCode, 0) << set << "\n" << check.output;
    expectReportFiles(out, "speciation");
    // Active speciates earlier in the reverse direction (later forward time) than passive.
    const json report = readJson(out / "report.json");
    for (const json& a : report["active"]) EXPECT_GT(a["minus_passive"].get<double>(), 0.0) << set;
  }
  // --eigenvalue instead of a dataset: the passive closed form.
  const auto r = runActivediff("speciation -q --eigenvalue 0.76 --variance 1 -o " + (scratch / "given").string());
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_NEAR(readJson(scratch / "given" / "report.json")["passive"]["t_speciation"].get<double>(),
              0.5 * std::log(1.76), 1e-10);
}

// The experiment's numbers are consistent with themselves: fractions from
// counts, binomial standard errors, start states partitioning the points.
void expectConsistentPoint(const json& point, bool hasAux) {
  for (const char* arm : {"kept", "shuffled"}) {
    if (!hasAux && std::string(arm) == "shuffled") {
      EXPECT_TRUE(point[arm].is_null());
      continue;
    }
    const json& a = point[arm];
    const double n = a["n"].get<double>(), p = a["returned"].get<double>() / n;
    EXPECT_DOUBLE_EQ(a["fraction"].get<double>(), p);
    EXPECT_NEAR(a["standard_error"].get<double>(), std::sqrt(p * (1 - p) / n), 1e-12);
    double returned = 0, count = 0;
    for (const auto& [state, s] : point["by_start_state"].items()) {
      returned += s[arm]["returned"].get<double>();
      count += s[arm]["n"].get<double>();
    }
    EXPECT_EQ(returned, a["returned"].get<double>());
    EXPECT_EQ(count, n);
  }
}

// fisher-memory and speciation live in the torch-free executable.
TEST(AnalysisTier, FisherMemoryAndSpeciationMapNeitherLibTorchNorOpenMM) {
  ScratchDirectory scratch;
  for (const std::string& arguments :
       {"fisher-memory -q --points 5 -o " + (scratch / "f").string(),
        "speciation -q --eigenvalue 1.5 -o " + (scratch / "s").string()}) {
    const testing::MappedLibraries r = testing::mappedLibraries(arguments);
    ASSERT_EQ(r.exitCode, 0) << r.output.substr(0, 2000);
    EXPECT_FALSE(r.torch) << arguments;
    EXPECT_FALSE(r.openmm) << arguments;
  }
}

TEST(StateMemoryCli, OnTheExactMixtureActiveKeepsMemoryInEtaThatShufflingDestroys) {
  ScratchDirectory scratch;
  const std::filesystem::path out = scratch / "memory";
  const auto r = runActivediff("state-memory -q --mixture diamond --process passive "
                               "--process active:tau=0.5,active_temperature=1.5 -n 2000 --seed 3 "
                               "--t-star 0.05,0.1,0.2,0.35,0.5,0.75,1,1.5,2,3 -o " + out.string());
  ASSERT_EQ(r.exitCode, 0) << r.output;
  expectReportFiles(out, "state-memory");
  const json report = readJson(out / "report.json");
  ASSERT_EQ(report["models"].size(), 2u);
  const json& passive = report["models"][0];
  const json& active = report["models"][1];
  EXPECT_FALSE(passive["has_aux"].get<bool>());
  EXPECT_TRUE(active["has_aux"].get<bool>());
  EXPECT_EQ(active["sde"]["tau"], 0.5);
  const double chance = report["chance_level"].get<double>();
  EXPECT_NEAR(chance, 1.0 / 9.0, 0.01);  // nine equal modes
  const auto& points = active["points"];
  ASSERT_EQ(points.size(), 10u);
  double bestZ = -1e300;
  for (std::size_t i = 0; i < points.size(); ++i) {
    expectConsistentPoint(points[i], true);
    expectConsistentPoint(passive["points"][i], false);
    const double diff = points[i]["difference"]["mean"].get<double>();
    const double se = points[i]["difference"]["standard_error"].get<double>();
    const double kept = points[i]["kept"]["fraction"].get<double>();
    const double shuffled = points[i]["shuffled"]["fraction"].get<double>();
    EXPECT_NEAR(diff, kept - shuffled, 1e-12);
    // Never below -3 standard errors (where the memory is gone, the arms agree).
    EXPECT_GT(diff, -3.0 * std::max(se, 1e-3)) << "t* " << points[i]["t_star"];
    if (i > 0 && i + 1 < points.size() && se > 0) bestZ = std::max(bestZ, diff / se);
  }
  // At an intermediate t*, kept minus shuffled exceeds 5 standard errors.
  EXPECT_GT(bestZ, 5.0);
  // Small t*: nearly everything returns; large t*: chance.
  EXPECT_GT(points[0]["kept"]["fraction"].get<double>(), 0.95);
  for (const json* model : {&passive, &active}) {
    const json& last = (*model)["points"].back()["kept"];
    EXPECT_NEAR(last["fraction"].get<double>(), chance, 4 * last["standard_error"].get<double>() + 0.01)
        << (*model)["label"];
  }
  // Reproducible: the same seed gives the same report numbers.
  const auto again = runActivediff("state-memory -q --mixture diamond --process passive "
                                   "--process active:tau=0.5,active_temperature=1.5 -n 2000 --seed 3 "
                                   "--t-star 0.05,0.1,0.2,0.35,0.5,0.75,1,1.5,2,3 -o " + (scratch / "again").string());
  ASSERT_EQ(again.exitCode, 0) << again.output;
  EXPECT_EQ(readJson(scratch / "again" / "report.json")["models"], report["models"]);
}

TEST(StateMemoryCli, RunsTrainedPassiveAndActiveCheckpointsOnMdFrames) {
  ScratchDirectory scratch;
  const std::string data = (scratch / "md2d").string();
  auto r = runActivediff("featurize -q -f " + kRuns + " -s " + kPdb + " --features 2d --stride 4 -o " + data);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  for (const char* process : {"passive", "active"}) {
    r = runActivediff("train -q -d " + data + " -o " + (scratch / process).string() + " -c " +
                      (examplesDir() / "configs" / (std::string("2d-") + process + ".toml")).string() +
                      " --steps 20 --set training.checkpoint_every=20 --set training.validation_every=20 "
                      "--set training.validation_samples=64 --set training.warmup_steps=1 --set training.batch_size=64");
    ASSERT_EQ(r.exitCode, 0) << r.output;
  }
  const std::filesystem::path out = scratch / "memory";
  r = runActivediff("state-memory -q -m " + (scratch / "passive").string() + " -m act=" + (scratch / "active").string() +
                    " -f " + data + " -n 300 --t-star 0.1,1 --steps 10 -o " + out.string());
  ASSERT_EQ(r.exitCode, 0) << r.output;
  expectReportFiles(out, "state-memory");
  const json report = readJson(out / "report.json");
  EXPECT_EQ(report["mode"], "models");
  ASSERT_EQ(report["models"].size(), 2u);
  EXPECT_EQ(report["models"][0]["label"], "passive");
  EXPECT_EQ(report["models"][1]["label"], "act");
  EXPECT_EQ(report["frames"]["used"], 300);
  std::int64_t started = 0;
  for (const auto& [state, count] : report["start_states"].items()) {
    EXPECT_NE(state, "other");
    started += count.get<std::int64_t>();
  }
  EXPECT_EQ(started, 300);
  for (const json& model : report["models"])
    for (const json& point : model["points"]) expectConsistentPoint(point, model["has_aux"].get<bool>());
  // Frames whose features differ from the model's are refused with the file named.
  r = runActivediff("featurize -q -f " + kRuns + " -s " + kPdb + " --features 25d --stride 20 -o " +
                    (scratch / "md25d").string());
  ASSERT_EQ(r.exitCode, 0) << r.output;
  r = runActivediff("state-memory -q -m " + (scratch / "active").string() + " -f " + (scratch / "md25d").string() +
                    " -n 50 --t-star 0.5 -o " + (scratch / "bad").string());
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.output.find("md25d"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace activediff
