#include "activediff/plugin/seeding.h"

#include <openmm/System.h>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "activediff/featurize/backbone.h"
#include "activediff/featurize/error.h"
#include "activediff/model/generator.h"
#include "activediff/plugin/backbone_torsions.h"
#include "activediff/plugin/openmm_setup.h"

namespace activediff::plugin {
namespace {

// Equal shares over the states in `available` (counts of draws per state),
// a state short of its share handing the rest to the others.
std::array<std::int64_t, kMetastableStateCount> sharesOverStates(
    std::int64_t count, const std::array<std::int64_t, kMetastableStateCount>& available) {
  std::array<std::int64_t, kMetastableStateCount> share{};
  std::int64_t left = count;
  while (left > 0) {
    std::vector<int> open;
    for (int s = 0; s < kMetastableStateCount; ++s)
      if (s != int(MetastableState::Other) && share[s] < available[s]) open.push_back(s);
    if (open.empty()) break;
    // Round robin, one seed a state a pass: the shares differ by at most one
    // among states that have draws to spare.
    for (int s : open) {
      if (left == 0) break;
      ++share[s];
      --left;
    }
  }
  return share;
}

}  // namespace

SeedSet generateSeeds(model::Generator& generator, const model::SamplerConfig& sampler,
                      const std::filesystem::path& systemXml, const Structure& templateStructure,
                      const std::string& templateFile, const SeedOptions& options) {
  if (options.count < 1) throw Error("seeding: the number of seeds must be >= 1, not " + std::to_string(options.count));
  if (options.drawsPerSeed < 1) throw Error("seeding: draws per seed must be >= 1");
  if (options.relax != Relax::None && options.relax != Relax::PhiPsiRestrained)
    throw Error("seeding: relaxation must be none or phi-psi (a 2D model fixes only phi and psi)");
  const model::FeatureSpec& spec = generator.features();
  if (spec.dims() != 2 || spec.names[0] != "phi" || spec.names[1] != "psi")
    throw Error(fmt::format("seeding: the model has {} features ({}); seeding needs a 2D (phi, psi) model",
                            spec.dims(), spec.featureSet));
  const std::unique_ptr<OpenMM::System> system = loadSystemXml(systemXml);
  if (system->usesPeriodicBoundaryConditions())
    throw Error(systemXml.string(), "is periodic (explicit solvent): rotating the solute's torsions in place would put "
                                    "it into the water; seeding is for vacuum or implicit-solvent Systems");
  const int atoms = system->getNumParticles();
  if (std::size_t(atoms) != templateStructure.topology.size())
    throw Error(templateFile, fmt::format("has {} atoms, the System {} has {} particles",
                                          templateStructure.topology.size(), systemXml.string(), atoms));
  const BackboneDihedralAtoms dihedrals =
      findBackboneDihedrals(templateStructure.topology, templateFile, options.residue);
  const std::array<int, 5> chain{dihedrals.phi[0], dihedrals.phi[1], dihedrals.phi[2], dihedrals.phi[3],
                                 dihedrals.psi[3]};
  std::optional<BackboneTorsions> torsions;
  try {
    torsions.emplace(*system, chain);
  } catch (const std::exception& e) {
    throw Error(templateFile, std::string("its phi/psi atoms in ") + systemXml.string() + ": " + e.what());
  }

  SeedSet result;
  result.draws = options.spreadOverStates ? options.count * options.drawsPerSeed : options.count;
  const model::GeneratedSamples draws = generator.sample(result.draws, sampler, options.seed);
  result.networkCallsPerDraw = draws.networkCallsPerSample;
  std::vector<MetastableState> stateOfDraw(result.draws);
  for (std::int64_t i = 0; i < result.draws; ++i) {
    if (!std::isfinite(draws.features(i, 0)) || !std::isfinite(draws.features(i, 1)))
      throw Error(fmt::format("seeding: the model drew non-finite phi/psi (draw {}): a diverged checkpoint?", i));
    stateOfDraw[i] = classifyStateRad(draws.features(i, 0), draws.features(i, 1));
    ++result.drawsPerState[int(stateOfDraw[i])];
  }
  std::vector<std::int64_t> chosen;
  if (options.spreadOverStates) {
    std::array<std::int64_t, kMetastableStateCount> share = sharesOverStates(options.count, result.drawsPerState);
    for (std::int64_t i = 0; i < result.draws; ++i)
      if (share[int(stateOfDraw[i])] > 0) {  // Other never gets a share
        --share[int(stateOfDraw[i])];
        chosen.push_back(i);
      }
    if (std::int64_t(chosen.size()) < options.count)
      throw Error(fmt::format("seeding: only {} of {} model draws fall in a metastable state; {} seeds asked",
                              chosen.size(), result.draws, options.count));
  } else {
    for (std::int64_t i = 0; i < options.count; ++i) chosen.push_back(i);
  }

  std::vector<OpenMM::Vec3> templatePositions(atoms);
  for (int a = 0; a < atoms; ++a)
    templatePositions[a] = {templateStructure.positionsNm(a, 0), templateStructure.positionsNm(a, 1),
                            templateStructure.positionsNm(a, 2)};
  StructureBatchNm structures(chosen.size(), 3 * atoms);
  for (std::size_t k = 0; k < chosen.size(); ++k) {
    std::vector<OpenMM::Vec3> p = templatePositions;
    torsions->set(p, nullptr, draws.features(chosen[k], 0), draws.features(chosen[k], 1));
    for (int a = 0; a < atoms; ++a)
      for (int d = 0; d < 3; ++d) structures(k, 3 * a + d) = p[a][d];
  }
  ScoringOptions scoring;
  scoring.relax = options.relax;
  scoring.platform = options.platform;
  scoring.phiAtoms = dihedrals.phi;
  scoring.psiAtoms = dihedrals.psi;
  StructureScorer scorer(systemXml, templateStructure.topology, scoring);
  const ScoredBatch scored = scorer.score(structures);
  for (std::size_t k = 0; k < chosen.size(); ++k) {
    GeneratedSeed seed;
    seed.draw = chosen[k];
    seed.positionsNm.resize(atoms, 3);
    std::vector<OpenMM::Vec3> p(atoms);
    for (int a = 0; a < atoms; ++a) {
      for (int d = 0; d < 3; ++d) seed.positionsNm(a, d) = scored.structures(k, 3 * a + d);
      p[a] = {seed.positionsNm(a, 0), seed.positionsNm(a, 1), seed.positionsNm(a, 2)};
    }
    seed.phiRad = torsions->phiRad(p);
    seed.psiRad = torsions->psiRad(p);
    seed.state = classifyStateRad(seed.phiRad, seed.psiRad);
    seed.potentialEnergyKjPerMol = scored.energiesKjPerMol[k];
    if (!std::isfinite(seed.potentialEnergyKjPerMol))
      throw Error(systemXml.string(), fmt::format("seed {} (model draw {}, phi {:.1f}, psi {:.1f} degrees) has a "
                                                  "non-finite energy", k, seed.draw, seed.phiRad * 180 / M_PI,
                                                  seed.psiRad * 180 / M_PI));
    result.seeds.push_back(std::move(seed));
  }
  return result;
}

}  // namespace activediff::plugin
