#pragma once
// Features -> full-atom structures, for generated and MD features alike (so
// they can be compared through the same path).
//  - 25D (capped-residue-25d): the exact Z-matrix inverse, then the other
//    hydrogens by standard geometry (HydrogenPlacer).
//  - 2D (phi-psi-2d): the template structure with phi and psi set by rotating
//    rigid fragments about N-CA and CA-C; every bond and angle stays as in the
//    template.
// The result is superposed on the template's Z-matrix / backbone atoms, so
// structures of a batch line up in a viewer.
// Invalid feature rows (non-finite values, bond lengths outside
// (0, kMaxBondLengthNm], bond angles outside (0, pi)) and rows whose rebuilt
// coordinates are not finite are counted and give NaN structures, never an
// exception.
#include <string>
#include <vector>

#include "activediff/featurize/featurizer.h"
#include "activediff/featurize/hydrogens.h"

namespace activediff {

// The longest bond feature that is still a bond. Every bond feature is a
// covalent bond of a Z-matrix; the longest covalent bonds of force fields
// (I-I, 0.267 nm) stay below this, and organic ones below 0.22 nm, so a
// longer value is a broken molecule (or a wild generated sample), not a
// conformation.
constexpr double kMaxBondLengthNm = 0.3;
// Why a structure rebuilt from finite features was still rejected.
constexpr const char* kNonFiniteStructureReason = "structure not finite after rebuilding";

// The one definition of a valid feature row (rebuild, evaluate): "" when
// valid, else why not, e.g. "bond length <= 0: ALA2:CA-ALA2:C". Invalid:
// non-finite values, bond lengths outside (0, kMaxBondLengthNm], bond angles
// outside (0, pi).
std::string invalidFeatureReason(const std::vector<FeatureInfo>& features, const double* row);

struct RebuildResult {
  StructureBatchNm structures;     // [N, 3 * atoms], NaN rows for invalid input
  std::vector<std::string> invalid;  // per row: empty, or why the row was rejected
  std::int64_t invalidCount() const;
};

class StructureRebuilder {
 public:
  // featurizer: made for the same feature set and topology as the features.
  StructureRebuilder(const Featurizer& featurizer, const Structure& templateStructure,
                     const std::string& templateFile);
  int atomCount() const { return static_cast<int>(template_.topology.size()); }
  const Topology& topology() const { return template_.topology; }
  // features: [N, D] in the featurizer's order and units (nm, rad).
  RebuildResult rebuild(const FeatureMatrix& features) const;

 private:
  PositionsNm setPhiPsi(double phiRad, double psiRad) const;

  const Featurizer& featurizer_;
  Structure template_;
  std::optional<HydrogenPlacer> hydrogens_;
  std::vector<int> phiSide_;   // atoms moved when phi changes (CA side of N-CA)
  std::vector<int> psiSide_;   // atoms moved when psi changes (C side of CA-C)
  std::vector<int> alignAtoms_;
};

}  // namespace activediff
