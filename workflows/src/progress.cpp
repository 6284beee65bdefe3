#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace activediff::cli {

Verbosity& verbosity() {
  static Verbosity level = Verbosity::Normal;
  return level;
}

namespace {
bool knownTotal(std::int64_t done, std::int64_t total) { return total > 0 && done <= total; }
}  // namespace

ProgressDisplay::ProgressDisplay(std::string label, std::int64_t total)
    : label_(std::move(label)),
      total_(total > 0 ? total : 0),
      terminal_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()) {}

std::string ProgressDisplay::formatLine(const std::string& label, std::int64_t done, std::int64_t total,
                                        double etaSeconds, const std::string& detail) {
  char buffer[512];
  if (knownTotal(done, total)) {
    const double percent = 100.0 * static_cast<double>(done) / static_cast<double>(total);
    std::snprintf(buffer, sizeof buffer, "%s: %5.1f%% %lld/%lld  %s  ETA %.0fs", label.c_str(), percent,
                  static_cast<long long>(done), static_cast<long long>(total), detail.c_str(),
                  etaSeconds > 0.0 ? etaSeconds : 0.0);
  } else {
    std::snprintf(buffer, sizeof buffer, "%s: %lld done  %s", label.c_str(), static_cast<long long>(done),
                  detail.c_str());
  }
  return buffer;
}

void ProgressDisplay::update(std::int64_t done, const std::string& detail) {
  if (verbosity() == Verbosity::Quiet) return;
  const auto now = std::chrono::steady_clock::now();
  // The rate is measured from the first update, so set-up work before the
  // first unit (minimization, equilibration, loading) does not skew the ETA.
  if (firstDone_ < 0) {
    firstDone_ = done;
    firstTime_ = now;
  }
  const double elapsed = std::chrono::duration<double>(now - firstTime_).count();
  const double rate = done > firstDone_ && elapsed > 0.0 ? static_cast<double>(done - firstDone_) / elapsed : 0.0;
  const bool known = knownTotal(done, total_);
  const double eta = known && rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
  const std::string line = formatLine(label_, done, total_, eta, detail);
  if (terminal_) {
    if (known) {
      const int width = 30;
      const int filled = static_cast<int>(static_cast<double>(done) / static_cast<double>(total_) * width);
      std::fprintf(stderr, "\r%s [%s%s]%s   ", label_.c_str(), std::string(filled, '#').c_str(),
                   std::string(width - filled, ' ').c_str(), line.substr(label_.size() + 1).c_str());
    } else {
      std::fprintf(stderr, "\r%s   ", line.c_str());
    }
  } else if (known) {
    const int decile = static_cast<int>(10 * done / total_);
    if (decile == lastDecile_) return;
    lastDecile_ = decile;
    std::fprintf(stderr, "%s\n", line.c_str());
  } else {
    // No deciles without a total: a line every 10 s at most.
    if (lastDecile_ == -2 && now - lastPlainLine_ < std::chrono::seconds(10)) return;
    lastDecile_ = -2;
    lastPlainLine_ = now;
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void ProgressDisplay::finish(const std::string& detail) {
  if (verbosity() == Verbosity::Quiet) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(stderr, "%s%s: done in %.1fs  %s\n", terminal_ ? "\r\n" : "", label_.c_str(), elapsed,
               detail.c_str());
}

}  // namespace activediff::cli
