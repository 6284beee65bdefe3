#include "provenance.h"

#include <algorithm>
#include <ctime>
#include <iostream>
#include <map>
#include <vector>

#include "activediff/featurize/sha256.h"

#include "activediff/featurize/atomic_output.h"
#include "activediff/version.h"
#include "progress.h"

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

namespace {

// {"path", "sha256"} for a file; {"path", "files": {name: sha256}} for a
// directory (a dataset, a training directory), its regular files only.
nlohmann::json inputChecksum(const std::filesystem::path& input) {
  static std::map<std::filesystem::path, nlohmann::json> cache;  // train records provenance twice
  const std::filesystem::path key = absoluteNormal(input);
  if (auto hit = cache.find(key); hit != cache.end()) return hit->second;
  nlohmann::json entry = {{"path", input.string()}};
  std::error_code ec;
  if (std::filesystem::is_directory(input, ec)) {
    nlohmann::json files = nlohmann::json::object();
    std::vector<std::filesystem::path> names;
    for (const auto& item : std::filesystem::directory_iterator(input, ec))
      if (item.is_regular_file(ec)) names.push_back(item.path());
    std::sort(names.begin(), names.end());
    for (const auto& file : names) files[file.filename().string()] = sha256OfFile(file);
    entry["files"] = files;
  } else if (std::filesystem::is_regular_file(input, ec)) {
    entry["sha256"] = sha256OfFile(input);
  } else {
    entry["sha256"] = nullptr;  // not there (the command reports that itself)
  }
  cache[key] = entry;
  return entry;
}

}  // namespace

nlohmann::json provenance(const nlohmann::json& config) {
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  nlohmann::json inputs = nlohmann::json::array();
  for (const std::filesystem::path& input : outputSession().inputs) inputs.push_back(inputChecksum(input));
  nlohmann::json document = {{"activediff_version", kVersion},
          {"git", kGitDescribe},
          {"built_against",
           {{"openmm", kOpenMMVersion}, {"gromacs", kGromacsVersion}, {"libtorch", kLibTorchVersion},
            {"eigen", kEigenVersion}}},
          {"inputs", inputs},
          {"command", commandLine()},
          {"config", config},
          {"created_utc", stamp}};
  // -v: what the run used, once (commands may record provenance twice).
  static bool shown = false;
  if (verbosity() == Verbosity::Verbose && !shown) {
    shown = true;
    std::cerr << "activediff " << kVersion << " (" << kGitDescribe << ")\nconfiguration: " << config.dump(2)
              << "\ninputs: " << inputs.dump(2) << "\n";
  }
  return document;
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
