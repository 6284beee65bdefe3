#pragma once
// Output files are written under a temporary name beside the target and
// renamed into place only when complete, so a failed or killed run never
// leaves a half-written file under the final name.
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
  // Where to write; same directory as target so rename() is atomic.
  const std::filesystem::path& temporary() const { return temporary_; }
  void commit();  // rename temporary -> target (throws activediff::Error)

 private:
  std::filesystem::path target_;
  std::filesystem::path temporary_;
  bool committed_ = false;
};

// Writes text to path atomically.
void writeFileAtomically(const std::filesystem::path& path, const std::string& contents);

}  // namespace activediff
