#pragma once
// A bounds-checked walk over the frame headers of a TRR file (see
// xtc_headers.h for why activediff does this itself). libgromacs treats a
// truncated TRR as a normal end of file; this walk does not.
//
// Layout of one frame (GROMACS trrio, XDR big-endian):
//   int magic (1993), int 13, string "GMX_trn_file" (int length 12 + 12 bytes),
//   int ir_size, e_size, box_size, vir_size, pres_size, top_size, sym_size,
//       x_size, v_size, f_size, natoms, step, nre,
//   real time, real lambda   (real = float or double, from the sizes),
//   then the blocks whose sizes were given, in bytes.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace activediff::detail {

class ReadWindow;

struct TrrFrameHeader {
  std::int64_t index = 0;
  std::int64_t offsetBytes = 0;
  int natoms = 0;
  std::int64_t step = 0;
  double timePs = 0.0;
  bool doublePrecision = false;
  std::int64_t frameBytes = 0;
};

class TrrHeaderWalker {
 public:
  explicit TrrHeaderWalker(const std::filesystem::path& file);
  ~TrrHeaderWalker();
  TrrHeaderWalker(const TrrHeaderWalker&) = delete;
  TrrHeaderWalker& operator=(const TrrHeaderWalker&) = delete;
  bool next(TrrFrameHeader& header);  // false at a clean end of file

 private:
  std::filesystem::path file_;
  std::FILE* stream_ = nullptr;
  std::unique_ptr<ReadWindow> window_;
  std::int64_t fileBytes_ = 0;
  std::int64_t offsetBytes_ = 0;
  std::int64_t index_ = 0;
};

std::int64_t countTrrFrames(const std::filesystem::path& file);

}  // namespace activediff::detail
