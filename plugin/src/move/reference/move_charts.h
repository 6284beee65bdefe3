#pragma once
// The generative move's charts: how a model's features map to and from a
// System's coordinates (MATH.md 4b). The move engine is the same for every
// chart; a chart says what changes with the features and what the target
// density gains in feature coordinates (the volume element).
//
//  - TorsionChart (2D, phi/psi): rigid-fragment rotations about N-CA and
//    CA-C. Volume-preserving, so no Jacobian; velocities turn with their
//    fragment, so constraints stay satisfied.
//  - ZMatrixChart (25D, featurize's capped-residue Z-matrix): the eleven
//    Z-matrix atoms move to the proposed bonds, angles and torsions, with
//    the frame of rows 0-2 and the amide H's bond and angle as they are
//    (ZMatrix::reposition). Every other atom of the molecule (the carried
//    atoms: the hydrogens of ala2) keeps its place in a local frame of three
//    atoms placed before it, i.e. its own bond, angle and torsion, so its
//    volume factor cancels. In feature coordinates the target density is
//    pi(x(xi)) prod b^2 sin(theta) over the feature rows
//    (ZMatrix::logVolumeElement). Bond lengths change, so velocities cannot
//    follow: they are redrawn from Maxwell-Boltzmann for the moved atoms on
//    acceptance, and projected onto the constraints (a Gibbs step on v,
//    which leaves exp(-H/kT) invariant since the acceptance depends on x only).
#include <openmm/System.h>
#include <openmm/Vec3.h>

#include <memory>
#include <vector>

#include "activediff/featurize/zmatrix.h"
#include "activediff/plugin/backbone_torsions.h"

namespace activediff::plugin {

class MoveChart {
 public:
  virtual ~MoveChart() = default;
  virtual int dims() const = 0;
  // Features of the current positions into out[0..dims()).
  virtual void features(const std::vector<OpenMM::Vec3>& positionsNm, double* out) const = 0;
  // Moves positions (and, where the chart can, velocities) to the features.
  // False where the features are outside the chart's domain or the current
  // frame is degenerate: zero target density, a rejection.
  virtual bool place(const double* features, std::vector<OpenMM::Vec3>& positionsNm,
                     std::vector<OpenMM::Vec3>& velocities) const = 0;
  // log of the target's volume element in feature coordinates (up to a
  // constant): 0 for volume-preserving charts.
  virtual double logVolumeElement(const double* features) const = 0;
  // The atoms whose velocities are redrawn on acceptance; empty when the
  // chart carries velocities along itself.
  virtual const std::vector<int>& redrawnVelocityAtoms() const = 0;
};

class TorsionChart : public MoveChart {
 public:
  explicit TorsionChart(BackboneTorsions torsions) : torsions_(std::move(torsions)) {}
  int dims() const override { return 2; }
  void features(const std::vector<OpenMM::Vec3>& positionsNm, double* out) const override;
  bool place(const double* features, std::vector<OpenMM::Vec3>& positionsNm,
             std::vector<OpenMM::Vec3>& velocities) const override;
  double logVolumeElement(const double*) const override { return 0.0; }
  const std::vector<int>& redrawnVelocityAtoms() const override { return none_; }

 private:
  BackboneTorsions torsions_;
  std::vector<int> none_;
};

class ZMatrixChart : public MoveChart {
 public:
  // rowAtoms: the System particles of the Z-matrix rows, in row order. An
  // activediff::Error names what does not fit: an atom out of range, a mass
  // not of the row's element, a Z-matrix bond the System lacks, a constraint
  // the move would break (only constraints to carried hydrogens and the amide
  // N-H are kept), a carried atom with no frame to ride on.
  ZMatrixChart(const OpenMM::System& system, const ZMatrixDefinition& definition, const std::vector<int>& rowAtoms);
  int dims() const override { return zmatrix_.featureCount(); }
  const ZMatrix& zmatrix() const { return zmatrix_; }
  void features(const std::vector<OpenMM::Vec3>& positionsNm, double* out) const override;
  bool place(const double* features, std::vector<OpenMM::Vec3>& positionsNm,
             std::vector<OpenMM::Vec3>& velocities) const override;
  double logVolumeElement(const double* features) const override { return zmatrix_.logVolumeElement(features); }
  const std::vector<int>& redrawnVelocityAtoms() const override { return movedAtoms_; }

 private:
  // A carried atom rides on the frame of (origin, axis, plane): origin its
  // bonded parent, axis a neighbour of origin, plane a third atom.
  struct Carried {
    int atom, origin, axis, plane;
  };
  ZMatrix zmatrix_;
  std::vector<Carried> carried_;  // in placement order: every frame atom is placed before
  std::vector<int> movedAtoms_;   // Z-matrix rows, then carried atoms
};

}  // namespace activediff::plugin
