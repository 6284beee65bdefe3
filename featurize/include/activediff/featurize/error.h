#pragma once
// The one exception type of activediff. It carries what the user needs to act:
// the file (or option) concerned and what was wrong with it. The CLI prints
// what() as one line and exits non-zero.
#include <stdexcept>
#include <string>

namespace activediff {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
  // "<file>: <problem>" -- the form every file error takes.
  Error(const std::string& file, const std::string& problem)
      : std::runtime_error(file + ": " + problem) {}
};

}  // namespace activediff
