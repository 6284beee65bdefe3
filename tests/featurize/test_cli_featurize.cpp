// `activediff featurize` end to end: good runs and every kind of bad input.
#include <gtest/gtest.h>

#include <fstream>

#include "test_support.h"

namespace activediff {
namespace {

using test::quote;

std::string featurize(const std::string& arguments) {
  const char* other = std::getenv("ACTIVEDIFF_TEST_BINARY");  // see tests/support
  return std::string(other != nullptr && *other ? other : ACTIVEDIFF_BINARY) + " featurize -q " + arguments;
}

// Only `keep` (if anything) may exist in dir afterwards: no partial output,
// no temporaries.
void expectNothingLeftBehind(const fs::path& dir, const std::vector<fs::path>& keep) {
  for (const auto& entry : fs::directory_iterator(dir)) {
    bool kept = false;
    for (const fs::path& k : keep) kept = kept || entry.path() == k;
    EXPECT_TRUE(kept) << "left behind: " << entry.path();
  }
}

TEST(CliFeaturize, TwoTrajectoriesInto2dAnd25dDatasets) {
  test::ScratchDir dir;
  const fs::path a = dir / "a.xtc", b = dir / "b.xtc";
  test::writeNoisyTrajectory(a, 40, 1);
  test::writeNoisyTrajectory(b, 30, 2);
  for (const char* set : {"2d", "25d"}) {
    const fs::path out = dir / (std::string("data") + set);
    const auto run = test::runCommand(featurize(quote(a) + " " + quote(b) + " -s " + quote(test::ala2Pdb()) +
                                                " -o " + quote(out) + " --features " + set + " --first-frame 2 --stride 3 --summary " +
                                                quote(dir / "summary.json")));
    ASSERT_EQ(run.exitCode, 0) << run.output;
    EXPECT_NE(run.output.find("\"activediff_version\""), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("\"frames\": 23"), std::string::npos) << run.output;  // 13 + 10
    const std::string check =
        "import numpy as np, json, sys; d = sys.argv[1]; f = np.load(d + '/features.npy'); "
        "m = json.load(open(d + '/meta.json')); fr = np.load(d + '/source_frame.npy'); "
        "src = np.load(d + '/source_file.npy'); "
        "assert f.shape == (23, m['dimension']) and m['dimension'] in (2, 25), f.shape; "
        "assert list(fr[:3]) == [2, 5, 8] and list(src[12:14]) == [0, 1]; "
        "assert 'featurize' in m['provenance']['command']; "
        "assert all(x['periodic'] == (x['unit'] == 'rad' and x['kind'] == 'torsion') for x in m['features']); "
        "print('ok', f.shape)";
    const auto py = test::runCommand(std::string(ACTIVEDIFF_PYTHON) + " -c \"" + check + "\" " + quote(out));
    EXPECT_EQ(py.exitCode, 0) << py.output;
  }
  EXPECT_TRUE(fs::exists(dir / "summary.json"));
}

TEST(CliFeaturize, HelpDescribesTheCommand) {
  const auto run = test::runCommand(featurize("--help"));
  EXPECT_EQ(run.exitCode, 0);
  for (const char* word : {"--features", "--first-frame", "--last-frame", "--stride", "-b", "-e", "--dt", "--index", "--group", "--xvg", "--topology", "numpy"})
    EXPECT_NE(run.output.find(word), std::string::npos) << word;
}

struct BadCase {
  std::string name;
  fs::path trajectory;
  fs::path topology;
  std::string features = "2d";
  std::string extra;
  std::string mustMention;  // the file the message must name
  std::string problem;      // a word of the problem
};

void expectCleanFailure(const test::ScratchDir& dir, const BadCase& c, const std::vector<fs::path>& inputs) {
  const fs::path out = dir / "out";
  const auto run = test::runCommand(featurize(quote(c.trajectory) + " -s " + quote(c.topology) + " -o " + quote(out) +
                                              " --features " + c.features + " " + c.extra));
  EXPECT_NE(run.exitCode, 0) << c.name << ": " << run.output;
  EXPECT_LT(run.exitCode, 128) << c.name << " crashed: " << run.output;
  EXPECT_NE(run.output.find(c.mustMention), std::string::npos) << c.name << ": " << run.output;
  EXPECT_NE(run.output.find(c.problem), std::string::npos) << c.name << ": " << run.output;
  EXPECT_FALSE(fs::exists(out)) << c.name;
  fs::remove_all(out);
  expectNothingLeftBehind(dir.path(), inputs);
}

void copyWithBytes(const fs::path& from, const fs::path& to, std::int64_t offset, const std::string& bytes) {
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  std::fstream stream(to, std::ios::in | std::ios::out | std::ios::binary);
  stream.seekp(offset);
  stream.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// One good 20-frame trajectory per test; bad inputs are made from it.
class CliBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    good_ = dir_ / "good.xtc";
    test::writeNoisyTrajectory(good_, 20);
    offsets_ = test::xtcFrameOffsets(good_);
    ASSERT_EQ(offsets_.size(), 20u);
    inputs_ = {good_};
  }
  fs::path input(const std::string& name) {
    inputs_.push_back(dir_ / name);
    return dir_ / name;
  }
  void expectFailure(const BadCase& c) { expectCleanFailure(dir_, c, inputs_); }

