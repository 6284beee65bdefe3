// Alanine dipeptide with activediff's generative Monte Carlo move, from C++:
// the same protocol as run_move.py beside it, with the same numbers for the
// same seed (tests/mcmove checks that).
//
//   activediff mcmove -m RUN_DIR -s examples/ala2/ala2.pdb --interval 50 -o move.xml
//   build/plugin/run_move --move move.xml [--plain-md] [--json out.json]
//
// It loads OpenMM's plugins and activediff's (CPU is itself a plugin, so
// OpenMM's directory goes first), deserializes examples/ala2/system.xml and
// the move, runs Langevin MD and prints acceptance, state populations,
// tau_int(alphaR) and, with --plain-md, wall time against plain MD.
#include <openmm/Context.h>
#include <openmm/LangevinMiddleIntegrator.h>
#include <openmm/OpenMMException.h>
#include <openmm/Platform.h>
#include <openmm/State.h>
#include <openmm/System.h>
#include <openmm/serialization/XmlSerializer.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "activediff/featurize/geometry.h"
#include "activediff/featurize/output_policy.h"
#include "activediff/featurize/populations.h"
#include "activediff/featurize/states.h"
#include "activediff/plugin/generative_monte_carlo_move.h"

namespace {

using nlohmann::json;

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// ATOM/HETATM coordinates in Angstrom -> nm, as OpenMM's PDBFile converts them.
std::vector<OpenMM::Vec3> readPdbPositionsNm(const std::string& path) {
  std::istringstream lines(readFile(path));
  std::vector<OpenMM::Vec3> positions;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("ENDMDL", 0) == 0) break;
    if (line.rfind("ATOM", 0) != 0 && line.rfind("HETATM", 0) != 0) continue;
    positions.emplace_back(std::stod(line.substr(30, 8)) * 0.1, std::stod(line.substr(38, 8)) * 0.1,
                           std::stod(line.substr(46, 8)) * 0.1);
  }
  if (positions.empty()) throw std::runtime_error(path + ": no atoms");
  return positions;
}

double dihedralDeg(const std::vector<OpenMM::Vec3>& p, int a, int b, int c, int d) {
  auto e = [&](int i) { return Eigen::Vector3d(p[i][0], p[i][1], p[i][2]); };
  return activediff::dihedralRad(e(a), e(b), e(c), e(d)) * 180.0 / M_PI;
}

