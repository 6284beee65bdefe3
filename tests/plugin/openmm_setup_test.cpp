#include <OpenMM.h>
#include <gtest/gtest.h>

#include <fstream>

#include "activediff/featurize/error.h"
#include "activediff/featurize/structure.h"
#include "activediff/plugin/openmm_setup.h"
#include "activediff/plugin/potential_energy.h"
#include "support/test_support.h"

namespace activediff::plugin {
namespace {

using testing::examplesDir;
using testing::ScratchDirectory;

std::string errorOf(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(OpenMMSetup, PluginsLoadAndCpuIsAvailable) {
  // Debian ships OpenCL plugins that fail to load without an OpenCL runtime;
  // those failures are reported, never the CPU platform's.
  for (const std::string& failure : loadOpenMMPlugins()) {
    EXPECT_EQ(failure.find("OpenMMCPU"), std::string::npos) << failure;
  }
  const auto names = availablePlatforms();
  EXPECT_NE(std::find(names.begin(), names.end(), "Reference"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "CPU"), names.end());
}

TEST(OpenMMSetup, UnknownPlatformNamesOptionAndAlternatives) {
  const std::string message = errorOf([] { platformByName("Warp"); });
  EXPECT_NE(message.find("--platform"), std::string::npos) << message;
  EXPECT_NE(message.find("Warp"), std::string::npos) << message;
  EXPECT_NE(message.find("Reference"), std::string::npos) << message;
}

TEST(OpenMMSetup, ExampleSystemHasAlanineDipeptideDegreesOfFreedom) {
  const auto system = loadSystemXml(examplesDir() / "ala2" / "system.xml");
  ASSERT_EQ(system->getNumParticles(), 22);
  // 12 X-H bonds constrained, centre-of-mass motion removed: 66 - 12 - 3.
  EXPECT_EQ(system->getNumConstraints(), 12);
  EXPECT_EQ(kineticDegreesOfFreedom(*system), 51);
}

TEST(OpenMMSetup, BadSystemFilesAreErrorsNamingTheFile) {
  ScratchDirectory dir;
  const auto missing = dir / "missing.xml";
  EXPECT_NE(errorOf([&] { loadSystemXml(missing); }).find(missing.string()), std::string::npos);

  const auto empty = dir / "empty.xml";
  std::ofstream(empty) << "\n";
  EXPECT_NE(errorOf([&] { loadSystemXml(empty); }).find("empty"), std::string::npos);

  // A real System XML cut in half.
  std::ifstream source(examplesDir() / "ala2" / "system.xml");
  std::string text((std::istreambuf_iterator<char>(source)), std::istreambuf_iterator<char>());
  const auto garbled = dir / "garbled.xml";
  std::ofstream(garbled) << text.substr(0, text.size() / 2);
  const std::string message = errorOf([&] { loadSystemXml(garbled); });
  EXPECT_NE(message.find(garbled.string()), std::string::npos) << message;
}

TEST(PotentialEnergy, ExampleStructureMatchesAFreshOpenMMContext) {
  // Independent path: a Context built here directly from the OpenMM API.
  const auto file = examplesDir() / "ala2" / "system.xml";
  const Structure structure = readStructure(examplesDir() / "ala2" / "ala2.pdb");
  PotentialEnergyEvaluator evaluator(loadSystemXml(file), "Reference");
  const double ours = evaluator.energyKjPerMol(structure.positionsNm);

  auto system = loadSystemXml(file);
  OpenMM::VerletIntegrator integrator(0.001);
  OpenMM::Context context(*system, integrator, OpenMM::Platform::getPlatformByName("Reference"));
  std::vector<OpenMM::Vec3> x;
  for (int i = 0; i < 22; ++i)
    x.emplace_back(structure.positionsNm(i, 0), structure.positionsNm(i, 1), structure.positionsNm(i, 2));
  context.setPositions(x);
  EXPECT_NEAR(ours, context.getState(OpenMM::State::Energy).getPotentialEnergy(), 1e-9);
  // A minimized structure of this force field sits well below zero.
  EXPECT_LT(ours, -50.0);

  PositionsNm wrong(21, 3);
  wrong.setZero();
  EXPECT_THROW(evaluator.energyKjPerMol(wrong), Error);
}

}  // namespace
}  // namespace activediff::plugin
