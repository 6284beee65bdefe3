#pragma once
// Seeding MD from the generator (issue 10): N conformations of a System, each
// a full set of positions tagged with its metastable state, to start short MD
// runs from (workflows/swarm.py) or to hand to any OpenMM program.
//
// A 2D (phi, psi) model's draws are applied to a template structure by the
// move's rigid-fragment rotations (backbone_torsions.h): every other internal
// coordinate stays the template's, so no geometry is invented. Optionally the
// structure is then minimized with phi/psi restrained (structure_scoring.h),
// and its potential energy is that of the force field alone.
//
// The API is torch-free (model::Generator's pimpl); the library links
// activediff_model_torch.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "activediff/featurize/states.h"
#include "activediff/featurize/structure.h"
#include "activediff/model/config.h"
#include "activediff/plugin/structure_scoring.h"

namespace activediff::model {
class Generator;
}

namespace activediff::plugin {

struct SeedOptions {
  std::int64_t count = 100;
  std::uint64_t seed = 1;
  // true: equal shares for every state the draws reach (alphaR, beta, PPII,
  // L; draws on no state's box are skipped), the first draws of each state
  // in draw order; a state with fewer draws than its share gives the rest to
  // the others. false: the first `count` draws, in the model's proportions.
  bool spreadOverStates = true;
  int drawsPerSeed = 20;  // model draws per seed when spreading
  Relax relax = Relax::None;  // None or PhiPsiRestrained
  std::string platform = "CPU";
  std::optional<int> residue;  // residue number of phi/psi; nullopt: the only one
};

struct GeneratedSeed {
  PositionsNm positionsNm;
  double phiRad = 0.0, psiRad = 0.0;  // of the final positions, (-pi, pi]
  MetastableState state = MetastableState::Other;
  double potentialEnergyKjPerMol = 0.0;
  std::int64_t draw = 0;  // index of the model draw it came from
};

struct SeedSet {
  std::vector<GeneratedSeed> seeds;
  std::int64_t draws = 0;  // model draws made
  std::array<std::int64_t, kMetastableStateCount> drawsPerState{};
  double networkCallsPerDraw = 0.0;
};

// templateStructure: atoms in the System's order (its file name only for
// messages). Errors (activediff::Error) name the file and the problem: a
// particle-count mismatch, a model that is not 2D (phi, psi), atoms that are
// not a C-N-CA-C-N chain in the System, a non-finite energy.
SeedSet generateSeeds(model::Generator& generator, const model::SamplerConfig& sampler,
                      const std::filesystem::path& systemXml, const Structure& templateStructure,
                      const std::string& templateFile, const SeedOptions& options);

}  // namespace activediff::plugin
