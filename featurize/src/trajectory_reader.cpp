// TrajectoryReader: libgromacs decodes, activediff guards.
//
// libgromacs 2022 is unsafe on corrupt trajectories: it trusts sizes read
// from the file (segfaults), calls exit() through gmx_fatal, or warns and
// stops on truncation as if the file had ended. So
//  (a) XTC frame headers are walked by activediff itself with bounds checks
//      (xtc_headers.h), in lock-step with decoding: truncation and header
//      corruption are reported with the exact frame;
//  (b) libgromacs runs in a forked child process that streams decoded frames
//      to this process over a pipe; a crash or exit() there becomes an
//      activediff::Error here, with libgromacs's own message attached;
//  (c) every decoded frame is checked for plausibility (finite, inside the
//      XTC header's integer bounds, agreeing with its header, constant atom
//      count). Time running backwards or standing still is not corruption
//      (`cat a.xtc b.xtc`, MDTraj's join, files whose times are all 0, which
//      gmx tools and MDTraj read): it is reported once per file as a warning.
// Memory is flat in trajectory length: one frame is in flight at a time.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "activediff/featurize/error.h"
#include "activediff/featurize/structure.h"
#include "dcd.h"
#include "frame_selection.h"
#include "gromacs/fileio/oenv.h"
#include "gromacs/fileio/trxio.h"
#include "gromacs/trajectory/trajectoryframe.h"
#include "gromacs_log.h"
#include "trr_headers.h"
#include "xtc_headers.h"

