#include "activediff/featurize/hydrogens.h"

#include <algorithm>
#include <cmath>

#include "activediff/featurize/error.h"
#include "activediff/featurize/geometry.h"

namespace activediff {

namespace {

double hydrogenBondNm(const std::string& parentElement) {
  if (parentElement == "N") return 0.1010;
  if (parentElement == "O") return 0.0960;
  if (parentElement == "S") return 0.1336;
  return 0.1090;
}

constexpr double kTetrahedralRad = 109.4712206 * kRadPerDeg;

}  // namespace

HydrogenPlacer::HydrogenPlacer(const Topology& topology, const PositionsNm& referenceNm,
                               const std::vector<int>& placedAtoms, const std::string& topologyFile)
    : atomCount_(static_cast<int>(topology.size())) {
  const int n = atomCount_;
  std::vector<char> placed(n, 0);
  for (int a : placedAtoms) placed[a] = 1;
  MoleculeGraph graph(topology, referenceNm, placedAtoms);
  std::vector<int> groupOf(n, -1);
  for (int h = 0; h < n; ++h) {
    if (placed[h]) continue;
    const Atom& atom = topology.atoms[h];
    if (!isHydrogen(atom)) {
      throw Error(topologyFile, "atom " + atomLabel(topology, h) +
                                    " is neither described by the features nor a hydrogen; cannot rebuild it");
    }
    const auto& bonded = graph.neighbours(h);
    if (bonded.size() != 1 || !placed[bonded[0]]) {
      throw Error(topologyFile, "hydrogen " + atomLabel(topology, h) +
                                    " is not bonded to exactly one rebuilt atom in the reference structure");
    }
    const int parent = bonded[0];
    if (groupOf[parent] < 0) {
      Group group;
      group.parent = parent;
      for (int k : graph.neighbours(parent))
        if (placed[k]) group.neighbours.push_back(k);
      groupOf[parent] = static_cast<int>(groups_.size());
      groups_.push_back(group);
    }
    Group& group = groups_[groupOf[parent]];
    group.hydrogens.push_back(h);
    group.bondNm.push_back(hydrogenBondNm(elementOf(topology.atoms[parent])));
  }
  for (Group& group : groups_) {
    const std::size_t k = group.neighbours.size(), h = group.hydrogens.size();
    const bool supported = (k == 3 && h == 1) || (k == 2 && (h == 1 || h == 2)) || (k == 1 && h <= 3);
    if (!supported) {
      throw Error(topologyFile, "cannot place the " + std::to_string(h) + " hydrogen(s) of " +
                                    atomLabel(topology, group.parent) + " with " + std::to_string(k) +
                                    " rebuilt neighbours: unsupported geometry");
    }
    if (k == 1) {
      const int neighbour = group.neighbours[0];
      for (int m : graph.neighbours(neighbour)) {
        if (m != group.parent && placed[m]) {
          group.torsionReference = m;
          break;
        }
      }
      if (group.torsionReference < 0) {
        throw Error(topologyFile, "cannot orient the hydrogens of " + atomLabel(topology, group.parent) +
                                      ": its neighbour has no other rebuilt neighbour");
      }
      // The rotor phase (and, for methyls, the handedness H1 -> H2 -> H3)
      // comes from the reference structure, which is force-field minimized:
      // e.g. the ACE methyl eclipses O, the NME methyl is anti to C.
      auto ref = [&](int i) -> Eigen::Vector3d { return referenceNm.row(i).transpose(); };
      const double t1 = dihedralRad(ref(group.torsionReference), ref(neighbour), ref(group.parent),
                                    ref(group.hydrogens[0]));
      group.phaseRad = t1;
      if (h >= 2) {
        const double t2 = dihedralRad(ref(group.torsionReference), ref(neighbour), ref(group.parent),
                                      ref(group.hydrogens[1]));
        group.methylHandedness = wrapToPiRad(t2 - t1) > 0 ? 1.0 : -1.0;
      }
    }
  }
}

void HydrogenPlacer::place(StructureBatchNm& structures) const {
  if (structures.cols() != 3 * atomCount_) throw Error("hydrogen placement: structure size does not match topology");
  for (Eigen::Index s = 0; s < structures.rows(); ++s) {
    double* x = structures.row(s).data();
    auto at = [&](int i) { return Eigen::Map<Eigen::Vector3d>(x + 3 * i); };
    for (const Group& g : groups_) {
      const Eigen::Vector3d p = at(g.parent);
      if (g.neighbours.size() >= 2) {
        Eigen::Vector3d sum = Eigen::Vector3d::Zero();
        for (int k : g.neighbours) sum += (at(k) - p).normalized();
        const Eigen::Vector3d away = -sum.normalized();
        if (g.hydrogens.size() == 1) {
          at(g.hydrogens[0]) = p + g.bondNm[0] * away;
        } else {
          // Two H on a tetrahedral centre: in the plane perpendicular to the
          // two neighbours' plane, half the H-C-H angle either side of "away".
          const Eigen::Vector3d normal =
              (at(g.neighbours[0]) - p).cross(at(g.neighbours[1]) - p).normalized();
          const double half = 0.5 * kTetrahedralRad;
          at(g.hydrogens[0]) = p + g.bondNm[0] * (std::cos(half) * away + std::sin(half) * normal);
          at(g.hydrogens[1]) = p + g.bondNm[1] * (std::cos(half) * away - std::sin(half) * normal);
        }
        continue;
      }
      const Eigen::Vector3d a = at(g.torsionReference), b = at(g.neighbours[0]);
      const std::size_t count = g.hydrogens.size();
      for (std::size_t k = 0; k < count; ++k) {
        double torsion = g.phaseRad, angle = kTetrahedralRad;
        if (count == 3) torsion += g.methylHandedness * (2.0 * kPi / 3.0) * static_cast<double>(k);
        if (count == 2) {
          torsion += k == 0 ? 0.0 : kPi;
          angle = 120.0 * kRadPerDeg;
        }
        at(g.hydrogens[k]) = placeAtomNm(a, b, p, g.bondNm[k], angle, torsion);
      }
    }
  }
}

}  // namespace activediff
