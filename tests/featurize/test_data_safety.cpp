// Issue 9, items 3, 4a, 4b and two of 6: legitimate inputs accepted (time
// restarts, times all 0, a file cut after the selection, a file given twice),
// no silent wrong results (atom names that do not fit the chemistry, frames
// stretched by a corrupt XTC precision), `featurize --help` and -q.
// Inputs are cuts of the shipped MD (examples/ala2/md/run*.xtc); the oracle
// for accepted files is MDTraj's decoding of the same file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "activediff/featurize/dataset.h"
#include "activediff/featurize/error.h"
#include "activediff/featurize/featurizer.h"
#include "activediff/featurize/geometry.h"
#include "activediff/featurize/molecule_graph.h"
#include "test_support.h"

namespace activediff {
namespace {

using test::quote;

fs::path shippedRun(int run) { return test::examplesDir() / "ala2" / "md" / ("run" + std::to_string(run) + ".xtc"); }
fs::path systemXml() { return test::examplesDir() / "ala2" / "system.xml"; }

std::string bytesOf(const fs::path& file, std::int64_t begin, std::int64_t end) {
  std::ifstream in(file, std::ios::binary);
  in.seekg(begin);
  std::string bytes(static_cast<std::size_t>(end - begin), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return bytes;
}

// The first `frames` frames of a shipped run, byte for byte.
std::string firstFrames(int run, int frames) {
  const auto offsets = test::xtcFrameOffsets(shippedRun(run));
  return bytesOf(shippedRun(run), 0, offsets.at(frames));
}

void writeBytes(const fs::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Overwrites a big-endian 32-bit float at `offset` of an XTC file.
void putBigEndianFloat(std::string& bytes, std::int64_t offset, float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, 4);
  for (int k = 0; k < 4; ++k) bytes[offset + k] = static_cast<char>((bits >> (24 - 8 * k)) & 0xff);
}
float getBigEndianFloat(const std::string& bytes, std::int64_t offset) {
  std::uint32_t bits = 0;
  for (int k = 0; k < 4; ++k) bits = (bits << 8) | static_cast<unsigned char>(bytes[offset + k]);
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}
// Offsets inside an XTC frame (xtc_headers.h).
constexpr std::int64_t kTimeOffset = 12;
constexpr std::int64_t kPrecisionOffset = 56;

test::CommandResult activediff(const std::string& arguments) {
  return testing::runActivediff(arguments);
}
std::string featurizeArgs(const fs::path& trajectory, const fs::path& out, const std::string& extra = "") {
  return "featurize -q -f " + quote(trajectory) + " -s " + quote(test::ala2Pdb()) + " -o " + quote(out) + " " + extra;
}
std::string energyArgs(const fs::path& trajectory, const fs::path& csv, const std::string& extra = "") {
  return "energy --system " + quote(systemXml()) + " -f " + quote(trajectory) + " -o " + quote(csv) + " " + extra;
}

std::vector<std::array<double, 2>> mdtrajPhiPsiDeg(const fs::path& trajectory) {
  const auto run = testing::runOracle("mdtraj_phi_psi.py", quote(trajectory) + " " + quote(test::ala2Pdb()));
  EXPECT_EQ(run.exitCode, 0) << run.output;
  std::istringstream in(run.output);
  std::vector<std::array<double, 2>> result;
  std::array<double, 2> pair;
  while (in >> pair[0] >> pair[1]) result.push_back(pair);
  return result;
}

// Every row of a 2d dataset equals MDTraj's phi/psi of the same file.
void expectDatasetMatchesMdtraj(const fs::path& dataset, const fs::path& trajectory, std::size_t frames) {
  const Dataset data = readDataset(dataset);
  const auto oracle = mdtrajPhiPsiDeg(trajectory);
  ASSERT_EQ(static_cast<std::size_t>(data.features.rows()), frames);
  ASSERT_EQ(oracle.size(), frames);
  double worst = 0.0;
  for (std::size_t k = 0; k < frames; ++k)
    for (int j = 0; j < 2; ++j)
      worst = std::max(worst, std::abs(wrapToPiRad(data.features(k, j) - oracle[k][j] * kRadPerDeg)) * kDegPerRad);
  EXPECT_LT(worst, 0.05) << "max |phi/psi - MDTraj| in deg";
}

int csvRows(const fs::path& csv) {
  const std::string text = test::readText(csv);
  return static_cast<int>(std::count(text.begin(), text.end(), '\n')) - 1;  // minus the header
}

using test::errorOf;

nlohmann::json metaOf(const fs::path& dataset) { return nlohmann::json::parse(test::readText(dataset / "meta.json")); }

class DataSafety : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test::shippedTrajectory().empty() || !fs::exists(shippedRun(2))) GTEST_SKIP() << "shipped MD not present";
  }
  test::ScratchDir dir_;
};

