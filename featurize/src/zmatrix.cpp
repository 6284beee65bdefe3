#include "activediff/featurize/zmatrix.h"

#include <cmath>
#include <functional>
#include <limits>

#include "activediff/featurize/error.h"
#include "activediff/featurize/geometry.h"
#include "activediff/featurize/molecule_graph.h"

namespace activediff {

namespace {

// amber99sb-ildn (ffbonded.itp): bond N-H b0 = 0.1010 nm (constrained in the
// reference MD), angle CT-N-H theta0 = 118.04 deg.
constexpr double kAmideNHBondNm = 0.1010;
constexpr double kAmideCaNHAngleDeg = 118.04;

}  // namespace

ZMatrixDefinition cappedResidueZMatrix() {
  const ZAtomName aceCH3{-1, "CH3"}, aceC{-1, "C"}, aceO{-1, "O"};
  const ZAtomName n{0, "N"}, h{0, "H"}, ca{0, "CA"}, cb{0, "CB"}, c{0, "C"}, o{0, "O"};
  const ZAtomName nmeN{1, "N"}, nmeCH3{1, "CH3"};
  ZMatrixDefinition def;
  def.name = "capped-residue-25d";
  def.rows = {
      {aceCH3, {}, ""},
      {aceC, {aceCH3}, ""},
      {n, {aceC, aceCH3}, ""},
      {ca, {n, aceC, aceCH3}, "omega_ACE"},
      {c, {ca, n, aceC}, "phi"},
      {nmeN, {c, ca, n}, "psi"},
      {nmeCH3, {nmeN, c, ca}, "omega_NME"},
      {aceO, {aceC, n, aceCH3}, "improper_O_ACE"},
      {cb, {ca, n, c}, "improper_CB"},
      {o, {c, ca, nmeN}, "improper_O_ALA"},
  };
  ZMatrixRow amideH{h, {n, ca, c}, "torsion_H_ALA"};
  amideH.bondIsFeature = false;
  amideH.angleIsFeature = false;
  amideH.fixedBondNm = kAmideNHBondNm;
  amideH.fixedAngleRad = kAmideCaNHAngleDeg * kRadPerDeg;
  def.rows.push_back(amideH);
  return def;
}

ZMatrix::ZMatrix(const ZMatrixDefinition& definition, const Topology& topology, int centralResidue,
                 const std::string& topologyFile)
    : atomCount_(static_cast<int>(topology.size())) {
  auto resolve = [&](const ZAtomName& name) {
    const int residue = centralResidue + name.residueOffset;
    if (auto index = topology.find(residue, name.name)) return *index;
    std::string where = "residue index " + std::to_string(residue);
    for (const Atom& a : topology.atoms)
      if (a.residueIndex == residue) {
        where = "residue " + a.residueName + std::to_string(a.residueNumber);
        break;
      }
    throw Error(topologyFile, "molecule lacks atom " + name.name + " in " + where + ", needed by the " +
                                  definition.name + " internal coordinates");
  };
  build(definition, resolve, [&](int atom) { return atomLabel(topology, atom); });
}

ZMatrix::ZMatrix(const ZMatrixDefinition& definition, const std::vector<int>& rowAtoms, int atomCount)
    : atomCount_(atomCount) {
  if (rowAtoms.size() != definition.rows.size())
    throw Error(definition.name, "got " + std::to_string(rowAtoms.size()) + " row atoms for a Z-matrix of " +
                                     std::to_string(definition.rows.size()) + " rows");
  for (int a : rowAtoms)
    if (a < 0 || a >= atomCount)
      throw Error(definition.name, "row atom " + std::to_string(a) + " is beyond the " + std::to_string(atomCount) +
                                       " atoms");
  for (std::size_t r = 0; r < rowAtoms.size(); ++r)
    for (std::size_t q = 0; q < r; ++q)
      if (rowAtoms[q] == rowAtoms[r])
        throw Error(definition.name, "atom " + std::to_string(rowAtoms[r]) + " is given for two rows");
  auto resolve = [&](const ZAtomName& name) {
    for (std::size_t r = 0; r < definition.rows.size(); ++r)
      if (definition.rows[r].atom.residueOffset == name.residueOffset && definition.rows[r].atom.name == name.name)
        return rowAtoms[r];
    throw Error(definition.name, "a reference atom " + name.name + " is no row of the Z-matrix");
  };
  build(definition, resolve, [](int atom) { return std::to_string(atom); });
}

void ZMatrix::build(const ZMatrixDefinition& definition, const std::function<int(const ZAtomName&)>& resolve,
                    const std::function<std::string(int)>& atomLabelOf) {
  std::vector<Row> rows;
  std::vector<FeatureInfo> bonds, angles, torsions;
  std::vector<int*> bondSlots, angleSlots, torsionSlots;
  rows.reserve(definition.rows.size());  // slots point into rows
  for (std::size_t r = 0; r < definition.rows.size(); ++r) {
    const ZMatrixRow& row = definition.rows[r];
    const std::size_t needed = std::min<std::size_t>(r, 3);
    if (row.references.size() != needed) {
      throw Error(definition.name, "Z-matrix row " + std::to_string(r) + " needs " + std::to_string(needed) +
                                       " reference atoms");
    }
    Row resolved;
    resolved.atom = resolve(row.atom);
    if (needed >= 1) resolved.bondTo = resolve(row.references[0]);
    if (needed >= 2) resolved.angleTo = resolve(row.references[1]);
    if (needed >= 3) resolved.torsionTo = resolve(row.references[2]);
    resolved.fixedBondNm = row.fixedBondNm;
    resolved.fixedAngleRad = row.fixedAngleRad;
    rows.push_back(resolved);
  }
  // Every reference must be an earlier row, so rebuilding can go in order.
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (int ref : {rows[r].bondTo, rows[r].angleTo, rows[r].torsionTo}) {
      if (ref < 0) continue;
      bool earlier = false;
      for (std::size_t q = 0; q < r; ++q) earlier = earlier || rows[q].atom == ref;
      if (!earlier) throw Error(definition.name, "Z-matrix row " + std::to_string(r) + " refers to a later atom");
    }
  }
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const ZMatrixRow& row = definition.rows[r];
    Row& resolved = rows[r];
    const std::string a = atomLabelOf(resolved.atom);
    if (resolved.bondTo >= 0 && row.bondIsFeature) {
      bonds.push_back({"bond " + a + "-" + atomLabelOf(resolved.bondTo), "nm", false, FeatureKind::BondNm});
      bondSlots.push_back(&resolved.bondFeature);
    }
    if (resolved.angleTo >= 0 && row.angleIsFeature) {
      angles.push_back({"angle " + a + "-" + atomLabelOf(resolved.bondTo) + "-" +
                            atomLabelOf(resolved.angleTo),
                        "rad", false, FeatureKind::AngleRad});
      angleSlots.push_back(&resolved.angleFeature);
    }
    if (resolved.torsionTo >= 0) {
      const std::string name = !row.torsionName.empty()
                                   ? row.torsionName
                                   : "torsion " + atomLabelOf(resolved.torsionTo) + "-" +
                                         atomLabelOf(resolved.angleTo) + "-" +
                                         atomLabelOf(resolved.bondTo) + "-" + a;
      torsions.push_back({name, "rad", true, FeatureKind::TorsionRad});
      torsionSlots.push_back(&resolved.torsionFeature);
    }
  }
  // Order: bonds, angles, torsions (definition order within each kind); a
  // row with fixed bond and angle puts its torsion last, as in PRODUCT.md.
  int next = 0;
  for (std::size_t k = 0; k < bonds.size(); ++k) *bondSlots[k] = next++, features_.push_back(bonds[k]);
  for (std::size_t k = 0; k < angles.size(); ++k) *angleSlots[k] = next++, features_.push_back(angles[k]);
  std::vector<std::size_t> order;
  for (std::size_t k = 0; k < torsions.size(); ++k) order.push_back(k);
  std::stable_partition(order.begin(), order.end(), [&](std::size_t k) {
    for (const Row& row : rows)
      if (&row.torsionFeature == torsionSlots[k]) return row.bondFeature >= 0 || row.angleFeature >= 0;
    return true;
  });
  for (std::size_t k : order) *torsionSlots[k] = next++, features_.push_back(torsions[k]);
  rows_ = std::move(rows);
  for (const Row& row : rows_) rowAtoms_.push_back(row.atom);
}

