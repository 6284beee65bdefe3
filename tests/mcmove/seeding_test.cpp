// Seeding MD from the generator (issue 10): `activediff seed` on a small
// model trained on the shipped MD, checked against MDTraj (phi/psi of the
// written structures) and OpenMM's Python layer (their energies); the swarm
// script's summary recomputed here from the frames in its JSON.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "activediff/featurize/npy.h"
#include "activediff/featurize/states.h"
#include "support/test_support.h"

namespace {

using activediff::testing::examplesDir;
using activediff::testing::runActivediff;
using activediff::testing::runCommand;
using activediff::testing::runOracle;
using activediff::testing::ScratchDirectory;
using activediff::testing::sourceDir;
using nlohmann::json;

const std::string kPdb = (examplesDir() / "ala2" / "ala2.pdb").string();
const std::string kSystem = (examplesDir() / "ala2" / "system.xml").string();

json readJson(const std::filesystem::path& file) {
  std::ifstream in(file);
  return json::parse(in);
}

std::vector<std::vector<double>> numbersPerLine(const std::string& text) {
  std::vector<std::vector<double>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream l(line);
    std::vector<double> row;
    for (double v; l >> v;) row.push_back(v);
    if (!row.empty()) rows.push_back(row);
  }
  return rows;
}

// A passive 2D model, 300 steps on the shipped MD: small, but it reaches
// every basin of its training data.
class Seeding : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto f = runActivediff("featurize -q --features 2d -s " + kPdb + " -f " +
                                 (examplesDir() / "ala2" / "md" / "*.xtc").string() + " -o " + path("md"));
    ASSERT_EQ(f.exitCode, 0) << f.output;
    const auto t = runActivediff("train -q -d " + path("md") + " -o " + path("run") + " -c " +
                                 (examplesDir() / "configs" / "2d-passive.toml").string() +
                                 " --steps 300 --set training.validation_every=300 --set training.checkpoint_every=300");
    ASSERT_EQ(t.exitCode, 0) << t.output;
  }
  std::string path(const std::string& name) const { return (scratch_ / name).string(); }
  ScratchDirectory scratch_;
};

TEST_F(Seeding, HundredSeedsCoverEveryTrainingStateWithFiniteEnergiesThatOpenMMConfirms) {
  const auto s = runActivediff("seed -q -m " + path("run") + " --system " + kSystem + " -s " + kPdb +
                               " -n 100 --platform Reference -o " + path("seeds.trr"));
  ASSERT_EQ(s.exitCode, 0) << s.output;
  const json result = readJson(path("seeds.json"))["result"];
  const json& perSeed = result["per_seed"];
  ASSERT_EQ(perSeed.size(), 100u);

  // Every state of the training frames gets seeds, in equal shares (+- 1).
  const activediff::NpyArray features = activediff::readNpy(path("md") + "/features.npy");
  std::map<std::string, int> trainingFrames;
  for (std::int64_t i = 0; i < features.rows(); ++i)
    ++trainingFrames[activediff::stateName(
        activediff::classifyStateRad(features.float64[2 * i], features.float64[2 * i + 1]))];
  std::map<std::string, int> seedsPerState;
  for (const json& seed : perSeed) ++seedsPerState[seed["state"].get<std::string>()];
  int smallest = 100, largest = 0;
  for (const auto& [state, frames] : trainingFrames) {
    if (state == "other") continue;
    EXPECT_GT(seedsPerState[state], 0) << state << " has " << frames << " training frames but no seed";
    smallest = std::min(smallest, seedsPerState[state]);
    largest = std::max(largest, seedsPerState[state]);
  }
  EXPECT_LE(largest - smallest, 1) << result["seeds_per_state"].dump();
  EXPECT_EQ(seedsPerState["other"], 0);

  // The structures written (TRR: full single precision) are what the JSON
  // says: MDTraj's phi/psi, the state from them, and OpenMM Python's energy
  // of each (Reference platform).
  const auto dihedrals = runOracle("mdtraj_phi_psi.py", path("seeds.trr") + " " + kPdb);
  ASSERT_EQ(dihedrals.exitCode, 0) << dihedrals.output;
  const auto phiPsi = numbersPerLine(dihedrals.output);
  const auto energies = runOracle("openmm_energies.py", kSystem + " " + path("seeds.trr") + " " + kPdb);
  ASSERT_EQ(energies.exitCode, 0) << energies.output;
  const auto oracleEnergies = numbersPerLine(energies.output);
  ASSERT_EQ(phiPsi.size(), 100u);
  ASSERT_EQ(oracleEnergies.size(), 100u);
  for (std::size_t k = 0; k < 100; ++k) {
    const json& seed = perSeed[k];
    const double energy = seed["potential_energy_kj_per_mol"].get<double>();
    ASSERT_TRUE(std::isfinite(energy)) << "seed " << k;
    EXPECT_NEAR(phiPsi[k][0], seed["phi_deg"].get<double>(), 1e-3) << "seed " << k;
    EXPECT_NEAR(phiPsi[k][1], seed["psi_deg"].get<double>(), 1e-3) << "seed " << k;
    EXPECT_EQ(activediff::stateName(activediff::classifyStateDeg(phiPsi[k][0], phiPsi[k][1])),
              seed["state"].get<std::string>())
        << "seed " << k;
    EXPECT_NEAR(oracleEnergies[k][1], energy, 0.01 + 1e-5 * std::abs(energy)) << "seed " << k;
  }

  // --relax phi-psi: the same draws (same seed, the model's proportions),
  // minimized with phi/psi restrained: never higher in energy, phi/psi
  // within a few degrees.
  std::vector<json> seedSets;
  for (const std::string relax : {"none", "phi-psi"}) {
    const auto run = runActivediff("seed -q -m " + path("run") + " --system " + kSystem + " -s " + kPdb +
                                   " -n 20 --spread model --platform Reference --relax " + relax + " -o " +
                                   path("relax-" + relax + ".pdb"));
    ASSERT_EQ(run.exitCode, 0) << run.output;
    seedSets.push_back(readJson(path("relax-" + relax + ".json"))["result"]["per_seed"]);
    ASSERT_EQ(seedSets.back().size(), 20u);
  }
  const json& asDrawn = seedSets[0];
  const json& relaxedSeeds = seedSets[1];
  auto angleDifferenceDeg = [](double a, double b) { return std::remainder(a - b, 360.0); };
  double highest = -1e300;
  for (std::size_t k = 0; k < 20; ++k) {
    EXPECT_EQ(relaxedSeeds[k]["model_draw"], asDrawn[k]["model_draw"]);
    EXPECT_LE(relaxedSeeds[k]["potential_energy_kj_per_mol"].get<double>(),
              asDrawn[k]["potential_energy_kj_per_mol"].get<double>() + 1e-6);
    EXPECT_LT(std::abs(angleDifferenceDeg(relaxedSeeds[k]["phi_deg"], asDrawn[k]["phi_deg"])), 3.0) << k;
    EXPECT_LT(std::abs(angleDifferenceDeg(relaxedSeeds[k]["psi_deg"], asDrawn[k]["psi_deg"])), 3.0) << k;
    highest = std::max(highest, relaxedSeeds[k]["potential_energy_kj_per_mol"].get<double>());
  }
  // Relaxed seeds are MD-like: the shipped MD's energies stay below ~-50 kJ/mol.
  EXPECT_LT(highest, 0.0);

  // A template that is not the System's molecule is refused, naming the file.
  std::ifstream pdb(kPdb);
  std::ofstream cut(path("cut.pdb"));
  int atoms = 0;
  for (std::string line; std::getline(pdb, line);)
    if (line.rfind("ATOM", 0) != 0 || ++atoms < 22) cut << line << "\n";
  cut.close();
  const auto wrong = runActivediff("seed -q -m " + path("run") + " --system " + kSystem + " -s " + path("cut.pdb") +
                                   " -n 5 -o " + path("wrong.pdb"));
  EXPECT_NE(wrong.exitCode, 0);
  EXPECT_NE(wrong.output.find("cut.pdb"), std::string::npos) << wrong.output;
  EXPECT_NE(wrong.output.find("21 atoms"), std::string::npos) << wrong.output;
  EXPECT_FALSE(std::filesystem::exists(path("wrong.pdb")));
}

