// Every registered subcommand that writes output, run end to end with -o
// naming: a directory holding a foreign file, an existing output of its own
// kind (with and without --overwrite), a foreign regular file, and a
// directory containing the input. Foreign data must survive byte for byte,
// and the outcome must be the backup, replacement or error the policy says.
// The commands come from the program itself (--list-output-commands): a new
// command without a recipe here fails this test.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/test_support.h"

namespace activediff {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::runActivediff;
using testing::ScratchDirectory;

std::string readBytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// "<bytes> bytes, fnv1a <hash>": equal for equal contents, short in a failure message.
std::string fingerprint(const std::string& bytes) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return std::to_string(bytes.size()) + " bytes, fnv1a " + std::to_string(h);
}

// Every regular file below root (relative path -> fingerprint of its bytes).
std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> files;
  if (!fs::exists(root)) return files;
  if (fs::is_regular_file(root)) {
    files["."] = fingerprint(readBytes(root));
    return files;
  }
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file()) files[fs::relative(entry.path(), root).string()] = fingerprint(readBytes(entry.path()));
  return files;
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

enum class Shape { File, Directory };

struct Recipe {
  Shape shape;
  std::string outputName;  // the -o name (extension matters for file outputs)
  std::string arguments;   // with {IN} for the inputs directory and {OUT} for the output
};

std::string expand(std::string text, const fs::path& in, const fs::path& out) {
  for (auto [key, value] : {std::pair<std::string, std::string>{"{IN}", in.string()}, {"{OUT}", out.string()}}) {
    for (std::size_t at; (at = text.find(key)) != std::string::npos;) text.replace(at, key.size(), value);
  }
  return text;
}

const std::map<std::string, Recipe>& recipes() {
  static const std::map<std::string, Recipe> table = {
      {"simulate",
       {Shape::File, "md.xtc",
        "simulate --system {IN}/system.xml --pdb {IN}/ala2.pdb -o {OUT} --length 0.0004 --frame-interval 0.1 "
        "--equilibrate 0 --no-minimize --platform Reference --seed 3"}},
      {"energy", {Shape::File, "e.csv", "energy --system {IN}/system.xml -f {IN}/run.xtc --last-frame 4 -o {OUT}"}},
      {"featurize",
       {Shape::Directory, "ds", "featurize -f {IN}/run.xtc -s {IN}/ala2.pdb --features 2d --last-frame 39 -q -o {OUT}"}},
      {"train",
       {Shape::Directory, "model",
        "train -d {IN}/md2d -o {OUT} -c " + (testing::examplesDir() / "configs" / "2d-active.toml").string() +
            " --steps 4 --set training.checkpoint_every=4 --set training.validation_every=4 "
            "--set training.validation_samples=64 --set training.warmup_steps=1 --set training.batch_size=32"}},
      {"sample", {Shape::Directory, "gen", "sample -m {IN}/model -o {OUT} -n 40 --steps 4"}},
      {"rebuild", {Shape::File, "rb.pdb", "rebuild --features {IN}/md2d --topology {IN}/ala2.pdb --limit 2 -o {OUT}"}},
      {"evaluate", {Shape::Directory, "report", "evaluate --reference {IN}/md2d --generated {IN}/gen -o {OUT}"}},
      {"export", {Shape::File, "m.pt", "export -c {IN}/model -o {OUT}"}},
      {"mcmove", {Shape::File, "move.xml", "mcmove -m {IN}/model -s {IN}/ala2.pdb -o {OUT}"}},
      {"seed",
       {Shape::File, "seeds.pdb",
        "seed -m {IN}/model --system {IN}/system.xml -s {IN}/ala2.pdb -n 3 --spread model --platform Reference -o {OUT}"}},
      {"fisher-memory", {Shape::Directory, "fisher", "fisher-memory --points 5 --tau 0.5 -o {OUT}"}},
      {"speciation", {Shape::Directory, "speciation", "speciation -d {IN}/md2d --tau 0.5 -o {OUT}"}},
      {"state-memory",
       {Shape::Directory, "memory", "state-memory -m {IN}/model -f {IN}/md2d -n 10 --t-star 0.5 --steps 2 -o {OUT}"}},
  };
  return table;
}

class OutputPolicyEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new ScratchDirectory();
    in_ = scratch_->path() / "inputs";
    fs::create_directory(in_);
    const fs::path ex = testing::examplesDir() / "ala2";
    fs::copy_file(ex / "ala2.pdb", in_ / "ala2.pdb");
    fs::copy_file(ex / "system.xml", in_ / "system.xml");
    fs::copy_file(ex / "md" / "run1.xtc", in_ / "run.xtc");
    // The inputs the later commands need, made by the earlier ones.
    // A failure here must fail every test (a fatal failure in
    // SetUpTestSuite would only mark them skipped).
    for (const auto& [name, out] : {std::pair<std::string, std::string>{"featurize", "md2d"}, {"train", "model"},
                                    {"sample", "gen"}}) {
      const CommandResult r = runActivediff(expand(recipes().at(name).arguments, in_, in_ / out));
      if (r.exitCode != 0 && setupError_.empty()) setupError_ = name + " (making the inputs) failed: " + r.output;
    }
  }
  void SetUp() override { ASSERT_TRUE(setupError_.empty()) << setupError_; }
  static std::string setupError_;
  static void TearDownTestSuite() {
    delete scratch_;
    scratch_ = nullptr;
  }
  static ScratchDirectory* scratch_;
  static fs::path in_;

  // A fresh directory for one case.
  fs::path caseDirectory(const std::string& command, const std::string& name) {
    const fs::path dir = scratch_->path() / (command + "-" + name);
    fs::create_directory(dir);
    return dir;
  }
  void DirectoryHoldingAForeignFileIsRefusedAndKept(const std::vector<std::string>& commands);
  void OwnOutputIsBackedUpByDefaultAndReplacedWithOverwrite(const std::vector<std::string>& commands);
  void ForeignRegularFileIsBackedUpOrRefusedNeverLost(const std::vector<std::string>& commands);
  void DirectoryContainingTheInputIsRefused(const std::vector<std::string>& commands);
  static CommandResult run(const Recipe& recipe, const fs::path& out, const std::string& extra = "") {
    return runActivediff(expand(recipe.arguments, in_, out) + extra);
  }
};
ScratchDirectory* OutputPolicyEndToEnd::scratch_ = nullptr;
std::string OutputPolicyEndToEnd::setupError_;
fs::path OutputPolicyEndToEnd::in_;

std::vector<std::string> registeredOutputCommands() {
  const CommandResult r = runActivediff("--list-output-commands");
  EXPECT_EQ(r.exitCode, 0) << r.output;
  return nlohmann::json::parse(r.output).get<std::vector<std::string>>();
}


void OutputPolicyEndToEnd::DirectoryHoldingAForeignFileIsRefusedAndKept(const std::vector<std::string>& commands) {
  for (const std::string& command : commands) {
    const Recipe& recipe = recipes().at(command);
    const fs::path dir = caseDirectory(command, "foreign-dir");
    const fs::path out = dir / recipe.outputName;
    fs::create_directory(out);
    std::ofstream(out / "notes.txt") << "my notes for " << command << "\n";
    const auto before = snapshot(dir);
    const CommandResult r = run(recipe, out);
    EXPECT_NE(r.exitCode, 0) << command << ": " << r.output;
    EXPECT_NE(r.output.find(out.string()), std::string::npos) << command << ": the error names the path: " << r.output;
    EXPECT_NE(r.output.find("nothing was changed"), std::string::npos) << command << ": " << r.output;
    EXPECT_EQ(snapshot(dir), before) << command;
    EXPECT_EQ(entries(dir), std::vector<std::string>{recipe.outputName}) << command;
  }
}

void OutputPolicyEndToEnd::OwnOutputIsBackedUpByDefaultAndReplacedWithOverwrite(const std::vector<std::string>& commands) {
  for (const std::string& command : commands) {
    const Recipe& recipe = recipes().at(command);
    const fs::path dir = caseDirectory(command, "own");
    const fs::path out = dir / recipe.outputName;
    CommandResult r = run(recipe, out);
    ASSERT_EQ(r.exitCode, 0) << command << ": " << r.output;
    const auto first = snapshot(out);
    ASSERT_FALSE(first.empty()) << command;

    r = run(recipe, out);
    ASSERT_EQ(r.exitCode, 0) << command << ": " << r.output;
    const fs::path backup = dir / ("#" + recipe.outputName + ".1#");
    EXPECT_EQ(snapshot(backup), first) << command << ": the first output survives as its backup";
    EXPECT_NE(r.output.find("backed up"), std::string::npos) << command << ": " << r.output;
    EXPECT_FALSE(snapshot(out).empty()) << command;

    const auto entriesBefore = entries(dir);
    r = run(recipe, out, " --overwrite");
    ASSERT_EQ(r.exitCode, 0) << command << ": " << r.output;
    EXPECT_EQ(entries(dir), entriesBefore) << command << ": --overwrite replaces, it makes no new backup";
    EXPECT_EQ(snapshot(backup), first) << command;
    for (const std::string& name : entries(dir))
      EXPECT_EQ(name.find(".adtmp-"), std::string::npos) << command << ": temporary left behind: " << name;
  }
}

