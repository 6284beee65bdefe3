#include "checkpoint_file.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "activediff/featurize/atomic_output.h"
#include "activediff/featurize/error.h"

namespace activediff::model::detail {
namespace {

constexpr char kMagic[8] = {'A', 'D', 'I', 'F', 'F', 'C', 'K', 'P'};

std::uint64_t fnv1a(const char* data, std::size_t n) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ull;
  }
  return h;
}

template <class T>
void put(std::string& out, T value) {  // little-endian hosts only (x86-64, aarch64)
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

}  // namespace

void writeCheckpointFile(const std::filesystem::path& path, const CheckpointFile& c) {
  std::string bytes(kMagic, sizeof kMagic);
  put<std::uint32_t>(bytes, kCheckpointFormatVersion);
  put<std::uint64_t>(bytes, c.metadataJson.size());
  bytes += c.metadataJson;
  put<std::uint64_t>(bytes, c.tensorArchive.size());
  bytes += c.tensorArchive;
  put<std::uint64_t>(bytes, fnv1a(bytes.data(), bytes.size()));
  AtomicOutput output(path);
  {
    std::ofstream out(output.temporary(), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) throw Error(path.string(), "cannot write the checkpoint");
  }
  output.commit();
}

CheckpointFile readCheckpointFile(const std::filesystem::path& path) {
  // A directory opens as an empty stream on Linux: say what it is instead
  // of "truncated (0 bytes)".
  if (std::filesystem::is_directory(path))
    throw Error(path.string(), "is a directory, not a checkpoint file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string(), "cannot open the checkpoint");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  const std::string bad = "not a valid activediff checkpoint: ";
  std::size_t pos = 0;
  auto need = [&](std::size_t n, const char* what) {
    if (bytes.size() < pos + n || pos + n < pos)
      throw Error(path.string(), bad + "truncated (" + std::to_string(bytes.size()) +
                                     " bytes, ends inside the " + what + ")");
  };
  auto get64 = [&](const char* what) {
    need(8, what);
    std::uint64_t v;
    std::memcpy(&v, bytes.data() + pos, 8);
    pos += 8;
    return v;
  };
  need(sizeof kMagic, "header");
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw Error(path.string(), bad + "wrong magic bytes (not a checkpoint written by activediff train)");
  pos = sizeof kMagic;
  need(4, "header");
  std::uint32_t version;
  std::memcpy(&version, bytes.data() + pos, 4);
  pos += 4;
  if (version > kCheckpointFormatVersion)
    throw Error(path.string(), "checkpoint format version " + std::to_string(version) +
                                   " is newer than this activediff reads (" +
                                   std::to_string(kCheckpointFormatVersion) + ")");
  CheckpointFile c;
  const std::uint64_t metaSize = get64("metadata length");
  need(metaSize, "metadata");
  c.metadataJson = bytes.substr(pos, metaSize);
  pos += metaSize;
  const std::uint64_t archiveSize = get64("tensor archive length");
  need(archiveSize, "tensor archive");
  c.tensorArchive = bytes.substr(pos, archiveSize);
  pos += archiveSize;
  const std::size_t hashed = pos;
  const std::uint64_t checksum = get64("checksum");
  if (pos != bytes.size())
    throw Error(path.string(), bad + std::to_string(bytes.size() - pos) +
                                   " unexpected bytes after the checksum");
  if (checksum != fnv1a(bytes.data(), hashed))
    throw Error(path.string(), bad + "checksum mismatch (the file is corrupt)");
  return c;
}

}  // namespace activediff::model::detail
