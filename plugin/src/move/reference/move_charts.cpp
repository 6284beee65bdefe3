#include "move_charts.h"

#include <Eigen/Geometry>
#include <cmath>
#include <deque>
#include <string>

#include "activediff/featurize/error.h"
#include "activediff/plugin/openmm_setup.h"

namespace activediff::plugin {
namespace {

PositionsNm toPositions(const std::vector<OpenMM::Vec3>& p) {
  PositionsNm out(static_cast<Eigen::Index>(p.size()), 3);
  for (std::size_t i = 0; i < p.size(); ++i) out.row(Eigen::Index(i)) << p[i][0], p[i][1], p[i][2];
  return out;
}

// The orthonormal frame of (origin, axis, plane): e1 towards axis, e2 in the
// plane towards `plane`. False when the three are (nearly) collinear.
bool frameOf(const PositionsNm& p, int origin, int axis, int plane, Eigen::Matrix3d& frame) {
  const Eigen::Vector3d o = p.row(origin).transpose();
  const Eigen::Vector3d e1 = (p.row(axis).transpose() - o).normalized();
  const Eigen::Vector3d towards = p.row(plane).transpose() - o;
  const Eigen::Vector3d w = towards - e1.dot(towards) * e1;
  if (!(w.norm() > 1e-6 * towards.norm())) return false;
  const Eigen::Vector3d e2 = w.normalized();
  frame.col(0) = e1;
  frame.col(1) = e2;
  frame.col(2) = e1.cross(e2);
  return true;
}

}  // namespace

void TorsionChart::features(const std::vector<OpenMM::Vec3>& positionsNm, double* out) const {
  out[0] = torsions_.phiRad(positionsNm);
  out[1] = torsions_.psiRad(positionsNm);
}

bool TorsionChart::place(const double* features, std::vector<OpenMM::Vec3>& positionsNm,
                         std::vector<OpenMM::Vec3>& velocities) const {
  torsions_.set(positionsNm, &velocities, features[0], features[1]);
  return true;
}

ZMatrixChart::ZMatrixChart(const OpenMM::System& system, const ZMatrixDefinition& definition,
                           const std::vector<int>& rowAtoms)
    : zmatrix_(definition, rowAtoms, system.getNumParticles()) {
  const int n = system.getNumParticles();
  for (std::size_t r = 0; r < rowAtoms.size(); ++r) {
    const char element = definition.rows[r].atom.name.empty() ? '?' : definition.rows[r].atom.name[0];
    const double mass = system.getParticleMass(rowAtoms[r]);
    if (!massFitsElement(mass, element))
      throw Error("Z-matrix atom " + std::to_string(rowAtoms[r]) + " (row " + std::to_string(r) + ", " +
                  definition.rows[r].atom.name + ") has mass " + std::to_string(mass) + ", not that of " +
                  std::string(1, element) + " (the atoms must be the model's Z-matrix atoms of this System)");
  }
  const std::vector<std::vector<int>> neighbours = bondGraphOf(system);
  for (const ZMatrix::Row& row : zmatrix_.rows())
    if (row.bondTo >= 0 && !bonded(neighbours, row.atom, row.bondTo))
      throw Error("Z-matrix atoms " + std::to_string(row.atom) + " and " + std::to_string(row.bondTo) +
                  " are not bonded in the System (bonds and constraints): a checkpoint for another molecule?");

  // The carried atoms, breadth first from the Z-matrix atoms: each rides on
  // its parent, a neighbour of the parent and a third atom placed before it.
  std::vector<char> placed(n, 0), isRow(n, 0);
  for (int a : rowAtoms) isRow[a] = 1;
  std::deque<int> queue;
  for (int a : rowAtoms) {
    placed[a] = 1;
    queue.push_back(a);
    movedAtoms_.push_back(a);
  }
  while (!queue.empty()) {
    const int origin = queue.front();
    queue.pop_front();
    for (int atom : neighbours[origin]) {
      if (placed[atom]) continue;
      // axis and plane: the parent's other placed neighbours, Z-matrix atoms
      // first, so the atom keeps its place among its parent's bonds (HA
      // turns with CA's CB and C); only a parent with one placed neighbour
      // (a methyl carbon) takes the plane from the axis's neighbours. A
      // plane across the axis's bond instead (HA fixed to the N side) left
      // MD-drawn heavy-atom geometries at a median +180 kT, this one at +1.7 kT.
      std::vector<int> siblings;
      for (int pass = 0; pass < 2; ++pass)
        for (int k : neighbours[origin])
          if (placed[k] && k != atom && (pass == 0) == isRow[k]) siblings.push_back(k);
      int axis = siblings.empty() ? -1 : siblings[0], plane = siblings.size() > 1 ? siblings[1] : -1;
      if (axis >= 0 && plane < 0)
        for (int k : neighbours[axis])
          if (placed[k] && k != origin && k != atom) {
            plane = k;
            break;
          }
      if (axis < 0 || plane < 0)
        throw Error("atom " + std::to_string(atom) + " (bonded to " + std::to_string(origin) +
                    ") has no three placed atoms to ride on during a 25D move");
      carried_.push_back({atom, origin, axis, plane});
      placed[atom] = 1;
      queue.push_back(atom);
      movedAtoms_.push_back(atom);
    }
  }

  // A constraint must keep its length through the move: those between a
  // carried atom and its parent do, as does the amide N-H (a row whose bond is
  // not a feature); any other with a moved atom would be broken.
  std::vector<char> moved(n, 0);
  for (int a : movedAtoms_) moved[a] = 1;
  auto kept = [&](int i, int j) {
    for (const Carried& c : carried_)
      if ((c.atom == i && c.origin == j) || (c.atom == j && c.origin == i)) return true;
    for (const ZMatrix::Row& row : zmatrix_.rows())
      if (row.bondFeature < 0 && row.bondTo >= 0 &&
          ((row.atom == i && row.bondTo == j) || (row.atom == j && row.bondTo == i)))
        return true;
    return false;
  };
  for (int c = 0; c < system.getNumConstraints(); ++c) {
    int i = 0, j = 0;
    double d = 0.0;
    system.getConstraintParameters(c, i, j, d);
    if ((moved[i] || moved[j]) && !kept(i, j))
      throw Error("the System constrains atoms " + std::to_string(i) + " and " + std::to_string(j) +
                  ", whose distance a 25D move changes; the move keeps only constraints to hydrogens "
                  "(constraints=HBonds or none)");
  }
}

void ZMatrixChart::features(const std::vector<OpenMM::Vec3>& positionsNm, double* out) const {
  zmatrix_.featurize(toPositions(positionsNm), out);
}

bool ZMatrixChart::place(const double* features, std::vector<OpenMM::Vec3>& positionsNm,
                         std::vector<OpenMM::Vec3>&) const {
  if (!zmatrix_.inDomain(features)) return false;
  PositionsNm p = toPositions(positionsNm);
  // Every carried atom's coordinates in its frame, before anything moves.
  std::vector<Eigen::Vector3d> local(carried_.size());
  Eigen::Matrix3d frame;
  for (std::size_t k = 0; k < carried_.size(); ++k) {
    const Carried& c = carried_[k];
    if (!frameOf(p, c.origin, c.axis, c.plane, frame)) return false;
    local[k] = frame.transpose() * (p.row(c.atom) - p.row(c.origin)).transpose();
  }
  zmatrix_.reposition(features, p);
  for (std::size_t k = 0; k < carried_.size(); ++k) {
    const Carried& c = carried_[k];
    if (!frameOf(p, c.origin, c.axis, c.plane, frame)) return false;
    p.row(c.atom) = p.row(c.origin) + (frame * local[k]).transpose();
  }
  for (int a : movedAtoms_) positionsNm[std::size_t(a)] = OpenMM::Vec3(p(a, 0), p(a, 1), p(a, 2));
  return true;
}

}  // namespace activediff::plugin
