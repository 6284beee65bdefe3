#pragma once
// Internal coordinates (a Z-matrix) and their exact inverse.
//
// A Z-matrix definition is data: rows of atoms named by (residue offset from
// the central residue, atom name), each placed from earlier rows by a bond
// (to `bondTo`), an angle (atom-bondTo-angleTo) and a torsion
// (torsionTo-angleTo-bondTo-atom). Row 0 has no references, row 1 a bond
// only, row 2 a bond and an angle. A bond or angle can be held fixed instead
// of being a feature.
//
// Rebuilding puts row 0 at the origin, row 1 on +x, row 2 in the xy plane
// (+y side) and every later row by NeRF; the result equals the input
// structure up to a rigid motion.
//
// The 25D features of alanine dipeptide (PRODUCT.md), central residue ALA,
// offsets -1 = ACE, +1 = NME:
//   row  atom        bondTo   angleTo  torsionTo   torsion meaning
//   0    ACE CH3     -        -        -
//   1    ACE C       ACE CH3  -        -
//   2    ALA N       ACE C    ACE CH3  -
//   3    ALA CA      ALA N    ACE C    ACE CH3     omega_ACE (CH3-C-N-CA)
//   4    ALA C       ALA CA   ALA N    ACE C       phi
//   5    NME N       ALA C    ALA CA   ALA N       psi
//   6    NME CH3     NME N    ALA C    ALA CA      omega_NME (CA-C-N-CH3)
//   7    ACE O       ACE C    ALA N    ACE CH3     improper_O_ACE (~180)
//   8    ALA CB      ALA CA   ALA N    ALA C       improper_CB (chirality)
//   9    ALA O       ALA C    ALA CA   NME N       improper_O_ALA (~180)
//   10   ALA H       ALA N    ALA CA   ALA C       torsion_H_ALA; bond 0.101
//                                                  nm, angle 118.04 deg fixed
// Feature order: the 9 bonds of rows 1-9, the 8 angles of rows 2-9, the 7
// torsions of rows 3-9, then the H torsion -- 25 in all; phi is feature 18,
// psi feature 19. Bonds in nm, angles and torsions in radians, torsions in
// (-pi, pi] and periodic.
#include <Eigen/Core>
#include <functional>
#include <string>
#include <vector>

#include "activediff/featurize/structure.h"

namespace activediff {

struct ZAtomName {
  int residueOffset = 0;  // relative to the central residue
  std::string name;
};

struct ZMatrixRow {
  ZAtomName atom;
  std::vector<ZAtomName> references;  // bondTo, angleTo, torsionTo (as many as the row needs)
  std::string torsionName;            // feature name of the torsion; empty = generated
  bool bondIsFeature = true;
  bool angleIsFeature = true;
  double fixedBondNm = 0.0;           // used when the bond is not a feature
  double fixedAngleRad = 0.0;         // used when the angle is not a feature
};

struct ZMatrixDefinition {
  std::string name;  // e.g. "capped-residue-25d"
  std::vector<ZMatrixRow> rows;
};

// The 25D Z-matrix of PRODUCT.md for a residue capped on both sides
// (ACE-X-NME in pdb2gmx naming), documented above.
ZMatrixDefinition cappedResidueZMatrix();

enum class FeatureKind { BondNm, AngleRad, TorsionRad };

struct FeatureInfo {
  std::string name;
  std::string unit;  // "nm" or "rad"
  bool periodic = false;
  FeatureKind kind = FeatureKind::TorsionRad;
};

// Rows are structures, columns x0 y0 z0 x1 y1 z1 ... in nm (topology order).
using StructureBatchNm = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// Rows are samples, columns features.
using FeatureMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

class ZMatrix {
 public:
  // Resolves the definition against a topology; centralResidue is 0-based.
  // Missing atoms are an Error naming topologyFile and the atom.
  ZMatrix(const ZMatrixDefinition& definition, const Topology& topology, int centralResidue,
          const std::string& topologyFile);
  // Resolves the definition by row instead: rowAtoms[r] is row r's atom (the
  // order rowAtoms() returns), so a program holding only particle indices
  // (the OpenMM move) gets the same features. Feature names then label atoms
  // by index ("bond 1-0"); the named torsions (phi, psi, ...) keep their names.
  ZMatrix(const ZMatrixDefinition& definition, const std::vector<int>& rowAtoms, int atomCount);

  // A row as resolved: its atom and references (topology indices, -1 where
  // the row has none) and where its bond, angle and torsion sit among the
  // features (-1: not a feature).
  struct Row {
    int atom;
    int bondTo = -1, angleTo = -1, torsionTo = -1;  // topology indices
    int bondFeature = -1, angleFeature = -1, torsionFeature = -1;
    double fixedBondNm = 0.0, fixedAngleRad = 0.0;
  };
  const std::vector<Row>& rows() const { return rows_; }

  int featureCount() const { return static_cast<int>(features_.size()); }
  const std::vector<FeatureInfo>& features() const { return features_; }
  // Topology atom index of each row.
  const std::vector<int>& rowAtoms() const { return rowAtoms_; }
  int atomCount() const { return atomCount_; }

  // Features of one structure (positions in topology order) into out[0..D).
  void featurize(const PositionsNm& positionsNm, double* out) const;
  FeatureMatrix featurize(const StructureBatchNm& structures) const;

  // Exact inverse for a batch: rows of features -> structures with the
  // Z-matrix atoms placed; all other atoms are NaN (see HydrogenPlacer).
  // Non-finite features give non-finite coordinates, never an exception.
  StructureBatchNm rebuild(const FeatureMatrix& features) const;

  // The move's inverse (MATH.md 4b): moves the Z-matrix atoms of positionsNm
  // to features[0..D), keeping the frame of rows 0-2 as it is (row 0's
  // position, row 1's direction from it, the half-plane of row 2) and every
  // bond and angle that is not a feature at its value in positionsNm (the
  // amide H's). Atoms of no row are left alone. With the frame and the
  // non-feature coordinates fixed, this is a bijection whose Cartesian volume
  // element is exp(logVolumeElement(features)) up to a constant factor.
  void reposition(const double* features, PositionsNm& positionsNm) const;
  // log prod_r b_r^2 sin(theta_r) over the rows' feature bonds and angles:
  // the Z-matrix volume element, up to the factor of the fixed coordinates.
  double logVolumeElement(const double* features) const;
  // Bonds > 0, angles in (0, pi), everything finite: where the map is a bijection.
  bool inDomain(const double* features) const;

 private:
  void build(const ZMatrixDefinition& definition, const std::function<int(const ZAtomName&)>& resolve,
             const std::function<std::string(int)>& atomLabelOf);
  std::vector<Row> rows_;
  std::vector<FeatureInfo> features_;
  std::vector<int> rowAtoms_;
  int atomCount_ = 0;
};

}  // namespace activediff
