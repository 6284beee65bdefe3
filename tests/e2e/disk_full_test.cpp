// A full device during rebuild, energy and featurize: a small tmpfs is
// mounted on a scratch directory and filled, the command must fail saying
// the device is full, and nothing may stand under the final names (nor any
// temporary). Mounting needs root (CI runs as root); elsewhere the test
// reports itself skipped.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "support/test_support.h"

namespace activediff {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::runActivediff;

class FullDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    mountPoint_ = scratch_ / "small-device";
    fs::create_directory(mountPoint_);
    if (::mount("tmpfs", mountPoint_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=256k") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno) << "): not run";
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(mountPoint_.c_str(), MNT_DETACH);
  }
  // Fills the device, leaving about `leaveBytes` free.
  void fill(std::size_t leaveBytes) {
    std::ofstream filler(mountPoint_ / "filler", std::ios::binary);
    const std::string block(4096, 'x');
    for (std::size_t written = 0; written + leaveBytes + 4096 <= 256 * 1024; written += 4096) filler << block;
    filler.close();
    fillerSize_ = fs::file_size(mountPoint_ / "filler");
  }
  // Only the filler is left, at its size.
  void expectNothingLeftBehind(const std::string& command) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(mountPoint_)) names.push_back(entry.path().filename().string());
    EXPECT_EQ(names, std::vector<std::string>{"filler"}) << command << " left files on the full device";
    EXPECT_EQ(fs::file_size(mountPoint_ / "filler"), fillerSize_);
  }
  static void expectSaysDeviceFull(const CommandResult& r, const std::string& command) {
    EXPECT_NE(r.exitCode, 0) << command << ": " << r.output;
    EXPECT_LT(r.exitCode, 128) << command << " died from a signal: " << r.output;
    EXPECT_NE(r.output.find("no space left on device"), std::string::npos) << command << ": " << r.output;
  }

  testing::ScratchDirectory scratch_;
  fs::path mountPoint_;
  bool mounted_ = false;
  std::uintmax_t fillerSize_ = 0;
};

const fs::path kExamples = testing::examplesDir() / "ala2";

TEST_F(FullDevice, FeaturizeFailsCleanly) {
  fill(16 * 1024);  // 5,000 frames of features need ~200 KB with times and sources
  const CommandResult r = runActivediff("featurize -f " + (kExamples / "md" / "run1.xtc").string() + " -s " +
                                        (kExamples / "ala2.pdb").string() + " --features 2d -q -o " +
                                        (mountPoint_ / "ds").string());
  expectSaysDeviceFull(r, "featurize");
  expectNothingLeftBehind("featurize");
}

TEST_F(FullDevice, EnergyFailsCleanly) {
  // The CSV (~10 KB) fits, its JSON table (~25 KB) does not: the table must
  // not be left standing without its JSON.
  fill(16 * 1024);
  const CommandResult r = runActivediff("energy --system " + (kExamples / "system.xml").string() + " -f " +
                                        (kExamples / "md" / "run1.xtc").string() + " --last-frame 299 -o " +
                                        (mountPoint_ / "e.csv").string());
  expectSaysDeviceFull(r, "energy");
  expectNothingLeftBehind("energy");
}

TEST_F(FullDevice, RebuildFailsCleanly) {
  // Features to rebuild, written off the small device.
  const fs::path features = scratch_ / "md2d";
  ASSERT_EQ(runActivediff("featurize -f " + (kExamples / "md" / "run1.xtc").string() + " -s " +
                          (kExamples / "ala2.pdb").string() + " --features 2d -q --last-frame 199 -o " + features.string())
                .exitCode,
            0);
  fill(8 * 1024);  // 200 PDB models of 22 atoms need ~400 KB
  const CommandResult r = runActivediff("rebuild --features " + features.string() + " --topology " +
                                        (kExamples / "ala2.pdb").string() + " -o " + (mountPoint_ / "rb.pdb").string());
  expectSaysDeviceFull(r, "rebuild");
  expectNothingLeftBehind("rebuild");
}

}  // namespace
}  // namespace activediff
