#include "gmx_arguments.h"

#include <cstring>

namespace activediff::cli {

namespace {

// gmx option names of more than one letter that activediff accepts with a
// single dash; each becomes its double-dash form.
constexpr const char* kGmxLongOptions[] = {"dt"};

}  // namespace

void rewriteGromacsStyleArguments(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    char* arg = argv[i];
    if (arg == nullptr) continue;
    if (std::strcmp(arg, "--") == 0) return;
    if (arg[0] != '-' || arg[1] == '-') continue;
    for (const char* name : kGmxLongOptions) {
      const std::size_t length = std::strlen(name);
      if (std::strncmp(arg + 1, name, length) != 0) continue;
      if (arg[1 + length] != '\0' && arg[1 + length] != '=') continue;  // e.g. "-dtx": not ours
      // One dash more: a new string that lives as long as the process, as
      // argv's own strings do (deliberately never freed).
      const std::size_t size = std::strlen(arg) + 1;
      char* rewritten = new char[size + 1];
      rewritten[0] = '-';
      std::memcpy(rewritten + 1, arg, size);
      argv[i] = rewritten;
      break;
    }
  }
}

}  // namespace activediff::cli
