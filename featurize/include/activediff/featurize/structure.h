#pragma once
// Molecular structures and trajectories as activediff sees them: nm and ps
// throughout (GROMACS units), double precision in memory. No libgromacs types
// leak out of this header.
#include <Eigen/Core>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace activediff {

// Rows are atoms, columns x, y, z in nanometres.
using PositionsNm = Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor>;

struct Atom {
  std::string name;          // e.g. "CA", "HB1"
  std::string residueName;   // e.g. "ALA"
  int residueNumber = 0;     // as in the file
  int residueIndex = 0;      // 0-based, in order of appearance
  std::string element;       // e.g. "C"; may be empty when unknown
  // From the force field's atom type in a .tpr (atomic number); 0 = unknown.
  // Masses are not used: hydrogen mass repartitioning changes them.
  int atomicNumber = 0;
};

struct Topology {
  std::vector<Atom> atoms;
  std::size_t size() const { return atoms.size(); }
  // Index of the atom with this name in the residue with this 0-based index,
  // or nullopt.
  std::optional<int> find(int residueIndex, const std::string& atomName) const;
  int residueCount() const;
};

struct Frame {
  std::int64_t index = 0;     // 0-based position in its file
  std::int64_t step = 0;      // MD step, 0 when the format has none
  double timePs = 0.0;
  Eigen::Matrix3d boxNm = Eigen::Matrix3d::Zero();  // rows are box vectors
  PositionsNm positionsNm;
};

// A single structure with its topology (.pdb, .gro, .tpr), read by libgromacs
// in a forked child process: its chatter ("Reading file ...") stays out of
// the user's terminal, and a crash or exit() inside it becomes an Error.
struct Structure {
  Topology topology;
  PositionsNm positionsNm;
  Eigen::Matrix3d boxNm = Eigen::Matrix3d::Zero();
};
Structure readStructure(const std::filesystem::path& file);

// A rectangular box that encloses the molecule with a margin, so that gmx
// tools that apply periodic boundaries never see the molecule overlap itself.
Eigen::Matrix3d enclosingBoxNm(const PositionsNm& positionsNm, double marginNm = 1.0);

// Writes frames as .xtc, .trr, .gro (through libgromacs) or multi-model .pdb
// (activediff's own writer: element column, the molecule's bonds as CONECT
// records, found from the first frame as MoleculeGraph does, MODEL 1..N),
// chosen by extension. Appending reopens an existing file at its end.
class TrajectoryWriter {
 public:
  enum class Mode { Truncate, Append };
  TrajectoryWriter(const std::filesystem::path& file, Topology topology,
                   Mode mode = Mode::Truncate);
  ~TrajectoryWriter();
  TrajectoryWriter(const TrajectoryWriter&) = delete;
  TrajectoryWriter& operator=(const TrajectoryWriter&) = delete;
  void write(const Frame& frame);
  // Flushes and closes; the file is complete and readable afterwards.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Streams frames from a trajectory (.xtc, .trr, .gro, multi-model .pdb).
// Corrupt or truncated input is an activediff::Error naming the file and the
// frame, never a crash of this process and never a silent pass.
class TrajectoryReader {
 public:
  struct Options {
    std::int64_t begin = 0;    // first frame index to return
    std::int64_t end = -1;     // one past the last, -1 = to the end
    std::int64_t stride = 1;
    // Time selection in ps, as gmx's -b, -e, -dt (NaN = unset), applied to
    // each frame's own time, together with the index selection above:
    //  - frames with time < beginPs are skipped (also after a time restart);
    //  - reading stops at the first frame with time > endPs (later frames of
    //    a concatenated file whose time restarted are not read);
    //  - of the frames passing beginPs/endPs, only those whose time minus
    //    the first such frame's time is a multiple of dtPs are taken.
    // Times compare in single precision, as gmx's (mixed precision) tools do.
    double beginPs = std::numeric_limits<double>::quiet_NaN();
    double endPs = std::numeric_limits<double>::quiet_NaN();
    double dtPs = std::numeric_limits<double>::quiet_NaN();
    int expectedAtoms = -1;    // -1 = no check
    // Receives one-line warnings (file and frame named); null = stderr.
    std::function<void(const std::string&)> warn;
  };
  // Frames whose time does not increase: `cat a.xtc b.xtc` restarts time,
  // some writers store 0 throughout. Valid input, warned about once per file.
  struct TimeWarning {
    std::int64_t frames = 0;       // frames whose time is <= the previous one's
    std::int64_t firstFrame = -1;  // index of the first of them
    double timePs = 0.0, previousTimePs = 0.0;  // at firstFrame
  };
  TrajectoryReader(const std::filesystem::path& file, Options options);
  explicit TrajectoryReader(const std::filesystem::path& file)
      : TrajectoryReader(file, Options{}) {}
  ~TrajectoryReader();
  TrajectoryReader(const TrajectoryReader&) = delete;
  TrajectoryReader& operator=(const TrajectoryReader&) = delete;
  // Fills frame with the next selected frame; false at the (clean) end.
  bool next(Frame& frame);
  const std::filesystem::path& file() const;
  // Frames in the file when known without decoding (XTC, TRR: from the
  // header walk, which stops at Options::end), else -1. For progress displays.
  std::int64_t framesInFile() const;
  // Frames the selection (begin, end, stride) takes: from framesInFile() when
  // known, else up to Options::end, else 0 (unknown). For progress displays.
  std::int64_t selectedFrames() const;
  // Time irregularities among the frames read so far.
  const TimeWarning& timeWarning() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace activediff
