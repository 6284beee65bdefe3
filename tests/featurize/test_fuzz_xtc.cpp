// Corrupted-XTC fuzzing through the `activediff featurize` and `energy`
// commands (issue 9). tests/oracles/xtc_fuzz.py cuts the first 200 frames of
// the shipped trajectory at a frame boundary (byte for byte), writes seeded
// damaged copies (bursts of bit flips, runs of random bytes, zeroed blocks,
// bit flips scattered over the file) with the first damaged byte and frame of
// each, plus the undamaged cut as a control, and reads every file with MDTraj
// frame by frame. The rules, for
// both commands on every file:
//   - no signal and no hang (each run under `timeout`);
//   - exit 0: every frame equals MDTraj's decoding of the same file: phi/psi
//     (featurize), OpenMM's potential energy of MDTraj's coordinates
//     (energy); exit 0 on a file MDTraj cannot read is a failure;
//   - an error: the message names the file and a frame at or before the
//     first damaged one, and no output is left. Damage no reader can detect
//     (a low bit of a coordinate) may precede the damage an error reports;
//     naming a later frame J is accepted only if the same command with
//     `--last-frame J-1` then succeeds and its frames equal MDTraj's;
//   - nothing but the outputs of successful runs is left in the directory.
// The benchmark on full-length files (bench/fuzz_xtc.sh) runs this same test
// with ACTIVEDIFF_FUZZ_FRAMES=0 (whole file), _COUNT, _SEED, _JOBS, _BINARY.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "activediff/featurize/dataset.h"
#include "activediff/featurize/geometry.h"
#include "test_support.h"

