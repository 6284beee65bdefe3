// GROMACS conventions (issue 13, Build 3), against gmx itself:
//  - -b/-e/-dt select the frames gmx trjconv -b/-e/-dt selects, on the
//    shipped XTC and on a concatenated file whose time restarts;
//  - -n index.ndx --group selects the molecule of a solvated system whose
//    molecule is split across the box (cubic and dodecahedron), made whole
//    as gmx trjconv -pbc mol does: phi/psi equal MDTraj's;
//  - the averages gmx analyze reads from activediff's .xvg tables equal the
//    JSON's;
//  - the old frame-index names (--begin, --end) are refused with the new ones.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "activediff/featurize/npy.h"
#include "support/test_support.h"

namespace activediff {
namespace {

namespace fs = std::filesystem;
using testing::runActivediff;
using testing::runCommand;
using testing::runOracle;
using testing::ScratchDirectory;

const fs::path kExamples = testing::examplesDir() / "ala2";
const std::string kXtc = (kExamples / "md" / "run1.xtc").string();
const std::string kPdb = (kExamples / "ala2.pdb").string();

std::vector<double> numbers(const std::string& text) {
  std::vector<double> values;
  std::istringstream in(text);
  double v = 0.0;
  while (in >> v) values.push_back(v);
  return values;
}

// Times of the frames gmx trjconv writes for these selection options.
std::vector<double> trjconvTimes(const ScratchDirectory& scratch, const std::string& trajectory,
                                 const std::string& selection) {
  const fs::path out = scratch / "trjconv.xtc";
  fs::remove(out);
  const auto run = runCommand("echo 0 | timeout 60 gmx -quiet -nobackup trjconv -f " + trajectory + " -s " + kPdb +
                              " -o " + out.string() + " " + selection + " 2>&1");
  EXPECT_EQ(run.exitCode, 0) << run.output;
  const auto times = runOracle("xtc_times.py", out.string() + " " + kPdb);
  EXPECT_EQ(times.exitCode, 0) << times.output;
  return numbers(times.output);
}

std::vector<double> featurizeTimes(const ScratchDirectory& scratch, const std::string& trajectory,
                                   const std::string& selection) {
  const fs::path dataset = scratch / "ds";
  const auto run = runActivediff("featurize -q --overwrite -f " + trajectory + " -s " + kPdb + " -o " +
                                 dataset.string() + " " + selection);
  EXPECT_EQ(run.exitCode, 0) << run.output;
  if (run.exitCode != 0) return {};
  return readNpy(dataset / "time_ps.npy").float64;
}

void expectSameTimes(const std::vector<double>& expected, const std::vector<double>& actual, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  ASSERT_FALSE(expected.empty()) << what;
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-3) << what << " frame " << i;
}

TEST(GromacsTimeSelection, SelectsTheFramesOfTrjconvOnTheShippedXtc) {
  ScratchDirectory scratch;
  // Times are 1, 2, ... 5000 ps. -dt counts from the first frame taken (3,
  // 13, 23 for -b 3 -dt 10), not from t = 0.
  for (const std::string selection :
       {"-b 3 -e 40 -dt 10", "-b 2.5 -e 40.5 -dt 7", "-e 30 -dt 2.5", "-b 4985", "-b 100 -e 160 -dt 20", "-e 1"}) {
    const auto expected = trjconvTimes(scratch, kXtc, selection);
    expectSameTimes(expected, featurizeTimes(scratch, kXtc, selection), "featurize " + selection);
  }
  // --dt is the same option; energy shares the selection.
  expectSameTimes(trjconvTimes(scratch, kXtc, "-b 2.5 -e 40.5 -dt 7"),
                  featurizeTimes(scratch, kXtc, "-b 2.5 -e 40.5 --dt 7"), "--dt");
  const fs::path csv = scratch / "e.csv";
  const auto energy = runActivediff("energy --system " + (kExamples / "system.xml").string() + " -f " + kXtc +
                                    " -b 3 -e 40 -dt 10 -o " + csv.string());
  ASSERT_EQ(energy.exitCode, 0) << energy.output;
  std::vector<double> energyTimes;
  const auto energyJson = nlohmann::json::parse(std::ifstream(scratch / "e.json"));
  for (const auto& row : energyJson["energies"])
    energyTimes.push_back(row["time_ps"].get<double>());
  expectSameTimes(trjconvTimes(scratch, kXtc, "-b 3 -e 40 -dt 10"), energyTimes, "energy");
}

TEST(GromacsTimeSelection, RestartingTimesAreSelectedAsTrjconvDoes) {
  ScratchDirectory scratch;
  // a: t = 1..20, b: t = 8..30; a+b restarts at 8 after 20.
  for (const auto& [name, selection] : {std::pair{"a", "-e 20"}, std::pair{"b", "-b 8 -e 30"}}) {
    for (const char* ext : {".xtc", ".trr"}) {
      const auto run = runCommand("echo 0 | gmx -quiet -nobackup trjconv -f " + kXtc + " -s " + kPdb + " -o " +
                                  (scratch / (std::string(name) + ext)).string() + " " + selection + " 2>&1");
      ASSERT_EQ(run.exitCode, 0) << run.output;
    }
  }
  for (const char* ext : {".xtc", ".trr"}) {
    const std::string joined = (scratch / (std::string("ab") + ext)).string();
    ASSERT_EQ(runCommand("cat " + (scratch / (std::string("a") + ext)).string() + " " +
                         (scratch / (std::string("b") + ext)).string() + " > " + joined)
                  .exitCode,
              0);
  }
  const std::string trr = (scratch / "ab.trr").string();
  const std::string xtc = (scratch / "ab.xtc").string();
  // -b skips early frames again after the restart; -e stops at the first
  // frame past it; -dt counts from the first frame taken. (gmx trjconv -b on
  // the XTC does not return: its time seek assumes increasing time. The
  // same frames concatenated as TRR are its answer.)
  for (const std::string selection : {"-b 5", "-e 10", "-b 5 -e 25", "-dt 3", "-b 5 -dt 3", "-b 12 -e 15"}) {
    const auto expected = trjconvTimes(scratch, trr, selection);
    expectSameTimes(expected, featurizeTimes(scratch, trr, selection), "ab.trr " + selection);
    expectSameTimes(expected, featurizeTimes(scratch, xtc, selection), "ab.xtc " + selection);
  }
}

// A solvated copy of the molecule in a box of this kind, split across the
// box in every frame; returns MDTraj's rows (see split_across_box.py).
struct SplitSystem {
  fs::path gro, xtc, ndx;
  std::vector<std::vector<double>> oracle;  // phi, psi (make_molecules_whole), phi, psi (known unwrap), crossing bonds
};

SplitSystem buildSplitSystem(const ScratchDirectory& scratch, const std::string& tag, const std::string& box,
                             int frames) {
  SplitSystem s;
  const fs::path boxed = scratch / (tag + "-box.gro");
  const fs::path solvated = scratch / (tag + "-solvated.gro");
  s.gro = scratch / (tag + "-split.gro");
  s.xtc = scratch / (tag + "-split.xtc");
  s.ndx = scratch / (tag + ".ndx");
  const std::string gmx = "gmx -quiet -nobackup ";
  for (const std::string command :
       {gmx + "editconf -f " + kPdb + " -o " + boxed.string() + " " + box,
        gmx + "solvate -cp " + boxed.string() + " -cs spc216.gro -o " + solvated.string()}) {
    const auto run = runCommand(command + " 2>&1");
    EXPECT_EQ(run.exitCode, 0) << command << "\n" << run.output;
  }
  const auto oracle = runOracle("split_across_box.py", solvated.string() + " " + kXtc + " " + kPdb + " " +
                                                           std::to_string(frames) + " " + s.gro.string() + " " +
                                                           s.xtc.string());
  EXPECT_EQ(oracle.exitCode, 0) << oracle.output;
  std::istringstream lines(oracle.output);
  for (std::string line; std::getline(lines, line);) {
    const auto row = numbers(line);
    if (row.size() == 5) s.oracle.push_back(row);
  }
  const auto ndx = runCommand("printf 'q\\n' | " + gmx + "make_ndx -f " + s.gro.string() + " -o " + s.ndx.string() +
                              " 2>&1");
  EXPECT_EQ(ndx.exitCode, 0) << ndx.output;
  return s;
}

TEST(GromacsIndexGroups, SelectTheMoleculeOfASolvatedSystemSplitAcrossTheBox) {
  ScratchDirectory scratch;
  constexpr int kFrames = 8;
  for (const std::string box : {"-box 2.4", "-bt dodecahedron -d 0.7"}) {
    const SplitSystem s = buildSplitSystem(scratch, box == "-box 2.4" ? "cubic" : "dodecahedron", box, kFrames);
    ASSERT_EQ(s.oracle.size(), static_cast<std::size_t>(kFrames)) << box;
    for (const auto& row : s.oracle) ASSERT_GT(row[4], 0) << box << ": the molecule must be split across the box";
    // By name (as gmx make_ndx names it) and by number (as gmx lists them).
    for (const std::string group : {"Protein", "1"}) {
      const fs::path dataset = scratch / "ds";
      const auto run = runActivediff("featurize -q --overwrite -f " + s.xtc.string() + " -s " + s.gro.string() +
                                     " -n " + s.ndx.string() + " --group " + group + " -o " + dataset.string());
      ASSERT_EQ(run.exitCode, 0) << box << "\n" << run.output;
      const auto features = readNpy(dataset / "features.npy");
      ASSERT_EQ(features.rows(), kFrames);
      for (int k = 0; k < kFrames; ++k) {
        const double phi = features.float64[2 * k] * 180.0 / M_PI;
        const double psi = features.float64[2 * k + 1] * 180.0 / M_PI;
        // Against the known unwrap in every box; against MDTraj's
        // make_molecules_whole in the rectangular box, where it is right.
        EXPECT_NEAR(phi, s.oracle[k][2], 0.01) << box << " frame " << k;
        EXPECT_NEAR(psi, s.oracle[k][3], 0.01) << box << " frame " << k;
        if (box == "-box 2.4") {
          EXPECT_NEAR(phi, s.oracle[k][0], 0.01) << box << " frame " << k;
          EXPECT_NEAR(psi, s.oracle[k][1], 0.01) << box << " frame " << k;
        }
      }
    }
    // The split reference structure itself as the single frame.
    const auto single = runActivediff("featurize -q --overwrite -f " + s.gro.string() + " -s " + s.gro.string() +
                                      " -n " + s.ndx.string() + " --group protein -o " + (scratch / "one").string());
    ASSERT_EQ(single.exitCode, 0) << single.output;
    const auto first = readNpy(scratch / "one" / "features.npy");
    EXPECT_NEAR(first.float64[0] * 180.0 / M_PI, s.oracle[0][2], 0.05);
    EXPECT_NEAR(first.float64[1] * 180.0 / M_PI, s.oracle[0][3], 0.05);
  }
}

// energy -n: the System's atoms cut out of each solvated frame and made whole
// along the System's bonds, against OpenMM's Python layer on MDTraj's
// make_molecules_whole of the same frames (rectangular box, where it is right).
TEST(GromacsIndexGroups, EnergyOfTheMoleculeInASolvatedSystemSplitAcrossTheBox) {
  ScratchDirectory scratch;
  constexpr int kFrames = 6;
  const SplitSystem s = buildSplitSystem(scratch, "cubic", "-box 2.4", kFrames);
  const std::string system = (kExamples / "system.xml").string();
  const fs::path csv = scratch / "split-energies.csv";
  const auto run = runActivediff("energy -q --system " + system + " -f " + s.xtc.string() + " -n " +
                                 s.ndx.string() + " --group Protein -o " + csv.string());
  ASSERT_EQ(run.exitCode, 0) << run.output;
  const auto oracle = runOracle("openmm_energies.py", system + " " + s.xtc.string() + " " + s.gro.string() +
                                                          " --molecule-atoms=22");
  ASSERT_EQ(oracle.exitCode, 0) << oracle.output;
  std::vector<double> expected;
  std::istringstream lines(oracle.output);
  for (std::string line; std::getline(lines, line);) {
    const auto row = numbers(line);
    if (row.size() == 2) expected.push_back(row[1]);
  }
  ASSERT_EQ(expected.size(), static_cast<std::size_t>(kFrames));
  std::ifstream table(csv);
  std::string line;
  std::getline(table, line);  // header
  int k = 0;
  for (; std::getline(table, line); ++k) {
    ASSERT_LT(k, kFrames);
    const double energy = std::stod(line.substr(line.rfind(',') + 1));
    EXPECT_NEAR(energy, expected[k], 1e-3) << "frame " << k;
  }
  EXPECT_EQ(k, kFrames);
  // The same frames without -n are another system: refused with the counts.
  const auto whole = runActivediff("energy -q --system " + system + " -f " + s.xtc.string() + " -o " +
                                   (scratch / "no-index.csv").string());
  EXPECT_NE(whole.exitCode, 0);
  // A group of the wrong size names both counts.
  const auto wrong = runActivediff("energy -q --system " + system + " -f " + s.xtc.string() + " -n " +
                                   s.ndx.string() + " --group System -o " + (scratch / "wrong.csv").string());
  EXPECT_NE(wrong.exitCode, 0);
  EXPECT_NE(wrong.output.find("particles"), std::string::npos) << wrong.output;
}

TEST(GromacsIndexGroups, ChoosingAGroupIsRequiredAndChecked) {
  ScratchDirectory scratch;
  const SplitSystem s = buildSplitSystem(scratch, "cubic", "-box 2.4", 2);
  const std::string base = "featurize -q -f " + s.xtc.string() + " -s " + s.gro.string() + " -o " +
                           (scratch / "ds").string() + " ";
  auto run = runActivediff(base + "-n " + s.ndx.string());
  EXPECT_NE(run.exitCode, 0);
  EXPECT_NE(run.output.find("--group"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("1 Protein (22 atoms)"), std::string::npos) << run.output;
  run = runActivediff(base + "-n " + s.ndx.string() + " --group NoSuchGroup");
  EXPECT_NE(run.exitCode, 0);
  EXPECT_NE(run.output.find("no group named 'NoSuchGroup'"), std::string::npos) << run.output;
  // Without -n the solvated system is not one molecule of the topology.
  run = runActivediff(base + "--group Protein");
  EXPECT_NE(run.exitCode, 0);
  EXPECT_NE(run.output.find("needs an index file"), std::string::npos) << run.output;
  EXPECT_FALSE(fs::exists(scratch / "ds"));
}

// "SS1  -9.672033e+01 ..." lines of gmx analyze: the average of each set.
std::vector<double> gmxAnalyzeAverages(const fs::path& xvg) {
  const auto run = runCommand("gmx -quiet analyze -f " + xvg.string() + " 2>&1");
  EXPECT_EQ(run.exitCode, 0) << run.output;
  std::vector<double> averages;
  std::istringstream lines(run.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("SS", 0) != 0) continue;
    std::istringstream words(line);
    std::string set;
    double average = 0.0;
    if (words >> set >> average) averages.push_back(average);
  }
  return averages;
}

TEST(GromacsXvg, GmxAnalyzeReadsTheAveragesOfTheJson) {
  ScratchDirectory scratch;
  // energy -o x.xvg: the JSON's mean.
  const fs::path energyXvg = scratch / "energy.xvg";
  const auto energy = runActivediff("energy --system " + (kExamples / "system.xml").string() + " -f " + kXtc +
                                    " -e 60 -o " + energyXvg.string());
  ASSERT_EQ(energy.exitCode, 0) << energy.output;
  const auto energyJson = nlohmann::json::parse(std::ifstream(scratch / "energy.json"));
  const auto energyAverages = gmxAnalyzeAverages(energyXvg);
  ASSERT_EQ(energyAverages.size(), 1u);
  const double mean = energyJson["summary"]["mean"].get<double>();
  EXPECT_NEAR(energyAverages[0], mean, 2e-6 * std::abs(mean));
  EXPECT_EQ(energyJson["energies"].size(), 60u);

  // featurize --xvg: every column's average, for 2d and 25d.
  for (const std::string set : {"2d", "25d"}) {
    const fs::path xvg = scratch / ("features-" + set + ".xvg");
    const auto run = runActivediff("featurize -q --overwrite -f " + kXtc + " -s " + kPdb + " --features " + set +
                                   " --last-frame 199 -o " + (scratch / "ds").string() + " --xvg " + xvg.string());
    ASSERT_EQ(run.exitCode, 0) << run.output;
    const auto json = nlohmann::json::parse(std::ifstream(scratch / ("features-" + set + ".json")));
    const auto averages = gmxAnalyzeAverages(xvg);
    const auto& columns = json["table"]["columns"];
    ASSERT_EQ(averages.size(), columns.size()) << set;
    EXPECT_EQ(json["table"]["rows"].get<int>(), 200);
    for (std::size_t k = 0; k < averages.size(); ++k) {
      const double expected = columns[k]["average"].get<double>();
      EXPECT_NEAR(averages[k], expected, 2e-6 * std::abs(expected) + 1e-9) << set << " " << columns[k]["name"];
    }
  }
}

TEST(GromacsFrameOptions, OldIndexNamesPointToTheNewOnes) {
  ScratchDirectory scratch;
  auto run = runActivediff("featurize -q -f " + kXtc + " -s " + kPdb + " --begin 3 -o " + (scratch / "ds").string());
  EXPECT_NE(run.exitCode, 0);
  EXPECT_NE(run.output.find("--begin: is now --first-frame"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("-b selects by time in ps"), std::string::npos) << run.output;
  run = runActivediff("energy --system " + (kExamples / "system.xml").string() + " -f " + kXtc + " --end 5 -o " +
                      (scratch / "e.csv").string());
  EXPECT_NE(run.exitCode, 0);
  EXPECT_NE(run.output.find("--end: is now --last-frame"), std::string::npos) << run.output;
  EXPECT_FALSE(fs::exists(scratch / "ds"));
  EXPECT_FALSE(fs::exists(scratch / "e.csv"));
  // --last-frame is inclusive: frames 2, 5, 8.
  const auto times = featurizeTimes(scratch, kXtc, "--first-frame 2 --last-frame 8 --stride 3");
  expectSameTimes({3.0, 6.0, 9.0}, times, "--first-frame 2 --last-frame 8 --stride 3");
}

}  // namespace
}  // namespace activediff
