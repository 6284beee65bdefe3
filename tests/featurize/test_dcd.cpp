// DCD (CHARMM/NAMD variant) read and write, issue 13 build 2. The independent
// oracles: MDTraj (writes and reads DCD through VMD's plugin) and OpenMM's
// DCDReporter, on the shipped MD, with and without a unit cell.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <fstream>
#include <sstream>

#include "activediff/featurize/dataset.h"
#include "activediff/featurize/geometry.h"
#include "test_support.h"

namespace activediff {
namespace {

constexpr int kFrames = 1000;  // of the shipped run: enough for every region it visits
constexpr double kToleranceDeg = 0.05;

std::string xtc() { return test::shippedTrajectory().string(); }
std::string pdb() { return test::ala2Pdb().string(); }
std::string systemXml() { return (test::examplesDir() / "ala2" / "system.xml").string(); }

double angleDifferenceDeg(double a, double b) { return std::abs(wrapToPiRad((a - b) * kRadPerDeg)) * kDegPerRad; }

std::vector<std::vector<double>> readTable(const fs::path& file) {
  std::vector<std::vector<double>> rows;
  std::istringstream in(test::readText(file));
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::vector<double> row;
    for (double v; fields >> v;) row.push_back(v);
    if (!row.empty()) rows.push_back(row);
  }
  return rows;
}

// `activediff featurize` on the DCD gives MDTraj's phi/psi of that DCD.
void expectPhiPsiLikeMdtraj(const fs::path& dcd, const test::ScratchDir& dir, int frames) {
  const fs::path out = dir / (dcd.stem().string() + "-features");
  const auto run = testing::runActivediff("featurize -q -f " + test::quote(dcd) + " -s " + pdb() +
                                          " --features 2d -o " + test::quote(out));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  const FeatureMatrix ours = readDataset(out).features;
  const auto oracle = testing::runOracle("mdtraj_phi_psi.py", test::quote(dcd) + " " + pdb());
  ASSERT_EQ(oracle.exitCode, 0) << oracle.output;
  std::istringstream in(oracle.output);
  std::vector<std::array<double, 2>> theirs;
  for (std::array<double, 2> pair; in >> pair[0] >> pair[1];) theirs.push_back(pair);
  ASSERT_EQ(ours.rows(), frames);
  ASSERT_EQ(theirs.size(), static_cast<std::size_t>(frames));
  double worst = 0;
  for (int k = 0; k < frames; ++k)
    for (int j = 0; j < 2; ++j) worst = std::max(worst, angleDifferenceDeg(ours(k, j) * kDegPerRad, theirs[k][j]));
  std::printf("%s: max |phi/psi difference| to MDTraj %.2e deg over %d frames\n", dcd.filename().c_str(), worst,
              frames);
  EXPECT_LT(worst, kToleranceDeg) << dcd;
}

// Our reader and MDTraj read the same positions (float32) and box.
void expectReadLikeMdtraj(const fs::path& dcd, const test::ScratchDir& dir, bool hasCell) {
  const fs::path dump = dir / (dcd.stem().string() + "-mdtraj.txt");
  const auto oracle = testing::runOracle("dcd_oracle.py", "dump " + test::quote(dcd) + " " + pdb() + " " +
                                                              test::quote(dump));
  ASSERT_EQ(oracle.exitCode, 0) << oracle.output;
  const auto table = readTable(dump);
  TrajectoryReader::Options options;
  options.expectedAtoms = 22;
  TrajectoryReader reader(dcd, options);
  EXPECT_EQ(reader.framesInFile(), static_cast<std::int64_t>(table.size()));
  Frame frame;
  std::size_t k = 0;
  double worstPosition = 0, worstBox = 0;
  for (; reader.next(frame); ++k) {
    ASSERT_LT(k, table.size());
    const auto& row = table[k];
    ASSERT_EQ(row.size(), 9u + 66u);
    for (int e = 0; e < 9; ++e) worstBox = std::max(worstBox, std::abs(frame.boxNm(e / 3, e % 3) - row[e]));
    for (int i = 0; i < 22; ++i)
      for (int d = 0; d < 3; ++d)
        worstPosition = std::max(worstPosition, std::abs(frame.positionsNm(i, d) - row[9 + 3 * i + d]));
    if (!hasCell) EXPECT_TRUE(frame.boxNm.isZero(0.0)) << "frame " << k;
    if (hasCell) EXPECT_GT(frame.boxNm.determinant(), 0.0) << "frame " << k;
  }
  EXPECT_EQ(k, table.size());
  EXPECT_LT(worstPosition, 2e-6) << dcd;  // float32 of A, then /10, both sides
  EXPECT_LT(worstBox, 1e-5) << dcd;       // MDTraj builds its vectors in float32
}

TEST(Dcd, MdtrajWrittenWithAndWithoutCellReadLikeMdtraj) {
  if (xtc().empty()) GTEST_SKIP() << "examples/ala2/md/run1.xtc not present";
  test::ScratchDir dir;
  for (const std::string cell : {"cell", "nocell"}) {
    const fs::path dcd = dir / ("mdtraj-" + cell + ".dcd");
    const auto write = testing::runOracle(
        "dcd_oracle.py", "mdtraj " + xtc() + " " + pdb() + " " + std::to_string(kFrames) + " " + test::quote(dcd) +
                             " " + cell);
    ASSERT_EQ(write.exitCode, 0) << write.output;
    expectPhiPsiLikeMdtraj(dcd, dir, kFrames);
    expectReadLikeMdtraj(dcd, dir, cell == "cell");
  }
}

TEST(Dcd, OpenmmDcdReporterWithTriclinicCellAndWithoutReadLikeMdtrajWithTimes) {
  if (xtc().empty()) GTEST_SKIP() << "examples/ala2/md/run1.xtc not present";
  test::ScratchDir dir;
  for (const std::string cell : {"triclinic", "nocell"}) {
    const fs::path dcd = dir / ("openmm-" + cell + ".dcd");
    const auto write = testing::runOracle("dcd_oracle.py", "openmm " + xtc() + " " + pdb() + " " + systemXml() +
                                                               " " + std::to_string(kFrames) + " " +
                                                               test::quote(dcd) + " " + cell);
    ASSERT_EQ(write.exitCode, 0) << write.output;
    expectPhiPsiLikeMdtraj(dcd, dir, kFrames);
    expectReadLikeMdtraj(dcd, dir, cell == "triclinic");
    // DCDReporter every 500 steps of 2 fs from step 500: t = 1, 2, ... ps,
    // the shipped XTC's times (DELTA is a float32 in AKMA units).
    TrajectoryReader reader(dcd);
    Frame frame;
    for (std::int64_t k = 0; reader.next(frame); ++k) {
      ASSERT_EQ(frame.step, 500 * (k + 1));
      ASSERT_NEAR(frame.timePs, double(k + 1), 1e-6 * double(k + 1)) << "frame " << k;
    }
    EXPECT_EQ(reader.timeWarning().frames, 0);
  }
}

TEST(Dcd, RebuildWritesDcdThatMdtrajReadsLikeTrrAndPdb) {
  if (xtc().empty()) GTEST_SKIP() << "examples/ala2/md/run1.xtc not present";
  test::ScratchDir dir;
  const fs::path md = dir / "md25";
  auto run = testing::runActivediff("featurize -q -f " + xtc() + " -s " + pdb() + " --features 25d -o " + test::quote(md));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  const fs::path dcd = dir / "rb.dcd", trr = dir / "rb.trr", pdbOut = dir / "rb.pdb";
  run = testing::runActivediff("rebuild --features " + test::quote(md) + " --topology " + pdb() + " --limit 20 -o " +
                               test::quote(dcd) + " -o " + test::quote(trr) + " -o " + test::quote(pdbOut));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  // TRR holds float32 nm, the DCD float32 A: equal to float32 precision.
  auto compare = testing::runOracle("dcd_oracle.py", "compare " + test::quote(dcd) + " " + test::quote(trr) + " " +
                                                         pdb() + " 2e-6");
  EXPECT_EQ(compare.exitCode, 0) << compare.output;
  compare = testing::runOracle("dcd_oracle.py", "compare " + test::quote(dcd) + " " + test::quote(pdbOut) + " " +
                                                    pdb() + " 6e-5 positions");  // PDB: 0.001 A
  EXPECT_EQ(compare.exitCode, 0) << compare.output;
  // And our reader: positions, the enclosing box and the frames' times.
  TrajectoryReader fromDcd(dcd), fromTrr(trr);
  EXPECT_EQ(fromDcd.framesInFile(), 20);
  Frame a, b;
  int frames = 0;
  while (fromDcd.next(a)) {
    ASSERT_TRUE(fromTrr.next(b));
    EXPECT_LT((a.positionsNm - b.positionsNm).cwiseAbs().maxCoeff(), 2e-6);
    EXPECT_LT((a.boxNm - b.boxNm).cwiseAbs().maxCoeff(), 2e-6);
    EXPECT_NEAR(a.timePs, b.timePs, 1e-4);
    ++frames;
  }
  EXPECT_FALSE(fromTrr.next(b));
  EXPECT_EQ(frames, 20);
}

// ---- written by TrajectoryWriter, then damaged --------------------------

constexpr int kAtoms = 22;
constexpr std::int64_t kHeaderBytes = 92 + 172 + 12;  // header, two titles, natoms
constexpr std::int64_t kFrameBytes = 56 + 3 * (8 + 4 * kAtoms);

fs::path writeSmallDcd(const test::ScratchDir& dir, const std::string& name, int frames = 5) {
  const fs::path file = dir / name;
  test::writeNoisyTrajectory(file, frames);
  return file;
}

std::vector<char> bytesOf(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void writeBytes(const fs::path& file, const std::vector<char>& bytes) {
  std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <class T>
void poke(std::vector<char>& bytes, std::int64_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

std::string readAll(const fs::path& file, int expectedAtoms = kAtoms) {
  return test::errorOf([&] {
    TrajectoryReader::Options options;
    options.expectedAtoms = expectedAtoms;
    TrajectoryReader reader(file, options);
    Frame frame;
    while (reader.next(frame)) {
    }
  });
}

TEST(Dcd, WriterLayoutTimesBoxAndAppend) {
  test::ScratchDir dir;
  const fs::path file = writeSmallDcd(dir, "small.dcd", 3);
  EXPECT_EQ(static_cast<std::int64_t>(fs::file_size(file)), kHeaderBytes + 3 * kFrameBytes);
  {
    const Structure ala2 = readStructure(test::ala2Pdb());
    TrajectoryWriter writer(file, ala2.topology, TrajectoryWriter::Mode::Append);
    Frame frame;
    frame.positionsNm = ala2.positionsNm;
    frame.boxNm = Eigen::Matrix3d::Identity() * 3.0;
    writer.write(frame);
    writer.write(frame);
    writer.close();
  }
  TrajectoryReader reader(file);
  EXPECT_EQ(reader.framesInFile(), 5);
  Frame frame;
  for (int k = 0; reader.next(frame); ++k) {
    EXPECT_EQ(frame.step, 500 * k);
    EXPECT_NEAR(frame.timePs, k, 1e-5);  // appended frames continue the header's spacing
    EXPECT_LT((frame.boxNm - Eigen::Matrix3d::Identity() * 3.0).cwiseAbs().maxCoeff(), 1e-12);
  }
  EXPECT_EQ(reader.timeWarning().frames, 0);
}

// A byte-swapped copy of a little-endian DCD from TrajectoryWriter.
std::vector<char> bigEndian(std::vector<char> bytes) {
  auto swap = [&](std::int64_t at, int width) { std::reverse(bytes.begin() + at, bytes.begin() + at + width); };
  swap(0, 4);
  for (int k = 0; k < 20; ++k) swap(8 + 4 * k, 4);
  swap(88, 4);
  swap(92, 4), swap(96, 4), swap(92 + 168, 4);
  for (int k = 0; k < 3; ++k) swap(264 + 4 * k, 4);
  for (std::int64_t f = kHeaderBytes; f < static_cast<std::int64_t>(bytes.size()); f += kFrameBytes) {
    swap(f, 4);
    for (int k = 0; k < 6; ++k) swap(f + 4 + 8 * k, 8);
    swap(f + 52, 4);
    for (std::int64_t at = f + 56; at < f + kFrameBytes; at += 4) swap(at, 4);
  }
  return bytes;
}

TEST(Dcd, BigEndianFilesReadTheSame) {
  test::ScratchDir dir;
  const fs::path little = writeSmallDcd(dir, "little.dcd");
  const fs::path big = dir / "big.dcd";
  writeBytes(big, bigEndian(bytesOf(little)));
  TrajectoryReader a(little), b(big);
  Frame fa, fb;
  int frames = 0;
  while (a.next(fa)) {
    ASSERT_TRUE(b.next(fb));
    EXPECT_EQ(fa.positionsNm, fb.positionsNm);
    EXPECT_EQ(fa.boxNm, fb.boxNm);
    EXPECT_EQ(fa.timePs, fb.timePs);
    ++frames;
  }
  EXPECT_FALSE(b.next(fb));
  EXPECT_EQ(frames, 5);
}

TEST(Dcd, CorruptAndTruncatedFilesAreErrorsNamingFileAndFrame) {
  test::ScratchDir dir;
  const fs::path good = writeSmallDcd(dir, "good.dcd");
  ASSERT_EQ(readAll(good), "<no error>");
  const std::vector<char> bytes = bytesOf(good);
  const auto frameAt = [](int frame) { return kHeaderBytes + frame * kFrameBytes; };
  struct Case {
    std::string name;
    std::function<void(std::vector<char>&)> damage;
    std::string expected;  // in the message, after "<file>: "
  };
  const std::vector<Case> cases = {
      {"marker-x", [&](auto& b) { poke<std::int32_t>(b, frameAt(2) + 56, 12345); },
       "frame 2: bad record marker of the X record"},
      {"marker-cell", [&](auto& b) { poke<std::int32_t>(b, frameAt(3) + 52, 7); },
       "frame 3: bad record marker of the unit cell record"},
      {"marker-header", [&](auto& b) { poke<std::int32_t>(b, 88, 85); }, "bad record marker of the header record"},
      {"not-dcd", [&](auto& b) { poke<std::int32_t>(b, 0, 1234); }, "not a DCD file"},
      {"natoms-header", [&](auto& b) { poke<std::int32_t>(b, 268, 21); }, "frame 0: bad record marker"},
      {"natoms-absurd", [&](auto& b) { poke<std::int32_t>(b, 268, -5); }, "absurd DCD header: -5 atoms"},
      {"nset-absurd", [&](auto& b) { poke<std::int32_t>(b, 8, -1); }, "absurd DCD header: -1 frames"},
      {"delta-nan", [&](auto& b) { poke<float>(b, 44, std::nanf("")); }, "absurd DCD header: time step"},
      {"titles-absurd", [&](auto& b) { poke<std::int32_t>(b, 92, 1 << 30); }, "corrupt DCD header: title record"},
      {"coordinate-nan", [&](auto& b) { poke<float>(b, frameAt(3) + 60 + 4 * 7, std::nanf("")); },
       "frame 3: atom 8 has a non-finite coordinate"},
      {"coordinate-absurd", [&](auto& b) { poke<float>(b, frameAt(1) + 56 + 100 + 4 * 2, 3e20f); },
       "frame 1: atom 3 has an absurd coordinate"},
      {"cell-negative", [&](auto& b) { poke<double>(b, frameAt(4) + 4, -30.0); },
       "frame 4: unit cell lengths -30"},
      {"cut-last", [&](auto& b) { b.resize(b.size() - 100); }, "frame 4: truncated: the file ends inside this frame"},
      {"cut-header", [&](auto& b) { b.resize(150); }, "truncated DCD header"},
  };
  for (const Case& c : cases) {
    std::vector<char> damaged = bytes;
    c.damage(damaged);
    const fs::path file = dir / (c.name + ".dcd");
    writeBytes(file, damaged);
    const std::string message = readAll(file);
    EXPECT_EQ(message.rfind(file.string() + ": ", 0), 0u) << c.name << ": " << message;
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.name << ": " << message;
  }
  // A cut last frame is fine when the selection ends before it.
  {
    std::vector<char> cut = bytes;
    cut.resize(cut.size() - 100);
    writeBytes(dir / "cut.dcd", cut);
    TrajectoryReader::Options options;
    options.end = 4;
    TrajectoryReader reader(dir / "cut.dcd", options);
    EXPECT_EQ(reader.framesInFile(), 4);
    Frame frame;
    int frames = 0;
    while (reader.next(frame)) ++frames;
    EXPECT_EQ(frames, 4);
    EXPECT_EQ(TrajectoryReader(dir / "cut.dcd").framesInFile(), -1);  // damaged: unknown
  }
  // The atom count against the topology.
  const fs::path fewer = dir / "fewer.dcd";
  test::writeNoisyTrajectory(fewer, 3, 1, 1);
  EXPECT_NE(readAll(fewer).find("frame 0: trajectory has 21 atoms but the topology has 22"), std::string::npos)
      << readAll(fewer);
  // Empty file.
  writeBytes(dir / "empty.dcd", {});
  EXPECT_NE(readAll(dir / "empty.dcd").find("empty.dcd: file is empty"), std::string::npos);

  // Through the CLI: one line naming file and frame, non-zero exit, no crash.
  for (const std::string name : {"cut-last", "marker-x", "empty"}) {
    const fs::path file = dir / (name + ".dcd");
    const auto run = testing::runActivediff("featurize -q -f " + test::quote(file) + " -s " + pdb() +
                                            " --features 2d -o " + test::quote(dir / (name + "-out")));
    EXPECT_NE(run.exitCode, 0) << name;
    EXPECT_LT(run.exitCode, 128) << name << ": crashed\n" << run.output;
    EXPECT_NE(run.output.find(file.string()), std::string::npos) << run.output;
    if (name != "empty") EXPECT_NE(run.output.find("frame "), std::string::npos) << run.output;
  }
  const auto run = testing::runActivediff("featurize -q -f " + test::quote(fewer) + " -s " + pdb() +
                                          " --features 2d -o " + test::quote(dir / "fewer-out"));
  EXPECT_NE(run.exitCode, 0);
  EXPECT_NE(run.output.find("21 atoms"), std::string::npos) << run.output;
}

TEST(Dcd, WriterRefusesABoxInAFileStartedWithoutOne) {
  test::ScratchDir dir;
  const Structure ala2 = readStructure(test::ala2Pdb());
  TrajectoryWriter writer(dir / "x.dcd", ala2.topology);
  Frame frame;
  frame.positionsNm = ala2.positionsNm;
  writer.write(frame);
  frame.boxNm = Eigen::Matrix3d::Identity() * 3.0;
  const std::string message = test::errorOf([&] { writer.write(frame); });
  EXPECT_NE(message.find("frame 1 has a periodic box but the file was started without a unit cell"),
            std::string::npos)
      << message;
  writer.close();
  TrajectoryReader reader(dir / "x.dcd");
  EXPECT_EQ(reader.framesInFile(), 1);
}

}  // namespace
}  // namespace activediff
