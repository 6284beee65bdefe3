#pragma once
// libgromacs runs in forked children (trajectory_reader.cpp, structure.cpp)
// whose stdout and stderr go to a log file: its chatter ("Reading file ...")
// never reaches the user, and its fatal errors are quoted in ours.
#include <cstdio>
#include <string>

namespace activediff::detail {

// The last few lines libgromacs printed, as one line, for error messages.
inline std::string gromacsMessage(std::FILE* log) {
  if (log == nullptr) return "";
  std::fflush(log);
  std::rewind(log);
  std::string text;
  char chunk[4096];
  std::size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, log)) > 0) {
    text.append(chunk, n);
    if (text.size() > 65536) text.erase(0, text.size() - 65536);
  }
  // Keep the fatal-error part if there is one, else the tail.
  std::size_t start = text.find("Fatal error:");
  if (start == std::string::npos) start = text.size() > 400 ? text.size() - 400 : 0;
  std::string line;
  bool space = false;
  for (std::size_t i = start; i < text.size() && line.size() < 400; ++i) {
    const char c = text[i];
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !line.empty();
      continue;
    }
    if (c == '-' && i + 1 < text.size() && text[i + 1] == '-') continue;  // GROMACS rulers
    if (space) line += ' ';
    space = false;
    line += c;
  }
  return line;
}

}  // namespace activediff::detail
