#pragma once
// GROMACS index files (.ndx, as gmx make_ndx and gmx select -on write them)
// and the selection of a molecule's atoms in a larger (solvated) system.
#include <filesystem>
#include <string>
#include <vector>

#include "activediff/featurize/structure.h"

namespace activediff {

struct IndexGroup {
  std::string name;
  std::vector<int> atoms;  // 0-based, in file order (the file holds 1-based numbers)
};

// Every group of an .ndx file, in file order. A malformed file (numbers
// before the first [ group ], a non-number, atom number < 1) is an Error
// naming the file and line.
std::vector<IndexGroup> readIndexFile(const std::filesystem::path& file);

// The group a user names as gmx tools accept it: its number as gmx lists
// them (0-based), or its name (case-insensitive; else a unique prefix). An
// empty choice is fine only when the file has one group. Errors list the
// groups.
const IndexGroup& chooseIndexGroup(const std::vector<IndexGroup>& groups, const std::string& choice,
                                   const std::filesystem::path& file);

// The atoms of `atoms` (0-based indices into full) as a structure of their
// own, residues renumbered 0-based in order of appearance, and made whole
// across the periodic box of full (the molecule's bonds found with minimum
// image distances, each atom moved to the minimum image of its bonded
// predecessor, as gmx trjconv -pbc mol does). Duplicate or out-of-range
// atoms are an Error naming shownAs.
Structure selectAtoms(const Structure& full, const std::vector<int>& atoms, const std::string& shownAs);

// The rows `atoms` of positions, into out (resized).
void selectRows(const PositionsNm& positions, const std::vector<int>& atoms, PositionsNm& out);

}  // namespace activediff
