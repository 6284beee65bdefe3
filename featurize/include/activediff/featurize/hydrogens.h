#pragma once
// Standard-geometry placement of the hydrogens that the features do not
// describe, so that a rebuild gives a full-atom structure (which an OpenMM
// minimization with heavy atoms restrained may then relax).
//
// Rules, from the bonded neighbours of each hydrogen's parent atom (bonds from
// MoleculeGraph):
//   3 placed neighbours, 1 H   tetrahedral: opposite the neighbours' sum (CA-HA)
//   2 placed neighbours, 1 H   trigonal planar: opposite the bisector (amide N-H)
//   2 placed neighbours, 2 H   tetrahedral pair about the bisector (CH2)
//   1 placed neighbour,  3 H   methyl, tetrahedral angles, 120 deg apart
//   1 placed neighbour,  2 H   planar NH2, 180 deg apart, angle 120 deg
//   1 placed neighbour,  1 H   tetrahedral angle (OH, SH)
// A rotor's phase (the torsion of its first hydrogen about the bond) is taken
// from the reference structure, which is force-field minimized.
// Bond lengths (amber99sb-ildn): C-H 0.109 nm, N-H 0.101, O-H 0.096, S-H 0.1336.
// Methyl hydrogens keep the handedness of their names in the reference.
#include <string>
#include <vector>

#include "activediff/featurize/molecule_graph.h"
#include "activediff/featurize/zmatrix.h"

namespace activediff {

class HydrogenPlacer {
 public:
  // placedAtoms: atoms that the rebuild provides (e.g. ZMatrix::rowAtoms());
  // every other atom must be a hydrogen this class can place, else an Error
  // naming topologyFile and the atom.
  HydrogenPlacer(const Topology& topology, const PositionsNm& referenceNm, const std::vector<int>& placedAtoms,
                 const std::string& topologyFile);

  // Fills the missing hydrogens of every structure in place.
  void place(StructureBatchNm& structures) const;

 private:
  struct Group {
    int parent;
    std::vector<int> neighbours;  // placed, bonded to parent (heavy or H)
    int torsionReference = -1;    // for one-neighbour parents
    std::vector<int> hydrogens;   // to place
    std::vector<double> bondNm;
    double methylHandedness = 1.0;
    double phaseRad = 0.0;        // rotor torsion of the first hydrogen
  };
  std::vector<Group> groups_;
  int atomCount_ = 0;
};

}  // namespace activediff
