#pragma once
// Loading OpenMM Systems and choosing platforms, with errors a user can act on.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace OpenMM {
class Platform;
class System;
}  // namespace OpenMM

namespace activediff {
class BondPlausibility;
}

namespace activediff::plugin {

// Loads OpenMM's plugin libraries once per process. A C++ program sees only
// the Reference platform until this runs; load failures are reported, not
// swallowed (returned as messages).
const std::vector<std::string>& loadOpenMMPlugins();

// Names of the platforms available after loading plugins.
std::vector<std::string> availablePlatforms();

// The platform with this name; an Error listing the available ones otherwise.
OpenMM::Platform& platformByName(const std::string& name);

// Deserializes a System XML (XmlSerializer format). Missing, empty or garbled
// files are an activediff::Error naming the file.
std::unique_ptr<OpenMM::System> loadSystemXml(const std::filesystem::path& file);

// Degrees of freedom for the kinetic temperature: 3N minus constraints minus
// 3 when a CMMotionRemover is present. Massless particles do not count.
int kineticDegreesOfFreedom(const OpenMM::System& system);

// featurize's frame plausibility check with the System's constraints and
// harmonic bonds as the reference: a corrupt frame is an error, not an energy
// of 1e13 kJ/mol.
BondPlausibility bondPlausibilityOf(const OpenMM::System& system);

// The System's covalent bonds: its constraints and the HarmonicBondForce
// bonds with r0 > 0, in that order; lengthsNm (if given) gets their lengths.
std::vector<std::pair<int, int>> covalentBondsOf(const OpenMM::System& system,
                                                 std::vector<double>* lengthsNm = nullptr);

// The System's bond graph: each particle's neighbours over covalentBondsOf,
// sorted, a bond listed twice (a bond term and a constraint) once.
std::vector<std::vector<int>> bondGraphOf(const OpenMM::System& system);
inline bool bonded(const std::vector<std::vector<int>>& graph, int i, int j) {
  for (int k : graph[std::size_t(i)])
    if (k == j) return true;
  return false;
}

// Whether a particle's mass (u) can be that of element (C, N, O, S or H): a
// heavy atom within 2.5 u of its standard mass, which admits hydrogen mass
// repartitioning; a hydrogen between 0.5 and 5 u (repartitioned up to 4 u).
bool massFitsElement(double massU, char element);

// Molar gas constant in kJ/(mol K), as OpenMM uses it.
inline constexpr double kMolarGasConstantKjPerMolK = 0.00831446261815324;

}  // namespace activediff::plugin
