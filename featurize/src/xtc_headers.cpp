#include "xtc_headers.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "activediff/featurize/error.h"
#include "read_window.h"

namespace activediff::detail {

namespace {

constexpr std::int32_t kXtcMagic = 1995;
// Valid range of the "smallidx" field: indices into GROMACS's magicints table
// (FIRSTIDX = 9, 73 entries).
constexpr std::int32_t kFirstSmallIdx = 9;
constexpr std::int32_t kLastSmallIdx = 72;
// A frame whose atom count exceeds this is certainly corrupt; it also keeps
// the byte arithmetic below far from overflow.
constexpr std::int32_t kMaxAtoms = 100'000'000;

std::int32_t bigEndianInt(const unsigned char* p) {
  const std::uint32_t u = (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) |
                          (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
  std::int32_t value;
  std::memcpy(&value, &u, sizeof value);
  return value;
}

float bigEndianFloat(const unsigned char* p) {
  const std::int32_t bits = bigEndianInt(p);
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// What is wrong with a box (row-major vectors a, b, c in nm), "" if nothing.
// GROMACS and OpenMM accept only an all-zero box (no periodicity) or one with
// a along x and b in the xy plane, with positive lengths along the axes; every
// XTC writer (GROMACS, MDTraj, MDAnalysis) produces that form. Fuzzing found
// damaged boxes that passed as finite, e.g. b = c = 0 beside a = 4.5 nm, on
// which MDTraj's dihedrals are NaN while activediff's used no box.
std::string boxProblem(const std::array<float, 9>& box) {
  bool allZero = true;
  for (float v : box) allZero = allZero && v == 0.0f;
  if (allZero) return "";
  const float diagonal[3] = {box[0], box[4], box[8]};
  for (int d = 0; d < 3; ++d) {
    if (!(diagonal[d] > 0.0f)) {
      return "box vector " + std::string(1, "abc"[d]) + " has no positive component along its axis (" +
             std::to_string(diagonal[d]) + " nm)";
    }
  }
  // Writers put exact zeros there; allow float noise all the same.
  const float scale = std::max({diagonal[0], diagonal[1], diagonal[2]});
  for (int k : {1, 2, 5}) {
    if (std::abs(box[k]) > 1e-5f * scale) {
      return "box is not in the triclinic form of GROMACS (a along x, b in the xy plane): element " +
             std::to_string(k / 3) + "," + std::to_string(k % 3) + " is " + std::to_string(box[k]) + " nm";
    }
  }
  return "";
}

}  // namespace

XtcHeaderWalker::XtcHeaderWalker(const std::filesystem::path& file) : file_(file) {
  stream_ = std::fopen(file.c_str(), "rb");
  if (stream_ == nullptr) throw Error(file.string(), "cannot open (missing or unreadable)");
  std::error_code ec;
  fileBytes_ = static_cast<std::int64_t>(std::filesystem::file_size(file, ec));
  if (ec) {
    std::fclose(stream_);
    throw Error(file.string(), "cannot determine file size: " + ec.message());
  }
  window_ = std::make_unique<ReadWindow>(::fileno(stream_));
}

XtcHeaderWalker::~XtcHeaderWalker() {
  if (stream_ != nullptr) std::fclose(stream_);
}

bool XtcHeaderWalker::next(XtcFrameHeader& header) {
  if (offsetBytes_ == fileBytes_) return false;
  const std::string where = "frame " + std::to_string(index_) + " (byte " + std::to_string(offsetBytes_) + ")";
  auto fail = [&](const std::string& problem) { throw Error(file_.string(), where + ": " + problem); };

  // Fixed part: magic, natoms, step, time, box[9], natoms again = 14 words.
  constexpr std::int64_t kFixedBytes = 14 * 4;
  if (fileBytes_ - offsetBytes_ < kFixedBytes) {
    fail("truncated XTC file: " + std::to_string(fileBytes_ - offsetBytes_) +
         " bytes left, a frame header needs " + std::to_string(kFixedBytes));
  }
  unsigned char fixed[kFixedBytes];
  if (!window_->read(offsetBytes_, fixed, kFixedBytes)) fail("read failed");

  const std::int32_t magic = bigEndianInt(fixed);
  if (magic != kXtcMagic) {
    fail("not an XTC frame (magic number " + std::to_string(magic) + ", expected 1995): corrupt file" +
         (index_ > 0 ? " or wrong byte count in the previous frame" : ""));
  }
  const std::int32_t natoms = bigEndianInt(fixed + 4);
  const std::int32_t natomsAgain = bigEndianInt(fixed + 13 * 4);
  if (natoms <= 0 || natoms > kMaxAtoms) fail("implausible atom count " + std::to_string(natoms));
  if (natomsAgain != natoms) {
    fail("corrupt header: atom count " + std::to_string(natoms) + " and coordinate count " +
         std::to_string(natomsAgain) + " disagree");
  }
  if (firstNatoms_ >= 0 && natoms != firstNatoms_) {
    fail("atom count changes from " + std::to_string(firstNatoms_) + " to " + std::to_string(natoms));
  }
  header = XtcFrameHeader{};
  header.index = index_;
  header.offsetBytes = offsetBytes_;
  header.natoms = natoms;
  header.step = bigEndianInt(fixed + 8);
  header.timePs = bigEndianFloat(fixed + 12);
  if (!std::isfinite(header.timePs)) fail("time is not a finite number");
  for (int k = 0; k < 9; ++k) {
    header.boxNm[k] = bigEndianFloat(fixed + 16 + 4 * k);
    if (!std::isfinite(header.boxNm[k])) fail("box is not finite");
  }
  if (std::string problem = boxProblem(header.boxNm); !problem.empty()) fail("corrupt header: " + problem);

  std::int64_t frameBytes = kFixedBytes;
  if (natoms <= 9) {
    // Tiny systems are stored uncompressed.
    frameBytes += 12 * static_cast<std::int64_t>(natoms);
  } else {
    constexpr std::int64_t kCompressedHeaderBytes = 9 * 4;
    if (fileBytes_ - offsetBytes_ < kFixedBytes + kCompressedHeaderBytes) {
      fail("truncated XTC file inside the coordinate header");
    }
    unsigned char ch[kCompressedHeaderBytes];
    if (!window_->read(offsetBytes_ + kFixedBytes, ch, kCompressedHeaderBytes)) fail("read failed");
    header.compressed = true;
    header.precision = bigEndianFloat(ch);
    if (!std::isfinite(header.precision) || header.precision <= 0.0f) {
      fail("corrupt header: precision " + std::to_string(header.precision));
    }
    for (int d = 0; d < 3; ++d) {
      header.minint[d] = bigEndianInt(ch + 4 + 4 * d);
      header.maxint[d] = bigEndianInt(ch + 16 + 4 * d);
      if (header.minint[d] > header.maxint[d]) fail("corrupt header: coordinate bounds are inverted");
    }
    const std::int32_t smallidx = bigEndianInt(ch + 28);
    if (smallidx < kFirstSmallIdx || smallidx > kLastSmallIdx) {
      fail("corrupt header: compression index " + std::to_string(smallidx) + " outside [9, 72]");
    }
    const std::int32_t byteCount = bigEndianInt(ch + 32);
    // The compressor never needs more than ~3 32-bit words per atom.
    const std::int64_t maxPayload = 12 * static_cast<std::int64_t>(natoms) + 64;
    if (byteCount <= 0 || byteCount > maxPayload) {
      fail("corrupt header: compressed size " + std::to_string(byteCount) + " bytes is impossible for " +
           std::to_string(natoms) + " atoms");
    }
    const std::int64_t padded = (static_cast<std::int64_t>(byteCount) + 3) / 4 * 4;
    frameBytes += kCompressedHeaderBytes + padded;
  }
  if (offsetBytes_ + frameBytes > fileBytes_) {
    fail("truncated XTC file: frame needs " + std::to_string(frameBytes) + " bytes, only " +
         std::to_string(fileBytes_ - offsetBytes_) + " left");
  }
  // The next frame must start exactly where this one's byte count ends: a
  // corrupt byte count would otherwise make libgromacs read garbage.
  if (offsetBytes_ + frameBytes + 4 <= fileBytes_) {
    unsigned char nextMagic[4];
    if (!window_->read(offsetBytes_ + frameBytes, nextMagic, 4)) fail("read failed");
    if (bigEndianInt(nextMagic) != kXtcMagic) {
      fail("frame " + std::to_string(index_ + 1) + " does not start where this frame's compressed size says " +
           "(corrupt size in this frame or corrupt header in the next)");
    }
  }
  // Fewer than 4 bytes after this frame: the next frame is cut off, which the
  // next call reports (naming that frame), so --end before it reads fine.
  header.frameBytes = frameBytes;
  firstNatoms_ = natoms;
  offsetBytes_ += frameBytes;
  ++index_;
  return true;
}

std::int64_t countXtcFrames(const std::filesystem::path& file) {
  XtcHeaderWalker walker(file);
  XtcFrameHeader header;
  std::int64_t count = 0;
  while (walker.next(header)) ++count;
  return count;
}

}  // namespace activediff::detail
