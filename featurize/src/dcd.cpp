// DCD reading and writing (layout and conventions in dcd.h).
#include "dcd.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "activediff/featurize/error.h"

namespace activediff::detail {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxAtoms = 100'000'000;
constexpr int kMaxTitles = 10'000;
constexpr double kMaxCoordinateA = 1e7;  // 1 mm: beyond that a value is damage, not physics
constexpr double kMaxDeltaAkma = 1e8;
constexpr double kPi = 3.14159265358979323846;

bool hostIsBigEndian() {
  const std::uint32_t one = 1;
  unsigned char first;
  std::memcpy(&first, &one, 1);
  return first == 0;
}

// Loads a value of type T stored in the file's byte order.
template <class T>
T load(const unsigned char* bytes, bool swap) {
  unsigned char copy[sizeof(T)];
  std::memcpy(copy, bytes, sizeof(T));
  if (swap) std::reverse(copy, copy + sizeof(T));
  T value;
  std::memcpy(&value, copy, sizeof(T));
  return value;
}

// Appends a value little-endian.
template <class T>
void store(std::vector<unsigned char>& out, T value) {
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  if (hostIsBigEndian()) std::reverse(bytes, bytes + sizeof(T));
  out.insert(out.end(), bytes, bytes + sizeof(T));
}

std::string number(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

// Sequential reads of the header with bounds checks.
class HeaderCursor {
 public:
  HeaderCursor(const fs::path& file, std::FILE* stream, std::int64_t fileBytes)
      : file_(file), stream_(stream), fileBytes_(fileBytes) {}
  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(file_.string(), problem);
  }
  void read(void* out, std::int64_t bytes, const char* what) {
    if (offset_ + bytes > fileBytes_ || std::fread(out, 1, static_cast<std::size_t>(bytes), stream_) !=
                                            static_cast<std::size_t>(bytes)) {
      fail(std::string("truncated DCD header: the file ends inside the ") + what);
    }
    offset_ += bytes;
  }
  std::int32_t int32(bool swap, const char* what) {
    unsigned char bytes[4];
    read(bytes, 4, what);
    return load<std::int32_t>(bytes, swap);
  }
  void marker(bool swap, std::int32_t expected, const char* what) {
    const std::int64_t at = offset_;
    const std::int32_t found = int32(swap, what);
    if (found != expected) {
      fail(std::string("corrupt DCD header: bad record marker of the ") + what + " at byte " + std::to_string(at) +
           " (found " + std::to_string(found) + ", expected " + std::to_string(expected) + ")");
    }
  }
  std::int64_t offset() const { return offset_; }

 private:
  const fs::path& file_;
  std::FILE* stream_;
  std::int64_t fileBytes_;
  std::int64_t offset_ = 0;
};

std::int64_t fileSize(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) throw Error(file.string(), "cannot open (missing or unreadable)");
  return static_cast<std::int64_t>(size);
}

// Unit cell (A; angles as cosines or degrees) -> GROMACS's reduced box in nm
// (rows are box vectors, a along x, b in the xy plane). Empty string when
// fine, else the problem.
std::string cellToBox(const double cell[6], Eigen::Matrix3d& boxNm) {
  boxNm.setZero();
  const double a = cell[0], b = cell[2], c = cell[5];
  double angles[3] = {cell[4], cell[3], cell[1]};  // alpha, beta, gamma
  for (int k = 0; k < 6; ++k)
    if (!std::isfinite(cell[k])) return "unit cell is not finite";
  if (a == 0.0 && b == 0.0 && c == 0.0) return "";  // no periodic box (a writer's zero cell)
  if (!(a > 0.0 && b > 0.0 && c > 0.0) || a > kMaxCoordinateA || b > kMaxCoordinateA || c > kMaxCoordinateA) {
    return "unit cell lengths " + number(a) + ", " + number(b) + ", " + number(c) + " A are not plausible";
  }
  const bool cosines = std::all_of(angles, angles + 3, [](double v) { return std::abs(v) <= 1.0; });
  double cosine[3];
  for (int k = 0; k < 3; ++k) {
    if (cosines) {
      cosine[k] = angles[k];
    } else {
      if (!(angles[k] > 0.0 && angles[k] < 180.0)) {
        return "unit cell angle " + number(angles[k]) + " is neither a cosine nor an angle in degrees";
      }
      cosine[k] = angles[k] == 90.0 ? 0.0 : std::cos(angles[k] * kPi / 180.0);
    }
    if (!(std::abs(cosine[k]) < 1.0)) return "unit cell is degenerate (an angle of 0 or 180 degrees)";
  }
  const double cosAlpha = cosine[0], cosBeta = cosine[1], cosGamma = cosine[2];
  const double sinGamma = std::sqrt(1.0 - cosGamma * cosGamma);
  const double cx = cosBeta;
  const double cy = (cosAlpha - cosBeta * cosGamma) / sinGamma;
  const double cz2 = 1.0 - cx * cx - cy * cy;
  if (!(cz2 > 1e-12)) return "unit cell is degenerate (its angles do not span a volume)";
  boxNm << a, 0.0, 0.0,                //
      b * cosGamma, b * sinGamma, 0.0,     //
      c * cx, c * cy, c * std::sqrt(cz2);  //
  boxNm /= 10.0;  // A -> nm
  return "";
}

}  // namespace

