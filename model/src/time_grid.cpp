#include "activediff/model/time_grid.h"

#include <cmath>
#include <sstream>

#include "activediff/featurize/error.h"

namespace activediff::model {

std::vector<double> makeTimeGrid(TimeGrid grid, double tEps, double endTime, int steps) {
  if (!(tEps > 0.0 && endTime > tEps && std::isfinite(endTime)) || steps < 1) {
    std::ostringstream m;
    m << "time grid: need 0 < t_eps (" << tEps << ") < end_time (" << endTime
      << ") and steps (" << steps << ") >= 1";
    throw Error(m.str());
  }
  std::vector<double> t(steps + 1);
  const double a = std::cbrt(tEps);
  const double b = std::cbrt(endTime);
  for (int i = 0; i <= steps; ++i) {
    const double u = static_cast<double>(i) / steps;
    if (grid == TimeGrid::Uniform) {
      t[i] = tEps + u * (endTime - tEps);
    } else {
      const double r = a + u * (b - a);
      t[i] = r * r * r;
    }
  }
  t.front() = tEps;  // exact ends, whatever the rounding
  t.back() = endTime;
  return t;
}

std::string timeGridName(TimeGrid grid) {
  return grid == TimeGrid::Uniform ? "uniform" : "dense-near-eps";
}

TimeGrid parseTimeGrid(const std::string& name) {
  if (name == "uniform") return TimeGrid::Uniform;
  if (name == "dense-near-eps") return TimeGrid::DenseNearEpsilon;
  throw Error("time grid '" + name + "': expected uniform or dense-near-eps");
}

}  // namespace activediff::model
