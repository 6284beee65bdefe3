#include "activediff/plugin/backbone_torsions.h"

#include <openmm/System.h>

#include <Eigen/Geometry>
#include <cmath>
#include <string>

#include "activediff/featurize/error.h"
#include "activediff/featurize/geometry.h"
#include "activediff/plugin/openmm_setup.h"

namespace activediff::plugin {
namespace {

// Atoms reachable from `start` without crossing the bond (blocked, start).
std::vector<int> sideOf(const std::vector<std::vector<int>>& neighbours, int blocked, int start) {
  std::vector<char> seen(neighbours.size(), 0);
  std::vector<int> stack{start}, side;
  seen[start] = 1;
  seen[blocked] = 1;
  while (!stack.empty()) {
    const int a = stack.back();
    stack.pop_back();
    side.push_back(a);
    for (int b : neighbours[a])
      if (!seen[b]) {
        seen[b] = 1;
        stack.push_back(b);
      }
  }
  return side;
}

Eigen::Vector3d toEigen(const OpenMM::Vec3& v) { return {v[0], v[1], v[2]}; }
OpenMM::Vec3 toVec3(const Eigen::Vector3d& v) { return {v[0], v[1], v[2]}; }

double dihedralOf(const std::vector<OpenMM::Vec3>& p, int a, int b, int c, int d) {
  return dihedralRad(toEigen(p[a]), toEigen(p[b]), toEigen(p[c]), toEigen(p[d]));
}

// Sets the dihedral (a, b, c, d) to targetRad by turning `fragment` about b-c.
void setDihedral(std::vector<OpenMM::Vec3>& positions, std::vector<OpenMM::Vec3>* velocities,
                 const std::vector<int>& fragment, const std::array<int, 4>& q, double targetRad) {
  const Eigen::Vector3d origin = toEigen(positions[q[1]]);
  const Eigen::Vector3d axis = (toEigen(positions[q[2]]) - origin).normalized();
  const double current = dihedralOf(positions, q[0], q[1], q[2], q[3]);
  auto turn = [&](double angle) {
    const Eigen::Matrix3d r = Eigen::AngleAxisd(angle, axis).toRotationMatrix();
    for (int a : fragment) {
      positions[a] = toVec3(origin + r * (toEigen(positions[a]) - origin));
      if (velocities) (*velocities)[a] = toVec3(r * toEigen((*velocities)[a]));
    }
  };
  // The sign convention of the rotation relative to the dihedral is checked,
  // not assumed: a miss turns back the other way.
  const double delta = wrapToPiRad(targetRad - current);
  turn(delta);
  if (std::abs(wrapToPiRad(dihedralOf(positions, q[0], q[1], q[2], q[3]) - targetRad)) > 1e-6) turn(-2.0 * delta);
  if (std::abs(wrapToPiRad(dihedralOf(positions, q[0], q[1], q[2], q[3]) - targetRad)) > 1e-6)
    throw Error("a fragment rotation missed its dihedral (an activediff bug)");
}

}  // namespace

BackboneTorsions::BackboneTorsions(const OpenMM::System& system, const std::array<int, 5>& atoms) : atoms_(atoms) {
  const int n = system.getNumParticles();
  for (int a : atoms_)
    if (a < 0 || a >= n)
      throw Error("torsion atom " + std::to_string(a) + " is beyond the System's " + std::to_string(n) +
                  " particles (made for another molecule?)");
  const char* element = "CNCCN";
  for (int i = 0; i < 5; ++i) {
    const double mass = system.getParticleMass(atoms_[i]);
    if (!massFitsElement(mass, element[i]))
      throw Error("torsion atom " + std::to_string(atoms_[i]) + " has mass " + std::to_string(mass) +
                  ", not that of " + element[i] + " (the atoms must be C(i-1), N, CA, C, N(i+1) of this System)");
  }
  const std::vector<std::vector<int>> neighbours = bondGraphOf(system);
  for (int i = 0; i + 1 < 5; ++i)
    if (!bonded(neighbours, atoms_[i], atoms_[i + 1]))
      throw Error("torsion atoms " + std::to_string(atoms_[i]) + " and " + std::to_string(atoms_[i + 1]) +
                  " are not bonded in the System (bonds and constraints): not C(i-1)-N-CA-C-N(i+1)");
  phiFragment_ = sideOf(neighbours, atoms_[1], atoms_[2]);
  psiFragment_ = sideOf(neighbours, atoms_[2], atoms_[3]);
  for (int a : phiFragment_)
    if (a == atoms_[1]) throw Error("the N-CA bond is in a ring; phi cannot turn");
  for (int a : psiFragment_)
    if (a == atoms_[2]) throw Error("the CA-C bond is in a ring; psi cannot turn");
}

double BackboneTorsions::phiRad(const std::vector<OpenMM::Vec3>& p) const {
  return dihedralOf(p, atoms_[0], atoms_[1], atoms_[2], atoms_[3]);
}

double BackboneTorsions::psiRad(const std::vector<OpenMM::Vec3>& p) const {
  return dihedralOf(p, atoms_[1], atoms_[2], atoms_[3], atoms_[4]);
}

void BackboneTorsions::set(std::vector<OpenMM::Vec3>& positionsNm, std::vector<OpenMM::Vec3>* velocities,
                           double phiRad, double psiRad) const {
  setDihedral(positionsNm, velocities, phiFragment_, {atoms_[0], atoms_[1], atoms_[2], atoms_[3]}, phiRad);
  setDihedral(positionsNm, velocities, psiFragment_, {atoms_[1], atoms_[2], atoms_[3], atoms_[4]}, psiRad);
}

}  // namespace activediff::plugin
