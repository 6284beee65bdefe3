// activediff energy against OpenMM's Python layer on the same frames.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/test_support.h"

namespace activediff {
namespace {

using testing::examplesDir;
using testing::runActivediff;
using testing::runOracle;
using testing::ScratchDirectory;

TEST(EnergyCli, AgreesWithOpenMMPythonOnShippedFrames) {
  const auto system = examplesDir() / "ala2" / "system.xml";
  const auto pdb = examplesDir() / "ala2" / "ala2.pdb";
  const auto xtc = examplesDir() / "ala2" / "md" / "run1.xtc";
  ASSERT_TRUE(std::filesystem::exists(xtc)) << xtc;
  ScratchDirectory dir;
  const auto csv = dir / "e.csv";
  const int frames = 150;
  const auto ours = runActivediff("energy --system " + system.string() + " -f " + xtc.string() + " -o " +
                                  csv.string() + " --last-frame " + std::to_string(frames - 1));
  ASSERT_EQ(ours.exitCode, 0) << ours.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "e.json"));

  const auto oracle = runOracle("openmm_energies.py", system.string() + " " + xtc.string() + " " +
                                                          pdb.string() + " " + std::to_string(frames));
  ASSERT_EQ(oracle.exitCode, 0) << oracle.output;
  std::vector<double> expected;
  std::istringstream oracleLines(oracle.output);
  int index;
  double energy;
  while (oracleLines >> index >> energy) expected.push_back(energy);
  ASSERT_EQ(expected.size(), static_cast<std::size_t>(frames));

  std::ifstream table(csv);
  std::string row;
  std::getline(table, row);
  EXPECT_EQ(row, "frame,time_ps,potential_kj_mol");
  std::size_t n = 0;
  while (std::getline(table, row)) {
    ASSERT_LT(n, expected.size());
    const double value = std::stod(row.substr(row.rfind(',') + 1));
    EXPECT_NEAR(value, expected[n], 1e-3) << "frame " << n;
    ++n;
  }
  EXPECT_EQ(n, expected.size());
}

TEST(EnergyCli, AtomCountMismatchAndMissingFilesAreClearErrors) {
  ScratchDirectory dir;
  const auto system = examplesDir() / "ala2" / "system.xml";
  const auto out = (dir / "e.csv").string();
  auto missing = runActivediff("energy --system " + system.string() + " -f " + (dir / "no.xtc").string() +
                               " -o " + out);
  EXPECT_NE(missing.exitCode, 0);
  EXPECT_NE(missing.output.find("no.xtc"), std::string::npos) << missing.output;
  auto badSystem = runActivediff("energy --system " + (dir / "no.xml").string() + " -f " +
                                 (examplesDir() / "ala2" / "ala2.pdb").string() + " -o " + out);
  EXPECT_NE(badSystem.exitCode, 0);
  EXPECT_NE(badSystem.output.find("no.xml"), std::string::npos) << badSystem.output;
  EXPECT_TRUE(dir.fileNames().empty());
}

}  // namespace
}  // namespace activediff