DcdHeader readDcdHeader(const fs::path& file) {
  DcdHeader h;
  h.fileBytes = fileSize(file);
  if (h.fileBytes == 0) throw Error(file.string(), "file is empty (no frames)");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> stream(std::fopen(file.c_str(), "rb"), &std::fclose);
  if (!stream) throw Error(file.string(), "cannot open (missing or unreadable)");
  HeaderCursor in(file, stream.get(), h.fileBytes);
  if (h.fileBytes < 4) in.fail("too short to be a DCD file (" + std::to_string(h.fileBytes) + " bytes)");
  unsigned char first[4];
  in.read(first, 4, "first record marker");
  const bool swap = load<std::int32_t>(first, false) != 84;
  if (swap && load<std::int32_t>(first, true) != 84) {
    in.fail("not a DCD file: the first record marker is " + std::to_string(load<std::int32_t>(first, false)) +
            ", expected 84 (a DCD with 64-bit record markers is not supported)");
  }
  h.bigEndian = hostIsBigEndian() != swap;

  unsigned char block[80];
  char cord[4];
  in.read(cord, 4, "header record");
  if (std::memcmp(cord, "CORD", 4) != 0) in.fail("not a DCD file of coordinates (no 'CORD' in the header)");
  in.read(block, 80, "header record");
  in.marker(swap, 84, "header record");
  std::int32_t icntrl[20];
  for (int k = 0; k < 20; ++k) icntrl[k] = load<std::int32_t>(block + 4 * k, swap);
  h.charmm = icntrl[19] != 0;
  h.framesInHeader = icntrl[0];
  h.istart = icntrl[1];
  h.nsavc = icntrl[2];
  h.deltaAkma = h.charmm ? load<float>(block + 36, swap) : load<double>(block + 36, swap);
  h.hasUnitCell = h.charmm && icntrl[10] != 0;
  if (h.framesInHeader < 0) in.fail("absurd DCD header: " + std::to_string(h.framesInHeader) + " frames");
  if (h.istart < 0 || h.nsavc < 0) {
    in.fail("absurd DCD header: first step " + std::to_string(h.istart) + ", steps between frames " +
            std::to_string(h.nsavc));
  }
  if (!(h.deltaAkma >= 0.0 && h.deltaAkma <= kMaxDeltaAkma)) {
    in.fail("absurd DCD header: time step " + number(h.deltaAkma) + " AKMA units");
  }
  if (icntrl[8] != 0) in.fail("DCD files with fixed atoms (NAMNF = " + std::to_string(icntrl[8]) + ") are not supported");
  if (h.charmm && icntrl[11] != 0) in.fail("4D DCD files are not supported");

  // Title record: int32 n and n lines of 80 characters.
  const std::int32_t titleBytes = in.int32(swap, "title record");
  if (titleBytes < 4 || (titleBytes - 4) % 80 != 0 || (titleBytes - 4) / 80 > kMaxTitles) {
    in.fail("corrupt DCD header: title record of " + std::to_string(titleBytes) +
            " bytes (expected 4 + 80 per line, at most " + std::to_string(kMaxTitles) + " lines)");
  }
  if (in.offset() + titleBytes + 4 > h.fileBytes) in.fail("truncated DCD header: the file ends inside the title record");
  const std::int32_t titles = in.int32(swap, "title record");
  if (titles != (titleBytes - 4) / 80) {
    in.fail("corrupt DCD header: " + std::to_string(titles) + " title lines in a record of " +
            std::to_string(titleBytes) + " bytes");
  }
  for (int k = 0; k < titles; ++k) {
    char line[80];
    in.read(line, 80, "title record");
    std::string text(line, 80);
    text = text.substr(0, text.find('\0'));
    while (!text.empty() && text.back() == ' ') text.pop_back();
    h.titles.push_back(text);
  }
  in.marker(swap, titleBytes, "title record");

  in.marker(swap, 4, "atom count record");
  const std::int32_t natoms = in.int32(swap, "atom count record");
  in.marker(swap, 4, "atom count record");
  if (natoms <= 0 || natoms > kMaxAtoms) in.fail("absurd DCD header: " + std::to_string(natoms) + " atoms");
  h.natoms = natoms;
  h.headerBytes = in.offset();
  h.frameBytes = (h.hasUnitCell ? 56 : 0) + 3 * (8 + 4 * static_cast<std::int64_t>(natoms));
  h.completeFrames = (h.fileBytes - h.headerBytes) / h.frameBytes;
  h.trailingBytes = (h.fileBytes - h.headerBytes) % h.frameBytes;
  return h;
}

