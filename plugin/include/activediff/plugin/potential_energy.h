#pragma once
// OpenMM potential energy of structures for one System, evaluated in a
// Context that is created once and reused for every structure.
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "activediff/featurize/structure.h"

namespace OpenMM {
class System;
}

namespace activediff::plugin {

class PotentialEnergyEvaluator {
 public:
  // Takes ownership of the System. platform: "Reference", "CPU", ...
  PotentialEnergyEvaluator(std::unique_ptr<OpenMM::System> system, const std::string& platform,
                           int threads = 0);
  // Loads the System from a serialized System XML.
  PotentialEnergyEvaluator(const std::filesystem::path& systemXml, const std::string& platform,
                           int threads = 0);
  ~PotentialEnergyEvaluator();
  PotentialEnergyEvaluator(const PotentialEnergyEvaluator&) = delete;
  PotentialEnergyEvaluator& operator=(const PotentialEnergyEvaluator&) = delete;

  int particleCount() const;
  const std::string& platformName() const;
  // Potential energy in kJ/mol; positions must have particleCount() rows.
  double energyKjPerMol(const PositionsNm& positionsNm);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Platform properties for a thread count (0 = the platform's default).
std::map<std::string, std::string> platformProperties(const std::string& platform, int threads);

}  // namespace activediff::plugin
