#include "activediff/plugin/md_simulation.h"

#include <OpenMM.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "activediff/featurize/atomic_output.h"
#include "activediff/featurize/error.h"
#include "activediff/featurize/structure.h"
#include "activediff/plugin/openmm_setup.h"
#include "activediff/plugin/potential_energy.h"

namespace activediff::plugin {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

fs::path withSuffix(const fs::path& path, const std::string& suffix) {
  fs::path result = path;
  result += suffix;
  return result;
}

void requirePositive(double value, const char* option) {
  if (!(value > 0.0) || !std::isfinite(value)) {
    throw Error(option, "must be a positive number, got " + std::to_string(value));
  }
}

// The checkpoint file: one line of JSON (bookkeeping), then OpenMM's own
// checkpoint bytes (positions, velocities, step, RNG state).
struct CheckpointHeader {
  std::int64_t framesWritten = 0;
  std::uintmax_t trajectoryBytes = 0;
  std::uintmax_t logBytes = 0;
  nlohmann::json config;
};

void writeCheckpoint(const fs::path& file, const CheckpointHeader& header, OpenMM::Context& context) {
  AtomicOutput out(file);
  {
    std::ofstream stream(out.temporary(), std::ios::binary);
    nlohmann::json json = {{"frames_written", header.framesWritten},
                           {"trajectory_bytes", header.trajectoryBytes},
                           {"log_bytes", header.logBytes},
                           {"config", header.config}};
    stream << json.dump() << "\n";
    context.createCheckpoint(stream);
    stream.flush();
    if (!stream) throw Error(file.string(), "cannot write checkpoint");
  }
  out.commit();
}

CheckpointHeader readCheckpoint(const fs::path& file, OpenMM::Context& context) {
  std::ifstream stream(file, std::ios::binary);
  if (!stream) throw Error(file.string(), "no checkpoint to resume from (missing or unreadable)");
  std::string line;
  std::getline(stream, line);
  CheckpointHeader header;
  try {
    const nlohmann::json json = nlohmann::json::parse(line);
    header.framesWritten = json.at("frames_written").get<std::int64_t>();
    header.trajectoryBytes = json.at("trajectory_bytes").get<std::uintmax_t>();
    header.logBytes = json.at("log_bytes").get<std::uintmax_t>();
    header.config = json.at("config");
  } catch (const std::exception& e) {
    throw Error(file.string(), std::string("corrupt checkpoint header: ") + e.what());
  }
  try {
    context.loadCheckpoint(stream);
  } catch (const std::exception& e) {
    throw Error(file.string(), std::string("corrupt checkpoint state: ") + e.what());
  }
  return header;
}

std::string logHeader() {
  return "frame,step,time_ps,potential_kj_mol,kinetic_kj_mol,total_kj_mol,temperature_k\n";
}

// Mean temperature and potential over the whole log (all invocations).
void summarizeLog(const fs::path& log, MdSummary& summary) {
  std::ifstream stream(log);
  std::string line;
  std::getline(stream, line);
  double sumT = 0, sumU = 0, sumU2 = 0;
  std::int64_t n = 0;
  while (std::getline(stream, line)) {
    std::istringstream fields(line);
    std::string cell;
    std::vector<double> values;
    while (std::getline(fields, cell, ',')) values.push_back(std::stod(cell));
    if (values.size() != 7) continue;
    sumT += values[6];
    sumU += values[3];
    sumU2 += values[3] * values[3];
    ++n;
  }
  if (n > 0) {
    summary.meanTemperatureK = sumT / n;
    summary.meanPotentialKjPerMol = sumU / n;
    summary.stdPotentialKjPerMol = std::sqrt(std::max(0.0, sumU2 / n - std::pow(sumU / n, 2)));
  }
}

}  // namespace

fs::path mdLogPath(const fs::path& output) {
  fs::path log = output;
  log.replace_extension(".log.csv");
  return log;
}

fs::path mdCheckpointPath(const fs::path& output) {
  fs::path checkpoint = output;
  checkpoint.replace_extension(".chk");
  return checkpoint;
}

void MdOptions::validate() const {
  requirePositive(temperatureK, "--temperature");
  requirePositive(frictionPerPs, "--friction");
  requirePositive(timestepFs, "--timestep");
  requirePositive(lengthNs, "--length");
  requirePositive(frameIntervalPs, "--frame-interval");
  if (equilibrationPs < 0 || !std::isfinite(equilibrationPs)) {
    throw Error("--equilibrate", "must be >= 0 ps");
  }
  if (checkpointIntervalFrames <= 0) throw Error("--checkpoint-interval", "must be a positive frame count");
  if (threads < 0) throw Error("--threads", "must be >= 0");
  const double stepsPerFrameExact = frameIntervalPs * 1000.0 / timestepFs;
  if (std::abs(stepsPerFrameExact - std::round(stepsPerFrameExact)) > 1e-6 || stepsPerFrameExact < 1) {
    throw Error("--frame-interval", "must be a whole number of time steps");
  }
  if (frameCount() < 1) throw Error("--length", "shorter than one frame interval");
  const std::string ext = output.extension().string();
  if (ext != ".xtc" && ext != ".trr") throw Error(output.string(), "output trajectory must be .xtc or .trr");
}

