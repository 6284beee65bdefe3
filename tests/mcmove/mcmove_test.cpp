// GenerativeMonteCarloMove (plugin/generative_monte_carlo_move.h) through
// OpenMM itself: models trained on the shipped MD, the shipped ala2 System.
#include <gtest/gtest.h>
#include <openmm/Context.h>
#include <openmm/CustomTorsionForce.h>
#include <openmm/HarmonicAngleForce.h>
#include <openmm/HarmonicBondForce.h>
#include <openmm/LocalEnergyMinimizer.h>
#include <openmm/LangevinIntegrator.h>
#include <openmm/NonbondedForce.h>
#include <openmm/OpenMMException.h>
#include <openmm/Platform.h>
#include <openmm/State.h>
#include <openmm/System.h>
#include <openmm/VerletIntegrator.h>
#include <openmm/serialization/XmlSerializer.h>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <random>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "activediff/featurize/featurizer.h"
#include "activediff/featurize/geometry.h"
#include "activediff/featurize/populations.h"
#include "activediff/model/generator.h"
#include "activediff/plugin/generative_monte_carlo_move.h"
#include "support/test_support.h"

namespace activediff {
namespace {

namespace fs = std::filesystem;
using plugin::GenerativeMonteCarloMove;
using testing::activediffBinary;
using testing::examplesDir;
using testing::runActivediff;
using testing::runCommand;
using testing::ScratchDirectory;
using testing::sourceDir;

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string kPdb = (examplesDir() / "ala2" / "ala2.pdb").string();
const std::string kSystem = (examplesDir() / "ala2" / "system.xml").string();

// ala2.pdb's coordinates, Angstrom -> nm as OpenMM's PDBFile converts them.
std::vector<OpenMM::Vec3> pdbPositionsNm() {
  std::istringstream pdbText(readFile(kPdb));
  std::vector<OpenMM::Vec3> positions;
  for (std::string line; std::getline(pdbText, line);)
    if (line.rfind("ATOM", 0) == 0 || line.rfind("HETATM", 0) == 0)
      positions.emplace_back(std::stod(line.substr(30, 8)) * 0.1, std::stod(line.substr(38, 8)) * 0.1,
                             std::stod(line.substr(46, 8)) * 0.1);
  return positions;
}

// Mean and batch-means standard error of a chain's series (24 batches).
std::pair<double, double> batchMeanAndError(const std::vector<double>& x) {
  const int batches = 24, size = int(x.size()) / batches;
  double mean = 0.0;
  for (double v : x) mean += v;
  mean /= double(x.size());
  double var = 0.0;
  for (int b = 0; b < batches; ++b) {
    double m = 0.0;
    for (int i = 0; i < size; ++i) m += x[b * size + i];
    var += (m / size - mean) * (m / size - mean);
  }
  return {mean, std::sqrt(var / (batches - 1) / batches)};
}

class McMove : public ::testing::Test {
 protected:
  // The models come from tests/mcmove/train_models.sh: once per ctest run
  // (fixture mcmove_models, ACTIVEDIFF_MCMOVE_MODELS names its directory), or
  // into this process's scratch directory when the binary runs on its own.
  static void SetUpTestSuite() {
    scratch_ = new ScratchDirectory();
    const char* shared = std::getenv("ACTIVEDIFF_MCMOVE_MODELS");
    if (shared && *shared && fs::exists(fs::path(shared) / ".activediff-mcmove-test-models")) {
      models_ = new fs::path(shared);
    } else {
      models_ = new fs::path(*scratch_ / "models");
      const auto t = runCommand((sourceDir() / "tests" / "mcmove" / "train_models.sh").string() + " " +
                                activediffBinary() + " " + examplesDir().string() + " " + models_->string() + " 2>&1");
      ASSERT_EQ(t.exitCode, 0) << t.output;
    }
    OpenMM::Platform::loadPluginsFromDirectory(OpenMM::Platform::getDefaultPluginsDirectory());
    OpenMM::Platform::loadPluginsFromDirectory(plugin::pluginDirectory());
  }
  // The move's XML for a model of this process trained 1,500 steps on the
  // shipped run1 (passive at 80 density steps, cheaper; active at the default).
  static std::string moveXml(const std::string& process) { return model("move-" + process + ".xml"); }
  // A file or directory of the shared models (train_models.sh).
  static std::string model(const std::string& name) { return (*models_ / name).string(); }
  static void TearDownTestSuite() {
    delete scratch_;
    scratch_ = nullptr;
    delete models_;
    models_ = nullptr;
  }
  static std::string path(const std::string& name) { return ((*scratch_) / name).string(); }
  static std::unique_ptr<OpenMM::System> ala2System() {
    std::istringstream text(readFile(kSystem));
    return std::unique_ptr<OpenMM::System>(OpenMM::XmlSerializer::deserialize<OpenMM::System>(text));
  }
  static GenerativeMonteCarloMove* moveFrom(const std::string& xmlFile) {
    std::istringstream text(readFile(xmlFile));
    return dynamic_cast<GenerativeMonteCarloMove*>(OpenMM::XmlSerializer::deserialize<OpenMM::Force>(text));
  }
  // The message of the OpenMMException a Context with `move` added to
  // `system` throws ("" if none).
  static std::string contextError(OpenMM::System& system, OpenMM::Force* move) {
    system.addForce(move);
    try {
      OpenMM::VerletIntegrator integrator(0.001);
      OpenMM::Context context(system, integrator, OpenMM::Platform::getPlatformByName("Reference"));
    } catch (const OpenMM::OpenMMException& e) {
      return e.what();
    }
    return "";
  }
  static ScratchDirectory* scratch_;
  static fs::path* models_;
};
ScratchDirectory* McMove::scratch_ = nullptr;
fs::path* McMove::models_ = nullptr;

TEST_F(McMove, PluginDirectoryLoadsWithoutFailuresOnReferenceAndCpu) {
  const auto dir = runActivediff("--plugin-dir");
  ASSERT_EQ(dir.exitCode, 0) << dir.output;
  const std::string printed = dir.output.substr(0, dir.output.find('\n'));
  EXPECT_EQ(fs::canonical(printed), fs::canonical(plugin::pluginDirectory()));
  EXPECT_TRUE(fs::exists(fs::path(printed) / "libactivediff_mcmove_reference.so"));
  EXPECT_TRUE(OpenMM::Platform::getPluginLoadFailures().empty());
  for (const char* platform : {"Reference", "CPU"}) {
    auto system = ala2System();
    system->addForce(moveFrom(moveXml("passive")));
    OpenMM::VerletIntegrator integrator(0.001);
    EXPECT_NO_THROW(OpenMM::Context(*system, integrator, OpenMM::Platform::getPlatformByName(platform))) << platform;
  }
}

TEST_F(McMove, XmlRoundTripIsByteIdenticalAndNewerVersionsAreRefused) {
  const std::string original = readFile(moveXml("passive"));
  std::unique_ptr<GenerativeMonteCarloMove> move(moveFrom(moveXml("passive")));
  ASSERT_NE(move, nullptr) << "the XML does not deserialize to a GenerativeMonteCarloMove";
  std::ostringstream again;
  OpenMM::XmlSerializer::serialize<OpenMM::Force>(move.get(), "Force", again);
  EXPECT_EQ(again.str(), original);
  EXPECT_EQ(original.find("<Force "), original.find('<', original.find("?>") + 2)) << "the root element must be Force";

  std::string newer = original;
  newer.replace(newer.find("version=\"2\""), 11, "version=\"3\"");
  std::istringstream text(newer);
  try {
    delete OpenMM::XmlSerializer::deserialize<OpenMM::Force>(text);
    ADD_FAILURE() << "a version-3 move was read";
  } catch (const OpenMM::OpenMMException& e) {
    EXPECT_NE(std::string(e.what()).find("version 3"), std::string::npos) << e.what();
  }
}

TEST_F(McMove, WrongSystemsAndCheckpointsAreOpenMMExceptionsSayingWhy) {
  const std::string moveFile = moveXml("passive");
  const std::string checkpoint = readFile(fs::path(model("run-passive")) / "checkpoint.adck");
  const std::vector<int> atoms = std::unique_ptr<GenerativeMonteCarloMove>(moveFrom(moveFile))->getFeatureAtoms();
  {  // another molecule: too few particles
    OpenMM::System small;
    for (int i = 0; i < 8; ++i) small.addParticle(12.0);
    EXPECT_NE(contextError(small, new GenerativeMonteCarloMove(checkpoint, atoms, 10, 300.0)).find("beyond the System"),
              std::string::npos);
  }
  {  // the right size, the wrong atoms (shifted by one: masses or bonds disagree)
    auto system = ala2System();
    std::vector<int> shifted = atoms;
    for (int& a : shifted) a += 1;
    const std::string e = contextError(*system, new GenerativeMonteCarloMove(checkpoint, shifted, 10, 300.0));
    EXPECT_TRUE(e.find("mass") != std::string::npos || e.find("not bonded") != std::string::npos) << e;
  }
  {  // a damaged checkpoint
    auto system = ala2System();
    std::string damaged = checkpoint;
    damaged.resize(damaged.size() / 2);
    const std::string e = contextError(*system, new GenerativeMonteCarloMove(damaged, atoms, 10, 300.0));
    EXPECT_NE(e.find("embedded checkpoint"), std::string::npos) << e;
  }
  {  // a periodic System
    auto system = ala2System();
    system->setDefaultPeriodicBoxVectors({3, 0, 0}, {0, 3, 0}, {0, 0, 3});
    auto* nonbonded = new OpenMM::NonbondedForce();
    nonbonded->setNonbondedMethod(OpenMM::NonbondedForce::CutoffPeriodic);
    for (int i = 0; i < system->getNumParticles(); ++i) nonbonded->addParticle(0.0, 0.3, 0.0);
    system->addForce(nonbonded);
    const std::string e = contextError(*system, new GenerativeMonteCarloMove(checkpoint, atoms, 10, 300.0));
    EXPECT_NE(e.find("periodic"), std::string::npos) << e;
  }
  {  // a 25D checkpoint given the 2D move's five atoms; with its own eleven on a
     // System that constrains a bond it moves (CA-C)
    const std::string checkpoint25 = readFile(fs::path(model("run-synthetic25")) / "checkpoint.adck");
    auto system = ala2System();
    std::string e = contextError(*system, new GenerativeMonteCarloMove(checkpoint25, atoms, 10, 300.0));
    EXPECT_NE(e.find("needs 11"), std::string::npos) << e;
    const Structure ala2 = readStructure(kPdb);
    const std::vector<int> rows = Featurizer(FeatureSet::ZMatrix25D, ala2, kPdb).zmatrix()->rowAtoms();
    auto constrained = ala2System();
    constrained->addConstraint(rows[3], rows[4], 0.152);
    e = contextError(*constrained, new GenerativeMonteCarloMove(checkpoint25, rows, 10, 300.0));
    EXPECT_NE(e.find("constrains atoms"), std::string::npos) << e;
    auto fine = ala2System();  // the shipped System (HBonds) takes the 25D move
    EXPECT_EQ(contextError(*fine, new GenerativeMonteCarloMove(checkpoint25, rows, 10, 300.0)), "");
  }
  // The command refuses what the Force would: a missing model.
  const auto missing = runActivediff("mcmove -m " + path("nothing-here") + " -s " + kPdb + " -o " + path("x.xml"));
  EXPECT_NE(missing.exitCode, 0);
  EXPECT_NE(missing.output.find("nothing-here"), std::string::npos) << missing.output;
  EXPECT_FALSE(fs::exists(path("x.xml")));
}

// The Python route (OpenMM's own Python layer, no binding) and the C++ example
// run the same protocol: N / k attempts, some accepted, a jump of phi or psi
// by more than 90 degrees at an accepted move (alphaR <-> beta/PPII is a psi
// jump of ~130-180 degrees; phi differs by < 90 between the 300 K basins), and
// the same trajectory for the same seed.
TEST_F(McMove, PythonRouteCountsMovesAndMatchesTheCppExample) {
  const std::string args = " --move " + moveXml("passive") + " --steps 600 --interval 20 --seed 11 --json ";
  const auto py = runCommand(std::string(ACTIVEDIFF_PYTHON) + " " +
                             (examplesDir() / "openmm-move" / "run_move.py").string() + " --plugin-dir " +
                             plugin::pluginDirectory() + args + path("py.json") + " 2>&1");
  ASSERT_EQ(py.exitCode, 0) << py.output;
  const auto cpp = runCommand(std::string(ACTIVEDIFF_RUN_MOVE) + args + path("cpp.json") + " 2>&1");
  ASSERT_EQ(cpp.exitCode, 0) << cpp.output;
  const auto a = nlohmann::json::parse(readFile(path("py.json")))["with_move"];
  const auto b = nlohmann::json::parse(readFile(path("cpp.json")))["with_move"];
  EXPECT_EQ(a["attempted"].get<double>(), 600.0 / 20.0);
  EXPECT_GT(a["accepted"].get<double>(), 0.0) << py.output;
  EXPECT_LT(a["accepted"].get<double>(), a["attempted"].get<double>());
  EXPECT_GE(a["torsion_jumps_over_90_deg_at_accepted_moves"].get<int>(), 1) << py.output;
  EXPECT_EQ(a["accepted"], b["accepted"]);
  const auto& pa = a["positions_nm"];
  const auto& pb = b["positions_nm"];
  ASSERT_EQ(pa.size(), pb.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < pa.size(); ++i)
    for (int k = 0; k < 3; ++k) worst = std::max(worst, std::abs(pa[i][k].get<double>() - pb[i][k].get<double>()));
  EXPECT_LT(worst, 1e-9) << "Python and C++ trajectories differ by " << worst << " nm";

  // Again into the same JSON, beside plain MD: both examples keep the first
  // result as #name.1# (the output policy), and their speedup recomputes
  // from the two runs they report.
  for (const std::string& name : {std::string("py.json"), std::string("cpp.json")}) {
    const std::string first = readFile(path(name));
    const std::string command =
        name == "py.json" ? std::string(ACTIVEDIFF_PYTHON) + " " + (examplesDir() / "openmm-move" / "run_move.py").string() +
                                " --plugin-dir " + plugin::pluginDirectory()
                          : std::string(ACTIVEDIFF_RUN_MOVE);
    const auto again = runCommand(command + args + path(name) + " --plain-md 2>&1");
    ASSERT_EQ(again.exitCode, 0) << again.output;
    EXPECT_EQ(readFile(path("#" + name + ".1#")), first) << name << ": the earlier result was not kept";
    const auto out = nlohmann::json::parse(readFile(path(name)));
    const double wallMove = out["with_move"]["wall_s"].get<double>(), wallPlain = out["plain_md"]["wall_s"].get<double>();
    EXPECT_GT(wallMove, 0.0) << name;
    EXPECT_GT(wallPlain, 0.0) << name;
    EXPECT_NEAR(out["speedup"]["wall_ratio"].get<double>(), wallMove / wallPlain, 1e-12 * wallMove / wallPlain) << name;
    const auto& tauMove = out["with_move"]["alphaR_tau_int_ps"];
    const auto& tauPlain = out["plain_md"]["alphaR_tau_int_ps"];
    if (tauMove.is_null() || tauPlain.is_null()) {
      EXPECT_TRUE(out["speedup"]["independent_samples_per_wall_s_ratio"].is_null()) << name;
    } else {
      const double tauRatio = tauPlain.get<double>() / tauMove.get<double>();
      EXPECT_NEAR(out["speedup"]["tau_int_ratio"].get<double>(), tauRatio, 1e-12 * tauRatio) << name;
      EXPECT_NEAR(out["speedup"]["independent_samples_per_wall_s_ratio"].get<double>(),
                  tauRatio * wallPlain / wallMove, 1e-9 * tauRatio) << name;
    }
    EXPECT_NE(again.output.find("wall: with the move"), std::string::npos) << again.output;
  }
  const auto pyPlain = nlohmann::json::parse(readFile(path("py.json")))["plain_md"];
  const auto cppPlain = nlohmann::json::parse(readFile(path("cpp.json")))["plain_md"];
  EXPECT_EQ(pyPlain["phi_psi_deg"].size(), cppPlain["phi_psi_deg"].size());
  EXPECT_EQ(pyPlain["alphaR_tau_int_ps"].is_null(), cppPlain["alphaR_tau_int_ps"].is_null());
  if (!pyPlain["alphaR_tau_int_ps"].is_null())
    EXPECT_NEAR(pyPlain["alphaR_tau_int_ps"].get<double>(), cppPlain["alphaR_tau_int_ps"].get<double>(), 1e-9)
        << "the two examples' tau_int disagree";
}

// The move's randomness comes from the step count: a run resumed from an
// OpenMM checkpoint makes the same moves as the uninterrupted run.
TEST_F(McMove, ResumedRunMakesTheSameMoves) {
  auto run = [&](bool resume) {
    auto system = ala2System();
    GenerativeMonteCarloMove* move = moveFrom(moveXml("active"));  // two channels: aux refreshed too
    system->addForce(move);
    OpenMM::LangevinIntegrator integrator(300.0, 1.0, 0.002);
    integrator.setRandomNumberSeed(5);
    OpenMM::Context context(*system, integrator, OpenMM::Platform::getPlatformByName("Reference"));
    context.setPositions(pdbPositionsNm());
    context.setVelocitiesToTemperature(300.0, 5);
    integrator.step(200);
    if (resume) {
      std::stringstream checkpoint;
      context.createCheckpoint(checkpoint);
      OpenMM::LangevinIntegrator fresh(300.0, 1.0, 0.002);
      fresh.setRandomNumberSeed(5);
      OpenMM::Context second(*system, fresh, OpenMM::Platform::getPlatformByName("Reference"));
      second.loadCheckpoint(checkpoint);
      fresh.step(200);
      return std::make_pair(second.getState(OpenMM::State::Positions).getPositions(),
                            second.getParameter(GenerativeMonteCarloMove::MovesAccepted()));
    }
    integrator.step(200);
    return std::make_pair(context.getState(OpenMM::State::Positions).getPositions(),
                          context.getParameter(GenerativeMonteCarloMove::MovesAccepted()));
  };
  const auto straight = run(false);
  const auto resumed = run(true);
  EXPECT_GT(straight.second, 0.0);
  EXPECT_EQ(straight.second, resumed.second);
  double worst = 0.0;
  for (std::size_t i = 0; i < straight.first.size(); ++i)
    for (int k = 0; k < 3; ++k) worst = std::max(worst, std::abs(straight.first[i][k] - resumed.first[i][k]));
  EXPECT_LT(worst, 1e-12);
}

// What "exact" rests on (docs): the proposal's log-density (integrated while
// sampling, prior -> t_eps) and the current state's (integrated t_eps -> T)
// are two discretizations of the same flow; at the move's density steps they
// agree to < 1e-3 nats for the states the move proposes (measured, max over
// 64: passive 3.4e-4 at 40 RK4 steps without preconditioning; 1.03e-3 at 40,
// 5.4e-4 at 60 and 2.4e-4 at 80 with it, the shipped recipe (the fixture
// uses 80: at 60 mcmove's own 32 proposals reach 9.9e-4); active 0.071 at 40, 8.0e-4
// at 100, 2.6e-5 at 200; with preconditioning 0.071 / 2.3e-3 / 3.1e-4 at
// 40 / 80 / 120). The active fixture leaves --density-steps at auto.
TEST_F(McMove, LogDensityRoundTripAgreesWithinAThousandthOfANat) {
  {  // too few density steps: mcmove warns and records the bound as broken
     // (active at 40 steps: ~0.07 nats)
    const auto coarse = runActivediff("mcmove -q -m " + model("run-active") + " -s " + kPdb +
                                      " --density-steps 40 -o " + path("coarse.xml"));
    ASSERT_EQ(coarse.exitCode, 0) << coarse.output;
    EXPECT_NE(coarse.output.find("raise --density-steps"), std::string::npos) << coarse.output;
    const nlohmann::json j = nlohmann::json::parse(readFile(path("coarse.json")));
    EXPECT_FALSE(j["move"]["density_round_trip"]["within_bound"].get<bool>());
    EXPECT_GT(j["move"]["density_round_trip"]["max_nats"].get<double>(), 1e-3);
  }
  {  // --density-steps is auto or an integer >= 4; anything else is an error
     // before anything is written
    for (const char* bad : {"3", "abc", "80x"}) {
      const auto r = runActivediff("mcmove -q -m " + model("run-active") + " -s " + kPdb + " --density-steps " +
                                   bad + " -o " + path("bad.xml"));
      EXPECT_NE(r.exitCode, 0) << bad;
      EXPECT_NE(r.output.find("--density-steps"), std::string::npos) << r.output;
      EXPECT_FALSE(fs::exists(path("bad.xml"))) << bad;
    }
  }
  {  // The active fixture's move left the steps at auto: the cheapest rung of
     // the ladder within half the bound, every cheaper rung tried and over it.
    const nlohmann::json trip =
        nlohmann::json::parse(readFile(model("move-active.json")))["move"]["density_round_trip"];
    EXPECT_EQ(trip["chosen_by"].get<std::string>(), "auto");
    const nlohmann::json& tried = trip["tried"];
    ASSERT_GE(tried.size(), 1u);
    for (std::size_t i = 0; i + 1 < tried.size(); ++i) {
      EXPECT_GE(tried[i]["max_nats"].get<double>(), 0.5e-3) << tried.dump();
      EXPECT_LT(tried[i]["density_steps"].get<int>(), tried[i + 1]["density_steps"].get<int>()) << tried.dump();
    }
    EXPECT_LT(tried.back()["max_nats"].get<double>(), 0.5e-3) << tried.dump();
    EXPECT_EQ(trip["density_steps"].get<int>(), tried.back()["density_steps"].get<int>());
    EXPECT_EQ(nlohmann::json::parse(readFile(model("move-passive.json")))["move"]["density_round_trip"]["chosen_by"]
                  .get<std::string>(),
              "--density-steps");
  }
  for (const char* process : {"passive", "active"}) {
    const int steps = std::unique_ptr<GenerativeMonteCarloMove>(moveFrom(moveXml(process)))->getDensitySteps();
    const fs::path checkpoint(model(std::string("run-") + process));
    model::Generator generator(checkpoint);
    const model::GeneratedSamples s = generator.sampleWithLogDensity(64, 3, steps);
    const Eigen::ArrayXd back = generator.logDensityOfStates(s.z, steps);
    EXPECT_LT((back - s.logDensity).abs().maxCoeff(), 1e-3) << process << " at " << steps << " steps";
    // `mcmove` measures the same round trip on the move's own (Eigen) path
    // and records it in the JSON beside the XML.
    const nlohmann::json written = nlohmann::json::parse(readFile(model(std::string("move-") + process + ".json")));
    EXPECT_TRUE(written["move"]["density_round_trip"]["within_bound"].get<bool>()) << process;
    EXPECT_EQ(written["move"]["density_round_trip"]["density_steps"].get<int>(), steps) << process;
    if (std::string(process) != "passive") continue;
    // The grid matters: the same steps spaced uniformly in t leave the round
    // trip far outside the bound (bench/density_grid_bench: mean 0.14 nats at
    // 40 steps against 1.2e-4 dense near t_eps).
    model::GeneratorOptions uniform;
    uniform.densityGrid = model::TimeGrid::Uniform;
    model::Generator uniformGenerator(checkpoint, uniform);
    const model::GeneratedSamples u = uniformGenerator.sampleWithLogDensity(64, 3, steps);
    EXPECT_GT((uniformGenerator.logDensityOfStates(u.z, steps) - u.logDensity).abs().maxCoeff(), 1e-2);
  }
}

}  // namespace
}  // namespace activediff

