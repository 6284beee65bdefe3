// Links all four installed libraries (LibTorch and OpenMM behind them) and
// runs without data: proves the exported link interfaces are complete.
#include <activediff/model/generator.h>
#include <activediff/plugin/openmm_setup.h>
#include <activediff/plugin/potential_energy.h>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  if (argc > 1) {  // a checkpoint and a System XML: both halves for real
    activediff::model::Generator generator(argv[1]);
    std::printf("%s\n", generator.describe().c_str());
    if (argc > 2) {
      activediff::plugin::PotentialEnergyEvaluator evaluator(argv[2], "Reference");
      std::printf("particles %d\n", evaluator.particleCount());
    }
    return 0;
  }
  std::printf("linked: model_torch, plugin (OpenMM plugins found: %zu)\n",
              activediff::plugin::loadOpenMMPlugins().size());
  return 0;
}
