#pragma once
// Helpers shared by the test suites: run the activediff program or an oracle
// as a child process, and scratch directories that clean up after themselves.
#include <filesystem>
#include <string>
#include <vector>

namespace activediff::testing {

struct CommandResult {
  int exitCode = -1;     // 128 + signal number when killed by a signal (shell convention)
  std::string output;    // stdout and stderr together
};

// Runs a shell command line, capturing its output.
CommandResult runCommand(const std::string& commandLine);

// The activediff program under test (ACTIVEDIFF_TEST_BINARY or the build's).
std::string activediffBinary();

// Runs the built activediff program with these arguments.
CommandResult runActivediff(const std::string& arguments);

// Which heavy libraries a command line of the program maps, from the
// dynamic loader's own record (LD_DEBUG=files, inherited across the execs
// by which one executable hands a command line to the next).
struct MappedLibraries {
  int exitCode = -1;
  bool torch = false;   // libtorch*, libc10*
  bool openmm = false;  // libOpenMM*
  std::string output;   // the command's output with the loader's record
};
MappedLibraries mappedLibraries(const std::string& arguments);

// Runs /usr/bin/python3 (Debian's, with openmm and mdtraj) on a script from
// tests/oracles with these arguments.
CommandResult runOracle(const std::string& script, const std::string& arguments);

class ScratchDirectory {
 public:
  ScratchDirectory();
  ~ScratchDirectory();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  // Every regular file now in the directory, by name.
  std::vector<std::string> fileNames() const;

 private:
  std::filesystem::path path_;
};

std::filesystem::path examplesDir();
std::filesystem::path sourceDir();

}  // namespace activediff::testing
