// Issue 13, Builds 6b and 7: PDB output with elements, CONECT records and
// MODEL 1..N (read back by MDTraj, OpenMM's PDBFile and activediff itself);
// report.json's histogram grids and 1D free-energy profiles (recomputed with
// numpy by check_report.py); progress lines of rebuild and evaluate on a
// non-terminal stderr.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "activediff/featurize/dataset.h"
#include "activediff/featurize/geometry.h"
#include "activediff/featurize/structure.h"
#include "support/test_support.h"

namespace activediff {
namespace {

namespace fs = std::filesystem;
using testing::examplesDir;
using testing::runActivediff;
using testing::runCommand;
using testing::runOracle;
using testing::ScratchDirectory;

const std::string kPdb = (examplesDir() / "ala2" / "ala2.pdb").string();
const std::string kSystem = (examplesDir() / "ala2" / "system.xml").string();
const std::string kXtc = (examplesDir() / "ala2" / "md" / "run1.xtc").string();

std::string readText(const fs::path& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) result.push_back(line);
  return result;
}

class StructuresAndReports : public ::testing::Test {
 protected:
  // The shipped run, all 5000 frames, 2D: featurized once for the suite.
  static void SetUpTestSuite() {
    scratch_ = new ScratchDirectory();
    const auto result = runActivediff("featurize -q -f " + kXtc + " -s " + kPdb + " --features 2d -o " + md());
    ASSERT_EQ(result.exitCode, 0) << result.output;
  }
  static void TearDownTestSuite() { delete scratch_; }
  static std::string md() { return ((*scratch_) / "md2d").string(); }
  static ScratchDirectory* scratch_;
};
ScratchDirectory* StructuresAndReports::scratch_ = nullptr;

TEST_F(StructuresAndReports, PdbHasElementsConectAndModelsThatMdtrajOpenmmAndActivediffReadBack) {
  ScratchDirectory dir;
  const fs::path pdb = dir / "five.pdb", trr = dir / "five.trr";
  const auto rebuild = runActivediff("rebuild -q --features " + md() + " --topology " + kPdb + " --limit 5 -o " +
                                     pdb.string() + " -o " + trr.string());
  ASSERT_EQ(rebuild.exitCode, 0) << rebuild.output;

  // Elements, CONECT bonds (= OpenMM's template bonds), MODEL 1..5 and the
  // coordinates (= the full-precision TRR's), through MDTraj and OpenMM.
  const auto oracle = runOracle("pdb_check.py", pdb.string() + " " + kPdb + " " + trr.string());
  EXPECT_EQ(oracle.exitCode, 0) << oracle.output;
  EXPECT_EQ(oracle.output, "OK 5 21\n");

  // The record layout: CONECT after the last model, END last, once.
  const std::vector<std::string> text = lines(readText(pdb));
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), "END");
  std::size_t lastEndmdl = 0, firstConect = text.size(), ends = 0;
  for (std::size_t k = 0; k < text.size(); ++k) {
    if (text[k] == "ENDMDL") lastEndmdl = k;
    if (text[k].rfind("CONECT", 0) == 0) firstConect = std::min(firstConect, k);
    if (text[k] == "END") ++ends;
    if (text[k].rfind("ATOM", 0) == 0) EXPECT_EQ(text[k].size(), 78u) << text[k];
  }
  EXPECT_GT(firstConect, lastEndmdl);
  EXPECT_EQ(ends, 1u);

  // activediff reads its own PDB back: phi/psi of the dataset's rows.
  const fs::path back = dir / "back";
  const auto featurize = runActivediff("featurize -q -f " + pdb.string() + " -s " + kPdb + " --features 2d -o " +
                                       back.string());
  ASSERT_EQ(featurize.exitCode, 0) << featurize.output;
  const Dataset original = readDataset(md());
  const Dataset reread = readDataset(back);
  ASSERT_EQ(reread.frames(), 5);
  for (int k = 0; k < 5; ++k) {
    const std::int64_t row = k * original.frames() / 5;  // --limit: evenly spaced rows
    for (int f = 0; f < 2; ++f) {
      EXPECT_NEAR(wrapToPiRad(reread.features(k, f) - original.features(row, f)) * kDegPerRad, 0.0, 0.2) << k;
    }
  }
}

