#include "activediff/plugin/openmm_setup.h"

#include <OpenMM.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <mutex>
#include <sstream>

#include "activediff/featurize/error.h"
#include "activediff/featurize/molecule_graph.h"

namespace activediff::plugin {

const std::vector<std::string>& loadOpenMMPlugins() {
  static std::vector<std::string> failures;
  static std::once_flag once;
  std::call_once(once, [] {
    OpenMM::Platform::loadPluginsFromDirectory(OpenMM::Platform::getDefaultPluginsDirectory());
    failures = OpenMM::Platform::getPluginLoadFailures();
  });
  return failures;
}

std::vector<std::string> availablePlatforms() {
  loadOpenMMPlugins();
  std::vector<std::string> names;
  for (int i = 0; i < OpenMM::Platform::getNumPlatforms(); ++i) {
    names.push_back(OpenMM::Platform::getPlatform(i).getName());
  }
  return names;
}

OpenMM::Platform& platformByName(const std::string& name) {
  const std::vector<std::string> names = availablePlatforms();
  for (int i = 0; i < OpenMM::Platform::getNumPlatforms(); ++i) {
    if (OpenMM::Platform::getPlatform(i).getName() == name) return OpenMM::Platform::getPlatform(i);
  }
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  std::string message = "unknown OpenMM platform '" + name + "' (available: " + list + ")";
  for (const std::string& failure : loadOpenMMPlugins()) message += "; plugin load failure: " + failure;
  throw Error("--platform", message);
}

std::unique_ptr<OpenMM::System> loadSystemXml(const std::filesystem::path& file) {
  std::ifstream stream(file, std::ios::binary);
  if (!stream) throw Error(file.string(), "cannot open System XML (missing or unreadable)");
  std::stringstream text;
  text << stream.rdbuf();
  const std::string xml = text.str();
  if (xml.find_first_not_of(" \t\r\n") == std::string::npos) throw Error(file.string(), "System XML is empty");
  if (xml.find("<System") == std::string::npos) {
    throw Error(file.string(), "not an OpenMM System XML (no <System> element)");
  }
  std::istringstream in(xml);
  std::unique_ptr<OpenMM::System> system;
  try {
    system.reset(OpenMM::XmlSerializer::deserialize<OpenMM::System>(in));
  } catch (const std::exception& e) {
    throw Error(file.string(), std::string("cannot parse System XML: ") + e.what());
  }
  if (!system || system->getNumParticles() == 0) throw Error(file.string(), "System has no particles");
  return system;
}

int kineticDegreesOfFreedom(const OpenMM::System& system) {
  int dof = 0;
  for (int i = 0; i < system.getNumParticles(); ++i) {
    if (system.getParticleMass(i) > 0) dof += 3;
  }
  dof -= system.getNumConstraints();
  for (int i = 0; i < system.getNumForces(); ++i) {
    if (dynamic_cast<const OpenMM::CMMotionRemover*>(&system.getForce(i)) != nullptr) {
      dof -= 3;
      break;
    }
  }
  return dof;
}

std::vector<std::pair<int, int>> covalentBondsOf(const OpenMM::System& system, std::vector<double>* lengthsNm) {
  std::vector<std::pair<int, int>> bonds;
  for (int c = 0; c < system.getNumConstraints(); ++c) {
    int i = 0, j = 0;
    double d = 0.0;
    system.getConstraintParameters(c, i, j, d);
    bonds.emplace_back(i, j);
    if (lengthsNm) lengthsNm->push_back(d);
  }
  for (int f = 0; f < system.getNumForces(); ++f) {
    const auto* force = dynamic_cast<const OpenMM::HarmonicBondForce*>(&system.getForce(f));
    for (int b = 0; force != nullptr && b < force->getNumBonds(); ++b) {
      int i = 0, j = 0;
      double r0 = 0.0, k = 0.0;
      force->getBondParameters(b, i, j, r0, k);
      if (r0 <= 0.0) continue;  // not a covalent bond (e.g. a restraint)
      bonds.emplace_back(i, j);
      if (lengthsNm) lengthsNm->push_back(r0);
    }
  }
  return bonds;
}

std::vector<std::vector<int>> bondGraphOf(const OpenMM::System& system) {
  std::vector<std::vector<int>> graph(std::size_t(system.getNumParticles()));
  for (const auto& [i, j] : covalentBondsOf(system)) {
    graph[std::size_t(i)].push_back(j);
    graph[std::size_t(j)].push_back(i);
  }
  for (std::vector<int>& neighbours : graph) {
    std::sort(neighbours.begin(), neighbours.end());
    neighbours.erase(std::unique(neighbours.begin(), neighbours.end()), neighbours.end());
  }
  return graph;
}

bool massFitsElement(double massU, char element) {
  double standard = 0.0;
  switch (element) {
    case 'H': return massU > 0.5 && massU < 5.0;
    case 'C': standard = 12.011; break;
    case 'N': standard = 14.007; break;
    case 'O': standard = 15.999; break;
    case 'S': standard = 32.06; break;
    default: return false;
  }
  return std::abs(massU - standard) <= 2.5;
}

// featurize's plausibility check with the System's bonds and constraints as
// reference: a corrupt frame is an error, not an energy of 1e13 kJ/mol.
BondPlausibility bondPlausibilityOf(const OpenMM::System& system) {
  std::vector<double> lengthsNm;
  std::vector<std::pair<int, int>> bonds = covalentBondsOf(system, &lengthsNm);
  return BondPlausibility(std::move(bonds), std::move(lengthsNm), {});
}


}  // namespace activediff::plugin
