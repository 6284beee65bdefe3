// activediff simulate through the CLI: bad input, and kill -9 + --resume.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>
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

// Every frame as MDTraj decodes it: time, then 3N coordinates in nm.
std::vector<std::vector<double>> framesByMdtraj(const fs::path& xtc) {
  const auto result = runOracle("xtc_positions.py", xtc.string() + " " + kPdb);
  EXPECT_EQ(result.exitCode, 0) << result.output;
  std::vector<std::vector<double>> frames;
  std::istringstream lines(result.output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream values(line);
    std::vector<double> frame;
    double v;
    while (values >> v) frame.push_back(v);
    frames.push_back(frame);
  }
  return frames;
}

// Largest difference of time (ps) or coordinate (nm) of each frame pair, over
// the common frames.
std::vector<double> frameDifferencesNm(const std::vector<std::vector<double>>& a,
                                       const std::vector<std::vector<double>>& b) {
  std::vector<double> differences;
  for (std::size_t f = 0; f < std::min(a.size(), b.size()); ++f) {
    double worst = a[f].size() == b[f].size() ? 0.0 : 1e9;
    for (std::size_t i = 0; i < std::min(a[f].size(), b[f].size()); ++i) {
      worst = std::max(worst, std::abs(a[f][i] - b[f][i]));
    }
    differences.push_back(worst);
  }
  return differences;
}

// XTC stores multiples of 1e-3 nm: equal to its precision means the same
// stored integers, i.e. decoded values closer than half a unit.
constexpr double kXtcEqualNm = 0.5e-3;

// Index of the first frame that differs beyond XTC precision; -1 if none.
long firstDifferentFrame(const std::vector<double>& differencesNm) {
  for (std::size_t f = 0; f < differencesNm.size(); ++f) {
    if (differencesNm[f] >= kXtcEqualNm) return static_cast<long>(f);
  }
  return -1;
}

std::string checkpointHeaderLine(const fs::path& checkpoint, int line) {
  std::ifstream in(checkpoint, std::ios::binary);
  std::string text;
  for (int i = 0; i <= line; ++i) {
    if (!std::getline(in, text)) return {};
  }
  return text;
}

std::int64_t checkpointFrames(const fs::path& checkpoint) {
  // Line 0 is the format/checksum line, line 1 the bookkeeping.
  const std::string header = checkpointHeaderLine(checkpoint, 1);
  const auto key = header.find("\"frames_written\":");
  if (key == std::string::npos) return -1;
  return std::stoll(header.substr(key + 17));
}

