#pragma once
// Internal-coordinate geometry shared by featurization and rebuilding.
// Angles in radians. Conventions:
//  - dihedralRad(a, b, c, d) is the IUPAC torsion about b-c, in (-pi, pi],
//    the sign convention of `gmx rama` and MDTraj: positive when, looking
//    along b->c, a must turn clockwise to eclipse d. atan2 form, so it is
//    exact near 0 and pi where acos() loses all precision.
//  - placeAtomNm (NeRF) is its exact inverse: the point d with |cd| = bond,
//    angle(b, c, d) = angle and dihedral(a, b, c, d) = torsion.
#include <Eigen/Core>
#include <Eigen/Geometry>
#include <cmath>

namespace activediff {

constexpr double kPi = 3.14159265358979323846;
constexpr double kRadPerDeg = kPi / 180.0;
constexpr double kDegPerRad = 180.0 / kPi;

// Maps any angle to (-pi, pi].
inline double wrapToPiRad(double angleRad) {
  double wrapped = std::remainder(angleRad, 2.0 * kPi);  // [-pi, pi]
  if (wrapped <= -kPi) wrapped += 2.0 * kPi;
  return wrapped;
}

inline double distanceNm(const Eigen::Vector3d& a, const Eigen::Vector3d& b) { return (b - a).norm(); }

// Angle a-b-c at b, atan2 form (exact near 0 and pi).
inline double bondAngleRad(const Eigen::Vector3d& a, const Eigen::Vector3d& b, const Eigen::Vector3d& c) {
  const Eigen::Vector3d u = a - b, v = c - b;
  return std::atan2(u.cross(v).norm(), u.dot(v));
}

inline double dihedralRad(const Eigen::Vector3d& a, const Eigen::Vector3d& b, const Eigen::Vector3d& c,
                          const Eigen::Vector3d& d) {
  const Eigen::Vector3d b1 = b - a, b2 = c - b, b3 = d - c;
  const Eigen::Vector3d n1 = b1.cross(b2), n2 = b2.cross(b3);
  const double y = b2.norm() * b1.dot(n2);
  const double x = n1.dot(n2);
  return wrapToPiRad(std::atan2(y, x));
}

// NeRF ("natural extension reference frame") placement of d from a, b, c.
inline Eigen::Vector3d placeAtomNm(const Eigen::Vector3d& a, const Eigen::Vector3d& b, const Eigen::Vector3d& c,
                                   double bondNm, double angleRad, double torsionRad) {
  const Eigen::Vector3d bc = (c - b).normalized();
  const Eigen::Vector3d n = (b - a).cross(bc).normalized();
  const Eigen::Vector3d m = n.cross(bc);
  const double sinAngle = std::sin(angleRad);
  const Eigen::Vector3d local(-bondNm * std::cos(angleRad), bondNm * sinAngle * std::cos(torsionRad),
                              bondNm * sinAngle * std::sin(torsionRad));
  return c + local.x() * bc + local.y() * m + local.z() * n;
}

}  // namespace activediff
