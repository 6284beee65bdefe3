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

nlohmann::json withOutputMarker(nlohmann::json document, const std::filesystem::path& jsonPath) {
  const OutputSession& session = outputSession();
  const std::filesystem::path self = absoluteNormal(jsonPath);
  nlohmann::json outputs = nlohmann::json::array();
  for (const std::filesystem::path& claimed : session.claimed) {
    if (claimed != self && claimed.parent_path() == self.parent_path()) outputs.push_back(claimed.filename().string());
  }
  document["activediff_output"] = session.kind;
  document["outputs"] = outputs;
  return document;
}

void writeJsonTemporary(const OutputClaim& claim, const nlohmann::json& document) {
  writeTemporary(claim, withOutputMarker(document, claim.target()).dump(2) + "\n");
}

void writeJson(OutputClaim& claim, const nlohmann::json& document) {
  writeJsonTemporary(claim, document);
  claim.commit();
}

void writeJson(const std::string& path, const nlohmann::json& document) {
  OutputClaim claim(path, OutputShape::File);
  writeJson(claim, document);
}

void writeJsonInside(const std::filesystem::path& path, const nlohmann::json& document) {
  writeFileAtomically(path, withOutputMarker(document, path).dump(2) + "\n");
}

}  // namespace activediff::cli
