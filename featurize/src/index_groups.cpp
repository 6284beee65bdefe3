#include "activediff/featurize/index_groups.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "activediff/featurize/error.h"
#include "activediff/featurize/molecule_graph.h"

namespace activediff {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::string listGroups(const std::vector<IndexGroup>& groups) {
  std::string list;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    list += (g == 0 ? "" : ", ") + std::to_string(g) + " " + groups[g].name + " (" +
            std::to_string(groups[g].atoms.size()) + " atoms)";
  }
  return list;
}

}  // namespace

std::vector<IndexGroup> readIndexFile(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw Error(file.string(), "cannot open index file");
  std::vector<IndexGroup> groups;
  std::string line;
  int lineNumber = 0;
  while (std::getline(in, line)) {
    ++lineNumber;
    const std::string text = trim(line);
    if (text.empty()) continue;
    if (text.front() == '[') {
      if (text.back() != ']') throw Error(file.string(), "line " + std::to_string(lineNumber) + ": group header without ']'");
      groups.push_back({trim(text.substr(1, text.size() - 2)), {}});
      if (groups.back().name.empty()) throw Error(file.string(), "line " + std::to_string(lineNumber) + ": group without a name");
      continue;
    }
    if (groups.empty()) throw Error(file.string(), "line " + std::to_string(lineNumber) + ": atom numbers before the first [ group ]");
    std::istringstream words(text);
    std::string word;
    while (words >> word) {
      std::size_t used = 0;
      long long number = 0;
      try {
        number = std::stoll(word, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != word.size()) {
        throw Error(file.string(), "line " + std::to_string(lineNumber) + ": '" + word + "' is not an atom number");
      }
      if (number < 1 || number > 100000000) {
        throw Error(file.string(), "line " + std::to_string(lineNumber) + ": atom number " + word + " out of range");
      }
      groups.back().atoms.push_back(static_cast<int>(number - 1));
    }
  }
  if (groups.empty()) throw Error(file.string(), "no groups in index file");
  return groups;
}

const IndexGroup& chooseIndexGroup(const std::vector<IndexGroup>& groups, const std::string& choice,
                                   const fs::path& file) {
  const std::string wanted = trim(choice);
  if (wanted.empty()) {
    if (groups.size() == 1) return groups.front();
    throw Error(file.string(), "has " + std::to_string(groups.size()) +
                                   " groups; choose one with --group NAME or NUMBER: " + listGroups(groups));
  }
  if (std::all_of(wanted.begin(), wanted.end(), [](unsigned char c) { return std::isdigit(c); })) {
    const auto number = std::stoull(wanted);
    if (number < groups.size()) return groups[number];
    throw Error(file.string(), "no group number " + wanted + " (groups: " + listGroups(groups) + ")");
  }
  for (const IndexGroup& group : groups)
    if (lower(group.name) == lower(wanted)) return group;
  const IndexGroup* match = nullptr;
  for (const IndexGroup& group : groups) {
    if (lower(group.name).rfind(lower(wanted), 0) != 0) continue;
    if (match != nullptr) throw Error(file.string(), "group name '" + wanted + "' is ambiguous (groups: " + listGroups(groups) + ")");
    match = &group;
  }
  if (match != nullptr) return *match;
  throw Error(file.string(), "no group named '" + wanted + "' (groups: " + listGroups(groups) + ")");
}

Structure selectAtoms(const Structure& full, const std::vector<int>& atoms, const std::string& shownAs) {
  if (atoms.empty()) throw Error(shownAs, "the index group is empty");
  const int n = static_cast<int>(full.topology.size());
  std::vector<char> seen(n, 0);
  Structure part;
  part.boxNm = full.boxNm;
  part.positionsNm.resize(static_cast<Eigen::Index>(atoms.size()), 3);
  int residues = 0;
  int lastResidue = -1;
  for (std::size_t k = 0; k < atoms.size(); ++k) {
    const int a = atoms[k];
    if (a < 0 || a >= n) {
      throw Error(shownAs, "index group names atom " + std::to_string(a + 1) + " but the topology has " +
                               std::to_string(n) + " atoms");
    }
    if (seen[a]++) throw Error(shownAs, "index group names atom " + std::to_string(a + 1) + " twice");
    Atom atom = full.topology.atoms[a];
    if (k == 0 || atom.residueIndex != lastResidue) ++residues;
    lastResidue = atom.residueIndex;
    atom.residueIndex = residues - 1;
    part.topology.atoms.push_back(atom);
    part.positionsNm.row(static_cast<Eigen::Index>(k)) = full.positionsNm.row(a);
  }
  // The reference itself may be split across the box (GROMACS writes
  // solvated systems with every atom put into the box).
  const MoleculeGraph graph(part.topology, part.positionsNm, {}, full.boxNm);
  graph.makeWhole(part.positionsNm, full.boxNm);
  return part;
}

void selectRows(const PositionsNm& positions, const std::vector<int>& atoms, PositionsNm& out) {
  out.resize(static_cast<Eigen::Index>(atoms.size()), 3);
  for (std::size_t k = 0; k < atoms.size(); ++k) out.row(static_cast<Eigen::Index>(k)) = positions.row(atoms[k]);
}

}  // namespace activediff
