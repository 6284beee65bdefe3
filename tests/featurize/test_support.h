#pragma once
// Shared helpers of the featurize tests: paths, scratch directories, running
// the CLI and the oracles, and small trajectories made on the fly.
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "activediff/featurize/error.h"
#include "activediff/featurize/structure.h"
#include "support/test_support.h"

namespace activediff {
namespace fs = std::filesystem;
}

namespace activediff::test {

using testing::examplesDir;
inline fs::path ala2Pdb() { return examplesDir() / "ala2" / "ala2.pdb"; }
inline fs::path ala2Tpr() { return examplesDir() / "ala2" / "ala2.tpr"; }

// The shipped reference trajectory (ACTIVEDIFF_TEST_TRAJECTORY overrides, for
// development before it lands); empty path when absent.
inline fs::path shippedTrajectory() {
  if (const char* env = std::getenv("ACTIVEDIFF_TEST_TRAJECTORY")) return env;
  const fs::path run1 = examplesDir() / "ala2" / "md" / "run1.xtc";
  return fs::exists(run1) ? run1 : fs::path();
}

// Runs f, which must throw activediff::Error; returns the message.
template <class F>
std::string errorOf(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

// Scratch directories and child processes: the suite-wide helpers.
using ScratchDir = testing::ScratchDirectory;
using testing::CommandResult;
using testing::runCommand;

inline std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

// A short synthetic trajectory: the ala2 structure with thermal-size noise
// (0.01 nm) and a rotation of the ALA side of psi, so angles vary. Frames are
// 1 ps apart and the box encloses the molecule.
inline void writeNoisyTrajectory(const fs::path& file, int frames, unsigned seed = 1, int dropAtoms = 0) {
  Structure ala2 = readStructure(ala2Pdb());
  Topology topology = ala2.topology;
  topology.atoms.resize(topology.atoms.size() - dropAtoms);
  TrajectoryWriter writer(file, topology);
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.01);
  for (int f = 0; f < frames; ++f) {
    Frame frame;
    frame.index = f;
    frame.step = 500 * f;
    frame.timePs = f;
    frame.positionsNm = ala2.positionsNm.topRows(topology.size());
    for (Eigen::Index i = 0; i < frame.positionsNm.size(); ++i) frame.positionsNm.data()[i] += noise(rng);
    frame.positionsNm.rowwise() += Eigen::RowVector3d(1.5, 1.5, 1.5) - frame.positionsNm.colwise().mean();
    frame.boxNm = Eigen::Matrix3d::Identity() * 3.0;
    writer.write(frame);
  }
  writer.close();
}

// Byte offsets of the frames of an XTC with more than 9 atoms (compressed
// frames differ in size), from the byte count at offset 88 of each frame.
inline std::vector<std::int64_t> xtcFrameOffsets(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  const auto size = static_cast<std::int64_t>(fs::file_size(file));
  std::vector<std::int64_t> offsets;
  for (std::int64_t offset = 0; offset + 92 <= size;) {
    offsets.push_back(offset);
    unsigned char b[4];
    in.seekg(offset + 88);
    in.read(reinterpret_cast<char*>(b), 4);
    const std::int64_t bytes = (std::int64_t(b[0]) << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
    offset += 92 + (bytes + 3) / 4 * 4;
  }
  return offsets;
}

inline std::string readText(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace activediff::test
