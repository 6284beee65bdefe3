#pragma once
// Scoring rebuilt structures with OpenMM: optional relaxation, then the
// potential energy of the force field alone (restraints excluded).
//  - Relax::None: energy of the structure as given.
//  - Relax::Hydrogens (25D): minimize with every heavy atom harmonically
//    restrained to where it was rebuilt, so only hydrogens really move.
//  - Relax::PhiPsiRestrained (2D): minimize everything with phi and psi
//    restrained to their given values.
// MD frames and generated structures go through the same scorer when they are
// compared. Several OpenMM contexts work in parallel on a batch.
#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "activediff/featurize/error.h"
#include "activediff/featurize/structure.h"
#include "activediff/featurize/zmatrix.h"

namespace activediff::plugin {

enum class Relax { None, Hydrogens, PhiPsiRestrained };
// Inline, so that the executable without OpenMM checks --relax the same way.
inline Relax relaxFromName(const std::string& name) {
  if (name == "none") return Relax::None;
  if (name == "hydrogens") return Relax::Hydrogens;
  if (name == "phi-psi") return Relax::PhiPsiRestrained;
  throw Error("--relax", "unknown relaxation '" + name + "' (none, hydrogens, phi-psi)");
}

struct ScoringOptions {
  Relax relax = Relax::None;
  std::string platform = "CPU";
  int workers = 1;                          // parallel contexts
  double positionRestraintKjPerMolNm2 = 5.0e4;
  double torsionRestraintKjPerMolRad2 = 5.0e3;
  double minimizeToleranceKjPerMolNm = 10.0;
  int maxIterations = 500;                  // 0 = until converged
  std::array<int, 4> phiAtoms{};            // for PhiPsiRestrained
  std::array<int, 4> psiAtoms{};
};

struct ScoredBatch {
  std::vector<double> energiesKjPerMol;     // NaN for NaN input or failure
  StructureBatchNm structures;              // relaxed (or as given)
};

class StructureScorer {
 public:
  StructureScorer(const std::filesystem::path& systemXml, const Topology& topology, ScoringOptions options);
  ~StructureScorer();
  StructureScorer(const StructureScorer&) = delete;
  StructureScorer& operator=(const StructureScorer&) = delete;
  // structures: [N, 3 * atoms] nm. Rows with non-finite coordinates get NaN.
  ScoredBatch score(const StructureBatchNm& structures);
  const ScoringOptions& options() const { return options_; }

 private:
  struct Worker;
  ScoringOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace activediff::plugin
