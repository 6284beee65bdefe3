#pragma once
// The frame selection options that featurize and energy share: by index
// (--first-frame, --last-frame, --stride) and by time in ps as gmx has it
// (-b, -e, -dt; see TrajectoryReader::Options and featurize/src/frame_selection.h).
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "activediff/featurize/error.h"
#include "activediff/featurize/structure.h"

namespace activediff::cli {

struct FrameSelectionOptions {
  std::int64_t firstFrame = 0;
  std::int64_t lastFrame = -1;  // inclusive; -1 = to the end
  std::int64_t stride = 1;
  double beginPs = std::numeric_limits<double>::quiet_NaN();
  double endPs = std::numeric_limits<double>::quiet_NaN();
  double dtPs = std::numeric_limits<double>::quiet_NaN();
  // The names before issue 13, refused with a pointer to the new ones.
  std::string removedBegin, removedEnd;

  void addTo(CLI::App* sub, const std::string& perFile) {
    sub->add_option("--first-frame", firstFrame, "first frame index taken" + perFile + " (0-based)")
        ->capture_default_str()
        ->group("Frame selection");
    sub->add_option("--last-frame", lastFrame,
                    "last frame index taken" + perFile + ", inclusive (0-based; -1 = to the end)")
        ->capture_default_str()
        ->group("Frame selection");
    sub->add_option("--stride", stride, "take every n-th frame from --first-frame on")
        ->capture_default_str()
        ->group("Frame selection");
    const std::string restarts =
        " Each frame is judged by its own time, as gmx trjconv does: a concatenated file whose time restarts "
        "has its early frames skipped again by -b, reading stops at the first frame later than -e (frames "
        "after it are not read even if their time restarted), and -dt counts from the first frame that "
        "passed -b/-e.";
    sub->add_option("-b,--begin-time", beginPs, "first time to take, in ps (gmx -b)")->group("Frame selection");
    sub->add_option("-e,--end-time", endPs, "last time to take, in ps (gmx -e)." + std::string(restarts))
        ->group("Frame selection");
    sub->add_option("--dt", dtPs,
                    "only frames whose time minus that of the first frame taken is a multiple of this, in ps "
                    "(gmx -dt; -dt is accepted as well)")
        ->group("Frame selection");
    sub->add_option("--begin", removedBegin)->group("");
    sub->add_option("--end", removedEnd)->group("");
  }

  // Throws for removed names and impossible values.
  void check() const {
    if (!removedBegin.empty())
      throw Error("--begin", "is now --first-frame (a frame index, 0-based); -b selects by time in ps, as in gmx");
    if (!removedEnd.empty())
      throw Error("--end", "is now --last-frame (a frame index, 0-based and inclusive: --end N is --last-frame "
                           "N-1); -e selects by time in ps, as in gmx");
    if (stride < 1) throw Error("--stride", "must be >= 1 (got " + std::to_string(stride) + ")");
    if (firstFrame < 0) throw Error("--first-frame", "must be >= 0 (got " + std::to_string(firstFrame) + ")");
    if (lastFrame < -1 || (lastFrame >= 0 && lastFrame < firstFrame))
      throw Error("--last-frame", "must be -1 (to the end) or at least --first-frame (got " +
                                      std::to_string(lastFrame) + ")");
    if (!std::isnan(dtPs) && !(dtPs > 0.0 && std::isfinite(dtPs))) throw Error("-dt", "must be a positive time in ps");
    if (!std::isnan(beginPs) && !std::isfinite(beginPs)) throw Error("-b", "must be a finite time in ps");
    if (!std::isnan(endPs) && !std::isfinite(endPs)) throw Error("-e", "must be a finite time in ps");
    if (!std::isnan(beginPs) && !std::isnan(endPs) && endPs < beginPs)
      throw Error("-e", "must not be before -b");
  }

  std::int64_t endIndex() const { return lastFrame < 0 ? -1 : lastFrame + 1; }  // one past

  void applyTo(TrajectoryReader::Options& read) const {
    read.begin = firstFrame;
    read.end = endIndex();
    read.stride = stride;
    read.beginPs = beginPs;
    read.endPs = endPs;
    read.dtPs = dtPs;
  }

  nlohmann::json toJson() const {
    const auto time = [](double ps) { return std::isnan(ps) ? nlohmann::json(nullptr) : nlohmann::json(ps); };
    return {{"first_frame", firstFrame}, {"last_frame", lastFrame}, {"stride", stride},
            {"begin_ps", time(beginPs)}, {"end_ps", time(endPs)},   {"dt_ps", time(dtPs)}};
  }
};

// -n/--index and --group as featurize and energy take them (index_groups.h).
// indexHelp: what the group's atoms are in this command.
inline void addIndexGroupOptions(CLI::App* sub, std::string& indexFile, std::string& group, const std::string& indexHelp) {
  sub->add_option("-n,--index", indexFile, "GROMACS index file (.ndx, from gmx make_ndx or gmx select) " + indexHelp)
      ->check(CLI::ExistingFile);
  sub->add_option("--group", group,
                  "the index group: its name (case-insensitive, or a unique prefix) or its number as gmx lists "
                  "them (0-based); may be left out when the file has one group");
}

}  // namespace activediff::cli
