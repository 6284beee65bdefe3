#include "activediff/featurize/molecule_graph.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <deque>
#include <optional>
#include <sstream>

namespace activediff {

namespace {

// Single-bond covalent radii (Cordero et al. 2008), nm.
double covalentRadiusNm(const std::string& element) {
  if (element == "H") return 0.031;
  if (element == "C") return 0.076;
  if (element == "N") return 0.071;
  if (element == "O") return 0.066;
  if (element == "S") return 0.105;
  if (element == "P") return 0.107;
  return 0.08;
}
// Slack on top of the radii sum; covers double bonds and thermal stretch
// while staying well below any 1-3 distance.
constexpr double kBondSlackNm = 0.045;

std::string elementOfAtomicNumber(int z) {
  switch (z) {
    case 1: return "H";
    case 6: return "C";
    case 7: return "N";
    case 8: return "O";
    case 15: return "P";
    case 16: return "S";
    default: return "";
  }
}

std::string normalizedElement(const std::string& text) {
  std::string element;
  for (char c : text)
    if (std::isalpha(static_cast<unsigned char>(c))) element += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!element.empty()) element[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(element[0])));
  return element;
}

// Most bonded neighbours an atom of this element has in a biomolecule.
int maxNeighbours(const std::string& element) {
  if (element == "H") return 1;
  if (element == "O") return 2;
  if (element == "C" || element == "N") return 4;
  return 6;
}

// What a protein-backbone atom name implies: its element and the atoms it
// must be bonded to, as (residue offset, first of these names present).
struct NameRule {
  std::string element;
  std::vector<std::pair<int, std::vector<std::string>>> partners;
};
const NameRule* ruleFor(const std::string& name) {
  static const std::vector<std::pair<std::string, NameRule>> rules = {
      {"N", {"N", {{-1, {"C"}}, {0, {"CA", "CH3"}}}}},
      {"CA", {"C", {{0, {"N"}}, {0, {"C"}}, {0, {"CB"}}, {0, {"HA"}}}}},
      {"C", {"C", {{0, {"O"}}, {1, {"N"}}, {0, {"CA", "CH3"}}}}},
      {"O", {"O", {{0, {"C"}}}}},
      {"CB", {"C", {{0, {"CA"}}}}},
      {"H", {"H", {{0, {"N"}}}}},
      {"HA", {"H", {{0, {"CA"}}}}},
      {"CH3", {"C", {{0, {"C", "N"}}}}},  // caps: ACE's CH3-C, NME's N-CH3
  };
  for (const auto& [ruleName, rule] : rules)
    if (ruleName == name) return &rule;
  return nullptr;
}

bool isPeriodicBox(const Eigen::Matrix3d& boxNm) {
  return boxNm(0, 0) > 0.0 && boxNm(1, 1) > 0.0 && boxNm(2, 2) > 0.0;
}

// The minimum image of d in a GROMACS box (rows are box vectors, lower
// triangular): correct z first, then y, then x, as gmx does for bonded pairs.
Eigen::RowVector3d minimumImage(Eigen::RowVector3d d, const Eigen::Matrix3d& boxNm) {
  for (int dim = 2; dim >= 0; --dim) {
    if (std::abs(d(dim)) <= 0.5 * boxNm(dim, dim)) continue;  // the usual case: already whole
    d -= std::round(d(dim) / boxNm(dim, dim)) * boxNm.row(dim);
  }
  return d;
}

std::string formatNm(double valueNm) {
  std::ostringstream out;
  out.precision(3);
  out << std::fixed << valueNm;
  return out.str();
}

}  // namespace

BondPlausibility::BondPlausibility(std::vector<std::pair<int, int>> bonds, std::vector<double> referenceLengthsNm,
                                   std::function<std::string(int)> label)
    : bonds_(std::move(bonds)), referenceLengthsNm_(std::move(referenceLengthsNm)), label_(std::move(label)) {
  for (double r : referenceLengthsNm_) sumSquaredReferenceNm2_ += r * r;
  if (!label_) label_ = [](int atom) { return "atom " + std::to_string(atom + 1); };
}

double BondPlausibility::scale(const PositionsNm& positionsNm) const {
  double sum = 0.0;
  for (std::size_t b = 0; b < bonds_.size(); ++b)
    sum += (positionsNm.row(bonds_[b].first) - positionsNm.row(bonds_[b].second)).norm() * referenceLengthsNm_[b];
  return sumSquaredReferenceNm2_ > 0.0 ? sum / sumSquaredReferenceNm2_ : 1.0;
}