  test::ScratchDir dir_;
  fs::path good_;
  std::vector<std::int64_t> offsets_;
  std::vector<fs::path> inputs_;
  const fs::path pdb_ = test::ala2Pdb();
};

TEST_F(CliBadInput, TruncatedXtc) {
  const fs::path truncated = input("truncated.xtc");
  fs::copy_file(good_, truncated);
  fs::resize_file(truncated, offsets_[19] + 50);
  expectFailure({"truncated", truncated, pdb_, "2d", "", truncated.string(), "frame 19"});
}

TEST_F(CliBadInput, CorruptXtcHeaderAndPayload) {
  // Frame 11: its magic number, and its first compressed bytes (on which
  // libgromacs itself crashes). The reader tests corrupt many more places.
  const std::int64_t frame11 = offsets_[11];
  const fs::path badMagic = input("corrupt_magic.xtc");
  copyWithBytes(good_, badMagic, frame11, std::string("\x12\x34\x56\x78", 4));
  expectFailure({"corrupt magic", badMagic, pdb_, "2d", "", badMagic.string(), "frame 11"});
  const fs::path badPayload = input("corrupt_payload.xtc");
  copyWithBytes(good_, badPayload, frame11 + 92, std::string("\xde\xad\xbe\xef", 4));
  expectFailure({"corrupt payload", badPayload, pdb_, "25d", "", badPayload.string(), "frame 11"});
}

TEST_F(CliBadInput, AtomCountMismatch) {
  const fs::path fewerAtoms = input("21atoms.xtc");
  test::writeNoisyTrajectory(fewerAtoms, 5, 3, 1);
  expectFailure({"atom count", fewerAtoms, pdb_, "2d", "", fewerAtoms.string(), "21 atoms"});
}

TEST_F(CliBadInput, MoleculeWithoutRequestedAtoms) {
  const fs::path noCb = input("no_cb.pdb");
  {
    std::string text = test::readText(pdb_);
    text.replace(text.find(" CB  ALA"), 8, " CX  ALA");
    std::ofstream(noCb) << text;
  }
  expectFailure({"no CB", good_, noCb, "25d", "", noCb.string(), "CB"});
  const fs::path noCa = input("no_ca.pdb");
  {
    std::string text = test::readText(pdb_);
    text.replace(text.find(" CA  ALA"), 8, " CZ  ALA");
    std::ofstream(noCa) << text;
  }
  expectFailure({"no CA", good_, noCa, "2d", "", noCa.string(), "phi"});
}

TEST_F(CliBadInput, EmptyTrajectory) {
  const fs::path empty = input("empty.xtc");
  std::ofstream(empty).close();
  expectFailure({"empty", empty, pdb_, "2d", "", empty.string(), "empty"});
  expectFailure({"nothing selected", good_, pdb_, "2d", "--first-frame 50", good_.string(), "no frames"});
}

}  // namespace
}  // namespace activediff