namespace activediff {
namespace {

constexpr double kPhiPsiToleranceDeg = 0.05;  // MDTraj computes in float32
constexpr double kEnergyToleranceKjMol = 2e-3;
constexpr int kTimeoutS = 30;                  // per command; a healthy run takes ~1 s

long envOr(const char* name, long fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::strtol(value, nullptr, 10) : fallback;
}

struct FuzzCase {
  std::string name, kind, description;
  std::int64_t firstDamagedByte = -1, firstDamagedFrame = -1;  // -1: no byte changed
  std::int64_t frames = 0;
};

// MDTraj's frame-by-frame reading of one file: all of it (ok), or the frames
// before the one it failed on.
struct MdtrajDecoding {
  bool ok = false;
  std::string error;
  std::vector<std::array<double, 3>> rows;  // phi deg, psi deg, OpenMM energy kJ/mol
};

std::vector<FuzzCase> readManifest(const fs::path& file) {
  std::vector<FuzzCase> cases;
  std::istringstream in(test::readText(file));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    FuzzCase c;
    std::string number[3];
    std::getline(fields, c.name, '\t');
    std::getline(fields, c.kind, '\t');
    for (std::string& n : number) std::getline(fields, n, '\t');
    std::getline(fields, c.description);
    c.firstDamagedByte = std::stoll(number[0]);
    c.firstDamagedFrame = std::stoll(number[1]);
    c.frames = std::stoll(number[2]);
    cases.push_back(c);
  }
  return cases;
}

std::map<std::string, MdtrajDecoding> readDecodings(const fs::path& file) {
  std::map<std::string, MdtrajDecoding> decodings;
  std::istringstream in(test::readText(file));
  std::string word, name, status;
  while (in >> word >> name >> status) {
    EXPECT_EQ(word, "file");
    MdtrajDecoding& d = decodings[name];
    d.ok = status == "ok";
    std::int64_t frames = 0;
    in >> frames;
    if (!d.ok) std::getline(in, d.error);
    d.rows.resize(frames);
    for (auto& row : d.rows) {
      for (double& value : row) {
        std::string text;  // "nan" does not parse through operator>>
        in >> text;
        value = std::strtod(text.c_str(), nullptr);
      }
    }
  }
  return decodings;
}

double angleDifferenceDeg(double aDeg, double bDeg) {
  return std::abs(wrapToPiRad((aDeg - bDeg) * kRadPerDeg)) * kDegPerRad;
}

// The first frame an error message names after the file ("<file>: frame N"),
// -2 when it does not name the file, -3 when it names no frame.
std::int64_t namedFrame(const std::string& message, const std::string& file) {
  const std::size_t at = message.find(file + ": ");
  if (at == std::string::npos) return -2;
  std::smatch match;
  const std::string rest = message.substr(at + file.size());
  if (!std::regex_search(rest, match, std::regex("frame (\\d+)"))) return -3;
  return std::stoll(match[1]);
}

// "" when activediff's numbers for the first `frames` frames equal MDTraj's
// decoding, else what differs.
std::string compareFeaturize(const fs::path& dataset, const MdtrajDecoding& mdtraj, std::size_t frames) {
  Dataset d;
  try {
    d = readDataset(dataset);
  } catch (const std::exception& e) {
    return std::string("unreadable dataset: ") + e.what();
  }
  if (static_cast<std::size_t>(d.frames()) != frames || mdtraj.rows.size() < frames) {
    return std::to_string(d.frames()) + " frames written, " + std::to_string(frames) + " expected, MDTraj decodes " +
           std::to_string(mdtraj.rows.size());
  }
  for (Eigen::Index i = 0; i < d.frames(); ++i) {
    for (int k = 0; k < 2; ++k) {
      const double diff = angleDifferenceDeg(d.features(i, k) * kDegPerRad, mdtraj.rows[i][k]);
      if (!(diff < kPhiPsiToleranceDeg)) {
        return "frame " + std::to_string(i) + (k == 0 ? " phi " : " psi ") + std::to_string(diff) +
               " deg from MDTraj's";
      }
    }
  }
  return "";
}

std::string compareEnergy(const fs::path& csv, const MdtrajDecoding& mdtraj, std::size_t frames) {
  std::vector<double> energies;
  std::istringstream in(test::readText(csv));
  std::string line;
  if (!std::getline(in, line)) return "empty energy table";
  while (std::getline(in, line)) {
    const std::size_t comma = line.rfind(',');
    if (comma == std::string::npos) return "bad energy row '" + line + "'";
    energies.push_back(std::strtod(line.c_str() + comma + 1, nullptr));
  }
  if (energies.size() != frames || mdtraj.rows.size() < frames) {
    return std::to_string(energies.size()) + " rows written, " + std::to_string(frames) + " expected, MDTraj decodes " +
           std::to_string(mdtraj.rows.size());
  }
  for (std::size_t i = 0; i < frames; ++i) {
    const double ours = energies[i], oracle = mdtraj.rows[i][2];
    // OpenMM's CPU platform (mixed precision) against its Reference
    // platform (double) on the same float coordinates: 6e-5 kJ/mol apart on
    // the clean frames; the CSV has 6 decimals.
    const bool equal = (!std::isfinite(ours) && !std::isfinite(oracle)) ||
                       std::abs(ours - oracle) <= kEnergyToleranceKjMol + 1e-5 * std::abs(oracle);
    if (!equal) {
      return "frame " + std::to_string(i) + ": " + std::to_string(ours) + " kJ/mol, OpenMM on MDTraj's frame " +
             std::to_string(oracle);
    }
  }
  return "";
}

std::vector<testing::CommandResult> runInParallel(const std::vector<std::string>& commands, long jobs) {
  std::vector<testing::CommandResult> results(commands.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i; (i = next++) < commands.size();) results[i] = testing::runCommand(commands[i]);
  };
  std::vector<std::thread> threads;
  for (long j = 0; j < jobs; ++j) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  return results;
}

class Tally {
 public:
  void outcome(const std::string& key) { ++counts_[key]; }
  void failure(const std::string& command, const std::string& rule, const FuzzCase& c, const std::string& detail) {
    ++counts_[command + " FAILED: " + rule];
    ADD_FAILURE() << command << " on " << c.name << " (" << c.description << ", first damaged frame "
                  << c.firstDamagedFrame << "): " << rule << ": " << detail;
  }
  int count(const std::string& key) const { return counts_.count(key) ? counts_.at(key) : 0; }
  void print(std::size_t files, std::int64_t frames) const {
    std::printf("fuzz-tally: %zu damaged files of %lld frames (+ 1 undamaged control)\n", files,
                static_cast<long long>(frames));
    for (const auto& [key, n] : counts_) {
      std::printf("fuzz-tally: %s: %d\n", key.c_str(), n);
      ::testing::Test::RecordProperty(std::regex_replace(key, std::regex("[^A-Za-z0-9]+"), "_"), n);
    }
  }

 private:
  std::map<std::string, int> counts_;
};

struct Command {
  std::string name;    // featurize or energy
  std::string prefix;  // command line up to the output option
  std::string outputSuffix;
};

