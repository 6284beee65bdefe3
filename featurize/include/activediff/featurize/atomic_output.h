#pragma once
// A file inside an output the tool already claimed (output_policy.h), written
// under a temporary name of the tool's own and renamed into place only when
// complete, so a failed or killed run never leaves a half-written file under
// the final name. It may replace the tool's own earlier version of the file
// (a rolling checkpoint, a log rewritten each step). User-visible outputs are
// claimed with OutputClaim instead, which applies the backup policy.
#include <filesystem>
#include <string>

namespace activediff {

class AtomicOutput {
 public:
  explicit AtomicOutput(std::filesystem::path target);
  ~AtomicOutput();  // removes the temporary unless commit() was called
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::filesystem::path& target() const { return target_; }
  // Where to write; same directory and extension as target so rename() is
  // atomic and libgromacs picks the format from the name.
  const std::filesystem::path& temporary() const { return temporary_; }
  void commit();  // rename temporary -> target (throws activediff::Error)

 private:
  std::filesystem::path target_;
  std::filesystem::path temporary_;
  bool committed_ = false;
};

// Writes text to path atomically (a file inside a claimed output).
void writeFileAtomically(const std::filesystem::path& path, const std::string& contents);

}  // namespace activediff
