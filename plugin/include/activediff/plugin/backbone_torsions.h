#pragma once
// One residue's backbone torsions phi = C(i-1)-N-CA-C and psi = N-CA-C-N(i+1)
// as rigid-fragment rotations of a System's coordinates: the atoms on CA's
// side of N-CA turn with phi, those on C's side of CA-C with psi (sides found
// in the System's bond graph: constraints and harmonic bonds). The map is a
// volume-preserving bijection of the Cartesian coordinates (MATH.md 4b), so
// the generative move (no Jacobian) and the seeder (a template structure set
// to generated torsions) share it.
#include <openmm/Vec3.h>

#include <array>
#include <vector>

namespace OpenMM {
class System;
}

namespace activediff::plugin {

class BackboneTorsions {
 public:
  // atoms: 0-based System particles C(i-1), N, CA, C, N(i+1). An
  // activediff::Error names what does not fit: an atom out of range, masses
  // not those of C and N (within 2.5 u, which admits hydrogen mass
  // repartitioning), atoms not bonded in that chain, a ring through N-CA or CA-C.
  BackboneTorsions(const OpenMM::System& system, const std::array<int, 5>& atoms);

  const std::array<int, 5>& atoms() const { return atoms_; }
  double phiRad(const std::vector<OpenMM::Vec3>& positionsNm) const;  // (-pi, pi]
  double psiRad(const std::vector<OpenMM::Vec3>& positionsNm) const;
  // Sets phi, then psi, by turning their fragments; velocities (if given)
  // turn with their fragment, so constraints stay satisfied.
  void set(std::vector<OpenMM::Vec3>& positionsNm, std::vector<OpenMM::Vec3>* velocities, double phiRad,
           double psiRad) const;

 private:
  std::array<int, 5> atoms_;
  std::vector<int> phiFragment_, psiFragment_;
};

}  // namespace activediff::plugin