TEST(CorruptXtcFuzz, FeaturizeAndEnergyNeverCrashHangOrDecodeSilentlyWrong) {
  const fs::path source = test::shippedTrajectory();
  if (source.empty()) GTEST_SKIP() << "examples/ala2/md/run1.xtc not present";
  const long frames = envOr("ACTIVEDIFF_FUZZ_FRAMES", 200);  // 0: the whole file
  const long count = envOr("ACTIVEDIFF_FUZZ_COUNT", 100);
  const long seed = envOr("ACTIVEDIFF_FUZZ_SEED", 9);
  const long jobs = std::max(1L, envOr("ACTIVEDIFF_FUZZ_JOBS", 2));
  test::ScratchDir dir;
  const fs::path pdb = test::ala2Pdb(), system = testing::examplesDir() / "ala2" / "system.xml";

  const auto made = testing::runOracle("xtc_fuzz.py", "make " + test::quote(source) + " " + test::quote(dir.path()) +
                                                          " --frames " + std::to_string(frames) + " --count " +
                                                          std::to_string(count) + " --seed " + std::to_string(seed));
  ASSERT_EQ(made.exitCode, 0) << made.output;
  const std::vector<FuzzCase> cases = readManifest(dir / "manifest.tsv");
  ASSERT_EQ(cases.size(), static_cast<std::size_t>(count) + 1);  // + the control, last
  ASSERT_EQ(cases.back().kind, "control");
  const auto decoded =
      testing::runOracle("xtc_fuzz.py", "decode " + test::quote(dir.path()) + " " + test::quote(pdb) + " " +
                                            test::quote(system));
  ASSERT_EQ(decoded.exitCode, 0) << decoded.output;
  const std::map<std::string, MdtrajDecoding> mdtraj = readDecodings(dir / "mdtraj.tsv");
  ASSERT_EQ(mdtraj.size(), cases.size());
  ASSERT_TRUE(mdtraj.at("clean.xtc").ok) << mdtraj.at("clean.xtc").error;
  ASSERT_EQ(static_cast<std::int64_t>(mdtraj.at("clean.xtc").rows.size()), cases.back().frames);

  // ACTIVEDIFF_FUZZ_BINARY: another build of the program (e.g. a copy, so
  // that a rebuild during a long benchmark does not replace it mid-run).
  const char* binary = std::getenv("ACTIVEDIFF_FUZZ_BINARY");
  const std::string timeout = "timeout -k 5 " + std::to_string(kTimeoutS) + " " +
                              (binary != nullptr && *binary != '\0' ? binary : ACTIVEDIFF_BINARY);
  const std::vector<Command> commands = {
      {"featurize", " featurize -s " + test::quote(pdb) + " --features 2d -q", ".2d"},
      // The CPU platform: Reference costs ~4 ms a frame, and a file is now
      // decoded up to its first bad frame before the error.
      {"energy", " energy --platform CPU --threads 1 --system " + test::quote(system), ".energy.csv"}};
  auto commandLine = [&](const Command& command, const fs::path& file, const std::string& suffix,
                         const std::string& extra) {
    return timeout + command.prefix + extra + " -f " + test::quote(file) + " -o " + test::quote(file.string() + suffix);
  };
  // Each activediff start costs about a second: the files run `jobs` at a time.
  std::vector<std::string> lines;
  for (const FuzzCase& c : cases)
    for (const Command& command : commands) lines.push_back(commandLine(command, dir / c.name, command.outputSuffix, ""));
  const std::vector<testing::CommandResult> runs = runInParallel(lines, jobs);

  Tally tally;
  struct PrefixCheck {
    std::size_t caseIndex;
    const Command* command;
    std::int64_t namedFrame;
  };
  std::vector<PrefixCheck> prefixChecks;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const FuzzCase& c = cases[i];
    const fs::path file = dir / c.name;
    const MdtrajDecoding& m = mdtraj.at(c.name);
    if (!m.ok) tally.outcome("MDTraj error");
    for (std::size_t k = 0; k < commands.size(); ++k) {
      const Command& command = commands[k];
      const testing::CommandResult& run = runs[2 * i + k];
      const fs::path output = file.string() + command.outputSuffix;
      if (run.exitCode == 124 || run.exitCode == 128 + 9) {
        tally.failure(command.name, "no hang", c, "no result within " + std::to_string(kTimeoutS) + " s");
      } else if (run.exitCode >= 128) {
        tally.failure(command.name, "no signal", c, "signal " + std::to_string(run.exitCode - 128) + ": " + run.output);
      } else if (run.exitCode == 0) {
        tally.outcome(command.name + " exit 0");
        if (!m.ok) {
          tally.failure(command.name, "exit 0 only on a file MDTraj reads", c, "MDTraj: " + m.error);
          continue;
        }
        const std::string problem = command.name == "featurize" ? compareFeaturize(output, m, m.rows.size())
                                                                 : compareEnergy(output, m, m.rows.size());
        if (!problem.empty()) tally.failure(command.name, "every frame equals MDTraj's decoding", c, problem);
      } else {
        tally.outcome(command.name + " error");
        std::error_code ec;
        if (fs::exists(output, ec)) tally.failure(command.name, "no output after an error", c, output.string());
        const std::int64_t frame = namedFrame(run.output, file.string());
        if (frame == -2) {
          tally.failure(command.name, "the message names the file", c, run.output);
        } else if (frame == -3) {
          tally.failure(command.name, "the message names a frame", c, run.output);
        } else if (c.firstDamagedFrame < 0) {
          tally.failure(command.name, "no error on an undamaged file", c, run.output);
        } else if (frame > c.firstDamagedFrame) {
          // Damage no reader can see (a low bit of a coordinate) may come
          // before the damage it reports: acceptable only if every frame
          // before the named one is then read exactly as MDTraj reads it.
          prefixChecks.push_back({i, &command, frame});
        }
      }
    }
  }
  std::vector<std::string> prefixLines;
  for (const PrefixCheck& p : prefixChecks) {
    const fs::path file = dir / cases[p.caseIndex].name;
    prefixLines.push_back(commandLine(*p.command, file, ".prefix" + p.command->outputSuffix,
                                      " --last-frame " + std::to_string(p.namedFrame - 1)));
  }
  const std::vector<testing::CommandResult> prefixRuns = runInParallel(prefixLines, jobs);
  for (std::size_t j = 0; j < prefixChecks.size(); ++j) {
    const PrefixCheck& p = prefixChecks[j];
    const FuzzCase& c = cases[p.caseIndex];
    const std::string& name = p.command->name;
    const std::string why = "names frame " + std::to_string(p.namedFrame) + ", after the first damaged one; ";
    if (prefixRuns[j].exitCode != 0) {
      tally.failure(name, "a frame at or before the first damaged one is named", c,
                    why + "--last-frame " + std::to_string(p.namedFrame - 1) + " fails too: " + prefixRuns[j].output);
      continue;
    }
    const fs::path output = (dir / c.name).string() + ".prefix" + p.command->outputSuffix;
    const MdtrajDecoding& m = mdtraj.at(c.name);
    const std::string problem = name == "featurize" ? compareFeaturize(output, m, p.namedFrame)
                                                     : compareEnergy(output, m, p.namedFrame);
    if (!problem.empty()) {
      tally.failure(name, "a frame at or before the first damaged one is named", c,
                    why + "the frames before it differ from MDTraj's: " + problem);
    } else {
      tally.outcome(name + " error after undetectable damage, earlier frames equal MDTraj's");
    }
  }
  // Nothing else was left behind: no temporary of a failed run, no output of
  // one under another name.
  std::set<std::string> expected = {"manifest.tsv", "mdtraj.tsv"};
  for (std::size_t i = 0; i < cases.size(); ++i) {
    expected.insert(cases[i].name);
    for (std::size_t k = 0; k < commands.size(); ++k) {
      if (runs[2 * i + k].exitCode != 0) continue;
      expected.insert(cases[i].name + commands[k].outputSuffix);
      if (commands[k].name == "energy") expected.insert(cases[i].name + ".energy.json");
    }
  }
  for (std::size_t j = 0; j < prefixChecks.size(); ++j) {
    if (prefixRuns[j].exitCode != 0) continue;
    const std::string base = cases[prefixChecks[j].caseIndex].name + ".prefix";
    expected.insert(base + prefixChecks[j].command->outputSuffix);
    if (prefixChecks[j].command->name == "energy") expected.insert(base + ".energy.json");
  }
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    const std::string name = entry.path().filename().string();
    if (!expected.count(name)) {
      tally.outcome("FAILED: stray file after the runs");
      ADD_FAILURE() << "left behind in the scratch directory: " << name;
    }
  }
  tally.print(cases.size() - 1, cases.back().frames);
  // The control passed every check above; the damaged files exercised both
  // outcomes (the comparison and the error rules were both reached).
  EXPECT_EQ(runs[2 * (cases.size() - 1)].exitCode, 0) << runs[2 * (cases.size() - 1)].output;
  EXPECT_EQ(runs[2 * (cases.size() - 1) + 1].exitCode, 0) << runs[2 * (cases.size() - 1) + 1].output;
  for (const Command& command : commands) {
    EXPECT_GE(tally.count(command.name + " exit 0"), 2) << command.name;
    EXPECT_GE(tally.count(command.name + " error"), 1) << command.name;
  }
}

}  // namespace
}  // namespace activediff
