#pragma once
// One progress display for every long-running subcommand: a single redrawn
// line on a terminal, an occasional plain line when stderr is a file (logs).
#include <chrono>
#include <cstdint>
#include <string>

namespace activediff::cli {

class ProgressDisplay {
 public:
  ProgressDisplay(std::string label, std::int64_t total);
  // done: units finished so far; detail: e.g. "280 ns/day, T 300.1 K".
  void update(std::int64_t done, const std::string& detail = "");
  void finish(const std::string& detail = "");

 private:
  std::string label_;
  std::int64_t total_;
  bool terminal_;
  int lastDecile_ = -1;
  std::chrono::steady_clock::time_point start_;
  std::int64_t firstDone_ = -1;
  std::chrono::steady_clock::time_point firstTime_;
};

}  // namespace activediff::cli
