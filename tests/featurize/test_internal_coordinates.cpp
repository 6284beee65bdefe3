// The 25D internal coordinates: definition, exact inverse, hydrogens.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "activediff/featurize/error.h"
#include "activediff/featurize/featurizer.h"
#include "activediff/featurize/geometry.h"
#include "activediff/featurize/hydrogens.h"
#include "activediff/featurize/molecule_graph.h"
#include "activediff/featurize/superposition.h"
#include "test_support.h"

namespace activediff {
namespace {

// Every frame of the shipped trajectory, or a synthetic one before it lands.
std::vector<Frame> framesForRoundTrip(const test::ScratchDir& dir) {
  fs::path file = test::shippedTrajectory();
  if (file.empty()) {
    file = dir / "noisy.xtc";
    test::writeNoisyTrajectory(file, 300);
  }
  std::vector<Frame> frames;
  TrajectoryReader reader(file);
  Frame frame;
  while (reader.next(frame)) frames.push_back(frame);
  return frames;
}

TEST(ZMatrix, HasTheDocumentedFeatures) {
  const Structure ala2 = readStructure(test::ala2Pdb());
  const Featurizer featurizer(FeatureSet::ZMatrix25D, ala2, test::ala2Pdb().string());
  const ZMatrix& z = *featurizer.zmatrix();
  ASSERT_EQ(z.featureCount(), 25);
  int bonds = 0, angles = 0, torsions = 0;
  for (const FeatureInfo& f : z.features()) {
    bonds += f.kind == FeatureKind::BondNm;
    angles += f.kind == FeatureKind::AngleRad;
    torsions += f.kind == FeatureKind::TorsionRad;
    EXPECT_EQ(f.periodic, f.kind == FeatureKind::TorsionRad) << f.name;
  }
  EXPECT_EQ(bonds, 9);
  EXPECT_EQ(angles, 8);
  EXPECT_EQ(torsions, 8);
  EXPECT_EQ(z.features()[0].name, "bond ACE1:C-ACE1:CH3");
  EXPECT_EQ(z.features()[9].name, "angle ALA2:N-ACE1:C-ACE1:CH3");
  EXPECT_EQ(z.features()[17].name, "omega_ACE");
  EXPECT_EQ(z.features()[18].name, "phi");
  EXPECT_EQ(z.features()[19].name, "psi");
  EXPECT_EQ(z.features()[24].name, "torsion_H_ALA");
  // Row atoms in topology indices of ala2.pdb: CH3 C N CA C N CH3 O CB O H.
  EXPECT_EQ(z.rowAtoms(), (std::vector<int>{0, 4, 6, 8, 14, 16, 18, 5, 10, 15, 7}));
  // phi and psi equal the backbone dihedrals.
  std::vector<double> f(25);
  Frame frame;
  frame.positionsNm = ala2.positionsNm;
  featurizer.compute(frame, "ala2", f.data());
  const auto phiPsi = phiPsiRad(featurizer.backbone(), ala2.positionsNm);
  EXPECT_DOUBLE_EQ(f[18], phiPsi[0]);
  EXPECT_DOUBLE_EQ(f[19], phiPsi[1]);
}

TEST(ZMatrix, DefinitionIsByNameNotIndex) {
  // Reverse the atom order: the same molecule must give the same features.
  const Structure ala2 = readStructure(test::ala2Pdb());
  Structure reversed = ala2;
  const int n = static_cast<int>(ala2.topology.size());
  for (int i = 0; i < n; ++i) {
    reversed.topology.atoms[i] = ala2.topology.atoms[n - 1 - i];
    reversed.positionsNm.row(i) = ala2.positionsNm.row(n - 1 - i);
  }
  const Featurizer a(FeatureSet::ZMatrix25D, ala2, "a"), b(FeatureSet::ZMatrix25D, reversed, "b");
  std::vector<double> fa(25), fb(25);
  Frame frameA, frameB;
  frameA.positionsNm = ala2.positionsNm;
  frameB.positionsNm = reversed.positionsNm;
  a.compute(frameA, "a", fa.data());
  b.compute(frameB, "b", fb.data());
  for (int k = 0; k < 25; ++k) EXPECT_DOUBLE_EQ(fa[k], fb[k]) << k;
}

TEST(ZMatrix, MissingAtomIsAnErrorNamingIt) {
  Structure ala2 = readStructure(test::ala2Pdb());
  ala2.topology.atoms[10].name = "CX";  // no CB any more
  try {
    Featurizer featurizer(FeatureSet::ZMatrix25D, ala2, "topology.pdb");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("topology.pdb"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("CB"), std::string::npos) << e.what();
  }
}

TEST(ZMatrix, RebuildOfFeaturizeIsExactOnEveryFrame) {
  test::ScratchDir dir;
  const std::vector<Frame> frames = framesForRoundTrip(dir);
  ASSERT_GT(frames.size(), 100u);
  const Structure ala2 = readStructure(test::ala2Pdb());
  const Featurizer featurizer(FeatureSet::ZMatrix25D, ala2, test::ala2Pdb().string());
  const ZMatrix& z = *featurizer.zmatrix();
  const HydrogenPlacer hydrogens(ala2.topology, ala2.positionsNm, z.rowAtoms(), "ala2.pdb");

  FeatureMatrix features(frames.size(), 25);
  for (std::size_t s = 0; s < frames.size(); ++s) {
    Frame frame = frames[s];
    featurizer.compute(frame, "traj", features.row(s).data());
  }
  StructureBatchNm rebuilt = z.rebuild(features);
  hydrogens.place(rebuilt);
  ASSERT_TRUE(rebuilt.allFinite());

  std::vector<int> heavy;
  const std::optional<int> amideH = ala2.topology.find(1, "H");  // ALA's N-H
  ASSERT_TRUE(amideH.has_value());
  for (int i = 0; i < 22; ++i)
    if (!isHydrogen(ala2.topology.atoms[i])) heavy.push_back(i);
  ASSERT_EQ(heavy.size(), 10u);
  const FeatureMatrix again = z.featurize(rebuilt);
  double worstHeavy = 0, worstFeature = 0, worstH = 0, sumSquaredH = 0;
  for (std::size_t s = 0; s < frames.size(); ++s) {
    const PositionsNm structure = Eigen::Map<const PositionsNm>(rebuilt.row(s).data(), 22, 3);
    worstHeavy = std::max(worstHeavy, superposedRmsdNm(frames[s].positionsNm, structure, heavy));
    // The amide H has one feature (its torsion); its bond and angle are held
    // at force-field equilibrium (issue 13's decision), so after fitting the
    // heavy atoms it sits off MD's by the MD fluctuation of the C-N-H angle.
    const PositionsNm fitted = superposeOnto(frames[s].positionsNm, structure, heavy);
    const double hDeviation = (fitted.row(*amideH) - frames[s].positionsNm.row(*amideH)).norm();
    worstH = std::max(worstH, hDeviation);
    sumSquaredH += hDeviation * hDeviation;
    for (int k = 0; k < 25; ++k) {
      const double d = z.features()[k].periodic ? wrapToPiRad(again(s, k) - features(s, k)) : again(s, k) - features(s, k);
      worstFeature = std::max(worstFeature, std::abs(d));
    }
  }
  char text[64];
  std::snprintf(text, sizeof text, "%.3e", worstHeavy);
  RecordProperty("worst_heavy_rmsd_nm", text);
  RecordProperty("worst_amide_h_deviation_nm", std::to_string(worstH));
  std::printf("amide H deviation: rms %.4f nm, worst %.4f nm over %zu frames\n",
              std::sqrt(sumSquaredH / frames.size()), worstH, frames.size());
  EXPECT_LT(worstHeavy, 1e-4);
  EXPECT_LT(worstFeature, 1e-6);
  // H(N) within 0.01 nm (issue 13's amended acceptance) as the RMS over the
  // frames: measured 0.0064 nm. Single frames reach 0.023 nm, where MD's C-N-H
  // angle is furthest from equilibrium; bound those too.
  EXPECT_LT(std::sqrt(sumSquaredH / frames.size()), 0.01);
  EXPECT_LT(worstH, 0.03);
}

// The generative move's 25D map (ZMatrix::reposition): resolved by row atoms
// it gives the same features as by name, it lands exactly on the features
// asked for while the frame of rows 0-2, the amide H's bond and angle and the
// atoms of no row stay as they were, and it is undone by repositioning back.
TEST(ZMatrix, RepositionLandsOnTheFeaturesAndKeepsEverythingElse) {
  const Structure ala2 = readStructure(test::ala2Pdb());
  const Featurizer featurizer(FeatureSet::ZMatrix25D, ala2, test::ala2Pdb().string());
  const ZMatrix& byName = *featurizer.zmatrix();
  const ZMatrix byRow(cappedResidueZMatrix(), byName.rowAtoms(), 22);
  std::vector<double> f(25), g(25);
  byName.featurize(ala2.positionsNm, f.data());
  byRow.featurize(ala2.positionsNm, g.data());
  for (int k = 0; k < 25; ++k) EXPECT_EQ(f[k], g[k]) << k;
  EXPECT_EQ(byRow.features()[18].name, "phi");
  EXPECT_EQ(byRow.features()[0].name, "bond 4-0");
  EXPECT_THROW(ZMatrix(cappedResidueZMatrix(), std::vector<int>{0, 4, 6}, 22), Error);
  EXPECT_THROW(ZMatrix(cappedResidueZMatrix(), std::vector<int>{0, 4, 6, 8, 14, 16, 18, 5, 10, 15, 22}, 22), Error);
  EXPECT_THROW(ZMatrix(cappedResidueZMatrix(), std::vector<int>{0, 4, 6, 8, 14, 16, 18, 5, 10, 15, 4}, 22), Error);

  std::vector<double> target = f;
  for (int k = 0; k < 9; ++k) target[k] += 0.004 * (k % 3 - 1);
  for (int k = 9; k < 17; ++k) target[k] += 0.07 * (k % 2 ? 1 : -1);
  for (int k = 17; k < 25; ++k) target[k] = wrapToPiRad(target[k] + 0.9 + 0.1 * k);
  PositionsNm moved = ala2.positionsNm;
  byRow.reposition(target.data(), moved);
  byRow.featurize(moved, g.data());
  for (int k = 0; k < 25; ++k) EXPECT_NEAR(wrapToPiRad(g[k] - target[k]), 0.0, 1e-9) << k;
  const std::vector<int>& rows = byRow.rowAtoms();
  auto at = [](const PositionsNm& p, int i) -> Eigen::Vector3d { return p.row(i).transpose(); };
  EXPECT_LT((at(moved, rows[0]) - at(ala2.positionsNm, rows[0])).norm(), 1e-12);
  const Eigen::Vector3d d0 = (at(ala2.positionsNm, rows[1]) - at(ala2.positionsNm, rows[0])).normalized();
  EXPECT_LT(((at(moved, rows[1]) - at(moved, rows[0])).normalized() - d0).norm(), 1e-12);
  const Eigen::Vector3d n0 = d0.cross(at(ala2.positionsNm, rows[2]) - at(ala2.positionsNm, rows[0])).normalized();
  EXPECT_LT((d0.cross(at(moved, rows[2]) - at(moved, rows[0])).normalized() - n0).norm(), 1e-9);
  const int h = rows[10], n = rows[2], ca = rows[3];
  EXPECT_NEAR(distanceNm(at(moved, h), at(moved, n)), distanceNm(at(ala2.positionsNm, h), at(ala2.positionsNm, n)),
              1e-12);
  EXPECT_NEAR(bondAngleRad(at(moved, h), at(moved, n), at(moved, ca)),
              bondAngleRad(at(ala2.positionsNm, h), at(ala2.positionsNm, n), at(ala2.positionsNm, ca)), 1e-12);
  for (int i = 0; i < 22; ++i)
    if (std::find(rows.begin(), rows.end(), i) == rows.end())
      EXPECT_EQ(at(moved, i), at(ala2.positionsNm, i)) << "atom " << i << " is in no row and must stay";
  byRow.reposition(f.data(), moved);
  for (int r : rows) EXPECT_LT((at(moved, r) - at(ala2.positionsNm, r)).norm(), 1e-9) << r;

  std::vector<double> bad = f;
  bad[9] = 3.2;
  EXPECT_FALSE(byRow.inDomain(bad.data()));
  bad = f;
  bad[2] = -0.1;
  EXPECT_FALSE(byRow.inDomain(bad.data()));
  EXPECT_TRUE(byRow.inDomain(target.data()));
}

// logVolumeElement against the Jacobian itself: the determinant, by central
// differences, of the map from (25 features, the amide H's bond and angle, a
// rotation, a translation) to the 33 coordinates of the Z-matrix atoms. The
// frame and the H's bond and angle enter by factors the features do not
// change, so det(f') / det(f) must equal exp(logVolumeElement(f') - logVolumeElement(f)).
TEST(ZMatrix, LogVolumeElementIsTheJacobianOfReposition) {
  const Structure ala2 = readStructure(test::ala2Pdb());
  const Featurizer featurizer(FeatureSet::ZMatrix25D, ala2, test::ala2Pdb().string());
  const ZMatrix& z = *featurizer.zmatrix();
  const std::vector<int>& rows = z.rowAtoms();
  auto coordinates = [&](const Eigen::VectorXd& u) {
    PositionsNm p = ala2.positionsNm;
    z.reposition(u.data(), p);
    // The H row (bondTo N = row 2, angleTo CA = row 3, torsionTo C = row 4)
    // at the bond and angle u[25], u[26] instead of the kept ones.
    const auto at = [&](int r) -> Eigen::Vector3d { return p.row(rows[r]).transpose(); };
    const Eigen::Vector3d hydrogen = placeAtomNm(at(4), at(3), at(2), u[25], u[26], u[24]);
    p.row(rows[10]) = hydrogen.transpose();
    const Eigen::Matrix3d rotation = Eigen::AngleAxisd(u.segment<3>(27).norm(),
                                                       u.segment<3>(27).norm() > 0 ? u.segment<3>(27).normalized()
                                                                                   : Eigen::Vector3d::UnitZ())
                                         .toRotationMatrix();
    Eigen::VectorXd x(33);
    for (int r = 0; r < 11; ++r) x.segment<3>(3 * r) = rotation * at(r) + u.segment<3>(30);
    return x;
  };
  auto logDeterminant = [&](const std::vector<double>& features) {
    Eigen::VectorXd u = Eigen::VectorXd::Zero(33);
    for (int k = 0; k < 25; ++k) u[k] = features[k];
    u[25] = 0.101;
    u[26] = 118.0 * kRadPerDeg;
    // A rotation of 1e-3 rad about a generic axis: the exponential map is
    // regular there, and its factor is the same at both feature points.
    u.segment<3>(27) = Eigen::Vector3d(1e-3, -2e-3, 1.5e-3);
    Eigen::MatrixXd jacobian(33, 33);
    const double h = 1e-6;
    for (int j = 0; j < 33; ++j) {
      Eigen::VectorXd up = u, down = u;
      up[j] += h;
      down[j] -= h;
      jacobian.col(j) = (coordinates(up) - coordinates(down)) / (2 * h);
    }
    return std::log(std::abs(jacobian.fullPivLu().determinant()));
  };
  std::vector<double> f(25);
  z.featurize(ala2.positionsNm, f.data());
  std::vector<double> g = f;
  for (int k = 0; k < 9; ++k) g[k] *= 1.0 + 0.08 * (k % 3 - 1);
  for (int k = 9; k < 17; ++k) g[k] += 0.25 * (k % 2 ? 1 : -1);
  for (int k = 17; k < 25; ++k) g[k] = wrapToPiRad(g[k] + 1.1);
  const double measured = logDeterminant(g) - logDeterminant(f);
  const double predicted = z.logVolumeElement(g.data()) - z.logVolumeElement(f.data());
  RecordProperty("log_volume_ratio_measured", std::to_string(measured));
  EXPECT_GT(std::abs(predicted), 0.1);  // the points differ enough for the check to bite
  EXPECT_NEAR(measured, predicted, 1e-5);
}

TEST(Hydrogens, StandardGeometryGivesChemicallySaneHydrogens) {
  const Structure ala2 = readStructure(test::ala2Pdb());
  const Featurizer featurizer(FeatureSet::ZMatrix25D, ala2, "ala2.pdb");
  const ZMatrix& z = *featurizer.zmatrix();
  const HydrogenPlacer hydrogens(ala2.topology, ala2.positionsNm, z.rowAtoms(), "ala2.pdb");
  FeatureMatrix features(1, 25);
  z.featurize(ala2.positionsNm, features.row(0).data());
  StructureBatchNm rebuilt = z.rebuild(features);
  hydrogens.place(rebuilt);
  const PositionsNm structure = Eigen::Map<const PositionsNm>(rebuilt.row(0).data(), 22, 3);
  // Same bonds as the minimized input, every bond within 0.01 nm of it, and
  // every hydrogen within 0.03 nm of the minimized structure (methyl groups
  // of the minimum are staggered too).
  const MoleculeGraph graph(ala2.topology, ala2.positionsNm);
  EXPECT_EQ(graph.bonds().size(), 21u);
  EXPECT_EQ(graph.checkBonds(structure, 0.01), "");
  std::vector<int> all(22);
  for (int i = 0; i < 22; ++i) all[i] = i;
  const double rmsd = superposedRmsdNm(ala2.positionsNm, structure, all);
  EXPECT_LT(rmsd, 0.01);
}

TEST(ZMatrix, NonFiniteFeaturesGiveNonFiniteCoordinatesNotACrash) {
  const Structure ala2 = readStructure(test::ala2Pdb());
  const Featurizer featurizer(FeatureSet::ZMatrix25D, ala2, "ala2.pdb");
  FeatureMatrix features = FeatureMatrix::Zero(2, 25);
  features.row(0).setConstant(std::nan(""));
  features.row(1).head(9).setConstant(0.15);
  features.row(1).segment(9, 8).setConstant(2.0);
  const StructureBatchNm rebuilt = featurizer.zmatrix()->rebuild(features);
  EXPECT_FALSE(rebuilt.row(0).segment(3, 3).allFinite());
  EXPECT_TRUE(std::isfinite(rebuilt(1, 3 * 8)));
  EXPECT_THROW(featurizer.zmatrix()->rebuild(FeatureMatrix::Zero(1, 24)), Error);
}

}  // namespace
}  // namespace activediff
