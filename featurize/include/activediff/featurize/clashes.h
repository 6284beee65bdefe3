#pragma once
// Steric clashes: atom pairs more than three bonds apart that are closer than
// a contact distance no force-field structure reaches at 300 K
// (heavy-heavy 0.22 nm; pairs with hydrogen 0.12 nm). Used to count broken
// rebuilt or generated structures.
#include <string>
#include <vector>

#include "activediff/featurize/molecule_graph.h"
#include "activediff/featurize/zmatrix.h"

namespace activediff {

constexpr double kClashHeavyHeavyNm = 0.22;
constexpr double kClashWithHydrogenNm = 0.12;

class ClashDetector {
 public:
  ClashDetector(const Topology& topology, const MoleculeGraph& graph);
  // Number of clashing pairs in one structure (positions in topology order).
  int clashes(const double* xyzNm) const;
  // Structures (rows of a batch) with at least one clash; NaN rows are skipped.
  std::int64_t countStructuresWithClashes(const StructureBatchNm& structures) const;

 private:
  struct Pair {
    int i, j;
    double minimumNm;
  };
  std::vector<Pair> pairs_;
};

}  // namespace activediff
