#include "activediff/featurize/rebuild.h"

#include <Eigen/Geometry>
#include <cmath>
#include <queue>
#include <sstream>

#include "activediff/featurize/error.h"
#include "activediff/featurize/geometry.h"
#include "activediff/featurize/molecule_graph.h"
#include "activediff/featurize/superposition.h"

namespace activediff {

namespace {

// Atoms reachable from `start` without crossing the bond start-blocked.
std::vector<int> sideOfBond(const MoleculeGraph& graph, int atomCount, int blocked, int start) {
  std::vector<char> seen(atomCount, 0);
  seen[blocked] = seen[start] = 1;
  std::vector<int> side{start};
  std::queue<int> queue;
  queue.push(start);
  while (!queue.empty()) {
    const int atom = queue.front();
    queue.pop();
    for (int next : graph.neighbours(atom)) {
      if (seen[next]) continue;
      seen[next] = 1;
      side.push_back(next);
      queue.push(next);
    }
  }
  return side;
}

// Rotates `atoms` about the axis from->to by angleRad (right-handed): the
// torsion a-from-to-d of any moved atom d grows by angleRad.
void rotateAbout(PositionsNm& x, const std::vector<int>& atoms, int from, int to, double angleRad) {
  const Eigen::Vector3d origin = x.row(from).transpose();
  const Eigen::Vector3d axis = (x.row(to) - x.row(from)).transpose().normalized();
  const Eigen::Matrix3d rotation = Eigen::AngleAxisd(angleRad, axis).toRotationMatrix();
  for (int atom : atoms) {
    const Eigen::Vector3d p = x.row(atom).transpose() - origin;
    x.row(atom) = (rotation * p + origin).transpose();
  }
}

}  // namespace

std::int64_t RebuildResult::invalidCount() const {
  std::int64_t count = 0;
  for (const std::string& reason : invalid) count += reason.empty() ? 0 : 1;
  return count;
}

StructureRebuilder::StructureRebuilder(const Featurizer& featurizer, const Structure& templateStructure,
                                       const std::string& templateFile)
    : featurizer_(featurizer), template_(templateStructure) {
  if (static_cast<int>(template_.topology.size()) != featurizer.atomCount()) {
    throw Error(templateFile, "template has " + std::to_string(template_.topology.size()) +
                                  " atoms but the features were made for " +
                                  std::to_string(featurizer.atomCount()));
  }
  const int n = atomCount();
  if (const ZMatrix* zmatrix = featurizer.zmatrix()) {
    hydrogens_.emplace(template_.topology, template_.positionsNm, zmatrix->rowAtoms(), templateFile);
    alignAtoms_ = zmatrix->rowAtoms();
  } else {
    const MoleculeGraph graph(template_.topology, template_.positionsNm);
    const auto& phi = featurizer.backbone().phi;  // C(i-1) N CA C
    const auto& psi = featurizer.backbone().psi;  // N CA C N(i+1)
    phiSide_ = sideOfBond(graph, n, phi[1], phi[2]);
    psiSide_ = sideOfBond(graph, n, psi[1], psi[2]);
    for (int atom : phiSide_) {
      if (atom == phi[0]) throw Error(templateFile, "phi bond N-CA is in a ring; cannot set phi by rotation");
    }
    alignAtoms_.assign(phi.begin(), phi.end());
    alignAtoms_.push_back(psi[3]);
  }
}

std::string invalidFeatureReason(const std::vector<FeatureInfo>& features, const double* row) {
  for (std::size_t f = 0; f < features.size(); ++f) {
    const double v = row[f];
    if (!std::isfinite(v)) return "non-finite " + features[f].name;
    if (features[f].kind == FeatureKind::BondNm && v <= 0.0) return "bond length <= 0: " + features[f].name;
    if (features[f].kind == FeatureKind::BondNm && v > kMaxBondLengthNm) {
      std::ostringstream reason;
      reason << "bond length > " << kMaxBondLengthNm << " nm: " << features[f].name;
      return reason.str();
    }
    if (features[f].kind == FeatureKind::AngleRad && (v <= 0.0 || v >= kPi)) {
      return "bond angle outside (0, pi): " + features[f].name;
    }
  }
  return "";
}

PositionsNm StructureRebuilder::setPhiPsi(double phiRad, double psiRad) const {
  PositionsNm x = template_.positionsNm;
  const auto& backbone = featurizer_.backbone();
  const auto current = phiPsiRad(backbone, x);
  rotateAbout(x, phiSide_, backbone.phi[1], backbone.phi[2], wrapToPiRad(phiRad - current[0]));
  const double psiNow = phiPsiRad(backbone, x)[1];
  rotateAbout(x, psiSide_, backbone.psi[1], backbone.psi[2], wrapToPiRad(psiRad - psiNow));
  return x;
}

RebuildResult StructureRebuilder::rebuild(const FeatureMatrix& features) const {
  if (features.cols() != featurizer_.dimension()) {
    throw Error("rebuild: features have " + std::to_string(features.cols()) + " columns, expected " +
                std::to_string(featurizer_.dimension()) + " (" + featureSetName(featurizer_.set()) + ")");
  }
  const int n = atomCount();
  RebuildResult result;
  result.invalid.resize(features.rows());
  result.structures.setConstant(features.rows(), 3 * n, std::numeric_limits<double>::quiet_NaN());
  for (Eigen::Index r = 0; r < features.rows(); ++r) result.invalid[r] = invalidFeatureReason(featurizer_.features(), features.row(r).data());

  if (featurizer_.zmatrix() != nullptr) {
    result.structures = featurizer_.zmatrix()->rebuild(features);
    hydrogens_->place(result.structures);
  } else {
    for (Eigen::Index r = 0; r < features.rows(); ++r) {
      if (!result.invalid[r].empty()) continue;
      const PositionsNm x = setPhiPsi(features(r, 0), features(r, 1));
      result.structures.row(r) = Eigen::Map<const Eigen::RowVectorXd>(x.data(), 3 * n);
    }
  }
  for (Eigen::Index r = 0; r < features.rows(); ++r) {
    // Valid features can still give a structure that is not finite (a
    // degenerate frame); it is rejected here, never written.
    if (result.invalid[r].empty() && !result.structures.row(r).allFinite()) {
      result.invalid[r] = std::string(kNonFiniteStructureReason);
    }
    if (!result.invalid[r].empty()) {
      result.structures.row(r).setConstant(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    const PositionsNm x = Eigen::Map<const PositionsNm>(result.structures.row(r).data(), n, 3);
    const PositionsNm aligned = superposeOnto(template_.positionsNm, x, alignAtoms_);
    if (!aligned.allFinite()) {
      result.invalid[r] = std::string(kNonFiniteStructureReason);
      result.structures.row(r).setConstant(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    result.structures.row(r) = Eigen::Map<const Eigen::RowVectorXd>(aligned.data(), 3 * n);
  }
  return result;
}

}  // namespace activediff
