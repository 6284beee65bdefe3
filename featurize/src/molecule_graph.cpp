#include "activediff/featurize/molecule_graph.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <deque>
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

}  // namespace

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
                             const std::vector<int>& seedAtoms)
    : topology_(&topology) {
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
        const double d = (referenceNm.row(i) - referenceNm.row(j)).norm();
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

void MoleculeGraph::makeWhole(PositionsNm& positionsNm, const Eigen::Matrix3d& boxNm) const {
  if (boxNm(0, 0) <= 0.0 || boxNm(1, 1) <= 0.0 || boxNm(2, 2) <= 0.0) return;
  for (const auto& [atom, parent] : treeOrder_) {
    if (parent < 0) continue;
    Eigen::RowVector3d d = positionsNm.row(atom) - positionsNm.row(parent);
    // GROMACS boxes are lower triangular (rows are box vectors): correct z
    // first, then y, then x.
    for (int dim = 2; dim >= 0; --dim) {
      if (std::abs(d(dim)) <= 0.5 * boxNm(dim, dim)) continue;  // the usual case: already whole
      d -= std::round(d(dim) / boxNm(dim, dim)) * boxNm.row(dim);
    }
    positionsNm.row(atom) = positionsNm.row(parent) + d;
  }
}

std::string MoleculeGraph::checkBonds(const PositionsNm& positionsNm, double toleranceNm) const {
  bool allGood = true;
  for (std::size_t b = 0; b < bonds_.size() && allGood; ++b) {
    const double d = (positionsNm.row(bonds_[b].first) - positionsNm.row(bonds_[b].second)).norm();
    allGood = std::abs(d - referenceLengthsNm_[b]) <= toleranceNm;  // false for NaN
  }
  if (allGood) return {};
  double worst = 0.0;
  std::size_t worstBond = 0;
  for (std::size_t b = 0; b < bonds_.size(); ++b) {
    const double d = (positionsNm.row(bonds_[b].first) - positionsNm.row(bonds_[b].second)).norm();
    const double deviation = std::abs(d - referenceLengthsNm_[b]);
    if (!(deviation <= worst)) {  // also catches NaN
      worst = deviation;
      worstBond = b;
      if (std::isnan(deviation)) break;
    }
  }
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
