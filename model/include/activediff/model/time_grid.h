#pragma once
// Time grids of the reverse integrators (ascending: t_0 = t_eps, t_N = T).
#include <string>
#include <vector>

namespace activediff::model {

enum class TimeGrid {
  Uniform,           // t_i = t_eps + (i / N) (T - t_eps)
  DenseNearEpsilon,  // t_i = (t_eps^(1/3) + (i / N) (T^(1/3) - t_eps^(1/3)))^3 (MATH.md 4b)
};

std::vector<double> makeTimeGrid(TimeGrid grid, double tEps, double endTime, int steps);
std::string timeGridName(TimeGrid grid);       // "uniform", "dense-near-eps"
TimeGrid parseTimeGrid(const std::string& name);  // throws activediff::Error

}  // namespace activediff::model
