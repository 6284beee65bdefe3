#pragma once
// SHA-256 (FIPS 180-4) of files, for the input checksums every output records.
#include <filesystem>
#include <string>

namespace activediff {

// Lower-case hex digest of the file's bytes, read in blocks; throws Error
// naming the file when it cannot be read.
std::string sha256OfFile(const std::filesystem::path& file);

// Of a string of bytes (tests, small inputs).
std::string sha256OfBytes(const std::string& bytes);

}  // namespace activediff