namespace activediff {

namespace fs = std::filesystem;

namespace {

// One record per frame of the file, selected or not, so that the parent can
// keep its header walk and its checks in step with the child.
struct FrameRecord {
  std::int64_t index;  // kEndOfFile or kNoFrames mark the end of the stream
  std::int64_t step;
  double timePs;
  float boxNm[9];
  std::int32_t natoms;
  std::int32_t hasPositions;  // 0 for frames skipped by begin/end/stride
};
// Written by the child before it asks libgromacs for a frame, read by the
// parent if the child dies: names the frame that killed it, even though the
// frames before it may still sit in the child's pipe buffer (the pipe is
// fully buffered: one write per frame cost more than the decoding).
struct DecoderProgress {
  std::atomic<std::int64_t> decodingFrame{0};
};
constexpr std::int64_t kEndOfFile = -1;
constexpr std::int64_t kNoFrames = -2;
constexpr std::int64_t kEndByTime = -3;  // a frame past Options::endPs: reading stops there

detail::TimeSelection timeSelectionOf(const TrajectoryReader::Options& o) {
  return detail::TimeSelection(o.beginPs, o.endPs, o.dtPs);
}

std::string lowerExtension(const fs::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

bool selected(std::int64_t index, const TrajectoryReader::Options& o) {
  return index >= o.begin && (o.end < 0 || index < o.end) && (index - o.begin) % o.stride == 0;
}

std::string fmtPs(double timePs) {
  char text[64];
  std::snprintf(text, sizeof text, "%g", timePs);
  return text;
}

bool writeAll(std::FILE* out, const void* data, std::size_t bytes) {
  return std::fwrite(data, 1, bytes, out) == bytes;
}

// Runs in the forked child: decode with libgromacs, stream records, _exit.
[[noreturn]] void decodeInChild(const fs::path& file, const TrajectoryReader::Options& options, int writeFd,
                                DecoderProgress* progress, std::int64_t skipBelow) {
  std::FILE* out = ::fdopen(writeFd, "wb");
  if (out == nullptr) ::_exit(3);
  static char buffer[1 << 16];
  std::setvbuf(out, buffer, _IOFBF, sizeof buffer);
  gmx_output_env_t* oenv = nullptr;
  output_env_init_default(&oenv);
  t_trxstatus* status = nullptr;
  t_trxframe fr;
  clear_trxframe(&fr, TRUE);
  progress->decodingFrame.store(0);
  bool ok = read_first_frame(oenv, &status, file.c_str(), &fr, TRX_NEED_X);
  if (!ok) {
    FrameRecord end{};
    end.index = kNoFrames;
    writeAll(out, &end, sizeof end);
    std::fflush(out);
    ::_exit(0);
  }
  std::vector<float> xyz;
  detail::TimeSelection timeSelection = timeSelectionOf(options);
  // Test hook: the decoder crashes like libgromacs on a corrupt frame
  // (SIGSEGV) when it reaches this frame, to test what the parent reports.
  const char* crashAt = std::getenv("ACTIVEDIFF_TEST_DECODER_CRASH_AT_FRAME");
  const std::int64_t crashFrame = crashAt != nullptr ? std::atoll(crashAt) : -1;
  for (std::int64_t index = 0; ok; ++index) {
    if (index == crashFrame) ::raise(SIGSEGV);
    if (options.end >= 0 && index >= options.end) break;
    const auto byTime = timeSelection.decide(fr.bTime ? fr.time : 0.0);
    if (byTime == detail::TimeSelection::Decision::Stop) {
      FrameRecord stop{};
      stop.index = kEndByTime;
      writeAll(out, &stop, sizeof stop);
      std::fflush(out);
      ::_exit(0);
    }
    if (index < skipBelow) {  // a restarted decoder: the parent has these frames already
      progress->decodingFrame.store(index + 1);
      ok = read_next_frame(oenv, status, &fr);
      continue;
    }
    FrameRecord record{};
    record.index = index;
    record.step = fr.bStep ? fr.step : 0;
    record.timePs = fr.bTime ? fr.time : 0.0;
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) record.boxNm[3 * r + c] = fr.bBox ? fr.box[r][c] : 0.0f;
    record.natoms = fr.natoms;
    record.hasPositions = selected(index, options) && byTime == detail::TimeSelection::Decision::Take ? 1 : 0;
    if (!writeAll(out, &record, sizeof record)) ::_exit(4);
    if (record.hasPositions) {
      xyz.resize(3 * static_cast<std::size_t>(fr.natoms));
      for (int i = 0; i < fr.natoms; ++i)
        for (int d = 0; d < 3; ++d) xyz[3 * i + d] = static_cast<float>(fr.x[i][d]);
      if (!writeAll(out, xyz.data(), xyz.size() * sizeof(float))) ::_exit(4);
    }
    progress->decodingFrame.store(index + 1);
    // Never ask for a frame past the selection: the file may be cut inside it.
    if (options.end >= 0 && index + 1 >= options.end) break;
    ok = read_next_frame(oenv, status, &fr);
  }
  FrameRecord end{};
  end.index = kEndOfFile;
  writeAll(out, &end, sizeof end);
  std::fflush(out);
  // No close_trx/output_env_done: _exit skips everything the parent owns.
  ::_exit(0);
}

// Walks the headers of frames [0, end) (all frames when end < 0): frames
// past the selection are never read, so a file cut inside a later frame (a
// run still being written, a copy that broke off) is fine with --end.
// A structural problem after frame 0 is not thrown here (damaged = true, the
// sound frames before it counted): the lock-step walk throws it when reading
// reaches it, so that corrupt coordinates in an earlier frame are reported
// first and the error names the first damaged frame (issue 9 fuzzing).
// With a time selection the walk also stops at the first frame past -e (as
// reading does), and counts the frames the selection takes (selectedCount).
template <class Walker, class Header>
std::int64_t countFrames(const fs::path& file, const TrajectoryReader::Options& options, bool& damaged,
                         std::int64_t& selectedCount) {
  const std::int64_t end = options.end;
  detail::TimeSelection timeSelection = timeSelectionOf(options);
  Walker walker(file);
  Header header;
  std::int64_t count = 0;
  selectedCount = 0;
  try {
    while ((end < 0 || count < end) && walker.next(header)) {
      const auto byTime = timeSelection.decide(header.timePs);
      if (byTime == detail::TimeSelection::Decision::Stop) break;
      if (byTime == detail::TimeSelection::Decision::Take && selected(count, options)) ++selectedCount;
      ++count;
    }
  } catch (const Error&) {
    if (count == 0) throw;
    damaged = true;
  }
  return count;
}

}  // namespace

struct TrajectoryReader::Impl {
  fs::path file;
  Options options;
  bool isXtc = false;
  bool hasTime = false;  // formats that always store a time (xtc, trr)
  std::unique_ptr<detail::XtcHeaderWalker> xtcWalker;
  std::unique_ptr<detail::TrrHeaderWalker> trrWalker;
  std::unique_ptr<detail::DcdReader> dcd;  // DCD: read here, no decoder process
  detail::XtcFrameHeader currentXtc;  // header of the frame being checked
  pid_t child = -1;
  std::FILE* pipe = nullptr;
  std::FILE* log = nullptr;
  DecoderProgress* progress = nullptr;  // shared with the child
  std::int64_t expectedIndex = 0;  // next frame index the child must send
  std::int64_t framesInFile = -1;
  int natoms = -1;
  double previousTimePs = 0.0;
  TrajectoryReader::TimeWarning timeWarning;
  bool finished = false;
  bool stoppedByTime = false;       // the decoder met a frame past Options::endPs
  std::int64_t selectedInWalk = -1;  // frames the selection takes, from the header walk
  detail::TimeSelection dcdTimeSelection;  // DCD is read here: the time selection's state
  std::vector<float> xyz;

