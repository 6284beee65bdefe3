// featurize -> rebuild -> featurize is the identity; relaxation barely moves
// heavy atoms; energies of rebuilt structures equal `activediff energy`.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "activediff/featurize/featurizer.h"
#include "activediff/featurize/geometry.h"
#include "activediff/featurize/molecule_graph.h"
#include "activediff/featurize/rebuild.h"
#include "activediff/featurize/superposition.h"
#include "activediff/plugin/structure_scoring.h"
#include "support/test_support.h"

namespace activediff {
namespace {

using testing::examplesDir;
using testing::runActivediff;
using testing::ScratchDirectory;

const std::string kPdb = (examplesDir() / "ala2" / "ala2.pdb").string();
const std::string kSystem = (examplesDir() / "ala2" / "system.xml").string();
const std::string kXtc = (examplesDir() / "ala2" / "md" / "run1.xtc").string();

// Features of every frame of the shipped trajectory.
FeatureMatrix featuresOf(const Featurizer& featurizer) {
  TrajectoryReader reader(kXtc);
  Frame frame;
  std::vector<double> rows;
  std::vector<double> out(featurizer.dimension());
  while (reader.next(frame)) {
    featurizer.compute(frame, kXtc, out.data());
    rows.insert(rows.end(), out.begin(), out.end());
  }
  return Eigen::Map<FeatureMatrix>(rows.data(), rows.size() / featurizer.dimension(), featurizer.dimension());
}

class RoundTrip : public ::testing::TestWithParam<FeatureSet> {};

TEST_P(RoundTrip, FeaturizeRebuildFeaturizeIsTheIdentityOnTheShippedTrajectory) {
  const Structure templ = readStructure(kPdb);
  const Featurizer featurizer(GetParam(), templ, kPdb);
  const StructureRebuilder rebuilder(featurizer, templ, kPdb);
  const FeatureMatrix features = featuresOf(featurizer);
  ASSERT_EQ(features.rows(), 5000);
  const RebuildResult rebuilt = rebuilder.rebuild(features);
  EXPECT_EQ(rebuilt.invalidCount(), 0);
  double worst = 0.0;
  std::vector<double> again(featurizer.dimension());
  Frame frame;
  for (Eigen::Index r = 0; r < features.rows(); ++r) {
    frame.index = r;
    frame.positionsNm = Eigen::Map<const PositionsNm>(rebuilt.structures.row(r).data(), 22, 3);
    featurizer.compute(frame, "rebuilt", again.data());
    for (int k = 0; k < featurizer.dimension(); ++k) {
      const double diff = featurizer.features()[k].periodic ? wrapToPiRad(again[k] - features(r, k))
                                                            : again[k] - features(r, k);
      worst = std::max(worst, std::abs(diff));
    }
  }
  EXPECT_LT(worst, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(FeatureSets, RoundTrip, ::testing::Values(FeatureSet::PhiPsi2D, FeatureSet::ZMatrix25D));

TEST(Rebuild, HydrogenRelaxationMovesHeavyAtomsByLessThanAHundredthNm) {
  const Structure templ = readStructure(kPdb);
  const Featurizer featurizer(FeatureSet::ZMatrix25D, templ, kPdb);
  const StructureRebuilder rebuilder(featurizer, templ, kPdb);
  FeatureMatrix features = featuresOf(featurizer);
  features = FeatureMatrix(features.topRows(100));
  const RebuildResult rebuilt = rebuilder.rebuild(features);
  plugin::ScoringOptions options;
  options.relax = plugin::Relax::Hydrogens;
  plugin::StructureScorer scorer(kSystem, templ.topology, options);
  const plugin::ScoredBatch scored = scorer.score(rebuilt.structures);
  std::vector<int> heavy;
  for (std::size_t i = 0; i < templ.topology.size(); ++i)
    if (!isHydrogen(templ.topology.atoms[i])) heavy.push_back(static_cast<int>(i));
  ASSERT_EQ(heavy.size(), 10u);
  for (Eigen::Index r = 0; r < features.rows(); ++r) {
    ASSERT_TRUE(std::isfinite(scored.energiesKjPerMol[r])) << r;
    const PositionsNm before = Eigen::Map<const PositionsNm>(rebuilt.structures.row(r).data(), 22, 3);
    const PositionsNm after = Eigen::Map<const PositionsNm>(scored.structures.row(r).data(), 22, 3);
    double sum = 0;
    for (int atom : heavy) sum += (after.row(atom) - before.row(atom)).squaredNorm();
    EXPECT_LT(std::sqrt(sum / heavy.size()), 0.01) << "structure " << r;
    // Hydrogens did move: relaxation is not a no-op.
    if (r == 0) EXPECT_GT((after - before).norm(), 1e-4);
  }
}

TEST(RebuildCli, EnergiesOfRebuiltMdFramesAreFiniteAndEqualActivediffEnergy) {
  ScratchDirectory dir;
  const auto dataset = (dir / "md25").string();
  ASSERT_EQ(runActivediff("featurize -q -f " + kXtc + " -s " + kPdb + " --features 25d --last-frame 299 -o " + dataset).exitCode, 0);
  const auto structures = (dir / "rebuilt.trr").string();
  const auto rebuilt = runActivediff("rebuild --features " + dataset + " --topology " + kPdb + " -o " + structures +
                                     " --system " + kSystem + " --relax hydrogens --platform CPU");
  ASSERT_EQ(rebuilt.exitCode, 0) << rebuilt.output;
  std::ifstream summaryFile(structures + ".json");
  const auto summary = nlohmann::json::parse(summaryFile);
  const auto energies = summary.at("energies_kj_mol").get<std::vector<double>>();
  ASSERT_EQ(energies.size(), 300u);
  for (double e : energies) ASSERT_TRUE(std::isfinite(e));

  const auto table = (dir / "energies.csv").string();
  const auto energy = runActivediff("energy --system " + kSystem + " -f " + structures + " -o " + table +
                                    " --platform CPU");
  ASSERT_EQ(energy.exitCode, 0) << energy.output;
  std::ifstream csv(table);
  std::string row;
  std::getline(csv, row);
  std::size_t n = 0;
  while (std::getline(csv, row)) {
    // TRR stores single precision coordinates: agreement to 0.01 kJ/mol.
    EXPECT_NEAR(std::stod(row.substr(row.rfind(',') + 1)), energies.at(n), 1e-2) << "frame " << n;
    ++n;
  }
  EXPECT_EQ(n, energies.size());
}

}  // namespace
}  // namespace activediff