void ZMatrix::featurize(const PositionsNm& positionsNm, double* out) const {
  auto at = [&](int i) -> Eigen::Vector3d { return positionsNm.row(i).transpose(); };
  for (const Row& row : rows_) {
    if (row.bondFeature >= 0) out[row.bondFeature] = distanceNm(at(row.atom), at(row.bondTo));
    if (row.angleFeature >= 0) out[row.angleFeature] = bondAngleRad(at(row.atom), at(row.bondTo), at(row.angleTo));
    if (row.torsionFeature >= 0) {
      out[row.torsionFeature] = dihedralRad(at(row.torsionTo), at(row.angleTo), at(row.bondTo), at(row.atom));
    }
  }
}

FeatureMatrix ZMatrix::featurize(const StructureBatchNm& structures) const {
  FeatureMatrix features(structures.rows(), featureCount());
  PositionsNm positions(atomCount_, 3);
  for (Eigen::Index s = 0; s < structures.rows(); ++s) {
    positions = Eigen::Map<const PositionsNm>(structures.row(s).data(), atomCount_, 3);
    featurize(positions, features.row(s).data());
  }
  return features;
}

StructureBatchNm ZMatrix::rebuild(const FeatureMatrix& features) const {
  if (features.cols() != featureCount()) {
    throw Error("rebuild: got " + std::to_string(features.cols()) + " features per sample, the Z-matrix has " +
                std::to_string(featureCount()));
  }
  StructureBatchNm structures(features.rows(), 3 * atomCount_);
  structures.setConstant(std::numeric_limits<double>::quiet_NaN());
  for (Eigen::Index s = 0; s < features.rows(); ++s) {
    const double* f = features.row(s).data();
    double* x = structures.row(s).data();
    auto at = [&](int i) { return Eigen::Map<Eigen::Vector3d>(x + 3 * i); };
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      const Row& row = rows_[r];
      const double bond = row.bondFeature >= 0 ? f[row.bondFeature] : row.fixedBondNm;
      const double angle = row.angleFeature >= 0 ? f[row.angleFeature] : row.fixedAngleRad;
      if (r == 0) {
        at(row.atom) = Eigen::Vector3d::Zero();
      } else if (r == 1) {
        at(row.atom) = at(row.bondTo) + Eigen::Vector3d(bond, 0.0, 0.0);
      } else if (r == 2) {
        // A virtual torsion reference on +y puts the atom in the xy plane.
        const Eigen::Vector3d b = at(row.angleTo), c = at(row.bondTo);
        at(row.atom) = placeAtomNm(b + Eigen::Vector3d(0.0, 1.0, 0.0), b, c, bond, angle, 0.0);
      } else {
        at(row.atom) = placeAtomNm(at(row.torsionTo), at(row.angleTo), at(row.bondTo), bond, angle,
                                   f[row.torsionFeature]);
      }
    }
  }
  return structures;
}

