#include "activediff/featurize/atomic_output.h"

#include <system_error>

#include "activediff/featurize/error.h"
#include "activediff/featurize/output_policy.h"

namespace activediff {

namespace fs = std::filesystem;

AtomicOutput::AtomicOutput(fs::path target)
    : target_(std::move(target)), temporary_(reserveTemporary(absoluteNormal(target_), OutputShape::File)) {}

AtomicOutput::~AtomicOutput() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(temporary_, ec);  // the tool's own temporary only
  }
}

void AtomicOutput::commit() {
  std::error_code ec;
  if (fs::is_directory(target_, ec)) {
    throw Error(target_.string(), "is a directory; refusing to replace it with a file");
  }
  fs::rename(temporary_, target_, ec);
  if (ec) throw Error(target_.string(), "cannot move finished output into place: " + ec.message());
  committed_ = true;
}

void writeFileAtomically(const fs::path& path, const std::string& contents) {
  AtomicOutput out(path);
  writeTextFile(out.temporary(), path, contents);
  out.commit();
}

}  // namespace activediff
