// Geometry conventions: dihedral sign and range, NeRF as its exact inverse.
#include <gtest/gtest.h>

#include <random>

#include "activediff/featurize/geometry.h"
#include "activediff/featurize/periodic.h"

namespace activediff {
namespace {

TEST(Geometry, DihedralSignFollowsIupac) {
  // Looking along b->c (z away from the viewer), turning a (x) towards d by
  // +90 deg about z appears clockwise: +90 deg.
  const Eigen::Vector3d a(1, 0, 0), b(0, 0, 0), c(0, 0, 1);
  EXPECT_NEAR(dihedralRad(a, b, c, Eigen::Vector3d(1, 0, 1)), 0.0, 1e-15);
  EXPECT_NEAR(dihedralRad(a, b, c, Eigen::Vector3d(-1, 0, 1)), kPi, 1e-15);
  EXPECT_NEAR(dihedralRad(a, b, c, Eigen::Vector3d(0, 1, 1)), kPi / 2, 1e-15);
  EXPECT_NEAR(dihedralRad(a, b, c, Eigen::Vector3d(0, -1, 1)), -kPi / 2, 1e-15);
}

TEST(Geometry, DihedralIsAccurateNearZeroAndPi) {
  const Eigen::Vector3d a(1, 0, 0), b(0, 0, 0), c(0, 0, 1);
  for (double t : {1e-9, -1e-9, kPi - 1e-9, -kPi + 1e-9}) {
    const Eigen::Vector3d d(std::cos(t), std::sin(t), 1.0);
    EXPECT_NEAR(dihedralRad(a, b, c, d), wrapToPiRad(t), 1e-15) << t;
  }
}

TEST(Geometry, WrapIsHalfOpenAtMinusPi) {
  EXPECT_DOUBLE_EQ(wrapToPiRad(-kPi), kPi);
  EXPECT_DOUBLE_EQ(wrapToPiRad(kPi), kPi);
  EXPECT_NEAR(wrapToPiRad(3 * kPi + 0.1), -kPi + 0.1, 1e-12);
}

TEST(Geometry, NerfInvertsBondAngleAndDihedral) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int trial = 0; trial < 1000; ++trial) {
    const Eigen::Vector3d a(u(rng), u(rng), u(rng)), b(u(rng), u(rng), u(rng)), c(u(rng), u(rng), u(rng));
    const double bond = 0.1 + 0.1 * (u(rng) + 1), angle = 0.3 + 1.2 * (u(rng) + 1), torsion = kPi * u(rng);
    const Eigen::Vector3d d = placeAtomNm(a, b, c, bond, angle, torsion);
    EXPECT_NEAR(distanceNm(c, d), bond, 1e-12);
    EXPECT_NEAR(bondAngleRad(b, c, d), angle, 1e-10);
    EXPECT_NEAR(wrapToPiRad(dihedralRad(a, b, c, d) - torsion), 0.0, 1e-10);
  }
}

TEST(Periodic, CutIsCentreOfLeastPopulatedBin) {
  BranchCutHistogram histogram;
  // Populate everything but the bin [100, 110) degrees.
  for (int deg = -180; deg < 180; ++deg)
    if (deg < 100 || deg >= 110) histogram.add(deg * kRadPerDeg + 1e-6);
  EXPECT_NEAR(histogram.cutRad() * kDegPerRad, 105.0, 1e-9);
}

TEST(Periodic, UnwrapAndWrapAreInverse) {
  const double cut = 105.0 * kRadPerDeg;
  for (double x = -kPi + 1e-3; x <= kPi; x += 0.01) {
    const double unwrapped = unwrapFromCutRad(x, cut);
    EXPECT_GE(unwrapped, cut);
    EXPECT_LT(unwrapped, cut + 2 * kPi);
    EXPECT_NEAR(wrapAngleRad(unwrapped), x, 1e-12);
  }
  EXPECT_DOUBLE_EQ(unwrapFromCutRad(cut, cut), cut);
  EXPECT_NEAR(unwrapFromCutRad(cut - 1e-9, cut), cut + 2 * kPi - 1e-9, 1e-12);
}

}  // namespace
}  // namespace activediff