  [[noreturn]] void fail(const std::string& problem) { throw Error(file.string(), problem); }
  [[noreturn]] void failFrame(std::int64_t index, const std::string& problem) {
    fail("frame " + std::to_string(index) + ": " + problem);
  }
  void stopChild() {
    if (pipe != nullptr) {
      std::fclose(pipe);
      pipe = nullptr;
    }
    if (child > 0) {
      ::kill(child, SIGKILL);
      int status = 0;
      ::waitpid(child, &status, 0);
      child = -1;
    }
  }
  // The child stopped sending before the end record: say why.
  [[noreturn]] void childDied();
  // A decoder that crashed took the frames still in its stdio buffer with
  // it, and one of those may be the first damaged frame. So once, a new
  // decoder is started that stops before the frame that killed the first;
  // its frames are checked, and the crash is reported only when they pass.
  TrajectoryReader::Options childOptions;
  std::string pendingCrash;            // the first decoder's death, reported at crashFrame
  std::int64_t crashFrame = -1;
  void startChild(std::int64_t skipBelow);
  bool restartAfterCrash();
  std::string deathMessage(std::int64_t& frame);  // reaps the decoder; frame: where it died
  bool readRecord(FrameRecord& record);
  bool nextDcd(Frame& frame);
  void checkAgainstHeader(const FrameRecord& record);
  void checkPositions(const FrameRecord& record);
  void noteTimeNotIncreasing(std::int64_t index, double timePs);
};

void TrajectoryReader::Impl::noteTimeNotIncreasing(std::int64_t index, double timePs) {
  if (timeWarning.frames++ > 0) return;  // one line per file, however many frames
  timeWarning.firstFrame = index;
  timeWarning.timePs = timePs;
  timeWarning.previousTimePs = previousTimePs;
  std::string message = file.string() + ": frame " + std::to_string(index) + ": time " + fmtPs(timePs) +
                        " ps does not increase (previous frame " + fmtPs(previousTimePs) +
                        " ps); read as a concatenated trajectory or one without times (later such frames "
                        "of this file are not reported)";
  if (options.warn) {
    options.warn(message);
  } else {
    std::fprintf(stderr, "warning: %s\n", message.c_str());
  }
}

void TrajectoryReader::Impl::childDied() {
  std::int64_t frame = 0;
  std::string message = deathMessage(frame);
  if (crashFrame >= 0 && crashFrame < frame) {  // the first decoder died earlier
    frame = crashFrame;
    message = pendingCrash;
  }
  failFrame(frame, message);
}

bool TrajectoryReader::Impl::restartAfterCrash() {
  if (crashFrame >= 0) return false;  // once
  std::int64_t frame = 0;
  const std::string message = deathMessage(frame);  // reaps the decoder
  if (frame <= expectedIndex) failFrame(frame, message);  // nothing was lost before the crash
  crashFrame = frame;
  pendingCrash = message;
  childOptions.end = childOptions.end >= 0 ? std::min(childOptions.end, frame) : frame;
  startChild(expectedIndex);
  return true;
}

std::string TrajectoryReader::Impl::deathMessage(std::int64_t& frame) {
  if (pipe != nullptr) {
    std::fclose(pipe);
    pipe = nullptr;
  }
  int status = 0;
  if (child > 0) ::waitpid(child, &status, 0);
  child = -1;
  frame = progress != nullptr ? progress->decodingFrame.load() : expectedIndex;
  // (The header walk in the constructor already passed, so the damage is in
  // the compressed data or in values our checks cannot see.)
  std::string how;
  if (WIFSIGNALED(status)) {
    how = "libgromacs crashed (signal " + std::to_string(WTERMSIG(status)) + ", " + strsignal(WTERMSIG(status)) + ")";
  } else if (WIFEXITED(status)) {
    how = "libgromacs aborted (exit code " + std::to_string(WEXITSTATUS(status)) + ")";
  } else {
    how = "the decoder stopped unexpectedly";
  }
  const std::string message = detail::gromacsMessage(log);
  return "corrupt or unreadable trajectory: " + how + " while decoding this frame" +
         (message.empty() ? "" : "; libgromacs said: " + message);
}

bool TrajectoryReader::Impl::readRecord(FrameRecord& record) {
  while (std::fread(&record, sizeof record, 1, pipe) != 1) {
    if (!restartAfterCrash()) childDied();
  }
  if (record.index == kNoFrames) {
    fail(std::string("no frames could be read") +
         (expectedIndex == 0 ? " (empty or not a trajectory)" : ""));
  }
  if (record.index == kEndByTime) {
    // Past -e: a crash of the first decoder further on does not matter, as
    // a cut frame past --last-frame does not.
    stoppedByTime = true;
    return false;
  }
  if (record.index == kEndOfFile) {
    // The restarted decoder stopped before the frame that killed the first.
    if (!pendingCrash.empty()) failFrame(crashFrame, pendingCrash);
    return false;
  }
  if (record.index != expectedIndex) failFrame(expectedIndex, "decoder out of step (internal error)");
  return true;
}

void TrajectoryReader::Impl::checkAgainstHeader(const FrameRecord& record) {
  const std::int64_t index = record.index;
  if (record.natoms <= 0) failFrame(index, "frame has no atoms");
  if (natoms < 0) {
    if (options.expectedAtoms >= 0 && record.natoms != options.expectedAtoms) {
      failFrame(index, "trajectory has " + std::to_string(record.natoms) + " atoms but the topology has " +
                           std::to_string(options.expectedAtoms));
    }
    natoms = record.natoms;
  } else if (record.natoms != natoms) {
    failFrame(index, "atom count changes from " + std::to_string(natoms) + " to " + std::to_string(record.natoms));
  }
  if (!std::isfinite(record.timePs)) failFrame(index, "time is not finite");
  if (index > 0) {
    const bool backwards = hasTime ? record.timePs <= previousTimePs : record.timePs < previousTimePs;
    if (backwards) noteTimeNotIncreasing(index, record.timePs);
  }
  previousTimePs = record.timePs;
  for (float b : record.boxNm)
    if (!std::isfinite(b)) failFrame(index, "box is not finite");
  // A box is all zero (no periodic boundaries) or GROMACS's reduced form:
  // rows are box vectors, positive diagonal, zero upper triangle. Anything
  // else (say a diagonal element zeroed by damage) is corrupt: other readers
  // (MDTraj) turn it into NaN angles.
  const float* box = record.boxNm;
  bool allZero = true;
  for (int k = 0; k < 9; ++k) allZero = allZero && box[k] == 0.0f;
  if (!allZero) {
    const float largest = std::max({box[0], box[4], box[8]});
    const bool reduced = box[0] > 0.0f && box[4] > 0.0f && box[8] > 0.0f && std::abs(box[1]) <= 1e-4f * largest &&
                         std::abs(box[2]) <= 1e-4f * largest && std::abs(box[5]) <= 1e-4f * largest;
    if (!reduced) failFrame(index, "box is degenerate (not zero and not a triclinic box): corrupt frame");
  }

  if (xtcWalker) {
    detail::XtcFrameHeader header;
    if (!xtcWalker->next(header)) failFrame(index, "libgromacs decoded a frame past the end of the file");
    bool agrees = header.natoms == record.natoms && header.step == record.step &&
                  header.timePs == static_cast<float>(record.timePs);
    for (int k = 0; k < 9; ++k) agrees = agrees && header.boxNm[k] == record.boxNm[k];
    if (!agrees) failFrame(index, "decoded frame disagrees with its header (corrupt file)");
    currentXtc = header;
  }
  if (trrWalker) {
    detail::TrrFrameHeader header;
    if (!trrWalker->next(header)) failFrame(index, "libgromacs decoded a frame past the end of the file");
    if (header.natoms != record.natoms || header.step != record.step) {
      failFrame(index, "decoded frame disagrees with its header (corrupt file)");
    }
  }
}

void TrajectoryReader::Impl::checkPositions(const FrameRecord& record) {
  const std::int64_t index = record.index;
  for (std::size_t k = 0; k < xyz.size(); ++k) {
    if (!std::isfinite(xyz[k])) failFrame(index, "atom " + std::to_string(k / 3 + 1) + " has a non-finite coordinate");
  }
  if (xtcWalker && currentXtc.compressed) {
    // Compressed coordinates are integers x * precision inside [minint, maxint]
    // per dimension; a decoded value outside means the payload is corrupt.
    const double precision = currentXtc.precision;
    for (std::size_t k = 0; k < xyz.size(); ++k) {
      const int d = static_cast<int>(k % 3);
      const double scaled = std::nearbyint(double(xyz[k]) * precision);
      if (scaled < currentXtc.minint[d] || scaled > currentXtc.maxint[d]) {
        failFrame(index, "atom " + std::to_string(k / 3 + 1) +
                             " lies outside the coordinate bounds in the frame header (corrupt compressed data)");
      }
    }
  }
}

TrajectoryReader::TrajectoryReader(const fs::path& file, Options options) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.file = file;
  m.options = options;
  if (options.begin < 0) m.fail("--first-frame must be >= 0");
  if (options.stride < 1) m.fail("--stride must be >= 1");
  if (options.end >= 0 && options.end < options.begin) m.fail("--last-frame must not be before --first-frame");
  if (!std::isnan(options.dtPs) && !(options.dtPs > 0.0)) m.fail("-dt must be > 0 ps");
  if (!std::isnan(options.beginPs) && !std::isnan(options.endPs) && options.endPs < options.beginPs)
    m.fail("-e must not be before -b");
  m.dcdTimeSelection = timeSelectionOf(options);
  const std::string ext = lowerExtension(file);
  if (ext != ".xtc" && ext != ".trr" && ext != ".gro" && ext != ".pdb" && ext != ".dcd") {
    m.fail("unsupported trajectory format '" + ext + "' (use .xtc, .trr, .dcd, .gro or .pdb)");
  }
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) m.fail("cannot open (missing or not a regular file)");
  if (fs::file_size(file, ec) == 0) m.fail("file is empty (no frames)");
  m.isXtc = ext == ".xtc";
  m.hasTime = ext == ".xtc" || ext == ".trr";
  if (ext == ".dcd") {
    // Read by activediff itself (dcd.h): fixed-size frames, so the header
    // and the file size give the frame count; a cut last frame is reported
    // when reading reaches it.
    m.dcd = std::make_unique<detail::DcdReader>(file);
    const detail::DcdHeader& header = m.dcd->header();
    const bool damaged = header.trailingBytes != 0 && (options.end < 0 || options.end > header.completeFrames);
    m.framesInFile = damaged ? -1 : options.end >= 0 ? std::min(options.end, header.completeFrames) : header.completeFrames;
    if (!m.dcd->headerWarning().empty()) {
      if (options.warn) {
        options.warn(m.dcd->headerWarning());
      } else {
        std::fprintf(stderr, "warning: %s\n", m.dcd->headerWarning().c_str());
      }
    }
    return;
  }
  // Walk the file's structure before decoding anything (frame counts for
  // progress, and libgromacs must not meet a bad header).
  bool damaged = false;
  if (m.isXtc) {
    m.framesInFile = countFrames<detail::XtcHeaderWalker, detail::XtcFrameHeader>(file, options, damaged, m.selectedInWalk);
    m.xtcWalker = std::make_unique<detail::XtcHeaderWalker>(file);
  } else if (ext == ".trr") {
    m.framesInFile = countFrames<detail::TrrHeaderWalker, detail::TrrFrameHeader>(file, options, damaged, m.selectedInWalk);
    m.trrWalker = std::make_unique<detail::TrrHeaderWalker>(file);
  }
  // libgromacs never sees a frame whose header failed the walk (it trusts the
  // sizes there); the frames before it are decoded and checked first.
  m.childOptions = options;
  if (damaged) {
    m.childOptions.end = m.framesInFile;
    m.framesInFile = -1;  // unknown: the file is damaged there
    m.selectedInWalk = -1;
  }

  void* shared = ::mmap(nullptr, sizeof(DecoderProgress), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) m.fail("cannot create shared memory for the decoder");
  m.progress = new (shared) DecoderProgress();
  m.startChild(0);
}