TEST_F(Seeding, SwarmReportRecomputesFromItsJson) {
  const std::string swarm = (sourceDir() / "workflows" / "swarm.py").string();
  const auto r = runCommand("ACTIVEDIFF=" + activediff::testing::activediffBinary() + " /usr/bin/python3 " + swarm +
                            " --model " + path("run") + " --runs 3 --length-ps 2 --frame-interval-ps 0.1 -j 2 --out " +
                            path("swarm") + " 2>&1");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const json doc = readJson(path("swarm") + "/swarm.json");
  ASSERT_TRUE(std::filesystem::exists(path("swarm") + "/report.md"));
  ASSERT_EQ(doc["runs"].size(), 6u);
  const double lengthPs = doc["config"]["length_ps"].get<double>();
  // Recomputed here, with featurize's own state definition (states.h).
  for (const std::string kind : {"swarm", "plain_md"}) {
    std::map<std::string, double> counts;
    double frames = 0, censoredSum = 0;
    int runs = 0, transitions = 0;
    std::set<std::string> starts;
    for (const json& run : doc["runs"]) {
      if (run["kind"] != kind) continue;
      ++runs;
      const std::string start = run["start_state"];
      starts.insert(start);
      double first = -1.0;
      for (const json& f : run["frames"]) {
        const std::string state =
            activediff::stateName(activediff::classifyStateDeg(f[1].get<double>(), f[2].get<double>()));
        counts[state] += 1;
        frames += 1;
        if (first < 0 && state != start && state != "other") first = f[0].get<double>();
      }
      EXPECT_EQ(run["frames"].size(), 20u);
      if (first >= 0) ++transitions;
      censoredSum += first >= 0 ? first : lengthPs;
    }
    const json& summary = doc["summary"][kind];
    EXPECT_EQ(summary["runs"].get<int>(), runs);
    EXPECT_EQ(summary["runs_with_a_transition"].get<int>(), transitions) << kind;
    EXPECT_NEAR(summary["mean_first_transition_ps_censored_at_length"].get<double>(), censoredSum / runs, 1e-9);
    for (const auto& [state, population] : summary["populations"].items())
      EXPECT_NEAR(population.get<double>(), counts[state] / frames, 1e-12) << kind << " " << state;
    if (kind == "swarm") {
      EXPECT_EQ(starts.size(), 3u) << "3 seeds spread over alphaR, beta and PPII";
    }
  }
  // The script's own recomputation from the JSON gives the same summary.
  const auto again = runCommand("/usr/bin/python3 " + swarm + " --report-from " + path("swarm") + "/swarm.json");
  ASSERT_EQ(again.exitCode, 0) << again.output;
  const json recomputed = json::parse(again.output.substr(again.output.find("\n{") + 1));
  EXPECT_EQ(recomputed, doc["summary"]);
}

}  // namespace
