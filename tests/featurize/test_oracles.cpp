// phi/psi against two independent oracles, `gmx rama` and MDTraj, on every
// frame of the shipped reference trajectory. Both run from the command line.
#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>

#include "activediff/featurize/featurizer.h"
#include "activediff/featurize/geometry.h"
#include "test_support.h"

namespace activediff {
namespace {

constexpr double kToleranceDeg = 0.05;

std::vector<std::array<double, 2>> ourPhiPsiDeg(const fs::path& trajectory) {
  const Structure ala2 = readStructure(test::ala2Pdb());
  const Featurizer featurizer(FeatureSet::PhiPsi2D, ala2, test::ala2Pdb().string());
  std::vector<std::array<double, 2>> result;
  TrajectoryReader reader(trajectory);
  Frame frame;
  double f[2];
  while (reader.next(frame)) {
    featurizer.compute(frame, trajectory.string(), f);
    result.push_back({f[0] * kDegPerRad, f[1] * kDegPerRad});
  }
  return result;
}

double angleDifferenceDeg(double a, double b) { return std::abs(wrapToPiRad((a - b) * kRadPerDeg)) * kDegPerRad; }

void expectAgreement(const std::vector<std::array<double, 2>>& ours, const std::vector<std::array<double, 2>>& oracle,
                     const char* name) {
  ASSERT_EQ(ours.size(), oracle.size()) << name;
  double worst = 0;
  std::size_t worstFrame = 0;
  for (std::size_t k = 0; k < ours.size(); ++k) {
    for (int j = 0; j < 2; ++j) {
      const double d = angleDifferenceDeg(ours[k][j], oracle[k][j]);
      if (d > worst) worst = d, worstFrame = k;
    }
  }
  ::testing::Test::RecordProperty(std::string(name) + "_max_difference_deg", std::to_string(worst));
  std::printf("%s: max |difference| %.2e deg over %zu frames\n", name, worst, ours.size());
  EXPECT_LT(worst, kToleranceDeg) << name << ": worst at frame " << worstFrame;
}

TEST(Oracles, PhiPsiAgreeWithGmxRamaOnEveryFrame) {
  const fs::path trajectory = test::shippedTrajectory();
  if (trajectory.empty()) GTEST_SKIP() << "examples/ala2/md/run1.xtc not present yet";
  test::ScratchDir dir;
  const fs::path xvg = dir / "rama.xvg";
  const auto run = test::runCommand("cd " + test::quote(dir.path()) + " && gmx -quiet -nocopyright rama -f " +
                                    test::quote(trajectory) + " -s " + test::quote(test::ala2Tpr()) + " -o " +
                                    test::quote(xvg));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  std::istringstream in(test::readText(xvg));
  std::vector<std::array<double, 2>> oracle;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line[0] == '@') continue;
    std::istringstream fields(line);
    std::array<double, 2> pair;
    std::string residue;
    fields >> pair[0] >> pair[1] >> residue;
    ASSERT_EQ(residue, "ALA-2") << line;
    oracle.push_back(pair);
  }
  expectAgreement(ourPhiPsiDeg(trajectory), oracle, "gmx_rama");
}

TEST(Oracles, PhiPsiAgreeWithMdtrajOnEveryFrame) {
  const fs::path trajectory = test::shippedTrajectory();
  if (trajectory.empty()) GTEST_SKIP() << "examples/ala2/md/run1.xtc not present yet";
  test::ScratchDir dir;
  const fs::path table = dir / "mdtraj.txt";
  const std::string script =
      "import sys, numpy as np, mdtraj as md; t = md.load(sys.argv[1], top=sys.argv[2]); "
      "_, phi = md.compute_phi(t); _, psi = md.compute_psi(t); "
      "assert phi.shape[1] == 1 and psi.shape[1] == 1; "
      "np.savetxt(sys.argv[3], np.degrees(np.hstack([phi, psi])), fmt='%.6f')";
  const auto run = test::runCommand(std::string(ACTIVEDIFF_PYTHON) + " -c \"" + script + "\" " +
                                    test::quote(trajectory) + " " + test::quote(test::ala2Pdb()) + " " +
                                    test::quote(table));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  std::istringstream in(test::readText(table));
  std::vector<std::array<double, 2>> oracle;
  std::array<double, 2> pair;
  while (in >> pair[0] >> pair[1]) oracle.push_back(pair);
  expectAgreement(ourPhiPsiDeg(trajectory), oracle, "mdtraj");
}

}  // namespace
}  // namespace activediff