void TrajectoryReader::Impl::startChild(std::int64_t skipBelow) {
  int fds[2];
  if (::pipe(fds) != 0) fail("cannot create a pipe for the decoder");
  if (log != nullptr) std::fclose(log);
  log = std::tmpfile();
  progress->decodingFrame.store(skipBelow);
  std::fflush(nullptr);  // nothing buffered here may be written twice
  child = ::fork();
  if (child < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    fail("cannot start the decoder process");
  }
  if (child == 0) {
    ::close(fds[0]);
    // libgromacs's chatter (and fatal errors) go to the log, not the user.
    const int logFd = log != nullptr ? ::fileno(log) : ::open("/dev/null", O_WRONLY);
    ::dup2(logFd, STDERR_FILENO);
    ::dup2(logFd, STDOUT_FILENO);
    try {
      decodeInChild(file, childOptions, fds[1], progress, skipBelow);
    } catch (const std::exception& e) {  // must not unwind into the parent's code
      std::fprintf(stderr, "\nFatal error: %s\n", e.what());
      std::fflush(stderr);
      ::_exit(3);
    } catch (...) {
      ::_exit(3);
    }
  }
  ::close(fds[1]);
  pipe = ::fdopen(fds[0], "rb");
  if (pipe == nullptr) {
    ::close(fds[0]);
    stopChild();
    fail("cannot read from the decoder process");
  }
  std::setvbuf(pipe, nullptr, _IOFBF, 1 << 16);
}

