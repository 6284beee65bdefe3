#include "activediff/featurize/npy.h"

#include <cerrno>
#include <cstring>
#include <regex>

#include "activediff/featurize/error.h"
#include "activediff/featurize/output_policy.h"

namespace activediff {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[] = "\x93NUMPY";
// Magic (6) + version (2) + header length (2) + dictionary, padded with spaces
// to this total and ended by '\n'; fixed so finish() can rewrite it in place.
constexpr std::size_t kHeaderBytes = 128;

const char* descr(NpyType type) { return type == NpyType::Float64 ? "<f8" : "<i8"; }

}  // namespace

NpyWriter::NpyWriter(const fs::path& file, NpyType type, std::int64_t columns)
    : file_(file), type_(type), columns_(columns) {
  stream_ = std::fopen(file.c_str(), "wb");
  if (stream_ == nullptr) throw Error(file.string(), "cannot open for writing");
  writeHeader();
}

NpyWriter::~NpyWriter() {
  if (stream_ != nullptr) std::fclose(stream_);
}

void NpyWriter::writeHeader() {
  std::string dict = std::string("{'descr': '") + descr(type_) + "', 'fortran_order': False, 'shape': (" +
                     std::to_string(rows_) + (columns_ > 0 ? ", " + std::to_string(columns_) + ")" : ",)") + ", }";
  const std::size_t dictBytes = kHeaderBytes - 10;
  if (dict.size() + 1 > dictBytes) throw Error(file_.string(), "array shape too large for the NPY header");
  dict.append(dictBytes - 1 - dict.size(), ' ');
  dict += '\n';
  unsigned char prefix[10];
  std::memcpy(prefix, kMagic, 6);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix[8] = static_cast<unsigned char>(dictBytes & 0xff);
  prefix[9] = static_cast<unsigned char>(dictBytes >> 8);
  if (std::fseek(stream_, 0, SEEK_SET) != 0 || std::fwrite(prefix, 1, 10, stream_) != 10 ||
      std::fwrite(dict.data(), 1, dict.size(), stream_) != dict.size()) {
    throwWriteError(file_, "write failed");
  }
}

void NpyWriter::appendRow(const double* values) {
  if (type_ != NpyType::Float64) throw Error(file_.string(), "internal: float row for an int64 array");
  const std::size_t n = columns_ > 0 ? static_cast<std::size_t>(columns_) : 1;
  // x86-64 is little-endian, as '<f8' requires.
  if (std::fwrite(values, sizeof(double), n, stream_) != n) throwWriteError(file_, "write failed");
  ++rows_;
}

void NpyWriter::appendRow(const std::int64_t* values) {
  if (type_ != NpyType::Int64) throw Error(file_.string(), "internal: int64 row for a float array");
  const std::size_t n = columns_ > 0 ? static_cast<std::size_t>(columns_) : 1;
  if (std::fwrite(values, sizeof(std::int64_t), n, stream_) != n) {
    throwWriteError(file_, "write failed");
  }
  ++rows_;
}

void NpyWriter::finish() {
  if (stream_ == nullptr) return;
  writeHeader();
  errno = 0;
  bool ok = std::fflush(stream_) == 0;
  ok = std::fclose(stream_) == 0 && ok;
  stream_ = nullptr;
  if (!ok) throwWriteError(file_, "write failed");
}

NpyArray readNpy(const fs::path& file) {
  std::FILE* stream = std::fopen(file.c_str(), "rb");
  if (stream == nullptr) throw Error(file.string(), "cannot open (missing or unreadable)");
  struct Closer {
    std::FILE* f;
    ~Closer() { std::fclose(f); }
  } closer{stream};
  auto bad = [&](const std::string& problem) { return Error(file.string(), "not a valid .npy array: " + problem); };
  unsigned char prefix[10];
  if (std::fread(prefix, 1, 10, stream) != 10 || std::memcmp(prefix, kMagic, 6) != 0) throw bad("bad magic");
  if (prefix[6] != 1) throw bad("unsupported format version " + std::to_string(prefix[6]));
  const std::size_t dictBytes = prefix[8] | (std::size_t(prefix[9]) << 8);
  std::string dict(dictBytes, '\0');
  if (std::fread(dict.data(), 1, dictBytes, stream) != dictBytes) throw bad("truncated header");
  NpyArray array;
  if (dict.find("'descr': '<f8'") != std::string::npos) {
    array.type = NpyType::Float64;
  } else if (dict.find("'descr': '<i8'") != std::string::npos) {
    array.type = NpyType::Int64;
  } else {
    throw bad("dtype must be little-endian float64 or int64");
  }
  if (dict.find("'fortran_order': False") == std::string::npos) throw bad("Fortran order is not supported");
  std::smatch match;
  static const std::regex shapePattern(R"('shape': \((\d+),\s*(\d*)\))");
  if (!std::regex_search(dict, match, shapePattern)) throw bad("shape must be 1-D or 2-D");
  array.shape.push_back(std::stoll(match[1].str()));
  if (match[2].length() > 0) array.shape.push_back(std::stoll(match[2].str()));
  const std::int64_t count = array.shape[0] * (array.shape.size() > 1 ? array.shape[1] : 1);
  const std::int64_t expectedBytes = 10 + static_cast<std::int64_t>(dictBytes) + 8 * count;
  std::error_code ec;
  const auto actualBytes = static_cast<std::int64_t>(fs::file_size(file, ec));
  if (actualBytes != expectedBytes) {
    throw bad("file has " + std::to_string(actualBytes) + " bytes, its header promises " +
              std::to_string(expectedBytes) + " (truncated or corrupt)");
  }
  const auto n = static_cast<std::size_t>(count);
  std::size_t got;
  if (array.type == NpyType::Float64) {
    array.float64.resize(n);
    got = std::fread(array.float64.data(), 8, n, stream);
  } else {
    array.int64.resize(n);
    got = std::fread(array.int64.data(), 8, n, stream);
  }
  if (got != n) throw bad("truncated data");
  return array;
}

}  // namespace activediff
