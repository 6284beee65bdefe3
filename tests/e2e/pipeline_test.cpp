// workflows/pipeline.sh, the one-cell script of the main job: each process
// trains with its own shipped config (passive at the fair-baseline
// temperature of 2d-passive.toml, CLD with the SSCS sampler of 2d-cld.toml),
// labels its plots by what it is, and takes the sampling seed as an option.
// Checked on the command lines it prints with --dry-run, against the configs.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "support/test_support.h"

namespace activediff {
namespace {

namespace fs = std::filesystem;

std::string pipeline(const std::string& arguments) {
  // A dry run writes nothing; its --out is a scratch directory all the same.
  static const testing::ScratchDirectory scratch;
  const testing::CommandResult r =
      testing::runCommand("bash " + (testing::sourceDir() / "workflows" / "pipeline.sh").string() +
                          " --dry-run --out " + (scratch / "out").string() + " " + arguments);
  EXPECT_EQ(r.exitCode, 0) << r.output;
  return r.output;
}

// The line of the dry run that runs this subcommand.
std::string commandLineOf(const std::string& output, const std::string& subcommand) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);)
    if (line.find("activediff " + subcommand + " ") != std::string::npos) return line;
  return "";
}

std::string configValue(const std::string& config, const std::string& section, const std::string& key) {
  std::ifstream in(testing::examplesDir() / "configs" / config);
  std::string line, current;
  const std::regex entry("^\\s*" + key + "\\s*=\\s*\"?([^\"#\\s]+)");
  for (std::smatch m; std::getline(in, line);) {
    if (line.rfind("[", 0) == 0) current = line;
    if (current == "[" + section + "]" && std::regex_search(line, m, entry)) return m[1];
  }
  return "";
}

TEST(PipelineScript, PassiveTrainsWithTheFairBaselineConfigAndSaysSo) {
  ASSERT_EQ(configValue("2d-passive.toml", "process", "kind"), "passive");
  ASSERT_NE(configValue("2d-passive.toml", "process", "temperature"), "1.0");
  const std::string out = pipeline("--process passive");
  const std::string train = commandLineOf(out, "train");
  EXPECT_NE(train.find("2d-passive.toml"), std::string::npos) << train;
  EXPECT_EQ(train.find("--tau"), std::string::npos) << train;
  EXPECT_EQ(train.find("--process"), std::string::npos) << train;  // the config says it
  const std::string evaluate = commandLineOf(out, "evaluate");
  EXPECT_NE(evaluate.find("--generated-label passive"), std::string::npos) << evaluate;
  EXPECT_EQ(evaluate.find("tau"), std::string::npos) << evaluate;
}

TEST(PipelineScript, CldSamplesWithItsConfigsSampler) {
  ASSERT_EQ(configValue("2d-cld.toml", "sampler", "kind"), "sdeis");  // not the built-in deis
  const std::string out = pipeline("--process cld");
  EXPECT_NE(commandLineOf(out, "train").find("2d-cld.toml"), std::string::npos) << out;
  const std::string sample = commandLineOf(out, "sample");
  EXPECT_EQ(sample.find("--sampler"), std::string::npos) << sample;  // the checkpoint's config decides
  EXPECT_NE(commandLineOf(pipeline("--process cld --sampler em"), "sample").find("--sampler em"), std::string::npos);
}

TEST(PipelineScript, ActiveIsLabelledWithItsTauAndTheSeedIsAnOption) {
  const std::string tau = configValue("2d-active.toml", "process", "tau");
  ASSERT_FALSE(tau.empty());
  std::string out = pipeline("");
  EXPECT_NE(commandLineOf(out, "evaluate").find("active\\ \\(tau\\ " + tau + "\\)"), std::string::npos)
      << commandLineOf(out, "evaluate");
  EXPECT_NE(commandLineOf(out, "sample").find("--seed 1"), std::string::npos);
  out = pipeline("--tau 1.0 --seed 7");
  EXPECT_NE(commandLineOf(out, "train").find("--tau 1.0"), std::string::npos);
  EXPECT_NE(commandLineOf(out, "sample").find("--seed 7"), std::string::npos);
  EXPECT_NE(commandLineOf(out, "evaluate").find("tau\\ 1.0"), std::string::npos);
}

TEST(PipelineScript, NonsenseIsRefused) {
  const std::string script = "bash " + (testing::sourceDir() / "workflows" / "pipeline.sh").string() + " --dry-run ";
  EXPECT_NE(testing::runCommand(script + "--process passive --tau 0.5").exitCode, 0);
  EXPECT_NE(testing::runCommand(script + "--process brownian").exitCode, 0);
  EXPECT_NE(testing::runCommand(script + "--features 25d --process cld").exitCode, 0);  // no shipped config
}

}  // namespace
}  // namespace activediff
