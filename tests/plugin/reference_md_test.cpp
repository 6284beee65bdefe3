// The shipped reference MD (examples/ala2/md) is what it claims to be:
// thermostatted at 300 K and visiting the main basins of alanine dipeptide.
#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <sstream>

#include "activediff/featurize/states.h"
#include "support/test_support.h"

namespace activediff {
namespace {

using testing::examplesDir;

class ReferenceMd : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceMd, KineticTemperatureIsWithinTwoPercentOf300K) {
  std::ifstream log(examplesDir() / "ala2" / "md" / (GetParam() + ".log.csv"));
  ASSERT_TRUE(log) << GetParam();
  std::string row;
  std::getline(log, row);
  ASSERT_EQ(row.substr(row.rfind(',') + 1), "temperature_k");
  double sum = 0;
  int n = 0;
  while (std::getline(log, row)) {
    sum += std::stod(row.substr(row.rfind(',') + 1));
    ++n;
  }
  ASSERT_GE(n, 1000);
  EXPECT_NEAR(sum / n, 300.0, 6.0);
}

TEST_P(ReferenceMd, VisitsAlphaRAndBetaOrPPII) {
  const auto xtc = examplesDir() / "ala2" / "md" / (GetParam() + ".xtc");
  const auto result = testing::runOracle("mdtraj_phi_psi.py", xtc.string() + " " +
                                                                  (examplesDir() / "ala2" / "ala2.pdb").string());
  ASSERT_EQ(result.exitCode, 0) << result.output;
  std::array<int, kMetastableStateCount> counts{};
  std::istringstream lines(result.output);
  double phi, psi;
  int n = 0;
  while (lines >> phi >> psi) {
    ++counts[static_cast<int>(classifyStateDeg(phi, psi))];
    ++n;
  }
  ASSERT_GE(n, 1000);
  const auto fraction = [&](MetastableState s) { return counts[static_cast<int>(s)] / double(n); };
  EXPECT_GT(fraction(MetastableState::AlphaR), 0.05);
  EXPECT_GT(fraction(MetastableState::Beta) + fraction(MetastableState::PPII), 0.2);
  RecordProperty("L_fraction", std::to_string(fraction(MetastableState::L)));
}

INSTANTIATE_TEST_SUITE_P(Runs, ReferenceMd, ::testing::Values("run1", "run2"));

}  // namespace
}  // namespace activediff