// 3a: `cat a.xtc b.xtc` restarts time at frame 100. Accepted by featurize
// and energy with one warning naming file and frame, recorded in meta.json;
// the features are MDTraj's for the same file.
TEST_F(DataSafety, ConcatenatedTrajectoryIsAcceptedWithAWarning) {
  const fs::path joined = dir_ / "joined.xtc";
  writeBytes(joined, firstFrames(1, 100) + firstFrames(2, 100));
  const auto run = activediff(featurizeArgs(joined, dir_ / "ds"));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  const std::string warning = "warning: " + joined.string() + ": frame 100: time ";
  ASSERT_NE(run.output.find(warning), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find(warning), run.output.rfind("warning:")) << "one warning line per file: " << run.output;
  const auto warnings = metaOf(dir_ / "ds")["time_warnings"];
  ASSERT_EQ(warnings.size(), 1u) << warnings.dump();
  EXPECT_EQ(warnings[0]["file"], joined.string());
  EXPECT_EQ(warnings[0]["first_frame"], 100);
  EXPECT_EQ(warnings[0]["frames_not_increasing"], 1);
  expectDatasetMatchesMdtraj(dir_ / "ds", joined, 200);

  const auto energy = activediff(energyArgs(joined, dir_ / "e.csv"));
  ASSERT_EQ(energy.exitCode, 0) << energy.output;
  EXPECT_NE(energy.output.find(warning), std::string::npos) << energy.output;
  EXPECT_EQ(csvRows(dir_ / "e.csv"), 200);
}

// 3a: a file whose times are all 0 is valid; corruption that does not
// involve time stays an error, at the damaged frame.
TEST_F(DataSafety, TimesAllZeroAreAcceptedButOtherCorruptionIsNot) {
  std::string bytes = firstFrames(1, 40);
  const auto offsets = test::xtcFrameOffsets(shippedRun(1));
  for (int f = 0; f < 40; ++f) putBigEndianFloat(bytes, offsets[f] + kTimeOffset, 0.0f);
  const fs::path zero = dir_ / "zero.xtc";
  writeBytes(zero, bytes);

  std::vector<std::string> messages;
  TrajectoryReader::Options options;
  options.warn = [&](const std::string& m) { messages.push_back(m); };
  TrajectoryReader reader(zero, options);
  Frame frame;
  int frames = 0;
  while (reader.next(frame)) ++frames;
  EXPECT_EQ(frames, 40);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find(zero.string() + ": frame 1: time 0 ps"), std::string::npos) << messages[0];
  EXPECT_EQ(reader.timeWarning().frames, 39);
  EXPECT_EQ(reader.timeWarning().firstFrame, 1);

  const auto run = activediff(featurizeArgs(zero, dir_ / "ds"));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_EQ(metaOf(dir_ / "ds")["time_warnings"][0]["frames_not_increasing"], 39);
  expectDatasetMatchesMdtraj(dir_ / "ds", zero, 40);

  // Same file, frame 25's box made NaN: an error naming that frame.
  putBigEndianFloat(bytes, offsets[25] + 16, std::nanf(""));
  const fs::path damaged = dir_ / "damaged.xtc";
  writeBytes(damaged, bytes);
  const auto bad = activediff(featurizeArgs(damaged, dir_ / "ds2"));
  EXPECT_NE(bad.exitCode, 0) << bad.output;
  EXPECT_NE(bad.output.find(damaged.string()), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("frame 25"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(dir_ / "ds2"));
}