TEST_F(StructuresAndReports, AppendingToAPdbContinuesModelsAndKeepsOneConectBlock) {
  ScratchDirectory dir;
  const fs::path pdb = dir / "appended.pdb";
  const Structure templ = readStructure(kPdb);
  Frame frame;
  frame.positionsNm = templ.positionsNm;
  frame.boxNm = enclosingBoxNm(frame.positionsNm);
  {
    TrajectoryWriter writer(pdb, templ.topology);
    for (int k = 0; k < 2; ++k) writer.write(frame);
    writer.close();
  }
  {
    TrajectoryWriter writer(pdb, templ.topology, TrajectoryWriter::Mode::Append);
    frame.positionsNm.col(0).array() += 0.1;
    for (int k = 0; k < 2; ++k) writer.write(frame);
    writer.close();
  }
  const std::vector<std::string> text = lines(readText(pdb));
  std::vector<int> models;
  int conect = 0, ends = 0;
  for (const std::string& line : text) {
    if (line.rfind("MODEL", 0) == 0) models.push_back(std::stoi(line.substr(10)));
    conect += line.rfind("CONECT", 0) == 0;
    ends += line == "END";
  }
  EXPECT_EQ(models, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(conect, 22);  // one record per atom: no atom of ala2 has more than 4 bonds
  EXPECT_EQ(ends, 1);
  EXPECT_EQ(text.back(), "END");
  // libgromacs (activediff's reader) reads four frames, the last moved.
  TrajectoryReader reader(pdb);
  Frame read;
  int n = 0;
  while (reader.next(read)) {
    EXPECT_NEAR(read.positionsNm(0, 0), templ.positionsNm(0, 0) + (n >= 2 ? 0.1 : 0.0), 1e-4) << n;
    ++n;
  }
  EXPECT_EQ(n, 4);
}

TEST_F(StructuresAndReports, RebuildPrintsOneProgressLinePerTenPercentOnAFile) {
  ScratchDirectory dir;
  const fs::path log = dir / "stderr.txt";
  const auto rebuild = runActivediff("rebuild --features " + md() + " --topology " + kPdb + " -o " +
                                     (dir / "all.xtc").string() + " 2> " + log.string());
  ASSERT_EQ(rebuild.exitCode, 0) << rebuild.output << readText(log);
  std::vector<int> percents;
  const std::regex progress(R"(^rebuild: +([0-9.]+)% ([0-9]+)/5000 .*ETA [0-9]+s)");
  std::smatch m;
  for (const std::string& line : lines(readText(log))) {
    if (std::regex_search(line, m, progress)) percents.push_back(static_cast<int>(std::stod(m[1])));
  }
  ASSERT_GE(percents.size(), 10u) << readText(log);
  EXPECT_LE(percents.size(), 12u) << readText(log);
  EXPECT_EQ(percents.back(), 100);
  for (std::size_t k = 1; k < percents.size(); ++k) {
    EXPECT_GT(percents[k], percents[k - 1]);
    EXPECT_EQ(percents[k] / 10, percents[k - 1] / 10 + 1) << "one line per decile";
  }
  EXPECT_NE(readText(log).find("rebuild: done in"), std::string::npos);
  // -q (main.cpp) silences it.
  const auto quiet = runActivediff("rebuild -q --features " + md() + " --topology " + kPdb + " --limit 100 -o " +
                                   (dir / "quiet.xtc").string() + " 2> " + (dir / "quiet.txt").string());
  ASSERT_EQ(quiet.exitCode, 0) << quiet.output;
  EXPECT_EQ(readText(dir / "quiet.txt").find("rebuild:"), std::string::npos);
}

TEST_F(StructuresAndReports, ReportHoldsHistogramGridsAndFreeEnergyProfilesThatNumpyRecomputes) {
  ScratchDirectory dir;
  const std::string generated = (dir / "gen").string();
  ASSERT_EQ(runOracle("synthetic_dataset.py", md() + " " + generated + " 3 0.05 1").exitCode, 0);
  const fs::path report = dir / "report";
  const fs::path log = dir / "stderr.txt";
  const auto result = runActivediff("evaluate --reference " + md() + " --generated " + generated + " -o " +
                                    report.string() + " --topology " + kPdb + " --system " + kSystem +
                                    " --energy-samples 40 --temperature 310 2> " + log.string());
  ASSERT_EQ(result.exitCode, 0) << result.output << readText(log);
  const auto check = runOracle("check_report.py", (report / "report.json").string() + " " + md() + " " + generated);
  EXPECT_EQ(check.exitCode, 0) << check.output;

  std::ifstream in(report / "report.json");
  const auto json = nlohmann::json::parse(in);
  EXPECT_EQ(json["free_energy_profiles"]["temperature_k"].get<double>(), 310.0);
  EXPECT_EQ(json["free_energy_profiles"]["unit"], "kJ/mol");
  double total = 0;
  for (const auto& row : json["histograms"]["phi_psi"]["reference"])
    for (const auto& count : row) total += count.get<double>();
  EXPECT_EQ(total, 5000.0);
  EXPECT_EQ(json["histograms"]["phi"]["edges_deg"].size(), 37u);
  EXPECT_EQ(json["plots"]["free_energy_1d"], "free_energy_1d.png");
  EXPECT_EQ(runCommand("head -c 8 " + (report / "free_energy_1d.png").string() + " | grep -q PNG").exitCode, 0);
  const std::string markdown = readText(report / "report.md");
  EXPECT_NE(markdown.find("![free-energy profiles](free_energy_1d.png)"), std::string::npos);
  EXPECT_NE(markdown.find("kJ/mol at 310 K"), std::string::npos);

  // Progress of the structure work (40 + 40 structures), ending at 100 %.
  const std::string progress = readText(log);
  EXPECT_NE(progress.find("evaluate: rebuild, relax, energies: 100.0% 80/80"), std::string::npos) << progress;
}

}  // namespace
}  // namespace activediff
