#pragma once
// What every output of the CLI records about how it was made: the activediff
// version, the full command line and the effective configuration; and the
// marker by which the output policy recognises it later ("activediff_output":
// the writing subcommand, "outputs": the files of the same run beside it).
#include <nlohmann/json.hpp>
#include <string>

#include "activediff/featurize/output_policy.h"

namespace activediff::cli {

// The command line as the user typed it (set once by main()).
void setCommandLine(int argc, char** argv);
const std::string& commandLine();

// {"activediff_version", "git", "built_against": {openmm, gromacs, libtorch,
//  eigen}, "inputs": [{"path", "sha256"} or {"path", "files": {...}}] (the
//  command's declared inputs), "command", "config": config, "created_utc"}
nlohmann::json provenance(const nlohmann::json& config);

// The document with the output-policy marker added: the running subcommand's
// kind and the names of the outputs it claimed in the JSON's directory.
nlohmann::json withOutputMarker(nlohmann::json document, const std::filesystem::path& jsonPath);

// Pretty-printed JSON summary written to a claimed output (committed).
void writeJson(OutputClaim& claim, const nlohmann::json& document);
// The same, written to the claim's temporary only (commit it last).
void writeJsonTemporary(const OutputClaim& claim, const nlohmann::json& document);
// The same for a user-facing path claimed and committed now.
void writeJson(const std::string& path, const nlohmann::json& document);
// A JSON file inside an output directory the command already owns.
void writeJsonInside(const std::filesystem::path& path, const nlohmann::json& document);

}  // namespace activediff::cli