// Starts `simulate <arguments>` and kills it with SIGKILL once its checkpoint
// holds at least minFrames, after a further pause. True if it was killed (not
// finished).
bool runAndKill(const std::string& arguments, const fs::path& checkpoint, std::int64_t minFrames,
                std::chrono::milliseconds pause) {
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    const std::string line = std::string(ACTIVEDIFF_BINARY) + " simulate " + arguments + " >/dev/null 2>&1";
    ::execl("/bin/sh", "sh", "-c", ("exec " + line).c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (checkpointFrames(checkpoint) < minFrames && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::this_thread::sleep_for(pause);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

std::string readBytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void writeBytes(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

nlohmann::json readJson(const fs::path& file) {
  return nlohmann::json::parse(readBytes(file), nullptr, /*allow_exceptions=*/false);
}

TEST(SimulateCli, KilledRunResumesExactly) {
  ScratchDirectory dir;
  const std::string common = "--system " + kSystem + " --pdb " + kPdb +
                             " --length 0.006 --frame-interval 0.1 --equilibrate 0.2 --seed 11"
                             " --platform CPU --threads 1 --checkpoint-interval 10";
  const fs::path reference = dir / "reference.xtc";
  const auto full = runActivediff("simulate " + common + " -o " + reference.string());
  ASSERT_EQ(full.exitCode, 0) << full.output;
  const fs::path control = dir / "control.xtc";
  const auto again = runActivediff("simulate " + common + " -o " + control.string());
  ASSERT_EQ(again.exitCode, 0) << again.output;

  const fs::path killed = dir / "killed.xtc";
  // Kill it between checkpoints, after at least two of them.
  ASSERT_TRUE(
      runAndKill(common + " -o " + killed.string(), dir / "killed.chk", 20, std::chrono::milliseconds(100)))
      << "run finished before it could be killed";
  EXPECT_FALSE(fs::exists(killed)) << "a killed run must not leave a final trajectory";
  ASSERT_TRUE(fs::exists(dir / "killed.chk"));
  const std::int64_t resumeFrame = checkpointFrames(dir / "killed.chk");
  ASSERT_GE(resumeFrame, 20);
  ASSERT_LT(resumeFrame, 60);

  const auto resumed = runActivediff("simulate " + common + " -o " + killed.string() + " --resume");
  ASSERT_EQ(resumed.exitCode, 0) << resumed.output;
  EXPECT_FALSE(fs::exists(dir / "killed.chk"));
  EXPECT_EQ(readJson(dir / "killed.json")["result"]["resumed_from_frame"], resumeFrame);

  // Frames (time and positions) as MDTraj decodes them. Control: two
  // uninterrupted runs with one seed agree.
  const auto referenceFrames = framesByMdtraj(reference);
  ASSERT_EQ(referenceFrames.size(), 60u);
  ASSERT_EQ(referenceFrames[0].size(), 1u + 22u * 3u);
  EXPECT_DOUBLE_EQ(referenceFrames.front()[0], 0.1);
  EXPECT_DOUBLE_EQ(referenceFrames.back()[0], 6.0);
  const auto controlFrames = framesByMdtraj(control);
  ASSERT_EQ(controlFrames.size(), 60u);
  EXPECT_EQ(firstDifferentFrame(frameDifferencesNm(referenceFrames, controlFrames)), -1)
      << "two uninterrupted runs with the same seed differ";
  const auto resumedFrames = framesByMdtraj(killed);
  ASSERT_EQ(resumedFrames.size(), 60u);
  const auto differences = frameDifferencesNm(referenceFrames, resumedFrames);
  const long first = firstDifferentFrame(differences);
  EXPECT_EQ(first, -1) << "resumed from frame " << resumeFrame << ": frame " << first << " differs by "
                       << (first >= 0 ? differences[first] : 0.0) << " nm";

  // The energy log has one row per frame, also without gaps or repeats, and
  // is the uninterrupted run's row for row.
  std::istringstream log(readText(dir / "killed.log.csv"));
  std::string row;
  std::getline(log, row);
  int frame = 0;
  while (std::getline(log, row)) EXPECT_EQ(std::stoi(row.substr(0, row.find(','))), frame++);
  EXPECT_EQ(frame, 60);
  EXPECT_TRUE(readText(dir / "killed.log.csv") == readText(dir / "reference.log.csv"))
      << "the energy log differs from the uninterrupted run's";
}

TEST(SimulateCli, SeedChangesTheFramesAndMinusOneDrawsOneThatIsRecorded) {
  ScratchDirectory dir;
  const std::string common = "--system " + kSystem + " --pdb " + kPdb +
                             " --length 0.001 --frame-interval 0.1 --equilibrate 0.2"
                             " --platform CPU --threads 1";
  auto run = [&](const std::string& name, const std::string& seed) {
    const auto result =
        runActivediff("simulate " + common + " --seed " + seed + " -o " + (dir / name).string());
    EXPECT_EQ(result.exitCode, 0) << result.output;
  };
  run("r1.xtc", "-1");
  run("r2.xtc", "-1");
  const nlohmann::json r1 = readJson(dir / "r1.json");
  const nlohmann::json r2 = readJson(dir / "r2.json");
  ASSERT_TRUE(r1["result"]["seed"].is_number_integer()) << r1.dump();
  ASSERT_TRUE(r2["result"]["seed"].is_number_integer()) << r2.dump();
  const auto seed1 = r1["result"]["seed"].get<std::int64_t>();
  EXPECT_GE(seed1, 0);
  EXPECT_NE(seed1, r2["result"]["seed"].get<std::int64_t>()) << "two --seed -1 runs drew the same seed";
  // The recorded seed reproduces the run.
  run("again.xtc", std::to_string(seed1));
  const auto r1Frames = framesByMdtraj(dir / "r1.xtc");
  ASSERT_EQ(r1Frames.size(), 10u);
  EXPECT_EQ(firstDifferentFrame(frameDifferencesNm(r1Frames, framesByMdtraj(dir / "again.xtc"))), -1);
  // Another seed, other frames from the first one on: the frame comparison
  // (also the resume test's) sees a change of the random stream.
  EXPECT_EQ(firstDifferentFrame(frameDifferencesNm(r1Frames, framesByMdtraj(dir / "r2.xtc"))), 0);

  const auto bad = runActivediff("simulate " + common + " --seed -2 -o " + (dir / "bad.xtc").string());
  EXPECT_NE(bad.exitCode, 0);
  EXPECT_NE(bad.output.find("--seed"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(dir / "bad.part.xtc"));
}

TEST(SimulateCli, DamagedCheckpointOrOtherPlatformIsAClearErrorAndTouchesNothing) {
  ScratchDirectory dir;
  const fs::path out = dir / "run.xtc";
  const fs::path chk = dir / "run.chk";
  const std::string common = "--system " + kSystem + " --pdb " + kPdb +
                             " --length 0.004 --frame-interval 0.1 --equilibrate 0.2 --seed -1"
                             " --platform CPU --threads 1 --checkpoint-interval 5 -o " + out.string();
  ASSERT_TRUE(runAndKill(common, chk, 10, std::chrono::milliseconds(0)))
      << "run finished before it could be killed";
  const std::string good = readBytes(chk);
  const std::string partXtc = readBytes(dir / "run.part.xtc");
  const std::string partLog = readBytes(dir / "run.log.csv.part");
  const std::int64_t frames = checkpointFrames(chk);
  ASSERT_GE(frames, 10);
  ASSERT_LT(frames, 40);
  const std::string bookkeeping = checkpointHeaderLine(chk, 1);
  ASSERT_FALSE(bookkeeping.empty());
  const std::size_t stateStart = good.find('\n', good.find('\n') + 1) + 1;
  ASSERT_LT(stateStart + 64, good.size());

  struct Damage {
    std::string name;
    std::string bytes;
    std::string mustSay;
  };
  std::vector<Damage> damages;
  {
    std::string flipped = good;
    flipped[stateStart + (good.size() - stateStart) / 2] ^= 0x10;  // inside OpenMM's state
    damages.push_back({"state byte", flipped, "checkpoint is corrupt: checksum mismatch"});
  }
  {
    std::string flipped = good;
    const std::size_t digit = good.find("\"frames_written\":") + 17;
    flipped[digit] = flipped[digit] == '1' ? '2' : '1';  // a different, plausible frame count
    damages.push_back({"bookkeeping byte", flipped, "checkpoint is corrupt: checksum mismatch"});
  }
  damages.push_back({"truncated", good.substr(0, good.size() - 100), "checkpoint is corrupt"});
  for (const Damage& d : damages) {
    writeBytes(chk, d.bytes);
    const auto result = runActivediff("simulate " + common + " --resume");
    EXPECT_NE(result.exitCode, 0) << d.name;
    EXPECT_NE(result.output.find(chk.string() + ": " + d.mustSay), std::string::npos) << d.name << ": "
                                                                                       << result.output;
    EXPECT_EQ(readBytes(chk), d.bytes) << d.name;
    EXPECT_EQ(readBytes(dir / "run.part.xtc"), partXtc) << d.name;
    EXPECT_EQ(readBytes(dir / "run.log.csv.part"), partLog) << d.name;
    EXPECT_FALSE(fs::exists(out)) << d.name;
  }

  writeBytes(chk, good);
  std::string withReference = common + " --resume";
  withReference.replace(withReference.find("--platform CPU"), 14, "--platform Reference");
  const auto other = runActivediff("simulate " + withReference);
  EXPECT_NE(other.exitCode, 0);
  EXPECT_NE(other.output.find(chk.string() + ": checkpoint was written on the OpenMM CPU platform"),
            std::string::npos)
      << other.output;
  EXPECT_NE(other.output.find("--platform CPU"), std::string::npos) << other.output;

  const auto changed = runActivediff("simulate " + common + " --resume --temperature 310");
  EXPECT_NE(changed.exitCode, 0);
  EXPECT_NE(changed.output.find("temperature_k 300.0 (now 310.0)"), std::string::npos) << changed.output;

  // Undamaged, it resumes; --seed -1 continues with the seed the run drew.
  EXPECT_EQ(readBytes(chk), good);
  const auto resumed = runActivediff("simulate " + common + " --resume");
  ASSERT_EQ(resumed.exitCode, 0) << resumed.output;
  const nlohmann::json summary = readJson(dir / "run.json");
  const auto seedKey = bookkeeping.find("\"seed\":");
  ASSERT_NE(seedKey, std::string::npos) << bookkeeping;
  EXPECT_EQ(summary["result"]["seed"], std::stoll(bookkeeping.substr(seedKey + 7))) << summary.dump();
  EXPECT_EQ(summary["result"]["resumed_from_frame"], frames);
  EXPECT_EQ(framesByMdtraj(out).size(), 40u);
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
