// -q/--quiet and -v/--verbose, which every subcommand gets from main():
// every registered command accepts both; -v prints the resolved configuration
// and the inputs with their sha256 (against Python's hashlib); -q leaves no
// progress line while the run's result is unchanged.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace activediff {
namespace {

namespace fs = std::filesystem;
using testing::examplesDir;
using testing::runActivediff;
using testing::runCommand;
using testing::ScratchDirectory;

TEST(Verbosity, EveryCommandAcceptsQuietAndVerbose) {
  const auto list = runActivediff("--list-output-commands");
  ASSERT_EQ(list.exitCode, 0) << list.output;
  const auto commands = nlohmann::json::parse(list.output);
  ASSERT_GE(commands.size(), 8u);
  for (const auto& command : commands) {
    const auto help = runActivediff(command.get<std::string>() + " --help");
    EXPECT_EQ(help.exitCode, 0) << command;
    EXPECT_NE(help.output.find("-q,--quiet"), std::string::npos) << command;
    EXPECT_NE(help.output.find("-v,--verbose"), std::string::npos) << command;
  }
}

TEST(Verbosity, VerbosePrintsConfigurationAndInputChecksumsQuietPrintsNoProgress) {
  ScratchDirectory scratch;
  const fs::path xtc = examplesDir() / "ala2" / "md" / "run1.xtc";
  const std::string base = "featurize -s " + (examplesDir() / "ala2" / "ala2.pdb").string() + " -f " + xtc.string();
  const auto verbose = runActivediff(base + " -v -o " + (scratch / "verbose").string() + " 2>&1 >/dev/null");
  ASSERT_EQ(verbose.exitCode, 0) << verbose.output;
  EXPECT_NE(verbose.output.find("configuration:"), std::string::npos) << verbose.output;
  const auto hashlib = runCommand("/usr/bin/python3 -c \"import hashlib,sys; "
                                  "print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())\" " +
                                  xtc.string());
  ASSERT_EQ(hashlib.exitCode, 0);
  EXPECT_NE(verbose.output.find(hashlib.output.substr(0, 64)), std::string::npos) << verbose.output;

  const auto normal = runActivediff(base + " -o " + (scratch / "normal").string() + " 2>&1 >/dev/null");
  ASSERT_EQ(normal.exitCode, 0);
  EXPECT_NE(normal.output.find("featurize:"), std::string::npos) << "no progress line without -q: " << normal.output;
  const auto quiet = runActivediff(base + " -q -o " + (scratch / "quiet").string() + " 2>&1 >/dev/null");
  ASSERT_EQ(quiet.exitCode, 0);
  EXPECT_EQ(quiet.output.find("featurize:"), std::string::npos) << quiet.output;
  EXPECT_EQ(quiet.output.find("configuration:"), std::string::npos) << quiet.output;
}

}  // namespace
}  // namespace activediff
