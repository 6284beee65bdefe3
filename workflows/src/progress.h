#pragma once
// One progress display for every long-running subcommand: a single redrawn
// line on a terminal, an occasional plain line when stderr is a file (logs).
// With an unknown total (<= 0) it shows the count and rate only: no
// percentage and no ETA, which would be made up.
#include <chrono>
#include <cstdint>
#include <string>

namespace activediff::cli {

// -q/--quiet and -v/--verbose, which main() adds to every subcommand. Quiet
// silences every ProgressDisplay; warnings and errors always print.
enum class Verbosity { Quiet, Normal, Verbose };
Verbosity& verbosity();

class ProgressDisplay {
 public:
  // total: units expected; <= 0 when not known in advance.
  ProgressDisplay(std::string label, std::int64_t total);
  // done: units finished so far; detail: e.g. "280 ns/day, T 300.1 K".
  void update(std::int64_t done, const std::string& detail = "");
  void finish(const std::string& detail = "");

  // The text of one progress line (without "\r" or newline), for tests:
  // "label: 42.0% 420/1000  detail  ETA 3s", or "label: 420 done  detail"
  // when the total is unknown or already exceeded.
  static std::string formatLine(const std::string& label, std::int64_t done, std::int64_t total,
                                double etaSeconds, const std::string& detail);

 private:
  std::string label_;
  std::int64_t total_;  // <= 0: unknown
  bool terminal_;
  int lastDecile_ = -1;
  std::chrono::steady_clock::time_point start_;
  std::int64_t firstDone_ = -1;
  std::chrono::steady_clock::time_point firstTime_;
  std::chrono::steady_clock::time_point lastPlainLine_;
};

}  // namespace activediff::cli