std::int64_t MdOptions::stepsPerFrame() const {
  return static_cast<std::int64_t>(std::llround(frameIntervalPs * 1000.0 / timestepFs));
}

std::int64_t MdOptions::frameCount() const {
  return static_cast<std::int64_t>(std::floor(lengthNs * 1000.0 / frameIntervalPs + 1e-9));
}

nlohmann::json MdOptions::toJson() const {
  return {{"system", systemXml.string()},        {"structure", structure.string()},
          {"output", output.string()},           {"temperature_k", temperatureK},
          {"friction_per_ps", frictionPerPs},    {"timestep_fs", timestepFs},
          {"length_ns", lengthNs},               {"frame_interval_ps", frameIntervalPs},
          {"seed", seed},                        {"platform", platform},
          {"threads", threads},                  {"minimize", minimize},
          {"equilibration_ps", equilibrationPs}, {"checkpoint_interval_frames", checkpointIntervalFrames},
          {"integrator", "LangevinMiddleIntegrator"}};
}

MdSummary runMd(const MdOptions& options, const std::function<void(const MdProgress&)>& onProgress) {
  options.validate();
  // The partial trajectory keeps its extension: libgromacs picks the format by it.
  fs::path trajectoryPart = options.output;
  trajectoryPart.replace_extension(".part" + options.output.extension().string());
  const fs::path logFinal = mdLogPath(options.output);
  const fs::path logPart = withSuffix(logFinal, ".part");
  const fs::path checkpoint = mdCheckpointPath(options.output);
  const nlohmann::json config = options.toJson();

  // Validate every input before anything is written.
  std::unique_ptr<OpenMM::System> system = loadSystemXml(options.systemXml);
  const Structure structure = readStructure(options.structure);
  if (static_cast<int>(structure.topology.size()) != system->getNumParticles()) {
    throw Error(options.structure.string(),
                "has " + std::to_string(structure.topology.size()) + " atoms but the System " +
                    options.systemXml.string() + " has " + std::to_string(system->getNumParticles()) +
                    " particles");
  }
  OpenMM::Platform& platform = platformByName(options.platform);
  const fs::path outputDir = options.output.parent_path();
  if (!outputDir.empty() && !fs::is_directory(outputDir)) {
    throw Error(options.output.string(), "output directory does not exist");
  }
  if (options.resume && !fs::exists(checkpoint)) {
    throw Error(checkpoint.string(), "cannot --resume: no checkpoint (run without --resume to start)");
  }

  const double dtPs = options.timestepFs / 1000.0;
  OpenMM::LangevinMiddleIntegrator integrator(options.temperatureK, options.frictionPerPs, dtPs);
  integrator.setRandomNumberSeed(static_cast<int>(options.seed % 2147483647u));
  OpenMM::Context context(*system, integrator, platform,
                          platformProperties(options.platform, options.threads));

  MdSummary summary;
  summary.platform = platform.getName();
  summary.degreesOfFreedom = kineticDegreesOfFreedom(*system);
  summary.trajectory = options.output;
  summary.log = logFinal;

  std::int64_t framesWritten = 0;
  if (options.resume) {
    const CheckpointHeader header = readCheckpoint(checkpoint, context);
    if (header.config != config) {
      throw Error(checkpoint.string(), "checkpoint was written with a different configuration: " +
                                           header.config.dump() + " (now: " + config.dump() + ")");
    }
    if (!fs::exists(trajectoryPart) || fs::file_size(trajectoryPart) < header.trajectoryBytes ||
        !fs::exists(logPart) || fs::file_size(logPart) < header.logBytes) {
      throw Error(trajectoryPart.string(), "partial outputs are missing or shorter than the checkpoint says");
    }
    // Drop whatever was written after the checkpoint: it will be redone.
    fs::resize_file(trajectoryPart, header.trajectoryBytes);
    fs::resize_file(logPart, header.logBytes);
    framesWritten = header.framesWritten;
    summary.resumed = true;
    summary.resumedFromFrame = framesWritten;
  } else {
    std::vector<OpenMM::Vec3> positions(structure.topology.size());
    for (std::size_t i = 0; i < positions.size(); ++i) {
      positions[i] = OpenMM::Vec3(structure.positionsNm(i, 0), structure.positionsNm(i, 1),
                                  structure.positionsNm(i, 2));
    }
    context.setPositions(positions);
    context.applyConstraints(1e-6);
    if (options.minimize) OpenMM::LocalEnergyMinimizer::minimize(context, 10.0, 0);
    context.setVelocitiesToTemperature(options.temperatureK, static_cast<int>(options.seed % 2147483647u));
    const auto equilibrationSteps = static_cast<int>(std::llround(options.equilibrationPs / dtPs));
    if (equilibrationSteps > 0) integrator.step(equilibrationSteps);
    // Production starts at step 0, t = 0.
    context.setTime(0.0);
    context.setStepCount(0);
    std::ofstream(logPart) << logHeader();
    { TrajectoryWriter create(trajectoryPart, structure.topology); }
    writeCheckpoint(checkpoint, {0, fs::file_size(trajectoryPart), fs::file_size(logPart), config}, context);
  }

  const std::int64_t stepsPerFrame = options.stepsPerFrame();
  const std::int64_t frameCount = options.frameCount();
  const int dof = summary.degreesOfFreedom;
  const auto start = Clock::now();
  auto lastReport = start;
  const std::int64_t firstFrame = framesWritten;
  auto writer = std::make_unique<TrajectoryWriter>(trajectoryPart, structure.topology,
                                                   TrajectoryWriter::Mode::Append);
  std::ofstream log(logPart, std::ios::app);
  Frame frame;
  frame.positionsNm.resize(system->getNumParticles(), 3);
  while (framesWritten < frameCount) {
    integrator.step(static_cast<int>(stepsPerFrame));
    const OpenMM::State state = context.getState(OpenMM::State::Positions | OpenMM::State::Energy);
    const std::vector<OpenMM::Vec3>& x = state.getPositions();
    for (std::size_t i = 0; i < x.size(); ++i)
      for (int d = 0; d < 3; ++d) frame.positionsNm(i, d) = x[i][d];
    frame.index = framesWritten;
    frame.step = (framesWritten + 1) * stepsPerFrame;
    frame.timePs = static_cast<double>(frame.step) * dtPs;
    frame.boxNm = enclosingBoxNm(frame.positionsNm, 2.0);
    writer->write(frame);
    const double potential = state.getPotentialEnergy();
    const double kinetic = state.getKineticEnergy();
    const double temperature = 2.0 * kinetic / (dof * kMolarGasConstantKjPerMolK);
    if (!std::isfinite(potential) || !std::isfinite(kinetic)) {
      throw Error(options.output.string(), "simulation became unstable (non-finite energy) at step " +
                                               std::to_string(frame.step));
    }
    char row[256];
    std::snprintf(row, sizeof row, "%lld,%lld,%.4f,%.6f,%.6f,%.6f,%.4f\n",
                  static_cast<long long>(framesWritten), static_cast<long long>(frame.step), frame.timePs,
                  potential, kinetic, potential + kinetic, temperature);
    log << row;
    ++framesWritten;

    const bool done = framesWritten == frameCount;
    if (framesWritten % options.checkpointIntervalFrames == 0 || done) {
      // Closing flushes the trajectory so its size marks a frame boundary.
      writer->close();
      log.flush();
      writeCheckpoint(checkpoint, {framesWritten, fs::file_size(trajectoryPart), fs::file_size(logPart), config},
                      context);
      if (!done) {
        writer = std::make_unique<TrajectoryWriter>(trajectoryPart, structure.topology,
                                                    TrajectoryWriter::Mode::Append);
      }
    }
    const auto now = Clock::now();
    if (onProgress && (std::chrono::duration<double>(now - lastReport).count() > 1.0 || done)) {
      lastReport = now;
      const double wall = std::chrono::duration<double>(now - start).count();
      const double ns = static_cast<double>((framesWritten - firstFrame) * stepsPerFrame) * dtPs / 1000.0;
      onProgress({framesWritten, frameCount, wall > 0 ? ns / wall * 86400.0 : 0.0, temperature, potential});
    }
  }
  log.close();
  writer.reset();

  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const double nsThisRun = static_cast<double>((frameCount - firstFrame) * stepsPerFrame) * dtPs / 1000.0;
  summary.frames = frameCount;
  summary.simulatedNs = static_cast<double>(frameCount * stepsPerFrame) * dtPs / 1000.0;
  summary.wallSeconds = wall;
  summary.nsPerDay = wall > 0 ? nsThisRun / wall * 86400.0 : 0.0;
  summarizeLog(logPart, summary);

  // Success: move the outputs into place, drop the checkpoint.
  fs::rename(trajectoryPart, options.output);
  fs::rename(logPart, logFinal);
  fs::remove(checkpoint);
  return summary;
}

}  // namespace activediff::plugin
