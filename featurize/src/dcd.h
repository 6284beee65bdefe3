#pragma once
// DCD trajectories, CHARMM/NAMD variant (what OpenMM's DCDReporter, MDTraj
// and VMD write), read and written by activediff itself: no libgromacs.
//
// Layout: Fortran unformatted records, each framed by a leading and a
// trailing int32 byte count ("record marker"):
//   84 bytes:  "CORD", int32 icntrl[20]
//              icntrl[0] NSET frames, [1] ISTART step of the first frame,
//              [2] NSAVC steps between frames, [3] NSTEP, [8] NAMNF fixed
//              atoms, [9] DELTA float32 time step in AKMA units
//              (1 AKMA = 0.04888821 ps), [10] unit cell flag, [11] 4D flag,
//              [19] CHARMM version (0 = X-PLOR: DELTA is a double in [9..10],
//              no unit cell)
//   4 + 80 n:  int32 n, n title lines of 80 characters
//   4:         int32 natoms
//   per frame: [48: double a, gamma, b, beta, alpha, c (A; angles as cosines,
//              which OpenMM, MDTraj and NAMD write, or degrees, as old
//              CHARMM does: all three within [-1, 1] means cosines)]
//              4 natoms: float32 X (A); the same for Y and Z.
// Either byte order is read (decided by the first record marker); files are
// written little-endian, as OpenMM does.
//
// Times. DCD has no per-frame time: frame k is at step ISTART + k NSAVC and
// time step x DELTA (CHARMM's and NAMD's convention, which VMD and MDAnalysis
// follow, and what OpenMM's DCDReporter writes: it creates the file at its
// first report, with ISTART = that step), so times of OpenMM files are the
// simulation's. MDTraj ignores the header and returns the frame index as time
// (and writes VMD's placeholder DELTA = 1 AKMA), which carries no
// information, so it is not matched: MDTraj-written files read as
// 0.0489 ps apart.
#include <Eigen/Core>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "activediff/featurize/structure.h"

namespace activediff::detail {

constexpr double kAkmaPs = 0.04888821;  // one AKMA time unit in ps

struct DcdHeader {
  bool bigEndian = false;
  bool charmm = true;       // CHARMM (version != 0) rather than X-PLOR
  bool hasUnitCell = false;
  int natoms = 0;
  std::int64_t framesInHeader = 0;  // NSET
  std::int64_t istart = 0;
  std::int64_t nsavc = 0;
  double deltaAkma = 0.0;
  std::vector<std::string> titles;
  std::int64_t headerBytes = 0;     // where frame 0 starts
  std::int64_t frameBytes = 0;
  std::int64_t fileBytes = 0;
  std::int64_t completeFrames = 0;  // whole frames the file holds
  std::int64_t trailingBytes = 0;   // bytes of a cut last frame (0 = none)
};

// Parses and checks the header; throws activediff::Error("<file>: ...").
DcdHeader readDcdHeader(const std::filesystem::path& file);

struct DcdFrame {
  std::int64_t index = 0;
  std::int64_t step = 0;
  double timePs = 0.0;
  Eigen::Matrix3d boxNm = Eigen::Matrix3d::Zero();  // zero: no unit cell
};

// Reads frames in order, checking every record marker, the unit cell and
// every coordinate (finite, |x| <= 1e7 A); errors name the file and frame.
class DcdReader {
 public:
  explicit DcdReader(const std::filesystem::path& file);
  ~DcdReader();
  DcdReader(const DcdReader&) = delete;
  DcdReader& operator=(const DcdReader&) = delete;
  const DcdHeader& header() const { return header_; }
  // Non-empty when NSET disagrees with the frames the file holds (a writer
  // that stopped before updating its header): one line, file named.
  const std::string& headerWarning() const { return warning_; }
  // Reads the next frame (positions into nm when positionsNm is not null);
  // false at the clean end of the file.
  bool next(DcdFrame& frame, PositionsNm* positionsNm);

 private:
  [[noreturn]] void failFrame(std::int64_t index, const std::string& problem) const;
  std::filesystem::path file_;
  DcdHeader header_;
  std::string warning_;
  std::FILE* stream_ = nullptr;
  std::int64_t index_ = 0;
  std::vector<unsigned char> buffer_;
};

// Writes the CHARMM variant as OpenMM does: little-endian, a unit cell record
// per frame when the first frame has a box (cosines of the angles), positions
// in A. ISTART, NSAVC and DELTA come from the first two frames' steps and
// times (DCD can only store evenly spaced frames). Append reopens an existing
// DCD written this way and adds frames with its header's spacing.
class DcdWriter {
 public:
  DcdWriter(const std::filesystem::path& file, int natoms, bool append);
  ~DcdWriter();
  DcdWriter(const DcdWriter&) = delete;
  DcdWriter& operator=(const DcdWriter&) = delete;
  void write(const Frame& frame);
  void close();

 private:
  void writeHeader();
  [[noreturn]] void fail(const std::string& problem) const;
  std::filesystem::path file_;
  std::FILE* stream_ = nullptr;
  int natoms_ = 0;
  bool appended_ = false;     // header values come from the existing file
  bool headerWritten_ = false;
  bool hasUnitCell_ = false;
  std::int64_t frames_ = 0;
  std::int64_t istart_ = 0, nsavc_ = 1;
  double deltaAkma_ = 0.0;
  std::int64_t firstStep_[2] = {0, 0};
  double firstTimePs_[2] = {0.0, 0.0};
  std::vector<unsigned char> buffer_;
};

}  // namespace activediff::detail