json run(const std::string& systemXml, const std::string& pdb, const std::string& moveXml, const std::string& platform,
         int steps, int interval, int seed, const std::vector<int>& atoms) {
  std::istringstream systemText(readFile(systemXml));
  std::unique_ptr<OpenMM::System> system(OpenMM::XmlSerializer::deserialize<OpenMM::System>(systemText));
  if (!moveXml.empty()) {
    std::istringstream moveText(readFile(moveXml));
    system->addForce(OpenMM::XmlSerializer::deserialize<OpenMM::Force>(moveText));
  }
  // LangevinMiddle, as activediff simulate: OpenMM 7.7's LangevinIntegrator samples
  // visibly different populations at 2 fs (BENCHMARKS.md).
  OpenMM::LangevinMiddleIntegrator integrator(300.0, 1.0, 0.002);
  integrator.setRandomNumberSeed(seed);
  // One CPU thread: for a 22-atom molecule the thread hand-off costs more than it gains (BENCHMARKS.md).
  std::map<std::string, std::string> properties;
  if (platform == "CPU") properties["Threads"] = "1";
  OpenMM::Context context(*system, integrator, OpenMM::Platform::getPlatformByName(platform), properties);
  context.setPositions(readPdbPositionsNm(pdb));
  context.setVelocitiesToTemperature(300.0, seed);
  json trace = json::array();
  std::map<std::string, int> counts;
  std::vector<double> alphaR;  // the alphaR indicator per sample
  double acceptedBefore = 0.0;
  int jumps = 0;
  std::vector<OpenMM::Vec3> p;
  const auto start = std::chrono::steady_clock::now();
  for (int chunk = 0; chunk < steps / interval; ++chunk) {
    const std::vector<OpenMM::Vec3> before = context.getState(OpenMM::State::Positions).getPositions();
    integrator.step(interval);
    p = context.getState(OpenMM::State::Positions).getPositions();
    const double phi = dihedralDeg(p, atoms[0], atoms[1], atoms[2], atoms[3]);
    const double psi = dihedralDeg(p, atoms[1], atoms[2], atoms[3], atoms[4]);
    const double jump =
        std::max(std::abs(std::remainder(phi - dihedralDeg(before, atoms[0], atoms[1], atoms[2], atoms[3]), 360.0)),
                 std::abs(std::remainder(psi - dihedralDeg(before, atoms[1], atoms[2], atoms[3], atoms[4]), 360.0)));
    if (!moveXml.empty()) {
      const double accepted = context.getParameter(activediff::plugin::GenerativeMonteCarloMove::MovesAccepted());
      if (accepted > acceptedBefore && jump > 90.0) ++jumps;
      acceptedBefore = accepted;
    }
    trace.push_back({phi, psi});
    const std::string state = activediff::stateName(activediff::classifyStateDeg(phi, psi));
    ++counts[state];
    alphaR.push_back(state == "alphaR" ? 1.0 : 0.0);
  }
  // The whole loop, phi/psi read-out included (the same for both runs).
  const double wallSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  json positions = json::array();
  for (const OpenMM::Vec3& v : p) positions.push_back({v[0], v[1], v[2]});
  json result = {{"steps", steps}, {"interval", interval}, {"platform", platform}, {"seed", seed},
                 {"phi_psi_deg", trace}, {"positions_nm", positions}, {"wall_s", wallSeconds}};
  if (!moveXml.empty()) {
    result["attempted"] = context.getParameter(activediff::plugin::GenerativeMonteCarloMove::MovesAttempted());
    result["accepted"] = acceptedBefore;
    result["torsion_jumps_over_90_deg_at_accepted_moves"] = jumps;
  }
  json populations;
  for (const char* s : {"alphaR", "beta", "PPII", "L", "other"})
    populations[s] = double(counts[s]) / double(trace.size());
  result["populations"] = populations;
  // tau_int in ps; a series that never changes has none (JSON null).
  const bool changes = std::find(alphaR.begin(), alphaR.end(), 1.0 - alphaR.front()) != alphaR.end();
  result["alphaR_tau_int_ps"] =
      changes ? json(activediff::integratedAutocorrelationTime(alphaR) * interval * 0.002) : json(nullptr);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  std::string ala2 = std::string(ACTIVEDIFF_EXAMPLES_DIR) + "/ala2";
  std::string move, system = ala2 + "/system.xml", pdb = ala2 + "/ala2.pdb", platform = "Reference", jsonOut;
  int steps = 5000, interval = 50, seed = 7;
  bool plain = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--move") move = value();
    else if (a == "--system") system = value();
    else if (a == "--pdb") pdb = value();
    else if (a == "--platform") platform = value();
    else if (a == "--steps") steps = std::stoi(value());
    else if (a == "--interval") interval = std::stoi(value());
    else if (a == "--seed") seed = std::stoi(value());
    else if (a == "--json") jsonOut = value();
    else if (a == "--plain-md") plain = true;
    else {
      std::cerr << "usage: run_move --move move.xml [--system system.xml] [--pdb ala2.pdb] [--platform Reference|CPU]\n"
                   "                [--steps 5000] [--interval 50] [--seed 7] [--plain-md] [--json out.json]\n";
      return a == "-h" || a == "--help" ? 0 : 2;
    }
  }
  try {
    if (move.empty()) throw std::runtime_error("--move is required (activediff mcmove -o move.xml)");
    if (interval < 1 || steps < interval) throw std::runtime_error("--steps must be >= --interval >= 1");
    OpenMM::Platform::loadPluginsFromDirectory(OpenMM::Platform::getDefaultPluginsDirectory());
    OpenMM::Platform::loadPluginsFromDirectory(activediff::plugin::pluginDirectory());
    const std::vector<std::string> failures = OpenMM::Platform::getPluginLoadFailures();
    if (!failures.empty()) throw std::runtime_error("plugin load failure: " + failures.front());
    std::string moveJson = move.substr(0, move.size() - 4) + ".json";
    const std::vector<int> atoms = json::parse(readFile(moveJson))["move"]["phi_psi_atoms"].get<std::vector<int>>();
    json out = {{"with_move", run(system, pdb, move, platform, steps, interval, seed, atoms)}};
    if (plain) out["plain_md"] = run(system, pdb, "", platform, steps, interval, seed, atoms);
    const json& m = out["with_move"];
    std::printf("move: %.0f of %.0f accepted (%.2f)\n", m["accepted"].get<double>(), m["attempted"].get<double>(),
                m["accepted"].get<double>() / std::max(1.0, m["attempted"].get<double>()));
    for (const auto& [name, r] : out.items()) {
      std::printf("%-9s", name.c_str());
      for (const char* s : {"alphaR", "beta", "PPII", "L", "other"})
        std::printf("  %s %.3f", s, r["populations"][s].get<double>());
      if (r["alphaR_tau_int_ps"].is_null()) std::printf("  tau_int(alphaR) inf ps\n");
      else std::printf("  tau_int(alphaR) %.2f ps\n", r["alphaR_tau_int_ps"].get<double>());
    }
    if (plain) {
      // As run_move.py's speedup(): wall per simulated ps, tau_int, and their quotient.
      const json& md = out["plain_md"];
      const double wallRatio = m["wall_s"].get<double>() / md["wall_s"].get<double>();
      json summary = {{"wall_ratio", wallRatio}, {"tau_int_ratio", nullptr},
                      {"independent_samples_per_wall_s_ratio", nullptr}};
      std::printf("wall: with the move %.2f s, plain MD %.2f s for %g ps (%.2fx per simulated ps)\n",
                  m["wall_s"].get<double>(), md["wall_s"].get<double>(), steps * 0.002, wallRatio);
      if (m["alphaR_tau_int_ps"].is_null() || md["alphaR_tau_int_ps"].is_null()) {
        std::printf("independent alphaR samples per wall second: not comparable (a run never changed state)\n");
      } else {
        const double tauRatio = md["alphaR_tau_int_ps"].get<double>() / m["alphaR_tau_int_ps"].get<double>();
        summary["tau_int_ratio"] = tauRatio;
        summary["independent_samples_per_wall_s_ratio"] = tauRatio / wallRatio;
        std::printf("tau_int(alphaR) %.1fx shorter with the move: %.1fx more independent alphaR samples per wall second\n",
                    tauRatio, tauRatio / wallRatio);
      }
      out["speedup"] = summary;
    }
    if (!jsonOut.empty()) {
      // A temporary of our own, complete before it takes the name; an earlier
      // result is kept as #name.N# (the project's output policy), never replaced.
      const std::filesystem::path target = std::filesystem::absolute(jsonOut);
      const std::filesystem::path tmp = activediff::reserveTemporary(target, activediff::OutputShape::File);
      try {
        activediff::writeTextFile(tmp, jsonOut, out.dump());
        activediff::backUpExisting(target);
        std::filesystem::rename(tmp, target);
      } catch (...) {
        std::error_code ignored;
        std::filesystem::remove(tmp, ignored);  // our own reserved temporary, never a user's file
        throw;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "run_move: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