void OutputPolicyEndToEnd::ForeignRegularFileIsBackedUpOrRefusedNeverLost(const std::vector<std::string>& commands) {
  for (const std::string& command : commands) {
    const Recipe& recipe = recipes().at(command);
    const fs::path dir = caseDirectory(command, "foreign-file");
    const fs::path out = dir / recipe.outputName;
    const std::string userData = "user data that activediff did not write: " + command + "\n";
    std::ofstream(out) << userData;

    // --overwrite replaces only activediff outputs: refused, untouched.
    CommandResult r = run(recipe, out, " --overwrite");
    EXPECT_NE(r.exitCode, 0) << command << ": " << r.output;
    EXPECT_EQ(fingerprint(readBytes(out)), fingerprint(userData)) << command;
    EXPECT_EQ(entries(dir), std::vector<std::string>{recipe.outputName}) << command;

    r = run(recipe, out);
    if (recipe.shape == Shape::File) {
      ASSERT_EQ(r.exitCode, 0) << command << ": " << r.output;
      EXPECT_EQ(fingerprint(readBytes(dir / ("#" + recipe.outputName + ".1#"))), fingerprint(userData)) << command;
      EXPECT_NE(fingerprint(readBytes(out)), fingerprint(userData)) << command;
    } else {
      EXPECT_NE(r.exitCode, 0) << command << ": a file where a directory is wanted";
      EXPECT_NE(r.output.find("existing file"), std::string::npos) << command << ": " << r.output;
      EXPECT_EQ(fingerprint(readBytes(out)), fingerprint(userData)) << command;
      EXPECT_EQ(entries(dir), std::vector<std::string>{recipe.outputName}) << command;
    }
  }
}

void OutputPolicyEndToEnd::DirectoryContainingTheInputIsRefused(const std::vector<std::string>& commands) {
  for (const std::string& command : commands) {
    const Recipe& recipe = recipes().at(command);
    if (recipe.arguments.find("{IN}") == std::string::npos) continue;  // reads no input (fisher-memory)
    // -o names a directory (spelled with "..", which is the same path) that
    // holds this command's inputs.
    const fs::path dir = caseDirectory(command, "holds-input");
    const fs::path holder = dir / recipe.outputName;
    fs::copy(in_, holder, fs::copy_options::recursive);
    const auto before = snapshot(dir);
    const CommandResult r =
        runActivediff(expand(recipe.arguments, holder, dir / ".." / dir.filename() / recipe.outputName));
    EXPECT_NE(r.exitCode, 0) << command << ": " << r.output;
    EXPECT_NE(r.output.find("contains the input"), std::string::npos) << command << ": " << r.output;
    EXPECT_EQ(snapshot(dir), before) << command;
  }
}

// One test, so that the inputs (a dataset, a model, samples) are made once.
TEST_F(OutputPolicyEndToEnd, EveryRegisteredCommandFollowsThePolicy) {
  const auto commands = registeredOutputCommands();
  EXPECT_GE(commands.size(), 7u);
  for (const std::string& command : commands) ASSERT_TRUE(recipes().count(command)) << "no recipe for " << command;
  {
    SCOPED_TRACE("-o names a directory holding a foreign file");
    DirectoryHoldingAForeignFileIsRefusedAndKept(commands);
  }
  {
    SCOPED_TRACE("-o names an existing output of the command's own kind");
    OwnOutputIsBackedUpByDefaultAndReplacedWithOverwrite(commands);
  }
  {
    SCOPED_TRACE("-o names a foreign regular file");
    ForeignRegularFileIsBackedUpOrRefusedNeverLost(commands);
  }
  {
    SCOPED_TRACE("-o names a directory containing the input");
    DirectoryContainingTheInputIsRefused(commands);
  }
}

}  // namespace
}  // namespace activediff

namespace activediff {
namespace {

// A new simulate run where a killed one left its working files (.part
// trajectory and log, checkpoint): they are backed up, never truncated.
TEST(OutputPolicySimulate, AKilledRunsWorkingFilesAreBackedUpByANewRun) {
  ScratchDirectory scratch;
  const fs::path ex = testing::examplesDir() / "ala2";
  const std::map<std::string, std::string> working = {
      {"md.part.xtc", "partial trajectory of a killed run\n"},
      {"md.log.csv.part", "partial log of a killed run\n"},
      {"md.chk", "checkpoint of a killed run\n"}};
  for (const auto& [name, text] : working) std::ofstream(scratch / name) << text;
  const CommandResult r = runActivediff("simulate --system " + (ex / "system.xml").string() + " --pdb " +
                                        (ex / "ala2.pdb").string() + " -o " + (scratch / "md.xtc").string() +
                                        " --length 0.0002 --frame-interval 0.1 --equilibrate 0 --no-minimize "
                                        "--platform Reference");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  for (const auto& [name, text] : working) {
    EXPECT_EQ(readBytes(scratch / ("#" + name + ".1#")), text) << name << ": " << r.output;
    EXPECT_NE(r.output.find("backed up " + (scratch / name).string()), std::string::npos) << r.output;
  }
  EXPECT_TRUE(fs::exists(scratch / "md.xtc"));
  EXPECT_FALSE(fs::exists(scratch / "md.chk"));  // the new run's own checkpoint, removed when it completes
}

}  // namespace
}  // namespace activediff
