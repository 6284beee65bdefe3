#include "activediff/featurize/clashes.h"

#include <queue>

namespace activediff {

ClashDetector::ClashDetector(const Topology& topology, const MoleculeGraph& graph) {
  const int n = static_cast<int>(topology.size());
  for (int i = 0; i < n; ++i) {
    // Bond distance from i by breadth-first search, up to 3.
    std::vector<int> hops(n, -1);
    hops[i] = 0;
    std::queue<int> queue;
    queue.push(i);
    while (!queue.empty()) {
      const int a = queue.front();
      queue.pop();
      if (hops[a] == 3) continue;
      for (int b : graph.neighbours(a)) {
        if (hops[b] < 0) {
          hops[b] = hops[a] + 1;
          queue.push(b);
        }
      }
    }
    for (int j = i + 1; j < n; ++j) {
      if (hops[j] >= 0) continue;  // within three bonds
      const bool hydrogen = isHydrogen(topology.atoms[i]) || isHydrogen(topology.atoms[j]);
      pairs_.push_back({i, j, hydrogen ? kClashWithHydrogenNm : kClashHeavyHeavyNm});
    }
  }
}

int ClashDetector::clashes(const double* x) const {
  int count = 0;
  for (const Pair& p : pairs_) {
    const double dx = x[3 * p.i] - x[3 * p.j], dy = x[3 * p.i + 1] - x[3 * p.j + 1], dz = x[3 * p.i + 2] - x[3 * p.j + 2];
    if (dx * dx + dy * dy + dz * dz < p.minimumNm * p.minimumNm) ++count;
  }
  return count;
}

std::int64_t ClashDetector::countStructuresWithClashes(const StructureBatchNm& structures) const {
  std::int64_t count = 0;
  for (Eigen::Index r = 0; r < structures.rows(); ++r) {
    if (!structures.row(r).allFinite()) continue;
    if (clashes(structures.row(r).data()) > 0) ++count;
  }
  return count;
}

}  // namespace activediff