// 3b: a file cut inside its last frame (a run still being written) is fine
// when --last-frame stops before that frame, in featurize and energy alike; without
// --last-frame it is still an error naming the cut frame.
TEST_F(DataSafety, FileCutInsideItsLastFrameIsFineWithEndBeforeIt) {
  const auto offsets = test::xtcFrameOffsets(shippedRun(1));
  // The oracle reads the same 30 frames from a clean cut.
  const fs::path clean = dir_ / "clean.xtc";
  writeBytes(clean, bytesOf(shippedRun(1), 0, offsets[30]));
  // Cut halfway through frame 30, and so early in it that not even its
  // 4-byte magic number is complete.
  for (const std::int64_t kept : {(offsets[31] - offsets[30]) / 2, std::int64_t{2}}) {
    SCOPED_TRACE(std::to_string(kept) + " bytes of frame 30 left");
    const fs::path cut = dir_ / ("cut" + std::to_string(kept) + ".xtc");
    writeBytes(cut, bytesOf(shippedRun(1), 0, offsets[30] + kept));
    const fs::path ds = dir_ / ("ds" + std::to_string(kept));
    const auto run = activediff(featurizeArgs(cut, ds, "--last-frame 29"));
    ASSERT_EQ(run.exitCode, 0) << run.output;
    expectDatasetMatchesMdtraj(ds, clean, 30);

    const fs::path csv = dir_ / ("e" + std::to_string(kept) + ".csv");
    const auto energy = activediff(energyArgs(cut, csv, "--last-frame 29"));
    ASSERT_EQ(energy.exitCode, 0) << energy.output;
    EXPECT_EQ(csvRows(csv), 30);

    for (const std::string& args : {featurizeArgs(cut, dir_ / "ds-whole"), energyArgs(cut, dir_ / "e-whole.csv")}) {
      const auto whole = activediff(args);
      EXPECT_NE(whole.exitCode, 0) << whole.output;
      EXPECT_NE(whole.output.find("frame 30"), std::string::npos) << whole.output;
      EXPECT_NE(whole.output.find("truncated"), std::string::npos) << whole.output;
    }
  }
}

// 3c: the same file twice (under two spellings) gets a warning, and the
// dataset records it.
TEST_F(DataSafety, SameFileGivenTwiceIsWarnedAbout) {
  const fs::path a = dir_ / "a.xtc";
  writeBytes(a, firstFrames(1, 20));
  fs::create_directory(dir_ / "sub");
  const fs::path again = dir_ / "sub" / ".." / "a.xtc";
  const auto run = activediff("featurize -q " + quote(a) + " " + quote(again) + " -s " + quote(test::ala2Pdb()) +
                              " -o " + quote(dir_ / "ds"));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_NE(run.output.find("warning: " + again.string() + ": the same file as trajectory 1"), std::string::npos)
      << run.output;
  const auto duplicates = metaOf(dir_ / "ds")["duplicate_trajectories"];
  ASSERT_EQ(duplicates.size(), 1u);
  EXPECT_EQ(duplicates[0]["source_index"], 1);
  EXPECT_EQ(duplicates[0]["same_as_source_index"], 0);
  EXPECT_TRUE(metaOf(dir_ / "ds")["time_warnings"].empty());

  // Two different files: no warning.
  const fs::path b = dir_ / "b.xtc";
  writeBytes(b, firstFrames(2, 20));
  const auto two = activediff("featurize -q " + quote(a) + " " + quote(b) + " -s " + quote(test::ala2Pdb()) +
                              " -o " + quote(dir_ / "ds2"));
  ASSERT_EQ(two.exitCode, 0) << two.output;
  EXPECT_EQ(two.output.find("warning"), std::string::npos) << two.output;
}

