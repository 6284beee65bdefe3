#pragma once
// The checkpoint container (private to model/). One file:
//   "ADIFFCKP"  8-byte magic
//   u32         format version (kCheckpointFormatVersion)
//   u64 + bytes metadata JSON (config, SDE, feature spec, step, RNG state, losses)
//   u64 + bytes tensor archive (LibTorch serialize: weights, EMA, optimizer)
//   u64         FNV-1a 64 of every byte before it
// written atomically (temporary + rename). Reading checks the magic, the
// lengths against the file size and the checksum before anything is parsed,
// so a truncated or byte-corrupted file is an activediff::Error naming it,
// never a crash inside a parser.
#include <cstdint>
#include <filesystem>
#include <string>

namespace activediff::model::detail {

inline constexpr std::uint32_t kCheckpointFormatVersion = 1;

struct CheckpointFile {
  std::string metadataJson;
  std::string tensorArchive;
};

void writeCheckpointFile(const std::filesystem::path& path, const CheckpointFile& checkpoint);
CheckpointFile readCheckpointFile(const std::filesystem::path& path);

}  // namespace activediff::model::detail