namespace activediff {
namespace {

// Von Mises draw (Best and Fisher 1979).
double vonMises(double mean, double kappa, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double a = 1.0 + std::sqrt(1.0 + 4.0 * kappa * kappa), b = (a - std::sqrt(2.0 * a)) / (2.0 * kappa);
  const double r = (1.0 + b * b) / (2.0 * b);
  for (;;) {
    const double z = std::cos(M_PI * u(rng)), f = (1.0 + r * z) / (r + z), c = kappa * (r - f);
    const double u2 = u(rng);
    if (c * (2.0 - c) - u2 > 0.0 || std::log(c / u2) + 1.0 - c >= 0.0)
      return std::remainder(mean + (u(rng) < 0.5 ? -1.0 : 1.0) * std::acos(f), 2.0 * M_PI);
  }
}

// The discriminating exactness test (issue 10): ala2 with harmonic bonds and
// angles only plus a CustomTorsionForce whose phi has two basins 80 degrees
// apart behind a barrier of ~23 kT (von Mises mixture, kappa 100: weights
// 0.3 at -150 and 0.7 at -70 degrees) and psi one basin at 150 degrees. The
// exact phi/psi law is that mixture (no other term depends on the torsions),
// so MD alone never crosses and the move must get the basin weights right
// from a model trained on the shipped MD, i.e. on a different distribution.
TEST_F(McMove, MoveReproducesAClosedFormTorsionLawThatMdCannotCross) {
  constexpr double kTemperatureK = 300.0, kKappa = 100.0;
  const double kT = 0.00831446261815324 * kTemperatureK;
  const double deg = M_PI / 180.0;
  const double phiMean[2] = {-150 * deg, -70 * deg}, phiWeight[2] = {0.3, 0.7}, psiMean = 150 * deg;
  auto logTarget = [&](double phi, double psi) {  // unnormalized, in kT
    return std::log(phiWeight[0] * std::exp(kKappa * (std::cos(phi - phiMean[0]) - 1.0)) +
                    phiWeight[1] * std::exp(kKappa * (std::cos(phi - phiMean[1]) - 1.0))) +
           kKappa * (std::cos(psi - psiMean) - 1.0);
  };
  const std::string xml = moveXml("passive");
  const std::vector<int> atoms = std::unique_ptr<GenerativeMonteCarloMove>(moveFrom(xml))->getFeatureAtoms();
  // The proposal: run-biased (train_models.sh), a passive model trained on the
  // shipped MD reweighted towards beta, so that q favours the -150 basin ~6x
  // more than pi does; without q in the ratio (the control) the chain would
  // over-populate that basin.
  const std::string checkpoint = readFile(fs::path(model("run-biased")) / "checkpoint.adck");

  auto makeSystem = [&](bool withMove, bool omitProposal) {
    auto system = ala2System();
    for (int i = system->getNumForces() - 1; i >= 0; --i) {
      const OpenMM::Force& f = system->getForce(i);
      if (!dynamic_cast<const OpenMM::HarmonicBondForce*>(&f) && !dynamic_cast<const OpenMM::HarmonicAngleForce*>(&f))
        system->removeForce(i);
    }
    auto* torsions = new OpenMM::CustomTorsionForce(
        "-kT*log(w1*exp(kappa*(cos(theta-m1)-1)) + w2*exp(kappa*(cos(theta-m2)-1)))");
    torsions->addGlobalParameter("kT", kT);
    torsions->addGlobalParameter("kappa", kKappa);
    for (const char* p : {"m1", "m2", "w1", "w2"}) torsions->addPerTorsionParameter(p);
    torsions->addTorsion(atoms[0], atoms[1], atoms[2], atoms[3], {phiMean[0], phiMean[1], phiWeight[0], phiWeight[1]});
    torsions->addTorsion(atoms[1], atoms[2], atoms[3], atoms[4], {psiMean, psiMean, 0.5, 0.5});
    system->addForce(torsions);
    if (withMove) {
      auto* move = new GenerativeMonteCarloMove(checkpoint, atoms, 5, kTemperatureK, 3);
      move->setDensitySteps(24);
      move->setOmitProposalDensityForTesting(omitProposal);
      system->addForce(move);
    }
    return system;
  };
  struct Chain {
    std::vector<double> basin, accepted;  // per attempt: phi in the -150 basin; accepted (0/1)
  };
  auto runChain = [&](bool withMove, bool omitProposal, int attempts) {
    auto system = makeSystem(withMove, omitProposal);
    OpenMM::LangevinIntegrator integrator(kTemperatureK, 1.0, 0.002);
    integrator.setRandomNumberSeed(21);
    OpenMM::Context context(*system, integrator, OpenMM::Platform::getPlatformByName("Reference"));
    context.setPositions(pdbPositionsNm());
    OpenMM::LocalEnergyMinimizer::minimize(context, 1.0, 200);
    context.setVelocitiesToTemperature(kTemperatureK, 21);
    Chain chain;
    double before = 0.0;
    for (int i = 0; i < attempts; ++i) {
      integrator.step(5);
      const auto p = context.getState(OpenMM::State::Positions).getPositions();
      auto e = [&](int k) { return Eigen::Vector3d(p[k][0], p[k][1], p[k][2]); };
      const double phi = dihedralRad(e(atoms[0]), e(atoms[1]), e(atoms[2]), e(atoms[3]));
      chain.basin.push_back(phi < -110 * deg ? 1.0 : 0.0);
      if (withMove) {
        const double now = context.getParameter(GenerativeMonteCarloMove::MovesAccepted());
        chain.accepted.push_back(now - before);
        before = now;
      }
    }
    return chain;
  };

  const Chain exact = runChain(true, false, 2000);
  const auto [p1, se1] = batchMeanAndError(exact.basin);
  EXPECT_LT(std::abs(p1 - phiWeight[0]), 4.0 * se1 + 0.01) << "basin weight " << p1 << " +- " << se1;
  EXPECT_LT(se1, 0.06) << "too few crossings to discriminate";

  // Predicted acceptance E[min(1, w'/w)], w = pi / q, x ~ pi (closed form), x' ~ q.
  model::Generator generator(fs::path(model("run-biased")));
  const int n = 3000;
  std::mt19937_64 rng(5);
  Eigen::ArrayXXd current(n, 2);
  for (int i = 0; i < n; ++i) {
    current(i, 0) = vonMises(std::uniform_real_distribution<double>(0, 1)(rng) < phiWeight[0] ? phiMean[0] : phiMean[1],
                             kKappa, rng);
    current(i, 1) = vonMises(psiMean, kKappa, rng);
  }
  const Eigen::ArrayXd logQCurrent = generator.logDensityOfStates(generator.features().toModel(current), 24);
  const model::GeneratedSamples proposal = generator.sampleWithLogDensity(n, 17, 24);
  const model::FeatureSpec& spec = generator.features();
  std::vector<double> acceptance(n);
  for (int i = 0; i < n; ++i) {
    bool inChart = true;
    for (int d = 0; d < 2; ++d) {
      const double u = spec.mean(d) + spec.stddev(d) * proposal.z(i, d);
      inChart = inChart && u >= spec.branchCutsRad[d] && u < spec.branchCutsRad[d] + 2 * M_PI;
    }
    const double logW = logTarget(current(i, 0), current(i, 1)) - logQCurrent(i);
    const double logWNew = logTarget(proposal.features(i, 0), proposal.features(i, 1)) - proposal.logDensity(i);
    acceptance[i] = inChart ? std::min(1.0, std::exp(logWNew - logW)) : 0.0;
  }
  const auto [predicted, sePredicted] = batchMeanAndError(acceptance);
  const auto [measured, seMeasured] = batchMeanAndError(exact.accepted);
  EXPECT_LT(std::abs(measured - predicted), 4.0 * std::hypot(seMeasured, sePredicted) + 0.005)
      << "acceptance " << measured << " +- " << seMeasured << ", predicted " << predicted << " +- " << sePredicted;
  EXPECT_GT(measured, 0.02);

  // Negative control: without q in the ratio the chain samples pi q, not pi
  // (basin weight ~0.7). 600 attempts gave 5.3 and 4.5 sigma for two network
  // arithmetics (float64, float32) that are both exact: too few to be sure of 5.
  const Chain biasedChain = runChain(true, true, 2000);
  const auto [p1Biased, seBiased] = batchMeanAndError(biasedChain.basin);
  EXPECT_GT(std::abs(p1Biased - phiWeight[0]), 5.0 * seBiased)
      << "the control without q gave " << p1Biased << " +- " << seBiased << ": the test does not discriminate";

  // Plain MD never leaves its basin; with the move the indicator decorrelates.
  const Chain plain = runChain(false, false, 600);
  auto crossings = [](const std::vector<double>& x) {
    int c = 0;
    for (std::size_t i = 1; i < x.size(); ++i) c += x[i] != x[i - 1];
    return c;
  };
  EXPECT_EQ(crossings(plain.basin), 0);
  EXPECT_GE(crossings(exact.basin), 20);
  // tau_int of the basin indicator (featurize/populations.h), in attempts; a
  // series that never changes has not decorrelated within its length.
  auto tauInt = [&](const std::vector<double>& x) {
    return crossings(x) == 0 ? double(x.size()) : integratedAutocorrelationTime(x);
  };
  const double tauMove = tauInt(exact.basin), tauPlain = tauInt(plain.basin);
  EXPECT_LT(10.0 * tauMove, tauPlain) << "tau_int with the move " << tauMove << ", plain MD " << tauPlain;
  std::cout << "basin weight " << p1 << " +- " << se1 << " (exact " << phiWeight[0] << "), control " << p1Biased
            << " +- " << seBiased << ", acceptance " << measured << " +- " << seMeasured << " (predicted " << predicted
            << " +- " << sePredicted << "), crossings with move " << crossings(exact.basin) << ", plain MD "
            << crossings(plain.basin) << ", tau_int(basin) " << tauMove << " attempts with the move, >= " << tauPlain
            << " without\n";
}

// The 25D move's exactness, its volume element included (issue 10, Build 1):
// a System whose only energy terms are one per Z-matrix coordinate -- a
// harmonic bond or angle, or a von Mises torsion (target25.json,
// train_models.sh) -- so that its Boltzmann law in internal coordinates is
// the product of 1D laws times b^2 sin(theta) for every feature bond and
// angle (MATH.md 4b). The chain is the move alone (an integrator that only
// updates the Context state), proposing from a 25D model trained on a
// shifted, widened law. Its feature means must match the closed form by
// quadrature; without the volume element (the negative control) the soft
// bonds' means fall by ~2 w^2 / b0, ~0.17 of their width.
TEST_F(McMove, ZMatrixMoveReproducesAClosedFormLawWithItsVolumeElement) {
  const nlohmann::json law = nlohmann::json::parse(readFile(fs::path(model("synthetic25")) / "target25.json"));
  const double temperatureK = law["temperature_K"].get<double>();
  const double kT = 0.00831446261815324 * temperatureK;
  const std::string checkpoint = readFile(fs::path(model("run-synthetic25")) / "checkpoint.adck");
  const Structure ala2 = readStructure(kPdb);
  const Featurizer featurizer(FeatureSet::ZMatrix25D, ala2, kPdb);
  const ZMatrix& zmatrix = *featurizer.zmatrix();
  ASSERT_EQ(law["features"].size(), 25u);
  auto centre = [&](int d) { return law["features"][d]["centre"].get<double>(); };
  auto width = [&](int d) { return law["features"][d].value("width", 0.0); };
  auto kappa = [&](int d) { return law["features"][d].value("kappa", 0.0); };
  auto isTorsion = [&](int d) { return law["features"][d]["kind"] == "torsion"; };

  // The closed form: E[b] under b^2 N(c, w), E[theta] under sin(theta) N(c, w)
  // on (0, pi), E[cos(tau - c)] under von Mises -- by quadrature -- and E[b]
  // without the factor, what the control should drift towards.
  auto expectation = [&](int d, bool withVolume) {
    const FeatureKind kind = zmatrix.features()[d].kind;
    double lo, hi;
    if (kind == FeatureKind::TorsionRad) lo = -M_PI, hi = M_PI;
    else lo = std::max(centre(d) - 9 * width(d), 0.0), hi = centre(d) + 9 * width(d);
    if (kind == FeatureKind::AngleRad) hi = std::min(hi, M_PI);
    double mass = 0.0, first = 0.0;
    const int n = 20000;
    for (int i = 0; i <= n; ++i) {
      const double x = lo + (hi - lo) * i / n, trapezoid = (i == 0 || i == n) ? 0.5 : 1.0;
      double density, value = x;
      if (kind == FeatureKind::TorsionRad) {
        density = std::exp(kappa(d) * std::cos(x - centre(d)));
        value = std::cos(x - centre(d));
      } else {
        density = std::exp(-0.5 * std::pow((x - centre(d)) / width(d), 2));
        if (withVolume) density *= kind == FeatureKind::BondNm ? x * x : std::sin(x);
      }
      mass += trapezoid * density;
      first += trapezoid * density * value;
    }
    return first / mass;
  };
  auto statistic = [&](int d, double feature) {
    return isTorsion(d) ? std::cos(feature - centre(d)) : feature;
  };

  auto makeSystem = [&](bool omitVolume) {
    auto template_ = ala2System();
    auto system = std::make_unique<OpenMM::System>();
    for (int i = 0; i < template_->getNumParticles(); ++i) system->addParticle(template_->getParticleMass(i));
    // ala2's bond graph (its bonds and constraints) at zero force constant:
    // no energy, but the move finds the atoms it carries from it.
    auto* graph = new OpenMM::HarmonicBondForce();
    for (int c = 0; c < template_->getNumConstraints(); ++c) {
      int i = 0, j = 0;
      double d = 0.0;
      template_->getConstraintParameters(c, i, j, d);
      graph->addBond(i, j, d, 0.0);
    }
    for (int f = 0; f < template_->getNumForces(); ++f)
      if (const auto* b = dynamic_cast<const OpenMM::HarmonicBondForce*>(&template_->getForce(f)))
        for (int k = 0; k < b->getNumBonds(); ++k) {
          int i = 0, j = 0;
          double r0 = 0.0, force = 0.0;
          b->getBondParameters(k, i, j, r0, force);
          graph->addBond(i, j, r0, 0.0);
        }
    system->addForce(graph);
    auto* bonds = new OpenMM::HarmonicBondForce();
    auto* angles = new OpenMM::HarmonicAngleForce();
    auto* torsions = new OpenMM::CustomTorsionForce("-kappa_kT*cos(theta-centre)");
    torsions->addPerTorsionParameter("kappa_kT");
    torsions->addPerTorsionParameter("centre");
    for (const ZMatrix::Row& row : zmatrix.rows()) {
      if (row.bondFeature >= 0) {
        const int d = row.bondFeature;
        bonds->addBond(row.atom, row.bondTo, centre(d), kT / (width(d) * width(d)));
      }
      if (row.angleFeature >= 0) {
        const int d = row.angleFeature;
        angles->addAngle(row.atom, row.bondTo, row.angleTo, centre(d), kT / (width(d) * width(d)));
      }
      if (row.torsionFeature >= 0) {
        const int d = row.torsionFeature;
        torsions->addTorsion(row.torsionTo, row.angleTo, row.bondTo, row.atom, {kappa(d) * kT, centre(d)});
      }
    }
    system->addForce(bonds);
    system->addForce(angles);
    system->addForce(torsions);
    auto* move = new GenerativeMonteCarloMove(checkpoint, zmatrix.rowAtoms(), 1, temperatureK, 5);
    move->setDensitySteps(8);
    move->setOmitVolumeElementForTesting(omitVolume);
    system->addForce(move);
    return system;
  };
  struct Chain {
    std::vector<std::vector<double>> series = std::vector<std::vector<double>>(25);
    double acceptance = 0.0, energyCheck = 0.0;  // acceptance after burn-in
    int burnIn = 0;                               // attempts until 10 accepted
  };
  auto runChain = [&](bool omitVolume, int attempts) {
    auto system = makeSystem(omitVolume);
    // The move alone: 1e-12 ps steps between attempts move nothing (a
    // CustomIntegrator would do the same, but OpenMM 7.7's restores Context
    // parameters it saw before the step, the move's counters included).
    OpenMM::VerletIntegrator integrator(1e-12);
    OpenMM::Context context(*system, integrator, OpenMM::Platform::getPlatformByName("Reference"));
    context.setPositions(pdbPositionsNm());
    Chain chain;
    {  // the System's energy is the sum of the 1D terms (OpenMM's torsion sign is featurize's)
      std::vector<double> f(25);
      zmatrix.featurize(ala2.positionsNm, f.data());
      double expected = 0.0;
      for (int d = 0; d < 25; ++d)
        expected += isTorsion(d) ? -kappa(d) * kT * std::cos(f[d] - centre(d))
                                 : 0.5 * kT * std::pow((f[d] - centre(d)) / width(d), 2);
      chain.energyCheck = context.getState(OpenMM::State::Energy).getPotentialEnergy() - expected;
    }
    // Burn-in: until 10 moves have been accepted. The chain starts from the
    // PDB structure, which lies in the tails of both the target and the
    // proposal: an independence sampler can hold such a state for hundreds
    // of attempts (with the preconditioned passive recipe, none of the first
    // 50 accepted, and a fixed 50-attempt burn-in biased every feature's mean
    // by 1-4 standard errors in the same direction).
    int burnIn = 0;
    while (context.getParameter(GenerativeMonteCarloMove::MovesAccepted()) < 10) {
      integrator.step(1);
      ++burnIn;
      if (burnIn >= 2000) {
        ADD_FAILURE() << "the 25D move accepted fewer than 10 of 2,000 attempts";
        return chain;
      }
    }
    chain.burnIn = burnIn;
    const double acceptedInBurnIn = context.getParameter(GenerativeMonteCarloMove::MovesAccepted());
    PositionsNm positions(22, 3);
    std::vector<double> f(25);
    for (int i = 0; i < attempts; ++i) {
      integrator.step(1);
      const auto p = context.getState(OpenMM::State::Positions).getPositions();
      for (int a = 0; a < 22; ++a) positions.row(a) << p[a][0], p[a][1], p[a][2];
      zmatrix.featurize(positions, f.data());
      for (int d = 0; d < 25; ++d) chain.series[d].push_back(statistic(d, f[d]));
    }
    chain.acceptance = (context.getParameter(GenerativeMonteCarloMove::MovesAccepted()) - acceptedInBurnIn) / attempts;
    EXPECT_EQ(context.getParameter(GenerativeMonteCarloMove::MovesAttempted()), double(burnIn + attempts));
    return chain;
  };
  // z of each feature's mean against the closed form; S: the bonds' z summed
  // over sqrt(9), the control's statistic.
  auto zScores = [&](const Chain& chain, double& bondStatistic) {
    std::vector<double> z(25);
    bondStatistic = 0.0;
    int bondCount = 0;
    for (int d = 0; d < 25; ++d) {
      const auto [mean, error] = batchMeanAndError(chain.series[d]);
      z[d] = (mean - expectation(d, true)) / error;
      if (zmatrix.features()[d].kind == FeatureKind::BondNm) bondStatistic += z[d], ++bondCount;
    }
    bondStatistic /= std::sqrt(double(bondCount));
    return z;
  };

  const Chain exact = runChain(false, 1200);
  EXPECT_NEAR(exact.energyCheck, 0.0, 1e-4);
  EXPECT_GT(exact.acceptance, 0.05);
  double exactBonds = 0.0;
  const std::vector<double> z = zScores(exact, exactBonds);
  std::ostringstream report;
  for (int d = 0; d < 25; ++d) {
    EXPECT_LT(std::abs(z[d]), 5.0) << zmatrix.features()[d].name << ": z = " << z[d];
    report << " " << std::lround(z[d] * 10) / 10.0;
  }
  EXPECT_LT(std::abs(exactBonds), 5.0);
  // The effect the volume element has, against the chain's resolution: the
  // bonds' means without it sit > 5 standard errors away (measured 14.7).
  double shiftInErrors = 0.0;
  for (int d = 0; d < 25; ++d)
    if (zmatrix.features()[d].kind == FeatureKind::BondNm)
      shiftInErrors += (expectation(d, false) - expectation(d, true)) / batchMeanAndError(exact.series[d]).second / 3.0;
  EXPECT_LT(shiftInErrors, -5.0);

  const Chain control = runChain(true, 600);
  double controlBonds = 0.0;
  zScores(control, controlBonds);
  EXPECT_LT(controlBonds, -5.0) << "without the volume element the bonds must come out short";
  std::cout << "25D move: burn-in " << exact.burnIn << " attempts, acceptance " << exact.acceptance << ", z per feature" << report.str() << "; bonds S "
            << exactBonds << " (expected shift without the volume element " << shiftInErrors << "), control S "
            << controlBonds << " (acceptance " << control.acceptance << ")\n";
}

}  // namespace
}  // namespace activediff