// A copy of ala2.pdb with two atoms' names exchanged (coordinates stay).
fs::path pdbWithNamesSwapped(const test::ScratchDir& dir, const std::string& first, const std::string& second,
                             int residue) {
  std::istringstream in(test::readText(test::ala2Pdb()));
  std::string out, line;
  const auto field = [](const std::string& name) {  // PDB columns 13-16
    return name.size() == 4 ? name : " " + name + std::string(3 - name.size(), ' ');
  };
  while (std::getline(in, line)) {
    if (line.rfind("ATOM", 0) == 0 && std::stoi(line.substr(22, 4)) == residue) {
      const std::string name = line.substr(12, 4);
      if (name == field(first)) line.replace(12, 4, field(second));
      else if (name == field(second)) line.replace(12, 4, field(first));
    }
    out += line + "\n";
  }
  const fs::path file = dir / ("ala2_" + first + "_" + second + ".pdb");
  writeBytes(file, out);
  return file;
}

// 4a: atom names that do not fit the chemistry are an error naming the file
// and the atom, for every swap that would move a feature atom.
TEST_F(DataSafety, TopologyWhoseNamesDoNotFitTheChemistryIsAnError) {
  const fs::path xtc = dir_ / "a.xtc";
  writeBytes(xtc, firstFrames(1, 10));
  struct Swap {
    std::string first, second;
    int residue;
    std::string atom;  // a moved atom, which the message must name
  };
  for (const Swap& swap : {Swap{"CA", "CB", 2, "ALA2:CA"}, Swap{"N", "H", 2, "ALA2:N"}, Swap{"C", "O", 2, "ALA2:C"},
                           Swap{"N", "CH3", 3, "NME3:N"}}) {
    const fs::path pdb = pdbWithNamesSwapped(dir_, swap.first, swap.second, swap.residue);
    const Structure structure = readStructure(pdb);
    for (FeatureSet set : {FeatureSet::PhiPsi2D, FeatureSet::ZMatrix25D}) {
      const std::string message = errorOf([&] { Featurizer(set, structure, pdb.string()); });
      EXPECT_NE(message.find(pdb.string()), std::string::npos) << message;
      EXPECT_NE(message.find(swap.atom + " ("), std::string::npos) << message;
      EXPECT_NE(message.find("is not bonded to"), std::string::npos) << message;
      EXPECT_NE(message.find("do not fit the chemistry"), std::string::npos) << message;
    }
  }
  // The command fails the same way, before writing anything.
  const fs::path swapped = pdbWithNamesSwapped(dir_, "CA", "CB", 2);
  const auto run = activediff("featurize -q -f " + quote(xtc) + " -s " + quote(swapped) + " -o " + quote(dir_ / "ds"));
  EXPECT_NE(run.exitCode, 0) << run.output;
  EXPECT_NE(run.output.find(swapped.string() + ": atom ALA2:N is not bonded to ALA2:CA"), std::string::npos)
      << run.output;
  EXPECT_FALSE(fs::exists(dir_ / "ds"));
  // An element column that contradicts the name.
  std::string text = test::readText(test::ala2Pdb());
  const std::size_t ca = text.find("  CA  ALA");
  const std::size_t lineEnd = text.find('\n', ca);
  std::string caLine = text.substr(text.rfind('\n', ca) + 1, lineEnd - text.rfind('\n', ca) - 1);
  std::string fixedLine = caLine;
  fixedLine.resize(76, ' ');
  fixedLine += " O";
  text.replace(text.find(caLine), caLine.size(), fixedLine);
  const fs::path elementPdb = dir_ / "ala2_element.pdb";
  writeBytes(elementPdb, text);
  const std::string message =
      errorOf([&] { Featurizer(FeatureSet::PhiPsi2D, readStructure(elementPdb), elementPdb.string()); });
  EXPECT_NE(message.find("ALA2:CA is named like a C but its element is O"), std::string::npos) << message;
}

// The shipped topologies pass the chemistry check in both feature sets; the
// .tpr's atom types give every atom its atomic number, so the check is not
// vacuous there.
TEST_F(DataSafety, ShippedTopologiesFitTheChemistry) {
  for (const fs::path& topology : {test::ala2Pdb(), test::ala2Tpr()}) {
    const Structure structure = readStructure(topology);
    for (FeatureSet set : {FeatureSet::PhiPsi2D, FeatureSet::ZMatrix25D})
      EXPECT_NO_THROW(Featurizer(set, structure, topology.string())) << topology;
  }
  const Structure tpr = readStructure(test::ala2Tpr());
  for (const Atom& atom : tpr.topology.atoms) {
    const int expected = atom.name[0] == 'H' ? 1 : atom.name[0] == 'C' ? 6 : atom.name[0] == 'N' ? 7 : 8;
    EXPECT_EQ(atom.atomicNumber, expected) << atom.name;
  }
}

