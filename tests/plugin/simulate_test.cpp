// activediff simulate through the CLI: bad input, and kill -9 + --resume.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/test_support.h"

namespace activediff {
namespace {

namespace fs = std::filesystem;
using testing::examplesDir;
using testing::runActivediff;
using testing::runOracle;
using testing::ScratchDirectory;

const std::string kSystem = (examplesDir() / "ala2" / "system.xml").string();
const std::string kPdb = (examplesDir() / "ala2" / "ala2.pdb").string();

std::string readText(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct BadCase {
  std::string name;
  std::string arguments;     // after "simulate"
  std::string mustMention;   // file or option named in the message
};

TEST(SimulateCli, BadInputFailsClearlyAndWritesNothing) {
  ScratchDirectory dir;
  const std::string garbled = (dir / "garbled.xml").string();
  std::ofstream(garbled) << readText(kSystem).substr(0, 5000);
  const std::string shortPdb = (dir / "short.pdb").string();
  {
    std::istringstream lines(readText(kPdb));
    std::ofstream out(shortPdb);
    std::string line;
    int atoms = 0;
    while (std::getline(lines, line)) {
      if (line.rfind("ATOM", 0) == 0 && ++atoms == 22) continue;  // drop the last atom
      out << line << "\n";
    }
  }
  const std::string out = " -o " + (dir / "out.xtc").string() + " --equilibrate 0";
  const std::vector<BadCase> cases = {
      {"missing system", "--length 0.001 --system " + (dir / "nope.xml").string() + " --pdb " + kPdb + out,
       (dir / "nope.xml").string()},
      {"garbled system", "--length 0.001 --system " + garbled + " --pdb " + kPdb + out, garbled},
      {"atom count", "--length 0.001 --system " + kSystem + " --pdb " + shortPdb + out, shortPdb},
      {"missing pdb", "--length 0.001 --system " + kSystem + " --pdb " + (dir / "none.pdb").string() + out,
       (dir / "none.pdb").string()},
      {"unknown platform", "--length 0.001 --system " + kSystem + " --pdb " + kPdb + out + " --platform Warp", "--platform"},
      {"zero length", "--system " + kSystem + " --pdb " + kPdb + out + " --length 0", "--length"},
      {"negative length", "--system " + kSystem + " --pdb " + kPdb + out + " --length=-1", "--length"},
      {"zero step", "--length 0.001 --system " + kSystem + " --pdb " + kPdb + out + " --timestep 0", "--timestep"},
      {"negative step", "--length 0.001 --system " + kSystem + " --pdb " + kPdb + out + " --timestep=-2", "--timestep"},
  };
  for (const BadCase& c : cases) {
    const auto result = runActivediff("simulate " + c.arguments);
    EXPECT_NE(result.exitCode, 0) << c.name << ": " << result.output;
    EXPECT_NE(result.output.find(c.mustMention), std::string::npos) << c.name << ": " << result.output;
    EXPECT_NE(result.output.find("error:"), std::string::npos) << c.name << ": " << result.output;
    EXPECT_EQ(dir.fileNames(), (std::vector<std::string>{"garbled.xml", "short.pdb"})) << c.name;
  }
}

std::vector<std::string> frameTimes(const fs::path& xtc) {
  const auto result = runOracle("xtc_times.py", xtc.string() + " " + kPdb);
  EXPECT_EQ(result.exitCode, 0) << result.output;
  std::vector<std::string> times;
  std::istringstream lines(result.output);
  std::string line;
  while (std::getline(lines, line)) times.push_back(line);
  return times;
}

std::int64_t checkpointFrames(const fs::path& checkpoint) {
  std::ifstream in(checkpoint);
  std::string header;
  if (!std::getline(in, header)) return -1;
  const auto key = header.find("\"frames_written\":");
  if (key == std::string::npos) return -1;
  return std::stoll(header.substr(key + 17));
}

TEST(SimulateCli, KilledRunResumesWithNoFrameLostOrRepeated) {
  ScratchDirectory dir;
  const std::string common = "--system " + kSystem + " --pdb " + kPdb +
                             " --length 0.04 --frame-interval 0.2 --equilibrate 1 --seed 11"
                             " --platform CPU --threads 1 --checkpoint-interval 25";
  const fs::path reference = dir / "reference.xtc";
  const auto full = runActivediff("simulate " + common + " -o " + reference.string());
  ASSERT_EQ(full.exitCode, 0) << full.output;

  const fs::path killed = dir / "killed.xtc";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string line = std::string(ACTIVEDIFF_BINARY) + " simulate " + common + " -o " + killed.string() +
                             " >/dev/null 2>&1";
    ::execl("/bin/sh", "sh", "-c", ("exec " + line).c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Kill it between checkpoints, after at least two of them.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (checkpointFrames(dir / "killed.chk") < 50 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "run finished before it could be killed";
  EXPECT_FALSE(fs::exists(killed)) << "a killed run must not leave a final trajectory";
  ASSERT_TRUE(fs::exists(dir / "killed.chk"));

  const auto resumed = runActivediff("simulate " + common + " -o " + killed.string() + " --resume");
  ASSERT_EQ(resumed.exitCode, 0) << resumed.output;
  EXPECT_FALSE(fs::exists(dir / "killed.chk"));

  const auto expected = frameTimes(reference);
  ASSERT_EQ(expected.size(), 200u);
  EXPECT_EQ(expected.front(), "0.2000");
  EXPECT_EQ(expected.back(), "40.0000");
  EXPECT_EQ(frameTimes(killed), expected);
  // The energy log has one row per frame, also without gaps or repeats.
  std::istringstream log(readText(dir / "killed.log.csv"));
  std::string row;
  std::getline(log, row);
  int frame = 0;
  while (std::getline(log, row)) EXPECT_EQ(std::stoi(row.substr(0, row.find(','))), frame++);
  EXPECT_EQ(frame, 200);
}

TEST(SimulateCli, ResumeWithoutCheckpointIsAnError) {
  ScratchDirectory dir;
  const auto result = runActivediff("simulate --system " + kSystem + " --pdb " + kPdb + " -o " +
                                    (dir / "x.xtc").string() + " --resume");
  EXPECT_NE(result.exitCode, 0);
  EXPECT_NE(result.output.find("x.chk"), std::string::npos) << result.output;
  EXPECT_TRUE(dir.fileNames().empty());
}

}  // namespace
}  // namespace activediff
