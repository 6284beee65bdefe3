// Issue 9, items 4 and 6: absurd but finite generated features are invalid
// rows (never inf coordinates), multi-model PDBs number their models 1..N,
// energy's progress line shows the real total, nonsense command-line values
// are errors.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "activediff/featurize/dataset.h"
#include "activediff/featurize/featurizer.h"
#include "activediff/featurize/geometry.h"
#include "activediff/featurize/npy.h"
#include "activediff/featurize/rebuild.h"
#include "support/test_support.h"

namespace activediff {
namespace {

namespace fs = std::filesystem;
using testing::examplesDir;
using testing::runActivediff;
using testing::runOracle;
using testing::ScratchDirectory;

const std::string kPdb = (examplesDir() / "ala2" / "ala2.pdb").string();
const std::string kSystem = (examplesDir() / "ala2" / "system.xml").string();
const std::string kXtc = (examplesDir() / "ala2" / "md" / "run1.xtc").string();

// Featurizes the first `frames` frames of the shipped run into `out`.
testing::CommandResult featurizeShipped(const fs::path& out, const std::string& featureSet, int frames) {
  return runActivediff("featurize -q -f " + kXtc + " -s " + kPdb + " --features " + featureSet + " --last-frame " +
                       std::to_string(frames - 1) + " -o " + out.string());
}


nlohmann::json readJson(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

std::string readText(const fs::path& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The template's own 25D features: a row every bound accepts.
std::vector<double> templateFeatures(const Featurizer& featurizer, const Structure& templ) {
  Frame frame;
  frame.positionsNm = templ.positionsNm;
  std::vector<double> row(featurizer.dimension());
  featurizer.compute(frame, kPdb, row.data());
  return row;
}

int firstOfKind(const Featurizer& featurizer, FeatureKind kind) {
  for (int k = 0; k < featurizer.dimension(); ++k)
    if (featurizer.features()[k].kind == kind) return k;
  return -1;
}

TEST(FeatureValidity, AbsurdButFiniteBondsAndAnglesAreInvalidAndGiveNoStructure) {
  const Structure templ = readStructure(kPdb);
  const Featurizer featurizer(FeatureSet::ZMatrix25D, templ, kPdb);
  const StructureRebuilder rebuilder(featurizer, templ, kPdb);
  const std::vector<double> good = templateFeatures(featurizer, templ);
  const int bond = firstOfKind(featurizer, FeatureKind::BondNm);
  const int angle = firstOfKind(featurizer, FeatureKind::AngleRad);
  ASSERT_GE(bond, 0);
  ASSERT_GE(angle, 0);

  struct Case {
    int feature;
    double value;
    bool valid;
  };
  // Bonds: (0, kMaxBondLengthNm]; no covalent bond exceeds 0.3 nm. Angles: (0, pi).
  const std::vector<Case> cases = {
      {bond, good[bond], true},  {bond, 1e300, false},         {bond, 1e6, false},
      {bond, 0.35, false},       {bond, kMaxBondLengthNm, true}, {bond, 0.0, false},
      {angle, kPi, false},       {angle, 3.0, true},           {angle, 1e300, false},
      {angle, -1e-3, false}};
  FeatureMatrix features(static_cast<Eigen::Index>(cases.size()), featurizer.dimension());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    for (int k = 0; k < featurizer.dimension(); ++k) features(i, k) = good[k];
    features(i, cases[i].feature) = cases[i].value;
  }
  const RebuildResult result = rebuilder.rebuild(features);
  std::int64_t invalid = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string what = featurizer.features()[cases[i].feature].name + " = " + std::to_string(cases[i].value);
    EXPECT_EQ(result.invalid[i].empty(), cases[i].valid) << what << ": " << result.invalid[i];
    // Never an infinite coordinate: a finite structure or a NaN row.
    EXPECT_FALSE(result.structures.row(i).array().isInf().any()) << what;
    EXPECT_EQ(result.structures.row(i).allFinite(), cases[i].valid) << what;
    invalid += cases[i].valid ? 0 : 1;
  }
  EXPECT_EQ(result.invalidCount(), invalid);
  // The feature check alone is what evaluate counts: the same verdicts.
  for (std::size_t i = 0; i < cases.size(); ++i)
    EXPECT_EQ(invalidFeatureReason(featurizer.features(), features.row(i).data()).empty(), cases[i].valid) << i;
}

// A copy of an MD dataset whose features are replaced (the damaged
// "generated" set), written with the plain .npy writer.
void replaceFeatures(const fs::path& dataset, const FeatureMatrix& features) {
  NpyWriter writer(dataset / "features.npy", NpyType::Float64, features.cols());
  for (Eigen::Index r = 0; r < features.rows(); ++r) {
    const Eigen::RowVectorXd row = features.row(r);
    writer.appendRow(row.data());
  }
  writer.finish();
}

TEST(FeatureValidity, RebuildAndEvaluateCountHugeBondsAsInvalidAndWriteNoInfinity) {
  ScratchDirectory dir;
  const fs::path md = dir / "md25";
  const auto featurize = featurizeShipped(md, "25d", 40);
  ASSERT_EQ(featurize.exitCode, 0) << featurize.output;
  const fs::path generated = dir / "gen25";
  fs::copy(md, generated);
  FeatureMatrix features = readDataset(md).features;
  const int bond = 0;  // the 9 bonds come first (zmatrix.h)
  features(0, bond) = 1e300;
  features(1, bond) = 1e6;
  features(2, bond) = 0.5;
  replaceFeatures(generated, features);

  const fs::path pdb = dir / "gen.pdb";
  const auto rebuild = runActivediff("rebuild --features " + generated.string() + " --topology " + kPdb + " -o " +
                                     pdb.string());
  ASSERT_EQ(rebuild.exitCode, 0) << rebuild.output;
  const auto summary = readJson(pdb.string() + ".json");
  EXPECT_EQ(summary["result"]["invalid_features"].get<int>(), 3) << summary["result"].dump();
  EXPECT_EQ(summary["result"]["structures_written"][pdb.string()].get<int>(), 37);
  const std::string text = readText(pdb);
  for (const char* bad : {"inf", "nan", "*****"}) EXPECT_EQ(text.find(bad), std::string::npos) << bad;

  const auto evaluate = runActivediff("evaluate --reference " + md.string() + " --generated " + generated.string() +
                                      " -o " + (dir / "report").string());
  ASSERT_EQ(evaluate.exitCode, 0) << evaluate.output;
  const auto report = readJson(dir / "report" / "report.json");
  EXPECT_EQ(report["validity"]["unphysical"].get<int>(), 3) << report["validity"].dump();
  EXPECT_EQ(report["validity"]["valid"].get<int>(), 37);
}

// libgromacs numbers a PDB model by the frame's step and writes step 0 as
// MODEL 1 too, so the first two models were both MODEL 1.
TEST(PdbOutput, ModelsAreNumberedOneToNAndReadBackByMdtraj) {
  ScratchDirectory dir;
  const fs::path md = dir / "md2";
  ASSERT_EQ(featurizeShipped(md, "2d", 6).exitCode, 0);
  const fs::path pdb = dir / "six.pdb";
  const auto rebuild = runActivediff("rebuild --features " + md.string() + " --topology " + kPdb + " -o " +
                                     pdb.string());
  ASSERT_EQ(rebuild.exitCode, 0) << rebuild.output;
  std::istringstream lines(readText(pdb));
  std::vector<int> models;
  const std::regex model("^MODEL +([0-9]+)");
  std::smatch m;
  for (std::string line; std::getline(lines, line);)
    if (std::regex_search(line, m, model)) models.push_back(std::stoi(m[1]));
  EXPECT_EQ(models, (std::vector<int>{1, 2, 3, 4, 5, 6}));

  // MDTraj reads six frames whose phi/psi are the dataset's (PDB: 0.001 nm).
  const auto oracle = runOracle("mdtraj_phi_psi.py", pdb.string() + " " + kPdb);
  ASSERT_EQ(oracle.exitCode, 0) << oracle.output;
  const Dataset dataset = readDataset(md);
  std::istringstream rows(oracle.output);
  int n = 0;
  for (double phiDeg, psiDeg; rows >> phiDeg >> psiDeg; ++n) {
    ASSERT_LT(n, 6);
    EXPECT_NEAR(wrapToPiRad(phiDeg / kDegPerRad - dataset.features(n, 0)) * kDegPerRad, 0.0, 0.5) << n;
    EXPECT_NEAR(wrapToPiRad(psiDeg / kDegPerRad - dataset.features(n, 1)) * kDegPerRad, 0.0, 0.5) << n;
  }
  EXPECT_EQ(n, 6);
}

// energy used to pass a total of 0 (-> 1) without --end (now --last-frame): "100000.0% 1000/1".
TEST(EnergyProgress, ShowsTheSelectedFrameCountAndNeverMoreThanAHundredPercent) {
  ScratchDirectory dir;
  const fs::path csv = dir / "e.csv";
  const auto energy = runActivediff("energy --system " + kSystem + " -f " + kXtc + " -o " + csv.string() +
                                    " --first-frame 10 --stride 4 --platform CPU");
  ASSERT_EQ(energy.exitCode, 0) << energy.output;
  // The selection of run1.xtc's 5000 frames: ceil((5000 - 10) / 4) = 1248,
  // which is also the table's length.
  std::istringstream table(readText(csv));
  std::string row;
  std::getline(table, row);
  int rows = 0;
  while (std::getline(table, row)) ++rows;
  ASSERT_EQ(rows, 1248);
  EXPECT_NE(energy.output.find("1000/1248"), std::string::npos) << energy.output;
  const std::regex percent("([0-9.]+)%");
  for (auto it = std::sregex_iterator(energy.output.begin(), energy.output.end(), percent);
       it != std::sregex_iterator(); ++it)
    EXPECT_LE(std::stod((*it)[1]), 100.0) << energy.output;
  EXPECT_EQ(energy.output.find("ETA -"), std::string::npos) << energy.output;
}

// Values that make no sense are errors naming the option, with nothing
// written, instead of being replaced by a default.
TEST(CommandLineValues, NonsenseValuesOfEnergyRebuildAndEvaluateAreErrors) {
  ScratchDirectory dir;
  const fs::path md = dir / "md2";
  ASSERT_EQ(featurizeShipped(md, "2d", 20).exitCode, 0);
  const std::string energy = "energy --system " + kSystem + " -f " + kXtc + " --last-frame 4 -o " + (dir / "e.csv").string();
  const std::string rebuild = "rebuild --features " + md.string() + " --topology " + kPdb + " -o " +
                              (dir / "r.pdb").string();
  const std::string evaluate = "evaluate --reference " + md.string() + " --generated " + md.string() + " -o " +
                               (dir / "report").string();
  const std::vector<std::pair<std::string, std::string>> cases = {{energy + " --threads -1", "--threads"},
                                                                  {rebuild + " --workers 0", "--workers"},
                                                                  {rebuild + " --limit -1", "--limit"},
                                                                  {evaluate + " --temperature nan", "--temperature"}};
  for (const auto& [command, option] : cases) {
    const auto result = runActivediff(command);
    EXPECT_NE(result.exitCode, 0) << command << "\n" << result.output;
    EXPECT_NE(result.output.find(option), std::string::npos) << command << "\n" << result.output;
  }
  for (const char* output : {"e.csv", "e.json", "r.pdb", "r.pdb.json", "report"})
    EXPECT_FALSE(fs::exists(dir / output)) << output;
}


}  // namespace
}  // namespace activediff