// 4b: a frame stretched by 1.15 (its XTC precision corrupted: the integer
// coordinates stay inside the header's bounds, so only the geometry shows
// it) is an error naming file and frame in featurize and in energy. The
// frames before it pass (and all of the shipped MD, below).
TEST_F(DataSafety, StretchedFrameIsUnphysicalInFeaturizeAndEnergy) {
  std::string bytes = firstFrames(1, 60);
  const auto offsets = test::xtcFrameOffsets(shippedRun(1));
  const float precision = getBigEndianFloat(bytes, offsets[37] + kPrecisionOffset);
  ASSERT_EQ(precision, 1000.0f);
  putBigEndianFloat(bytes, offsets[37] + kPrecisionOffset, precision / 1.15f);
  const fs::path stretched = dir_ / "stretched.xtc";
  writeBytes(stretched, bytes);

  // The reader decodes the damaged frame; it is the geometry that is wrong.
  {
    const Structure ala2 = readStructure(test::ala2Pdb());
    const BondPlausibility check = MoleculeGraph(ala2.topology, ala2.positionsNm).plausibility();
    TrajectoryReader reader(stretched);
    Frame frame;
    while (reader.next(frame) && frame.index < 37) EXPECT_EQ(check.check(frame.positionsNm), "") << frame.index;
    ASSERT_EQ(frame.index, 37);
    EXPECT_NEAR(check.scale(frame.positionsNm), 1.15, 0.02);
  }
  for (const std::string& args : {featurizeArgs(stretched, dir_ / "ds"), energyArgs(stretched, dir_ / "e.csv")}) {
    const auto run = activediff(args);
    EXPECT_NE(run.exitCode, 0) << run.output;
    EXPECT_NE(run.output.find(stretched.string() + ": frame 37: unphysical frame: bonds are 1"), std::string::npos)
        << run.output;
    EXPECT_NE(run.output.find("longer than the reference"), std::string::npos) << run.output;
  }
  EXPECT_FALSE(fs::exists(dir_ / "ds"));
  EXPECT_FALSE(fs::exists(dir_ / "e.csv"));
}

// A decoder that dies (libgromacs on a corrupt frame) takes the frames still
// in its output buffer with it; the first damaged frame may be among them.
// The reader must still name that frame, not the later one that killed the
// decoder. The crash is forced by the decoder's test hook at frame 50 (the
// fuzzing meets it at random, as libgromacs reads garbage memory or not).
TEST_F(DataSafety, DecoderCrashAfterADamagedFrameStillNamesTheDamagedFrame) {
  std::string bytes = firstFrames(1, 60);
  const auto offsets = test::xtcFrameOffsets(shippedRun(1));
  putBigEndianFloat(bytes, offsets[10] + kPrecisionOffset, 1000.0f / 1.15f);
  const fs::path stretched = dir_ / "stretched.xtc";
  writeBytes(stretched, bytes);
  const fs::path clean = dir_ / "clean.xtc";
  writeBytes(clean, firstFrames(1, 60));
  const std::string crash = "ACTIVEDIFF_TEST_DECODER_CRASH_AT_FRAME=50 ";
  const auto damaged = test::runCommand(crash + ACTIVEDIFF_BINARY + " " + featurizeArgs(stretched, dir_ / "ds"));
  EXPECT_NE(damaged.exitCode, 0) << damaged.output;
  EXPECT_NE(damaged.output.find(stretched.string() + ": frame 10: unphysical frame"), std::string::npos)
      << damaged.output;
  // Without earlier damage the crash itself is reported, at its frame.
  const auto crashed = test::runCommand(crash + ACTIVEDIFF_BINARY + " " + featurizeArgs(clean, dir_ / "ds"));
  EXPECT_NE(crashed.exitCode, 0) << crashed.output;
  EXPECT_NE(crashed.output.find(clean.string() + ": frame 50: corrupt or unreadable trajectory: libgromacs crashed"),
            std::string::npos)
      << crashed.output;
  EXPECT_FALSE(fs::exists(dir_ / "ds"));
}

