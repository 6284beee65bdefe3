// Commands load only the heavy libraries they use (issue 13, Build 1): the
// dynamic loader's own record (LD_DEBUG=files, inherited across the hand-on
// execs) says which shared libraries a command line mapped, whatever binary
// ran it. The positive controls show the record does see LibTorch and OpenMM.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "support/test_support.h"

namespace activediff {
namespace {

namespace fs = std::filesystem;
using testing::activediffBinary;
using testing::examplesDir;
using testing::runCommand;
using testing::ScratchDirectory;

using testing::mappedLibraries;
using Mapped = testing::MappedLibraries;

TEST(LazyLoading, FeaturizeHelpAndVersionMapNeitherLibTorchNorOpenMM) {
  for (const std::string arguments : {"featurize --help", "--version", "--help", "rebuild --help"}) {
    const Mapped mapped = mappedLibraries(arguments);
    EXPECT_EQ(mapped.exitCode, 0) << arguments << "\n" << mapped.output.substr(0, 2000);
    EXPECT_FALSE(mapped.torch) << arguments << " mapped LibTorch";
    EXPECT_FALSE(mapped.openmm) << arguments << " mapped OpenMM";
  }
}

TEST(LazyLoading, FeaturizeRebuildAndEvaluateWithoutEnergiesOrModelMapNeither) {
  ScratchDirectory scratch;
  const fs::path ala2 = examplesDir() / "ala2";
  const Mapped featurize = mappedLibraries("featurize -q -s " + (ala2 / "ala2.pdb").string() + " -f " +
                                    (ala2 / "md" / "run1.xtc").string() + " -o " + (scratch / "md").string());
  ASSERT_EQ(featurize.exitCode, 0) << featurize.output.substr(featurize.output.size() > 3000 ? featurize.output.size() - 3000 : 0);
  EXPECT_FALSE(featurize.torch);
  EXPECT_FALSE(featurize.openmm);
  const Mapped rebuild = mappedLibraries("rebuild --features " + (scratch / "md").string() + " --topology " +
                                  (ala2 / "ala2.pdb").string() + " --limit 20 -o " + (scratch / "md.pdb").string());
  ASSERT_EQ(rebuild.exitCode, 0) << rebuild.output.substr(rebuild.output.size() > 3000 ? rebuild.output.size() - 3000 : 0);
  EXPECT_FALSE(rebuild.torch);
  EXPECT_FALSE(rebuild.openmm);
  EXPECT_TRUE(fs::exists(scratch / "md.pdb"));
  // evaluate MD against itself: no --system, no --model.
  const Mapped evaluate = mappedLibraries("evaluate -q --reference " + (scratch / "md").string() + " --generated " +
                                   (scratch / "md").string() + " -o " + (scratch / "report").string());
  ASSERT_EQ(evaluate.exitCode, 0) << evaluate.output.substr(evaluate.output.size() > 3000 ? evaluate.output.size() - 3000 : 0);
  EXPECT_FALSE(evaluate.torch);
  EXPECT_FALSE(evaluate.openmm);
  EXPECT_TRUE(fs::exists(scratch / "report" / "report.json"));

  // Controls: the same record shows OpenMM when energies are asked for (the
  // command line is handed on), and LibTorch for a network command.
  const Mapped energies = mappedLibraries("rebuild --features " + (scratch / "md").string() + " --topology " +
                                   (ala2 / "ala2.pdb").string() + " --system " + (ala2 / "system.xml").string() +
                                   " --limit 5 -o " + (scratch / "scored.pdb").string());
  ASSERT_EQ(energies.exitCode, 0) << energies.output.substr(energies.output.size() > 3000 ? energies.output.size() - 3000 : 0);
  EXPECT_TRUE(energies.openmm);
  EXPECT_FALSE(energies.torch);
  const Mapped train = mappedLibraries("train --help");
  EXPECT_EQ(train.exitCode, 0);
  EXPECT_TRUE(train.torch);
}

// featurize streams: its peak resident memory does not grow with the input
// (20x the frames, measured by /usr/bin/time's maximum resident set size).
TEST(LazyLoading, FeaturizePeakMemoryIsFlatInInputLength) {
  ScratchDirectory scratch;
  const fs::path ala2 = examplesDir() / "ala2";
  const fs::path longer = scratch / "long.xtc";
  {
    std::ofstream out(longer, std::ios::binary);
    for (int copy = 0; copy < 20; ++copy) {
      std::ifstream in(ala2 / "md" / "run1.xtc", std::ios::binary);
      out << in.rdbuf();
    }
  }
  auto peakKb = [&](const fs::path& xtc, const std::string& name) {
    const auto result = runCommand("/usr/bin/time -f 'peak_kb=%M' " + activediffBinary() + " featurize -q -s " +
                                   (ala2 / "ala2.pdb").string() + " -f " + xtc.string() + " -o " +
                                   (scratch / name).string());
    EXPECT_EQ(result.exitCode, 0) << result.output.substr(0, 2000);
    std::smatch match;
    EXPECT_TRUE(std::regex_search(result.output, match, std::regex("peak_kb=(\\d+)")));
    return match.empty() ? 0L : std::stol(match[1].str());
  };
  const long shortKb = peakKb(ala2 / "md" / "run1.xtc", "short");
  const long longKb = peakKb(longer, "long");  // 100,000 frames
  // Holding the features alone would add 100,000 x 2 x 8 B = 1.6 MB, the
  // frames themselves 100,000 x 22 x 3 x 4 B = 26 MB.
  EXPECT_LT(longKb - shortKb, 1200) << "short " << shortKb << " kB, long " << longKb << " kB";
}

}  // namespace
}  // namespace activediff
