#pragma once
// RMSD after optimal rigid superposition (Kabsch), for comparing rebuilt and
// original structures that differ by a rigid motion.
#include <vector>

#include "activediff/featurize/structure.h"

namespace activediff {

// RMSD in nm over the given atoms (all atoms if empty), after translating
// both centroids to the origin and rotating b onto a (no reflection).
// mobile moved rigidly (all atoms) to fit reference best over the given atoms
// (all if empty), in the least-squares sense, without reflection.
PositionsNm superposeOnto(const PositionsNm& reference, const PositionsNm& mobile, const std::vector<int>& atoms = {});

double superposedRmsdNm(const PositionsNm& a, const PositionsNm& b, const std::vector<int>& atoms = {});

}  // namespace activediff