// 4b: the check's limits fit real MD: every frame of both shipped runs
// (constrained H bonds, XTC precision) passes with room to spare, against
// the topology's bonds here and the System's bonds through `energy`.
TEST_F(DataSafety, ShippedMdPassesThePlausibilityCheckWithMargin) {
  const Structure ala2 = readStructure(test::ala2Pdb());
  const MoleculeGraph graph(ala2.topology, ala2.positionsNm);
  const BondPlausibility check = graph.plausibility();
  ASSERT_EQ(check.size(), 21u);  // every bond of ACE-ALA-NME
  double worstScale = 0.0, worstBondNm = 0.0;
  for (int run : {1, 2}) {
    TrajectoryReader reader(shippedRun(run));
    Frame frame;
    while (reader.next(frame)) {
      ASSERT_EQ(check.check(frame.positionsNm), "") << run << " " << frame.index;
      worstScale = std::max(worstScale, std::abs(check.scale(frame.positionsNm) - 1.0));
      for (std::size_t b = 0; b < graph.bonds().size(); ++b) {
        const auto [i, j] = graph.bonds()[b];
        worstBondNm = std::max(worstBondNm, std::abs((frame.positionsNm.row(i) - frame.positionsNm.row(j)).norm() -
                                                     graph.referenceLengthsNm()[b]));
      }
    }
  }
  std::printf("shipped MD: max |scale - 1| %.4f (limit %.2f), max bond deviation %.4f nm (limit %.2f)\n", worstScale,
              BondPlausibility::kMaxScaleDeviation, worstBondNm, BondPlausibility::kMaxBondDeviationNm);
  EXPECT_LT(worstScale, BondPlausibility::kMaxScaleDeviation / 2);
  EXPECT_LT(worstBondNm, BondPlausibility::kMaxBondDeviationNm / 2);
  const auto energy = activediff(energyArgs(shippedRun(2), dir_ / "e.csv", "--stride 5"));
  EXPECT_EQ(energy.exitCode, 0) << energy.output;
}

// 6a, 6b: --help shows one required group of inputs; a .tpr is read without
// libgromacs's "Reading file ..." (it runs in a child, its output in a log),
// and a truncated .tpr is an error naming it, not an exit of this process.
TEST(DataSafetyCli, HelpShowsOneRequiredInputGroupAndTprReadsAreSilent) {
  const auto help = activediff("featurize --help");
  ASSERT_EQ(help.exitCode, 0);
  std::istringstream lines(help.output);
  std::string line;
  int requiredInputs = 0;
  while (std::getline(lines, line))
    if (line.find("REQUIRED") != std::string::npos && line.find("traject") != std::string::npos) ++requiredInputs;
  EXPECT_EQ(requiredInputs, 0) << help.output;
  EXPECT_NE(help.output.find("At least 1 of the following options are required"), std::string::npos) << help.output;
  test::ScratchDir dir;
  const auto none = activediff("featurize -q -s " + quote(test::ala2Pdb()) + " -o " + quote(dir / "none"));
  EXPECT_NE(none.exitCode, 0);
  EXPECT_NE(none.output.find("-f,--trajectory,trajectories"), std::string::npos) << none.output;
  const fs::path xtc = dir / "a.xtc";
  test::writeNoisyTrajectory(xtc, 5);
  const auto run = activediff("featurize -q " + quote(xtc) + " -s " + quote(test::ala2Tpr()) + " -o " + quote(dir / "ds"));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_EQ(run.output.find("Reading file"), std::string::npos) << run.output;

  const fs::path garbled = dir / "garbled.tpr";
  writeBytes(garbled, test::readText(test::ala2Tpr()).substr(0, 5000));
  try {
    readStructure(garbled);
    ADD_FAILURE() << "garbled .tpr was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(garbled.string()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace activediff
