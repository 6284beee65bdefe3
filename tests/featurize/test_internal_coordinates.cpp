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