DcdReader::DcdReader(const fs::path& file) : file_(file), header_(readDcdHeader(file)) {
  if (header_.framesInHeader != 0 && header_.framesInHeader != header_.completeFrames) {
    warning_ = file.string() + ": DCD header says " + std::to_string(header_.framesInHeader) +
               " frames but the file holds " + std::to_string(header_.completeFrames) +
               (header_.trailingBytes != 0 ? " complete" : "") + " frames; reading what the file holds";
  }
  stream_ = std::fopen(file.c_str(), "rb");
  if (stream_ == nullptr || std::fseek(stream_, static_cast<long>(header_.headerBytes), SEEK_SET) != 0) {
    throw Error(file.string(), "cannot open (missing or unreadable)");
  }
  buffer_.resize(static_cast<std::size_t>(header_.frameBytes));
}

DcdReader::~DcdReader() {
  if (stream_ != nullptr) std::fclose(stream_);
}

void DcdReader::failFrame(std::int64_t index, const std::string& problem) const {
  throw Error(file_.string(), "frame " + std::to_string(index) + ": " + problem);
}

bool DcdReader::next(DcdFrame& frame, PositionsNm* positionsNm) {
  const DcdHeader& h = header_;
  const std::int64_t index = index_;
  if (index >= h.completeFrames) {
    if (index == h.completeFrames && h.trailingBytes != 0) {
      failFrame(index, "truncated: the file ends inside this frame (" + std::to_string(h.trailingBytes) + " of " +
                           std::to_string(h.frameBytes) + " bytes)");
    }
    return false;
  }
  if (std::fread(buffer_.data(), 1, buffer_.size(), stream_) != buffer_.size()) {
    failFrame(index, "cannot read (the file changed while being read?)");
  }
  const bool swap = h.bigEndian != hostIsBigEndian();
  const unsigned char* p = buffer_.data();
  const std::int64_t frameStart = h.headerBytes + index * h.frameBytes;
  auto marker = [&](std::int32_t expected, const char* what) {
    const std::int32_t found = load<std::int32_t>(p, swap);
    if (found != expected) {
      failFrame(index, std::string("bad record marker of the ") + what + " at byte " +
                           std::to_string(frameStart + (p - buffer_.data())) + " (found " + std::to_string(found) +
                           ", expected " + std::to_string(expected) + "): corrupt file");
    }
    p += 4;
  };
  frame.index = index;
  frame.step = h.istart + index * h.nsavc;
  frame.timePs = static_cast<double>(frame.step) * h.deltaAkma * kAkmaPs;
  frame.boxNm.setZero();
  if (h.hasUnitCell) {
    marker(48, "unit cell record");
    double cell[6];
    for (double& value : cell) {
      value = load<double>(p, swap);
      p += 8;
    }
    marker(48, "unit cell record");
    const std::string problem = cellToBox(cell, frame.boxNm);
    if (!problem.empty()) failFrame(index, problem + ": corrupt frame");
  }
  const std::int32_t bytes = 4 * h.natoms;
  static const char* const names[3] = {"X record", "Y record", "Z record"};
  if (positionsNm != nullptr) positionsNm->resize(h.natoms, 3);
  for (int d = 0; d < 3; ++d) {
    marker(bytes, names[d]);
    for (int i = 0; i < h.natoms; ++i, p += 4) {
      const double valueA = load<float>(p, swap);
      if (!std::isfinite(valueA)) {
        failFrame(index, "atom " + std::to_string(i + 1) + " has a non-finite coordinate");
      }
      if (std::abs(valueA) > kMaxCoordinateA) {
        failFrame(index, "atom " + std::to_string(i + 1) + " has an absurd coordinate (" + number(valueA) +
                             " A): corrupt frame");
      }
      if (positionsNm != nullptr) (*positionsNm)(i, d) = valueA / 10.0;
    }
    marker(bytes, names[d]);
  }
  ++index_;
  return true;
}