TrajectoryReader::~TrajectoryReader() {
  impl_->stopChild();
  if (impl_->log != nullptr) std::fclose(impl_->log);
  if (impl_->progress != nullptr) ::munmap(impl_->progress, sizeof(DecoderProgress));
}

const fs::path& TrajectoryReader::file() const { return impl_->file; }

const TrajectoryReader::TimeWarning& TrajectoryReader::timeWarning() const { return impl_->timeWarning; }

std::int64_t TrajectoryReader::framesInFile() const { return impl_->framesInFile; }

std::int64_t TrajectoryReader::selectedFrames() const {
  const Options& o = impl_->options;
  if (timeSelectionOf(o).active()) return impl_->framesInFile >= 0 ? std::max<std::int64_t>(impl_->selectedInWalk, 0) : 0;
  std::int64_t end = o.end;
  if (impl_->framesInFile >= 0) end = end < 0 ? impl_->framesInFile : std::min(end, impl_->framesInFile);
  if (end < 0 || end <= o.begin) return 0;
  return (end - o.begin + o.stride - 1) / o.stride;
}

bool TrajectoryReader::Impl::nextDcd(Frame& out) {
  while (!(options.end >= 0 && expectedIndex >= options.end)) {
    const bool byIndex = selected(expectedIndex, options);
    detail::DcdFrame dcdFrame;
    if (!dcd->next(dcdFrame, byIndex ? &out.positionsNm : nullptr)) break;
    const auto byTime = dcdTimeSelection.decide(dcdFrame.timePs);
    if (byTime == detail::TimeSelection::Decision::Stop) break;  // past -e
    const bool wanted = byIndex && byTime == detail::TimeSelection::Decision::Take;
    // The checks every format gets (atom count, time, box).
    FrameRecord record{};
    record.index = dcdFrame.index;
    record.step = dcdFrame.step;
    record.timePs = dcdFrame.timePs;
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) record.boxNm[3 * r + c] = static_cast<float>(dcdFrame.boxNm(r, c));
    record.natoms = dcd->header().natoms;
    record.hasPositions = wanted ? 1 : 0;
    checkAgainstHeader(record);
    ++expectedIndex;
    if (wanted) {
      out.index = dcdFrame.index;
      out.step = dcdFrame.step;
      out.timePs = dcdFrame.timePs;
      out.boxNm = dcdFrame.boxNm;
      return true;
    }
  }
  finished = true;
  if (expectedIndex == 0) fail("no frames in the trajectory");
  return false;
}

