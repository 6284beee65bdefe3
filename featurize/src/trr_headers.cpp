#include "trr_headers.h"

#include <cmath>
#include <cstring>
#include <string>

#include "activediff/featurize/error.h"
#include "read_window.h"

namespace activediff::detail {

namespace {

constexpr std::int32_t kTrrMagic = 1993;
constexpr char kTrrVersion[] = "GMX_trn_file";

std::int32_t bigEndianInt(const unsigned char* p) {
  const std::uint32_t u = (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) |
                          (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
  std::int32_t value;
  std::memcpy(&value, &u, sizeof value);
  return value;
}

double bigEndianReal(const unsigned char* p, bool doublePrecision) {
  if (!doublePrecision) {
    const std::int32_t bits = bigEndianInt(p);
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
  }
  std::uint64_t u = 0;
  for (int k = 0; k < 8; ++k) u = (u << 8) | p[k];
  double value;
  std::memcpy(&value, &u, sizeof value);
  return value;
}

}  // namespace

TrrHeaderWalker::TrrHeaderWalker(const std::filesystem::path& file) : file_(file) {
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

TrrHeaderWalker::~TrrHeaderWalker() {
  if (stream_ != nullptr) std::fclose(stream_);
}

bool TrrHeaderWalker::next(TrrFrameHeader& header) {
  if (offsetBytes_ == fileBytes_) return false;
  const std::string where = "frame " + std::to_string(index_) + " (byte " + std::to_string(offsetBytes_) + ")";
  auto fail = [&](const std::string& problem) { throw Error(file_.string(), where + ": " + problem); };

  // magic, string length, xdr length, 12 characters, 13 ints.
  constexpr std::int64_t kIntBytes = (3 + 3 + 13) * 4;
  unsigned char head[kIntBytes + 16];
  if (fileBytes_ - offsetBytes_ < kIntBytes + 8) fail("truncated TRR file inside a frame header");
  if (!window_->read(offsetBytes_, head, kIntBytes)) fail("read failed");
  if (bigEndianInt(head) != kTrrMagic) {
    fail("not a TRR frame (magic number " + std::to_string(bigEndianInt(head)) + ", expected 1993)");
  }
  if (bigEndianInt(head + 4) != 13 || bigEndianInt(head + 8) != 12 || std::memcmp(head + 12, kTrrVersion, 12) != 0) {
    fail("corrupt header: missing the GMX_trn_file tag");
  }
  std::int64_t sizes[10];
  std::int64_t dataBytes = 0;
  for (int k = 0; k < 10; ++k) {
    sizes[k] = bigEndianInt(head + 24 + 4 * k);
    if (sizes[k] < 0) fail("corrupt header: negative block size");
    dataBytes += sizes[k];
  }
  const std::int64_t natoms = bigEndianInt(head + 64);
  const std::int64_t step = bigEndianInt(head + 68);
  if (natoms <= 0) fail("implausible atom count " + std::to_string(natoms));
  // Real size from whichever block is present (as GROMACS does).
  const std::int64_t boxSize = sizes[2], xSize = sizes[7], vSize = sizes[8], fSize = sizes[9];
  std::int64_t realBytes = 0;
  if (boxSize) realBytes = boxSize / 9;
  else if (xSize) realBytes = xSize / (3 * natoms);
  else if (vSize) realBytes = vSize / (3 * natoms);
  else if (fSize) realBytes = fSize / (3 * natoms);
  if (realBytes != 4 && realBytes != 8) fail("corrupt header: block sizes match neither float nor double");
  for (std::int64_t s : {xSize, vSize, fSize}) {
    if (s != 0 && s != 3 * natoms * realBytes) fail("corrupt header: block size does not match the atom count");
  }
  if (boxSize != 0 && boxSize != 9 * realBytes) fail("corrupt header: box size is wrong");
  const std::int64_t headerBytes = kIntBytes + 2 * realBytes;
  if (offsetBytes_ + headerBytes > fileBytes_) fail("truncated TRR file inside a frame header");
  unsigned char reals[16];
  if (!window_->read(offsetBytes_ + kIntBytes, reals, static_cast<std::size_t>(2 * realBytes))) fail("read failed");
  header = TrrFrameHeader{};
  header.index = index_;
  header.offsetBytes = offsetBytes_;
  header.natoms = static_cast<int>(natoms);
  header.step = step;
  header.doublePrecision = realBytes == 8;
  header.timePs = bigEndianReal(reals, header.doublePrecision);
  if (!std::isfinite(header.timePs)) fail("time is not a finite number");
  header.frameBytes = headerBytes + dataBytes;
  if (offsetBytes_ + header.frameBytes > fileBytes_) {
    fail("truncated TRR file: frame needs " + std::to_string(header.frameBytes) + " bytes, only " +
         std::to_string(fileBytes_ - offsetBytes_) + " left");
  }
  offsetBytes_ += header.frameBytes;
  ++index_;
  return true;
}

std::int64_t countTrrFrames(const std::filesystem::path& file) {
  TrrHeaderWalker walker(file);
  TrrFrameHeader header;
  std::int64_t count = 0;
  while (walker.next(header)) ++count;
  return count;
}

}  // namespace activediff::detail
