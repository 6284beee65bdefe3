#include "support/test_support.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <regex>
#include <stdexcept>

namespace activediff::testing {

namespace fs = std::filesystem;

CommandResult runCommand(const std::string& commandLine) {
  CommandResult result;
  const std::string full = "(" + commandLine + ") 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed for: " + commandLine);
  std::array<char, 4096> buffer;
  std::size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string activediffBinary() {
  const char* other = std::getenv("ACTIVEDIFF_TEST_BINARY");
  return other != nullptr && *other ? other : ACTIVEDIFF_BINARY;
}

CommandResult runActivediff(const std::string& arguments) {
  // ACTIVEDIFF_TEST_BINARY runs the suites against another build (for
  // showing that a new test fails on an older program).
  return runCommand(activediffBinary() + " " + arguments);
}

MappedLibraries mappedLibraries(const std::string& arguments) {
  const CommandResult result = runCommand("LD_DEBUG=files " + activediffBinary() + " " + arguments);
  MappedLibraries mapped;
  mapped.exitCode = result.exitCode;
  mapped.output = result.output;
  const std::regex loaded(R"(file=(\S+) \[0\];\s+(generating link map|needed by))");
  for (auto it = std::sregex_iterator(result.output.begin(), result.output.end(), loaded);
       it != std::sregex_iterator(); ++it) {
    const std::string file = fs::path((*it)[1].str()).filename().string();
    if (file.rfind("libtorch", 0) == 0 || file.rfind("libc10", 0) == 0) mapped.torch = true;
    if (file.rfind("libOpenMM", 0) == 0) mapped.openmm = true;
  }
  return mapped;
}

CommandResult runOracle(const std::string& script, const std::string& arguments) {
  return runCommand(std::string(ACTIVEDIFF_PYTHON) + " " + (sourceDir() / "tests" / "oracles" / script).string() +
                    " " + arguments);
}

ScratchDirectory::ScratchDirectory() {
  std::string pattern = (fs::temp_directory_path() / "activediff-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

ScratchDirectory::~ScratchDirectory() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::vector<std::string> ScratchDirectory::fileNames() const {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(path_)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

fs::path examplesDir() { return ACTIVEDIFF_EXAMPLES_DIR; }
fs::path sourceDir() { return ACTIVEDIFF_SOURCE_DIR; }

}  // namespace activediff::testing
