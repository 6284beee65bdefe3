#pragma once
// Covalent bonds of the molecule, inferred once from the topology's reference
// coordinates (element covalent radii), so that .pdb and .gro topologies,
// which carry no bonds, work like .tpr ones. Used to
//  - make a molecule whole again when a trajectory wraps it across the
//    periodic box (GROMACS writes molecules broken unless -pbc mol was used),
//  - reject frames whose bonds are impossibly long or short: the last line of
//    defence against corrupt coordinates and against a topology whose atom
//    order does not match the trajectory.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "activediff/featurize/structure.h"

namespace activediff {

// "H", "C", ... from the topology's element or, when empty, the atom name.
std::string elementOf(const Atom& atom);
bool isHydrogen(const Atom& atom);

// Is a frame's covalent geometry believable? The one definition, used by
// `featurize` (bonds found in the topology) and `energy` (bonds and
// constraints of the System). A frame fails when
//  - any bond deviates from its reference by more than kMaxBondDeviationNm
//    (gross damage: swapped or garbage atoms), or
//  - the least-squares scale of all bond lengths onto the references,
//    sum(d r) / sum(r^2), is off 1 by more than kMaxScaleDeviation (the whole
//    frame stretched, e.g. a corrupt XTC precision: every coordinate x1.15).
// Measured on the shipped MD (examples/ala2/md, 10000 frames, H bonds
// constrained, XTC precision 1e-3 nm): largest bond deviation 0.017 nm, the
// scale within [0.987, 1.019]; synthetic frames with 0.01 nm noise per
// coordinate stay within 0.07 of scale 1.
class BondPlausibility {
 public:
  static constexpr double kMaxBondDeviationNm = 0.05;
  static constexpr double kMaxScaleDeviation = 0.08;
  // label(atom) names an atom (0-based index) in messages.
  BondPlausibility(std::vector<std::pair<int, int>> bonds, std::vector<double> referenceLengthsNm,
                   std::function<std::string(int)> label);
  // Empty when plausible, else what is wrong (worst bond or the scale).
  std::string check(const PositionsNm& positionsNm) const;
  // sum(d r) / sum(r^2) of a frame; 1 for the reference itself.
  double scale(const PositionsNm& positionsNm) const;
  std::size_t size() const { return bonds_.size(); }
  const std::vector<std::pair<int, int>>& bonds() const { return bonds_; }

 private:
  std::vector<std::pair<int, int>> bonds_;
  std::vector<double> referenceLengthsNm_;
  double sumSquaredReferenceNm2_ = 0.0;
  std::function<std::string(int)> label_;
};

// A breadth-first spanning forest of a bond graph over atomCount atoms:
// (atom, parent) pairs, parent -1 for each root, parents before children.
// Atoms in no bond are roots of their own.
std::vector<std::pair<int, int>> spanningForest(int atomCount, const std::vector<std::pair<int, int>>& bonds);

// As gmx trjconv -pbc mol: every atom of the forest, in its order, moves by
// box vectors to the minimum image of its already placed parent. No-op when
// the box is zero (no periodic boundaries).
void makeWholeAlong(const std::vector<std::pair<int, int>>& forest, PositionsNm& positionsNm,
                    const Eigen::Matrix3d& boxNm);

class MoleculeGraph {
 public:
  // Bonds of the connected component(s) containing seedAtoms (all atoms if
  // seedAtoms is empty), from reference positions of the topology. With a
  // periodic box (non-zero), distances are minimum images in it, so that a
  // reference whose molecule is split across the box (a solvated .gro as
  // GROMACS writes it) still gives the molecule's bonds; the reference
  // lengths are then minimum-image lengths. Zero box: plain distances.
  MoleculeGraph(const Topology& topology, const PositionsNm& referenceNm, const std::vector<int>& seedAtoms = {},
                const Eigen::Matrix3d& periodicBoxNm = Eigen::Matrix3d::Zero());

  const std::vector<std::pair<int, int>>& bonds() const { return bonds_; }
  const std::vector<int>& neighbours(int atom) const { return neighbours_[atom]; }
  const std::vector<double>& referenceLengthsNm() const { return referenceLengthsNm_; }

  // Moves atoms by box vectors so that every bond is its minimum image.
  // No-op when the box is zero (no periodic boundaries).
  void makeWhole(PositionsNm& positionsNm, const Eigen::Matrix3d& boxNm) const;

  // Empty when all bonds are within toleranceNm of their reference length,
  // else a description of the worst bond.
  std::string checkBonds(const PositionsNm& positionsNm, double toleranceNm = 0.05) const;

  // The plausibility check (above) with this graph's bonds and reference.
  BondPlausibility plausibility() const;

  // Do the atom names of `atoms` fit the chemistry of the reference? For
  // each atom: its name's element agrees with the element the file declares
  // (PDB element column, .tpr atomic number); its number of bonded
  // neighbours fits its element; and the bonds its name implies in a
  // protein backbone (N-CA, CA-C, C-O, C-N of the next residue, CA-CB, N-H,
  // CA-HA, caps' CH3) are present. Empty when all fit, else one line naming
  // the atom and what is wrong (CA and CB swapped: "ALA2:CA is not bonded
  // to ALA2:N ...").
  std::string checkChemistry(const std::vector<int>& atoms, const PositionsNm& referenceNm) const;

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
