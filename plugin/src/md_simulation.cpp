#include "activediff/plugin/md_simulation.h"

#include <OpenMM.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "activediff/featurize/atomic_output.h"
#include "activediff/featurize/error.h"
#include "activediff/featurize/output_policy.h"
#include "activediff/featurize/random_seed.h"
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

// Seeds derived from the user's seed, one per purpose, never 0 (which OpenMM
// takes as "pick a seed at random").
int derivedSeed(std::int64_t seed, std::uint64_t purpose) {
  std::uint64_t z = static_cast<std::uint64_t>(seed) * 0x9E3779B97F4A7C15ull + purpose + 0x632BE59BD9B4E019ull;
  // splitmix64 finalizer
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<int>(1 + z % 2147483646ull);
}
constexpr std::uint64_t kVelocitySeed = 0xFFFFFFFF00000001ull;
constexpr std::uint64_t kEquilibrationSeed = 0xFFFFFFFF00000002ull;
// Segment k (frames [k*interval, (k+1)*interval)) uses purpose k.

std::uint64_t fnv1a64(const std::string& bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::string hex64(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

constexpr const char* kCheckpointFormat = "activediff simulate checkpoint";
constexpr int kCheckpointVersion = 2;

// The checkpoint file:
//   line 1: {"format", "version", "body_bytes", "checksum": FNV-1a 64 of the body}
//   body:   one line of JSON bookkeeping, then OpenMM's own checkpoint bytes
//           (positions, velocities, step; the RNG state only on some platforms).
// The checksum covers the bookkeeping too, so no flipped byte anywhere after
// line 1 is accepted; a flip inside line 1 breaks its JSON or its checksum.
struct CheckpointHeader {
  std::int64_t framesWritten = 0;
  std::uintmax_t trajectoryBytes = 0;
  std::uintmax_t logBytes = 0;
  std::string platform;  // OpenMM checkpoints load only on the platform that wrote them
  nlohmann::json config;
};

struct Checkpoint {
  CheckpointHeader header;
  std::string openmmState;
};

void writeCheckpoint(const fs::path& file, const CheckpointHeader& header, OpenMM::Context& context) {
  std::ostringstream state(std::ios::binary);
  context.createCheckpoint(state);
  const nlohmann::json bookkeeping = {{"frames_written", header.framesWritten},
                                      {"trajectory_bytes", header.trajectoryBytes},
                                      {"log_bytes", header.logBytes},
                                      {"platform", header.platform},
                                      {"config", header.config}};
  const std::string body = bookkeeping.dump() + "\n" + state.str();
  const nlohmann::json first = {{"format", kCheckpointFormat},
                                {"version", kCheckpointVersion},
                                {"body_bytes", body.size()},
                                {"checksum", "fnv1a64:" + hex64(fnv1a64(body))}};
  AtomicOutput out(file);
  {
    std::ofstream stream(out.temporary(), std::ios::binary);
    stream << first.dump() << "\n" << body;
    stream.flush();
    if (!stream) throw Error(file.string(), "cannot write checkpoint");
  }
  out.commit();
}

// Reads and verifies the whole file before anything of it is used.
Checkpoint readCheckpoint(const fs::path& file) {
  std::ifstream stream(file, std::ios::binary);
  if (!stream) throw Error(file.string(), "no checkpoint to resume from (missing or unreadable)");
  std::ostringstream all;
  all << stream.rdbuf();
  const std::string bytes = all.str();
  const std::size_t newline = bytes.find('\n');
  std::string format, stored;
  std::int64_t version = 0;
  std::uintmax_t expectedBytes = 0;
  try {
    const nlohmann::json first = nlohmann::json::parse(bytes.substr(0, newline));
    format = first.value("format", "");
    if (format == kCheckpointFormat) {
      version = first.at("version").get<std::int64_t>();
      expectedBytes = first.at("body_bytes").get<std::uintmax_t>();
      stored = first.at("checksum").get<std::string>();
    }
  } catch (const std::exception&) {
    throw Error(file.string(), "checkpoint is corrupt: its first line is not the checkpoint header");
  }
  if (format != kCheckpointFormat) {
    throw Error(file.string(), "not an activediff simulate checkpoint, or one written by an older version "
                               "(no format tag); rerun without --resume");
  }
  if (version != kCheckpointVersion) {
    throw Error(file.string(), "unsupported checkpoint version " + std::to_string(version));
  }
  const std::string body = newline == std::string::npos ? std::string() : bytes.substr(newline + 1);
  if (body.size() != expectedBytes) {
    throw Error(file.string(), "checkpoint is corrupt: " + std::to_string(body.size()) +
                                   " bytes after the header, the header says " + std::to_string(expectedBytes) +
                                   " (truncated or extended)");
  }
  const std::string computed = "fnv1a64:" + hex64(fnv1a64(body));
  if (stored != computed) {
    throw Error(file.string(),
                "checkpoint is corrupt: checksum mismatch (header " + stored + ", content " + computed + ")");
  }
  Checkpoint checkpoint;
  const std::size_t bodyNewline = body.find('\n');
  try {
    const nlohmann::json json = nlohmann::json::parse(body.substr(0, bodyNewline));
    checkpoint.header.framesWritten = json.at("frames_written").get<std::int64_t>();
    checkpoint.header.trajectoryBytes = json.at("trajectory_bytes").get<std::uintmax_t>();
    checkpoint.header.logBytes = json.at("log_bytes").get<std::uintmax_t>();
    checkpoint.header.platform = json.at("platform").get<std::string>();
    checkpoint.header.config = json.at("config");
  } catch (const std::exception& e) {
    throw Error(file.string(), std::string("corrupt checkpoint header: ") + e.what());
  }
  checkpoint.openmmState = bodyNewline == std::string::npos ? std::string() : body.substr(bodyNewline + 1);
  return checkpoint;
}

// Equal, with the file names compared as paths: ./a.xtc and /abs/a.xtc are one file.
bool sameConfig(nlohmann::json before, nlohmann::json now) {
  for (const char* key : {"system", "structure", "output"}) {
    for (nlohmann::json* config : {&before, &now}) {
      if (config->contains(key) && (*config)[key].is_string()) {
        std::error_code error;
        const fs::path canonical = fs::weakly_canonical(fs::absolute((*config)[key].get<std::string>()), error);
        if (!error) (*config)[key] = canonical.string();
      }
    }
  }
  return before == now;
}

// "seed 11 (now 12), length_ns 0.04 (now 0.05)": the keys that differ.
std::string configDifferences(const nlohmann::json& before, const nlohmann::json& now) {
  std::string text;
  auto add = [&](const std::string& key, const nlohmann::json* a, const nlohmann::json* b) {
    text += (text.empty() ? "" : ", ") + key + " " + (a ? a->dump() : "(absent)") + " (now " +
            (b ? b->dump() : "(absent)") + ")";
  };
  for (auto it = before.begin(); it != before.end(); ++it) {
    const auto other = now.find(it.key());
    if (other == now.end()) add(it.key(), &it.value(), nullptr);
    else if (*other != it.value()) add(it.key(), &it.value(), &*other);
  }
  for (auto it = now.begin(); it != now.end(); ++it) {
    if (before.find(it.key()) == before.end()) add(it.key(), nullptr, &it.value());
  }
  return text;
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
  checkSeed(seed);
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

MdSummary runMd(const MdOptions& requested, const std::function<void(const MdProgress&)>& onProgress) {
  requested.validate();
  MdOptions options = requested;
  // The partial trajectory keeps its extension: libgromacs picks the format by it.
  fs::path trajectoryPart = options.output;
  trajectoryPart.replace_extension(".part" + options.output.extension().string());
  const fs::path logFinal = mdLogPath(options.output);
  const fs::path logPart = withSuffix(logFinal, ".part");
  const fs::path checkpoint = mdCheckpointPath(options.output);

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
  // The output policy: the final outputs are claimed now (a forbidden path
  // is refused before any MD; an existing output is backed up when the run
  // ends), and a killed run's working files in the way of a new run are
  // backed up, never truncated (continue them with --resume instead).
  OutputClaim trajectoryClaim(options.output, OutputShape::File);
  OutputClaim logClaim(logFinal, OutputShape::File);
  if (!options.resume) {
    for (const fs::path& working : {trajectoryPart, logPart, checkpoint}) backUpExisting(working);
  }

  Checkpoint saved;
  if (options.resume) {
    saved = readCheckpoint(checkpoint);
    const CheckpointHeader& header = saved.header;
    if (header.platform != platform.getName()) {
      throw Error(checkpoint.string(),
                  "checkpoint was written on the OpenMM " + header.platform +
                      " platform and can only be resumed there (--platform " + header.platform + "), not on " +
                      platform.getName());
    }
    // --seed -1 on resume continues with the seed the run started with.
    if (options.seed == -1) options.seed = header.config.value("seed", std::int64_t{-1});
  } else {
    options.seed = resolveSeed(options.seed);
  }
  const nlohmann::json config = options.toJson();
  if (options.resume && !sameConfig(saved.header.config, config)) {
    throw Error(checkpoint.string(), "checkpoint was written with a different configuration: " +
                                             configDifferences(saved.header.config, config));
  }

  // OpenMM 7.7's CPU platform keeps its Langevin random state outside the
  // checkpoint, so a resumed run would draw different noise. Instead the run
  // is cut into segments at the checkpoints, and each segment starts from a
  // fresh Context seeded from (seed, segment): the uninterrupted run rebuilds
  // its Context there (reinitialize(true) goes through a checkpoint of the
  // state), the resumed one builds it from the checkpoint file, and both then
  // step from identical states with identical random streams. On platforms
  // whose checkpoints do carry the random state (Reference) the reseed is
  // overridden by it, and the resume is exact just the same. (Exact as far as
  // two uninterrupted runs are equal: with more than one CPU thread, OpenMM
  // 7.7's force sums differ in the last bits from run to run.)
  const std::int64_t interval = options.checkpointIntervalFrames;
  const double dtPs = options.timestepFs / 1000.0;
  OpenMM::LangevinMiddleIntegrator integrator(options.temperatureK, options.frictionPerPs, dtPs);
  std::int64_t framesWritten = options.resume ? saved.header.framesWritten : 0;
  integrator.setRandomNumberSeed(options.resume ? derivedSeed(options.seed, framesWritten / interval)
                                                : derivedSeed(options.seed, kEquilibrationSeed));
  OpenMM::Context context(*system, integrator, platform, platformProperties(options.platform, options.threads));

  MdSummary summary;
  summary.platform = platform.getName();
  summary.seed = options.seed;
  summary.degreesOfFreedom = kineticDegreesOfFreedom(*system);
  summary.trajectory = options.output;
  summary.log = logFinal;

  auto checkpointHere = [&] {
    return CheckpointHeader{framesWritten, fs::file_size(trajectoryPart), fs::file_size(logPart),
                            summary.platform, config};
  };
  auto startSegment = [&] {
    integrator.setRandomNumberSeed(derivedSeed(options.seed, framesWritten / interval));
    context.reinitialize(true);
  };

  if (options.resume) {
    const CheckpointHeader& header = saved.header;
    if (!fs::exists(trajectoryPart) || fs::file_size(trajectoryPart) < header.trajectoryBytes ||
        !fs::exists(logPart) || fs::file_size(logPart) < header.logBytes) {
      throw Error(trajectoryPart.string(), "partial outputs are missing or shorter than the checkpoint says");
    }
    try {
      std::istringstream state(saved.openmmState, std::ios::binary);
      context.loadCheckpoint(state);
    } catch (const std::exception& e) {
      throw Error(checkpoint.string(), std::string("corrupt checkpoint state: ") + e.what());
    }
    // Drop whatever was written after the checkpoint: it will be redone.
    fs::resize_file(trajectoryPart, header.trajectoryBytes);
    fs::resize_file(logPart, header.logBytes);
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
    context.setVelocitiesToTemperature(options.temperatureK, derivedSeed(options.seed, kVelocitySeed));
    const auto equilibrationSteps = static_cast<int>(std::llround(options.equilibrationPs / dtPs));
    if (equilibrationSteps > 0) integrator.step(equilibrationSteps);
    // Production starts at step 0, t = 0.
    context.setTime(0.0);
    context.setStepCount(0);
    std::ofstream(logPart) << logHeader();
    { TrajectoryWriter create(trajectoryPart, structure.topology); }
    writeCheckpoint(checkpoint, checkpointHere(), context);
    startSegment();
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
    if (framesWritten % interval == 0 || done) {
      // Closing flushes the trajectory so its size marks a frame boundary.
      writer->close();
      log.flush();
      writeCheckpoint(checkpoint, checkpointHere(), context);
      if (!done) {
        startSegment();
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
  trajectoryClaim.commitFrom(trajectoryPart);
  logClaim.commitFrom(logPart);
  fs::remove(checkpoint);  // the run's own working file
  return summary;
}

}  // namespace activediff::plugin
