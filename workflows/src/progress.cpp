#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace activediff::cli {

ProgressDisplay::ProgressDisplay(std::string label, std::int64_t total)
    : label_(std::move(label)),
      total_(total > 0 ? total : 1),
      terminal_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()) {}

void ProgressDisplay::update(std::int64_t done, const std::string& detail) {
  const double fraction = static_cast<double>(done) / static_cast<double>(total_);
  const auto now = std::chrono::steady_clock::now();
  // The rate is measured from the first update, so set-up work before the
  // first unit (minimization, equilibration, loading) does not skew the ETA.
  if (firstDone_ < 0) {
    firstDone_ = done;
    firstTime_ = now;
  }
  const double elapsed = std::chrono::duration<double>(now - firstTime_).count();
  const double rate = done > firstDone_ ? static_cast<double>(done - firstDone_) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
  if (terminal_) {
    const int width = 30;
    const int filled = static_cast<int>(fraction * width);
    std::fprintf(stderr, "\r%s [%s%s] %5.1f%% %lld/%lld  %s  ETA %.0fs   ", label_.c_str(),
                 std::string(filled, '#').c_str(), std::string(width - filled, ' ').c_str(), 100.0 * fraction,
                 static_cast<long long>(done), static_cast<long long>(total_), detail.c_str(), eta);
  } else {
    const int decile = static_cast<int>(fraction * 10);
    if (decile == lastDecile_) return;
    lastDecile_ = decile;
    std::fprintf(stderr, "%s: %5.1f%% %lld/%lld  %s  ETA %.0fs\n", label_.c_str(), 100.0 * fraction,
                 static_cast<long long>(done), static_cast<long long>(total_), detail.c_str(), eta);
  }
  std::fflush(stderr);
}

void ProgressDisplay::finish(const std::string& detail) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(stderr, "%s%s: done in %.1fs  %s\n", terminal_ ? "\r\n" : "", label_.c_str(), elapsed,
               detail.c_str());
}

}  // namespace activediff::cli
