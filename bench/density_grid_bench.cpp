// The probability-flow log-density's time grid and step count, for the Monte
// Carlo move (issue 10): for each grid and RK4 step count, the round trip
// (the density integrated while sampling, prior -> t_eps, against the
// density of the same states integrated t_eps -> T: the move's "exact"
// criterion, < 1e-3 nats) and the cost of one state's density at batch 1
// (the move's per-attempt integral), with the Eigen network as the move uses.
//
//   density_grid_bench MODEL_DIR [STATES] [STEPS...]
//
// Not a test; figures and command in BENCHMARKS.md.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "activediff/model/generator.h"
#include "activediff/model/time_grid.h"

using namespace activediff::model;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL_DIR [STATES (64)] [STEPS ... (10 20 40 80 120)]\n", argv[0]);
    return 2;
  }
  try {
    const std::string model = argv[1];
    const int states = argc > 2 ? std::atoi(argv[2]) : 64;
    if (states < 1) throw std::runtime_error("STATES must be >= 1");
    std::vector<int> stepCounts;
    for (int i = 3; i < argc; ++i) stepCounts.push_back(std::atoi(argv[i]));
    if (stepCounts.empty()) stepCounts = {10, 20, 40, 80, 120};
    std::printf("| grid | RK4 steps | calls | max round trip, nats | mean, nats | ms a state at batch 1 |\n");
    std::printf("|---|---|---|---|---|---|\n");
    for (TimeGrid grid : {TimeGrid::DenseNearEpsilon, TimeGrid::Uniform, TimeGrid::LogUniform,
                          TimeGrid::LogSigma, TimeGrid::EdmSigma}) {
      GeneratorOptions options;
      options.batchSize = 64;
      options.eigenNetwork = true;
      options.densityGrid = grid;
      Generator generator(model, options);
      for (int steps : stepCounts) {
        if (steps < 1) throw std::runtime_error("step counts must be >= 1");
        const GeneratedSamples s = generator.sampleWithLogDensity(states, 3, steps);
        const Eigen::ArrayXd back = generator.logDensityOfStates(s.z, steps);
        const Eigen::ArrayXd error = (back - s.logDensity).abs();
        // Batch 1, as the move: one state at a time.
        const int timed = std::min(states, 16);
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < timed; ++i) generator.logDensityOfStates(s.z.row(i), steps);
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / timed;
        std::printf("| %s | %d | %d | %.2e | %.2e | %.2f |\n", timeGridName(grid).c_str(), steps, 4 * steps,
                    error.maxCoeff(), error.mean(), ms);
        std::fflush(stdout);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "density_grid_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
