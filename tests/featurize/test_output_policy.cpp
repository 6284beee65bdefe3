// The output policy as a pure function: every refusal of a system path is
// tested here with fakes, so that no test ever points an output at /, HOME,
// a mount point or the current directory.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "activediff/featurize/error.h"
#include "activediff/featurize/output_policy.h"
#include "support/test_support.h"

namespace activediff {
namespace {

namespace fs = std::filesystem;

// A made-up machine: HOME /home/user, working in /home/user/work, /data a
// mount point, the input /home/user/work/in/run.xtc.
OutputObservation fakeWorld(const fs::path& target, PathState state = {}) {
  OutputObservation seen;
  seen.target = target;
  seen.state = state;
  seen.home = "/home/user";
  seen.currentDirectory = "/home/user/work";
  seen.mountPoints = {"/", "/data", "/home/user/usb"};
  seen.inputs = {"/home/user/work/in/run.xtc", "/home/user/work/md2d"};
  seen.exists = [](const fs::path&) { return false; };
  return seen;
}

PathState existingFile(const std::string& kind = "") { return {true, false, false, kind}; }
PathState existingDirectory(const std::string& kind = "", bool empty = false) { return {true, true, empty, kind}; }

OutputRequest request(const std::string& kind, OutputShape shape, bool overwrite = false, bool resume = false) {
  OutputRequest r;
  r.kind = kind;
  r.shape = shape;
  r.overwrite = overwrite;
  r.resume = resume;
  return r;
}

std::string refusal(const OutputRequest& r, const OutputObservation& seen) {
  try {
    decideOutput(r, seen);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(OutputPolicy, NewPathIsCreated) {
  const auto d = decideOutput(request("energy", OutputShape::File), fakeWorld("/home/user/work/e.csv"));
  EXPECT_EQ(d.action, OutputAction::Create);
}

TEST(OutputPolicy, ExistingFileOfAnyOriginIsBackedUpToTheFirstFreeGromacsName) {
  OutputObservation seen = fakeWorld("/home/user/work/e.csv", existingFile());
  auto d = decideOutput(request("energy", OutputShape::File), seen);
  EXPECT_EQ(d.action, OutputAction::BackUp);
  EXPECT_EQ(d.backup, fs::path("/home/user/work/#e.csv.1#"));
  const std::set<fs::path> taken = {"/home/user/work/#e.csv.1#", "/home/user/work/#e.csv.2#"};
  seen.exists = [&](const fs::path& p) { return taken.count(p) > 0; };
  d = decideOutput(request("energy", OutputShape::File), seen);
  EXPECT_EQ(d.backup, fs::path("/home/user/work/#e.csv.3#"));
  seen.exists = [](const fs::path&) { return true; };
  EXPECT_NE(refusal(request("energy", OutputShape::File), seen).find("backup names"), std::string::npos);
}

TEST(OutputPolicy, ActivediffDirectoryIsBackedUpAndReplacedOnlyWithOverwriteOfTheSameKind) {
  const OutputObservation seen = fakeWorld("/home/user/work/md2d-new", existingDirectory("featurize"));
  EXPECT_EQ(decideOutput(request("featurize", OutputShape::Directory), seen).action, OutputAction::BackUp);
  EXPECT_EQ(decideOutput(request("featurize", OutputShape::Directory, true), seen).action, OutputAction::Replace);
  EXPECT_NE(refusal(request("sample", OutputShape::Directory, true), seen).find("featurize output"),
            std::string::npos);
}

TEST(OutputPolicy, OverwriteNeverReplacesAForeignFile) {
  const OutputObservation foreign = fakeWorld("/home/user/work/e.csv", existingFile(""));
  EXPECT_NE(refusal(request("energy", OutputShape::File, true), foreign).find("not one"), std::string::npos);
  const OutputObservation own = fakeWorld("/home/user/work/e.csv", existingFile("energy"));
  EXPECT_EQ(decideOutput(request("energy", OutputShape::File, true), own).action, OutputAction::Replace);
  const OutputObservation other = fakeWorld("/home/user/work/e.csv", existingFile("rebuild"));
  EXPECT_FALSE(refusal(request("energy", OutputShape::File, true), other).empty());
}

TEST(OutputPolicy, NonEmptyForeignDirectoryIsRefusedAndAnEmptyOneIsUsed) {
  EXPECT_NE(refusal(request("featurize", OutputShape::Directory),
                    fakeWorld("/home/user/work/notes", existingDirectory("")))
                .find("non-empty directory"),
            std::string::npos);
  EXPECT_FALSE(refusal(request("featurize", OutputShape::Directory, true),
                       fakeWorld("/home/user/work/notes", existingDirectory("")))
                   .empty());
  EXPECT_EQ(decideOutput(request("featurize", OutputShape::Directory),
                         fakeWorld("/home/user/work/empty", existingDirectory("", true)))
                .action,
            OutputAction::Create);
}

TEST(OutputPolicy, AFileWhereADirectoryIsWantedAndTheReverseAreRefused) {
  EXPECT_NE(refusal(request("featurize", OutputShape::Directory),
                    fakeWorld("/home/user/work/x", existingFile("energy")))
                .find("existing file"),
            std::string::npos);
  EXPECT_NE(refusal(request("energy", OutputShape::File, true),
                    fakeWorld("/home/user/work/x.csv", existingDirectory("energy")))
                .find("existing directory"),
            std::string::npos);
}

TEST(OutputPolicy, SystemPathsAreRefusedWhateverTheyHoldAndWhateverTheFlags) {
  for (bool overwrite : {false, true}) {
    for (bool resume : {false, true}) {
      const auto r = request("featurize", OutputShape::Directory, overwrite, resume);
      // Even a path that claims to be an activediff output of the same kind.
      const PathState own = existingDirectory("featurize");
      EXPECT_NE(refusal(r, fakeWorld("/", own)).find("root directory"), std::string::npos);
      EXPECT_NE(refusal(r, fakeWorld("/home/user", own)).find("home directory"), std::string::npos);
      EXPECT_NE(refusal(r, fakeWorld("/home/user/work", own)).find("current directory"), std::string::npos);
      EXPECT_NE(refusal(r, fakeWorld("/home", own)).find("contains the current directory"), std::string::npos);
      EXPECT_NE(refusal(r, fakeWorld("/data", own)).find("mount point"), std::string::npos);
      EXPECT_NE(refusal(r, fakeWorld("/home/user/usb", own)).find("mount point"), std::string::npos);
      EXPECT_NE(refusal(r, fakeWorld("/home/user/work/in", own)).find("contains the input"), std::string::npos);
      EXPECT_NE(refusal(r, fakeWorld("/home/user/work/md2d", own)).find("one of the inputs"), std::string::npos);
    }
  }
  // A file output that would be an input, or its directory.
  EXPECT_NE(refusal(request("energy", OutputShape::File), fakeWorld("/home/user/work/in/run.xtc", existingFile()))
                .find("one of the inputs"),
            std::string::npos);
  // Beside those paths is fine.
  EXPECT_EQ(decideOutput(request("featurize", OutputShape::Directory), fakeWorld("/data/run1")).action,
            OutputAction::Create);
  EXPECT_EQ(decideOutput(request("featurize", OutputShape::Directory), fakeWorld("/home/user/work/in2")).action,
            OutputAction::Create);
}

TEST(OutputPolicy, ResumeWritesIntoItsOwnOutput) {
  const auto d = decideOutput(request("train", OutputShape::Directory, false, true),
                              fakeWorld("/home/user/work/run", existingDirectory("train")));
  EXPECT_EQ(d.action, OutputAction::Resume);
}

TEST(OutputPolicy, BackupNamesFollowGromacs) {
  EXPECT_EQ(backupPath("/a/b/run.xtc", 1), fs::path("/a/b/#run.xtc.1#"));
  EXPECT_EQ(backupPath("rel/out", 12), fs::path("rel/#out.12#"));
}

TEST(OutputPolicy, TwoSpellingsOfOnePathAreTheSamePath) {
  testing::ScratchDirectory scratch;
  fs::create_directories(scratch / "a" / "b");
  EXPECT_EQ(absoluteNormal(scratch / "a" / ".." / "a" / "b" / "out"), absoluteNormal(scratch / "a/b/out"));
  EXPECT_EQ(absoluteNormal((scratch / "a" / "b").string() + "/"), absoluteNormal(scratch / "a" / "b"));
  fs::create_directory_symlink(scratch / "a", scratch / "link");
  EXPECT_EQ(absoluteNormal(scratch / "link" / "b" / "new"), absoluteNormal(scratch / "a" / "b" / "new"));
}

TEST(OutputPolicy, FilesAreRecognisedByTheSidecarThatListsThem) {
  testing::ScratchDirectory scratch;
  const auto write = [](const fs::path& p, const std::string& text) { std::ofstream(p) << text; };
  write(scratch / "run.xtc", "x");
  write(scratch / "run.log.csv", "x");
  write(scratch / "other.xtc", "x");
  write(scratch / "run.json", R"({"activediff_output": "simulate", "outputs": ["run.xtc", "run.log.csv"]})");
  write(scratch / "other.json", R"({"activediff_output": "simulate", "outputs": ["run.xtc"]})");
  EXPECT_EQ(recognizeActivediffOutput(scratch / "run.xtc"), "simulate");
  EXPECT_EQ(recognizeActivediffOutput(scratch / "run.log.csv"), "simulate");
  EXPECT_EQ(recognizeActivediffOutput(scratch / "run.json"), "simulate");
  EXPECT_EQ(recognizeActivediffOutput(scratch / "other.xtc"), "");  // its sidecar does not list it
  fs::create_directory(scratch / "ds");
  EXPECT_EQ(recognizeActivediffOutput(scratch / "ds"), "");
  write(scratch / "ds" / "meta.json", R"({"format": "activediff-dataset"})");
  EXPECT_EQ(recognizeActivediffOutput(scratch / "ds"), "featurize");
  write(scratch / "ds" / "meta.json", "{not json");
  EXPECT_EQ(recognizeActivediffOutput(scratch / "ds"), "");
}

}  // namespace
}  // namespace activediff