DcdWriter::DcdWriter(const fs::path& file, int natoms, bool append) : file_(file), natoms_(natoms) {
  if (natoms <= 0 || natoms > kMaxAtoms) fail("cannot write " + std::to_string(natoms) + " atoms to a DCD file");
  if (append) {
    const DcdHeader h = readDcdHeader(file);
    if (h.bigEndian != hostIsBigEndian() || !h.charmm) fail("cannot append: not a little-endian CHARMM DCD file");
    if (h.natoms != natoms) {
      fail("cannot append: the file has " + std::to_string(h.natoms) + " atoms, the topology " +
           std::to_string(natoms));
    }
    if (h.trailingBytes != 0) fail("cannot append: the file ends inside frame " + std::to_string(h.completeFrames));
    appended_ = headerWritten_ = true;
    hasUnitCell_ = h.hasUnitCell;
    frames_ = h.completeFrames;
    istart_ = h.istart;
    nsavc_ = h.nsavc;
    deltaAkma_ = h.deltaAkma;
    stream_ = std::fopen(file.c_str(), "r+b");
    if (stream_ == nullptr || std::fseek(stream_, 0, SEEK_END) != 0) fail("cannot open for appending");
  } else {
    stream_ = std::fopen(file.c_str(), "wb");
    if (stream_ == nullptr) fail("cannot open for writing");
  }
}

DcdWriter::~DcdWriter() {
  try {
    close();
  } catch (const Error&) {  // a destructor must not throw; close() reports to callers that call it
  }
}

void DcdWriter::fail(const std::string& problem) const { throw Error(file_.string(), problem); }

void DcdWriter::writeHeader() {
  // Spacing from the first two frames (new files only).
  if (!appended_) {
    istart_ = frames_ > 0 ? firstStep_[0] : 0;
    nsavc_ = 1;
    deltaAkma_ = 0.0;
    if (frames_ >= 2) {
      const std::int64_t steps = firstStep_[1] - firstStep_[0];
      const double dt = firstTimePs_[1] - firstTimePs_[0];
      if (steps > 0 && firstStep_[0] >= 0) {
        nsavc_ = steps;
        deltaAkma_ = dt > 0.0 ? dt / static_cast<double>(steps) / kAkmaPs : 0.0;
      } else if (dt > 0.0) {  // no steps: one step per frame, of the frames' time spacing
        deltaAkma_ = dt / kAkmaPs;
        istart_ = std::max<std::int64_t>(0, std::llround(firstTimePs_[0] / dt));
      } else {
        istart_ = 0;
      }
    } else if (frames_ == 1 && firstStep_[0] > 0 && firstTimePs_[0] > 0.0) {
      deltaAkma_ = firstTimePs_[0] / static_cast<double>(firstStep_[0]) / kAkmaPs;
    }
    const std::int64_t lastStep = istart_ + std::max<std::int64_t>(0, frames_ - 1) * nsavc_;
    if (lastStep > std::numeric_limits<std::int32_t>::max()) {  // count in frames instead of steps
      deltaAkma_ *= static_cast<double>(nsavc_);
      istart_ /= nsavc_;
      nsavc_ = 1;
    }
    if (istart_ > std::numeric_limits<std::int32_t>::max()) istart_ = 0;
    if (!(deltaAkma_ <= kMaxDeltaAkma)) deltaAkma_ = 0.0;
  }
  if (frames_ > std::numeric_limits<std::int32_t>::max()) fail("too many frames for a DCD file");
  std::vector<unsigned char> out;
  store<std::int32_t>(out, 84);
  out.insert(out.end(), {'C', 'O', 'R', 'D'});
  std::int32_t icntrl[20] = {};
  icntrl[0] = static_cast<std::int32_t>(frames_);
  icntrl[1] = static_cast<std::int32_t>(istart_);
  icntrl[2] = static_cast<std::int32_t>(nsavc_);
  icntrl[3] = static_cast<std::int32_t>(
      std::min<std::int64_t>(std::numeric_limits<std::int32_t>::max(),
                             istart_ + std::max<std::int64_t>(0, frames_ - 1) * nsavc_));
  icntrl[10] = hasUnitCell_ ? 1 : 0;
  icntrl[19] = 24;  // CHARMM version, as OpenMM writes
  for (int k = 0; k < 20; ++k) {
    if (k == 9) {
      store<float>(out, static_cast<float>(deltaAkma_));
    } else {
      store<std::int32_t>(out, icntrl[k]);
    }
  }
  store<std::int32_t>(out, 84);
  const char* const titles[2] = {"Created by activediff", "REMARKS positions in Angstrom, frame k at step ISTART + k NSAVC"};
  store<std::int32_t>(out, 4 + 2 * 80);
  store<std::int32_t>(out, 2);
  for (const char* title : titles) {
    char line[80] = {};
    std::memcpy(line, title, std::min(sizeof line, std::strlen(title)));
    out.insert(out.end(), line, line + 80);
  }
  store<std::int32_t>(out, 4 + 2 * 80);
  store<std::int32_t>(out, 4);
  store<std::int32_t>(out, natoms_);
  store<std::int32_t>(out, 4);
  if (std::fseek(stream_, 0, SEEK_SET) != 0 || std::fwrite(out.data(), 1, out.size(), stream_) != out.size() ||
      std::fseek(stream_, 0, SEEK_END) != 0) {
    fail("cannot write the DCD header");
  }
  headerWritten_ = true;
}

