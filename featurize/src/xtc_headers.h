#pragma once
// A bounds-checked walk over the frame headers of an XTC file, done by
// activediff itself rather than libgromacs: libgromacs 2022 trusts the byte
// counts it reads and crashes or exits on corrupt files, and only warns on a
// truncated one. The walk reads the XDR (big-endian) header of every frame,
// checks every field against the file size and against the other fields, and
// seeks over the compressed coordinates, so truncation and header corruption
// are reported with the exact frame number before any decoding happens.
//
// Layout of one frame (xdrfile / GROMACS libxdrf):
//   int magic (1995), int natoms, int step, float time, float box[9],
//   int natoms (again);
//   natoms <= 9: float xyz[3 * natoms];
//   natoms > 9:  float precision, int minint[3], int maxint[3], int smallidx,
//                int byteCount, byteCount bytes padded to a multiple of 4.
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace activediff::detail {

class ReadWindow;

struct XtcFrameHeader {
  std::int64_t index = 0;       // 0-based frame number
  std::int64_t offsetBytes = 0; // where the frame starts in the file
  int natoms = 0;
  std::int64_t step = 0;
  float timePs = 0.0f;
  std::array<float, 9> boxNm{};
  bool compressed = false;      // natoms > 9
  float precision = 0.0f;       // compressed frames only
  std::array<std::int32_t, 3> minint{};
  std::array<std::int32_t, 3> maxint{};
  std::int64_t frameBytes = 0;  // header + payload, padded
};

// Streams headers; throws activediff::Error("<file>", "... frame N ...") on
// any inconsistency. The caller owns nothing but this object.
class XtcHeaderWalker {
 public:
  explicit XtcHeaderWalker(const std::filesystem::path& file);
  ~XtcHeaderWalker();
  XtcHeaderWalker(const XtcHeaderWalker&) = delete;
  XtcHeaderWalker& operator=(const XtcHeaderWalker&) = delete;

  // Reads the next header and seeks past its payload; false at a clean end of
  // file (exactly at a frame boundary).
  bool next(XtcFrameHeader& header);

 private:
  std::filesystem::path file_;
  std::FILE* stream_ = nullptr;
  std::unique_ptr<ReadWindow> window_;
  std::int64_t fileBytes_ = 0;
  std::int64_t offsetBytes_ = 0;
  std::int64_t index_ = 0;
  int firstNatoms_ = -1;
};

// Number of frames in an XTC file after a full header walk (throws on any
// structural problem).
std::int64_t countXtcFrames(const std::filesystem::path& file);

}  // namespace activediff::detail
