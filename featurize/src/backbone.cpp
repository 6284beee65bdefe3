#include "activediff/featurize/backbone.h"

#include <algorithm>
#include <string>
#include <vector>

#include "activediff/featurize/error.h"
#include "activediff/featurize/geometry.h"

namespace activediff {

namespace {

std::optional<BackboneDihedralAtoms> dihedralsOf(const Topology& topology, int residue) {
  const auto cPrev = topology.find(residue - 1, "C");
  const auto n = topology.find(residue, "N");
  const auto ca = topology.find(residue, "CA");
  const auto c = topology.find(residue, "C");
  const auto nNext = topology.find(residue + 1, "N");
  if (!cPrev || !n || !ca || !c || !nNext) return std::nullopt;
  BackboneDihedralAtoms atoms;
  atoms.residueIndex = residue;
  atoms.phi = {*cPrev, *n, *ca, *c};
  atoms.psi = {*n, *ca, *c, *nNext};
  return atoms;
}

std::string residueName(const Topology& topology, int residue) {
  for (const Atom& atom : topology.atoms)
    if (atom.residueIndex == residue) return atom.residueName + std::to_string(atom.residueNumber);
  return "?";
}

}  // namespace

BackboneDihedralAtoms findBackboneDihedrals(const Topology& topology, const std::string& topologyFile,
                                            std::optional<int> residueNumber) {
  const int residues = topology.residueCount();
  if (residueNumber) {
    for (int r = 0; r < residues; ++r) {
      const auto first = std::find_if(topology.atoms.begin(), topology.atoms.end(),
                                      [r](const Atom& a) { return a.residueIndex == r; });
      if (first == topology.atoms.end() || first->residueNumber != *residueNumber) continue;
      if (auto atoms = dihedralsOf(topology, r)) return *atoms;
      throw Error(topologyFile, "residue " + residueName(topology, r) +
                                    " lacks the atoms of phi and psi (C of the previous residue, N, CA, C, "
                                    "N of the next residue)");
    }
    throw Error(topologyFile, "no residue numbered " + std::to_string(*residueNumber));
  }
  std::vector<BackboneDihedralAtoms> candidates;
  for (int r = 0; r < residues; ++r)
    if (auto atoms = dihedralsOf(topology, r)) candidates.push_back(*atoms);
  if (candidates.empty()) {
    throw Error(topologyFile,
                "no residue has both phi and psi (needs atoms C of the previous residue, N, CA, C and N of "
                "the next residue)");
  }
  if (candidates.size() > 1) {
    std::string list;
    for (const auto& c : candidates) list += (list.empty() ? "" : ", ") + residueName(topology, c.residueIndex);
    throw Error(topologyFile, "several residues have phi and psi (" + list + "); choose one with --residue");
  }
  return candidates.front();
}

std::array<double, 2> phiPsiRad(const BackboneDihedralAtoms& atoms, const PositionsNm& positionsNm) {
  auto at = [&](int i) -> Eigen::Vector3d { return positionsNm.row(i).transpose(); };
  return {dihedralRad(at(atoms.phi[0]), at(atoms.phi[1]), at(atoms.phi[2]), at(atoms.phi[3])),
          dihedralRad(at(atoms.psi[0]), at(atoms.psi[1]), at(atoms.psi[2]), at(atoms.psi[3]))};
}

}  // namespace activediff
