#pragma once
// What every output of the CLI records about how it was made: the activediff
// version, the full command line and the effective configuration.
#include <nlohmann/json.hpp>
#include <string>

namespace activediff::cli {

// The command line as the user typed it (set once by main()).
void setCommandLine(int argc, char** argv);
const std::string& commandLine();

// {"activediff_version", "git", "command", "config": config, "created_utc"}
nlohmann::json provenance(const nlohmann::json& config);

// Pretty-printed JSON written atomically (temporary file + rename).
void writeJson(const std::string& path, const nlohmann::json& document);

}  // namespace activediff::cli