bool TrajectoryReader::next(Frame& frame) {
  Impl& m = *impl_;
  if (m.finished) return false;
  if (m.dcd) return m.nextDcd(frame);
  FrameRecord record;
  while (true) {
    if (!m.readRecord(record)) {
      m.finished = true;
      // Reaching the requested end early is fine; otherwise the header walk
      // must agree that the file ended here.
      if (m.xtcWalker && !m.stoppedByTime && !(m.options.end >= 0 && m.expectedIndex >= m.options.end)) {
        detail::XtcFrameHeader header;
        if (m.xtcWalker->next(header)) {
          m.failFrame(m.expectedIndex, "libgromacs stopped reading here although the file continues (corrupt frame)");
        }
      }
      if (m.trrWalker && !m.stoppedByTime && !(m.options.end >= 0 && m.expectedIndex >= m.options.end)) {
        detail::TrrFrameHeader header;
        if (m.trrWalker->next(header)) {
          m.failFrame(m.expectedIndex, "libgromacs stopped reading here although the file continues (corrupt frame)");
        }
      }
      if (m.expectedIndex == 0) m.fail("no frames in the trajectory");
      m.stopChild();
      return false;
    }
    m.checkAgainstHeader(record);
    ++m.expectedIndex;
    if (record.hasPositions) break;
  }
  m.xyz.resize(3 * static_cast<std::size_t>(record.natoms));
  while (std::fread(m.xyz.data(), sizeof(float), m.xyz.size(), m.pipe) != m.xyz.size()) {
    // The decoder died between a frame's record and its coordinates: a new
    // one resends this frame (record, then coordinates).
    m.expectedIndex = record.index;
    if (!m.restartAfterCrash()) m.childDied();
    FrameRecord again;
    if (std::fread(&again, sizeof again, 1, m.pipe) != 1 || again.index != record.index) m.childDied();
  }
  m.checkPositions(record);
  frame.index = record.index;
  frame.step = record.step;
  frame.timePs = record.timePs;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) frame.boxNm(r, c) = record.boxNm[3 * r + c];
  frame.positionsNm.resize(record.natoms, 3);
  for (int i = 0; i < record.natoms; ++i)
    for (int d = 0; d < 3; ++d) frame.positionsNm(i, d) = m.xyz[3 * i + d];
  return true;
}

}  // namespace activediff
