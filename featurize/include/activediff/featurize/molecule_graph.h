#pragma once
// Covalent bonds of the molecule, inferred once from the topology's reference
// coordinates (element covalent radii), so that .pdb and .gro topologies,
// which carry no bonds, work like .tpr ones. Used to
//  - make a molecule whole again when a trajectory wraps it across the
//    periodic box (GROMACS writes molecules broken unless -pbc mol was used),
//  - reject frames whose bonds are impossibly long or short: the last line of
//    defence against corrupt coordinates and against a topology whose atom
//    order does not match the trajectory.
#include <string>
#include <utility>
#include <vector>

#include "activediff/featurize/structure.h"

namespace activediff {

// "H", "C", ... from the topology's element or, when empty, the atom name.
std::string elementOf(const Atom& atom);
bool isHydrogen(const Atom& atom);

class MoleculeGraph {
 public:
  // Bonds of the connected component(s) containing seedAtoms (all atoms if
  // seedAtoms is empty), from reference positions of the topology.
  MoleculeGraph(const Topology& topology, const PositionsNm& referenceNm, const std::vector<int>& seedAtoms = {});

  const std::vector<std::pair<int, int>>& bonds() const { return bonds_; }
  const std::vector<int>& neighbours(int atom) const { return neighbours_[atom]; }
  const std::vector<double>& referenceLengthsNm() const { return referenceLengthsNm_; }

  // Moves atoms by box vectors so that every bond is its minimum image.
  // No-op when the box is zero (no periodic boundaries).
  void makeWhole(PositionsNm& positionsNm, const Eigen::Matrix3d& boxNm) const;

  // Empty when all bonds are within toleranceNm of their reference length,
  // else a description of the worst bond.
  std::string checkBonds(const PositionsNm& positionsNm, double toleranceNm = 0.05) const;

 private:
  const Topology* topology_;
  std::vector<std::pair<int, int>> bonds_;
  std::vector<double> referenceLengthsNm_;
  std::vector<std::vector<int>> neighbours_;
  // Spanning forest in breadth-first order: (atom, parent); parent -1 = root.
  std::vector<std::pair<int, int>> treeOrder_;
};

// "ALA2:CA" -- how atoms are named in messages and feature names.
std::string atomLabel(const Topology& topology, int atom);

}  // namespace activediff