namespace {

// The bond farthest from its reference length: (deviation in nm, bond index);
// NaN as soon as a bond length is not a number.
std::pair<double, std::size_t> largestBondDeviation(const PositionsNm& positionsNm,
                                                    const std::vector<std::pair<int, int>>& bonds,
                                                    const std::vector<double>& referenceLengthsNm) {
  double worst = 0.0;
  std::size_t worstBond = 0;
  for (std::size_t b = 0; b < bonds.size(); ++b) {
    const double d = (positionsNm.row(bonds[b].first) - positionsNm.row(bonds[b].second)).norm();
    const double deviation = std::abs(d - referenceLengthsNm[b]);
    if (!(deviation <= worst)) {  // also catches NaN
      worst = deviation;
      worstBond = b;
      if (std::isnan(deviation)) break;
    }
  }
  return {worst, worstBond};
}

}  // namespace

std::string BondPlausibility::check(const PositionsNm& positionsNm) const {
  const auto [worst, worstBond] = largestBondDeviation(positionsNm, bonds_, referenceLengthsNm_);
  if (!(worst <= kMaxBondDeviationNm)) {
    const auto [i, j] = bonds_[worstBond];
    std::ostringstream out;
    out.precision(4);
    out << "bond " << label_(i) << "-" << label_(j) << " is " << (positionsNm.row(i) - positionsNm.row(j)).norm()
        << " nm (reference " << referenceLengthsNm_[worstBond] << " nm)";
    return out.str();
  }
  const double s = scale(positionsNm);
  if (!(std::abs(s - 1.0) <= kMaxScaleDeviation)) {
    std::ostringstream out;
    out.precision(3);
    out << "bonds are " << std::fixed << 100.0 * std::abs(s - 1.0) << " % " << (s > 1.0 ? "longer" : "shorter")
        << " than the reference on average (least-squares scale " << s << " over " << bonds_.size()
        << " bonds; MD stays within " << 100.0 * kMaxScaleDeviation << " %): the whole frame is stretched";
    return out.str();
  }
  return "";
}

std::string elementOf(const Atom& atom) {
  std::string element;
  for (char c : atom.element)
    if (std::isalpha(static_cast<unsigned char>(c))) element += c;
  if (!element.empty()) {
    element[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(element[0])));
    for (std::size_t k = 1; k < element.size(); ++k)
      element[k] = static_cast<char>(std::tolower(static_cast<unsigned char>(element[k])));
    return element;
  }
  for (char c : atom.name) {
    if (std::isalpha(static_cast<unsigned char>(c))) return std::string(1, static_cast<char>(std::toupper(c)));
  }
  return "";
}

bool isHydrogen(const Atom& atom) { return elementOf(atom) == "H"; }

std::string atomLabel(const Topology& topology, int atom) {
  const Atom& a = topology.atoms.at(atom);
  return a.residueName + std::to_string(a.residueNumber) + ":" + a.name;
}

MoleculeGraph::MoleculeGraph(const Topology& topology, const PositionsNm& referenceNm,
                             const std::vector<int>& seedAtoms, const Eigen::Matrix3d& periodicBoxNm)
    : topology_(&topology) {
  const bool periodic = isPeriodicBox(periodicBoxNm);
  const int n = static_cast<int>(topology.size());
  neighbours_.assign(n, {});
  std::vector<double> radius(n);
  for (int i = 0; i < n; ++i) radius[i] = covalentRadiusNm(elementOf(topology.atoms[i]));
  std::vector<int> seeds = seedAtoms;
  if (seeds.empty())
    for (int i = 0; i < n; ++i) seeds.push_back(i);
  // Breadth-first search over bonds found on demand: only the component(s)
  // holding the seeds are explored, so solvent never costs anything.
  std::vector<char> visited(n, 0);
  for (int seed : seeds) {
    if (visited[seed]) continue;
    visited[seed] = 1;
    treeOrder_.push_back({seed, -1});
    std::deque<int> queue{seed};
    while (!queue.empty()) {
      const int i = queue.front();
      queue.pop_front();
      for (int j = 0; j < n; ++j) {
        if (j == i) continue;
        Eigen::RowVector3d delta = referenceNm.row(i) - referenceNm.row(j);
        if (periodic) delta = minimumImage(delta, periodicBoxNm);
        const double d = delta.norm();
        if (d >= radius[i] + radius[j] + kBondSlackNm) continue;
        if (std::find(neighbours_[i].begin(), neighbours_[i].end(), j) == neighbours_[i].end()) {
          neighbours_[i].push_back(j);
          neighbours_[j].push_back(i);
          bonds_.push_back({std::min(i, j), std::max(i, j)});
          referenceLengthsNm_.push_back(d);
        }
        if (!visited[j]) {
          visited[j] = 1;
          treeOrder_.push_back({j, i});
          queue.push_back(j);
        }
      }
    }
  }
}

void makeWholeAlong(const std::vector<std::pair<int, int>>& forest, PositionsNm& positionsNm,
                    const Eigen::Matrix3d& boxNm) {
  if (!isPeriodicBox(boxNm)) return;
  for (const auto& [atom, parent] : forest) {
    if (parent < 0) continue;
    positionsNm.row(atom) = positionsNm.row(parent) + minimumImage(positionsNm.row(atom) - positionsNm.row(parent), boxNm);
  }
}