void ZMatrix::reposition(const double* features, PositionsNm& positionsNm) const {
  if (positionsNm.rows() != atomCount_)
    throw Error("reposition: got " + std::to_string(positionsNm.rows()) + " atoms, the Z-matrix's topology has " +
                std::to_string(atomCount_));
  // Non-feature bonds and angles, row 1's direction and row 2's plane are
  // read from the positions as they were, before any row moved.
  const PositionsNm before = positionsNm;
  auto at = [&](int i) -> Eigen::Vector3d { return positionsNm.row(i).transpose(); };
  auto was = [&](int i) -> Eigen::Vector3d { return before.row(i).transpose(); };
  for (std::size_t r = 1; r < rows_.size(); ++r) {
    const Row& row = rows_[r];
    const Eigen::Vector3d self = was(row.atom), c = at(row.bondTo);
    const double bond = row.bondFeature >= 0 ? features[row.bondFeature] : distanceNm(self, was(row.bondTo));
    Eigen::Vector3d placed;
    if (r == 1) {
      // Along the current direction from row 0.
      placed = c + bond * (self - was(row.bondTo)).normalized();
    } else {
      const Eigen::Vector3d b = at(row.angleTo);
      const double angle = row.angleFeature >= 0 ? features[row.angleFeature]
                                                 : bondAngleRad(self, was(row.bondTo), was(row.angleTo));
      if (r == 2) {
        // In the current plane of rows 0-2, on the same side: the atom itself
        // serves as the torsion reference at torsion 0.
        placed = placeAtomNm(self, b, c, bond, angle, 0.0);
      } else {
        const Eigen::Vector3d a = at(row.torsionTo);
        placed = placeAtomNm(a, b, c, bond, angle, features[row.torsionFeature]);
      }
    }
    positionsNm.row(row.atom) = placed.transpose();
  }
}

double ZMatrix::logVolumeElement(const double* features) const {
  double sum = 0.0;
  for (const Row& row : rows_) {
    if (row.bondFeature >= 0) sum += 2.0 * std::log(features[row.bondFeature]);
    if (row.angleFeature >= 0) sum += std::log(std::sin(features[row.angleFeature]));
  }
  return sum;
}

bool ZMatrix::inDomain(const double* features) const {
  for (const Row& row : rows_) {
    if (row.bondFeature >= 0 && !(features[row.bondFeature] > 0.0 && std::isfinite(features[row.bondFeature])))
      return false;
    if (row.angleFeature >= 0 && !(features[row.angleFeature] > 0.0 && features[row.angleFeature] < kPi))
      return false;
    if (row.torsionFeature >= 0 && !std::isfinite(features[row.torsionFeature])) return false;
  }
  return true;
}

}  // namespace activediff
