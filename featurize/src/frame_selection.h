#pragma once
// Time selection of frames as gmx trjconv has it (-b, -e, -dt), checked
// against gmx trjconv 2022 on the shipped XTC and on concatenated files
// (tests/e2e/gromacs_conventions_test.cpp):
//  - -b: frames whose time is before it are skipped, each frame judged by its
//    own time (after a time restart, the early frames are skipped again);
//  - -e: reading stops at the first frame whose time is after it, even if
//    later frames of a concatenated file restart at earlier times;
//  - -dt: of the frames passing -b/-e, a frame is taken when its time minus
//    the time of the first frame that passed is a multiple of dt (to 2 float
//    epsilons of the time, gmx's tolerance). The origin is that first frame,
//    not t = 0: -b 3 -dt 10 on t = 1, 2, 3 ... takes 3, 13, 23 ...
// Times compare in single precision, as in gmx's mixed-precision tools.
#include <cfloat>
#include <cmath>
#include <cstdint>

namespace activediff::detail {

class TimeSelection {
 public:
  enum class Decision { Take, Skip, Stop };

  TimeSelection() = default;
  TimeSelection(double beginPs, double endPs, double dtPs) : beginPs_(beginPs), endPs_(endPs), dtPs_(dtPs) {}

  bool active() const { return !std::isnan(beginPs_) || !std::isnan(endPs_) || !std::isnan(dtPs_); }
  bool hasEnd() const { return !std::isnan(endPs_); }

  // Must be called for every frame in file order (it keeps the -dt origin).
  Decision decide(double timePs) {
    const float t = static_cast<float>(timePs);
    if (!std::isnan(endPs_) && t > static_cast<float>(endPs_)) return Decision::Stop;
    if (!std::isnan(beginPs_) && t < static_cast<float>(beginPs_)) return Decision::Skip;
    if (std::isnan(dtPs_)) return Decision::Take;
    if (std::isnan(originPs_)) {
      originPs_ = static_cast<double>(t);
      return Decision::Take;
    }
    return isMultiple(static_cast<double>(t), originPs_, dtPs_) ? Decision::Take : Decision::Skip;
  }

 private:
  // Is a - b an integer multiple of c, to 2 float epsilons of a (gmx's rule)?
  static bool isMultiple(double a, double b, double c) {
    const double tolerance = 2.0 * FLT_EPSILON;
    const double quotient = std::trunc((a - b + tolerance * a) / c);
    return std::abs(a - b - c * quotient) <= tolerance * std::abs(a);
  }

  double beginPs_ = NAN, endPs_ = NAN, dtPs_ = NAN;
  double originPs_ = NAN;
};

}  // namespace activediff::detail