std::vector<std::pair<int, int>> spanningForest(int atomCount, const std::vector<std::pair<int, int>>& bonds) {
  std::vector<std::vector<int>> neighbours(static_cast<std::size_t>(atomCount));
  for (const auto& [i, j] : bonds) {
    if (i < 0 || j < 0 || i >= atomCount || j >= atomCount) continue;
    neighbours[i].push_back(j);
    neighbours[j].push_back(i);
  }
  std::vector<std::pair<int, int>> forest;
  std::vector<char> visited(static_cast<std::size_t>(atomCount), 0);
  for (int root = 0; root < atomCount; ++root) {
    if (visited[root]) continue;
    visited[root] = 1;
    forest.push_back({root, -1});
    std::deque<int> queue{root};
    while (!queue.empty()) {
      const int i = queue.front();
      queue.pop_front();
      for (int j : neighbours[i]) {
        if (visited[j]) continue;
        visited[j] = 1;
        forest.push_back({j, i});
        queue.push_back(j);
      }
    }
  }
  return forest;
}

void MoleculeGraph::makeWhole(PositionsNm& positionsNm, const Eigen::Matrix3d& boxNm) const {
  makeWholeAlong(treeOrder_, positionsNm, boxNm);
}

BondPlausibility MoleculeGraph::plausibility() const {
  const Topology* topology = topology_;
  return BondPlausibility(bonds_, referenceLengthsNm_, [topology](int atom) { return atomLabel(*topology, atom); });
}

std::string MoleculeGraph::checkChemistry(const std::vector<int>& atoms, const PositionsNm& referenceNm) const {
  const Topology& top = *topology_;
  const auto label = [&](int atom) { return atomLabel(top, atom); };
  for (int a : atoms) {
    const Atom& atom = top.atoms.at(a);
    const NameRule* rule = ruleFor(atom.name);
    const std::string element = rule != nullptr ? rule->element : elementOf(atom);
    if (rule != nullptr) {
      const std::string declared = normalizedElement(atom.element);
      if (!declared.empty() && declared != element) {
        return "atom " + label(a) + " is named like a " + element + " but its element is " + declared;
      }
      const std::string fromType = elementOfAtomicNumber(atom.atomicNumber);
      if (atom.atomicNumber > 0 && fromType != element) {
        return "atom " + label(a) + " is named like a " + element + " but its atom type has atomic number " +
               std::to_string(atom.atomicNumber);
      }
    }
    const auto& bonded = neighbours_.at(a);
    if (bonded.empty()) return "atom " + label(a) + " is bonded to nothing (no atom within bonding distance)";
    if (static_cast<int>(bonded.size()) > maxNeighbours(element)) {
      std::string list;
      for (int j : bonded) list += (list.empty() ? "" : ", ") + label(j);
      return "atom " + label(a) + " (" + element + ") has " + std::to_string(bonded.size()) +
             " atoms within bonding distance (" + list + "), more than a " + element + " can bond";
    }
    if (rule == nullptr) continue;
    for (const auto& [offset, names] : rule->partners) {
      std::optional<int> partner;
      for (const std::string& name : names)
        if (!partner) partner = top.find(atom.residueIndex + offset, name);
      if (!partner) continue;  // e.g. no CB in glycine, no previous residue
      if (std::find(bonded.begin(), bonded.end(), *partner) != bonded.end()) continue;
      const double d = (referenceNm.row(a) - referenceNm.row(*partner)).norm();
      const double maxBond = covalentRadiusNm(element) + covalentRadiusNm(elementOf(top.atoms[*partner])) + kBondSlackNm;
      return "atom " + label(a) + " is not bonded to " + label(*partner) + " (" + formatNm(d) +
             " nm apart, a bond is shorter than " + formatNm(maxBond) + " nm)";
    }
  }
  return "";
}

std::string MoleculeGraph::checkBonds(const PositionsNm& positionsNm, double toleranceNm) const {
  bool allGood = true;
  for (std::size_t b = 0; b < bonds_.size() && allGood; ++b) {
    const double d = (positionsNm.row(bonds_[b].first) - positionsNm.row(bonds_[b].second)).norm();
    allGood = std::abs(d - referenceLengthsNm_[b]) <= toleranceNm;  // false for NaN
  }
  if (allGood) return {};
  const auto [worst, worstBond] = largestBondDeviation(positionsNm, bonds_, referenceLengthsNm_);
  if (worst <= toleranceNm) return "";
  const auto [i, j] = bonds_[worstBond];
  std::ostringstream out;
  out.precision(4);
  out << "bond " << atomLabel(*topology_, i) << "-" << atomLabel(*topology_, j) << " is "
      << (positionsNm.row(i) - positionsNm.row(j)).norm() << " nm (reference " << referenceLengthsNm_[worstBond]
      << " nm)";
  return out.str();
}

}  // namespace activediff
