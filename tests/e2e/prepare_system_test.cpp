// Issue 13, Build 8: workflows/prepare_system.py writes the System XML for a
// user's own molecule (OpenMM's Python ForceField); `activediff energy` on it
// agrees with OpenMM Python's energy.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/test_support.h"

namespace activediff {
namespace {

namespace fs = std::filesystem;
using testing::examplesDir;
using testing::runActivediff;
using testing::runCommand;
using testing::runOracle;
using testing::ScratchDirectory;

const std::string kPdb = (examplesDir() / "ala2" / "ala2.pdb").string();

std::string prepareSystem(const std::string& arguments) {
  return std::string(ACTIVEDIFF_PYTHON) + " " + (testing::sourceDir() / "workflows" / "prepare_system.py").string() +
         " " + arguments;
}

TEST(PrepareSystem, HelpNamesTheOptions) {
  const auto help = runCommand(prepareSystem("--help"));
  ASSERT_EQ(help.exitCode, 0) << help.output;
  for (const char* option : {"--forcefield", "--implicit", "--output", "--constraints", "obc2"})
    EXPECT_NE(help.output.find(option), std::string::npos) << option;
}

TEST(PrepareSystem, Amber14WithObc2GivesTheEnergyOpenmmPythonGivesAndNeverOverwrites) {
  ScratchDirectory dir;
  const fs::path system = dir / "system.xml";
  const std::string arguments = kPdb + " -o " + system.string() + " --forcefield amber14-all.xml --implicit obc2";
  const auto first = runCommand(prepareSystem(arguments));
  ASSERT_EQ(first.exitCode, 0) << first.output;
  EXPECT_TRUE(fs::exists(system));
  std::ifstream xml(system);
  const std::string text((std::istreambuf_iterator<char>(xml)), {});
  EXPECT_NE(text.find("CustomGBForce"), std::string::npos);  // implicit/obc2.xml (OpenMM 7.7)
  // A second run backs the first output up, as activediff does.
  const auto second = runCommand(prepareSystem(arguments));
  ASSERT_EQ(second.exitCode, 0) << second.output;
  EXPECT_TRUE(fs::exists(dir / "#system.xml.1#"));
  EXPECT_EQ(dir.fileNames(), (std::vector<std::string>{"#system.xml.1#", "system.xml"}));

  // activediff energy on that System against OpenMM Python (Reference).
  const fs::path table = dir / "energy.csv";
  const auto energy = runActivediff("energy -q --system " + system.string() + " -f " + kPdb + " -o " + table.string());
  ASSERT_EQ(energy.exitCode, 0) << energy.output;
  std::ifstream csv(table);
  std::string header, row;
  std::getline(csv, header);
  std::getline(csv, row);
  ASSERT_EQ(header.substr(header.rfind(',') + 1), "potential_kj_mol") << header;
  const double ours = std::stod(row.substr(row.rfind(',') + 1));
  const auto oracle = runOracle("openmm_energies.py", system.string() + " " + kPdb + " " + kPdb);
  ASSERT_EQ(oracle.exitCode, 0) << oracle.output;
  std::istringstream out(oracle.output);
  int frame = -1;
  double theirs = 0;
  out >> frame >> theirs;
  ASSERT_EQ(frame, 0) << oracle.output;
  EXPECT_NEAR(ours, theirs, 1e-3) << oracle.output;

  // A PDB the force field does not fit is a clear error, and writes nothing.
  const fs::path heavy = dir / "heavy.pdb";
  ASSERT_EQ(runCommand("grep -v ' H' " + kPdb + " > " + heavy.string()).exitCode, 0);
  const auto refused =
      runCommand(prepareSystem(heavy.string() + " -o " + (dir / "heavy.xml").string() + " --forcefield amber14-all.xml"));
  EXPECT_NE(refused.exitCode, 0);
  EXPECT_NE(refused.output.find("does not fit"), std::string::npos) << refused.output;
  EXPECT_FALSE(fs::exists(dir / "heavy.xml"));
}

}  // namespace
}  // namespace activediff
