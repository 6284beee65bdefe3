#include "activediff/featurize/atomic_output.h"

#include <unistd.h>

#include <fstream>
#include <system_error>

#include "activediff/featurize/error.h"

namespace activediff {

namespace fs = std::filesystem;

AtomicOutput::AtomicOutput(fs::path target) : target_(std::move(target)) {
  // The pid keeps concurrent writers of the same target apart.
  temporary_ = target_;
  temporary_ += ".tmp." + std::to_string(::getpid());
  const fs::path dir = target_.parent_path();
  if (!dir.empty() && !fs::is_directory(dir)) {
    throw Error(target_.string(), "output directory " + dir.string() + " does not exist");
  }
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(temporary_, ec);
  }
}

void AtomicOutput::commit() {
  std::error_code ec;
  if (fs::is_directory(target_) && fs::is_directory(temporary_)) fs::remove_all(target_, ec);
  fs::rename(temporary_, target_, ec);
  if (ec) throw Error(target_.string(), "cannot move finished output into place: " + ec.message());
  committed_ = true;
}

void writeFileAtomically(const fs::path& path, const std::string& contents) {
  AtomicOutput out(path);
  {
    std::ofstream stream(out.temporary(), std::ios::binary);
    if (!stream) throw Error(path.string(), "cannot open for writing");
    stream << contents;
    stream.flush();
    if (!stream) throw Error(path.string(), "write failed");
  }
  out.commit();
}

}  // namespace activediff