void DcdWriter::write(const Frame& frame) {
  if (stream_ == nullptr) fail("write after close");
  if (frame.positionsNm.rows() != natoms_) {
    fail("frame has " + std::to_string(frame.positionsNm.rows()) + " atoms, the file " + std::to_string(natoms_));
  }
  const bool hasBox = !frame.boxNm.isZero(0.0);
  if (!headerWritten_) {
    hasUnitCell_ = hasBox;
    writeHeader();  // rewritten with the final counts at close
  }
  if (hasBox && !hasUnitCell_) {
    fail("frame " + std::to_string(frames_) + " has a periodic box but the file was started without a unit cell");
  }
  if (!appended_ && frames_ < 2) {
    firstStep_[frames_] = frame.step;
    firstTimePs_[frames_] = frame.timePs;
  }
  buffer_.clear();
  if (hasUnitCell_) {
    double cell[6] = {0, 0, 0, 0, 0, 0};  // a frame without a box: a zero cell
    if (hasBox) {
      if (!frame.boxNm.allFinite()) fail("frame " + std::to_string(frames_) + ": box is not finite");
      const Eigen::Vector3d a = frame.boxNm.row(0), b = frame.boxNm.row(1), c = frame.boxNm.row(2);
      const double la = a.norm(), lb = b.norm(), lc = c.norm();
      if (!(la > 0 && lb > 0 && lc > 0)) fail("frame " + std::to_string(frames_) + ": box is degenerate");
      cell[0] = 10.0 * la;
      cell[1] = a.dot(b) / (la * lb);  // cos gamma
      cell[2] = 10.0 * lb;
      cell[3] = a.dot(c) / (la * lc);  // cos beta
      cell[4] = b.dot(c) / (lb * lc);  // cos alpha
      cell[5] = 10.0 * lc;
    }
    store<std::int32_t>(buffer_, 48);
    for (double value : cell) store<double>(buffer_, value);
    store<std::int32_t>(buffer_, 48);
  }
  const std::int32_t bytes = 4 * natoms_;
  for (int d = 0; d < 3; ++d) {
    store<std::int32_t>(buffer_, bytes);
    for (int i = 0; i < natoms_; ++i) {
      const double valueNm = frame.positionsNm(i, d);
      if (!std::isfinite(valueNm) || std::abs(valueNm) * 10.0 > kMaxCoordinateA) {
        fail("frame " + std::to_string(frames_) + ": atom " + std::to_string(i + 1) +
             " has a coordinate a DCD file cannot hold (" + number(valueNm) + " nm)");
      }
      store<float>(buffer_, static_cast<float>(valueNm * 10.0));
    }
    store<std::int32_t>(buffer_, bytes);
  }
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), stream_) != buffer_.size()) {
    fail("cannot write frame " + std::to_string(frames_) + " (disk full?)");
  }
  ++frames_;
}

void DcdWriter::close() {
  if (stream_ == nullptr) return;
  std::FILE* stream = stream_;
  try {
    writeHeader();  // final frame count and spacing
  } catch (const Error&) {
    std::fclose(stream);
    stream_ = nullptr;
    throw;
  }
  stream_ = nullptr;
  if (std::fclose(stream) != 0) fail("cannot finish writing (disk full?)");
}

}  // namespace activediff::detail
