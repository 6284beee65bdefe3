#pragma once
// Langevin (middle) molecular dynamics through OpenMM's C++ API: the driver
// that makes the reference data. Frames go to a trajectory written through
// libgromacs, energies to a CSV log; a checkpoint lets a killed run resume
// the same trajectory with no frame lost or repeated.
//
// Files for --output run.xtc:
//   run.xtc, run.log.csv      final outputs, present only after success
//   run.part.xtc, run.log.csv.part   outputs while running
//   run.chk                   checkpoint (atomic, checksummed), removed after success
//
// Resume is exact: the frames after a kill -9 and --resume equal those of an
// uninterrupted run with the same seed (see runMd), wherever two uninterrupted
// runs are equal: Reference, and CPU with one thread (tested). With more CPU
// threads OpenMM 7.7's forces vary in the last bits from run to run.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace activediff::plugin {

struct MdOptions {
  std::filesystem::path systemXml;
  std::filesystem::path structure;  // .pdb/.gro with the System's atoms in order
  std::filesystem::path output;     // trajectory: .xtc or .trr
  double temperatureK = 300.0;
  double frictionPerPs = 1.0;
  double timestepFs = 2.0;
  double lengthNs = 1.0;            // production length after equilibration
  double frameIntervalPs = 1.0;
  std::int64_t seed = 1;            // -1: a random seed, reported in MdSummary::seed
  std::string platform = "CPU";
  int threads = 0;                  // 0 = platform default
  bool minimize = true;
  double equilibrationPs = 100.0;
  std::int64_t checkpointIntervalFrames = 100;
  bool resume = false;

  // Throws activediff::Error naming the option for impossible values.
  void validate() const;
  std::int64_t stepsPerFrame() const;
  std::int64_t frameCount() const;
  nlohmann::json toJson() const;  // everything except 'resume'; 'seed' as given (-1 before runMd resolves it)
};

struct MdProgress {
  std::int64_t framesWritten = 0;
  std::int64_t frameCount = 0;
  double nsPerDay = 0.0;
  double temperatureK = 0.0;
  double potentialKjPerMol = 0.0;
};

struct MdSummary {
  std::int64_t frames = 0;
  double simulatedNs = 0.0;
  double wallSeconds = 0.0;   // production of this invocation only
  double nsPerDay = 0.0;
  double meanTemperatureK = 0.0;
  double meanPotentialKjPerMol = 0.0;
  double stdPotentialKjPerMol = 0.0;
  int degreesOfFreedom = 0;
  std::string platform;
  std::int64_t seed = 0;      // the seed used (drawn at random for --seed -1)
  bool resumed = false;
  std::int64_t resumedFromFrame = 0;
  std::filesystem::path trajectory;
  std::filesystem::path log;
};

std::filesystem::path mdLogPath(const std::filesystem::path& output);
std::filesystem::path mdCheckpointPath(const std::filesystem::path& output);

MdSummary runMd(const MdOptions& options,
                const std::function<void(const MdProgress&)>& onProgress = {});

}  // namespace activediff::plugin
