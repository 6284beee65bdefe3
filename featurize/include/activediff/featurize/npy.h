#pragma once
// NumPy .npy files (format version 1.0), so that datasets open in Python with
// numpy.load and nothing else. Little-endian float64 ('<f8') and int64
// ('<i8'), C order, 1-D or 2-D.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace activediff {

enum class NpyType { Float64, Int64 };

// Appends rows one at a time, so a dataset of any length is written with
// constant memory; the shape in the header is fixed up by finish().
class NpyWriter {
 public:
  // columns = 0 writes a 1-D array.
  NpyWriter(const std::filesystem::path& file, NpyType type, std::int64_t columns);
  ~NpyWriter();
  NpyWriter(const NpyWriter&) = delete;
  NpyWriter& operator=(const NpyWriter&) = delete;
  void appendRow(const double* values);         // Float64
  void appendRow(const std::int64_t* values);   // Int64
  std::int64_t rows() const { return rows_; }
  void finish();  // writes the final header and closes; throws on I/O errors

 private:
  void writeHeader();
  std::filesystem::path file_;
  NpyType type_;
  std::int64_t columns_;
  std::int64_t rows_ = 0;
  std::FILE* stream_ = nullptr;
};

struct NpyArray {
  NpyType type = NpyType::Float64;
  std::vector<std::int64_t> shape;
  std::vector<double> float64;       // when type == Float64
  std::vector<std::int64_t> int64;   // when type == Int64
  std::int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
  std::int64_t columns() const { return shape.size() < 2 ? 0 : shape[1]; }
};

// Reads and validates a whole array (throws activediff::Error naming the file).
NpyArray readNpy(const std::filesystem::path& file);

}  // namespace activediff
