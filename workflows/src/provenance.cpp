#include "provenance.h"

#include <ctime>

#include "activediff/featurize/atomic_output.h"
#include "activediff/version.h"

namespace activediff::cli {

namespace {
std::string& storedCommandLine() {
  static std::string line;
  return line;
}
}  // namespace

void setCommandLine(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) {
    if (i) line += ' ';
    line += argv[i];
  }
  storedCommandLine() = line;
}

const std::string& commandLine() { return storedCommandLine(); }

nlohmann::json provenance(const nlohmann::json& config) {
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return {{"activediff_version", kVersion},
          {"git", kGitDescribe},
          {"command", commandLine()},
          {"config", config},
          {"created_utc", stamp}};
}

void writeJson(const std::string& path, const nlohmann::json& document) {
  writeFileAtomically(path, document.dump(2) + "\n");
}

}  // namespace activediff::cli
