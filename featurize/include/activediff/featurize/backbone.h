#pragma once
// Backbone dihedrals phi and psi of one residue, found by atom name:
//   phi = C(i-1) - N(i) - CA(i) - C(i)
//   psi = N(i) - CA(i) - C(i) - N(i+1)
// (IUPAC; the convention of `gmx rama` and MDTraj compute_phi/compute_psi).
#include <array>
#include <filesystem>
#include <optional>

#include "activediff/featurize/structure.h"

namespace activediff {

struct BackboneDihedralAtoms {
  int residueIndex = -1;      // 0-based index in the topology
  std::array<int, 4> phi{};   // topology atom indices
  std::array<int, 4> psi{};
};

// residueNumber: the residue number as in the file; nullopt = the one residue
// that has both phi and psi (an error if there are none or several).
// topologyFile is only used in error messages.
BackboneDihedralAtoms findBackboneDihedrals(const Topology& topology, const std::string& topologyFile,
                                            std::optional<int> residueNumber = std::nullopt);

// phi and psi in radians, (-pi, pi].
std::array<double, 2> phiPsiRad(const BackboneDihedralAtoms& atoms, const PositionsNm& positionsNm);

}  // namespace activediff
